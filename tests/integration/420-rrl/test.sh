# 420-rrl: response rate limiting (RELIABILITY.md 4, L12). svcdns runs in a
# network namespace on 10.77.0.1; a client in a second namespace
# (10.77.0.2, joined by a veth pair) sends one name at 400 queries/s for 2 s
# with --rrl-rate 20 --rrl-slip 2: most answers are limited, about half of
# those come back truncated (TC=1, for a TCP retry), the rest are dropped,
# and the counters say so. The same flood from the server's own loopback is
# never limited, nor one from an --rrl-exempt network. Skipped (with the
# reason) only where network namespaces cannot be made.
SRV=svcdns-rrl-s-$$
CLI=svcdns-rrl-c-$$
tool=$SVCDNS_BUILD/tests/tools/cutover_load
it_netns_add "$SRV" || return 0
RRL_PID=
rrl_cleanup()
{
	if [ -n "$RRL_PID" ]; then
		kill -TERM "$RRL_PID" 2>/dev/null
		wait "$RRL_PID" 2>/dev/null
		RRL_PID=
	fi
	ip netns del "$CLI" 2>/dev/null
	ip netns del "$SRV" 2>/dev/null
}
in_ns() # NS CMD...
{
	it_netns_exec "$@"
}
if ! ip netns add "$CLI" ||
	! ip link add "rrl$$a" type veth peer name "rrl$$b" ||
	! ip link set "rrl$$a" netns "$SRV" ||
	! ip link set "rrl$$b" netns "$CLI"; then
	it_skip "cannot make the veth pair"
	rrl_cleanup
	return 0
fi
in_ns "$CLI" ip link set lo up
in_ns "$SRV" ip addr add 10.77.0.1/24 dev "rrl$$a"
in_ns "$CLI" ip addr add 10.77.0.2/24 dev "rrl$$b"
in_ns "$SRV" ip link set "rrl$$a" up
in_ns "$CLI" ip link set "rrl$$b" up

# rrl_start ARGS...: svcdns in the server namespace on 10.77.0.1:5353 and
# 127.0.0.1:5353, answering once it is up.
rrl_start()
{
	local i
	RRL_ERR=$WORK/rrl.$RANDOM.err
	ip netns exec "$SRV" "$SVCDNS_BUILD/svcdns" --zones "$ZONES" \
		--listen 10.77.0.1:5353 --listen 127.0.0.1:5353 --upstream none \
		--http none --user "$(id -un)" --threads 1 "$@" \
		2>"$RRL_ERR" </dev/null &
	RRL_PID=$!
	echo "$RRL_PID" >>"$WORK/daemon.pids"
	for i in $(seq 1 $(($(it_scale 10) * 10))); do
		if in_ns "$CLI" dig +short +tries=1 +time=1 -p 5353 @10.77.0.1 \
			app.shop.svc.cluster.local A 2>/dev/null | grep -q 10.96.0.70; then
			return 0
		fi
		sleep 0.1
	done
	fail "svcdns did not answer in the namespace: $(tail -3 "$RRL_ERR" | tr '\n' ' ')"
	return 1
}
rrl_stop()
{
	kill -TERM "$RRL_PID" 2>/dev/null
	wait "$RRL_PID" 2>/dev/null
	RRL_PID=
}
# flood NS SERVER: 400 q/s for 2 s of one name; prints the summary line.
flood()
{
	in_ns "$1" "$tool" --server "$2" --port 5353 \
		--name app.shop.svc.cluster.local --rate 400 --duration-ms 2000 \
		--timeout-ms 300 --settle-ms 100 --allow-tc \
		--blue 10.96.0.70 --green 10.96.0.71 2>/dev/null
}
field() # LINE KEY
{
	sed -n "s/.* $2=\([0-9]*\).*/\1/p" <<<"$1"
}

rrl_start --rrl-rate 20 --rrl-slip 2 || {
	rrl_cleanup
	return
}
out=$(flood "$CLI" 10.77.0.1)
note "from 10.77.0.2: $out"
sent=$(field "$out" sent)
blue=$(field "$out" blue)
tc=$(field "$out" truncated)
lost=$(field "$out" timeout)
# 2 s at 20 a second plus the burst: far fewer than the 800 sent.
[ "${sent:-0}" -ge 600 ] || fail "the flood sent only ${sent:-0} queries"
[ "${blue:-0}" -ge 20 ] && [ "${blue:-0}" -le 200 ] ||
	fail "answered in full: ${blue:-0}, expected the rate (20/s) plus a burst"
[ "${tc:-0}" -ge 100 ] || fail "truncated (slipped): ${tc:-0}, expected about half the limited ones"
[ "${lost:-0}" -ge 100 ] || fail "dropped: ${lost:-0}, expected about half the limited ones"
kill -USR1 "$RRL_PID"
wait_until 5 grep -qE 'rrl_dropped=[1-9]' "$RRL_ERR" ||
	fail "the counters do not show rrl_dropped: $(grep -o 'rrl_[a-z]*=[0-9]*' "$RRL_ERR" | tr '\n' ' ')"
# Loopback is exempt: the same flood inside the server namespace.
out=$(flood "$SRV" 127.0.0.1)
note "from loopback: $out"
[ "$(field "$out" truncated)" = 0 ] && [ "$(field "$out" timeout)" = 0 ] ||
	fail "loopback was rate limited: $out"
rrl_stop

# An exempt network, and log-only mode: nothing limited either.
rrl_start --rrl-rate 20 --rrl-exempt 10.77.0.0/24 || {
	rrl_cleanup
	return
}
out=$(flood "$CLI" 10.77.0.1)
note "exempt: $out"
[ "$(field "$out" truncated)" = 0 ] && [ "$(field "$out" timeout)" = 0 ] ||
	fail "an --rrl-exempt network was limited: $out"
rrl_stop
rrl_start --rrl-rate 20 --rrl-log-only || {
	rrl_cleanup
	return
}
out=$(flood "$CLI" 10.77.0.1)
note "log-only: $out"
[ "$(field "$out" truncated)" = 0 ] && [ "$(field "$out" timeout)" = 0 ] ||
	fail "--rrl-log-only limited: $out"
rrl_cleanup
