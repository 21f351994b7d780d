# shellcheck shell=bash
tool=$SVCDNS_BUILD/tests/tools/udp_burst
s=shop.svc.cluster.local
tmo=$(($(it_scale 2) * 1000))
export SVCDNS_FAILPOINT_UDP_AGAIN=3
start_daemon --threads 1 || return
unset SVCDNS_FAILPOINT_UDP_AGAIN
expect_grep "the failpoint is on" 'failpoint SVCDNS_FAILPOINT_UDP_AGAIN=3' "$DAEMON_ERR"

# Bursts of 100 (the queue holds 256 replies a worker): every query
# answered, with its own ID and question, on its own socket.
out=$("$tool" --server 127.0.0.1 --port "$PORT" --name "app.$s" --name "mid.$s" \
	--name "wide.$s" --bursts 20 --burst 100 --socks 4 --edns 1232 --timeout-ms "$tmo")
rc=$?
note "bursts: $out"
[ $rc = 0 ] || fail "bursts with a send queue: $out"
expect_match "all answered" '*sent=2000 answered=2000 lost=0 *' "$out"
# One at a time too: a lone reply can meet EAGAIN and wait.
for i in 1 2 3 4 5 6; do
	expect_eq "single query $i" "10.96.0.70" "$(dig +short +norec +tries=1 +time=2 -p "$PORT" @127.0.0.1 "app.$s" A)"
done

kill -USR1 "$DAEMON_PID"
wait_until 5 grep -q 'udp_queries=' "$DAEMON_ERR" || fail "no counters after SIGUSR1"
expect_grep "replies went through the queue" 'udp_queued=[1-9]' "$DAEMON_ERR"
if grep -q 'udp_send_lost=' "$DAEMON_ERR"; then
	fail "UDP replies lost: $(grep -o 'udp_send_lost=[0-9]*' "$DAEMON_ERR")"
fi
