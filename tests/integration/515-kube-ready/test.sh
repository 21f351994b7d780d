# shellcheck shell=bash
# shellcheck source=../kubelib.sh
. "$CASE_DIR/../kubelib.sh"
trap kube_stop_helpers EXIT
command -v curl >/dev/null || fail "curl is not installed"
kube_tls_setup || fail "openssl could not make the test CA"
fakeapi_start --objects "$CASE_DIR/../510-kube-dig/objects.json" || exit 1
fakeapi_ctl fail 1000000
kube_kubeconfig "$WORK/kubeconfig"
HP=$(it_pick_port) || fail "no free port for --http"
start_kube_daemon --settle-ms 20 --http "127.0.0.1:$HP" || return 0

ready_code() { curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HP/ready" 2>/dev/null; }
wait_until 10 sh -c "[ \"\$(curl -s -m 1 -o /dev/null -w '%{http_code}' http://127.0.0.1:$HP/health)\" = 200 ]" ||
	fail "/health never answered"
# The API keeps failing: not synced.
wait_until 10 sh -c "curl -s -m 1 http://127.0.0.1:$HP/metrics | grep -q '^svcdns_kube_errors_total [1-9]'" ||
	fail "no failed API request counted"
expect_eq "/ready before the sync" 503 "$(ready_code)"
expect_dig web.shop.svc.cluster.local A rcode=SERVFAIL flags=qr
expect_dig nothing.shop.svc.cluster.local A rcode=SERVFAIL flags=qr
curl -s -m 2 "http://127.0.0.1:$HP/metrics" >"$WORK/metrics.before"
grep -qx 'svcdns_kube_synced 0' "$WORK/metrics.before" ||
	fail "metrics before the sync: $(grep kube "$WORK/metrics.before" | head -3)"

# The API server recovers: the back-off retries, the sync completes.
fakeapi_ctl fail 0
wait_until 40 sh -c "[ \"\$(curl -s -m 1 -o /dev/null -w '%{http_code}' http://127.0.0.1:$HP/ready)\" = 200 ]" ||
	fail "/ready still $(ready_code) after the API server recovered"
expect_dig web.shop.svc.cluster.local A
expect_eq "web.shop" "10.96.0.10" "$(dig +short +norec -p "$PORT" @127.0.0.1 web.shop.svc.cluster.local A)"
expect_dig nothing.shop.svc.cluster.local A rcode=NXDOMAIN
curl -s -m 2 "http://127.0.0.1:$HP/metrics" >"$WORK/metrics.after"
grep -qx 'svcdns_kube_synced 1' "$WORK/metrics.after" ||
	fail "metrics after the sync: $(grep kube_synced "$WORK/metrics.after")"
grep -q '^svcdns_kube_watches_connected [1-9]' "$WORK/metrics.after" ||
	fail "no watch connected: $(grep kube_watches "$WORK/metrics.after")"
grep -q 'main: ready' "$DAEMON_ERR" || fail "no 'main: ready' log line"
stop_daemon
