# 506-udp-direct: direct UDP mode (server.c, "Direct UDP mode"): a worker
# sleeps in recvmmsg on its socket, and the rest of its loop's work reaches
# it through the waker thread. Forced on with --udp-direct on, on two
# workers:
#   - UDP bursts all answered, read in direct mode (the metric counts it);
#   - TCP queries, forwarded queries and a mixed UDP load (every 5th name
#     forwarded to NSD) answered while the workers sleep in their sockets:
#     each needs a ring (loop descriptor readable, or a forward's socket
#     and timer set up by a loop run after the batch);
#   - timers: the workers' beats go on through 7 s without a query (a
#     worker whose timers never ran counts as stalled after 5 s: /health
#     503);
#   - SIGTERM stops it (stop_daemon: within 10 s, status 0).
# Then the default policy (auto) with one worker: a sustained UDP load
# turns direct mode on by itself; with two listeners, on the one the load
# goes to (not the first). --udp-direct off keeps it off under the same
# load; the failpoint (SVCDNS_FAILPOINT_UDP_DIRECT=always, which the
# sanitizer runs set for every daemon) overrides the option.
# shellcheck source=../../tools/upstream.sh
. "$SVCDNS_ROOT/tests/tools/upstream.sh"
command -v curl >/dev/null || fail "curl is not installed"
up_nsd_start || return
HP=$(it_pick_port) || {
	fail "no free port for HTTP"
	return
}
s=shop.svc.cluster.local
tmo=$(($(it_scale 2) * 1000))
metric()
{
	curl -s -m 2 "http://127.0.0.1:$HP/metrics" |
		awk -v n="$1" '$1 == n { print $2 }'
}
health() { curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HP/health" 2>/dev/null; }
load() # ARGS...
{
	"$SVCDNS_BUILD/tests/tools/soak_client" names --server 127.0.0.1 \
		--port "$PORT" --zone "$s" "$@"
}
# direct_after LABEL ADDR ARGS...: a load (soak_client ARGS) on ADDR:$PORT
# that must be answered in full; then d = the direct batches so far.
direct_after()
{
	local label=$1 addr=$2 out rc
	shift 2
	out=$("$SVCDNS_BUILD/tests/tools/soak_client" names --server "$addr" \
		--port "$PORT" --zone "$s" "$@" --timeout-ms 1500)
	rc=$?
	note "$label: $out"
	[ $rc = 0 ] || fail "$label: $out"
	d=$(metric svcdns_dns_udp_direct_batches_total)
	note "$label: direct batches $d"
}

start_daemon --threads 2 --http "127.0.0.1:$HP" --udp-direct on \
	--upstream "127.0.0.1:$UP_PORT" --allow-recursion 127.0.0.1/32 || return

out=$("$SVCDNS_BUILD/tests/tools/udp_burst" --server 127.0.0.1 --port "$PORT" \
	--name "app.$s" --name "mid.$s" --name "wide.$s" --bursts 5 \
	--burst 300 --socks 4 --edns 1232 --timeout-ms "$tmo")
note "bursts: $out"
expect_match "bursts all answered" '*sent=1500 answered=1500 lost=0 *' "$out"
d=$(metric svcdns_dns_udp_direct_batches_total)
[ "${d:-0}" -gt 0 ] || fail "no batch read in direct mode (metric: '${d}')"

# TCP: each connection lands on one of the two workers, both asleep in
# recvmmsg; one try of 1 s each.
for i in 1 2 3 4 5 6; do
	a=$(dig +short +tcp +tries=1 +time=1 -p "$PORT" @127.0.0.1 "app.$s" A 2>&1)
	expect_eq "tcp query $i" 10.96.0.70 "$a"
done
# A forwarded query over UDP: its upstream socket and timer are set up by
# the loop run that follows the batch.
for i in 1 2 3; do
	a=$(dig +short +rec +tries=1 +time=1 -p "$PORT" @127.0.0.1 www.example.test A 2>&1)
	expect_eq "forwarded query $i" 192.0.2.10 "$a"
done
out=$(load --count 6000 --rate 3000 --fwd-zone example.test --fwd-every 5 \
	--seed 3 --timeout-ms "$tmo")
rc=$?
note "mixed load: $out"
[ $rc = 0 ] || fail "mixed load (every 5th forwarded): $out"
expect_match "mixed load: none lost" '*timeouts=0 *' "$out"
# Every forwarded name is an NXDOMAIN from NSD, every other one from
# svcdns: no SERVFAIL (NSD's own rate limiting is off, upstream.sh).
expect_match "mixed load: all NXDOMAIN" '* rcode_3=6000 *' "$out"
sent=$(up_stat forwarded)
note "forwarded by the daemon: $sent"

# Seven seconds without a query: only the waker's timer rings run the
# workers' beats.
expect_eq "/health before the quiet" 200 "$(health)"
sleep 7
expect_eq "/health after 7 s without queries" 200 "$(health)"
if grep -q 'has not run its loop' "$DAEMON_ERR"; then
	fail "a worker missed its beats: $(grep 'has not run its loop' "$DAEMON_ERR" | head -1)"
fi
stop_daemon

# auto: a sustained load (2 s at 20k queries/s) on one worker turns it on.
start_daemon --threads 1 --http "127.0.0.1:$HP" || return
d=$(metric svcdns_dns_udp_direct_batches_total)
expect_eq "auto: not direct while idle" 0 "${d:-0}"
direct_after "auto load" 127.0.0.1 --count 40000 --rate 20000 --seed 5
[ "${d:-0}" -gt 0 ] || fail "auto: no batch read in direct mode under load"
a=$(dig +short +tcp +tries=1 +time=1 -p "$PORT" @127.0.0.1 "app.$s" A 2>&1)
expect_eq "auto: tcp after the load" 10.96.0.70 "$a"
stop_daemon

# auto with two listeners, the load on the second: the worker reads that
# one directly (worker_direct_pick) after a beat interval.
start_daemon --threads 1 --http "127.0.0.1:$HP" --listen "127.0.0.2:@PORT@" \
	--log-level debug || return
a=$(dig +short +tries=1 +time=1 -p "$PORT" @127.0.0.2 "app.$s" A 2>&1)
expect_eq "second listener answers" 10.96.0.70 "$a"
direct_after "second listener load" 127.0.0.2 --count 60000 --rate 20000 \
	--seed 7
[ "${d:-0}" -gt 0 ] || fail "auto: the second listener was never read directly"
grep -q "reads 127.0.0.2:$PORT directly" "$DAEMON_ERR" ||
	fail "no log line for the switch to the second listener"
a=$(dig +short +tries=1 +time=1 -p "$PORT" @127.0.0.1 "app.$s" A 2>&1)
expect_eq "first listener after the load" 10.96.0.70 "$a"
stop_daemon

# off: the same load as above, never direct; the failpoint overrides it.
start_daemon --threads 1 --http "127.0.0.1:$HP" --udp-direct off || return
direct_after "off load" 127.0.0.1 --count 40000 --rate 20000 --seed 5
expect_eq "off: no direct batch under load" 0 "${d:-0}"
stop_daemon
export SVCDNS_FAILPOINT_UDP_DIRECT=always
start_daemon --threads 1 --http "127.0.0.1:$HP" --udp-direct off || return
unset SVCDNS_FAILPOINT_UDP_DIRECT
grep -q 'SVCDNS_FAILPOINT_UDP_DIRECT=always' "$DAEMON_ERR" ||
	fail "the failpoint was not taken: $(head -3 "$DAEMON_ERR")"
direct_after "failpoint load" 127.0.0.1 --count 2000 --rate 2000 --seed 9
[ "${d:-0}" -gt 0 ] || fail "the failpoint did not override --udp-direct off"
stop_daemon
up_stop_all
