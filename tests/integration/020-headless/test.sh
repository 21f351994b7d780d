# 020-headless: headless services (CLUSTER-DNS rows 3, 4, 7, 11, 13, 15,
# 26, 28).

# Row 3: the ready endpoints, de-duplicated across slices; row 28: slices
# joined by label, the legacy Endpoints ignored while slices exist.
expect_dig cart.shop.svc.cluster.local A file=cart.A
expect_dig cart.shop.svc.cluster.local AAAA file=nodata
expect_dig +tcp cart.shop.svc.cluster.local A file=cart.A
# Row 11: one SRV per ready endpoint, port = the slice port (8080, not the
# service port 80), dashed-IP targets, glue. Row 13: the weight counts the
# candidates before de-duplication (10.244.1.21 is in two slices):
# floor(100/4) = 25.
expect_dig _http._tcp.cart.shop.svc.cluster.local SRV file=cart.SRV
# Row 7: dashed-IP names of ready endpoints; not-ready and foreign ones
# NXDOMAIN.
expect_dig 10-244-1-21.cart.shop.svc.cluster.local A file=ep21.A
expect_dig 10-244-2-23.cart.shop.svc.cluster.local A file=ep23.A
expect_dig 10-244-1-22.cart.shop.svc.cluster.local A rcode=NXDOMAIN file=nxdomain
expect_dig 10-244-9-9.cart.shop.svc.cluster.local A rcode=NXDOMAIN file=nxdomain
expect_dig 10-244-8-8.cart.shop.svc.cluster.local A rcode=NXDOMAIN file=nxdomain
# Row 15: PTR of an endpoint address.
expect_dig 20.1.244.10.in-addr.arpa PTR file=ep20.PTR

# Row 28: core/v1 Endpoints when there is no slice; notReadyAddresses
# never served (row 26).
expect_dig legacy.shop.svc.cluster.local A file=legacy.A
expect_dig 10-244-4-42.legacy.shop.svc.cluster.local A rcode=NXDOMAIN file=nxdomain

# Row 4: no ready endpoint: NXDOMAIN for every type.
for t in A AAAA SRV TXT; do
	expect_dig empty.shop.svc.cluster.local $t rcode=NXDOMAIN file=nxdomain
	expect_dig nullep.shop.svc.cluster.local $t rcode=NXDOMAIN file=nxdomain
done
expect_dig _http._tcp.empty.shop.svc.cluster.local SRV rcode=NXDOMAIN file=nxdomain

# Rows 3 and 11, dual-stack headless: A and AAAA; SRV has one target per
# address (dashed IPv4 and dashed IPv6 names).
expect_dig dual.shop.svc.cluster.local A file=dual.A
expect_dig dual.shop.svc.cluster.local AAAA file=dual.AAAA
expect_dig fd00-10-244-6--60.dual.shop.svc.cluster.local AAAA file=dual.ep6.AAAA
expect_dig _http._tcp.dual.shop.svc.cluster.local SRV file=dual.SRV
