# 201-upstream-down: an upstream that is down (closed port), blackholed or
# slow gives SERVFAIL within the budget (2 s by default), never silence,
# while cluster names keep answering at full speed; above the in-flight
# cap, SERVFAIL at once (RELIABILITY.md L7, L8, U08, U09; CLUSTER-DNS 34).
# shellcheck source=../../tools/upstream.sh
. "$SVCDNS_ROOT/tests/tools/upstream.sh"

BUDGET_MS=2000

# servfail_within LABEL: one forwarded query; SERVFAIL within the budget.
servfail_within()
{
	local t0 t1 out ms
	t0=$(date +%s%N)
	out=$(up_dig www.example.test A)
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	note "$1: SERVFAIL after ${ms} ms"
	expect_match "$1: servfail" "*status: SERVFAIL*" "$out"
	expect_match "$1: ra" "*flags: qr rd ra;*" "$out"
	# The daemon answers at 95% of the budget at the latest; dig's own
	# start and exit take a few tens of milliseconds on top.
	if [ "$ms" -gt "$(it_scale $((BUDGET_MS + 100)))" ]; then
		fail "$1: answered after $ms ms, over the ${BUDGET_MS} ms budget"
	fi
}

# cluster_batch N: N cluster queries in one dig run; prints
# "<NOERROR count> <ms>".
cluster_batch()
{
	local i t0 t1 n
	for i in $(seq 1 "$1"); do
		echo "frontend.web.svc.cluster.local A"
	done >"$WORK/batch"
	t0=$(date +%s%N)
	n=$(dig -p "$PORT" @127.0.0.1 +tries=1 +time=1 -f "$WORK/batch" |
		grep -c 'status: NOERROR')
	t1=$(date +%s%N)
	echo "$n $(((t1 - t0) / 1000000))"
}

# 1. A closed port (ICMP port unreachable: c-ares does not care).
closed=$(it_pick_port)
start_daemon --upstream "127.0.0.1:$closed" --threads 1 || return
servfail_within "closed port"
# The default budget of --upstream-timeout is configurable.
restart_daemon --upstream "127.0.0.1:$closed" --threads 1 \
	--upstream-timeout 500 || return
BUDGET_MS=500 servfail_within "closed port, 500 ms budget"

# 2. A blackhole, and cluster names while 40 forwards hang on it.
up_fake_start drop
restart_daemon --upstream "127.0.0.1:$FAKE_PORT" --threads 1 || return
servfail_within "blackhole"
read -r ok0 ms0 <<<"$(cluster_batch 300)"
note "cluster names, idle: $ok0/300 NOERROR in ${ms0} ms"
pids=()
for i in $(seq 1 40); do
	up_dig "n$i.example.test" A >/dev/null &
	pids+=($!)
done
read -r ok1 ms1 <<<"$(cluster_batch 300)"
note "cluster names with 40 forwards pending: $ok1/300 NOERROR in ${ms1} ms"
wait "${pids[@]}"
expect_eq "cluster names during the blackhole" 300 "$ok1"
if [ "$ms1" -gt $((ms0 * 3 + 500)) ]; then
	fail "cluster names slowed down: ${ms1} ms against ${ms0} ms idle"
fi
# c-ares gives up first (errors), or our deadline does (timeouts).
gaveup=$(($(up_stat forward_timeouts) + $(up_stat forward_errors)))
[ "$gaveup" -ge 41 ] || fail "forwards given up: $gaveup, expected >= 41"

# 3. The in-flight cap: 3 forwards hang, the 4th gets SERVFAIL at once.
restart_daemon --upstream "127.0.0.1:$FAKE_PORT" --threads 1 \
	--upstream-max-inflight 3 || return
pids=()
for i in 1 2 3; do
	up_dig "hang$i.example.test" A >/dev/null &
	pids+=($!)
done
sleep 0.3
t0=$(date +%s%N)
out=$(up_dig over.example.test A)
ms=$((($(date +%s%N) - t0) / 1000000))
wait "${pids[@]}"
expect_match "over the cap: servfail" "*status: SERVFAIL*" "$out"
note "over the cap: SERVFAIL after ${ms} ms"
[ "$ms" -lt 500 ] || fail "over the cap: took $ms ms, expected at once"
expect_eq "forward_full" 1 "$(up_stat forward_full)"

# 4. Slow: 3 s late is too late; 300 ms is fine.
up_stop_all
up_fake_start delay 3000
restart_daemon --upstream "127.0.0.1:$FAKE_PORT" --threads 1 || return
servfail_within "slow 3 s"
up_stop_all
up_fake_start delay 300
restart_daemon --upstream "127.0.0.1:$FAKE_PORT" --threads 1 || return
out=$(up_dig www.example.test A)
expect_match "slow 300 ms: answered" "*status: NOERROR*192.0.2.1*" "$out"
# Over TCP the budget holds as well.
up_stop_all
up_fake_start drop
restart_daemon --upstream "127.0.0.1:$FAKE_PORT" --threads 1 || return
t0=$(date +%s%N)
out=$(up_dig +tcp www.example.test A)
ms=$((($(date +%s%N) - t0) / 1000000))
expect_match "blackhole over tcp: servfail" "*status: SERVFAIL*" "$out"
[ "$ms" -le "$(it_scale 2000)" ] || fail "blackhole over tcp: $ms ms"
note "blackhole over tcp: SERVFAIL after ${ms} ms"
up_stop_all
