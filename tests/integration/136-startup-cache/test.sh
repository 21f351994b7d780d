# shellcheck shell=bash
cache=$WORK/snapshot.cache
names=(frontend.shop.svc.cluster.local db.data.svc.cluster.local
	api.web.svc.cluster.local)
answers() { local n; for n in "${names[@]}"; do dig_answers "$n" A; done; }
log_has() { grep -q -- "$1" "$DAEMON_ERR"; }

# 1. No cache yet: loaded from the manifests, then written.
start_daemon --cache "$cache" || return
log_has 'no start-up cache yet' || fail "first start: no 'no start-up cache yet' line"
wait_until 10 test -s "$cache" || fail "the cache was not written"
first=$(answers)
[ -n "$first" ] || fail "no answers on the first start"
stop_daemon

# 2. Unchanged directory: the cache is served, the same answers.
start_daemon --cache "$cache" || return
log_has 'serving the start-up cache' || fail "second start did not use the cache: $(grep main: "$DAEMON_ERR" | head -3)"
expect_eq "answers from the cache" "$first" "$(answers)"
wait_until 10 grep -q 'they replace the start-up cache' "$DAEMON_ERR" ||
	fail "the parsed manifests did not replace the cache"
expect_eq "answers after the load" "$first" "$(answers)"
stop_daemon

# 3. Other options: stale.
start_daemon --cache "$cache" --ttl 7 || return
log_has 'is stale' || fail "--ttl 7 used the cache made with --ttl 5"
stop_daemon

# 4. A manifest changed while svcdns was down: stale, the new data served.
sleep 0.01
sed -i 's/10\.96\.0\.10\b/10.96.0.99/g' "$ZONES/shop/frontend.yaml"
grep -q 10.96.0.99 "$ZONES/shop/frontend.yaml" || fail "test setup: frontend's address not changed"
start_daemon --cache "$cache" || return
log_has 'is stale' || fail "a changed manifest did not make the cache stale"
expect_eq "frontend after the change" "frontend.shop.svc.cluster.local. 5 IN A 10.96.0.99" \
	"$(dig_answers frontend.shop.svc.cluster.local A)"
stop_daemon

# 5. A damaged cache: refused with a warning, answers from the manifests,
# then rewritten and served again by the next start.
wait_until 10 test -s "$cache" || fail "no cache after step 4"
size=$(stat -c %s "$cache")
printf 'XXXXXXXX' | dd of="$cache" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
damaged=$(md5sum <"$cache")
start_daemon --cache "$cache" || return
log_has 'not used: damaged' || fail "a damaged cache was not refused: $(grep cache "$DAEMON_ERR" | head -2)"
expect_eq "frontend with a damaged cache" "frontend.shop.svc.cluster.local. 5 IN A 10.96.0.99" \
	"$(dig_answers frontend.shop.svc.cluster.local A)"
# Rewritten (on the pool, after the first publish) by rename: a new file.
wait_until 10 sh -c "[ \"\$(md5sum <'$cache')\" != '$damaged' ]" ||
	fail "the damaged cache was not rewritten"
stop_daemon
start_daemon --cache "$cache" || return
log_has 'serving the start-up cache' || fail "the rewritten cache was not served"
stop_daemon

# 6. A change while svcdns runs: the reload rewrites the cache (once
# things are quiet), so the next start serves the new data from it.
start_daemon --cache "$cache" || return
wait_until 10 grep -q 'they replace the start-up cache' "$DAEMON_ERR" ||
	fail "step 6: the manifests did not replace the cache"
before=$(md5sum <"$cache")
sed -i 's/10\.96\.0\.99\b/10.96.0.77/g' "$ZONES/shop/frontend.yaml"
wait_until 10 sh -c "dig +short +norec -p $PORT @127.0.0.1 frontend.shop.svc.cluster.local A | grep -qx 10.96.0.77" ||
	fail "the change was not served"
wait_until 10 sh -c "[ \"\$(md5sum <'$cache')\" != '$before' ]" ||
	fail "the reload did not rewrite the cache"
stop_daemon
start_daemon --cache "$cache" || return
log_has 'serving the start-up cache' || fail "the cache rewritten after a reload was not served: $(grep cache "$DAEMON_ERR" | head -2)"
expect_eq "frontend from the rewritten cache" "frontend.shop.svc.cluster.local. 5 IN A 10.96.0.77" \
	"$(dig_answers frontend.shop.svc.cluster.local A)"

# 7. A reload while a manifest is broken: the snapshot could hold that
# file's last good data, which a new start would not serve, so the cache
# is left as it was (and the next start finds it stale).
before=$(md5sum <"$cache")
printf 'kind: Service\nmetadata: {name: broken\n' >"$ZONES/shop/broken.yaml"
wait_until 10 grep -q 'broken.yaml' "$DAEMON_ERR" || fail "the broken manifest was not reported"
# A change elsewhere: a snapshot is built and served, the broken file's
# problem still there.
sed -i 's/10\.96\.0\.30\b/10.96.0.31/g' "$ZONES/web/api.yaml"
wait_until 10 sh -c "dig +short +norec -p $PORT @127.0.0.1 api.web.svc.cluster.local A | grep -qx 10.96.0.31" ||
	fail "the change next to a broken manifest was not served"
wait_until 10 grep -q 'start-up cache not rewritten' "$DAEMON_ERR" ||
	fail "no 'start-up cache not rewritten' line after a broken manifest"
expect_eq "the cache after a broken manifest" "$before" "$(md5sum <"$cache")"
stop_daemon
rm -f "$ZONES/shop/broken.yaml"

# 8. Blue/green Services: no cache.
cp -a "$SVCDNS_ROOT/zones/store" "$ZONES/"
rm -f "$cache"
start_daemon --cache "$cache" || return
wait_until 10 grep -q 'no start-up cache with blue/green' "$DAEMON_ERR" ||
	fail "blue/green: no 'no start-up cache' line"
[ ! -e "$cache" ] || fail "a cache was written with blue/green Services"
