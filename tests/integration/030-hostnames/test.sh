# 030-hostnames: endpoint names (CLUSTER-DNS rows 6, 7, 11, 13, 15).

# Row 6: hostnames of ready endpoints.
expect_dig db-0.db.data.svc.cluster.local A file=db0.A
expect_dig db-1.db.data.svc.cluster.local A file=db1.A
expect_dig db-0.db.data.svc.cluster.local AAAA file=nodata
# Row 6: a not-ready endpoint's name is NXDOMAIN.
expect_dig db-2.db.data.svc.cluster.local A rcode=NXDOMAIN file=nxdomain
# Row 7: an endpoint with a hostname has no dashed-IP name; one without a
# hostname has only the dashed-IP name.
expect_dig 10-244-1-30.db.data.svc.cluster.local A rcode=NXDOMAIN file=nxdomain
expect_dig 10-244-1-33.db.data.svc.cluster.local A file=ep33.A
# Row 3: the service name lists the ready addresses.
expect_dig db.data.svc.cluster.local A file=db.A
# Rows 11 and 13: one SRV per ready endpoint, target = hostname or dashed
# IP, port from the slice, weight floor(100/3) = 33, glue in Additional.
expect_dig _postgres._tcp.db.data.svc.cluster.local SRV file=db.postgres.SRV
expect_dig db.data.svc.cluster.local SRV file=db.SRV
expect_dig _postgres._udp.db.data.svc.cluster.local SRV rcode=NXDOMAIN file=nxdomain
# Row 15: PTR to the hostname form.
expect_dig 30.1.244.10.in-addr.arpa PTR file=db0.PTR
expect_dig 33.1.244.10.in-addr.arpa PTR file=ep33.PTR
expect_dig 32.3.244.10.in-addr.arpa PTR rcode=NXDOMAIN file=nxdomain.in-addr
# Row 6 (dup-name): several endpoints with one hostname: all their IPs.
expect_dig web.dup.data.svc.cluster.local A file=dup.A
# 2.4: an address selected by two services has a PTR for each.
expect_dig 1.7.244.10.in-addr.arpa PTR file=double.PTR
# Rows 11-13: the bare name's SRV is endpoints x ports (weight 100/4), a
# named port's SRV one per endpoint (100/2); glue once per target.
expect_dig multi.data.svc.cluster.local SRV file=multi.SRV
expect_dig _metrics._tcp.multi.data.svc.cluster.local SRV file=multi.metrics.SRV
