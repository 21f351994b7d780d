# 090-truncation: UDP size limits and TC (CLUSTER-DNS rows 41-43, 2.5, and
# the svcdns decision: an answer section that does not fit -> TC=1 with the
# question and OPT only; Additional glue that does not fit is left out
# without TC). UDP limit: 512 without EDNS, else max(512, EDNS size) capped
# at 1232.
s=shop.svc.cluster.local

# big (120 A records, ~1.9 KB): TC and no records over UDP, with or
# without EDNS; the whole answer over TCP; dig's own TCP retry gets it too.
expect_dig +noedns +ignore big.$s A flags="qr aa tc" file=tc.noedns
expect_dig +bufsize=1232 +ignore big.$s A flags="qr aa tc" file=tc.edns
expect_dig +bufsize=4096 +ignore big.$s A flags="qr aa tc" file=tc.edns
expect_dig +tcp big.$s A file=big.A
expect_dig big.$s A file=big.retry.A
expect_dig +noedns big.$s A file=big.retry.noedns.A
# Row 13: SRV weight floor(100/120) = 0 is raised to 1.
expect_dig +tcp _http._tcp.big.$s SRV file=big.SRV

# mid (40 A records, ~700 octets): TC without EDNS, whole with 1232; an
# EDNS size below 512 counts as 512.
expect_dig +noedns +ignore mid.$s A flags="qr aa tc" file=tc.noedns
expect_dig +bufsize=512 +ignore mid.$s A flags="qr aa tc" file=tc.edns
expect_dig +bufsize=100 +ignore mid.$s A flags="qr aa tc" file=tc.edns
expect_dig +bufsize=1232 +ignore mid.$s A file=mid.A
expect_dig +tcp mid.$s A file=mid.A

# No UDP datagram is larger than the limit: raw query without EDNS.
r=$(it_udp_exchange "$(it_query 7 big.$s 1)")
n=$(printf '%s' "$r" | wc -w)
expect_match "raw UDP big A: TC, no records" "id=7 qr=1 opcode=0 aa=1 tc=1 rd=0 ra=0 rcode=0 qd=1 an=0 ns=0 ar=0" "$(it_header "$r")"
[ "$n" -le 512 ] || fail "raw UDP big A: $n octets, more than 512"

# glue (7 SRV records, weight floor(100/7) = 14): without EDNS the answer
# fits in 512 octets but not all of the glue: no TC, all 7 SRV, only some
# A records in Additional (each one a correct glue record).
expect_dig +noedns +ignore _http._tcp.glue.$s SRV ignore=ADDITIONAL file=glue.SRV.noedns
add=$(it_dig +noedns +ignore _http._tcp.glue.$s SRV | it_normalize |
	awk '/^;; ADDITIONAL SECTION:/ { on = 1; next } /^;/ { on = 0 } on')
nadd=$(printf '%s' "$add" | grep -c .)
if [ "$nadd" -ge 7 ]; then
	fail "glue SRV without EDNS: $nadd glue records, expected fewer than 7 in 512 octets"
fi
printf '%s\n' "$add" | while read -r line; do
	[ -n "$line" ] || continue
	grep -qxF "$line" "$CASE_DIR/expected/glue.SRV" ||
		fail "glue SRV without EDNS: unexpected additional record '$line'"
done
# With EDNS 1232 everything fits.
expect_dig _http._tcp.glue.$s SRV file=glue.SRV
expect_dig +tcp _http._tcp.glue.$s SRV file=glue.SRV

# A c-ares client (no EDNS) gets TC over UDP and retries over TCP itself.
expect_cares --no-edns big.$s A file=big.cares
