# 050-externalname: CLUSTER-DNS rows 18 and 19, section 4 (no upstream:
# the CNAME alone) and the svcdns decisions for in-zone targets (a missing
# target: NXDOMAIN with the CNAME, RFC 6604; a target without the type:
# NOERROR with the CNAME; both with the SOA, RFC 2308).
w=web.svc.cluster.local

# Out-of-zone target, --upstream none: the CNAME alone, NOERROR, AA.
for t in A AAAA CNAME TXT; do
	expect_dig search.$w $t file=search.CNAME
done
expect_dig +tcp search.$w A file=search.CNAME
# SRV on the name: NODATA; port names and subnames: NXDOMAIN.
expect_dig search.$w SRV file=nodata
expect_dig _http._tcp.search.$w SRV rcode=NXDOMAIN file=nxdomain
expect_dig x.search.$w A rcode=NXDOMAIN file=nxdomain
expect_dig _http._tcp.alias.$w SRV rcode=NXDOMAIN file=nxdomain

# In-zone target: the CNAME, then the target's records, CNAME first.
expect_dig alias.$w A order=keep file=alias.A
expect_dig alias.$w CNAME file=alias.CNAME
# The target exists without the type: NOERROR, the CNAME, the SOA.
expect_dig alias.$w AAAA order=keep file=alias.AAAA
# A chain of two.
expect_dig chain.$w A order=keep file=chain.A
# The target does not exist: NXDOMAIN with the CNAME (RFC 6604).
expect_dig ghost.$w A order=keep rcode=NXDOMAIN file=ghost.A

# Row 19: an IP string as externalName is not served.
expect_dig ipext.$w A rcode=NXDOMAIN file=nxdomain
expect_dig ipext.$w CNAME rcode=NXDOMAIN file=nxdomain

# A loop must be answered (capped), whatever the rcode, and not hang.
expect_dig loop.$w A rcode="NOERROR|NXDOMAIN|SERVFAIL" flags=any
