# 165-bluegreen-guard: the users' flow step by step, checked with dig at
# each step. The idle color is deleted and re-created, its Pods are not
# ready yet, the Service is re-pointed anyway: the readiness guard holds the
# old color (never an empty answer), logs why, and cuts over the moment
# enough Pods are ready. Preview names reach each color by name.
s=shop.svc.cluster.local
blue='10.244.1.1 10.244.1.2 10.244.1.3'
green='10.244.2.1 10.244.2.2 10.244.2.3'

addrs() { # NAME -> sorted addresses on one line, or the rcode
	local out
	out=$(it_dig "$1" A)
	if ! grep -q 'status: NOERROR' <<<"$out"; then
		sed -n 's/.*status: \([A-Z]*\).*/\1/p' <<<"$out"
		return
	fi
	dig_answers "$1" A | awk '{print $5}' | sort | tr '\n' ' ' | sed 's/ $//'
}
is() { [ "$(addrs "$1")" = "$2" ]; }

green_pods() { # READY(True|False) for pod 0 1 2
	local i r
	: >"$ZONES/.green.tmp"
	for i in 0 1 2; do
		r=${1:-True}
		[ "$i" -lt "${2:-3}" ] || r=False
		cat >>"$ZONES/.green.tmp" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: web-green-$i
  namespace: shop
  labels: {app: web, color: green}
spec:
  containers: [{name: web, image: example/web:2}]
status:
  phase: Running
  podIP: 10.244.2.$((i + 1))
  conditions: [{type: Ready, status: "$r"}]
---
YAML
	done
	mv "$ZONES/.green.tmp" "$ZONES/pods-web-green.yaml"
}
point() { # COLOR
	sed "s/color: blue}/color: $1}/; s/color: green}/color: $1}/" \
		"$ZONES/web.yaml" >"$ZONES/.web.tmp"
	mv "$ZONES/.web.tmp" "$ZONES/web.yaml"
}

expect_eq "start: blue serves" "$blue" "$(addrs web.$s)"
expect_eq "no green yet: preview NXDOMAIN" NXDOMAIN "$(addrs green.web.$s)"
expect_eq "blue preview" "$blue" "$(addrs blue.web.$s)"

# 1. Deploy green; its Pods start not ready.
green_pods False
wait_until 5 is green.web.$s NXDOMAIN ||
	fail "preview of a color with no ready pod should be NXDOMAIN"
# 2. Re-point the Service to green before it is ready: held.
point green
wait_until 5 grep -q 'cutover held svc=shop/web serving=blue desired=green ready=0 min_ready=2' "$DAEMON_ERR" ||
	fail "the held cutover was not logged"
expect_eq "held: still blue" "$blue" "$(addrs web.$s)"
# 3. One green pod ready: below min-ready 2, still held.
green_pods True 1
wait_until 5 is green.web.$s 10.244.2.1 || fail "green preview with 1 ready pod"
expect_eq "1 of 2 ready: still blue" "$blue" "$(addrs web.$s)"
# 4. Two ready: the cutover happens by itself.
green_pods True 2
wait_until 5 is web.$s "10.244.2.1 10.244.2.2" ||
	fail "no cutover once 2 green pods were ready: $(addrs web.$s)"
expect_grep "cutover logged" 'bluegreen: cutover svc=shop/web blue->green ready=2 min_ready=2 lag_ms=[0-9]+' "$DAEMON_ERR"
# 5. All three ready.
green_pods True 3
wait_until 5 is web.$s "$green" || fail "third green pod not served"
# 6. Blue is deleted (the idle color of the next round): green unaffected.
rm "$ZONES/pods-web-blue.yaml"
wait_until 5 is blue.web.$s NXDOMAIN || fail "blue preview still answers"
expect_eq "green after blue deleted" "$green" "$(addrs web.$s)"
# 7. Re-point to blue while no blue pod exists: nothing to switch to,
#    green keeps answering (held with 0 ready).
point blue
wait_until 5 grep -q 'cutover held svc=shop/web serving=green desired=blue ready=0' "$DAEMON_ERR" ||
	fail "re-pointing to a color without pods was not held"
expect_eq "held on green" "$green" "$(addrs web.$s)"
