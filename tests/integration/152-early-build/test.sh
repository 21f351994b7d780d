# 152-early-build: the early build (watch.c, watch_early_cb).
#   1. One change: the build starts early and waits ("early build ready"
#      in the log); until the settle time is over the old address is
#      served, then the new one, from the early build (early=1).
#   2. A second change while an early build waits: that build is dropped
#      ("early build dropped"), its address is never served, and the
#      address of the second change is.
s=shop.svc.cluster.local

addr() { dig_answers "web.$s" A | awk '{ print $NF }'; }
addr_is() { [ "$(addr)" = "$1" ]; }
log_count() { grep -cE -- "$1" "$DAEMON_ERR" 2>/dev/null; }
log_grew() { [ "$(log_count "$1")" -gt "$2" ]; }
# set_ip IP: web.yaml with clusterIP IP, written aside and renamed.
set_ip() {
	sed "s/clusterIP: .*/clusterIP: $1/" "$ZONES/web.yaml" >"$ZONES/.web.tmp"
	mv "$ZONES/.web.tmp" "$ZONES/web.yaml"
}
# watch_addrs SECONDS WANT: polls (bounded) until web answers WANT; prints
# every other address seen meanwhile.
watch_addrs() {
	local end a
	end=$(($(date +%s) + $(it_scale "$1")))
	while [ "$(date +%s)" -le "$end" ]; do
		a=$(addr)
		[ "$a" = "$2" ] && return 0
		printf '%s\n' "$a"
	done
	return 1
}

expect_eq "start" 10.96.0.80 "$(addr)"

# 1. One change.
ready=$(log_count 'early build ready')
ok=$(log_count 'reload ok.* early=1')
t0=$(date +%s%N)
set_ip 10.96.0.81
wait_until 10 log_grew 'early build ready' "$ready" ||
	fail "one change: no early build ready within 10 s"
t1=$(date +%s%N)
# Still within the settle time (3 s after the change): the old address.
if [ $(((t1 - t0) / 1000000)) -lt 2500 ]; then
	expect_eq "early build ready, settle time not over" 10.96.0.80 "$(addr)"
else
	note "the early build took $(((t1 - t0) / 1000000)) ms: not checked before the settle time"
fi
wait_until 10 addr_is 10.96.0.81 || fail "one change: 10.96.0.81 not served within 10 s"
t2=$(date +%s%N)
[ $(((t2 - t0) / 1000000)) -ge 2900 ] ||
	fail "one change: served $(((t2 - t0) / 1000000)) ms after the change, before the 3 s settle time"
wait_until 5 log_grew 'reload ok.* early=1' "$ok" ||
	fail "one change: the reload did not come from the early build (no 'reload ok ... early=1')"

# 2. A change while an early build waits.
ready=$(log_count 'early build ready')
dropped=$(log_count 'early build dropped')
set_ip 10.96.0.82
wait_until 10 log_grew 'early build ready' "$ready" ||
	fail "two changes: no early build ready within 10 s"
set_ip 10.96.0.83
seen=$(watch_addrs 15 10.96.0.83) ||
	fail "two changes: 10.96.0.83 not served within 15 s"
bad=$(printf '%s\n' "$seen" | grep -v '^10\.96\.0\.81$' | sort -u | tr '\n' ' ')
expect_eq "addresses served before the second change's" "" "$bad"
log_grew 'early build dropped' "$dropped" ||
	fail "two changes: no 'early build dropped' in the log"
expect_eq "after both changes" 10.96.0.83 "$(addr)"
