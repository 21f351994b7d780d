# shellcheck shell=bash
# shellcheck source=../kubelib.sh
. "$CASE_DIR/../kubelib.sh"
trap kube_stop_helpers EXIT

if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
	it_skip "needs root and unshare -m"
	return 0
fi
LIB=$(ldconfig -p | awk '$1 == "libcurl.so.4" && /x86-64|x86_64|64bit/ { print $NF; exit }')
[ -n "$LIB" ] || LIB=$(ldconfig -p | awk '$1 == "libcurl.so.4" { print $NF; exit }')
[ -n "$LIB" ] || fail "ldconfig does not know libcurl.so.4 (is libcurl4 installed?)"
LIB=$(readlink -f "$LIB")

# "${NOCURL[@]}" CMD...: CMD in a mount namespace where libcurl's file is
# empty (/dev/null bound over it), so that dlopen fails as on a host
# without the package.
NOCURL=(unshare -m sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' sh "$LIB")

# 1. --kubernetes: a clear error and a non-zero exit, before serving.
kube_tls_setup || fail "openssl could not make the test CA"
fakeapi_start --objects "$CASE_DIR/../510-kube-dig/objects.json" || exit 1
kube_kubeconfig "$WORK/kubeconfig"
KPORT=$(it_pick_port) || fail "no free port"
timeout -k 2 "$(it_scale 20)" "${NOCURL[@]}" "$SVCDNS_BUILD/svcdns" --kubernetes --kubeconfig "$WORK/kubeconfig" \
	--listen "127.0.0.1:$KPORT" --upstream none --http none --user "$(id -un)" \
	>"$WORK/nocurl.out" 2>"$WORK/nocurl.err" </dev/null
rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] && [ "$rc" != 137 ] ||
	fail "svcdns --kubernetes without libcurl: exit status $rc, want a failure at start-up"
expect_grep "the error names the package" "needs libcurl \\(Debian: libcurl4\\)" "$WORK/nocurl.err"
if grep -q "out of memory" "$WORK/nocurl.err"; then
	fail "a missing libcurl reported as out of memory: $(grep 'out of memory' "$WORK/nocurl.err")"
fi
it_check_sanitizers "$WORK/nocurl.err" "svcdns --kubernetes without libcurl"

# 2. Directory mode on the same host: starts, answers, no libcurl mapped.
PORT=$(it_pick_port) || fail "no free port"
DAEMON_ERR=$WORK/dir.err
"${NOCURL[@]}" "$SVCDNS_BUILD/svcdns" --zones "$ZONES" --listen "127.0.0.1:$PORT" \
	--upstream none --http none --user "$(id -un)" \
	>"$WORK/dir.out" 2>"$DAEMON_ERR" </dev/null &
DAEMON_PID=$!
echo "$DAEMON_PID" >>"$WORK/daemon.pids"
it_wait_ready cluster.local || fail "the directory-mode daemon did not start without libcurl"
expect_eq "web.shop without libcurl" "10.96.0.10" \
	"$(dig +short +norec +tries=1 -p "$PORT" @127.0.0.1 web.shop.svc.cluster.local A)"
if grep -q libcurl "/proc/$DAEMON_PID/maps"; then
	fail "a directory-mode daemon maps libcurl: $(grep libcurl "/proc/$DAEMON_PID/maps" | head -1)"
fi
stop_daemon
