# 120-selector-pods: endpoints derived from Pods + selector when a service
# has neither EndpointSlices nor Endpoints (CLUSTER-DNS 2.6: Running,
# Ready=True, an IP, no deletionTimestamp; publishNotReadyAddresses; the
# hostname rule of 2.4).
s=apps.svc.cluster.local

expect_dig sel.$s A file=sel.A
expect_dig _http._tcp.sel.$s SRV file=sel.SRV
expect_dig 10-244-20-1.sel.$s A file=sel.ep1.A
# hostname + subdomain == service name: the hostname form only.
expect_dig h0.sel.$s A file=sel.h0.A
expect_dig 10-244-20-7.sel.$s A rcode=NXDOMAIN file=nxdomain
# hostname with another subdomain: no hostname name, the dashed one.
expect_dig h1.sel.$s A rcode=NXDOMAIN file=nxdomain
expect_dig 10-244-20-8.sel.$s A file=sel.ep8.A
# Not ready, not running, deleting, other labels, other namespace: none.
for ip in 10-244-20-2 10-244-20-3 10-244-20-4 10-244-20-5 10-244-20-6; do
	expect_dig $ip.sel.$s A rcode=NXDOMAIN file=nxdomain
done
expect_dig 7.20.244.10.in-addr.arpa PTR file=sel.h0.PTR

# publishNotReadyAddresses: not-ready pods are published too.
expect_dig pub.$s A file=pub.A
expect_dig 10-244-21-2.pub.$s A file=pub.ep2.A

# The legacy annotation tolerate-unready-endpoints works the same way
# (CLUSTER-DNS row 27, SPEC 2.1).
expect_dig tol.$s A file=tol.A

# Slices exist: they are used, not the pods.
expect_dig ws.$s A file=ws.A
expect_dig 10-244-22-1.ws.$s A rcode=NXDOMAIN file=nxdomain

# A ClusterIP service: A = the ClusterIP; endpoint names from the pods.
expect_dig cip.$s A file=cip.A
expect_dig 10-244-23-1.cip.$s A file=cip.ep.A

# A pod whose subdomain names no service gets no name.
expect_dig h2.nosvc.$s A rcode=NXDOMAIN file=nxdomain
