# Helpers for the integration tests; sourced by run.sh and by each case.
#
# A case is a directory NNN-topic/ with:
#   zones/     the manifests the daemon loads (copied to a temp directory)
#   case.conf  optional, sourced before the daemon starts:
#                DAEMON_ARGS=(--pods insecure)  extra svcdns arguments
#                ZONES_FROM=top                 use the repository's zones/
#                START=no                       do not start a daemon
#                TIMEOUT=60                     seconds, before scaling
#   test.sh    the checks, sourced with the helpers below; the daemon is
#              already answering on 127.0.0.1:$PORT
#   expected/  files the checks compare against
#
# The main check is expect_dig: it runs
#   dig +norec +nocookie +noall +comments +answer +authority +additional
# normalises the output (query ID and SOA serial replaced, blank lines and
# dig's ".local is mDNS" warnings dropped, blanks collapsed, the records of
# each section sorted) and compares it with an expected/ file, after
# asserting the rcode and the header flags. Lines starting with '#' in an
# expected file are comments. So an expected file reads:
#   ;; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN
#   ;; flags: qr aa; QUERY: 1, ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 1
#   ;; OPT PSEUDOSECTION:
#   ; EDNS: version: 0, flags:; udp: 1232
#   ;; AUTHORITY SECTION:
#   cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. SERIAL 7200 1800 86400 5
#
# A failed check appends one line to $WORK/fails and the case goes on, so
# one run shows every failure of a case.
#
# Helpers for test.sh: expect_dig, dig_answers, expect_cares (c-ares client),
# expect_eq, expect_match, expect_grep, wait_until, soa_serial, fail, note,
# it_skip;
# start_daemon, stop_daemon, restart_daemon, run_svcdns (--check, --dump);
# raw messages: it_query, it_tcp_frame, it_tcp_read, it_udp_exchange,
# it_header. Variables: PORT, DAEMON_PID, DAEMON_ERR, ZONES (the temp copy
# the daemon reads), WORK (the case's temp directory), CASE_DIR,
# SVCDNS_BUILD, SVCDNS_ROOT.

IT_DIG_BASE=(+norec +nocookie +noall +comments +answer +authority +additional
	+tries=1 +retry=0)
IT_SAN_RE='ERROR: (Address|Leak|Memory|Thread|UndefinedBehavior)Sanitizer|WARNING: (Thread|Address)Sanitizer|runtime error:|SUMMARY: [A-Za-z]+Sanitizer'
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1}

# ---- timing --------------------------------------------------------------

# it_scale N: N seconds times SVCDNS_TEST_TIMEOUT_MULTIPLIER, rounded up.
it_scale()
{
	awk -v n="$1" -v m="${SVCDNS_TEST_TIMEOUT_MULTIPLIER:-1}" \
		'BEGIN { v = n * m; i = int(v); if (i < v) i++; if (i < 1) i = 1; print i }'
}

# it_case_timeout DIR: the case's time limit in seconds, scaled.
it_case_timeout()
{
	local t
	t=$(sed -n 's/^TIMEOUT=\([0-9][0-9]*\).*/\1/p' "$1/case.conf" 2>/dev/null)
	it_scale "${t:-60}"
}

# ---- results -------------------------------------------------------------

fail()
{
	echo "$*" >>"$WORK/fails"
	echo "FAIL: $*"
}

note()
{
	echo "$*"
}

# it_skip REASON: the case cannot run on this machine (a privilege or a
# kernel feature it needs is missing); run.sh reports it as skipped, not
# passed. The caller returns after it.
it_skip()
{
	echo "$*" >>"$WORK/skipped"
	note "SKIP: $*"
}

# it_netns_add NAME: makes the network namespace NAME, its lo up. Where
# that cannot be done, skips the case (it_skip, with the reason) and
# returns 1; the caller returns after it. The case deletes NAME itself
# (ip netns del) when it is done.
it_netns_add()
{
	if ! ip netns add "$1" 2>"$WORK/netns.err"; then
		it_skip "cannot create a network namespace: $(cat "$WORK/netns.err")"
		return 1
	fi
	it_netns_exec "$1" ip link set lo up
}

# it_netns_exec NAME CMD...: CMD inside the network namespace NAME,
# bounded in time.
it_netns_exec()
{
	local ns=$1
	shift
	timeout -k 2 "$(it_scale 30)" ip netns exec "$ns" "$@"
}

# expect_eq LABEL EXPECTED ACTUAL
expect_eq()
{
	if [ "$2" != "$3" ]; then
		fail "$1: expected '$2', got '$3'"
		return 1
	fi
	[ "${SVCDNS_TEST_VERBOSE:-0}" = 1 ] && note "ok: $1"
	return 0
}

# wait_until SECONDS CMD...: runs CMD every 0.1 s until it succeeds, for at
# most SECONDS (scaled). Returns CMD's last status.
wait_until()
{
	local n i
	n=$(($(it_scale "$1") * 10))
	shift
	for i in $(seq 1 "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

# soa_serial [ZONE]: the SOA serial the daemon serves now.
soa_serial()
{
	dig -p "$PORT" @127.0.0.1 +norec +short +time=2 +tries=1 \
		"${1:-cluster.local}" SOA | awk '{ print $3 }'
}

# expect_match LABEL GLOB ACTUAL: ACTUAL must match the shell pattern GLOB.
expect_match()
{
	# shellcheck disable=SC2053
	if [[ $3 != $2 ]]; then
		fail "$1: '$3' does not match '$2'"
		return 1
	fi
	[ "${SVCDNS_TEST_VERBOSE:-0}" = 1 ] && note "ok: $1"
	return 0
}

# expect_grep LABEL REGEX FILE...: some line of the files matches the
# extended regular expression.
expect_grep()
{
	local label=$1 re=$2
	shift 2
	if ! cat "$@" 2>/dev/null | grep -qE -- "$re"; then
		fail "$label: no line matches /$re/"
		cat "$@" 2>/dev/null | head -20 | sed 's/^/  got: /'
		return 1
	fi
	[ "${SVCDNS_TEST_VERBOSE:-0}" = 1 ] && note "ok: $label"
	return 0
}

# it_diff LABEL EXPECTED_FILE ACTUAL_TEXT: compares, '#' lines of the
# expected file left out; prints a unified diff on a mismatch.
it_diff()
{
	local label=$1 file=$2 actual=$3 want
	if [ ! -f "$file" ]; then
		fail "$label: expected file ${file#"$CASE_DIR"/} missing"
		printf '%s\n' "$actual" | sed 's/^/  got: /'
		return 1
	fi
	want=$(grep -v '^#' "$file")
	if [ "$want" != "$actual" ]; then
		fail "$label: output differs from ${file#"$CASE_DIR"/}"
		diff -u <(printf '%s\n' "$want") <(printf '%s\n' "$actual") |
			tail -n +3 | sed 's/^/  /'
		return 1
	fi
	[ "${SVCDNS_TEST_VERBOSE:-0}" = 1 ] && note "ok: $label"
	return 0
}

# ---- the daemon ----------------------------------------------------------

# it_alive PID: true while PID runs (a zombie child counts as gone).
it_alive()
{
	local st
	st=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ] && [ "$st" != x ]
}

# it_port_free PORT: nothing listens on it (TCP) or is bound to it (UDP).
it_port_free()
{
	command -v ss >/dev/null 2>&1 || return 0
	[ -z "$(ss -Htuan "( sport = :$1 )" 2>/dev/null)" ]
}

# it_pick_port: a random free port outside the kernel's ephemeral range
# (net.ipv4.ip_local_port_range; below it when it leaves room, 10000 up).
# Inside it the kernel may give a client that sets SO_REUSEPORT, as dig
# does, and runs as the daemon's user the daemon's own port as its
# source port (about 1 bind in 27,000 here): the client's connected socket
# then takes its own query back (";; Warning: query response not set")
# and the daemon never sees it.
it_pick_port()
{
	local i p lo=32768 hi=60999 base=10000 span
	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null
	span=$((lo - base))
	if [ "$span" -lt 2000 ]; then
		base=$((hi + 1))
		span=$((65536 - base))
	fi
	if [ "$span" -lt 2000 ]; then # the range covers almost everything
		base=20000
		span=40001
	fi
	for i in $(seq 1 50); do
		p=$((base + (RANDOM * 32768 + RANDOM) % span))
		if it_port_free "$p"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# it_first_domain ARGS...: the first --domain among ARGS, or cluster.local.
it_first_domain()
{
	while [ $# -gt 0 ]; do
		case $1 in
		--domain)
			echo "${2:-cluster.local}"
			return
			;;
		--domain=*)
			echo "${1#--domain=}"
			return
			;;
		esac
		shift
	done
	echo cluster.local
}

# it_wait_ready ZONE: polls with dig until the apex SOA answers NOERROR
# (before the first snapshot the daemon answers SERVFAIL). Bounded: about
# 10 s, scaled. Returns 1 if the daemon died or never answered.
it_wait_ready()
{
	local zone=$1 i n out
	n=$(($(it_scale 10) * 10))
	for i in $(seq 1 "$n"); do
		it_alive "$DAEMON_PID" || return 1
		out=$(dig +norec +tries=1 +time=1 -p "$PORT" @127.0.0.1 \
			"$zone" SOA 2>/dev/null)
		case $out in *"status: NOERROR"*) return 0 ;; esac
		sleep 0.1
	done
	return 1
}

# start_daemon [ARGS...]: starts BUILD/svcdns on $ZONES and a free port
# (retrying on another port when the bind fails) and waits until it
# answers. "@PORT@" in ARGS is replaced by that port (for a second
# --listen). Sets PORT and DAEMON_PID; its stderr goes to $DAEMON_ERR.
start_daemon()
{
	local rc zone
	zone=$(it_first_domain "$@")
	for _ in 1 2 3 4 5; do
		PORT=$(it_pick_port) || {
			fail "no free port found"
			return 1
		}
		DAEMON_N=$((${DAEMON_N:-0} + 1))
		DAEMON_ERR=$WORK/daemon.$DAEMON_N.err
		DAEMON_OUT=$WORK/daemon.$DAEMON_N.out
		# --upstream none unless the case asks for one: the default
		# (/etc/resolv.conf) must never send test traffic off the
		# machine. --http none too: the default 127.0.0.1:9153 is one
		# port for every daemon (cases that test HTTP pass --http).
		# --user as whoever runs the tests: as root that is "stay root
		# on purpose" (svcdns refuses root on a high port otherwise), as
		# anyone else a no-op; a case may name another.
		"$SVCDNS_BUILD/svcdns" --zones "$ZONES" \
			--listen "127.0.0.1:$PORT" --upstream none --http none \
			--user "$(id -un)" \
			"${@//@PORT@/$PORT}" \
			>"$DAEMON_OUT" 2>"$DAEMON_ERR" </dev/null &
		DAEMON_PID=$!
		echo "$DAEMON_PID" >>"$WORK/daemon.pids"
		if it_wait_ready "$zone"; then
			[ "${SVCDNS_TEST_VERBOSE:-0}" = 1 ] &&
				note "daemon $DAEMON_PID on port $PORT: $*"
			return 0
		fi
		if ! it_alive "$DAEMON_PID"; then
			wait "$DAEMON_PID"
			rc=$?
			DAEMON_PID=
			if grep -qiE 'in use|EADDRINUSE|bind' "$DAEMON_ERR"; then
				note "port $PORT busy, retrying"
				continue
			fi
			fail "daemon exited with status $rc before answering ($*): $(tail -3 "$DAEMON_ERR" | tr '\n' ' ')"
			return 1
		fi
		fail "daemon did not answer $zone SOA within $(it_scale 10)s ($*)"
		stop_daemon
		return 1
	done
	fail "could not bind a port after 5 tries"
	return 1
}

# it_check_sanitizers FILE LABEL: fails on any sanitizer report in FILE.
it_check_sanitizers()
{
	if grep -qE "$IT_SAN_RE" "$1" 2>/dev/null; then
		fail "$2: sanitizer report in ${1##*/}: $(grep -m1 -E "$IT_SAN_RE" "$1")"
		sed 's/^/  /' "$1" | head -40
		return 1
	fi
	return 0
}

# stop_daemon: SIGTERM, wait (bounded), then the exit status must be 0 and
# stderr free of sanitizer reports.
stop_daemon()
{
	local i n rc
	[ -n "${DAEMON_PID:-}" ] || return 0
	kill -TERM "$DAEMON_PID" 2>/dev/null
	n=$(($(it_scale 10) * 10))
	for i in $(seq 1 "$n"); do
		it_alive "$DAEMON_PID" || break
		sleep 0.1
	done
	if it_alive "$DAEMON_PID"; then
		kill -KILL "$DAEMON_PID" 2>/dev/null
		fail "daemon $DAEMON_PID still running $(it_scale 10)s after SIGTERM"
	fi
	wait "$DAEMON_PID"
	rc=$?
	if [ "$rc" != 0 ]; then
		fail "daemon exited with status $rc after SIGTERM: $(tail -3 "$DAEMON_ERR" | tr '\n' ' ')"
	fi
	it_check_sanitizers "$DAEMON_ERR" "daemon"
	DAEMON_PID=
}

# restart_daemon [ARGS...]: stop_daemon, then start_daemon ARGS.
restart_daemon()
{
	stop_daemon
	start_daemon "$@"
}

# it_reap_daemons WORK: after a case (or its timeout), kills any daemon it
# left running, by the PIDs it recorded, after checking they are svcdns.
it_reap_daemons()
{
	local pid
	[ -f "$1/daemon.pids" ] || return 0
	while read -r pid; do
		if it_alive "$pid" &&
			tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q svcdns; then
			kill -KILL "$pid" 2>/dev/null
			echo "daemon $pid left running, killed" >>"$1/fails"
		fi
	done <"$1/daemon.pids"
}

# run_svcdns [ARGS...]: runs the binary in the foreground (bounded), for
# --check and --dump. Sets RUN_RC, RUN_OUT, RUN_ERR (file names).
run_svcdns()
{
	RUN_N=$((${RUN_N:-0} + 1))
	RUN_OUT=$WORK/run.$RUN_N.out
	RUN_ERR=$WORK/run.$RUN_N.err
	timeout -k 2 "$(it_scale 20)" "$SVCDNS_BUILD/svcdns" "$@" \
		>"$RUN_OUT" 2>"$RUN_ERR" </dev/null
	# shellcheck disable=SC2034 # read by the cases
	RUN_RC=$?
	it_check_sanitizers "$RUN_ERR" "svcdns $*"
}

# ---- dig -----------------------------------------------------------------

# it_dig ARGS...: dig against the daemon with the fixed base options.
it_dig()
{
	dig -p "$PORT" @127.0.0.1 "${IT_DIG_BASE[@]}" +time="$(it_scale 2)" "$@"
}

# it_normalize ORDER: dig output on stdin -> normalised text. Every comment
# line starts a new group; the records of a group are sorted unless ORDER
# is "keep".
it_normalize()
{
	awk -v keep="${1:-sort}" '
	/^;; Got answer:$/ { next }
	/^;; WARNING: \.local is reserved for Multicast DNS$/ { next }
	/^;; You are currently testing what happens when an mDNS query/ { next }
	/^[ \t]*$/ { next }
	/^;/ {
		grp++
		line = $0
		sub(/, id: [0-9]+$/, "", line)
		gsub(/[ \t]+/, " ", line)
		printf "%d\t0\t%08d\t%s\n", grp, ++n, line
		next
	}
	{
		$1 = $1
		if ($4 == "SOA" && NF >= 11) { $7 = "SERIAL" }
		key = (keep == "keep") ? sprintf("%08d", ++n) : $0
		printf "%d\t1\t%s\t%s\n", grp, key, $0
	}' | LC_ALL=C sort -t "$(printf '\t')" -k1,1n -k2,2n -k3,3 |
		cut -f4-
}

# it_drop_section NAME: removes the records of one section (ANSWER,
# AUTHORITY, ADDITIONAL) and its count in the flags line.
it_drop_section()
{
	awk -v sec="$1" '
	/^;/ { skip = ($0 == ";; " sec " SECTION:") }
	skip { next }
	{ sub(sec ": [0-9]+", sec ": *"); print }'
}

# expect_dig [+DIGOPT...] NAME [TYPE] [rcode=R[|R2]] [flags="qr aa"]
#            [file=EXPECTED] [order=keep] [ignore=ADDITIONAL] [class=CH]
# Queries NAME TYPE (default A) and asserts the rcode (default NOERROR),
# the header flags exactly (default "qr aa"; "any" skips) and, with file=,
# the whole normalised output against expected/EXPECTED.
expect_dig()
{
	local a digopts=() pos=() rcode=NOERROR flags="qr aa" file='' order=sort
	local ignore='' out rc norm got_rcode got_flags label sec class=''
	for a in "$@"; do
		case $a in
		+*) digopts+=("$a") ;;
		rcode=*) rcode=${a#rcode=} ;;
		flags=*) flags=${a#flags=} ;;
		file=*) file=${a#file=} ;;
		order=*) order=${a#order=} ;;
		ignore=*) ignore=${a#ignore=} ;;
		class=*) class=${a#class=} ;;
		*) pos+=("$a") ;;
		esac
	done
	label="dig ${pos[*]}${class:+ $class}${digopts[*]:+ ${digopts[*]}}"
	# The class goes after the type: "-c CH" before the name makes dig 9.18
	# send a second query.
	out=$(it_dig "${digopts[@]}" "${pos[0]}" "${pos[1]:-A}" ${class:+"$class"} 2>&1)
	rc=$?
	if [ $rc != 0 ]; then
		fail "$label: dig exited $rc: $(printf '%s' "$out" | tail -2 | tr '\n' ' ')"
		return 1
	fi
	norm=$(printf '%s\n' "$out" | it_normalize "$order")
	for sec in ${ignore//,/ }; do
		norm=$(printf '%s\n' "$norm" | it_drop_section "$sec")
	done
	got_rcode=$(printf '%s\n' "$norm" | sed -n 's/.*, status: \([A-Z0-9]*\).*/\1/p' | tail -1)
	got_flags=$(printf '%s\n' "$norm" | sed -n 's/^;; flags: *\([^;]*\);.*/\1/p' | tail -1)
	case "|$rcode|" in
	*"|$got_rcode|"*) ;;
	*)
		fail "$label: rcode $got_rcode, expected $rcode"
		printf '%s\n' "$norm" | sed 's/^/  got: /'
		return 1
		;;
	esac
	if [ "$flags" != any ] && [ "$got_flags" != "$flags" ]; then
		fail "$label: flags '$got_flags', expected '$flags'"
		printf '%s\n' "$norm" | sed 's/^/  got: /'
		return 1
	fi
	if [ -n "$file" ]; then
		it_diff "$label" "$CASE_DIR/expected/$file" "$norm" || return 1
	elif [ "${SVCDNS_TEST_VERBOSE:-0}" = 1 ]; then
		note "ok: $label"
	fi
	return 0
}

# dig_answers [+DIGOPT...] NAME TYPE: the answer records only, one per line,
# normalised and sorted (for checks that build their expectation).
dig_answers()
{
	it_dig "$@" | it_normalize |
		awk '/^;; ANSWER SECTION:$/ { on = 1; next } /^;/ { on = 0 } on'
}

# ---- c-ares --------------------------------------------------------------

# expect_cares [--tcp|--no-edns|--edns N...] NAME TYPE [NAME TYPE...]
#              [exit=N] [file=EXPECTED | out="LINE"]
# Runs BUILD/tests/tools/cares_query, replaces the SOA serial, and compares
# its output with expected/EXPECTED or the one-line out= text.
expect_cares()
{
	local a args=() want_rc=0 file='' out='' have_out=0 got rc label
	local tool=$SVCDNS_BUILD/tests/tools/cares_query
	for a in "$@"; do
		case $a in
		exit=*) want_rc=${a#exit=} ;;
		file=*) file=${a#file=} ;;
		out=*)
			out=${a#out=}
			have_out=1
			;;
		*) args+=("$a") ;;
		esac
	done
	label="cares_query ${args[*]}"
	if [ ! -x "$tool" ]; then
		fail "$tool not built (make tools)"
		return 1
	fi
	# Options go before SERVER PORT, names after.
	local opts=() rest=()
	for a in "${args[@]}"; do
		if [ ${#rest[@]} = 0 ] && [[ $a == --* ]]; then
			opts+=("$a")
		elif [ ${#rest[@]} = 0 ] && [ ${#opts[@]} -gt 0 ] &&
			[ "${opts[-1]}" = --edns ] && [[ $a =~ ^[0-9]+$ ]]; then
			opts+=("$a")
		else
			rest+=("$a")
		fi
	done
	timeout -k 2 "$(it_scale 20)" "$tool" "${opts[@]}" \
		--timeout "$(($(it_scale 2) * 1000))" --tries 2 \
		127.0.0.1 "$PORT" "${rest[@]}" >"$WORK/cares.out" 2>"$WORK/cares.err"
	rc=$?
	got=$(awk '$1 == "SOA" && NF == 8 { $4 = "SERIAL" } { print }' "$WORK/cares.out")
	it_check_sanitizers "$WORK/cares.err" "$label"
	if [ "$rc" != "$want_rc" ]; then
		fail "$label: exit $rc, expected $want_rc: $(printf '%s' "$got" | tr '\n' ' ')$(head -2 "$WORK/cares.err" | tr '\n' ' ')"
		return 1
	fi
	if [ $have_out = 1 ]; then
		expect_eq "$label" "$out" "$got"
	elif [ -n "$file" ]; then
		it_diff "$label" "$CASE_DIR/expected/$file" "$got"
	fi
}

# ---- raw DNS messages (bash /dev/tcp and /dev/udp) -----------------------

# it_wire_name NAME: the name in wire form as \xHH escapes.
it_wire_name()
{
	local name=${1%.} label i c out=
	local IFS=.
	for label in $name; do
		out+=$(printf '\\x%02x' "${#label}")
		for ((i = 0; i < ${#label}; i++)); do
			c=${label:i:1}
			out+=$(printf '\\x%02x' "'$c")
		done
	done
	printf '%s\\x00' "$out"
}

# it_u16 N: two octets, big-endian, as \xHH escapes.
it_u16()
{
	printf '\\x%02x\\x%02x' $(($1 >> 8 & 255)) $(($1 & 255))
}

# it_query ID NAME TYPE [FLAGS [QDCOUNT [CLASS]]]: a query message (no
# length prefix) as \xHH escapes. FLAGS is the 16-bit header flags word
# (default 0: QUERY, RD clear); QDCOUNT 0 leaves the question out.
it_query()
{
	local id=$1 name=$2 type=$3 flags=${4:-0} qd=${5:-1} class=${6:-1}
	local msg
	msg=$(it_u16 "$id")$(it_u16 "$flags")$(it_u16 "$qd")$(it_u16 0)$(it_u16 0)$(it_u16 0)
	if [ "$qd" != 0 ]; then
		msg+=$(it_wire_name "$name")$(it_u16 "$type")$(it_u16 "$class")
	fi
	printf '%s' "$msg"
}

# it_tcp_frame MSG: MSG (escapes) with its 2-octet length prefix.
it_tcp_frame()
{
	local len
	len=$(printf '%b' "$1" | wc -c)
	printf '%s%s' "$(it_u16 "$len")" "$1"
}

# it_read_exact FD N: reads exactly N octets from FD (bounded), printed as
# space-separated hex. Empty output on EOF or timeout.
it_read_exact()
{
	timeout "$(it_scale 3)" dd bs="$2" count=1 iflag=fullblock status=none \
		<&"$1" 2>/dev/null | od -An -v -tx1 | tr -s ' \n' '  ' | sed 's/^ //; s/ $//'
}

# it_tcp_read FD: one length-prefixed message from FD as hex; 1 on EOF.
it_tcp_read()
{
	local hdr len
	hdr=$(it_read_exact "$1" 2)
	[ -n "$hdr" ] || return 1
	# shellcheck disable=SC2086 # split the octets
	set -- "$1" $hdr
	len=$((0x$2 * 256 + 0x$3))
	[ "$len" -gt 0 ] || return 1
	it_read_exact "$1" "$len"
}

# it_udp_exchange MSG: sends MSG (escapes) in one datagram and prints the
# reply as hex, or nothing when none comes within 2 s (scaled).
it_udp_exchange()
{
	local fd out
	exec {fd}<>"/dev/udp/127.0.0.1/$PORT" || return 1
	printf '%b' "$1" >&"$fd"
	out=$(timeout "$(it_scale 2)" dd bs=65535 count=1 status=none <&"$fd" 2>/dev/null |
		od -An -v -tx1 | tr -s ' \n' '  ' | sed 's/^ //; s/ $//')
	exec {fd}>&-
	printf '%s' "$out"
}

# it_header HEX: decodes a message header ->
# "id=N qr=N opcode=N aa=N tc=N rd=N ra=N rcode=N qd=N an=N ns=N ar=N"
it_header()
{
	local b
	# shellcheck disable=SC2206
	b=($1)
	if [ ${#b[@]} -lt 12 ]; then
		echo "short(${#b[@]})"
		return 1
	fi
	local h=$((0x${b[2]})) l=$((0x${b[3]}))
	printf 'id=%d qr=%d opcode=%d aa=%d tc=%d rd=%d ra=%d rcode=%d qd=%d an=%d ns=%d ar=%d\n' \
		$((0x${b[0]} * 256 + 0x${b[1]})) $((h >> 7)) $((h >> 3 & 15)) \
		$((h >> 2 & 1)) $((h >> 1 & 1)) $((h & 1)) $((l >> 7)) $((l & 15)) \
		$((0x${b[4]} * 256 + 0x${b[5]})) $((0x${b[6]} * 256 + 0x${b[7]})) \
		$((0x${b[8]} * 256 + 0x${b[9]})) $((0x${b[10]} * 256 + 0x${b[11]}))
}

# ---- one case ------------------------------------------------------------

# it_case_main CASE_DIR WORK: runs one case in this (fresh) shell; exits 0
# when no check failed.
it_case_main()
{
	CASE_DIR=$1
	WORK=$2
	: >"$WORK/fails"
	DAEMON_ARGS=()
	ZONES_FROM=case
	START=yes
	DAEMON_PID=
	if [ -f "$CASE_DIR/case.conf" ]; then
		# shellcheck source=/dev/null
		. "$CASE_DIR/case.conf"
	fi
	ZONES=$WORK/zones
	mkdir -p "$ZONES"
	case $ZONES_FROM in
	top) cp -a "$SVCDNS_ROOT/zones/." "$ZONES/" ;;
	none) ;;
	*) [ -d "$CASE_DIR/zones" ] && cp -a "$CASE_DIR/zones/." "$ZONES/" ;;
	esac
	if [ "$START" = yes ]; then
		if ! start_daemon "${DAEMON_ARGS[@]}"; then
			exit 1
		fi
	fi
	# shellcheck source=/dev/null
	. "$CASE_DIR/test.sh"
	stop_daemon
	[ ! -s "$WORK/fails" ]
	exit
}
