# 150-watch: the daemon follows its manifest directory on its own, without
# SIGHUP (CLUSTER-DNS row 40; RELIABILITY L5, L6 and 1.2): in-place edits,
# rename-into-place, a Kubernetes ConfigMap volume update (..data swap),
# deleted and added files and subdirectories, a truncated file, garbage and
# an alias bomb. The periodic rescan is off (case.conf), so each change is
# found through fs events. Every wait is bounded; where an answer must NOT
# change, a positive marker (the file's error line in the log, or a later
# change) is awaited first. The SOA serial must go up with every reload.
#
# Names (cluster.local):
#   app.shop   app.yaml      10.96.0.70 -> .71 (sed -i) -> .72 (cat >)
#   web.shop   web.yaml      10.96.0.80 -> .81 (mv web.yaml.tmp web.yaml)
#   old.shop, olddb.shop     old.yaml, deleted
#   cart.shop  cart.yaml     10.96.0.100, truncated (kept), fixed -> .101
#   api.cm, db.cm            svc.yaml + eps.yaml through ..data (ConfigMap)
#   fresh.shop               fresh.yaml, added
#   sub.team, deep.team      team/sub.yaml, team/deep/deep.yaml, added

s=shop.svc.cluster.local
c=cm.svc.cluster.local
t=team.svc.cluster.local

answers_are() { # NAME TYPE EXPECTED-ANSWER-LINES
	[ "$(dig_answers "$1" "$2")" = "$3" ]
}
rcode_is() { # NAME TYPE RCODE
	it_dig "$1" "$2" | grep -q "status: $3"
}
a() { # NAME IP: one normalised A answer line
	printf '%s. 5 IN A %s' "$1" "$2"
}
# log_count REGEX: lines of the daemon's stderr that match.
log_count() {
	grep -cE -- "$1" "$DAEMON_ERR" 2>/dev/null
}
log_grew() { # REGEX N: more than N lines match now
	[ "$(log_count "$1")" -gt "$2" ]
}
alive() {
	it_alive "$DAEMON_PID" || fail "$1: the daemon is gone: $(tail -3 "$DAEMON_ERR" | tr '\n' ' ')"
}
last_serial=0
serial_up() { # LABEL: the serial went up since the last call
	local now
	now=$(soa_serial)
	if ! [ "${now:-0}" -gt "$last_serial" ] 2>/dev/null; then
		fail "$1: SOA serial did not increase: $last_serial -> '$now'"
	fi
	[ -n "$now" ] && last_serial=$now
}
serial_kept() { # LABEL: the serial did not go down
	local now
	now=$(soa_serial)
	if ! [ "${now:-0}" -ge "$last_serial" ] 2>/dev/null; then
		fail "$1: SOA serial went down: $last_serial -> '$now'"
	fi
}
# poll_until SECONDS CMD...: like wait_until, without the 0.1 s pause (each
# try is a few dig runs), for the atomicity check below. Bounded.
poll_until() {
	local end
	end=$(($(date +%s) + $(it_scale "$1")))
	shift
	while [ "$(date +%s)" -le "$end" ]; do
		"$@" && return 0
	done
	"$@"
}

# switches LABEL NAME OLD-IP NEW-IP: polls (bounded) until NAME answers
# NEW-IP; every answer seen before that must be OLD-IP: no NXDOMAIN or
# empty answer from a file caught half-written (RELIABILITY L6).
sw_bad=''
sw_check() { # NAME OLD-IP NEW-IP
	local got
	got=$(dig_answers "$1" A)
	[ "$got" = "$(a "$1" "$3")" ] && return 0
	if [ "$got" != "$(a "$1" "$2")" ]; then
		sw_bad+=" '$(printf '%s' "$got" | tr '\n' '|')'"
	fi
	return 1
}
switches() {
	sw_bad=''
	poll_until 5 sw_check "$2" "$3" "$4" ||
		fail "$1: $2 does not answer $4 within 5 s: '$(dig_answers "$2" A | tr '\n' '|')'"
	[ -z "$sw_bad" ] ||
		fail "$1: $2 answered neither $3 nor $4 meanwhile:$sw_bad"
}

# ---- the ConfigMap volume layout (kubelet's AtomicWriter) ---------------
# $ZONES/..2026_01_01_00_00_00.1/{svc,eps}.yaml   the real files
# $ZONES/..data -> ..2026_01_01_00_00_00.1
# $ZONES/svc.yaml -> ..data/svc.yaml, $ZONES/eps.yaml -> ..data/eps.yaml
cm_install() { # VERSION TSDIR: first layout
	mkdir "$ZONES/$2" &&
		cp "$CASE_DIR/configmap/v$1/svc.yaml" "$CASE_DIR/configmap/v$1/eps.yaml" "$ZONES/$2/" &&
		ln -s "$2" "$ZONES/..data" &&
		ln -s ..data/svc.yaml "$ZONES/svc.yaml" &&
		ln -s ..data/eps.yaml "$ZONES/eps.yaml"
}
cm_update() { # VERSION TSDIR: an update as the kubelet does it
	local old
	old=$(readlink "$ZONES/..data")
	mkdir "$ZONES/$2" &&
		cp "$CASE_DIR/configmap/v$1/svc.yaml" "$CASE_DIR/configmap/v$1/eps.yaml" "$ZONES/$2/" &&
		ln -s "$2" "$ZONES/..data_tmp" &&
		mv -T "$ZONES/..data_tmp" "$ZONES/..data" &&
		rm -rf "${ZONES:?}/$old"
}
cm_ver() { # SHORTNAME: 1 or 2 for the version api.cm / db.cm serves
	local got
	got=$(dig_answers "$1.$c" A)
	case $got in
	"$(a "api.$c" 10.96.1.10)" | "$(a "db.$c" 10.244.1.10)") echo 1 ;;
	"$(a "api.$c" 10.96.1.20)" | "$(a "db.$c" 10.244.1.20)") echo 2 ;;
	*) echo "other:$(printf '%s' "$got" | tr '\n' '|')" ;;
	esac
}
cm_polls=0
cm_mixed=''
# cm_switched V: true once api.cm and db.cm both serve version V. A
# snapshot is published whole, so once the first name queried answers V,
# the second, queried after it, answers V too; the order alternates.
cm_switched() {
	local first second x y
	if [ $((cm_polls % 2)) = 0 ]; then
		x=api y=db
	else
		x=db y=api
	fi
	cm_polls=$((cm_polls + 1))
	first=$(cm_ver $x)
	second=$(cm_ver $y)
	if [ "$first" = "$1" ] && [ "$second" != "$1" ]; then
		cm_mixed+=" [$x=$first then $y=$second]"
	fi
	[ "$first" = "$1" ] && [ "$second" = "$1" ]
}
# cm_check VERSION TSDIR: runs the update to VERSION in the background
# while polling; it must be served whole.
cm_check() {
	local want=$1 p=$2 upd
	cm_polls=0
	cm_mixed=''
	cm_update "$want" "$p" &
	upd=$!
	poll_until 5 cm_switched "$want" ||
		fail "ConfigMap update to v$want ($p): api.cm/db.cm not both switched within 5 s: api=$(cm_ver api) db=$(cm_ver db)"
	wait "$upd" || fail "test setup: the ConfigMap update to $p failed"
	[ -z "$cm_mixed" ] ||
		fail "ConfigMap update to v$want ($p) not atomic: saw$cm_mixed"
	expect_dig "api.$c" A file="api${want}0.A"
	expect_dig "db.$c" A file="db${want}0.A"
	expect_dig "db-0.db.$c" A file="db0-${want}0.A"
	if [ ! -d "$ZONES/$p" ] || [ "$(readlink "$ZONES/..data")" != "$p" ]; then
		fail "test setup: ..data does not point to $p"
	fi
}

cm_install 1 ..2026_01_01_00_00_00.1 || fail "test setup: ConfigMap layout"
start_daemon "${DAEMON_ARGS[@]}" || exit 1

# ---- the start: every name, exactly -------------------------------------
expect_dig "app.$s" A file=app70.A
expect_dig "web.$s" A file=web80.A
expect_dig "old.$s" A file=old.A
expect_dig "olddb.$s" A file=olddb.A
expect_dig "olddb-0.olddb.$s" A file=olddb0.A
expect_dig "_postgres._tcp.olddb.$s" SRV file=olddb.SRV
expect_dig "cart.$s" A file=cart100.A
expect_dig "api.$c" A file=api10.A
expect_dig "db.$c" A file=db10.A
expect_dig "db-0.db.$c" A file=db0-10.A
expect_dig "fresh.$s" A rcode=NXDOMAIN file=nxdomain
expect_dig "sub.$t" A rcode=NXDOMAIN file=nxdomain
last_serial=$(soa_serial)
[ -n "$last_serial" ] || fail "no SOA serial at the start"

# ---- 1. in-place edits ---------------------------------------------------
# sed -i (a temp file renamed over app.yaml).
sed -i 's/10\.96\.0\.70/10.96.0.71/' "$ZONES/app.yaml"
switches "sed -i app.yaml" "app.$s" 10.96.0.70 10.96.0.71
expect_dig "app.$s" A file=app71.A
serial_up "sed -i app.yaml"

# cat > (truncate, then write, the same inode).
ino=$(stat -c %i "$ZONES/app.yaml")
cat >"$ZONES/app.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: app
  namespace: shop
spec:
  clusterIP: 10.96.0.72
  ports:
  - name: http
    port: 80
    protocol: TCP
YAML
expect_eq "cat > keeps the inode of app.yaml" "$ino" "$(stat -c %i "$ZONES/app.yaml")"
switches "cat > app.yaml" "app.$s" 10.96.0.71 10.96.0.72
expect_dig "app.$s" A file=app72.A
expect_dig "web.$s" A file=web80.A
serial_up "cat > app.yaml"

# ---- 2. rename into place ------------------------------------------------
# The temp name does not end in .yaml, so it is not a manifest itself.
sed 's/10\.96\.0\.80/10.96.0.81/' "$ZONES/web.yaml" >"$ZONES/web.yaml.tmp"
mv -f "$ZONES/web.yaml.tmp" "$ZONES/web.yaml"
switches "web.yaml renamed into place" "web.$s" 10.96.0.80 10.96.0.81
expect_dig "web.$s" A file=web81.A
expect_dig "app.$s" A file=app72.A
serial_up "mv web.yaml.tmp web.yaml"

# ---- 3. a ConfigMap volume update: ..data swapped atomically ------------
# Both files switch in one snapshot: never api.cm new with db.cm old, or
# the other way round.
cm_check 2 ..2026_01_01_00_00_01.2
serial_up "ConfigMap update 1"
# And back, through a third timestamped directory.
cm_check 1 ..2026_01_01_00_00_02.3
serial_up "ConfigMap update 2"
expect_dig "app.$s" A file=app72.A

# ---- 4. a deleted file takes exactly its objects ------------------------
rm "$ZONES/old.yaml"
wait_until 5 rcode_is "old.$s" A NXDOMAIN ||
	fail "old.shop still served 5 s after old.yaml was deleted"
expect_dig "old.$s" A rcode=NXDOMAIN file=nxdomain
expect_dig "olddb.$s" A rcode=NXDOMAIN file=nxdomain
expect_dig "olddb-0.olddb.$s" A rcode=NXDOMAIN file=nxdomain
expect_dig "_postgres._tcp.olddb.$s" SRV rcode=NXDOMAIN file=nxdomain
expect_dig "app.$s" A file=app72.A
expect_dig "web.$s" A file=web81.A
expect_dig "cart.$s" A file=cart100.A
expect_dig "api.$c" A file=api10.A
expect_dig "db-0.db.$c" A file=db0-10.A
serial_up "rm old.yaml"

# ---- 5. a new file, a new subdirectory ----------------------------------
cat >"$ZONES/fresh.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: fresh
  namespace: shop
spec:
  clusterIP: 10.96.0.110
YAML
wait_until 5 answers_are "fresh.$s" A "$(a "fresh.$s" 10.96.0.110)" ||
	fail "the new fresh.yaml not served within 5 s"
expect_dig "fresh.$s" A file=fresh.A
serial_up "new fresh.yaml"

# A subdirectory that appears with its file (moved in whole, as a volume
# mount or a tar extract to a temp name would), then a change inside it,
# which only the new directory's own watch can see.
mkdir -p "$WORK/stage/team"
cat >"$WORK/stage/team/sub.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: sub
  namespace: team
spec:
  clusterIP: 10.96.2.120
YAML
mv "$WORK/stage/team" "$ZONES/team"
wait_until 5 answers_are "sub.$t" A "$(a "sub.$t" 10.96.2.120)" ||
	fail "team/sub.yaml (new subdirectory) not served within 5 s"
expect_dig "sub.$t" A file=sub120.A
serial_up "new subdirectory team/"
sed -i 's/10\.96\.2\.120/10.96.2.121/' "$ZONES/team/sub.yaml"
switches "sed -i team/sub.yaml (is the new team/ watched?)" "sub.$t" 10.96.2.120 10.96.2.121
expect_dig "sub.$t" A file=sub121.A
serial_up "sed -i team/sub.yaml"
# A directory created in the new subdirectory, with a file.
mkdir -p "$WORK/stage/deep"
cat >"$WORK/stage/deep/deep.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: deep
  namespace: team
spec:
  clusterIP: 10.96.2.130
YAML
mv "$WORK/stage/deep" "$ZONES/team/deep"
wait_until 5 answers_are "deep.$t" A "$(a "deep.$t" 10.96.2.130)" ||
	fail "team/deep/deep.yaml not served within 5 s"
expect_dig "deep.$t" A file=deep.A
expect_dig "sub.$t" A file=sub121.A
serial_up "new subdirectory team/deep/"

# ---- 6. a truncated file keeps its last good objects ---------------------
# Cut cart.yaml inside the flow mapping of its port ("...{name: http, po"):
# no longer YAML. truncate(1) cuts it in one step.
cut_at=$(grep -bo 'port: 80' "$ZONES/cart.yaml" | head -1 | cut -d: -f1)
errs=$(log_count 'cart\.yaml:[0-9]+:[0-9]+: error:')
truncate -s "$((cut_at + 2))" "$ZONES/cart.yaml"
expect_match "cart.yaml cut inside the mapping" '*{name: http, po' "$(tail -c 20 "$ZONES/cart.yaml")"
wait_until 5 log_grew 'cart\.yaml:[0-9]+:[0-9]+: error:' "$errs" ||
	fail "no 'cart.yaml:LINE:COL: error:' in the log 5 s after truncating it"
alive "truncated cart.yaml"
expect_dig "cart.$s" A file=cart100.A
expect_dig "app.$s" A file=app72.A
serial_kept "truncated cart.yaml"
# The fix is applied.
cat >"$ZONES/cart.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: cart
  namespace: shop
spec:
  clusterIP: 10.96.0.101
  ports: [{name: http, port: 80, protocol: TCP}]
YAML
switches "cart.yaml fixed" "cart.$s" 10.96.0.100 10.96.0.101
expect_dig "cart.$s" A file=cart101.A
serial_up "fixed cart.yaml"

# ---- 7. garbage and an alias bomb: rejected, the daemon unmoved ---------
# Binary bytes: an ELF-like header, then every octet value.
fmt='\177ELF\002\001\001\000'
for i in $(seq 0 255); do
	fmt+=$(printf '\\%03o' "$i")
done
# shellcheck disable=SC2059 # the octal escapes are the point
printf "$fmt$fmt$fmt$fmt" >"$ZONES/garbage.yaml"
# "Billion laughs": 10 levels of 10 aliases (10^10 nodes if expanded), in a
# Service that would otherwise be valid. Written in one write.
bomb=$'apiVersion: v1\nkind: Service\nmetadata:\n  name: bomb\n  namespace: shop\nspec:\n  clusterIP: 10.96.0.66\nlol:\n'
bomb+=$'  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n'
for i in $(seq 1 9); do
	p="*l$((i - 1))"
	bomb+="  l$i: &l$i [$p, $p, $p, $p, $p, $p, $p, $p, $p, $p]"$'\n'
done
gerrs=$(log_count 'garbage\.yaml:[0-9]+:[0-9]+: error:')
berrs=$(log_count 'bomb\.yaml:[0-9]+:[0-9]+: error:')
t0=$(date +%s%N)
printf '%s' "$bomb" >"$ZONES/bomb.yaml"
# Queries keep being answered at once while the bomb is looked at.
expect_dig "app.$s" A file=app72.A
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
[ "$ms" -lt $(($(it_scale 1) * 1000)) ] ||
	fail "app.shop took ${ms} ms to answer after bomb.yaml was written (limit $(it_scale 1) s)"
wait_until 5 log_grew 'garbage\.yaml:[0-9]+:[0-9]+: error:' "$gerrs" ||
	fail "no 'garbage.yaml:LINE:COL: error:' in the log within 5 s"
wait_until 5 log_grew 'bomb\.yaml:[0-9]+:[0-9]+: error:' "$berrs" ||
	fail "no 'bomb.yaml:LINE:COL: error:' in the log within 5 s"
alive "garbage.yaml and bomb.yaml"
t0=$(date +%s%N)
expect_dig "web.$s" A file=web81.A
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
[ "$ms" -lt $(($(it_scale 1) * 1000)) ] ||
	fail "web.shop took ${ms} ms to answer after the bomb was rejected"
expect_dig "bomb.$s" A rcode=NXDOMAIN file=nxdomain
serial_kept "garbage.yaml and bomb.yaml"

# ---- 8. a writer that pauses mid-file (RELIABILITY L6) ------------------
# A file cut at a document boundary is valid YAML: it must not be loaded
# while its writer still holds it open. pair.yaml holds two Services; it is
# rewritten (with new addresses) through one open descriptor, with a pause
# after the first document. During the pause both names keep their old
# answers; after the close both switch together.
cat >"$ZONES/pair.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: one, namespace: shop}
spec: {clusterIP: 10.96.0.130}
---
apiVersion: v1
kind: Service
metadata: {name: two, namespace: shop}
spec: {clusterIP: 10.96.0.140}
YAML
wait_until 5 answers_are "two.$s" A "$(a "two.$s" 10.96.0.140)" ||
	fail "pair.yaml not served"
serial_up "pair.yaml added"
exec 7>"$ZONES/pair.yaml"
printf 'apiVersion: v1\nkind: Service\nmetadata: {name: one, namespace: shop}\nspec: {clusterIP: 10.96.0.131}\n---\n' >&7
# Long past the settle time (30 ms): a reload now would drop two.shop.
sleep 0.5
expect_eq "mid-write: one.shop" "$(a "one.$s" 10.96.0.130)" "$(dig_answers "one.$s" A)"
expect_eq "mid-write: two.shop" "$(a "two.$s" 10.96.0.140)" "$(dig_answers "two.$s" A)"
printf 'apiVersion: v1\nkind: Service\nmetadata: {name: two, namespace: shop}\nspec: {clusterIP: 10.96.0.141}\n' >&7
exec 7>&-
wait_until 5 answers_are "two.$s" A "$(a "two.$s" 10.96.0.141)" ||
	fail "pair.yaml not reloaded after its writer closed it"
expect_eq "after close: one.shop" "$(a "one.$s" 10.96.0.131)" "$(dig_answers "one.$s" A)"
serial_up "pair.yaml rewritten"

# ---- everything, after all the reloads above ----------------------------
# A last change, so that every earlier event (the old timestamped
# directories' removal included) has been dealt with.
rm "$ZONES/garbage.yaml" "$ZONES/bomb.yaml"
sed -i 's/10\.96\.0\.110/10.96.0.111/' "$ZONES/fresh.yaml"
switches "the last edit, fresh.yaml" "fresh.$s" 10.96.0.110 10.96.0.111
serial_up "last edit"
expect_dig "app.$s" A file=app72.A
expect_dig "web.$s" A file=web81.A
expect_dig "cart.$s" A file=cart101.A
expect_dig "api.$c" A file=api10.A
expect_dig "db.$c" A file=db10.A
expect_dig "db-0.db.$c" A file=db0-10.A
expect_dig "sub.$t" A file=sub121.A
expect_dig "deep.$t" A file=deep.A
expect_dig "old.$s" A rcode=NXDOMAIN file=nxdomain
expect_dig "bomb.$s" A rcode=NXDOMAIN file=nxdomain
# No SIGHUP was sent: every reload above came from the watch.
expect_grep "the daemon logged its watch reloads" 'watch: reload ok' "$DAEMON_ERR"
if grep -q SIGHUP "$DAEMON_ERR"; then
	fail "the log mentions SIGHUP, but none was sent"
fi
alive "the end"
