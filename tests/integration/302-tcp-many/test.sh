# 302-tcp-many: 5,000 idle TCP connections are opened and held; meanwhile
# UDP keeps answering at 1,000 queries/s with nothing lost, and a new TCP
# client is answered at once. With --tcp-max-conns 3000 per worker (2
# workers) none is evicted; the daemon raises its own descriptor limit.
tool=$SVCDNS_BUILD/tests/tools/cutover_load
n=5000
if ! ulimit -n $((n + 200)) 2>/dev/null; then
	it_skip "cannot raise this shell's descriptor limit to $((n + 200))"
	return 0
fi
fds=()
opened=0
for i in $(seq 1 $n); do
	if exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"; then
		fds+=("$fd")
		opened=$((opened + 1))
	else
		break
	fi
done
expect_eq "idle connections opened" "$n" "$opened"
out=$("$tool" --server 127.0.0.1 --port "$PORT" \
	--name app.shop.svc.cluster.local --rate 1000 --duration-ms 2000 \
	--timeout-ms 500 --settle-ms 100 --blue 10.96.0.70 --green 10.96.0.71 \
	2>/dev/null)
note "UDP with $opened idle TCP connections: $out"
expect_match "UDP answered while they were open" '* timeout=0 *' "$out"
expect_match "UDP answers correct" '* error=0 *' "$out"
t0=$(date +%s%N)
ans=$(dig +tcp +short +tries=1 +time=2 -p "$PORT" @127.0.0.1 app.shop.svc.cluster.local A)
t1=$(date +%s%N)
expect_eq "a new TCP client is answered" 10.96.0.70 "$ans"
ms=$(((t1 - t0) / 1000000))
[ "$ms" -lt $(($(it_scale 1) * 1000)) ] ||
	fail "the new TCP client waited ${ms} ms"
# Still all open: none was evicted below the cap.
alive=0
for fd in "${fds[@]}"; do
	if [ -e "/proc/$$/fd/$fd" ]; then
		alive=$((alive + 1))
	fi
	exec {fd}>&-
done
expect_eq "connections still held" "$n" "$alive"
kill -USR1 "$DAEMON_PID"
wait_until 5 grep -qE 'tcp_accepted=[0-9]{4}' "$DAEMON_ERR" ||
	fail "the counters do not show the accepted connections"
