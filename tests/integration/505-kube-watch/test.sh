# shellcheck shell=bash
# shellcheck source=../kubelib.sh
. "$CASE_DIR/../kubelib.sh"
trap kube_stop_helpers EXIT
kube_tls_setup || fail "openssl could not make the test CA"
fakeapi_start --objects "$CASE_DIR/objects.json" --gen-services 1200 \
	--bookmark-ms 0 || exit 1
kube_kubeconfig "$WORK/kubeconfig"
probe_start --kubeconfig "$WORK/kubeconfig" --pods auto

svc='Service shop/web ips=10.96.0.10 selector=app=web'
wait_until 15 dump_has "$svc" || fail "first sync: $svc not seen"
expect_eq "synced" 1 "$(stat_of synced)"
dump_has 'EndpointSlice shop/web-abc svc=web eps=10.1.0.1,10.1.0.2!' ||
	fail "first sync: the slice"
# 1,203 services: three LIST pages of 500.
wait_until 5 sh -c "grep -c '^Service ' '$WORK/dump' | grep -qx 1202" ||
	fail "services listed: $(grep -c '^Service ' "$WORK/dump")"
expect_eq "service lists" 3 "$(fakeapi_stat lists.services)"

# Added, modified, deleted through the watch.
cat >"$WORK/api.json" <<'J'
{"kind": "Service", "apiVersion": "v1",
 "metadata": {"name": "api", "namespace": "shop"},
 "spec": {"clusterIP": "10.96.0.11", "ports": [{"port": 8080}]}}
J
fakeapi_ctl apply "$WORK/api.json"
wait_until 5 dump_has 'Service shop/api ips=10.96.0.11 selector=' ||
	fail "added service not seen"
sed 's/10.96.0.11/10.96.0.12/' "$WORK/api.json" >"$WORK/api2.json"
fakeapi_ctl apply "$WORK/api2.json"
wait_until 5 dump_has 'Service shop/api ips=10.96.0.12 selector=' ||
	fail "modified service not seen"
dump_lacks 'Service shop/api ips=10.96.0.11 selector=' ||
	fail "old version of the modified service still there"
fakeapi_ctl delete Service shop api
wait_until 5 sh -c "! grep -q '^Service shop/api ' '$WORK/dump'" ||
	fail "deleted service still there"

# Bookmarks are counted (and move the resourceVersion on).
fakeapi_ctl bookmark
wait_until 5 sh -c "grep -q 'bookmarks=[1-9]' '$WORK/stats'" ||
	fail "no bookmark counted: $(cat "$WORK/stats")"

# A dropped connection: the watch resumes from the last resourceVersion,
# with no new LIST, and sees what changed meanwhile.
lists_before=$(fakeapi_stat lists.services)
fakeapi_ctl drop
fakeapi_ctl apply "$WORK/api.json"
wait_until 10 dump_has 'Service shop/api ips=10.96.0.11 selector=' ||
	fail "change after a dropped connection not seen"
expect_eq "no re-list after a drop" "$lists_before" \
	"$(fakeapi_stat lists.services)"

# 410 Gone as an ERROR event: a re-list, and a deletion that happened
# while the history was lost is still seen (the re-list replaces all).
fakeapi_ctl gone
fakeapi_ctl delete Service shop api
wait_until 10 sh -c "! grep -q '^Service shop/api ' '$WORK/dump'" ||
	fail "after 410 (event): deleted service still there"
wait_until 5 sh -c "grep -q 'relists=[1-9]' '$WORK/stats'" ||
	fail "410 (event) did not re-list: $(cat "$WORK/stats")"
dump_has "$svc" || fail "after 410 (event): $svc lost"

# 410 as an HTTP status on the resumed watch, after a drop.
r=$(stat_of relists)
fakeapi_ctl gone-status
fakeapi_ctl drop
fakeapi_ctl apply "$WORK/api2.json"
wait_until 10 dump_has 'Service shop/api ips=10.96.0.12 selector=' ||
	fail "after 410 (status): change not seen"
wait_until 5 sh -c "[ \$(tr ' ' '\n' <'$WORK/stats' | sed -n 's/^relists=//p') -gt $r ]" ||
	fail "410 (status) did not re-list"

# A slow stream: every event arrives in three pieces.
fakeapi_ctl slow 100
fakeapi_ctl apply "$WORK/api.json"
wait_until 10 dump_has 'Service shop/api ips=10.96.0.11 selector=' ||
	fail "slow stream: change not seen"
fakeapi_ctl slow 0

# Server errors: back-off, then recovery.
fakeapi_ctl fail 3
fakeapi_ctl drop
fakeapi_ctl apply "$WORK/api2.json"
wait_until 15 dump_has 'Service shop/api ips=10.96.0.12 selector=' ||
	fail "no recovery after HTTP 500s"
wait_until 5 sh -c "grep -q 'errors=[1-9]' '$WORK/stats'" ||
	fail "errors not counted"

# Not hammered: one connection per resource type plus the reconnects
# above (2 drops, 410s, 3 failures), and the pod watch never started
# (no blue/green service).
conns=$(fakeapi_stat connections)
[ "$conns" -le 24 ] || fail "too many connections: $conns"
expect_eq "pods never listed" 0 "$(fakeapi_stat lists.pods)"
kill "$PROBE_PID"
wait "$PROBE_PID"
expect_eq "probe exit status" 0 "$?"
it_check_sanitizers "$WORK/probe.err" "kube_probe"

# Filters: --namespaces (client-side) and --labels (server-side).
rm -f "$WORK/dump" "$WORK/stats"
probe_start --kubeconfig "$WORK/kubeconfig" --pods never \
	--namespaces shop --labels expose=yes
wait_until 15 test -s "$WORK/dump" || fail "filtered probe: no dump"
expect_eq "filtered objects" "EndpointSlice shop/web-abc svc=web eps=10.1.0.1,10.1.0.2!
Namespace shop
$svc" "$(cat "$WORK/dump")"
kill "$PROBE_PID"
wait "$PROBE_PID"
it_check_sanitizers "$WORK/probe.err" "kube_probe (filtered)"

# A watch that goes silent (a half-open connection, a proxy that lost the
# server; no bookmarks here) is dropped after --watch-silent-s and resumed
# from its resourceVersion on a new connection, with no re-list: what
# changed meanwhile is seen. Without the limit it would wait for the
# watch's time limit, minutes.
rm -f "$WORK/dump" "$WORK/stats"
probe_start --kubeconfig "$WORK/kubeconfig" --pods never --watch-silent-s 2
wait_until 15 dump_has "$svc" || fail "silence probe: first sync"
wait_until 5 sh -c "grep -q 'connected=3' '$WORK/stats'" ||
	fail "silence probe: watches not open: $(cat "$WORK/stats")"
lists_before=$(fakeapi_stat lists.services)
dump_has 'Service shop/api ips=10.96.0.12 selector=' ||
	fail "silence probe: shop/api not as the last change left it"
fakeapi_ctl wedge
fakeapi_ctl apply "$WORK/api.json"
wait_until 12 dump_has 'Service shop/api ips=10.96.0.11 selector=' ||
	fail "change behind a silent watch not seen: $(cat "$WORK/stats")"
wait_until 5 sh -c "grep -q 'silent=[1-9]' '$WORK/stats'" ||
	fail "silence not counted: $(cat "$WORK/stats")"
expect_grep "silence logged" 'services watch: nothing received for 2 s' "$WORK/probe.err"
expect_eq "no re-list after a silence" "$lists_before" \
	"$(fakeapi_stat lists.services)"
if grep -q 'watch failed' "$WORK/probe.err"; then
	fail "a silence reported as a failure: $(grep -m1 'watch failed' "$WORK/probe.err")"
fi
kill "$PROBE_PID"
wait "$PROBE_PID"
it_check_sanitizers "$WORK/probe.err" "kube_probe (silence)"
