# shellcheck shell=bash
# shellcheck source=../kubelib.sh
. "$CASE_DIR/../kubelib.sh"
trap kube_stop_helpers EXIT
kube_tls_setup || fail "openssl could not make the test CA"

svc_json() { # COLOR
	cat <<J
{"kind": "Service", "apiVersion": "v1",
 "metadata": {"name": "web", "namespace": "shop",
              "annotations": {"svcdns.io/color-label": "color"}},
 "spec": {"clusterIP": "None", "selector": {"app": "web", "color": "$1"},
          "ports": [{"name": "http", "port": 80}]}}
J
}
pods_json() {
	local c n i sep=""
	printf '['
	for c in blue green; do
		[ $c = blue ] && n=1 || n=2
		for i in 1 2 3; do
			printf '%s{"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "web-%s-%d", "namespace": "shop", "labels": {"app": "web", "color": "%s"}}, "spec": {"containers": [{"name": "app", "ports": [{"name": "http", "containerPort": 80}]}]}, "status": {"phase": "Running", "podIP": "10.244.%d.%d", "conditions": [{"type": "Ready", "status": "True"}]}}' \
				"$sep" "$c" "$i" "$c" "$n" "$i"
			sep=,
		done
	done
	printf ']\n'
}
{
	printf '[{"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "shop"}},\n'
	svc_json blue
	printf ','
	pods_json | sed 's/^\[//'
} >"$WORK/objects.json"
fakeapi_start --objects "$WORK/objects.json" || exit 1
kube_kubeconfig "$WORK/kubeconfig"
start_kube_daemon --settle-ms 20 --threads 2 || return 0

wait_until 15 sh -c "[ \"\$(dig +short +norec -p $PORT @127.0.0.1 web.shop.svc.cluster.local A | sort | tr '\n' ' ')\" = '10.244.1.1 10.244.1.2 10.244.1.3 ' ]" ||
	fail "web.shop not served blue"

# The flip command must be quick (cutover_load times it): curl posts a
# prepared control request; starting python3 per flip would take longer
# than the interval.
ctl_port=$(cut -d' ' -f2 "$FAKE_PORTS")
for c in blue green; do
	svc_json "$c" | python3 -c 'import json,sys
print(json.dumps({"op": "apply", "data": sys.stdin.read()}))' >"$WORK/$c.ctl"
done
cat >"$WORK/flip.sh" <<SH
#!/bin/sh
exec curl -sf -o /dev/null --data-binary @"$WORK/\$1.ctl" http://127.0.0.1:$ctl_port/ctl
SH
chmod +x "$WORK/flip.sh"

out=$("$SVCDNS_BUILD/tests/tools/cutover_load" --server 127.0.0.1 \
	--port "$PORT" --name web.shop.svc.cluster.local --rate 1000 \
	--blue 10.244.1.1,10.244.1.2,10.244.1.3 \
	--green 10.244.2.1,10.244.2.2,10.244.2.3 --flips 40 \
	--interval-ms 200 --settle-ms 300 --timeout-ms 1000 \
	--flip-cmd "$WORK/flip.sh %s" --verbose 2>"$WORK/load.err")
rc=$?
note "cutover: $out"
[ $rc = 0 ] || { fail "cutover_load exited $rc: $out"; head -20 "$WORK/load.err"; }
expect_match "mixed" '* mixed=0 *' "$out"
expect_match "empty" '* empty=0 *' "$out"
expect_match "error" '* error=0 *' "$out"
expect_match "timeout" '* timeout=0 *' "$out"
expect_match "flips" '* flips=40 *' "$out"
expect_match "regressions" '* regressions=0 *' "$out"
stop_daemon
