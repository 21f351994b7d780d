# Upstreams for the forwarding cases (tests/integration/2NN-*), sourced by
# their test.sh after lib.sh. Everything listens on 127.0.0.1 (or inside a
# network namespace the case made) and is stopped by its PID.
#
#   up_nsd_start          NSD serving example.test, 2.0.192.in-addr.arpa
#                         and legacy.cluster.local on a free port: UP_PORT
#   up_fake_start MODE..  tests/tools/fakeup on a free port: FAKE_PORT
#   up_stop_all           stops what was started here
#   up_stat NAME          a counter of the daemon (SIGUSR1 -> "main: stats")
#   up_ms CMD...          runs CMD, prints its wall time in ms

UP_PIDS=()

# up_zone_files DIR: the zone files NSD serves.
up_zone_files()
{
	local d=$1 i
	cat >"$d/example.test.zone" <<'EOF'
$ORIGIN example.test.
$TTL 300
@	IN SOA ns1 hostmaster 1 7200 1800 86400 60
@	IN NS ns1
ns1	IN A 127.0.0.1
www	IN A 192.0.2.10
www	IN AAAA 2001:db8::10
alias	IN CNAME www
chain1	IN CNAME chain2
chain2	IN CNAME www
short	60 IN A 192.0.2.11
ext-target	IN A 192.0.2.12
ext-target	IN AAAA 2001:db8::12
txt	IN TXT "forwarded by svcdns"
EOF
	for i in $(seq 1 120); do
		echo "big	IN A 198.51.100.$i" >>"$d/example.test.zone"
	done
	cat >"$d/reverse.zone" <<'EOF'
$ORIGIN 2.0.192.in-addr.arpa.
$TTL 300
@	IN SOA ns1.example.test. hostmaster.example.test. 1 7200 1800 86400 60
@	IN NS ns1.example.test.
10	IN PTR www.example.test.
EOF
	cat >"$d/legacy.zone" <<'EOF'
$ORIGIN legacy.cluster.local.
$TTL 30
@	IN SOA ns1.example.test. hostmaster.example.test. 1 7200 1800 86400 30
@	IN NS ns1.example.test.
db	IN A 192.0.2.99
EOF
}

# up_nsd_start [ADDR]: NSD on ADDR (default 127.0.0.1) and a free port.
# Sets UP_PORT and UP_DIR; waits until it answers.
up_nsd_start()
{
	local addr=${1:-127.0.0.1} i
	UP_DIR=$WORK/nsd
	mkdir -p "$UP_DIR"
	up_zone_files "$UP_DIR"
	UP_PORT=$(it_pick_port) || return 1
	cat >"$UP_DIR/nsd.conf" <<EOF
server:
	ip-address: $addr@$UP_PORT
	port: $UP_PORT
	username: ""
	chroot: ""
	zonesdir: "$UP_DIR"
	database: ""
	pidfile: "$UP_DIR/nsd.pid"
	xfrdfile: "$UP_DIR/xfrd.state"
	zonelistfile: "$UP_DIR/zone.list"
	logfile: "$UP_DIR/nsd.log"
	server-count: 1
	verbosity: 1
	hide-version: yes
	# NSD limits responses to 200 a second per /24 by default and drops
	# every other one over it: under a load test the forwarder would see
	# upstream timeouts that are NSD's, not svcdns's.
	rrl-ratelimit: 0
remote-control:
	control-enable: no
zone:
	name: example.test
	zonefile: example.test.zone
zone:
	name: 2.0.192.in-addr.arpa
	zonefile: reverse.zone
zone:
	name: legacy.cluster.local
	zonefile: legacy.zone
EOF
	${UP_NETNS:+ip netns exec "$UP_NETNS"} nsd -d -c "$UP_DIR/nsd.conf" \
		>"$UP_DIR/nsd.out" 2>&1 &
	UP_PIDS+=($!)
	UP_NSD_PID=$!
	for i in $(seq 1 $(($(it_scale 10) * 10))); do
		if ${UP_NETNS:+ip netns exec "$UP_NETNS"} dig +short +tries=1 \
			+time=1 -p "$UP_PORT" "@$addr" www.example.test A \
			2>/dev/null | grep -q 192.0.2.10; then
			return 0
		fi
		sleep 0.1
	done
	fail "nsd did not start: $(tail -3 "$UP_DIR/nsd.out" "$UP_DIR/nsd.log" 2>/dev/null | tr '\n' ' ')"
	return 1
}

# up_fake_start MODE [MS]: the fake upstream on a free port. FAKE_PORT,
# FAKE_COUNT (a file with the number of queries it received).
up_fake_start()
{
	FAKE_PORT=$(it_pick_port) || return 1
	FAKE_COUNT=$WORK/fake.$FAKE_PORT.count
	echo 0 >"$FAKE_COUNT"
	"$SVCDNS_BUILD/tests/tools/fakeup" "$FAKE_PORT" "$@" \
		--lifetime "$(it_scale 120)" --count "$FAKE_COUNT" \
		>"$WORK/fake.$FAKE_PORT.out" 2>&1 &
	UP_PIDS+=($!)
	sleep 0.2
}

up_stop_all()
{
	local pid
	for pid in "${UP_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${UP_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	UP_PIDS=()
}

# up_stats: asks the daemon for its counters; prints the "main: stats"
# line it logs.
up_stats()
{
	local before i
	before=$(grep -c 'main: stats' "$DAEMON_ERR")
	kill -USR1 "$DAEMON_PID"
	for i in $(seq 1 50); do
		if [ "$(grep -c 'main: stats' "$DAEMON_ERR")" -gt "$before" ]; then
			break
		fi
		sleep 0.05
	done
	grep 'main: stats' "$DAEMON_ERR" | tail -1
}

# up_stat NAME: one counter from a fresh stats line (0 if absent).
up_stat()
{
	local v
	v=$(up_stats | tr ' ' '\n' | sed -n "s/^$1=//p")
	echo "${v:-0}"
}

# up_ms CMD...: CMD's wall time in milliseconds (its output discarded).
up_ms()
{
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

# up_dig ARGS...: dig with recursion desired (the forwarding path).
up_dig()
{
	dig -p "$PORT" @127.0.0.1 +nocookie +tries=1 +time="$(it_scale 5)" "$@"
}
