# 301-tcp-session: the TCP framing and session cases of RELIABILITY.md 2.3
# (RFC 7766) run by "tests/tools/dnscases --session", on 127.0.0.1 and
# [::1]:
#   P01 zero-length frame -> closed        P06 1 octet of length -> closed
#   P02 20 pipelined queries -> 20 answers P07 length 64, 10 octets -> closed
#   P03 1 octet every 10 ms -> answered    P08 300 idle conns, new client
#   P04 silent connection -> idle close        answered within 1 s, UDP too
#   P05 idle after an answer -> idle close P09 > 1232 octets: UDP TC, TCP all
#   P10 half-close -> answered, then closed (P11 is not possible: skipped)
# The timeouts are scaled down (idle 1 s, I/O 0.5 s; the table's targets
# are 10 s and 2 s): a close must come within the configured timeout plus
# 0.5 s. P03 and P08 run against a second daemon with the default I/O
# timeout (46 octets at 10 ms need more than 0.5 s) and, so that eviction
# happens, one thread capped at 100 connections.
tool=$SVCDNS_BUILD/tests/tools/dnscases

it_session()
{
	local label=$1 out rc line
	shift
	out=$WORK/session.${label//[^a-z0-9]/_}.out
	timeout -k 2 "$(it_scale 60)" "$tool" --port "$PORT" --session \
		--timeout-multiplier "$(it_scale 1)" "$@" >"$out" 2>&1
	rc=$?
	note "$label: $(tail -1 "$out")"
	grep -E '^(ok|skip) ' "$out" | sed "s/^/  $label: /"
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
	return
fi

for addr in 127.0.0.1 ::1; do
	it_session "$addr" --server "$addr" --idle-ms 1000 --io-ms 500 \
		--only P01,P02,P04,P05,P06,P07,P09,P10,P11
done

restart_daemon --listen "[::1]:@PORT@" --tcp-max-conns 100 --threads 1
for addr in 127.0.0.1 ::1; do
	it_session "$addr cap 100" --server "$addr" --max-conns 100 \
		--threads 1 --only P03,P08
done
expect_dig web.shop.svc.cluster.local A rcode=NOERROR
