# 130-check-bad: compiler-style diagnostics (STYLE 3.5) from --check, and a
# bad file next to a good one (CLUSTER-DNS row 40: a bad file is rejected
# whole, the others are served).

# --check on a directory with bad files: file:line:col: error: lines, and
# exit status 1.
run_svcdns --check --zones "$ZONES"
expect_eq "--check with bad files: exit status" 1 "$RUN_RC"
expect_grep "--check: bad.yaml port out of range" \
	'(^|/)bad\.yaml:28:(5|11): error: .*70000' "$RUN_OUT" "$RUN_ERR"
expect_grep "--check: syntax.yaml YAML error" \
	'(^|/)syntax\.yaml:7:[0-9]+: error: ' "$RUN_OUT" "$RUN_ERR"
# Every diagnostic has the file:line:col: severity: form.
bad=$(cat "$RUN_OUT" "$RUN_ERR" | grep -E 'error:' |
	grep -vE '^[^ :]+:[0-9]+:[0-9]+: error: .+' | grep -vE '^check: ')
expect_eq "--check: every error line is file:line:col: error: msg" "" "$bad"
if cat "$RUN_OUT" "$RUN_ERR" | grep -qE '(^|/)good\.yaml:[0-9]+:[0-9]+: error'; then
	fail "--check reported an error in good.yaml"
fi

# --check on the example cluster: no errors, exit status 0.
mkdir -p "$WORK/top"
cp -a "$SVCDNS_ROOT/zones/." "$WORK/top/"
run_svcdns --check --zones "$WORK/top"
expect_eq "--check zones/: exit status" 0 "$RUN_RC"
if cat "$RUN_OUT" "$RUN_ERR" | grep -qE ':[0-9]+:[0-9]+: error: '; then
	fail "--check zones/ printed errors: $(grep -hE ': error: ' "$RUN_OUT" "$RUN_ERR" | head -3)"
fi

# --check on a directory that does not exist: an error, not a crash.
run_svcdns --check --zones "$WORK/nonexistent"
expect_match "--check on a missing directory fails" "[12]" "$RUN_RC"

# The daemon: the good file is served, the bad files are not (not even
# their valid objects), and their diagnostics are logged.
start_daemon
expect_dig good.shop.svc.cluster.local A file=good.A
expect_dig broken.shop.svc.cluster.local A rcode=NXDOMAIN file=nxdomain
expect_dig badport.shop.svc.cluster.local A rcode=NXDOMAIN file=nxdomain
expect_dig syntax.shop.svc.cluster.local A rcode=NXDOMAIN file=nxdomain
expect_grep "daemon logs the bad.yaml diagnostic" 'bad\.yaml:28:(5|11):' "$DAEMON_ERR"
expect_grep "daemon logs the syntax.yaml diagnostic" 'syntax\.yaml:7:' "$DAEMON_ERR"
