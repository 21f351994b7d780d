# 303-lame-duck: on SIGTERM svcdns stops taking queries but answers those it
# has already received: a forwarded query waiting 600 ms for a slow
# upstream (UDP and TCP) still gets its answer after the signal, and the
# daemon exits 0 within the lame-duck time. With --lame-duck 0 it stops at
# once (the owed answer is lost, as asked).
fake=$SVCDNS_BUILD/tests/tools/fakeup
up=$(it_pick_port)
"$fake" "$up" delay 600 --lifetime 50 >"$WORK/fakeup.out" 2>&1 &
fpid=$!
echo "$fpid" >>"$WORK/daemon.pids"
wait_until 5 sh -c "ss -Hlun 'sport = :$up' | grep -q ." || fail "fakeup did not start"
ext=www.example.test

start_daemon --upstream "127.0.0.1:$up" --allow-recursion 127.0.0.0/8 \
	--lame-duck 3000
for tcp in "" +tcp; do
	dig $tcp +tries=1 +time=5 -p "$PORT" @127.0.0.1 "$ext" A \
		>"$WORK/owed$tcp.out" 2>&1 &
	dpid=$!
	sleep 0.2 # the query is in flight upstream (600 ms)
	t0=$(date +%s%N)
	kill -TERM "$DAEMON_PID"
	wait "$dpid"
	expect_grep "owed answer$tcp after SIGTERM" 'status: NOERROR' "$WORK/owed$tcp.out"
	expect_grep "owed answer$tcp has the record" '192\.0\.2\.1' "$WORK/owed$tcp.out"
	wait "$DAEMON_PID"
	rc=$?
	DAEMON_PID=
	t1=$(date +%s%N)
	expect_eq "exit status$tcp" 0 "$rc"
	ms=$(((t1 - t0) / 1000000))
	[ "$ms" -lt 3500 ] || fail "stopping took ${ms} ms, over the lame duck"
	expect_grep "stop logged$tcp" 'SIGTERM' "$DAEMON_ERR"
	[ -n "$tcp" ] || start_daemon --upstream "127.0.0.1:$up" \
		--allow-recursion 127.0.0.0/8 --lame-duck 3000
done
# No lame duck: the owed answer is not sent.
start_daemon --upstream "127.0.0.1:$up" --allow-recursion 127.0.0.0/8 \
	--lame-duck 0
dig +tries=1 +time=2 -p "$PORT" @127.0.0.1 "$ext" A >"$WORK/nolame.out" 2>&1 &
dpid=$!
sleep 0.2
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"
expect_eq "exit status without lame duck" 0 "$?"
DAEMON_PID=
wait "$dpid"
if grep -q 'status: NOERROR' "$WORK/nolame.out"; then
	fail "--lame-duck 0 still answered after SIGTERM"
fi
kill -TERM "$fpid" 2>/dev/null
