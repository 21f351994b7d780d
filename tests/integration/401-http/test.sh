# 401-http: GET /health, /ready and /metrics on the main loop (issue:
# operations). The daemon starts with a large manifest file so that the
# first snapshot takes a while: /ready must say 503 and names in the zone
# SERVFAIL until it is published, then 200 and answers.
HP=$(it_pick_port) || fail "no free port for HTTP"
http() { # METHOD PATH -> "CODE BODY-FIRST-LINE"
	curl -s -m 5 -X "$1" -o "$WORK/body" -w '%{http_code}' \
		"http://127.0.0.1:$HP$2" 2>/dev/null
}
command -v curl >/dev/null || fail "curl is not installed"

# ---- readiness before and after the first snapshot ------------------------
# 60,000 Pods in one file: a few hundred milliseconds to parse and build.
big=$ZONES/zz-big/pods.yaml
mkdir -p "$ZONES/zz-big"
awk 'BEGIN {
	print "apiVersion: v1\nkind: List\nitems:"
	for (i = 0; i < 60000; i++) {
		a = int(i / 250); b = i % 250
		printf "- {apiVersion: v1, kind: Pod, metadata: {name: p%d, namespace: big, labels: {app: big}}, spec: {containers: [{name: c, image: i}]}, status: {phase: Running, podIP: 10.%d.%d.%d, conditions: [{type: Ready, status: \"True\"}]}}\n", i, 100 + int(a / 250), a % 250, b + 1
	}
}' >"$big"
"$SVCDNS_BUILD/svcdns" --zones "$ZONES" --listen "127.0.0.1:$(it_pick_port)" --user "$(id -un)" \
	--upstream none --http "127.0.0.1:$HP" --threads 1 \
	>"$WORK/early.out" 2>"$WORK/early.err" </dev/null &
early=$!
echo "$early" >>"$WORK/daemon.pids"
saw503=0
saw200=0
for _ in $(seq 1 400); do
	code=$(curl -s -m 1 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HP/ready" 2>/dev/null)
	case $code in
	503) saw503=1 ;;
	200) saw200=1; break ;;
	esac
	sleep 0.01
done
[ $saw503 = 1 ] || note "note: /ready was never seen at 503 (the first load was too quick to catch)"
[ $saw200 = 1 ] || fail "/ready never said 200 after the first snapshot"
kill -TERM "$early"
wait "$early"
rc=$?
expect_eq "early daemon: exit status after SIGTERM" 0 "$rc"
it_check_sanitizers "$WORK/early.err" "early daemon"
rm -rf "$ZONES/zz-big"

start_daemon --http "127.0.0.1:$HP" --tcp-io-timeout 500 || exit 1

# ---- the three paths, and the rest ---------------------------------------
expect_eq "GET /health" 200 "$(http GET /health)"
expect_eq "/health body" OK "$(cat "$WORK/body")"
expect_eq "GET /ready" 200 "$(http GET /ready)"
expect_eq "HEAD /health" 200 "$(curl -s -m 5 -I -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HP/health")"
expect_eq "GET /nope" 404 "$(http GET /nope)"
expect_eq "GET /metrics/x" 404 "$(http GET /metrics/x)"
expect_eq "POST /metrics" 405 "$(http POST /metrics)"
expect_eq "GET /health?x=1" 200 "$(http GET '/health?x=1')"
ctype=$(curl -s -m 5 -o /dev/null -w '%{content_type}' "http://127.0.0.1:$HP/metrics")
expect_eq "/metrics Content-Type" "text/plain; version=0.0.4; charset=utf-8" "$ctype"

# Malformed requests: 400, then the connection is closed.
raw() { # TEXT (printf escapes) -> the status line, or "closed"
	local fd out
	exec {fd}<>"/dev/tcp/127.0.0.1/$HP" || return 1
	printf "$1" >&"$fd"
	out=$(timeout 3 head -1 <&"$fd" | tr -d '\r')
	exec {fd}>&-
	printf '%s' "${out:-closed}"
}
expect_eq "garbage request line" "HTTP/1.1 400 Bad Request" "$(raw 'HELLO\r\n\r\n')"
expect_eq "two spaces" "HTTP/1.1 400 Bad Request" "$(raw 'GET  /health HTTP/1.1\r\n\r\n')"
expect_eq "HTTP/2.0" "HTTP/1.1 400 Bad Request" "$(raw 'GET /health HTTP/2.0\r\n\r\n')"
expect_eq "absolute target" "HTTP/1.1 400 Bad Request" "$(raw 'GET http://x/health HTTP/1.1\r\n\r\n')"
expect_eq "binary junk" "HTTP/1.1 400 Bad Request" "$(raw '\x01\x00\x02\r\n\r\n')"
expect_eq "HTTP/1.0 works" "HTTP/1.1 200 OK" "$(raw 'GET /ready HTTP/1.0\r\n\r\n')"
long=$(head -c 9000 /dev/zero | tr '\0' 'a')
expect_eq "a head that never ends" "HTTP/1.1 400 Bad Request" "$(raw "GET /$long")"

# ---- the request timeout (--tcp-io-timeout 500) --------------------------
exec {slow}<>"/dev/tcp/127.0.0.1/$HP"
printf 'GET /health HTTP/1.1\r\n' >&"$slow"
t0=$(date +%s%N)
out=$(timeout 5 cat <&"$slow")
ms=$((($(date +%s%N) - t0) / 1000000))
exec {slow}>&-
expect_eq "an unfinished request gets no answer" "" "$out"
[ "$ms" -lt 3000 ] || fail "an unfinished request was closed after ${ms} ms, not ~500"

# ---- the connection cap (64): the oldest idle connection makes room -------
fds=()
for _ in $(seq 1 70); do
	exec {fd}<>"/dev/tcp/127.0.0.1/$HP" && fds+=("$fd")
done
expect_eq "GET /health with 70 idle connections open" 200 "$(http GET /health)"
first=${fds[0]}
expect_eq "the oldest idle connection was closed" "" "$(timeout 2 cat <&"$first")"
for fd in "${fds[@]}"; do exec {fd}>&-; done

# ---- /metrics: the format, and the counters move -------------------------
for t in A AAAA SRV TXT; do dig +short +norec -p "$PORT" @127.0.0.1 cart.shop.svc.cluster.local $t >/dev/null; done
dig +short +norec -p "$PORT" @127.0.0.1 nope.shop.svc.cluster.local A >/dev/null
dig +short +norec +tcp -p "$PORT" @127.0.0.1 cart.shop.svc.cluster.local A >/dev/null
expect_eq "GET /metrics" 200 "$(http GET /metrics)"
m=$WORK/body
cp "$m" "$WORK/metrics.txt"
# Text format 0.0.4: HELP and TYPE once per family and before its samples,
# samples "name{labels} value", histogram buckets cumulative up to +Inf =
# _count.
bad=$(awk '
	function family(n) { sub(/_(bucket|sum|count)$/, "", n); return n }
	/^# HELP / { if (help[$3]++) print "HELP twice: " $3; next }
	/^# TYPE / { if (type[$3]) print "TYPE twice: " $3; type[$3] = $4
		if ($4 !~ /^(counter|gauge|histogram|summary|untyped)$/) print "bad type: " $0; next }
	/^#/ { print "stray comment: " $0; next }
	{
		if ($0 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? [-+0-9.eE]+(Inf)?$/) { print "bad sample: " $0; next }
		n = $0; sub(/[{ ].*/, "", n)
		f = (n in type) ? n : family(n)
		if (!(f in type)) print "sample before TYPE: " $0
		if (type[f] == "histogram" && n ~ /_bucket$/) {
			v = $NF + 0; if (v < last[f]) print "bucket not cumulative: " $0; last[f] = v
			if ($0 ~ /le="\+Inf"/) inf[f] = v
		}
		if (type[f] == "histogram" && n ~ /_count$/ && inf[f] != $NF + 0) print "+Inf != _count: " f
	}' "$m")
expect_eq "exposition format" "" "$bad"
val() { awk -v k="$1" 'index($0, k " ") == 1 { print $NF }' "$m"; }
ge() { # LABEL SAMPLE MIN
	local v
	v=$(val "$2")
	if [ -z "$v" ] || ! awk -v v="$v" -v m="$3" 'BEGIN { exit !(v >= m) }'; then
		fail "$1: $2 = '${v}', expected >= $3"
	fi
}
ge "udp requests" 'svcdns_dns_requests_total{proto="udp"}' 5
ge "tcp requests" 'svcdns_dns_requests_total{proto="tcp"}' 1
ge "A requests" 'svcdns_dns_requests_by_type_total{type="A"}' 3
ge "SRV requests" 'svcdns_dns_requests_by_type_total{type="SRV"}' 1
ge "IPv4 requests" 'svcdns_dns_requests_by_family_total{family="1"}' 6
ge "NXDOMAIN responses" 'svcdns_dns_responses_total{rcode="NXDOMAIN"}' 1
ge "NOERROR responses" 'svcdns_dns_responses_total{rcode="NOERROR"}' 5
ge "histogram count" 'svcdns_dns_request_duration_seconds_count' 6
ge "generation" 'svcdns_snapshot_generation' 1
ge "reloads" 'svcdns_reloads_total' 1
ge "services loaded" 'svcdns_objects{kind="Service"}' 8
ge "blue/green color" 'svcdns_bluegreen_active{namespace="store",service="web",color="blue"}' 1
ge "ready" 'svcdns_ready' 1
expect_grep "build info" '^svcdns_build_info\{version="[0-9.]+",libuv="1\.' "$m"
expect_grep "rrl family" '^svcdns_rrl_dropped_total 0$' "$m"
# A cutover shows in the metrics.
sed -i 's/color: blue/color: green/' "$ZONES/store/web.yaml"
wait_until 10 sh -c "curl -s http://127.0.0.1:$HP/metrics | grep -q '^svcdns_bluegreen_active{namespace=\"store\",service=\"web\",color=\"green\"} 1'" ||
	fail "the cutover to green does not show in svcdns_bluegreen_active"
curl -s "http://127.0.0.1:$HP/metrics" >"$m"
ge "cutovers of store/web" 'svcdns_bluegreen_cutovers_total{namespace="store",service="web"}' 1
# That reload was built while the settle time ran (an early build).
ge "early builds" 'svcdns_watch_early_builds_total' 1
expect_grep "early builds dropped" '^svcdns_watch_early_builds_dropped_total [0-9]+$' "$m"
# A broken manifest counts in svcdns_manifest_files_failed for as long as
# it stays broken, other reloads included; fixed, it leaves the gauge.
metric() { curl -s "http://127.0.0.1:$HP/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
printf 'kind: Service\nmetadata: {name: broken\n' >"$ZONES/store/broken.yaml"
wait_until 10 sh -c "curl -s http://127.0.0.1:$HP/metrics | grep -qx 'svcdns_manifest_files_failed 1'" ||
	fail "a broken manifest: svcdns_manifest_files_failed $(metric svcdns_manifest_files_failed), want 1"
gen=$(metric svcdns_snapshot_generation)
sed -i 's/color: green/color: blue/' "$ZONES/store/web.yaml"
wait_until 10 sh -c "[ \"\$(curl -s http://127.0.0.1:$HP/metrics | awk '\$1 == \"svcdns_snapshot_generation\" { print \$2 }')\" -gt $gen ]" ||
	fail "no reload after a change next to the broken manifest"
expect_eq "failed files after another file's reload" 1 "$(metric svcdns_manifest_files_failed)"
rm -f "$ZONES/store/broken.yaml"
wait_until 10 sh -c "curl -s http://127.0.0.1:$HP/metrics | grep -qx 'svcdns_manifest_files_failed 0'" ||
	fail "the broken manifest removed: svcdns_manifest_files_failed $(metric svcdns_manifest_files_failed), want 0"
# The replaced snapshots wait for the next rebuild (once the worker, moved
# on by a query, lets go of the last one), then go 10 to 20 s after the
# last reload: svcdns_snapshot_spare_bytes up, then back to 0.
it_dig +short web.store.svc.cluster.local A >/dev/null
wait_until 5 sh -c "[ \"\$(curl -s http://127.0.0.1:$HP/metrics | awk '\$1 == \"svcdns_snapshot_spare_bytes\" { print \$2 }')\" -gt 0 ]" ||
	fail "after reloads and a query: svcdns_snapshot_spare_bytes $(metric svcdns_snapshot_spare_bytes), want > 0"
wait_until 25 sh -c "curl -s http://127.0.0.1:$HP/metrics | grep -qx 'svcdns_snapshot_spare_bytes 0'" ||
	fail "25 s after the last reload: svcdns_snapshot_spare_bytes $(metric svcdns_snapshot_spare_bytes), want 0"

# ---- a busy --http address stops the start-up ----------------------------
run_svcdns --user "$(id -un)" --zones "$ZONES" --listen "127.0.0.1:$(it_pick_port)" --upstream none --http "127.0.0.1:$HP"
expect_eq "second daemon on the same --http: exit status" 1 "$RUN_RC"
expect_grep "second daemon: the reason" "cannot serve HTTP on 127.0.0.1:$HP: address already in use" "$RUN_ERR"
