# 203-pod-resolver: svcdns as a pod's resolver, seen through glibc's own
# stub resolver. A network namespace stands for the pod: lo only, its
# /etc/netns/<name>/resolv.conf names svcdns (listening on 127.0.0.1:53
# inside it) with the Kubernetes search path and ndots:5, and NSD inside it
# is the upstream for example.test. getent, nslookup and host must resolve
# short service names, namespaced ones and external names. Skipped (with
# the reason) only where network namespaces cannot be made.
# shellcheck source=../../tools/upstream.sh
. "$SVCDNS_ROOT/tests/tools/upstream.sh"

NS=svcdns-it-$$
it_netns_add "$NS" || return 0
POD_PID=
pod_cleanup()
{
	if [ -n "$POD_PID" ]; then
		kill -TERM "$POD_PID" 2>/dev/null
		wait "$POD_PID" 2>/dev/null
		POD_PID=
	fi
	up_stop_all
	ip netns del "$NS" 2>/dev/null
	rm -rf "/etc/netns/$NS"
}
in_pod()
{
	it_netns_exec "$NS" "$@"
}

mkdir -p "/etc/netns/$NS"
cat >"/etc/netns/$NS/resolv.conf" <<'RESOLV'
search web.svc.cluster.local svc.cluster.local cluster.local
nameserver 127.0.0.1
options ndots:5 timeout:2 attempts:2
RESOLV

UP_NETNS=$NS up_nsd_start || {
	pod_cleanup
	return
}

# pod_start ARGS...: svcdns inside the pod on 127.0.0.1:53.
pod_start()
{
	local i
	POD_ERR=$WORK/pod.$RANDOM.err
	ip netns exec "$NS" "$SVCDNS_BUILD/svcdns" --zones "$ZONES" \
		--listen 127.0.0.1:53 --threads 1 "$@" 2>"$POD_ERR" &
	POD_PID=$!
	echo "$POD_PID" >>"$WORK/daemon.pids"
	for i in $(seq 1 $(($(it_scale 10) * 10))); do
		if in_pod dig +short +tries=1 +time=1 @127.0.0.1 cluster.local \
			SOA 2>/dev/null | grep -q hostmaster; then
			return 0
		fi
		sleep 0.1
	done
	fail "svcdns did not start in the pod: $(tail -3 "$POD_ERR" | tr '\n' ' ')"
	return 1
}

pod_stop()
{
	kill -TERM "$POD_PID"
	wait "$POD_PID"
	expect_eq "svcdns in the pod: exit status" 0 "$?"
	it_check_sanitizers "$POD_ERR" "svcdns in the pod"
	POD_PID=
}

# The default --upstream resolv.conf: the pod's resolv.conf names only
# svcdns itself, which is skipped; forwarding is then off.
if pod_start; then
	expect_grep "resolv.conf: self skipped" \
		'no nameserver in /etc/resolv.conf other than svcdns itself' \
		"$POD_ERR"
	out=$(in_pod dig +tries=1 @127.0.0.1 www.example.test A)
	expect_match "no upstream: refused" "*status: REFUSED*" "$out"
	pod_stop
fi

if pod_start --upstream "127.0.0.1:$UP_PORT"; then
	# getent goes through nsswitch (files, then dns) and glibc's stub.
	expect_eq "getent hosts frontend" \
		"10.96.0.10 frontend.web.svc.cluster.local" \
		"$(in_pod getent hosts frontend | awk '{ $1 = $1; print }')"
	expect_eq "getent hosts frontend.web" \
		"10.96.0.10 frontend.web.svc.cluster.local" \
		"$(in_pod getent hosts frontend.web | awk '{ $1 = $1; print }')"
	out=$(in_pod getent ahosts www.example.test)
	# Both families (AAAA first: the pod has ::1 on lo).
	expect_match "getent ahosts www.example.test (v6)" \
		"*2001:db8::10*STREAM www.example.test*" "$out"
	expect_match "getent ahosts www.example.test (v4)" "*192.0.2.10*" \
		"$out"
	# A CNAME chain: glibc lists the aliases.
	expect_eq "getent hosts alias.example.test" \
		"2001:db8::10 www.example.test alias.example.test" \
		"$(in_pod getent hosts alias.example.test | awk '{ $1 = $1; print }')"
	# An ExternalName through the search path: CNAME, then upstream.
	expect_eq "getent hosts ext" \
		"2001:db8::12 ext-target.example.test ext.web.svc.cluster.local" \
		"$(in_pod getent hosts ext | awk '{ $1 = $1; print }')"
	out=$(in_pod getent ahosts ext)
	expect_match "getent ahosts ext" \
		"*2001:db8::12*STREAM ext-target.example.test*192.0.2.12*" \
		"$(printf '%s' "$out" | tr '\n' ' ')"
	# A name nobody has: getent fails (exit 2) after the search list.
	in_pod getent hosts nosuch.example.test >/dev/null
	expect_eq "getent hosts nosuch.example.test" 2 "$?"
	# nslookup and host use the pod's resolv.conf as well.
	out=$(in_pod nslookup frontend)
	expect_match "nslookup frontend" \
		"*Name:*frontend.web.svc.cluster.local*Address: 10.96.0.10*" \
		"$(printf '%s' "$out" | tr '\n\t' '  ')"
	out=$(in_pod nslookup www.example.test)
	expect_match "nslookup www.example.test" "*Address: 192.0.2.10*" \
		"$(printf '%s' "$out" | tr '\n' ' ')"
	out=$(in_pod host frontend.web)
	expect_match "host frontend.web" \
		"*frontend.web.svc.cluster.local has address 10.96.0.10*" "$out"
	out=$(in_pod host www.example.test)
	expect_match "host www.example.test" \
		"*www.example.test has address 192.0.2.10*www.example.test has IPv6 address 2001:db8::10*" \
		"$(printf '%s' "$out" | tr '\n' ' ')"
	out=$(in_pod host 10.96.0.10)
	expect_match "host 10.96.0.10 (PTR)" \
		"*pointer frontend.web.svc.cluster.local.*" "$out"
	out=$(in_pod host 192.0.2.10)
	expect_match "host 192.0.2.10 (PTR upstream)" \
		"*pointer www.example.test.*" "$out"
	pod_stop
fi
pod_cleanup
