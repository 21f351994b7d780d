# 403-sdnotify: Type=notify readiness and the watchdog (issue: operations),
# with tests/tools/notify_listen.py standing in for systemd.
if ! command -v python3 >/dev/null; then
	fail "python3 is needed for the notification socket stand-in"
	return
fi
listen() { # SOCKET OUT: starts the stand-in, waits until it is bound
	python3 "$SVCDNS_ROOT/tests/tools/notify_listen.py" "$1" "$2" 20 \
		>"$2.listen" 2>&1 &
	LPID=$!
	wait_until 5 grep -q listening "$2.listen" || fail "the stand-in did not start"
}
notes_have() { grep -q -- "$2" "$1"; }

for sock in "@svcdns-it-403-$$" "$WORK/notify.sock"; do
	notes=$WORK/notes.$((++n))
	listen "$sock" "$notes"
	export NOTIFY_SOCKET=$sock WATCHDOG_USEC=200000
	start_daemon || exit 1
	unset NOTIFY_SOCKET WATCHDOG_USEC
	wait_until 5 notes_have "$notes" ' READY=1' || fail "$sock: no READY=1"
	expect_grep "$sock: READY=1 comes with a STATUS" ' READY=1 STATUS=serving [0-9]+ files' "$notes"
	sleep 0.5
	n_wd=$(grep -c ' WATCHDOG=1$' "$notes")
	[ "$n_wd" -ge 3 ] || fail "$sock: $n_wd WATCHDOG=1 in 0.5 s with WATCHDOG_USEC=200000 (every 100 ms expected)"
	kill -HUP "$DAEMON_PID"
	wait_until 5 notes_have "$notes" 'RELOADING=1' || fail "$sock: no RELOADING=1 on SIGHUP"
	expect_grep "$sock: RELOADING=1 carries MONOTONIC_USEC" 'RELOADING=1 MONOTONIC_USEC=[0-9]+$' "$notes"
	# READY=1 again once the reloaded data is served, not when it starts.
	wait_until 5 notes_have "$notes" ' READY=1 STATUS=serving; reloaded' ||
		fail "$sock: no READY=1 'reloaded' after the reload: $(tail -2 "$notes")"
	stop_daemon
	wait "$LPID"
	expect_grep "$sock: STOPPING=1 on SIGTERM" ' STOPPING=1$' "$notes"
done

# No NOTIFY_SOCKET: nothing is sent, nothing breaks; a WATCHDOG_PID of
# another process keeps the watchdog quiet.
start_daemon || exit 1
expect_dig frontend.shop.svc.cluster.local A
stop_daemon
