#!/usr/bin/env bash
# tests/bench/run.sh BUILD: the figures behind `make bench` (README
# "Performance"). Measures svcdns and its peers (Knot, NSD, Unbound, and the
# UDP ceiling udp_limit) on the same synthetic cluster with dnsperf, then
# start-up, memory, load and rebuild times at several cluster sizes, and the
# blue/green cutover lag; prints plain-text tables of medians with the
# targets marked PASS/FAIL. Raw results go to build/bench/.
#
# Method (the shared peer kit's, see its PEERS.md): on 2 cores dnsperf needs
# a whole core and saturates near 180-210k queries/s against a server that
# does nothing, so servers are ranked by server CPU time per answered query
# at a fixed offered load (dnsperf -Q), server pinned to CPU 0 and dnsperf to
# CPU 1; "queries/s per core" is 1e6 / (CPU us per query).
#
# Everything runs on 127.0.0.1. Every process started here is bounded by
# `timeout` and stopped by its PID at the end (trap EXIT). Before each
# measurement the script waits (with a cap) for the machine to be quiet and
# warns when it was not.
#
# Knobs (environment):
#   QUICK=1          1-2 minute smoke run: tiny clusters, 3-s runs, 1 rep
#   DURATION=15      seconds per fixed-load dnsperf run (QUICK: 3)
#   MAX_DURATION=10  seconds per unthrottled ("max") run (QUICK: 3)
#   REPS=3           repetitions of the fixed-load runs, interleaved (QUICK: 1)
#   RATE=60000       the fixed offered load, queries/s (dnsperf -Q)
#   STARTUP_REPS=5   svcdns starts for the start-up time (QUICK: 2)
#   FLIPS=100        blue/green flips per cutover run (QUICK: 10)
#   QUIET_FLIPS=3    flips with the large cluster after a quiet period
#                    each (QUICK: 1), one every QUIET_FLIP_INTERVAL_MS=25000:
#                    longer than svcdns keeps a rebuild's spare memory
#   FLIP_RATE=2000   queries/s during the cutover runs
#   FLIP_INTERVAL_MS=100 / BIG_FLIP_INTERVAL_MS=1000  time between flips
#                    (small fixture / with the large cluster)
#   SERVERS="svcdns knot nsd unbound ceiling"  which servers to compare
#   PARTS="peers startup scale rebuild cutover"  which measurements to run
#   QUIET_PCT=15     "quiet" = the machine under this % of one core busy
#   QUIET_WAIT=60    at most this long waiting for quiet (QUICK: 3)
#   NOISE_PCT=15     flag a run where others used more than this % of a core
#   BASE_PORT=21053  first port tried (free ones are picked from there; keep
#                    it below the ephemeral range, 32768 and up)
#   OUT=build/bench  raw results (dnsperf logs, server logs, RESULT lines)
set -u
# Every svcdns started here: no HTTP endpoint (one port for all), and
# --user as the caller (svcdns refuses root on a high port otherwise).
SVCDNS_COMMON="--http none --user $(id -un)"
export LC_ALL=C
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SVCDNS=$BUILD/svcdns
BENCH=$BUILD/tests/bench
TOOLS=$BUILD/tests/tools
CONF=$ROOT/tests/bench/configs

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
	DURATION=${DURATION:-3} MAX_DURATION=${MAX_DURATION:-3}
	REPS=${REPS:-1} STARTUP_REPS=${STARTUP_REPS:-2} FLIPS=${FLIPS:-10}
	QUIET_FLIPS=${QUIET_FLIPS:-1}
	QUIET_WAIT=${QUIET_WAIT:-3}
	BIG_FLIP_INTERVAL_MS=${BIG_FLIP_INTERVAL_MS:-300}
	# services pods endpoints namespaces
	PEER_SIZE="200 600 600 10"
	SCALE_SIZES="500:50:500:5 1000:100:1000:10 3000:300:3000:10"
	BIG_SIZE="1000 10000 10000 10" # the rebuild and big-cutover cluster
else
	DURATION=${DURATION:-15} MAX_DURATION=${MAX_DURATION:-10}
	REPS=${REPS:-3} STARTUP_REPS=${STARTUP_REPS:-5} FLIPS=${FLIPS:-100}
	QUIET_FLIPS=${QUIET_FLIPS:-3}
	QUIET_WAIT=${QUIET_WAIT:-60}
	PEER_SIZE="2000 6000 6000 10"
	# pods:services:endpoints:namespaces
	SCALE_SIZES="1000:100:1000:10 10000:1000:10000:10 150000:10000:100000:100"
	BIG_SIZE="10000 100000 100000 100"
fi
RATE=${RATE:-60000}
FLIP_RATE=${FLIP_RATE:-2000}
FLIP_INTERVAL_MS=${FLIP_INTERVAL_MS:-100}
BIG_FLIP_INTERVAL_MS=${BIG_FLIP_INTERVAL_MS:-1000}
QUIET_FLIP_INTERVAL_MS=${QUIET_FLIP_INTERVAL_MS:-25000}
SERVERS=${SERVERS:-svcdns knot nsd unbound ceiling}
PARTS=${PARTS:-peers startup scale rebuild cutover}
RATE70=na
QUIET_PCT=${QUIET_PCT:-15}
NOISE_PCT=${NOISE_PCT:-15}
NEXT_PORT=${BASE_PORT:-21053}
OUT=${OUT:-$ROOT/build/bench}
case $OUT in /*) ;; *) OUT=$ROOT/$OUT ;; esac
DATA=$OUT/data
RAW=$OUT/raw
RUNS=$OUT/run
RESULTS=$OUT/results.txt
SERVER_CPUS=0
CLIENT_CPUS=1
# The start-up and scale parts also start svcdns as a user would: every
# CPU, the default --threads (the manifests are then parsed on all CPUs).
ALL_CPUS=0-$(($(nproc) - 1))
PROBE_NAME=svc-0.ns-0.svc.cluster.local
# dnsperf's shape, the kit's main table: 16 sockets, 200 outstanding, two
# threads, 1-s query timeout, 4 MiB buffers.
DNSPERF_FLAGS=(-c 16 -q 200 -T 2 -t 1 -b 4096)
HZ=$(getconf CLK_TCK)
T_START=$(date +%s)
WARNINGS=0

say() { printf '# %s\n' "$*" >&2; }
warn() {
	printf 'run.sh: warning: %s\n' "$*" >&2
	printf '%s\n' "$*" >>"$OUT/warnings.txt"
	WARNINGS=$((WARNINGS + 1))
}
die() {
	printf 'run.sh: %s\n' "$*" >&2
	exit 1
}

# ---- set-up -------------------------------------------------------------

# The peers and dnsperf are Debian 12 packages; nothing else is fetched.
install_peers() {
	local p missing=() sudo=
	for p in dnsperf nsd knot unbound; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} = 0 ] && return 0
	say "installing ${missing[*]}"
	[ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
			--no-install-recommends "${missing[@]}" >&2 ||
		die "apt-get install ${missing[*]} failed"
}

check_bins() {
	local b
	for b in "$SVCDNS" "$BENCH/gen_cluster" "$BENCH/bench_build" \
		"$BENCH/udp_limit" "$BENCH/dnsprobe" "$BENCH/yaml_floor" "$BENCH/latency" "$TOOLS/cutover_load"; do
		[ -x "$b" ] || die "$b missing: run 'make bench-bins' (or 'make bench')"
	done
}

# ---- processes ----------------------------------------------------------

STARTED=() # timeout wrappers of the servers we started (PIDs)

# A port is busy when any UDP or TCP socket uses it, in any state.
port_busy() { ss -Htuan "( sport = :$1 )" 2>/dev/null | grep -q .; }

new_port() {
	while port_busy "$NEXT_PORT"; do NEXT_PORT=$((NEXT_PORT + 1)); done
	PORT=$NEXT_PORT
	NEXT_PORT=$((NEXT_PORT + 1))
}

# tree_pids PID: PID and all its descendants.
tree_pids() {
	local all=" $1 " changed=1 pid ppid
	while [ $changed = 1 ]; do
		changed=0
		while read -r pid ppid; do
			case "$all" in *" $ppid "*)
				case "$all" in *" $pid "*) ;; *)
					all="$all$pid "
					changed=1
					;;
				esac
				;;
			esac
		done < <(ps -e -o pid=,ppid=)
	done
	echo $all
}

starttime() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $20}'; }

# stop_tree TPID: SIGTERM to the timeout wrapper (it passes it on to the
# server), then SIGKILL to whatever of that tree is still there, by PID and
# only if the PID is still the same process.
stop_tree() {
	local t=$1 p i st="" pids
	kill -0 "$t" 2>/dev/null || {
		wait "$t" 2>/dev/null
		return 0
	}
	pids=$(tree_pids "$t")
	for p in $pids; do st="$st $p:$(starttime "$p")"; done
	kill -TERM "$t" 2>/dev/null
	for i in $(seq 50); do
		kill -0 "$t" 2>/dev/null || break
		sleep 0.1
	done
	for p in $st; do
		[ "$(starttime "${p%%:*}")" = "${p#*:}" ] &&
			kill -KILL "${p%%:*}" 2>/dev/null
	done
	wait "$t" 2>/dev/null
	return 0
}

stop_server() {
	local t=${TPID:-} keep=() s
	[ -n "$t" ] || return 0
	stop_tree "$t"
	for s in "${STARTED[@]}"; do [ "$s" = "$t" ] || keep+=("$s"); done
	STARTED=("${keep[@]}")
	TPID='' SPID=''
}

cleanup() {
	local s
	for s in "${STARTED[@]}"; do stop_tree "$s"; done
	STARTED=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server NAME CPUS LIFETIME_S PROBE_NAME PROBE_TIMEOUT_MS CMD...:
# starts CMD on 127.0.0.1:$PORT pinned to CPUS under `timeout`, and waits
# for its first positive answer to PROBE_NAME A. Sets TPID (the timeout
# wrapper), SPID (the server) and STARTUP_MS (exec -> first answer).
# Returns 1 (server stopped, output shown) if it never answered.
start_server() {
	local name=$1 cpus=$2 life=$3 pname=$4 ptimeout=$5 i t0 prc probe
	shift 5
	probe=$RUNS/$name.probe
	"$BENCH/dnsprobe" "$PORT" "$pname" "$ptimeout" >"$probe" 2>&1 &
	local ppid=$!
	for i in $(seq 500); do
		grep -q ready "$probe" 2>/dev/null && break
		sleep 0.01
	done
	t0=$EPOCHREALTIME
	taskset -c "$cpus" timeout -k 5 "$life" "$@" >"$RUNS/$name.out" 2>&1 &
	TPID=$!
	STARTED+=("$TPID")
	# the probe ends by itself; stop it early if the server died
	while kill -0 "$ppid" 2>/dev/null; do
		if ! kill -0 "$TPID" 2>/dev/null; then
			kill "$ppid" 2>/dev/null
			break
		fi
		sleep 0.02
	done
	wait "$ppid"
	prc=$?
	SPID=$(pgrep -P "$TPID" | head -1)
	if [ $prc != 0 ] || [ -z "$SPID" ]; then
		warn "$name did not answer $pname on port $PORT within $ptimeout ms"
		tail -5 "$RUNS/$name.out" | sed 's/^/    /' >&2
		stop_server
		STARTUP_MS=
		return 1
	fi
	STARTUP_MS=$(awk -v t0="$t0" 'NR == 2 { printf "%.1f", ($1 - t0 * 1e6) / 1000 }' "$probe")
}

# ---- /proc --------------------------------------------------------------

# cpu_ticks PID...: utime+stime summed over the processes. /proc/PID/stat
# counts every thread of the process (the sum of /proc/PID/task/*/stat, plus
# threads that have already exited).
cpu_ticks() {
	local t=0 p v
	for p in "$@"; do
		v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}')
		t=$((t + ${v:-0}))
	done
	echo $t
}

rss_kib() {
	local t=0 p v
	for p in "$@"; do
		v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null)
		t=$((t + ${v:-0}))
	done
	echo $t
}

# busy and total ticks of the whole machine: "busy total"
cpu_stat() { awk '/^cpu / { b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6 }' /proc/stat; }

# UDP receive-buffer drops (the whole network namespace)
udp_errs() { awk '/^Udp:/ { n++; if (n == 2) print $6 }' /proc/net/snmp; }

# wait_quiet: wait until the machine is under QUIET_PCT % of one core busy
# over a 1-s sample, for at most QUIET_WAIT s. Sets QUIET=yes|no.
wait_quiet() {
	local t0 a b busy
	t0=$(date +%s)
	while :; do
		a=$(cpu_stat)
		sleep 1
		b=$(cpu_stat)
		busy=$(echo "$a $b" | awk -v n="$(nproc)" \
			'{ d = $4 - $2; print (d > 0) ? int(($3 - $1) / d * n * 100) : 0 }')
		if [ "$busy" -le "$QUIET_PCT" ]; then
			QUIET=yes
			return
		fi
		if [ $(($(date +%s) - t0)) -ge "$QUIET_WAIT" ]; then
			warn "machine still busy (${busy}% of a core) after ${QUIET_WAIT}s; measuring anyway"
			QUIET=no
			return
		fi
	done
}

# ---- dnsperf ------------------------------------------------------------

# run_dnsperf TAG DURATION RATE VERBOSE PID...: one dnsperf run against
# 127.0.0.1:$PORT (RATE empty: unthrottled; VERBOSE=1: per-query latencies
# for the percentiles) while measuring the server processes PID...; prints
# the figures as key=value pairs.
run_dnsperf() {
	local tag=$1 dur=$2 rate=$3 verbose=$4
	shift 4
	local log=$RAW/dnsperf-$tag.log s0 s1 c0 c1 u0 u1 lat="" rss
	local args=(-s 127.0.0.1 -p "$PORT" -d "$QUERIES" -l "$dur" "${DNSPERF_FLAGS[@]}")
	[ -n "$rate" ] && args+=(-Q "$rate")
	[ "$verbose" = 1 ] && args+=(-v)
	s0=$(cpu_stat)
	u0=$(udp_errs)
	c0=$(cpu_ticks "$@")
	(
		taskset -c "$CLIENT_CPUS" timeout $((dur + 30)) dnsperf "${args[@]}" \
			>"$log.full" 2>&1
		times
	) >"$log.times"
	c1=$(cpu_ticks "$@")
	u1=$(udp_errs)
	s1=$(cpu_stat)
	rss=$(rss_kib "$@")
	if [ "$verbose" = 1 ]; then
		# dnsperf -v: "> RCODE NAME TYPE SECONDS" per answer, "T" for a
		# timeout. A histogram in microseconds gives exact percentiles.
		lat=$(awk '/^> / {
			if ($2 == "T" || $2 == "I") next
			us = int($NF * 1e6 + 0.5); h[us]++; n++; if (us > mx) mx = us }
			END {
				if (n == 0) { print "lat_p50_ms=na lat_p99_ms=na lat_p999_ms=na"; exit }
				r50 = int(n * 0.50); if (r50 < n * 0.50) r50++
				r99 = int(n * 0.99); if (r99 < n * 0.99) r99++
				r999 = int(n * 0.999); if (r999 < n * 0.999) r999++
				for (us = 0; us <= mx; us++) {
					c += h[us]
					if (p50 == "" && c >= r50) p50 = us
					if (p99 == "" && c >= r99) p99 = us
					if (p999 == "" && c >= r999) { p999 = us; break }
				}
				printf "lat_p50_ms=%.3f lat_p99_ms=%.3f lat_p999_ms=%.3f", p50 / 1000, p99 / 1000, p999 / 1000
			}' "$log.full")
	fi
	grep -v '^> ' "$log.full" >"$log"
	rm -f "$log.full"
	awk -v s0="$s0" -v s1="$s1" -v c0="$c0" -v c1="$c1" -v hz="$HZ" \
		-v rcvbuf=$((u1 - u0)) -v rss="$rss" -v lat="$lat" -v ncpu="$(nproc)" '
	function sec(t) { split(t, x, "m"); sub(/s$/, "", x[2]); return x[1] * 60 + x[2] }
	FILENAME ~ /times$/ { if (FNR == 2) cli = sec($1) + sec($2); next }
	/Queries sent:/       { sent = $3 }
	/Queries completed:/  { done_ = $3 }
	/Queries lost:/       { lost = $3 }
	/Response codes:/     { rc = $0; sub(/.*codes: */, "", rc); gsub(/ \([^)]*\)/, "", rc); gsub(/, /, ",", rc); gsub(/ /, ":", rc) }
	/Average packet size:/ { resp = $NF }
	/Run time \(s\):/     { wall = $4 }
	/Queries per second:/ { qps = $4 }
	/Average Latency/     { avg = $4; mx = $8; gsub(/[(),]/, "", mx) }
	END {
		split(s0, a); split(s1, b)
		el = (b[2] - a[2]) / ncpu / hz        # seconds of wall time
		srv = (c1 - c0) / hz                  # server CPU seconds
		if (el <= 0) el = 1
		other = ((b[1] - a[1]) / hz - srv - cli) / el * 100
		us = (done_ > 0) ? srv * 1e6 / done_ : 0
		printf "qps=%.0f sent=%s completed=%s lost=%s lat_avg_ms=%.3f lat_max_ms=%.1f %s " \
		       "resp_bytes=%s srv_cpu_s=%.2f srv_cpu_pct=%.1f client_cpu_pct=%.0f other_pct=%.0f " \
		       "cpu_us_per_q=%.3f qps_per_core=%.0f rss_kib=%s rcvbuf_errs=%s rcodes=%s\n",
			qps, sent, done_, lost, avg * 1000, mx * 1000, lat, resp, srv,
			(wall > 0) ? srv / wall * 100 : 0, (wall > 0) ? cli / wall * 100 : 0,
			other, us, (us > 0) ? 1e6 / us : 0, rss, rcvbuf, rc
	}' "$log.times" "$log"
}

# result PHASE SERVER KEY=VALUE...: one line of $RESULTS
result() {
	local phase=$1 server=$2
	shift 2
	echo "RESULT phase=$phase server=$server $*" >>"$RESULTS"
}

# ---- datasets -----------------------------------------------------------

# gen DIR SERVICES PODS ENDPOINTS NAMESPACES [GEN_CLUSTER_OPTION...]
gen() {
	rm -rf "$1"
	timeout 300 "$BENCH/gen_cluster" --out "$1" --services "$2" --pods "$3" \
		--endpoints "$4" --namespaces "$5" --headless 70 "${@:6}" >"$1.gen.txt" ||
		die "gen_cluster failed for $1"
}

# The peer dataset: the cluster as manifests for svcdns, the same records as
# a zone file (svcdns --dump, the cluster.local section) for NSD and Knot,
# and as local-data for Unbound.
prepare_peer_data() {
	local D=$DATA/peer n rc
	read -r P_SVC P_PODS P_EPS P_NS <<<"$PEER_SIZE"
	gen "$D" "$P_SVC" "$P_PODS" "$P_EPS" "$P_NS"
	QUERIES=$D/queries.txt
	if ! timeout 300 "$SVCDNS" --dump --zones "$D/zones" --pods disabled --upstream none \
		>"$D/dump.txt" 2>"$D/dump.err"; then
		cat "$D/dump.err" >&2
		die "svcdns --dump failed"
	fi
	# The dump separates zones with "; zone NAME. serial N" comments.
	awk '/^; zone / { z = $3 } z == "cluster.local."' "$D/dump.txt" >"$D/cluster.local.zone"
	awk 'BEGIN { print "local-zone: \"cluster.local.\" static" }
		/^;/ || NF == 0 { next }
		{ line = $0; gsub(/\t/, " ", line); printf "local-data: '\''%s'\''\n", line }' \
		"$D/cluster.local.zone" >"$D/unbound-local.conf"
	n=$(grep -vc '^;' "$D/cluster.local.zone")
	ZONE_RECORDS=$n
	ZONE_TYPES=$(awk '!/^;/ { t[$4]++ } END { for (k in t) printf "%s %d, ", k, t[k] }' \
		"$D/cluster.local.zone" | sed 's/, $//')
	# Do the peers load it?
	NSD_CHECK=$(timeout 60 nsd-checkzone cluster.local "$D/cluster.local.zone" 2>&1)
	rc=$?
	[ $rc = 0 ] || warn "nsd-checkzone rejects the dump: $NSD_CHECK"
	NSD_CHECK="rc=$rc: $(echo "$NSD_CHECK" | head -3 | tr '\n' ' ')"
	local K=$RUNS/knot-check
	rm -rf "$K"
	mkdir -p "$K/db"
	cp "$D/cluster.local.zone" "$K/"
	fill_conf knot "$K" 65000 on # not started: the port is not bound
	KNOT_CHECK=$(timeout 60 knotc -c "$K/knot.conf" zone-check cluster.local 2>&1)
	rc=$?
	[ $rc = 0 ] || warn "knotc zone-check rejects the dump: $KNOT_CHECK"
	KNOT_CHECK="rc=$rc${KNOT_CHECK:+: $(echo "$KNOT_CHECK" | head -3 | tr '\n' ' ')}"
	local U=$RUNS/unbound-check
	rm -rf "$U"
	mkdir -p "$U"
	cp "$D/unbound-local.conf" "$U/"
	fill_conf unbound "$U" 65000
	UNBOUND_CHECK=$(timeout 60 unbound-checkconf "$U/unbound.conf" 2>&1)
	rc=$?
	[ $rc = 0 ] || warn "unbound-checkconf rejects the local-data: $UNBOUND_CHECK"
	UNBOUND_CHECK="rc=$rc: $(echo "$UNBOUND_CHECK" | head -3 | tr '\n' ' ')"
}

# fill_conf SERVER RUNDIR PORT [SEMCHECKS]: configs/SERVER.conf.in -> RUNDIR
fill_conf() {
	sed -e "s#@RUN@#$2#g" -e "s#@PORT@#$3#g" -e "s#@SEMCHECKS@#${4:-off}#g" \
		"$CONF/$1.conf.in" >"$2/$1.conf"
}

# server_cmd SERVER: sets CMD for SERVER on $PORT, its files in $RUNS/SERVER
server_cmd() {
	local R=$RUNS/$1
	rm -rf "$R"
	mkdir -p "$R/db"
	case $1 in
	svcdns)
		CMD=("$SVCDNS" --zones "$DATA/peer/zones" --listen "127.0.0.1:$PORT"
			--threads 1 --pods disabled --upstream none $SVCDNS_COMMON)
		;;
	knot)
		cp "$DATA/peer/cluster.local.zone" "$R/"
		fill_conf knot "$R" "$PORT" off
		CMD=(knotd -c "$R/knot.conf")
		;;
	nsd)
		cp "$DATA/peer/cluster.local.zone" "$R/"
		fill_conf nsd "$R" "$PORT"
		CMD=(nsd -d -c "$R/nsd.conf")
		;;
	unbound)
		cp "$DATA/peer/unbound-local.conf" "$R/"
		fill_conf unbound "$R" "$PORT"
		CMD=(unbound -d -c "$R/unbound.conf")
		;;
	ceiling)
		CMD=("$BENCH/udp_limit" -m mmsg -a 1 -t 600 "$PORT")
		;;
	*) die "unknown server $1" ;;
	esac
}

# ---- the measurements ---------------------------------------------------

# answers_md5: a digest of the answers on $PORT to the first 30 names of the
# query file (rcode and answer records, sorted), to check that the peers
# serve what svcdns serves.
answers_md5() {
	local n
	head -30 "$QUERIES" | while read -r n _; do
		timeout 5 dig +norec +noedns +tries=1 +time=1 -p "$PORT" @127.0.0.1 "$n" A |
			awk '/status:/ { sub(/,.*/, "", $6); print $6 } /^[^;]/ && NF >= 5 { print $1, $4, $5 }' | sort
	done | md5sum | cut -c1-12
}

# peer_run SERVER TAG DURATION RATE VERBOSE PHASE REP
peer_run() {
	local s=$1 tag=$2 dur=$3 rate=$4 verbose=$5 phase=$6 rep=$7 line rss0
	wait_quiet
	new_port
	server_cmd "$s"
	if ! start_server "$s" "$SERVER_CPUS" $((dur + 90)) "$PROBE_NAME" 30000 "${CMD[@]}"; then
		result "$phase" "$s" "rep=$rep failed=1"
		return
	fi
	local pids
	read -ra pids <<<"$(tree_pids "$SPID")"
	rss0=$(rss_kib "${pids[@]}")
	sleep 1 # let the server finish any post-start work
	read -ra pids <<<"$(tree_pids "$SPID")"
	line=$(run_dnsperf "$tag" "$dur" "$rate" "$verbose" "${pids[@]}")
	[ "$phase" = fixed ] && [ "$rep" = 1 ] && line="$line answers_md5=$(answers_md5)"
	stop_server
	result "$phase" "$s" "rep=$rep quiet=$QUIET startup_ms=$STARTUP_MS rss0_kib=$rss0 rate=${rate:-max} $line"
	local other=${line##*other_pct=}
	other=${other%% *}
	[ "${other:-0}" -le "$NOISE_PCT" ] 2>/dev/null ||
		warn "$phase $s rep $rep: other processes used ${other}% of a core during the run"
	say "$phase $s rep $rep: $(echo "$line" | cut -d' ' -f1-5,11-16)"
}

# lat_run SERVER REP: tests/bench/latency against SERVER at $RATE70 for
# $DURATION s (answers timed by the kernel's receive timestamps, so the
# client's own scheduling is not in them), and the hypervisor's steal time
# over the run (CPU time the machine's vCPUs lost to other guests).
steal_ticks() { awk '/^cpu / { print $9 }' /proc/stat; }
lat_run() {
	local s=$1 rep=$2 line st0 st1
	wait_quiet
	new_port
	server_cmd "$s"
	if ! start_server "$s" "$SERVER_CPUS" $((DURATION + 90)) "$PROBE_NAME" 30000 "${CMD[@]}"; then
		result p70k "$s" "rep=$rep failed=1"
		return
	fi
	sleep 1
	st0=$(steal_ticks)
	line=$(taskset -c "$CLIENT_CPUS" timeout $((DURATION + 30)) "$BENCH/latency" "$PORT" "$QUERIES" "$RATE70" "$DURATION")
	st1=$(steal_ticks)
	stop_server
	result p70k "$s" "rep=$rep quiet=$QUIET steal_ms=$(((st1 - st0) * 1000 / HZ)) $line"
	say "p70k $s rep $rep: $line steal_ms=$(((st1 - st0) * 1000 / HZ))"
}

bench_peers() {
	local r s
	for r in $(seq "$REPS"); do
		for s in $SERVERS; do
			say "fixed load ${RATE} q/s: $s, rep $r/$REPS (${DURATION}s)"
			peer_run "$s" "fixed-$s-$r" "$DURATION" "$RATE" 1 fixed "$r"
		done
	done
	for s in $SERVERS; do
		say "max pass (no -Q): $s (${MAX_DURATION}s)"
		peer_run "$s" "max-$s" "$MAX_DURATION" "" 0 max 1
	done
	# p99 at 70 % of svcdns's maximum
	local mx
	mx=$(get max svcdns qps | median)
	if [ -n "$mx" ] && [ "$mx" != na ]; then
		RATE70=$(awk -v m="$mx" 'BEGIN { printf "%d", m * 0.7 }')
		# The ceiling (a canned responder) at the same rate: the share
		# of the latency that is the client's and the kernel's.
		for r in $(seq "$REPS"); do
			for s in svcdns ceiling; do
				case " $SERVERS " in *" $s "*) ;; *) continue ;; esac
				say "p99 at 70% of svcdns's max: ${RATE70} q/s, $s, rep $r/$REPS"
				peer_run "$s" "p70-$s-$r" "$DURATION" "$RATE70" 1 p70 "$r"
				say "p99 (kernel timestamps) at ${RATE70} q/s: $s, rep $r/$REPS"
				lat_run "$s" "$r"
			done
		done
	else
		RATE70=na
	fi
}

# Cold: the manifests are parsed before the first answer. Cached: --cache
# with the file the first cached start wrote (the directory unchanged), so
# the first answer comes from the start-up cache while they are parsed.
bench_startup() {
	local r line cache=$RUNS/startup.cache
	# The floor: libyaml alone over the same files, on the server's CPU.
	wait_quiet
	if line=$(taskset -c "$SERVER_CPUS" timeout 300 "$BENCH/yaml_floor" "$DATA/peer/zones" 5); then
		result yaml-floor svcdns "quiet=$QUIET $line"
	else
		warn "yaml_floor failed"
	fi
	for r in $(seq "$STARTUP_REPS"); do
		wait_quiet
		new_port
		server_cmd svcdns
		say "svcdns start-up $r/$STARTUP_REPS"
		if start_server svcdns "$SERVER_CPUS" 60 "$PROBE_NAME" 30000 "${CMD[@]}"; then
			result startup svcdns "rep=$r quiet=$QUIET startup_ms=$STARTUP_MS rss_kib=$(rss_kib "$SPID")"
			stop_server
		fi
	done
	for r in $(seq "$STARTUP_REPS"); do
		wait_quiet
		new_port
		CMD=("$SVCDNS" --zones "$DATA/peer/zones" --listen "127.0.0.1:$PORT"
			--pods disabled --upstream none $SVCDNS_COMMON)
		say "svcdns start-up on CPUs $ALL_CPUS, default --threads $r/$STARTUP_REPS"
		if start_server svcdns "$ALL_CPUS" 60 "$PROBE_NAME" 30000 "${CMD[@]}"; then
			result startup-all svcdns "rep=$r quiet=$QUIET startup_ms=$STARTUP_MS rss_kib=$(rss_kib "$SPID")"
			stop_server
		fi
	done
	rm -f "$cache"
	for r in $(seq 0 "$STARTUP_REPS"); do
		wait_quiet
		new_port
		server_cmd svcdns
		CMD+=(--cache "$cache")
		say "svcdns start-up with --cache $r/$STARTUP_REPS"
		if start_server svcdns "$SERVER_CPUS" 60 "$PROBE_NAME" 30000 "${CMD[@]}"; then
			# The first start writes the cache: wait for it.
			for _ in $(seq 100); do [ -s "$cache" ] && break; sleep 0.05; done
			[ "$r" = 0 ] ||
				result startup-cache svcdns "rep=$r quiet=$QUIET startup_ms=$STARTUP_MS rss_kib=$(rss_kib "$SPID")"
			stop_server
		fi
	done
}

# scale_daemon PHASE NAME CPUS ZONES WHAT [SVCDNS_OPTION...]: one start of
# the daemon on ZONES pinned to CPUS, as a RESULT line PHASE $pods (pods,
# svcs and r are the caller's): exec -> first answer, RSS then and half a
# second later.
scale_daemon() {
	local phase=$1 name=$2 cpus=$3 zones=$4 what=$5 rss
	shift 5
	wait_quiet
	new_port
	say "scale $pods pods / $svcs services: $what, rep $r/$REPS"
	if start_server "$name" "$cpus" 180 "$PROBE_NAME" 120000 \
		"$SVCDNS" --zones "$zones" --listen "127.0.0.1:$PORT" \
		--upstream none "$@" $SVCDNS_COMMON; then
		rss=$(rss_kib "$SPID")
		sleep 0.5
		result "$phase" "$pods" "rep=$r quiet=$QUIET pods=$pods services=$svcs startup_ms=$STARTUP_MS rss_kib=$rss rss_later_kib=$(rss_kib "$SPID")"
		stop_server
	fi
}

bench_scale() {
	local sz pods svcs eps ns D line r f
	for sz in $SCALE_SIZES; do
		IFS=: read -r pods svcs eps ns <<<"$sz"
		D=$DATA/scale-$pods
		gen "$D" "$svcs" "$pods" "$eps" "$ns"
		f=$D/zones/ns-0/services.yaml
		for r in $(seq "$REPS"); do
			wait_quiet
			say "scale $pods pods / $svcs services: bench_build, rep $r/$REPS"
			line=$(timeout 300 "$BENCH/bench_build" "$D/zones" "$f" 1 2>&1 |
				sed -n 's/^bench_build: \(load_parse_ms.*\)/\1/p')
			[ -n "$line" ] || warn "bench_build failed on $D"
			result scale-build "$pods" "rep=$r quiet=$QUIET pods=$pods services=$svcs $line"
			scale_daemon scale-daemon "svcdns-$pods" "$SERVER_CPUS" "$D/zones" \
				"the daemon" --threads 1
			# The largest size again as a user would start it.
			[ "$sz" = "${SCALE_SIZES##* }" ] || continue
			scale_daemon scale-daemon-all "svcdns-$pods-all" "$ALL_CPUS" \
				"$D/zones" "the daemon on CPUs $ALL_CPUS, default --threads"
		done
	done
	# The largest size once more with pods as kubectl prints real ones:
	# with annotations unique to each (CNI address, container ID, restart
	# time), which svcdns does not keep.
	IFS=: read -r pods svcs eps ns <<<"${SCALE_SIZES##* }"
	D=$DATA/scale-$pods-ann
	gen "$D" "$svcs" "$pods" "$eps" "$ns" --annotations 4
	for r in $(seq "$REPS"); do
		scale_daemon scale-daemon-ann "svcdns-$pods-ann" "$SERVER_CPUS" \
			"$D/zones" "4 annotations a pod, the daemon" --threads 1
	done
	rm -rf "$D"
}

bench_rebuild() {
	local line D=$DATA/big
	wait_quiet
	say "one-file rebuild at $B_SVC services / $B_PODS pods (10 rounds)"
	line=$(timeout 600 "$BENCH/bench_build" "$D/zones" "$D/zones/ns-0/services.yaml" 10 2>&1 |
		tr '\n' ' ' | sed 's/bench_build: //g')
	case $line in *one_file_total_ms_median=*) ;; *) warn "bench_build failed: $line" ;; esac
	result rebuild svcdns "quiet=$QUIET $line"
}

# write_bluegreen ZONES: the blue/green fixture of tests/integration/
# 160-cutover, reduced to its first way: a headless Service web in shop whose
# selector names the color, three Pods of each color in their own files.
# Addresses are outside gen_cluster's 10.244.0.0/14.
write_bluegreen() {
	local z=$1/shop c n i
	mkdir -p "$z"
	for c in blue green; do
		[ $c = blue ] && n=1 || n=2
		for i in 1 2 3; do
			[ $i = 1 ] || echo ---
			cat <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: web-$c-$i
  namespace: shop
  labels: {app: web, color: $c}
spec:
  containers: [{name: web, image: example/web}]
status:
  phase: Running
  podIP: 10.250.$n.$i
  conditions: [{type: Ready, status: "True"}]
YAML
		done >"$z/pods-web-$c.yaml"
	done
	# flip.sh COLOR: rewrites the Service aside and renames it into place.
	cat >"$1/../flip.sh" <<SH
#!/bin/sh
set -e
case \$1 in blue|green) ;; *) exit 2 ;; esac
cat >"$z/.web.yaml.tmp" <<YAML
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  annotations: {svcdns.io/color-label: color}
spec:
  clusterIP: None
  selector: {app: web, color: \$1}
  ports: [{name: http, port: 80}]
YAML
mv "$z/.web.yaml.tmp" "$z/web.yaml"
SH
	chmod +x "$1/../flip.sh"
	"$1/../flip.sh" blue
}

# cutover NAME ZONES INTERVAL_MS
cutover() {
	local name=$1 zones=$2 interval=$3 flips=${4:-$FLIPS} out rc
	wait_quiet
	new_port
	say "cutover $name: $flips flips at $FLIP_RATE q/s, one every ${interval} ms"
	if ! start_server "cutover-$name" "$SERVER_CPUS" \
		$((flips * (interval + 2000) / 1000 + 180)) web.shop.svc.cluster.local 120000 \
		"$SVCDNS" --zones "$zones" --listen "127.0.0.1:$PORT" --threads 1 \
		--upstream none $SVCDNS_COMMON; then
		result cutover "$name" "failed=1"
		return
	fi
	out=$(taskset -c "$CLIENT_CPUS" timeout $((flips * (interval + 2000) / 1000 + 60)) \
		"$TOOLS/cutover_load" --server 127.0.0.1 --port "$PORT" \
		--name web.shop.svc.cluster.local --rate "$FLIP_RATE" \
		--blue 10.250.1.1,10.250.1.2,10.250.1.3 \
		--green 10.250.2.1,10.250.2.2,10.250.2.3 \
		--flips "$flips" --interval-ms "$interval" --settle-ms 300 \
		--timeout-ms 1000 --flip-cmd "$(dirname "$zones")/flip.sh %s" \
		--verbose 2>"$RAW/cutover-$name.err")
	rc=$?
	stop_server
	[ $rc = 0 ] || warn "cutover_load ($name) exited $rc: $out (see $RAW/cutover-$name.err)"
	result cutover "$name" "quiet=$QUIET rc=$rc startup_ms=$STARTUP_MS ${out#cutover_load: }"
	say "cutover $name: ${out#cutover_load: }"
}

bench_cutover() {
	local S=$DATA/bg-small B=$DATA/bg-big
	rm -rf "$S" "$B"
	mkdir -p "$S/zones" "$B/zones"
	write_bluegreen "$S/zones"
	cutover small "$S/zones" "$FLIP_INTERVAL_MS"
	# the same fixture with the large cluster next to it (hard links)
	cp -al "$DATA/big/zones/." "$B/zones/"
	write_bluegreen "$B/zones"
	cutover big "$B/zones" "$BIG_FLIP_INTERVAL_MS"
	# A real cutover usually comes alone: by then svcdns has freed the
	# last rebuild's spare memory, and the rebuild faults in fresh pages.
	cutover big-quiet "$B/zones" "$QUIET_FLIP_INTERVAL_MS" "$QUIET_FLIPS"
}

# ---- the report ---------------------------------------------------------

# get PHASE SERVER KEY: the values of KEY in the RESULT lines, one a line
get() {
	awk -v p="phase=$1" -v s="server=$2" -v k="$3=" '
		$2 == p && $3 == s { for (i = 4; i <= NF; i++) if (index($i, k) == 1) print substr($i, length(k) + 1) }' "$RESULTS"
}

# median: of the numbers on stdin ("na" if none); the mean of the middle
# two for an even count
median() {
	grep -E '^-?[0-9.]+$' | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "na"; exit }
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		print m }'
}
range() {
	grep -E '^-?[0-9.]+$' | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { if (NR) print lo "-" hi; else print "na" }'
}
sum() { grep -E '^[0-9]+$' | awk '{ s += $1 } END { print s + 0 }'; }

# fmt FORMAT VALUE: printf unless VALUE is "na"/empty
fmt() { if [ -z "$2" ] || [ "$2" = na ]; then echo na; else printf "$1" "$2"; fi; }
kib_mib() { [ -z "$1" ] || [ "$1" = na ] && echo na || awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
kib_mb() { [ -z "$1" ] || [ "$1" = na ] && echo na || awk -v k="$1" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }'; }

# verdict VALUE OP LIMIT: PASS/FAIL (n/a if VALUE is not a number)
verdict() {
	case $1 in '' | na | *[!0-9.-]*)
		echo "n/a"
		return
		;;
	esac
	awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
		ok = (op == "<") ? v < l : (op == "<=") ? v <= l : (op == ">=") ? v >= l : (op == "==") ? v == l : 0
		print ok ? "PASS" : "FAIL" }'
}

# noisy PHASE SERVER: "!" if any of those runs was not quiet
noisy() {
	get "$1" "$2" quiet | grep -q no && echo '!' || echo ''
}

peer_label() {
	case $1 in
	svcdns) echo "svcdns $("$SVCDNS" --version 2>/dev/null | head -1 | awk '{print $2}')" ;;
	knot) echo "Knot $(dpkg-query -W -f='${Version}' knot 2>/dev/null | cut -d- -f1)" ;;
	nsd) echo "NSD $(dpkg-query -W -f='${Version}' nsd 2>/dev/null | cut -d- -f1)" ;;
	unbound) echo "Unbound $(dpkg-query -W -f='${Version}' unbound 2>/dev/null | cut -d- -f1)" ;;
	ceiling) echo "ceiling (udp_limit mmsg)" ;;
	*) echo "$1" ;;
	esac
}

report() {
	local s line
	echo "svcdns benchmark - $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r)"
	echo "settings: QUICK=$QUICK DURATION=${DURATION}s MAX_DURATION=${MAX_DURATION}s REPS=$REPS RATE=$RATE; server on CPU $SERVER_CPUS, dnsperf on CPU $CLIENT_CPUS"
	echo "dnsperf $(dnsperf -h 2>&1 | awk '/^Version/ { print $2 }') ${DNSPERF_FLAGS[*]}; raw results in ${OUT#"$ROOT"/}/"
	echo
	echo "== Dataset"
	echo "cluster: $P_SVC services (70 % headless, 3 endpoints each), $P_PODS pods, $P_NS namespaces"
	echo "queries: $(wc -l <"$QUERIES") lines, $(awk '/^nx-/ { nx++; next } { split($1, a, "."); s = substr(a[1], 5) + 0; if ((s * 37) % 100 < 70) h++; else c++ } END { printf "%.0f %% headless A, %.0f %% ClusterIP A, %.0f %% NXDOMAIN", h / NR * 100, c / NR * 100, nx / NR * 100 }' "$QUERIES")"
	echo "zone (svcdns --dump, cluster.local section): $ZONE_RECORDS records ($ZONE_TYPES)"
	echo "  nsd-checkzone:      $NSD_CHECK"
	echo "  knotc zone-check:   $KNOT_CHECK"
	echo "  unbound-checkconf:  $UNBOUND_CHECK"
	echo
	echo "== Fixed offered load: dnsperf -Q $RATE, ${DURATION}s, medians of $REPS (the ranking)"
	printf '%-26s %7s %8s %5s %6s %7s %8s %6s %6s %5s %8s %4s %6s\n' server "q/s" answered lost "CPU%" "us/q" "q/s/core" "avg ms" "p99 ms" "RSS MiB" "start ms" "resp" "other%"
	for s in $SERVERS; do
		if [ -z "$(get fixed "$s" completed)" ]; then
			printf '%-26s %s\n' "$(peer_label "$s")" "no result (not run, or failed: see the warnings)"
			continue
		fi
		printf '%-26s %7s %8s %5s %6s %7s %8s %6s %6s %5s %8s %4s %6s%s\n' "$(peer_label "$s")" \
			"$(get fixed "$s" qps | median)" "$(get fixed "$s" completed | median)" "$(get fixed "$s" lost | sum)" \
			"$(get fixed "$s" srv_cpu_pct | median)" "$(get fixed "$s" cpu_us_per_q | median)" \
			"$(get fixed "$s" qps_per_core | median)" "$(get fixed "$s" lat_avg_ms | median)" \
			"$(get fixed "$s" lat_p99_ms | median)" "$(kib_mib "$(get fixed "$s" rss_kib | median)")" \
			"$(get fixed "$s" startup_ms | median)" "$(get fixed "$s" resp_bytes | median)" \
			"$(get fixed "$s" other_pct | median)" "$(noisy fixed "$s")"
	done
	echo "q/s: achieved (should be the offered load); answered: per run; lost: total over the runs; CPU% = server's"
	echo "share of a core; us/q = server CPU (utime+stime, all threads and processes) per answered query;"
	echo "q/s/core = 1e6 / (us/q): the ranking figure. RSS after the run (process tree); start = exec -> first answer;"
	echo "resp = average response bytes; other% = CPU used by other processes during the run (% of a core;"
	echo "small negative values are accounting jitter: loopback receive work is billed to the sender);"
	echo "'!' = the machine was not quiet before some run of that row. All values are medians unless said."
	local ref
	ref=$(get fixed svcdns answers_md5)
	echo "same answers as svcdns (rcode and records for the first 30 query names): $(for s in $SERVERS; do
		[ "$s" = svcdns ] || [ "$s" = ceiling ] && continue
		printf '%s %s; ' "$s" "$([ -n "$ref" ] && [ "$(get fixed "$s" answers_md5)" = "$ref" ] && echo yes || echo NO)"; done)"
	echo "CPU us/q per rep: $(for s in $SERVERS; do printf '%s %s; ' "$s" "$(get fixed "$s" cpu_us_per_q | tr '\n' ' ')"; done)"
	echo
	local me peer r
	me=$(get fixed svcdns qps_per_core | median)
	echo "svcdns's queries/s per core relative to each peer:"
	for s in $SERVERS; do
		[ "$s" = svcdns ] && continue
		peer=$(get fixed "$s" qps_per_core | median)
		r=$(awk -v a="$me" -v b="$peer" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2fx (%.0f %%)", a / b, a / b * 100; else print "na" }')
		printf '  svcdns / %-24s %s\n' "$(peer_label "$s")" "$r"
	done
	echo
	echo "== Unthrottled (\"max\") pass: dnsperf ${DNSPERF_FLAGS[*]}, ${MAX_DURATION}s, one run each"
	echo "CLIENT-BOUND: on 2 cores dnsperf saturates first (dnsperf CPU% near 100); do not rank servers by this q/s."
	printf '%-26s %9s %8s %9s %11s %9s %8s\n' server "q/s" "lost %" "srv CPU%" "dnsperf CPU%" "q/s/core" "avg ms"
	for s in $SERVERS; do
		[ -n "$(get max "$s" qps)" ] || continue
		printf '%-26s %9s %8s %9s %11s %9s %8s%s\n' "$(peer_label "$s")" "$(get max "$s" qps | median)" \
			"$(awk -v l="$(get max "$s" lost | sum)" -v n="$(get max "$s" sent | sum)" 'BEGIN { printf "%.2f", (n > 0) ? l / n * 100 : 0 }')" \
			"$(get max "$s" srv_cpu_pct | median)" "$(get max "$s" client_cpu_pct | median)" \
			"$(get max "$s" qps_per_core | median)" "$(get max "$s" lat_avg_ms | median)" "$(noisy max "$s")"
	done
	echo
	echo "== svcdns latency at 70 % of its max pass: dnsperf -Q $RATE70, ${DURATION}s, medians of $REPS"
	P70_P99=$(get p70 svcdns lat_p99_ms | median)
	printf '%-26s %-10s %9s %9s %9s %9s %9s %9s\n' server "offered" "achieved" "lost" "avg ms" "p50 ms" "p99 ms" "p99.9 ms"
	for s in svcdns ceiling; do
		[ "$(get p70 "$s" qps | median)" != na ] || continue
		printf '%-26s %-10s %9s %9s %9s %9s %9s %9s%s\n' "$(peer_label "$s")" "$RATE70" "$(get p70 "$s" qps | median)" "$(get p70 "$s" lost | sum)" \
			"$(get p70 "$s" lat_avg_ms | median)" "$(get p70 "$s" lat_p50_ms | median)" "$(get p70 "$s" lat_p99_ms | median)" \
			"$(get p70 "$s" lat_p999_ms | median)" "$(noisy p70 "$s")"
	done
	echo "p99 per rep: svcdns $(get p70 svcdns lat_p99_ms | tr '\n' ' '); ceiling $(get p70 ceiling lat_p99_ms | tr '\n' ' ')"
	echo "the same rate from tests/bench/latency (each answer timed from just before its sendmmsg to the kernel's receive"
	echo "timestamp, SO_TIMESTAMPNS: the client's scheduling left out), medians of $REPS; steal = vCPU time lost to other guests:"
	printf '%-26s %9s %6s %9s %9s %9s %9s %9s %9s\n' server "answered" "lost" "avg ms" "p50 ms" "p90 ms" "p99 ms" "p99.9 ms" "steal ms"
	for s in svcdns ceiling; do
		[ "$(get p70k "$s" received | median)" != na ] || continue
		printf '%-26s %9s %6s %9s %9s %9s %9s %9s %9s%s\n' "$(peer_label "$s")" "$(get p70k "$s" received | median)" "$(get p70k "$s" lost | sum)" \
			"$(get p70k "$s" lat_avg_ms | median)" "$(get p70k "$s" lat_p50_ms | median)" "$(get p70k "$s" lat_p90_ms | median)" \
			"$(get p70k "$s" lat_p99_ms | median)" "$(get p70k "$s" lat_p999_ms | median)" "$(get p70k "$s" steal_ms | median)" "$(noisy p70k "$s")"
	done
	P70K_P99=$(get p70k svcdns lat_p99_ms | median)
	echo "p99 per rep: svcdns $(get p70k svcdns lat_p99_ms | tr '\n' ' '); ceiling $(get p70k ceiling lat_p99_ms | tr '\n' ' ')"
	echo "(latencies as dnsperf sees them, client queueing included; dnsperf 2.10 has no histogram option, so they come from -v;"
	echo " the ceiling row is the canned responder at the same rate: what the client and the kernel add without any DNS work)"
	echo
	echo "== svcdns start-up with the $P_SVC-service cluster ($STARTUP_REPS starts)"
	STARTUP=$(get startup svcdns startup_ms | median)
	echo "exec -> first answer: median $(fmt '%s ms' "$STARTUP") (range $(get startup svcdns startup_ms | range) ms); RSS right after: $(kib_mib "$(get startup svcdns rss_kib | median)") MiB$(noisy startup svcdns)"
	STARTUP_CACHE=$(get startup-cache svcdns startup_ms | median)
	echo "with --cache (directory unchanged since the cache was written): median $(fmt '%s ms' "$STARTUP_CACHE") (range $(get startup-cache svcdns startup_ms | range) ms)$(noisy startup-cache svcdns)"
	STARTUP_ALL=$(get startup-all svcdns startup_ms | median)
	echo "cold on CPUs $ALL_CPUS with the default --threads (the files parsed on every CPU): median $(fmt '%s ms' "$STARTUP_ALL") (range $(get startup-all svcdns startup_ms | range) ms); RSS right after: $(kib_mib "$(get startup-all svcdns rss_kib | median)") MiB$(noisy startup-all svcdns)"
	echo "the floor without --cache: libyaml's event parse alone (no walker, no snapshot) of the same $(get yaml-floor svcdns files) files, $(kib_mib "$(get yaml-floor svcdns octets | median | awk '{ print ($1 == "na") ? "na" : int($1 / 1024) }')") MiB, on one core: median $(fmt '%s ms' "$(get yaml-floor svcdns yaml_floor_ms | median)") (min $(get yaml-floor svcdns yaml_floor_min_ms) ms)"
	echo
	echo "== Scale: load time and memory ($REPS reps, medians; MB = 10^6 bytes)"
	printf '%-9s %9s %13s %12s %13s %13s %12s %12s %13s\n' pods services "build load ms" "build RSS MB" "daemon start" "daemon RSS MB" "MB/1k objs" "CoreDNS MB" "ours/CoreDNS"
	local sz pods svcs eps ns rss prev_obj="" prev_rss="" slope=""
	for sz in $SCALE_SIZES; do
		IFS=: read -r pods svcs eps ns <<<"$sz"
		rss=$(get scale-daemon "$pods" rss_kib | median)
		printf '%-9s %9s %13s %12s %13s %13s %12s %12s %13s%s\n' "$pods" "$svcs" \
			"$(get scale-build "$pods" load_total_ms | median)" "$(kib_mb "$(get scale-build "$pods" rss_kib | median)")" \
			"$(fmt '%s ms' "$(get scale-daemon "$pods" startup_ms | median)")" "$(kib_mb "$rss")" \
			"$(awk -v r="$rss" -v n=$((pods + svcs)) 'BEGIN { if (r + 0 > 0) printf "%.3f", r * 1024 / 1e6 / n * 1000; else print "na" }')" \
			"$(awk -v n=$((pods + svcs)) 'BEGIN { printf "%.1f", n * 0.000858 + 49.1 }')" \
			"$(awk -v r="$rss" -v n=$((pods + svcs)) 'BEGIN { if (r + 0 > 0) printf "%.2f", r * 1024 / 1e6 / (n * 0.000858 + 49.1); else print "na" }')" \
			"$(noisy scale-daemon "$pods")"
		if [ -n "$prev_rss" ] && [ "$rss" != na ] && [ "$prev_rss" != na ]; then
			slope=$(awk -v a="$prev_rss" -v b="$rss" -v x="$prev_obj" -v y=$((pods + svcs)) \
				'BEGIN { printf "%.0f", (b - a) * 1024 / 1e6 / (y - x) * 1000 * 1000 }')
		fi
		prev_rss=$rss prev_obj=$((pods + svcs))
		BIG_LOAD=$(get scale-daemon "$pods" startup_ms | median)
		BIG_RSS=$rss BIG_PODS=$pods
	done
	BIG_LOAD_ALL=$(get scale-daemon-all "$BIG_PODS" startup_ms | median)
	BIG_RSS_ALL=$(get scale-daemon-all "$BIG_PODS" rss_kib | median)
	echo "build = tests/bench/bench_build (scan + snapshot, pods verified); daemon = svcdns --threads 1 on CPU $SERVER_CPUS, exec -> first answer, VmRSS then."
	echo "$BIG_PODS pods with the daemon on CPUs $ALL_CPUS and the default --threads: $(fmt '%s ms' "$BIG_LOAD_ALL") (range $(get scale-daemon-all "$BIG_PODS" startup_ms | range) ms), $(kib_mb "$BIG_RSS_ALL") MB$(noisy scale-daemon-all "$BIG_PODS")"
	echo "the same $BIG_PODS pods with 4 annotations each, as real pods carry (CNI address, container ID, restart time; only"
	echo "Services' annotations are kept), daemon on CPU $SERVER_CPUS: $(fmt '%s ms' "$(get scale-daemon-ann "$BIG_PODS" startup_ms | median)"), $(kib_mb "$(get scale-daemon-ann "$BIG_PODS" rss_kib | median)") MB$(noisy scale-daemon-ann "$BIG_PODS")"
	echo "MB/1k objs = daemon RSS per 1,000 pods+services; CoreDNS MB = its published estimate (pods + services) x 0.000858 + 49.1,"
	echo "i.e. 49.1 MB fixed + 0.858 MB per 1,000 objects. svcdns's marginal cost between the two largest sizes:"
	echo "${slope:-na} bytes per pod or service (CoreDNS: 858)."
	echo
	echo "== One-file rebuild at $B_SVC services / $B_PODS pods (bench_build, 10 rounds)"
	REBUILD_MED=$(get rebuild svcdns one_file_total_ms_median | median)
	echo "one_file_total_ms median $REBUILD_MED, max $(get rebuild svcdns one_file_total_ms_max | median) (rescan $(get rebuild svcdns one_file_rescan_ms_median | median) ms + build $(get rebuild svcdns one_file_build_ms_median | median) ms; initial load $(get rebuild svcdns load_total_ms | median) ms)$(noisy rebuild svcdns)"
	echo
	echo "== Blue/green cutover lag: $FLIPS selector flips at $FLIP_RATE q/s (tests/tools/cutover_load), and $QUIET_FLIPS after quiet periods"
	printf '%-34s %8s %8s %8s %7s %6s %6s %6s %8s %6s %7s %7s\n' fixture "lag med" "lag p99" "lag max" "answers" mixed empty error timeout regr "failed" unseen
	for s in small big big-quiet; do
		local label="small (1 service, 6 pods)"
		[ $s = big ] && label="+ $B_SVC svcs / $B_PODS pods"
		[ $s = big-quiet ] && label="  the same, $QUIET_FLIPS flips after quiet"
		if [ -z "$(get cutover "$s" sent)" ]; then
			printf '%-34s %s\n' "$label" "no result (not run, or failed: see the warnings)"
			continue
		fi
		printf '%-34s %8s %8s %8s %7s %6s %6s %6s %8s %6s %7s %7s%s\n' "$label" \
			"$(get cutover "$s" lag_ms_median)" "$(get cutover "$s" lag_ms_p99)" "$(get cutover "$s" lag_ms_max)" \
			"$(get cutover "$s" answered)" "$(get cutover "$s" mixed)" "$(get cutover "$s" empty)" \
			"$(get cutover "$s" error)" "$(get cutover "$s" timeout)" "$(get cutover "$s" regressions)" \
			"$(get cutover "$s" flip_failed)" "$(get cutover "$s" flip_unseen)" "$(noisy cutover "$s")"
	done
	echo "lag = flip command's exit (Service file renamed into place) -> first answer of the new color, in ms;"
	echo "one flip every $FLIP_INTERVAL_MS ms (small) / $BIG_FLIP_INTERVAL_MS ms (big) / $QUIET_FLIP_INTERVAL_MS ms (after quiet: svcdns has freed"
	echo "the last rebuild's spare memory by then, so each of those rebuilds faults in fresh pages, like the first flip after a start);"
	echo "svcdns --threads 1 on CPU $SERVER_CPUS, default --settle-ms."
	echo
	targets
	echo
	if [ -s "$OUT/warnings.txt" ]; then
		echo "WARNINGS ($(wc -l <"$OUT/warnings.txt")): the figures marked '!' were taken on a busy machine:"
		sed 's/^/  /' "$OUT/warnings.txt" | head -30
	else
		echo "no warnings: every measurement started on a quiet machine"
	fi
	echo "total run time: $(($(date +%s) - T_START)) s"
}

targets() {
	local me knot ceil lost rss_me rss_knot v lagS lagB lagQ errs
	me=$(get fixed svcdns qps_per_core | median)
	knot=$(get fixed knot qps_per_core | median)
	ceil=$(get fixed ceiling qps_per_core | median)
	lost=$(get fixed svcdns lost | sum)
	[ -n "$(get fixed svcdns completed)" ] || lost=na
	rss_me=$(get fixed svcdns rss_kib | median)
	rss_knot=$(get fixed knot rss_kib | median)
	lagS=$(get cutover small lag_ms_p99)
	lagB=$(get cutover big lag_ms_p99)
	lagQ=$(get cutover big-quiet lag_ms_max)
	echo "== Targets"
	printf '%-62s %-20s %-10s %s\n' target measured limit verdict
	v=$(awk -v a="$me" -v b="$knot" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "na" }')
	printf '%-62s %-20s %-10s %s\n' "svcdns q/s per core vs Knot" "$(fmt '%sx' "$v")" ">= 1.1x" "$(verdict "$v" '>=' 1.1)"
	v=$(awk -v a="$me" -v b="$ceil" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1f", a / b * 100; else print "na" }')
	printf '%-62s %-20s %-10s %s\n' "svcdns q/s per core vs the UDP ceiling" "$(fmt '%s %%' "$v")" ">= 90 %" "$(verdict "$v" '>=' 90)"
	printf '%-62s %-20s %-10s %s\n' "svcdns queries lost at $RATE q/s (all reps)" "$lost" "0" "$(verdict "$lost" '==' 0)"
	v=$(awk -v a="$rss_me" -v b="$rss_knot" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1f", a - b; else print "na" }')
	printf '%-62s %-20s %-10s %s\n' "RSS, $P_SVC-service cluster: svcdns vs Knot (MiB)" "$(kib_mib "$rss_me") vs $(kib_mib "$rss_knot")" "<= Knot" "$(verdict "$v" '<=' 0)"
	printf '%-62s %-20s %-10s %s\n' "svcdns start-up, $P_SVC services, --cache (exec -> first answer)" "$(fmt '%s ms' "$STARTUP_CACHE")" "<= 20 ms" "$(verdict "$STARTUP_CACHE" '<=' 20)"
	printf '%-62s %-20s %-10s %s\n' "svcdns start-up, $P_SVC services, cold (parse first), 1 CPU" "$(fmt '%s ms' "$STARTUP")" "<= 20 ms" "$(verdict "$STARTUP" '<=' 20)"
	printf '%-62s %-20s %-10s %s\n' "  the same on every CPU, default --threads" "$(fmt '%s ms' "$STARTUP_ALL")" "<= 20 ms" "$(verdict "$STARTUP_ALL" '<=' 20)"
	v=$(awk -v a="$BIG_LOAD" 'BEGIN { if (a + 0 > 0) printf "%.2f", a / 1000; else print "na" }')
	printf '%-62s %-20s %-10s %s\n' "$BIG_PODS pods loaded (daemon exec -> first answer), 1 CPU" "$(fmt '%s s' "$v")" "< 3 s" "$(verdict "$v" '<' 3)"
	v=$(awk -v a="$BIG_LOAD_ALL" 'BEGIN { if (a + 0 > 0) printf "%.2f", a / 1000; else print "na" }')
	printf '%-62s %-20s %-10s %s\n' "  the same on every CPU, default --threads" "$(fmt '%s s' "$v")" "< 3 s" "$(verdict "$v" '<' 3)"
	v=$(kib_mb "$BIG_RSS")
	printf '%-62s %-20s %-10s %s\n' "$BIG_PODS pods: daemon RSS, 1 CPU" "$(fmt '%s MB' "$v")" "< 100 MB" "$(verdict "$v" '<' 100)"
	v=$(kib_mb "$BIG_RSS_ALL")
	printf '%-62s %-20s %-10s %s\n' "  the same on every CPU, default --threads" "$(fmt '%s MB' "$v")" "< 100 MB" "$(verdict "$v" '<' 100)"
	printf '%-62s %-20s %-10s %s\n' "svcdns p99 latency at 70 % of its max ($RATE70 q/s), dnsperf -v" "$(fmt '%s ms' "$P70_P99")" "< 1 ms" "$(verdict "$P70_P99" '<' 1)"
	printf '%-62s %-20s %-10s %s\n' "  the same, kernel receive timestamps (tests/bench/latency)" "$(fmt '%s ms' "$P70K_P99")" "< 1 ms" "$(verdict "$P70K_P99" '<' 1)"
	printf '%-62s %-20s %-10s %s\n' "cutover lag p99, small fixture" "$(fmt '%s ms' "$lagS")" "< 50 ms" "$(verdict "$lagS" '<' 50)"
	printf '%-62s %-20s %-10s %s\n' "cutover lag p99, with $B_SVC services / $B_PODS pods" "$(fmt '%s ms' "$lagB")" "< 50 ms" "$(verdict "$lagB" '<' 50)"
	printf '%-62s %-20s %-10s %s\n' "  the same, flips after quiet periods (max)" "$(fmt '%s ms' "$lagQ")" "< 50 ms" "$(verdict "$lagQ" '<' 50)"
	errs=$(for s in small big big-quiet; do for k in mixed empty error timeout regressions flip_failed flip_unseen; do get cutover $s $k; done; done | sum)
	[ -n "$(get cutover small sent)$(get cutover big sent)$(get cutover big-quiet sent)" ] || errs=na
	printf '%-62s %-20s %-10s %s\n' "cutover errors (mixed/empty/error/timeout/regr./failed/unseen)" "$errs" "0" "$(verdict "$errs" '==' 0)"
	printf '%-62s %-20s %-10s %s\n' "one-file rebuild, $B_SVC services / $B_PODS pods (median)" "$(fmt '%s ms' "$REBUILD_MED")" "< 100 ms" "$(verdict "$REBUILD_MED" '<' 100)"
	if [ "$QUICK" = 1 ]; then
		echo "QUICK=1: tiny sizes and short runs; a smoke test of the script, not figures to compare with the targets."
	fi
}

# ---- main ---------------------------------------------------------------

main() {
	install_peers
	check_bins
	rm -rf "$DATA" "$RAW" "$RUNS" "$OUT/warnings.txt"
	mkdir -p "$DATA" "$RAW" "$RUNS"
	: >"$RESULTS"
	say "datasets"
	prepare_peer_data
	read -r B_SVC B_PODS B_EPS B_NS <<<"$BIG_SIZE"
	gen "$DATA/big" "$B_SVC" "$B_PODS" "$B_EPS" "$B_NS"
	for part in $PARTS; do
		case $part in
		peers | startup | scale | rebuild | cutover) "bench_$part" ;;
		*) warn "unknown part '$part' in PARTS" ;;
		esac
	done
	cleanup
	report | tee "$OUT/report.txt"
}

main
