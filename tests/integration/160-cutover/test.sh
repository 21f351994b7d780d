# 160-cutover: clients that resolve a blue/green service by name follow the
# active color with no mixed, empty or failed answer and no timeout, while
# the color flips 200 times at 2,000 queries/s (issue: live updates and safe
# cutover; DESIGN.md "Blue/green cutover"). Two ways of flipping:
#  1. the Service is re-pointed (selector color) and its EndpointSlice is
#     rewritten, in two files, each replaced by rename;
#  2. the color file named by svcdns.io/color-file is rewritten.
s=shop.svc.cluster.local
tool=$SVCDNS_BUILD/tests/tools/cutover_load
state=$ZONES/../state
mkdir -p "$state"
printf 'color: blue\n' >"$state/api-color.yaml"

# Writes the Service web and its EndpointSlice for color $1, each file
# written aside and renamed into place (what kubectl apply + the
# EndpointSlice controller amount to for a directory of manifests).
cat >"$WORK/flip-web.sh" <<SH
#!/usr/bin/env bash
set -e
c=\$1
case \$c in blue) n=1 ;; green) n=2 ;; *) exit 2 ;; esac
cat >"$ZONES/.web.yaml.tmp" <<YAML
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  annotations: {svcdns.io/color-label: color}
spec:
  clusterIP: None
  selector: {app: web, color: \$c}
  ports: [{name: http, port: 80}]
YAML
mv "$ZONES/.web.yaml.tmp" "$ZONES/web.yaml"
cat >"$ZONES/.web-slice.yaml.tmp" <<YAML
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abcde
  namespace: shop
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
endpoints:
- addresses: [10.244.\$n.1]
- addresses: [10.244.\$n.2]
- addresses: [10.244.\$n.3]
ports: [{name: http, port: 80, protocol: TCP}]
YAML
mv "$ZONES/.web-slice.yaml.tmp" "$ZONES/web-slice.yaml"
SH
cat >"$WORK/flip-api.sh" <<SH
#!/usr/bin/env bash
set -e
printf 'color: %s\n' "\$1" >"$state/.api-color.yaml.tmp"
mv "$state/.api-color.yaml.tmp" "$state/api-color.yaml"
SH
chmod +x "$WORK/flip-web.sh" "$WORK/flip-api.sh"

"$WORK/flip-web.sh" blue
# The daemon started before web.yaml existed, and before the color file:
# wait for both to be served.
wait_until 10 sh -c "[ \"\$(dig +short +norec -p $PORT @127.0.0.1 web.$s A | sort | tr '\n' ' ')\" = '10.244.1.1 10.244.1.2 10.244.1.3 ' ]" ||
	fail "web.$s not served blue after writing its files"
kill -HUP "$DAEMON_PID" # the color file's directory did not exist at start
wait_until 10 sh -c "[ \"\$(dig +short +norec -p $PORT @127.0.0.1 api.$s A | sort | tr '\n' ' ')\" = '10.244.3.1 10.244.3.2 ' ]" ||
	fail "api.$s not served blue"

run_load() { # NAME BLUE GREEN FLIPCMD LABEL
	local out rc
	out=$("$tool" --server 127.0.0.1 --port "$PORT" --name "$1" \
		--rate 2000 --blue "$2" --green "$3" --flips 200 \
		--interval-ms 150 --settle-ms 300 --timeout-ms 1000 \
		--flip-cmd "$4 %s" --verbose 2>"$WORK/$5.err")
	rc=$?
	note "$5: $out"
	if [ $rc != 0 ]; then
		fail "$5: cutover_load exited $rc: $out"
		sed 's/^/  /' "$WORK/$5.err" | head -20
	fi
	expect_match "$5 mixed" '* mixed=0 *' "$out"
	expect_match "$5 empty" '* empty=0 *' "$out"
	expect_match "$5 error" '* error=0 *' "$out"
	expect_match "$5 timeout" '* timeout=0 *' "$out"
	expect_match "$5 regressions" '* regressions=0 *' "$out"
	expect_match "$5 flips" '* flips=200 *' "$out"
	[[ $out =~ \ qps=(199[0-9]|20[0-9][0-9])\. ]] ||
		fail "$5: not at 2,000 queries/s: $out"
}

run_load "web.$s" 10.244.1.1,10.244.1.2,10.244.1.3 \
	10.244.2.1,10.244.2.2,10.244.2.3 "$WORK/flip-web.sh" selector
run_load "api.$s" 10.244.3.1,10.244.3.2 10.244.4.1,10.244.4.2 \
	"$WORK/flip-api.sh" color-file

# Every cutover was logged with its lag.
n=$(grep -c 'bluegreen: cutover svc=shop/web' "$DAEMON_ERR")
[ "$n" -ge 200 ] || fail "expected >= 200 logged cutovers of shop/web, got $n"
n=$(grep -c 'bluegreen: cutover svc=shop/api' "$DAEMON_ERR")
[ "$n" -ge 200 ] || fail "expected >= 200 logged cutovers of shop/api, got $n"
