#!/usr/bin/env bash
# make check-valgrind (RELIABILITY.md L15): the optimised daemon under
# valgrind --leak-check=full through a short load, then SIGTERM:
#   - a few thousand UDP queries (tests/tools/soak_client: half NXDOMAIN in
#     the zone, half forwarded to tests/tools/fakeup through c-ares and the
#     cache), and the same names again (cache hits);
#   - TCP: one dig process sending VG_TCP (500) queries over a kept-open
#     connection, plus single-query connections;
#   - a reload (a new file, the blue/green Service removed, then SIGHUP),
#     after which the start-up cache is written; a change the watch finds
#     on its own (an early build, watch.c); SIGUSR1 (stats), and GET
#     /metrics, /ready and /health on the HTTP endpoint;
#   - SIGTERM: exit status 0.
# Passes when valgrind reports 0 errors and nothing definitely or
# indirectly lost ("still reachable" is not a leak: it is what the libraries
# keep until exit). The log is printed on a failure; VG_KEEP=1 keeps it.
#
#   tests/soak/valgrind.sh [BUILD_DIR]    (default build)
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-build}
case $build in
/*) ;;
*) build=$root/$build ;;
esac
VG_UDP=${VG_UDP:-3000}
VG_TCP=${VG_TCP:-500}
export SVCDNS_BUILD=$build
export SVCDNS_ROOT=$root
# shellcheck source=../integration/lib.sh
. "$root/tests/integration/lib.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/svcdns-vg.XXXXXX")
ZONES=$WORK/zones
: >"$WORK/fails"
mkdir -p "$ZONES"
cp -a "$root/zones/." "$ZONES/"
PIDS=()
vg_cleanup()
{
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	if [ "${VG_KEEP:-0}" = 1 ]; then
		echo "valgrind: kept $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap vg_cleanup EXIT

PORT=$(it_pick_port)
FPORT=$(it_pick_port)
HPORT=$(it_pick_port)
"$build/tests/tools/fakeup" "$FPORT" ok --lifetime 600 >"$WORK/fakeup.out" 2>&1 &
PIDS+=("$!")
VGLOG=$WORK/valgrind.log
valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
	--track-fds=yes --log-file="$VGLOG" \
	"$build/svcdns" --zones "$ZONES" --listen "127.0.0.1:$PORT" \
	--listen "[::1]:$PORT" --threads 2 --upstream "127.0.0.1:$FPORT" \
	--allow-recursion 127.0.0.0/8 --settle-ms 20 --user "$(id -un)" \
	--http "127.0.0.1:$HPORT" --cache "$WORK/snapshot.cache" \
	>"$WORK/daemon.out" 2>"$WORK/daemon.err" </dev/null &
DAEMON_PID=$!
PIDS+=("$DAEMON_PID")
SVCDNS_TEST_TIMEOUT_MULTIPLIER=6 it_wait_ready cluster.local ||
	fail "the daemon under valgrind did not answer within 60 s"

if [ ! -s "$WORK/fails" ]; then
	# UDP: distinct names, then the same names again (cache hits).
	for pass in 1 2; do
		"$build/tests/tools/soak_client" names --server 127.0.0.1 \
			--port "$PORT" --count "$VG_UDP" --rate 300 \
			--zone cluster.local --fwd-zone example.test \
			--fwd-every 2 --timeout-ms 5000 --seed 7 \
			>"$WORK/udp$pass.out" 2>&1 ||
			fail "UDP pass $pass: $(cat "$WORK/udp$pass.out")"
		echo "udp pass $pass: $(cat "$WORK/udp$pass.out")"
	done
	# TCP: one kept-open connection for VG_TCP queries, then single ones.
	for i in $(seq 1 "$VG_TCP"); do
		echo "n$i.default.svc.cluster.local A"
	done >"$WORK/tcp.batch"
	got=$(dig +tcp +keepopen +norec +time=5 +tries=1 -p "$PORT" \
		@127.0.0.1 -f "$WORK/tcp.batch" 2>&1 | grep -c 'status: ')
	echo "tcp kept-open: $got of $VG_TCP answered"
	[ "$got" = "$VG_TCP" ] || fail "TCP: $got of $VG_TCP answered"
	for i in $(seq 1 20); do
		dig +tcp +short +norec +time=5 +tries=1 -p "$PORT" @::1 \
			"x$i.example.test" A >/dev/null ||
			fail "TCP query $i over IPv6 (forwarded) failed"
	done
	# A reload, and the stats signal.
	cat >"$ZONES/vg.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: vg, namespace: default}
spec:
  clusterIP: 10.96.77.7
  ports: [{name: http, port: 80}]
YAML
	# Without the blue/green Service (store/), the reloaded snapshot can
	# be cached: the first load's could not.
	rm -rf "$ZONES/store"
	cache_sum=$( (md5sum <"$WORK/snapshot.cache") 2>/dev/null)
	kill -HUP "$DAEMON_PID"
	wait_until 30 sh -c "[ \"\$(dig +short +norec +time=2 +tries=1 -p $PORT @127.0.0.1 vg.default.svc.cluster.local A)\" = 10.96.77.7 ]" ||
		fail "the reload under valgrind was not served"
	# The start-up cache is rewritten after the reload (on the pool).
	wait_until 30 sh -c "[ \"\$( (md5sum <'$WORK/snapshot.cache') 2>/dev/null)\" != '$cache_sum' ]" ||
		fail "the start-up cache was not rewritten after the reload"
	# A change found by the watch alone: the early build (started
	# within the settle time) and its publish.
	sed 's/10.96.77.7/10.96.77.8/' "$ZONES/vg.yaml" >"$ZONES/.vg.tmp"
	mv "$ZONES/.vg.tmp" "$ZONES/vg.yaml"
	wait_until 30 sh -c "[ \"\$(dig +short +norec +time=2 +tries=1 -p $PORT @127.0.0.1 vg.default.svc.cluster.local A)\" = 10.96.77.8 ]" ||
		fail "a change without SIGHUP was not served under valgrind"
	kill -USR1 "$DAEMON_PID"
	# The HTTP endpoint: /metrics and /ready.
	for path in metrics ready health; do
		curl -fsS -m 10 "http://127.0.0.1:$HPORT/$path" >/dev/null ||
			fail "GET /$path failed"
	done
	sleep 1
fi

kill -TERM "$DAEMON_PID" 2>/dev/null
for i in $(seq 1 600); do
	it_alive "$DAEMON_PID" || break
	sleep 0.1
done
if it_alive "$DAEMON_PID"; then
	kill -KILL "$DAEMON_PID"
	fail "still running 60 s after SIGTERM"
fi
wait "$DAEMON_PID"
rc=$?
[ "$rc" = 0 ] || fail "exit status $rc (valgrind exits 1 on an error or a leak)"
# --quiet: the log holds only what valgrind found (and open fds).
if grep -qE '(Invalid|uninitialised|Mismatched|definitely lost|indirectly lost|Syscall param|overlap)' "$VGLOG"; then
	fail "valgrind reported errors or leaks"
fi
echo "valgrind: exit status $rc; log:"
sed 's/^/  /' "$VGLOG" | grep -vE '^  ==[0-9]+== *$' | head -200
if [ -s "$WORK/fails" ]; then
	sed 's/^/FAIL: /' "$WORK/fails"
	tail -5 "$WORK/daemon.err" | sed 's/^/  daemon: /'
	echo "check-valgrind: 0 passed, 1 failed"
	exit 1
fi
echo "check-valgrind: 1 passed, 0 failed"
