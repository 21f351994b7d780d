# 151-watch-dir: when the manifest directory goes away or loses every
# manifest, the last good data keeps being served and an error is logged;
# once the directory is back, changes are picked up again, without SIGHUP
# (RELIABILITY L5/L6 "volume unmounted", CLUSTER-DNS row 40). The SOA
# serial only goes up. Every wait is bounded; where answers must NOT change,
# the daemon's error line for that very event is awaited first.
#
# Names (cluster.local): app.shop (app.yaml), web.shop 10.96.0.80
# (web.yaml), sub.team 10.96.2.120 (team/sub.yaml).

s=shop.svc.cluster.local
t=team.svc.cluster.local

answers_are() { # NAME TYPE EXPECTED-ANSWER-LINES
	[ "$(dig_answers "$1" "$2")" = "$3" ]
}
a() { # NAME IP: one normalised A answer line
	printf '%s. 5 IN A %s' "$1" "$2"
}
log_count() { # REGEX: lines of the daemon's stderr that match
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
all_served() { # LABEL APP-FILE: the last good data, exactly
	expect_dig "app.$s" A file="$2"
	expect_dig "web.$s" A file=web80.A
	expect_dig "sub.$t" A file=sub120.A
	expect_dig cluster.local SOA flags="qr aa" ignore=ANSWER,ADDITIONAL
	alive "$1"
}
new_app() { # DIR IP: writes DIR/app.yaml for app.shop IP
	cat >"$1/app.yaml" <<YAML
apiVersion: v1
kind: Service
metadata:
  name: app
  namespace: shop
spec:
  clusterIP: $2
YAML
}
gone_re='error watch: .*(cannot load|no manifests)'

expect_dig "app.$s" A file=app70.A
expect_dig "web.$s" A file=web80.A
expect_dig "sub.$t" A file=sub120.A
last_serial=$(soa_serial)
[ -n "$last_serial" ] || fail "no SOA serial at the start"

# ---- 8a. the directory renamed away: the last good data stays ----------
n=$(log_count 'error watch: .*cannot load dir')
mv "$ZONES" "$ZONES.gone"
wait_until 5 log_grew 'error watch: .*cannot load dir' "$n" ||
	fail "no 'watch: cannot load dir' error within 5 s of renaming the directory away"
all_served "directory renamed away" app70.A
serial_kept "directory renamed away"
# Still so after a later (periodic) scan has failed too. The alarm is
# logged once a minute at most; the repeats are debug lines.
m=$(log_count 'debug watch: scan failed again dir=')
wait_until 5 log_grew 'debug watch: scan failed again dir=' "$m" ||
	fail "no second failed scan within 5 s (periodic rescan)"
all_served "directory still away" app70.A
serial_kept "directory still away"

# ---- 8b. renamed back, and a change: reloads resume ---------------------
mv "$ZONES.gone" "$ZONES"
sed -i 's/10\.96\.0\.70/10.96.0.71/' "$ZONES/app.yaml"
wait_until 5 answers_are "app.$s" A "$(a "app.$s" 10.96.0.71)" ||
	fail "app.yaml (.71) not served within 5 s of renaming the directory back"
all_served "directory renamed back" app71.A
serial_up "directory renamed back + edit"
# The directory is watched again: an edit shows as an fs event.
n=$(log_count 'watch: event dir=.* name=web\.yaml')
touch "$ZONES/web.yaml"
wait_until 5 log_grew 'watch: event dir=.* name=web\.yaml' "$n" ||
	fail "no fs event for web.yaml within 5 s: the directory renamed back is not watched again"

# ---- 8c. the directory deleted, then a new one put in its place ----------
n=$(log_count "$gone_re")
rm -rf "${ZONES:?}"
wait_until 5 log_grew "$gone_re" "$n" ||
	fail "no 'watch: ... error' within 5 s of deleting the directory"
all_served "directory deleted" app71.A
serial_kept "directory deleted"
# Its replacement appears whole (as a remounted volume would).
mkdir -p "$WORK/newzones/team"
new_app "$WORK/newzones" 10.96.0.72
cp "$CASE_DIR/zones/web.yaml" "$CASE_DIR/zones/notes.txt" "$WORK/newzones/"
cp "$CASE_DIR/zones/team/sub.yaml" "$WORK/newzones/team/"
mv "$WORK/newzones" "$ZONES"
wait_until 5 answers_are "app.$s" A "$(a "app.$s" 10.96.0.72)" ||
	fail "the new directory (app .72) not served within 5 s"
all_served "directory replaced" app72.A
serial_up "directory replaced"
# The new directory and its subdirectory are watched.
n=$(log_count 'watch: event dir=.* name=web\.yaml')
touch "$ZONES/web.yaml"
wait_until 5 log_grew 'watch: event dir=.* name=web\.yaml' "$n" ||
	fail "no fs event for web.yaml within 5 s: the new directory is not watched"
n=$(log_count 'watch: event dir=.*/team name=sub\.yaml')
touch "$ZONES/team/sub.yaml"
wait_until 5 log_grew 'watch: event dir=.*/team name=sub\.yaml' "$n" ||
	fail "no fs event for team/sub.yaml within 5 s: the new team/ is not watched"

# ---- 9. every manifest deleted: the last good data stays ----------------
n=$(log_count 'error watch: .*no manifests')
find "$ZONES" -name '*.yaml' -delete
wait_until 5 log_grew 'error watch: .*no manifests' "$n" ||
	fail "no 'watch: ... has no manifests' error within 5 s of deleting every manifest"
all_served "every manifest deleted" app72.A
serial_kept "every manifest deleted"
if [ ! -f "$ZONES/notes.txt" ] || [ ! -d "$ZONES/team" ]; then
	fail "test setup: notes.txt and team/ should still be there"
fi
# A file added back is served; it is all the directory holds now, so the
# names of the deleted files are gone.
new_app "$ZONES" 10.96.0.73
wait_until 5 answers_are "app.$s" A "$(a "app.$s" 10.96.0.73)" ||
	fail "app.yaml added back (.73) not served within 5 s"
expect_dig "app.$s" A file=app73.A
expect_dig "web.$s" A rcode=NXDOMAIN file=nxdomain
expect_dig "sub.$t" A rcode=NXDOMAIN file=nxdomain
serial_up "app.yaml added back"
# And the rest.
cp "$CASE_DIR/zones/web.yaml" "$ZONES/"
cp "$CASE_DIR/zones/team/sub.yaml" "$ZONES/team/"
wait_until 5 answers_are "sub.$t" A "$(a "sub.$t" 10.96.2.120)" ||
	fail "team/sub.yaml added back not served within 5 s"
wait_until 5 answers_are "web.$s" A "$(a "web.$s" 10.96.0.80)" ||
	fail "web.yaml added back not served within 5 s"
all_served "every file added back" app73.A
serial_up "every file added back"
if grep -q SIGHUP "$DAEMON_ERR"; then
	fail "the log mentions SIGHUP, but none was sent"
fi
