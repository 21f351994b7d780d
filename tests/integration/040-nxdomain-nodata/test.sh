# 040-nxdomain-nodata: the table of CLUSTER-DNS 2.2 and the SOA, NS, TTL and
# dns-version rules of 2.3 (rows 20-24, 45, 48).
z=cluster.local

# Apex: SOA and NS (with ns.dns glue = the listen address); other types
# NODATA.
expect_dig $z SOA file=apex.SOA
expect_dig $z NS file=apex.NS
expect_dig ns.dns.$z A file=ns.A
expect_dig ns.dns.$z AAAA file=nodata
for t in A AAAA TXT MX SRV; do
	expect_dig $z $t file=nodata
done
# Row 20: dns-version TXT, TTL 28800. Its A may be NXDOMAIN (CoreDNS) or
# NODATA (the fix CLUSTER-DNS allows); either way no records.
expect_dig dns-version.$z TXT file=dns-version.TXT
expect_dig dns-version.$z A rcode="NOERROR|NXDOMAIN"
expect_eq "dns-version.$z A: no records" "" "$(dig_answers dns-version.$z A)"

# Structural names: NODATA for every type.
for n in svc.$z pod.$z; do
	for t in A AAAA SRV NS SOA TXT; do
		expect_dig $n $t file=nodata
	done
done
# Namespaces: NODATA if they exist (Namespace object, or any object in
# them), NXDOMAIN if not.
for t in A NS SOA SRV TXT; do
	expect_dig shop.svc.$z $t file=nodata
done
expect_dig quiet.svc.$z A file=nodata
expect_dig implied.svc.$z A file=nodata
expect_dig missing.svc.$z A rcode=NXDOMAIN file=nxdomain
expect_dig missing.svc.$z NS rcode=NXDOMAIN file=nxdomain
# Other labels under the zone: NXDOMAIN, SOA included (row 45).
expect_dig foo.$z A rcode=NXDOMAIN file=nxdomain
expect_dig foo.$z SOA rcode=NXDOMAIN file=nxdomain
expect_dig x.foo.$z A rcode=NXDOMAIN file=nxdomain
# Unknown service: NXDOMAIN.
expect_dig nosuch.shop.svc.$z A rcode=NXDOMAIN file=nxdomain
expect_dig nosuch.quiet.svc.$z A rcode=NXDOMAIN file=nxdomain
# An existing service with other types: NODATA.
for t in AAAA SOA NS MX TXT CNAME HINFO PTR; do
	expect_dig frontend.shop.svc.$z $t file=nodata
done
expect_dig thing.implied.svc.$z A file=thing.A
# ANY: one RRset (svcdns decision, RFC 8482); none on an empty name.
expect_dig frontend.shop.svc.$z ANY file=frontend.ANY
expect_dig shop.svc.$z ANY file=nodata
expect_dig nosuch.shop.svc.$z ANY rcode=NXDOMAIN file=nxdomain
# Too many labels (row 52 and 2.1): NXDOMAIN.
expect_dig a.b.c.frontend.shop.svc.$z A rcode=NXDOMAIN file=nxdomain
expect_dig x.y.z.w.frontend.shop.svc.$z A rcode=NXDOMAIN file=nxdomain
expect_dig _http._tcp.x.frontend.shop.svc.$z SRV rcode=NXDOMAIN file=nxdomain
# Row 48: no wildcard expansion.
expect_dig '*.shop.svc.'$z A rcode=NXDOMAIN file=nxdomain
expect_dig 'frontend.*.svc.'$z A rcode=NXDOMAIN file=nxdomain
expect_dig '*.*.svc.'$z SRV rcode=NXDOMAIN file=nxdomain
expect_dig any.shop.svc.$z A rcode=NXDOMAIN file=nxdomain
expect_dig '_*._*.frontend.shop.svc.'$z SRV rcode=NXDOMAIN file=nxdomain

# Rows 22 and 23 with --ttl 600: records 600, SOA TTL min(600, 300) = 300,
# SOA minimum 600; dns-version stays 28800.
restart_daemon --ttl 600
expect_dig frontend.shop.svc.$z A file=ttl600.A
expect_dig $z SOA file=ttl600.SOA
expect_dig nosuch.shop.svc.$z A rcode=NXDOMAIN file=ttl600.nxdomain
expect_dig dns-version.$z TXT file=dns-version.TXT
# --ttl 0: do not cache.
restart_daemon --ttl 0
expect_dig frontend.shop.svc.$z A file=ttl0.A
expect_dig frontend.shop.svc.$z AAAA file=ttl0.nodata

# Row 47: several forward zones, same data in each, each answer with its
# own zone's SOA; PTR targets in the first zone.
restart_daemon --domain cluster.local --domain k8s.example
expect_dig frontend.shop.svc.k8s.example A file=zone2.A
expect_dig nosuch.shop.svc.k8s.example A rcode=NXDOMAIN file=zone2.nxdomain
expect_dig k8s.example SOA file=zone2.SOA
expect_dig 10.0.96.10.in-addr.arpa PTR file=frontend.PTR
expect_dig frontend.shop.svc.cluster.local A file=frontend.A

# Row 21: ns.dns.<zone> has the address(es) the server listens on.
if ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/'; then
	restart_daemon --listen '[::1]:@PORT@'
	expect_dig ns.dns.$z A file=ns.A
	expect_dig ns.dns.$z AAAA file=ns.AAAA
	expect_dig $z NS file=apex.NS.dual
else
	note "no ::1 on lo: second --listen not tested"
fi
