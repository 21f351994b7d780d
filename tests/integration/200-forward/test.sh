# 200-forward: forwarding to a real upstream (NSD on loopback serving
# example.test): A, AAAA, CNAME chains, NXDOMAIN, a large answer over TCP,
# the cache (TTLs go down, hits and misses counted), the recursion ACL
# (REFUSED, RA=0, nothing sent upstream), reverse and --fallthrough
# NXDOMAINs forwarded, ExternalName targets chased upstream (CLUSTER-DNS
# rows 18, 31, 33-35; RELIABILITY.md T14, T15, T15a, U10, U11).
# shellcheck source=../../tools/upstream.sh
. "$SVCDNS_ROOT/tests/tools/upstream.sh"

up_nsd_start || return
start_daemon --upstream "127.0.0.1:$UP_PORT" --threads 1 \
	--fallthrough legacy.cluster.local --allow-recursion 127.0.0.1/32 ||
	return

# Answers as dig shows them, with recursion desired (forwarded).
fwd()
{
	expect_dig +rec "$@"
}

fwd www.example.test A flags="qr aa rd ra" file=www-a
fwd www.example.test AAAA flags="qr aa rd ra" file=www-aaaa
fwd alias.example.test A flags="qr aa rd ra" file=alias order=keep
fwd chain1.example.test A flags="qr aa rd ra" file=chain order=keep
fwd nope.example.test A rcode=NXDOMAIN flags="qr aa rd ra" file=nope
fwd txt.example.test TXT flags="qr aa rd ra" file=txt
# The question's spelling comes back as the client wrote it.
expect_eq "0x20 restored" "WwW.ExAmPlE.tEsT." \
	"$(up_dig +noall +answer WwW.ExAmPlE.tEsT A | awk '{ print $1 }')"

# 120 A records: TC over UDP at 1232 octets, whole over TCP (U10).
out=$(up_dig +ignore +bufsize=1232 big.example.test A)
expect_match "big over udp: tc" "*flags: qr aa tc rd ra;*" "$out"
out=$(up_dig +tcp big.example.test A)
expect_match "big over tcp: 120 answers" "*ANSWER: 120,*" "$out"
out=$(up_dig +noedns +ignore big.example.test A)
expect_match "big without EDNS: tc" "*flags: qr aa tc rd ra;*" "$out"

# Cache: the second answer comes from the cache with a lower TTL.
t1=$(up_dig +noall +answer short.example.test A | awk '{ print $2 }')
sleep 2.2
t2=$(up_dig +noall +answer short.example.test A | awk '{ print $2 }')
expect_eq "short ttl first" 60 "$t1"
if [ -z "$t2" ] || [ "$t2" -ge 60 ] || [ "$t2" -lt 55 ]; then
	fail "cached TTL should have gone down from 60 by about 2: got '$t2'"
fi
hits=$(up_stat cache_hits)
misses=$(up_stat cache_misses)
[ "$hits" -ge 1 ] || fail "cache_hits=$hits, expected >= 1"
[ "$misses" -ge 6 ] || fail "cache_misses=$misses, expected >= 6"
# Negative answers are cached too (RFC 2308): no new upstream query.
sent=$(up_stat forward_sent)
up_dig nope.example.test A >/dev/null
expect_eq "NXDOMAIN from the cache" "$sent" "$(up_stat forward_sent)"

# Cluster names are answered from the snapshot, never forwarded, and carry
# RA for a client that may recurse.
fwd frontend.web.svc.cluster.local A flags="qr aa rd ra" file=frontend
expect_eq "cluster answer not forwarded" "$sent" "$(up_stat forward_sent)"

# Reverse: a ClusterIP from the snapshot; an unknown address falls through
# to the upstream (kubeadm's "fallthrough in-addr.arpa ip6.arpa").
fwd -x 10.96.0.10 PTR flags="qr aa rd ra" file=ptr-cluster
fwd 10.2.0.192.in-addr.arpa PTR flags="qr aa rd ra" file=ptr-upstream
# --fallthrough legacy.cluster.local: NXDOMAIN there is asked upstream.
fwd db.legacy.cluster.local A flags="qr aa rd ra" file=legacy
# Without RD nothing is forwarded: the cluster's own NXDOMAIN.
expect_dig db.legacy.cluster.local A rcode=NXDOMAIN flags="qr aa ra" \
	ignore=AUTHORITY

# ExternalName to a name outside the zones: the CNAME, then the
# upstream's answer; the rcode is the upstream's (row 18).
fwd ext.web.svc.cluster.local A flags="qr rd ra" file=ext order=keep
fwd extnx.web.svc.cluster.local A rcode=NXDOMAIN flags="qr rd ra" \
	file=extnx order=keep
# Over TCP too.
out=$(up_dig +tcp +noall +answer ext.web.svc.cluster.local AAAA)
expect_match "ext AAAA over tcp" "*2001:db8::12*" "$out"

# The recursion ACL (T15, L13): from 127.0.0.2 REFUSED with RA=0, and the
# upstream sees nothing.
sent=$(up_stat forward_sent)
out=$(up_dig -b 127.0.0.2 www.example.test A)
expect_match "acl: refused" "*status: REFUSED*" "$out"
expect_match "acl: no ra" "*flags: qr rd;*" "$out"
expect_eq "acl: nothing sent upstream" "$sent" "$(up_stat forward_sent)"
# Cluster names still answer, without RA; ExternalName: the CNAME alone.
out=$(up_dig -b 127.0.0.2 frontend.web.svc.cluster.local A)
expect_match "acl: cluster name" "*flags: qr aa rd;*10.96.0.10*" "$out"
out=$(up_dig -b 127.0.0.2 +noall +answer ext.web.svc.cluster.local A)
expect_eq "acl: externalname cname only" \
	"ext.web.svc.cluster.local. 5 IN CNAME ext-target.example.test." \
	"$(printf '%s\n' "$out" | awk '{ $1 = $1; print }')"
[ "$(up_stat recursion_refused)" -ge 1 ] || fail "recursion_refused not counted"
# RD=0 from an allowed client: REFUSED (T14), RA=1 as recursion is there.
expect_dig www.example.test A rcode=REFUSED flags="qr ra"

# A forwarding loop is refused at start-up (U11, L14).
run_svcdns --zones "$ZONES" --listen "127.0.0.1:$UP_PORT" \
	--upstream "127.0.0.1:$UP_PORT"
expect_eq "loop: exit status" 1 "$RUN_RC"
expect_grep "loop: the error" 'forwarding loop: upstream 127.0.0.1:[0-9]+ is svcdns itself' "$RUN_ERR"
up_stop_all
