# 060-pods: <ip>.<ns>.pod.<zone> in the three modes (CLUSTER-DNS row 17,
# 2.1, section 4: verified indexes every status.podIPs entry).
p=pod.cluster.local

# --pods verified (the default): only IPs of live pods in that namespace.
expect_dig 10-244-1-10.apps.$p A file=web1.A
expect_dig 10-244-1-11.apps.$p A file=dual1.A
expect_dig fd00-10-244-1--11.apps.$p AAAA file=dual1.AAAA
expect_dig 10-244-1-10.apps.$p AAAA file=nodata
expect_dig fd00-10-244-1--11.apps.$p A file=nodata
expect_dig 10-244-1-10.empty.$p A rcode=NXDOMAIN file=nxdomain
expect_dig 10-244-1-99.apps.$p A rcode=NXDOMAIN file=nxdomain
expect_dig 10-244-1-12.apps.$p A rcode=NXDOMAIN file=nxdomain
expect_dig 10-244-1-13.apps.$p A rcode=NXDOMAIN file=nxdomain
expect_dig x.10-244-1-10.apps.$p A rcode=NXDOMAIN file=nxdomain
expect_dig apps.$p A file=nodata
expect_dig empty.$p A file=nodata
expect_dig missing.$p A rcode=NXDOMAIN file=nxdomain
expect_dig $p A file=nodata
# Pods never get PTR records by themselves (row 16).
expect_dig 10.1.244.10.in-addr.arpa PTR rcode=NXDOMAIN file=nxdomain.in-addr

# --pods insecure: any IP-shaped label answers, without a lookup.
restart_daemon --pods insecure
expect_dig 10-244-1-10.apps.$p A file=web1.A
expect_dig 10-1-2-3.apps.$p A file=insecure.A
expect_dig fd00--1.apps.$p AAAA file=insecure.AAAA
expect_dig 10-1-2-3.apps.$p AAAA file=nodata
expect_dig foo.apps.$p A rcode=NXDOMAIN file=nxdomain
expect_dig 10-1-2.apps.$p A rcode=NXDOMAIN file=nxdomain
expect_dig 10-1-2-300.apps.$p A rcode=NXDOMAIN file=nxdomain
expect_dig apps.$p A file=nodata
expect_dig missing.$p A rcode=NXDOMAIN file=nxdomain

# --pods disabled: everything below pod.<zone> is NXDOMAIN.
restart_daemon --pods disabled
expect_dig 10-244-1-10.apps.$p A rcode=NXDOMAIN file=nxdomain
expect_dig fd00-10-244-1--11.apps.$p AAAA rcode=NXDOMAIN file=nxdomain
expect_dig apps.$p A rcode=NXDOMAIN file=nxdomain
expect_dig $p A file=nodata
