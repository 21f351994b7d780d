# 402-config: the configuration file (issue: operations).
conf=$WORK/svcdns.yaml
HP=$(it_pick_port) || fail "no free port for HTTP"
cat >"$conf" <<YAML
# svcdns configuration for 402-config
zones: $ZONES
domain: [cluster.local]
ttl: 30
pods: insecure
http: "127.0.0.1:$HP"
log-level: info
threads: 1
upstream: none
YAML

# ---- --check --config -----------------------------------------------------
run_svcdns --check --config "$conf"
expect_eq "--check --config good: exit status" 0 "$RUN_RC"
expect_grep "--check --config good: summary" "^check: ok dir=$ZONES .* config=$conf\$" "$RUN_OUT"

bad=$WORK/bad.yaml
printf 'zones: %s\nttl: 9999\nlisten: [127.0.0.1:53, nowhere]\ncolour: blue\nttl: 5\n' "$ZONES" >"$bad"
run_svcdns --check --config "$bad"
expect_eq "--check --config bad: exit status" 1 "$RUN_RC"
expect_grep "bad: ttl out of range" "^$bad:2:6: error: ttl: '9999' is not a number in 0\.\.3600\$" "$RUN_ERR"
expect_grep "bad: listen item" "^$bad:3:24: error: listen: 'nowhere' is not ADDR:PORT" "$RUN_ERR"
expect_grep "bad: unknown key" "^$bad:4:1: error: unknown key 'colour'\$" "$RUN_ERR"
expect_grep "bad: repeated key" "^$bad:5:1: error: 'ttl' is given twice \(first at line 2\)\$" "$RUN_ERR"
expect_grep "bad: summary" "^check: failed config=$bad errors=4\$" "$RUN_OUT"
printf 'zones: [a\n' >"$WORK/syntax.yaml"
run_svcdns --check --config "$WORK/syntax.yaml"
expect_eq "--check --config syntax error: exit status" 1 "$RUN_RC"
expect_grep "syntax error: position" "^$WORK/syntax.yaml:2:1: error: " "$RUN_ERR"
# Serving with a bad file: status 2, as a bad command line (systemd's
# RestartPreventExitStatus=2 does not loop on it).
run_svcdns --config "$bad" --listen "127.0.0.1:$(it_pick_port)"
expect_eq "serve with a bad file: exit status" 2 "$RUN_RC"
run_svcdns --config "$WORK/missing.yaml"
expect_eq "serve with a missing file: exit status" 2 "$RUN_RC"
expect_grep "missing file: the reason" "cannot read $WORK/missing.yaml: No such file or directory" "$RUN_ERR"

# ---- serving from the file; the command line wins -------------------------
# By hand first: start_daemon's own --http none would win over the file.
"$SVCDNS_BUILD/svcdns" --config "$conf" --listen "127.0.0.1:$(it_pick_port)" --user "$(id -un)" \
	>"$WORK/byhand.out" 2>"$WORK/byhand.err" </dev/null &
byhand=$!
echo "$byhand" >>"$WORK/daemon.pids"
wait_until 10 sh -c "[ \"\$(curl -s -m 1 -o /dev/null -w '%{http_code}' http://127.0.0.1:$HP/ready)\" = 200 ]" ||
	fail "http from the file: /ready on 127.0.0.1:$HP does not say 200"
kill -TERM "$byhand"
wait "$byhand"
expect_eq "by hand: exit status" 0 "$?"
start_daemon --config "$conf" || exit 1
ttl=$(dig +norec +noall +answer -p "$PORT" @127.0.0.1 frontend.shop.svc.cluster.local A | awk '{ print $2 }')
expect_eq "ttl from the file" 30 "$ttl"
expect_eq "pods insecure from the file" 10.9.9.9 \
	"$(dig +short +norec -p "$PORT" @127.0.0.1 10-9-9-9.shop.pod.cluster.local A)"
stop_daemon
start_daemon --config "$conf" --ttl 7 --http none || exit 1
ttl=$(dig +norec +noall +answer -p "$PORT" @127.0.0.1 frontend.shop.svc.cluster.local A | awk '{ print $2 }')
expect_eq "ttl from the command line" 7 "$ttl"
expect_eq "--http none from the command line" 000 \
	"$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HP/ready")"
stop_daemon

# ---- SIGHUP re-reads the file ---------------------------------------------
start_daemon --config "$conf" --http "127.0.0.1:$HP" || exit 1
sed -i 's/^log-level: info/log-level: debug/; s/^ttl: 30/ttl: 60/' "$conf"
kill -HUP "$DAEMON_PID"
wait_until 10 grep -q 'main: config reloaded' "$DAEMON_ERR" ||
	fail "no 'config reloaded' after SIGHUP"
expect_grep "log-level applies at once" 'main: config log-level changed' "$DAEMON_ERR"
expect_grep "ttl needs a restart" "main: config ttl changed in $conf; restart svcdns to apply it" "$DAEMON_ERR"
ttl=$(dig +norec +noall +answer -p "$PORT" @127.0.0.1 frontend.shop.svc.cluster.local A | awk '{ print $2 }')
expect_eq "ttl keeps its running value" 30 "$ttl"
printf 'colour: [\n' >>"$conf"
kill -HUP "$DAEMON_PID"
wait_until 10 grep -q 'main: config reload failed' "$DAEMON_ERR" ||
	fail "no 'config reload failed' after SIGHUP with a broken file"
expect_grep "the broken file's error is logged with its place" "error .*$conf:[0-9]+:[0-9]+: error: " "$DAEMON_ERR"
expect_eq "still serving after a broken file" 200 \
	"$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HP/health")"
expect_dig frontend.shop.svc.cluster.local A
