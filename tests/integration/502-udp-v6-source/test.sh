# 502-udp-v6-source: replies go back to an IPv6 client whose address is not
# ::1, after IPv4 datagrams used the same receive slots. A worker's listeners
# share its recvmmsg headers; the kernel shrinks a header's msg_namelen to
# the 16 octets of an IPv4 source, and a header not reset to the full
# sockaddr_in6 before the next receive cuts the next IPv6 source to its
# first 8 address octets (fd00:53:: here), so the reply goes nowhere. With
# ::1 the cut goes unseen: the rest of its address is zeros, and Linux sends
# to :: as to ::1. So a network namespace of the test's own, with two more
# addresses on its lo: svcdns on [fd00:53::1]:53 and 127.0.0.1:53, dig
# alternating between 127.0.0.1 and fd00:53::1 from fd00:53::2. Skipped
# (with the reason) only where network namespaces cannot be made.
NS=svcdns-v6-$$
it_netns_add "$NS" || return 0
V6_PID=
v6_cleanup()
{
	if [ -n "$V6_PID" ]; then
		kill -TERM "$V6_PID" 2>/dev/null
		wait "$V6_PID" 2>/dev/null
		V6_PID=
	fi
	ip netns del "$NS" 2>/dev/null
}
in_ns()
{
	it_netns_exec "$NS" "$@"
}

if ! { in_ns ip -6 addr add fd00:53::1/128 dev lo nodad &&
	in_ns ip -6 addr add fd00:53::2/128 dev lo nodad; } 2>"$WORK/link.err"; then
	v6_cleanup
	it_skip "cannot give the namespace's lo IPv6 addresses: $(cat "$WORK/link.err")"
	return 0
fi

V6_ERR=$WORK/v6.err
ip netns exec "$NS" "$SVCDNS_BUILD/svcdns" --zones "$ZONES" \
	--listen 127.0.0.1:53 --listen '[fd00:53::1]:53' --threads 1 \
	--upstream none --http none 2>"$V6_ERR" &
V6_PID=$!
echo "$V6_PID" >>"$WORK/daemon.pids"
ready=no
for _ in $(seq 1 $(($(it_scale 10) * 10))); do
	if in_ns dig +short +tries=1 +time=1 @127.0.0.1 cluster.local SOA \
		2>/dev/null | grep -q hostmaster; then
		ready=yes
		break
	fi
	sleep 0.1
done
if [ $ready = no ]; then
	fail "svcdns did not start in the namespace: $(tail -3 "$V6_ERR" | tr '\n' ' ')"
	v6_cleanup
	return 0
fi

want=$(in_ns dig +short +tries=1 +time=2 @127.0.0.1 \
	cart.shop.svc.cluster.local A | sort | tr '\n' ' ')
expect_match "IPv4: cart.shop answered" '*10.244.*' "$want"
for i in 1 2 3 4; do
	got=$(in_ns dig +short +tries=1 +time=2 -b fd00:53::2 @fd00:53::1 \
		cart.shop.svc.cluster.local A | sort | tr '\n' ' ')
	expect_eq "IPv6 from fd00:53::2 after IPv4 ($i)" "$want" "$got"
	got=$(in_ns dig +short +tries=1 +time=2 @127.0.0.1 \
		cart.shop.svc.cluster.local A | sort | tr '\n' ' ')
	expect_eq "IPv4 after IPv6 ($i)" "$want" "$got"
done

kill -TERM "$V6_PID"
wait "$V6_PID"
expect_eq "svcdns in the namespace: exit status" 0 "$?"
it_check_sanitizers "$V6_ERR" "svcdns in the namespace"
V6_PID=
v6_cleanup
