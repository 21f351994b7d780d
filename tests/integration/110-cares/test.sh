# 110-cares: the example cluster (zones/) through c-ares 1.18's own reply
# parsers (tests/tools/cares_query), over UDP with and without EDNS and
# over TCP. c-ares reports NXDOMAIN as ENOTFOUND, NOERROR without records
# as ENODATA, and (1.18) REFUSED as ECONNREFUSED.
s=svc.cluster.local

for tr in "" --tcp --no-edns; do
	expect_cares $tr frontend.shop.$s A out="A 10.96.0.10"
	expect_cares $tr cart.shop.$s A file=cart.A
	expect_cares $tr api.web.$s AAAA out="AAAA fd00:10:96::30"
	expect_cares $tr _http._tcp.cart.shop.$s SRV file=cart.SRV
	expect_cares $tr _postgres._tcp.db.data.$s SRV file=db.SRV
	expect_cares $tr 10.0.96.10.in-addr.arpa PTR out="PTR frontend.shop.$s"
	expect_cares $tr dns-version.cluster.local TXT out='TXT "1.1.0"'
	expect_cares $tr nosuch.shop.$s A exit=1 out="ERROR ENOTFOUND"
done
expect_cares api.web.$s A out="A 10.96.0.30"
expect_cares _https._tcp.api.web.$s SRV out="SRV 0 50 443 api.web.$s"
expect_cares 0.3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa PTR out="PTR api.web.$s"
expect_cares 20.1.244.10.in-addr.arpa PTR out="PTR db-0.db.data.$s"
expect_cares 8.1.244.10.in-addr.arpa PTR out="PTR 10-244-1-8.cart.shop.$s"
expect_cares db-1.db.data.$s A out="A 10.244.2.21"
expect_cares 10-244-3-10.cart.shop.$s A out="A 10.244.3.10"
expect_cares worker.shop.$s A out="A 10.244.1.11"
expect_cares 10-244-1-11.shop.pod.cluster.local A out="A 10.244.1.11"
expect_cares cluster.local NS out="NS ns.dns.cluster.local"
expect_cares cluster.local SOA out="SOA ns.dns.cluster.local hostmaster.cluster.local SERIAL 7200 1800 86400 5"
expect_cares search.web.$s CNAME out="CNAME search.example.com"
expect_cares search.web.$s A out="CNAME search.example.com"
expect_cares alias.web.$s A file=alias.A
# Negative answers.
expect_cares frontend.shop.$s AAAA exit=1 out="ERROR ENODATA"
expect_cares frontend.shop.$s TXT exit=1 out="ERROR ENODATA"
expect_cares db-2.db.data.$s AAAA exit=1 out="ERROR ENODATA"
expect_cares db-3.db.data.$s A exit=1 out="ERROR ENOTFOUND"
expect_cares 10-244-3-7.frontend.shop.$s A exit=1 out="ERROR ENOTFOUND"
expect_cares 99.99.96.10.in-addr.arpa PTR exit=1 out="ERROR ENOTFOUND"
expect_cares example.com A exit=1 out="ERROR ECONNREFUSED"
# Several queries in one run (one channel).
expect_cares frontend.shop.$s A nosuch.shop.$s A cluster.local NS exit=1 file=several
