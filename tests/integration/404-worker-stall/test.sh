# shellcheck shell=bash
command -v curl >/dev/null || fail "curl is not installed"
HP=$(it_pick_port) || fail "no free port for HTTP"
health() { curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HP/health" 2>/dev/null; }
export SVCDNS_FAILPOINT_STALL_MS=7000
start_daemon --threads 2 --http "127.0.0.1:$HP" || return
unset SVCDNS_FAILPOINT_STALL_MS
expect_eq "/health at first" 200 "$(health)"
# Beat 3 (~3 s) blocks worker 0; 5 s later it counts as stalled.
wait_until 15 sh -c "[ \"\$(curl -s -m 2 -o /dev/null -w '%{http_code}' http://127.0.0.1:$HP/health)\" = 503 ]" ||
	fail "/health never said 503 while worker 0 was blocked"
grep -q 'main: worker=0 has not run its loop' "$DAEMON_ERR" ||
	fail "no stall line in the log: $(grep -E 'worker|failpoint' "$DAEMON_ERR" | head -3)"
# The other worker answers meanwhile (TCP: each connection goes to one of
# the two listeners; try a few).
ok=0
for _ in 1 2 3 4 5 6; do
	[ -n "$(dig +short +tcp +tries=1 +time=1 -p "$PORT" @127.0.0.1 cart.shop.svc.cluster.local A 2>/dev/null | grep -E '^[0-9.]+$')" ] && ok=1 && break
done
[ $ok = 1 ] || fail "no answer from the live worker during the stall"
wait_until 15 sh -c "[ \"\$(curl -s -m 2 -o /dev/null -w '%{http_code}' http://127.0.0.1:$HP/health)\" = 200 ]" ||
	fail "/health did not recover after the stall"
wait_until 5 grep -q 'main: the workers are live again' "$DAEMON_ERR" ||
	fail "no recovery line in the log"
