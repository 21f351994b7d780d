# 500-udp-batch: the UDP receive/send batching (recvmmsg/sendmmsg in
# server.c). Bursts of 300 queries, several times the 64 datagrams of one
# receive batch, from four client sockets at once, mixing a small answer
# with answers of about 700 and 1,200 octets: every query must get exactly
# one reply, on the socket it came from, with its own ID and question and
# the full answer (nothing truncated under EDNS 1232, nothing lost). Over
# IPv4 and IPv6, with and without EDNS (then the 1.2 KB answer comes back
# the two large answers come back truncated, TC=1, the small one whole).
tool=$SVCDNS_BUILD/tests/tools/udp_burst
s=shop.svc.cluster.local
tmo=$(($(it_scale 2) * 1000))
burst() # SERVER EDNS
{
	"$tool" --server "$1" --port "$PORT" --name "app.$s" --name "mid.$s" \
		--name "wide.$s" --bursts 5 --burst 300 --socks 4 --edns "$2" \
		--timeout-ms "$tmo"
}
for server in 127.0.0.1 ::1; do
	out=$(burst "$server" 1232)
	rc=$?
	note "$server EDNS 1232: $out"
	[ $rc = 0 ] || fail "burst to $server with EDNS: $out"
	expect_match "$server: all answered" '*sent=1500 answered=1500 lost=0 *' "$out"
	expect_match "$server: a reply near 1232 octets" '*max_len=1[12][0-9][0-9]' "$out"
	out=$(burst "$server" 0)
	rc=$?
	note "$server no EDNS: $out"
	[ $rc = 0 ] || fail "burst to $server without EDNS: $out"
	# mid and wide do not fit 512 octets: 200 of each 300 come back
	# with TC.
	expect_match "$server: TC without EDNS" '* truncated=1000 *' "$out"
done
# The server counted them all (6,000 and the readiness probe) and lost
# no reply (the stats line leaves out counters that are 0).
kill -USR1 "$DAEMON_PID"
wait_until 5 grep -q 'udp_queries=' "$DAEMON_ERR" ||
	fail "no counters after SIGUSR1"
expect_grep "every datagram counted" 'udp_queries=600[0-9]' "$DAEMON_ERR"
if grep -q 'udp_send_lost=' "$DAEMON_ERR"; then
	fail "UDP replies lost: $(grep -o 'udp_send_lost=[0-9]*' "$DAEMON_ERR")"
fi
