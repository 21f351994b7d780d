# 204-forwarder-front: svcdns behind a forwarder, as a node-local cache or
# a site resolver would use it. unbound and dnsmasq forward cluster.local
# and the reverse zones to svcdns (and example.test to NSD, the "outside
# world" here); the answers they give must match svcdns's own: the same
# rcode and the same records (TTLs aside, the forwarders cache).
# shellcheck source=../../tools/upstream.sh
. "$SVCDNS_ROOT/tests/tools/upstream.sh"

up_nsd_start || return
start_daemon --upstream "127.0.0.1:$UP_PORT" --threads 1 || return

QUERIES=(
	"frontend.web.svc.cluster.local A"
	"frontend.web.svc.cluster.local AAAA"
	"_http._tcp.frontend.web.svc.cluster.local SRV"
	"web.svc.cluster.local A"
	"nosuch.web.svc.cluster.local A"
	"nosuch.cluster.local A"
	"ext.web.svc.cluster.local A"
	"10.0.96.10.in-addr.arpa PTR"
	"10.2.0.192.in-addr.arpa PTR"
	"dns-version.cluster.local TXT"
)

# view PORT NAME TYPE: "status" then the answer records without TTLs,
# sorted.
view()
{
	local out
	out=$(dig -p "$1" @127.0.0.1 +tries=1 +time="$(it_scale 3)" +nocookie \
		+noall +comments +answer "$2" "$3" 2>&1)
	printf '%s\n' "$out" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'
	printf '%s\n' "$out" | awk '!/^;/ && NF >= 5 { $2 = ""; $1 = $1; print }' |
		LC_ALL=C sort
}

# compare LABEL PORT: every query through the forwarder at PORT matches
# svcdns's own answer.
compare()
{
	local q want got
	for q in "${QUERIES[@]}"; do
		# shellcheck disable=SC2086 # name and type
		want=$(view "$PORT" $q)
		# shellcheck disable=SC2086
		got=$(view "$2" $q)
		expect_eq "$1: $q" "$want" "$got"
		[ "${SVCDNS_TEST_VERBOSE:-0}" = 1 ] && note "  $(printf "%s" "$got" | tr "\n" "|")"
	done
}

# ---- unbound ------------------------------------------------------------
UB_DIR=$WORK/unbound
mkdir -p "$UB_DIR"
UB_PORT=$(it_pick_port)
cat >"$UB_DIR/unbound.conf" <<CONF
server:
	interface: 127.0.0.1@$UB_PORT
	port: $UB_PORT
	username: ""
	chroot: ""
	directory: "$UB_DIR"
	pidfile: "$UB_DIR/unbound.pid"
	use-syslog: no
	logfile: "$UB_DIR/unbound.log"
	verbosity: 1
	do-ip6: no
	access-control: 127.0.0.0/8 allow
	do-not-query-localhost: no
	module-config: "iterator"
	# 10.in-addr.arpa and friends are local zones by default.
	unblock-lan-zones: yes
	insecure-lan-zones: yes
	domain-insecure: "cluster.local"
	domain-insecure: "in-addr.arpa"
	domain-insecure: "ip6.arpa"
	domain-insecure: "example.test"
remote-control:
	control-enable: no
forward-zone:
	name: "cluster.local"
	forward-addr: 127.0.0.1@$PORT
forward-zone:
	name: "in-addr.arpa"
	forward-addr: 127.0.0.1@$PORT
forward-zone:
	name: "ip6.arpa"
	forward-addr: 127.0.0.1@$PORT
forward-zone:
	name: "example.test"
	forward-addr: 127.0.0.1@$UP_PORT
CONF
if unbound-checkconf "$UB_DIR/unbound.conf" >"$UB_DIR/check.out" 2>&1; then
	unbound -d -c "$UB_DIR/unbound.conf" >"$UB_DIR/unbound.out" 2>&1 &
	UP_PIDS+=($!)
	wait_until 10 sh -c "dig -p $UB_PORT @127.0.0.1 +tries=1 +time=1 cluster.local SOA | grep -q 'status: NOERROR'" ||
		fail "unbound did not answer: $(tail -3 "$UB_DIR/unbound.log" "$UB_DIR/unbound.out" 2>/dev/null | tr '\n' ' ')"
	compare unbound "$UB_PORT"
else
	fail "unbound-checkconf: $(tr '\n' ' ' <"$UB_DIR/check.out")"
fi

# ---- dnsmasq ------------------------------------------------------------
DM_DIR=$WORK/dnsmasq
mkdir -p "$DM_DIR"
DM_PORT=$(it_pick_port)
dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
	--user=root --port="$DM_PORT" --listen-address=127.0.0.1 \
	--bind-interfaces --pid-file="$DM_DIR/dnsmasq.pid" \
	--log-facility="$DM_DIR/dnsmasq.log" \
	--server="/cluster.local/127.0.0.1#$PORT" \
	--server="/in-addr.arpa/127.0.0.1#$PORT" \
	--server="/ip6.arpa/127.0.0.1#$PORT" \
	--server="/example.test/127.0.0.1#$UP_PORT" \
	>"$DM_DIR/dnsmasq.out" 2>&1 &
UP_PIDS+=($!)
wait_until 10 sh -c "dig -p $DM_PORT @127.0.0.1 +tries=1 +time=1 cluster.local SOA | grep -q 'status: NOERROR'" ||
	fail "dnsmasq did not answer: $(tail -3 "$DM_DIR/dnsmasq.out" "$DM_DIR/dnsmasq.log" 2>/dev/null | tr '\n' ' ')"
compare dnsmasq "$DM_PORT"
up_stop_all
