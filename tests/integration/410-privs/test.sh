# 410-privs: started as root with --user nobody and --listen
# 127.0.0.1:53, svcdns must end with uid and gid != 0 (real, effective,
# saved, filesystem), no supplementary groups, every capability set empty
# (CapEff 0000000000000000), no_new_privs, and still answer, over UDP and
# TCP, on 53 and on a high port; a reload (done as the new user) must
# work; SIGTERM must end it with status 0. As root on a high port without
# --user it must refuse to start. Skipped when not run as root.

it_privs_field() { # PID KEY -> the value column(s) of /proc/PID/status
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr -s ' \t' ' '
}

if [ "$(id -u)" != 0 ]; then
	it_skip "needs root (the test starts svcdns as root)"
	return 0
fi
pw_uid=$(id -u nobody 2>/dev/null) || {
	it_skip "no user nobody"
	return 0
}
pw_gid=$(id -g nobody)

# Reloads run as nobody: the manifests must be readable by it, and every
# directory above them searchable (run.sh's temp root is 0700 root).
chmod o+x "$(dirname "$WORK")"
chmod a+rx "$WORK" "$ZONES"
chmod a+r "$ZONES"/*

# 1. Root on a high port without --user: refused.
run_svcdns --zones "$ZONES" --listen "127.0.0.1:$(it_pick_port)" \
	--upstream none
if [ "$RUN_RC" = 0 ] || [ "$RUN_RC" = 124 ]; then
	fail "root on a high port without --user: exit $RUN_RC, expected a refusal"
fi
expect_grep "refusal names --user" '--user' "$RUN_ERR"

# 2. Root with --user nobody, on 53 as well when it is free.
p53=()
if it_port_free 53; then
	p53=(--listen 127.0.0.1:53)
else
	note "127.0.0.1:53 is busy here: checking the drop on a high port only"
fi
start_daemon "${p53[@]}" --user nobody || return 0
pid=$DAEMON_PID

uids=$(it_privs_field "$pid" Uid)
gids=$(it_privs_field "$pid" Gid)
expect_eq "Uid (real effective saved fs)" "$pw_uid $pw_uid $pw_uid $pw_uid" "$uids"
expect_eq "Gid (real effective saved fs)" "$pw_gid $pw_gid $pw_gid $pw_gid" "$gids"
expect_eq "Groups" "" "$(it_privs_field "$pid" Groups | tr -d ' ')"
for cap in CapInh CapPrm CapEff CapBnd CapAmb; do
	expect_eq "$cap" 0000000000000000 "$(it_privs_field "$pid" "$cap")"
done
expect_eq "NoNewPrivs" 1 "$(it_privs_field "$pid" NoNewPrivs)"
# Every thread (the workers start after the drop) has the same.
for t in /proc/"$pid"/task/*; do
	expect_eq "thread ${t##*/} CapEff" 0000000000000000 \
		"$(sed -n 's/^CapEff:[[:space:]]*//p' "$t/status")"
	expect_eq "thread ${t##*/} Uid" "$pw_uid" \
		"$(sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p' "$t/status")"
done
expect_grep "drop logged" 'privs: dropped user=nobody' "$DAEMON_ERR"

s=web.shop.svc.cluster.local
expect_eq "A on the high port" 10.96.0.20 \
	"$(dig +short +norec +time=2 +tries=1 -p "$PORT" @127.0.0.1 $s A)"
expect_eq "A over TCP" 10.96.0.20 \
	"$(dig +short +norec +tcp +time=2 +tries=1 -p "$PORT" @127.0.0.1 $s A)"
if [ ${#p53[@]} -gt 0 ]; then
	expect_eq "A on port 53" 10.96.0.20 \
		"$(dig +short +norec +time=2 +tries=1 -p 53 @127.0.0.1 $s A)"
	expect_eq "A on port 53 over TCP" 10.96.0.20 \
		"$(dig +short +norec +tcp +time=2 +tries=1 -p 53 @127.0.0.1 $s A)"
fi

# 3. A reload after the drop: the new file is read as nobody.
sed 's/name: web/name: api/; s/10.96.0.20/10.96.0.21/' "$ZONES/web.yaml" \
	>"$ZONES/.api.tmp"
chmod a+r "$ZONES/.api.tmp"
mv "$ZONES/.api.tmp" "$ZONES/api.yaml"
kill -HUP "$pid"
wait_until 10 sh -c "[ \"\$(dig +short +norec +time=1 +tries=1 -p $PORT @127.0.0.1 api.shop.svc.cluster.local A)\" = 10.96.0.21 ]" ||
	fail "api.shop not served after a reload as nobody"

# 4. stop_daemon (run by the harness) checks SIGTERM -> exit 0.
