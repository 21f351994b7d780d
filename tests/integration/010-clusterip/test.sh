# 010-clusterip: A/AAAA of ClusterIP services (CLUSTER-DNS rows 1, 2, 5, 8),
# SRV with the service port (rows 10, 12, 13), PTR v4 and v6 (rows 14-16).

# Row 1: A = the ClusterIP; the other family is NODATA with the SOA.
expect_dig frontend.shop.svc.cluster.local A file=frontend.A
expect_dig frontend.shop.svc.cluster.local AAAA file=nodata
# Row 2: dual-stack: A from the IPv4 entry, AAAA from the IPv6 one.
expect_dig api.web.svc.cluster.local A file=api.A
expect_dig api.web.svc.cluster.local AAAA file=api.AAAA
# Row 5: no endpoints at all: still the ClusterIP, and SRV.
expect_dig idle.shop.svc.cluster.local A file=idle.A
expect_dig _http._tcp.idle.shop.svc.cluster.local SRV file=idle.SRV

# Row 10: SRV target = the service, port = the service port, glue A.
expect_dig _http._tcp.frontend.shop.svc.cluster.local SRV file=frontend.http.SRV
expect_dig _dns._udp.frontend.shop.svc.cluster.local SRV file=frontend.dns.SRV
# Port or protocol mismatch: NXDOMAIN.
expect_dig _http._udp.frontend.shop.svc.cluster.local SRV rcode=NXDOMAIN file=nxdomain
expect_dig _nomatch._tcp.frontend.shop.svc.cluster.local SRV rcode=NXDOMAIN file=nxdomain
# Row 12: SRV on the bare service name lists every port; row 13: weight
# floor(100/2) = 50.
expect_dig frontend.shop.svc.cluster.local SRV file=frontend.SRV
# Row 10/13: dual-stack collapses to one SRV with weight 50; glue A+AAAA.
expect_dig _https._tcp.api.web.svc.cluster.local SRV file=api.https.SRV

# Row 8: endpoint names under a ClusterIP service; not-ready ones NXDOMAIN.
expect_dig 10-244-1-5.frontend.shop.svc.cluster.local A file=ep.A
expect_dig 10-244-3-7.frontend.shop.svc.cluster.local A rcode=NXDOMAIN file=nxdomain

# Row 14: PTR for ClusterIPs, v4 and v6 (nibble form).
expect_dig 10.0.96.10.in-addr.arpa PTR file=frontend.PTR
expect_dig 30.0.96.10.in-addr.arpa PTR file=api.PTR4
expect_dig 0.3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa PTR file=api.PTR6
# Row 15: PTR for a ready endpoint address: its dashed name.
expect_dig 5.1.244.10.in-addr.arpa PTR file=ep.PTR
# Row 16: not-ready endpoint, unknown address: NXDOMAIN + reverse SOA.
expect_dig 7.3.244.10.in-addr.arpa PTR rcode=NXDOMAIN file=nxdomain.in-addr
expect_dig 99.99.96.10.in-addr.arpa PTR rcode=NXDOMAIN file=nxdomain.in-addr
expect_dig 1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa PTR rcode=NXDOMAIN file=nxdomain.ip6

# The same over TCP.
expect_dig +tcp frontend.shop.svc.cluster.local A file=frontend.A
expect_dig +tcp 10.0.96.10.in-addr.arpa PTR file=frontend.PTR

# Row 12: an unnamed port has no _port._proto name, but the bare name's
# SRV lists it.
expect_dig plain.shop.svc.cluster.local SRV file=plain.SRV
expect_dig _http._tcp.plain.shop.svc.cluster.local SRV rcode=NXDOMAIN file=nxdomain

# Section 4: NodePort and LoadBalancer services are answered like ClusterIP
# ones (service port in SRV); ingress addresses get no PTR. np comes from a
# JSON file (kubectl get -o json).
expect_dig lb.shop.svc.cluster.local A file=lb.A
expect_dig _https._tcp.lb.shop.svc.cluster.local SRV file=lb.SRV
expect_dig 5.113.0.203.in-addr.arpa PTR rcode=NXDOMAIN file=nxdomain.in-addr
expect_dig np.shop.svc.cluster.local A file=np.A
expect_dig _http._tcp.np.shop.svc.cluster.local SRV file=np.SRV
