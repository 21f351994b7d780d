# 070-case: case-insensitive matching, the question's spelling echoed in
# owner names and in the zone part of generated targets (CLUSTER-DNS row
# 25, SPEC 2.1), port and protocol labels matched without case (row 10).

expect_dig +question FrontEnd.SHOP.svc.Cluster.Local A file=frontend.A
expect_dig FRONTEND.SHOP.SVC.CLUSTER.LOCAL A file=frontend.upper.A
expect_dig +tcp FrontEnd.SHOP.svc.Cluster.Local A +question file=frontend.A
expect_dig _HTTP._Tcp.FrontEnd.SHOP.svc.Cluster.Local SRV file=frontend.SRV
expect_dig DB-0.Db.Data.SVC.cluster.LOCAL A file=db0.A
expect_dig _Postgres._TCP.db.data.svc.CLUSTER.local SRV file=db.SRV
expect_dig 10.0.96.10.IN-ADDR.ARPA PTR file=frontend.PTR
# Negative answers stay negative in any case.
expect_dig NoSuch.SHOP.svc.Cluster.Local A rcode=NXDOMAIN
expect_dig FrontEnd.SHOP.svc.Cluster.Local AAAA rcode=NOERROR
expect_eq "FrontEnd AAAA has no records" "" \
	"$(dig_answers FrontEnd.SHOP.svc.Cluster.Local AAAA)"
expect_dig Missing.SVC.cluster.local A rcode=NXDOMAIN
expect_dig SHOP.SVC.cluster.local A rcode=NOERROR
