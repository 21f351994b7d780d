# 202-spoof: answers with the wrong ID, the wrong question spelling (0x20),
# from another port, or a 0-byte datagram before the real answer are
# dropped and counted, never relayed and never cached; the real answer
# that follows still counts (RELIABILITY.md U01, U02, U03, U05, U06;
# RFC 5452). tests/tools/fakeup sends the forgery (A 6.6.6.6) first and
# the real answer (A 192.0.2.1) 100 ms later.
# shellcheck source=../../tools/upstream.sh
. "$SVCDNS_ROOT/tests/tools/upstream.sh"

# spoof_case MODE COUNTER: the forgery is counted under COUNTER.
spoof_case()
{
	local mode=$1 counter=$2 out sent
	up_stop_all
	up_fake_start "$mode"
	if [ -n "${DAEMON_PID:-}" ]; then
		restart_daemon --upstream "127.0.0.1:$FAKE_PORT" --threads 1 ||
			return 1
	else
		start_daemon --upstream "127.0.0.1:$FAKE_PORT" --threads 1 ||
			return 1
	fi
	out=$(up_dig +noall +answer www.example.test A | awk '{ print $5 }')
	expect_eq "$mode: the real answer" 192.0.2.1 "$out"
	[ "$(up_stat "$counter")" -ge 1 ] ||
		fail "$mode: $counter not counted: $(up_stats)"
	# Asked again: from the cache, still the real answer.
	sent=$(up_stat forward_sent)
	out=$(up_dig +noall +answer www.example.test A | awk '{ print $5 }')
	expect_eq "$mode: cached answer" 192.0.2.1 "$out"
	expect_eq "$mode: served from the cache" "$sent" \
		"$(up_stat forward_sent)"
	expect_eq "$mode: one query upstream" 1 "$(cat "$FAKE_COUNT")"
}

spoof_case wrong-id spoof_id
spoof_case wrong-case spoof_question
spoof_case other-port spoof_addr
spoof_case zero forward_empty

# Garbage with the right ID: dropped (question), SERVFAIL at the budget.
up_stop_all
up_fake_start garbage
restart_daemon --upstream "127.0.0.1:$FAKE_PORT" --threads 1 \
	--upstream-timeout 600 || return
out=$(up_dig www.example.test A)
expect_match "garbage: servfail" "*status: SERVFAIL*" "$out"
[ "$(up_stat spoof_question)" -ge 1 ] || fail "garbage: not counted"

# REFUSED from the upstream is relayed as it is (one rule: U06).
up_stop_all
up_fake_start refused
restart_daemon --upstream "127.0.0.1:$FAKE_PORT" --threads 1 || return
out=$(up_dig www.example.test A)
expect_match "refused relayed" "*status: REFUSED*" "$out"
expect_match "refused relayed: ra" "*flags: qr aa rd ra;*" "$out"
up_stop_all
