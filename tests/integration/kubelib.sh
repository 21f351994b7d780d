# Helpers for the Kubernetes cases (5xx-kube-*), sourced by their test.sh
# after lib.sh: a fake API server (tests/tools/fakeapi.py) over HTTPS with
# a CA made here with openssl, a kubeconfig for it, and the watcher run by
# tests/tools/kube_probe or by the daemon (svcdns --kubernetes).
#
#   kube_tls_setup              CA + server certificate in $WORK/tls
#   fakeapi_start [ARGS...]     starts the fake API (HTTPS, token "t0k"),
#                               sets FAKE_PID, FAKE_PORT, FAKE_PORTS
#   fakeapi_ctl OP [ARG...]     one control command (see fakeapi.py)
#   fakeapi_stat KEY            a field of "ctl stats" (lists.pods, ...)
#   kube_kubeconfig FILE        writes a kubeconfig for the fake API
#   probe_start [ARGS...]       kube_probe --dump $WORK/dump --stats
#                               $WORK/stats; sets PROBE_PID
#   dump_has LINE / dump_lacks LINE   a line is (not) in the dump now
#   stat_of KEY                 a key=value of the probe's stats file
#   start_kube_daemon [ARGS...] the daemon with --kubernetes; sets PORT,
#                               DAEMON_PID; false (with a note) when this
#                               svcdns has no --kubernetes yet
FAKEAPI=$SVCDNS_ROOT/tests/tools/fakeapi.py

kube_tls_setup()
{
	local d=$WORK/tls
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=fake-ca \
		-keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null || return 1
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
		-keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null || return 1
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$d/ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" \
		-CAkey "$d/ca.key" -CAcreateserial -days 2 \
		-extfile "$d/ext" -out "$d/server.crt" 2>/dev/null
}

fakeapi_start()
{
	FAKE_PORTS=$WORK/fakeapi.ports
	rm -f "$FAKE_PORTS"
	python3 "$FAKEAPI" serve --port-file "$FAKE_PORTS" \
		--tls "$WORK/tls/server.crt" "$WORK/tls/server.key" \
		--token t0k "$@" >"$WORK/fakeapi.log" 2>&1 &
	FAKE_PID=$!
	echo "$FAKE_PID" >>"$WORK/helper.pids"
	wait_until 10 test -s "$FAKE_PORTS" || {
		fail "fakeapi did not start: $(tail -3 "$WORK/fakeapi.log")"
		return 1
	}
	FAKE_PORT=$(cut -d' ' -f1 "$FAKE_PORTS")
}

fakeapi_ctl()
{
	python3 "$FAKEAPI" ctl "$FAKE_PORTS" "$@" >/dev/null ||
		fail "fakeapi ctl $*"
}

fakeapi_stat()
{
	python3 "$FAKEAPI" ctl "$FAKE_PORTS" stats |
		python3 -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d=d[k]
print(d)' "$1"
}

kube_kubeconfig()
{
	cat >"$1" <<KC
apiVersion: v1
kind: Config
current-context: fake
contexts:
- name: fake
  context: {cluster: fake, user: tester}
clusters:
- name: fake
  cluster:
    server: https://127.0.0.1:$FAKE_PORT
    certificate-authority-data: $(base64 -w0 "$WORK/tls/ca.crt")
users:
- name: tester
  user: {token: t0k}
KC
}

probe_start()
{
	"$SVCDNS_BUILD/tests/tools/kube_probe" --dump "$WORK/dump" \
		--stats "$WORK/stats" "$@" 2>"$WORK/probe.err" &
	PROBE_PID=$!
	echo "$PROBE_PID" >>"$WORK/helper.pids"
}

dump_has()
{
	grep -qxF -- "$1" "$WORK/dump" 2>/dev/null
}

dump_lacks()
{
	[ -f "$WORK/dump" ] && ! grep -qxF -- "$1" "$WORK/dump"
}

stat_of()
{
	tr ' ' '\n' <"$WORK/stats" 2>/dev/null | sed -n "s/^$1=//p"
}

# kube_stop_helpers: ends the fake API and the probe (by their PIDs).
kube_stop_helpers()
{
	local pid
	[ -f "$WORK/helper.pids" ] || return 0
	while read -r pid; do
		kill "$pid" 2>/dev/null
	done <"$WORK/helper.pids"
	while read -r pid; do
		wait "$pid" 2>/dev/null
	done <"$WORK/helper.pids"
	: >"$WORK/helper.pids"
}

start_kube_daemon()
{
	PORT=$(it_pick_port) || { fail "no free port for the daemon"; return 1; }
	DAEMON_ERR=$WORK/daemon.kube.err
	"$SVCDNS_BUILD/svcdns" --kubernetes --kubeconfig "$WORK/kubeconfig" \
		--listen "127.0.0.1:$PORT" --upstream none --http none \
		--user "$(id -un)" "$@" >"$WORK/daemon.kube.out" \
		2>"$DAEMON_ERR" </dev/null &
	DAEMON_PID=$!
	echo "$DAEMON_PID" >>"$WORK/daemon.pids"
	return 0
}
