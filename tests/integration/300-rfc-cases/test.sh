# 300-rfc-cases: the case table of RELIABILITY.md 2.2 (the 93 UDP cases
# plus T02t, T15a, T17b and T17c) run by tests/tools/dnscases against the
# daemon over UDP and TCP, on 127.0.0.1 and [::1]. Each case's query bytes
# and expected response live in the tool's table; the fixture in zones/
# holds the names it asks for. Every "FAIL ID: expected ..., got ..." line
# of the tool is a failure of this case. Skipped: S01 (TSIG), T15a
# (forwarding), and T02t over UDP (a TCP-only row). When the daemon can
# forward, case.conf points its upstream at SINK_PORT and allows nobody to
# recurse; dnscases listens there and fails any case that reaches it.
tool=$SVCDNS_BUILD/tests/tools/dnscases

# it_dnscases LABEL ARGS...: runs the tool (bounded), prints its summary
# and skips, and turns each FAIL line into a failure of the case.
it_dnscases()
{
	local label=$1 out rc line
	shift
	out=$WORK/dnscases.${label//[^a-z0-9]/_}.out
	timeout -k 2 "$(it_scale 120)" "$tool" --port "$PORT" \
		--timeout-multiplier "$(it_scale 1)" \
		${SINK_PORT:+--upstream-sink "$SINK_PORT"} "$@" >"$out" 2>&1
	rc=$?
	note "$label: $(tail -1 "$out")"
	grep '^skip ' "$out" | sed "s/^/  $label: /"
	it_check_sanitizers "$out" "dnscases $label"
	while IFS= read -r line; do
		fail "$label: ${line#FAIL }"
	done < <(grep '^FAIL ' "$out")
	if [ "$rc" != 0 ] && ! grep -q '^FAIL ' "$out"; then
		fail "$label: dnscases exited with status $rc: $(tail -3 "$out" | tr '\n' ' ')"
	fi
}

if [ ! -x "$tool" ]; then
	fail "$tool not built (make tools)"
else
	for addr in 127.0.0.1 ::1; do
		it_dnscases "udp $addr" --server "$addr"
		it_dnscases "tcp $addr" --server "$addr" --tcp
	done
fi

# After all of it the daemon still answers.
expect_dig web.shop.svc.cluster.local A rcode=NOERROR
