# shellcheck shell=bash
it_rcvbuf() { # PORT -> the rb of the UDP socket bound to 127.0.0.1:PORT
	ss -H -u -a -m -n "sport = :$1" | grep -o 'rb[0-9]*' | head -1 | tr -d rb
}

if [ "$(id -u)" != 0 ]; then
	it_skip "needs root (CAP_NET_ADMIN for SO_RCVBUFFORCE)"
	return 0
fi
rmax=$(sysctl -n net.core.rmem_max)
rdef=$(sysctl -n net.core.rmem_default)
# Twice the cap: only SO_RCVBUFFORCE can give it.
want=$((rmax * 2))
if [ "$want" -gt 268435456 ]; then
	it_skip "net.core.rmem_max is $rmax: no size past it is allowed"
	return 0
fi
s=shop.svc.cluster.local

# 1. As root: the size asked for (the kernel reports twice that).
start_daemon --threads 1 --udp-rcvbuf "$want" || return 0
expect_eq "rb as root, $want asked, rmem_max $rmax" "$((want * 2))" "$(it_rcvbuf "$PORT")"
if grep -q 'udp receive buffer' "$DAEMON_ERR"; then
	fail "a capped buffer logged as root: $(grep 'udp receive buffer' "$DAEMON_ERR")"
fi
expect_eq "answers" "10.96.0.70" "$(dig +short +norec +tries=1 +time=2 -p "$PORT" @127.0.0.1 "app.$s" A)"
stop_daemon

# 2. Root without CAP_NET_ADMIN (gone from the bounding set): capped at
# rmem_max, and said once.
mkdir -p "$WORK/nocap"
cat >"$WORK/nocap/svcdns" <<SH
#!/bin/sh
exec setpriv --bounding-set -net_admin -- "$SVCDNS_BUILD/svcdns" "\$@"
SH
chmod +x "$WORK/nocap/svcdns"
build=$SVCDNS_BUILD
SVCDNS_BUILD=$WORK/nocap
start_daemon --threads 2 --udp-rcvbuf "$want"
SVCDNS_BUILD=$build
[ -n "${DAEMON_PID:-}" ] || return 0
expect_eq "rb without CAP_NET_ADMIN" "$((rmax * 2))" "$(it_rcvbuf "$PORT")"
expect_grep "the capped size logged" "udp receive buffer $rmax octets, not $want" "$DAEMON_ERR"
expect_eq "logged once for two workers" 1 "$(grep -c 'udp receive buffer' "$DAEMON_ERR")"
expect_eq "answers" "10.96.0.70" "$(dig +short +norec +tries=1 +time=2 -p "$PORT" @127.0.0.1 "app.$s" A)"
stop_daemon

# 3. 0: the kernel's default, untouched.
start_daemon --threads 1 --udp-rcvbuf 0 || return 0
expect_eq "rb with 0" "$rdef" "$(it_rcvbuf "$PORT")"
stop_daemon
