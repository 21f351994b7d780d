# shellcheck shell=bash
# shellcheck source=../kubelib.sh
. "$CASE_DIR/../kubelib.sh"
trap kube_stop_helpers EXIT
kube_tls_setup || fail "openssl could not make the test CA"
fakeapi_start --objects "$CASE_DIR/objects.json" || exit 1
kube_kubeconfig "$WORK/kubeconfig"
start_kube_daemon --settle-ms 20 --cache "$WORK/cache" || return 0

a() { dig +short +norec +tries=1 +time=1 -p "$PORT" @127.0.0.1 "$1" A | sort | tr '\n' ' '; }
wait_until 15 sh -c "[ \"\$(dig +short +norec -p $PORT @127.0.0.1 web.shop.svc.cluster.local A)\" = 10.96.0.10 ]" ||
	fail "web.shop not served after the first sync"
# The start-up cache keys on the manifest directory: not used here, and
# said so.
grep -q -- "--cache $WORK/cache is not used with --kubernetes" "$DAEMON_ERR" ||
	fail "no warning that --cache is not used with --kubernetes"
expect_dig db.other.svc.cluster.local A
expect_dig nothing.shop.svc.cluster.local A rcode=NXDOMAIN

cat >"$WORK/api.json" <<'J'
{"kind": "Service", "apiVersion": "v1",
 "metadata": {"name": "api", "namespace": "shop"},
 "spec": {"clusterIP": "10.96.0.11", "ports": [{"port": 8080}]}}
J
fakeapi_ctl apply "$WORK/api.json"
wait_until 5 sh -c "[ \"\$(dig +short +norec -p $PORT @127.0.0.1 api.shop.svc.cluster.local A)\" = 10.96.0.11 ]" ||
	fail "added service not answered: $(a api.shop.svc.cluster.local)"
sed 's/10.96.0.11/10.96.0.12/' "$WORK/api.json" >"$WORK/api2.json"
fakeapi_ctl apply "$WORK/api2.json"
wait_until 5 sh -c "[ \"\$(dig +short +norec -p $PORT @127.0.0.1 api.shop.svc.cluster.local A)\" = 10.96.0.12 ]" ||
	fail "modified service not answered: $(a api.shop.svc.cluster.local)"
fakeapi_ctl delete Service shop api
wait_until 5 sh -c "dig +norec -p $PORT @127.0.0.1 api.shop.svc.cluster.local A | grep -q NXDOMAIN" ||
	fail "deleted service still answered"

# A headless service from its EndpointSlice: ready endpoints only.
cat >"$WORK/hl.json" <<'J'
[{"kind": "Service", "apiVersion": "v1",
  "metadata": {"name": "hl", "namespace": "shop"},
  "spec": {"clusterIP": "None", "ports": [{"name": "http", "port": 80}]}},
 {"kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
  "metadata": {"name": "hl-1", "namespace": "shop",
               "labels": {"kubernetes.io/service-name": "hl"}},
  "addressType": "IPv4",
  "endpoints": [{"addresses": ["10.2.0.1"]}, {"addresses": ["10.2.0.2"]},
                {"addresses": ["10.2.0.3"], "conditions": {"ready": false}}],
  "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}]
J
fakeapi_ctl apply "$WORK/hl.json"
wait_until 5 sh -c "[ \"\$(dig +short +norec -p $PORT @127.0.0.1 hl.shop.svc.cluster.local A | sort | tr '\n' ' ')\" = '10.2.0.1 10.2.0.2 ' ]" ||
	fail "headless service: $(a hl.shop.svc.cluster.local)"
# The API server goes away and comes back with its history lost: the
# re-list brings the same answers.
fakeapi_ctl gone
sleep 1
expect_eq "hl after 410" "10.2.0.1 10.2.0.2 " "$(a hl.shop.svc.cluster.local)"

# A second replica watching on its own serves the same answers.
P1=$PORT
D1=$DAEMON_PID
start_kube_daemon --settle-ms 20 --cache "$WORK/cache" || return 0
P2=$PORT
wait_until 15 sh -c "[ \"\$(dig +short +norec -p $P2 @127.0.0.1 hl.shop.svc.cluster.local A | sort | tr '\n' ' ')\" = '10.2.0.1 10.2.0.2 ' ]" ||
	fail "the second replica does not serve hl.shop"
expect_eq "web.shop from the second replica" 10.96.0.10 \
	"$(dig +short +norec -p "$P2" @127.0.0.1 web.shop.svc.cluster.local A)"
for q in "web.shop.svc.cluster.local A" "db.other.svc.cluster.local A" \
	"hl.shop.svc.cluster.local A" "_http._tcp.hl.shop.svc.cluster.local SRV" \
	"nothing.shop.svc.cluster.local A"; do
	# shellcheck disable=SC2086
	r1=$(dig +norec +noall +answer +comments -p "$P1" @127.0.0.1 $q | grep -v -e '^;; ->>HEADER' -e '^;; Got answer' -e '^$' | sed 's/id: [0-9]*//' | sort)
	# shellcheck disable=SC2086
	r2=$(dig +norec +noall +answer +comments -p "$P2" @127.0.0.1 $q | grep -v -e '^;; ->>HEADER' -e '^;; Got answer' -e '^$' | sed 's/id: [0-9]*//' | sort)
	expect_eq "replicas agree on $q" "$r1" "$r2"
done
stop_daemon
kill "$D1" 2>/dev/null
wait "$D1" 2>/dev/null
[ ! -e "$WORK/cache" ] || fail "--cache was written in --kubernetes mode"
