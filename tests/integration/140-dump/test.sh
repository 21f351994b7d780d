# 140-dump: svcdns --dump prints every zone as an RFC 1035 master file
# (absolute names, zone by zone, SOA first). Checked three ways: its shape,
# named-checkzone (bind9-utils) when installed, and record by record against
# what the running daemon answers for the same manifests.

run_svcdns --dump --zones "$ZONES"
expect_eq "--dump exit status" 0 "$RUN_RC"
dump=$WORK/dump.zone
# Records only, blanks collapsed; ';' comments and '$' directives dropped.
awk '!/^[;$]/ && NF { $1 = $1; print }' "$RUN_OUT" >"$dump"
[ -s "$dump" ] || fail "--dump printed no records"

# Shape: "owner TTL IN TYPE rdata", absolute owners, every record inside
# the zone of the SOA before it, zones in order.
bad=$(awk '
	$4 == "SOA" { zone = $1 }
	NF < 5 || $1 !~ /\.$/ || $2 !~ /^[0-9]+$/ || $3 != "IN" ||
	$4 !~ /^(SOA|NS|A|AAAA|SRV|PTR|TXT|CNAME)$/ { print "bad record: " $0; next }
	zone == "" { print "record before any SOA: " $0; next }
	{
		suffix = "." zone
		if ($1 != zone && substr($1, length($1) - length(suffix) + 1) != suffix)
			print "outside " zone ": " $0
	}' "$dump")
expect_eq "--dump: every line is a record of its zone" "" "$bad"
expect_eq "--dump: zones, SOA first" "cluster.local. in-addr.arpa. ip6.arpa." \
	"$(awk '$4 == "SOA" { printf "%s%s", sep, $1; sep = " " }' "$dump")"
expect_eq "--dump: first record" "cluster.local. SOA" "$(head -1 "$dump" | awk '{ print $1, $4 }')"

# Records the example cluster must have (see zones/).
while IFS= read -r rr; do
	case $rr in '' | '#'*) continue ;; esac
	grep -qxF "$rr" "$dump" || fail "--dump lacks: $rr"
done <"$CASE_DIR/expected/required"

# named-checkzone, each zone on its own, with in-zone integrity checks (SRV
# and NS targets must have addresses).
if command -v named-checkzone >/dev/null 2>&1; then
	for z in cluster.local. in-addr.arpa. ip6.arpa.; do
		awk -v z="$z" '$4 == "SOA" { on = ($1 == z) } on' "$dump" >"$WORK/$z.zone"
		if ! out=$(named-checkzone -i local -k fail -n fail "$z" "$WORK/$z.zone" 2>&1); then
			fail "named-checkzone $z: $(printf '%s' "$out" | tail -3 | tr '\n' ' ')"
		fi
	done
else
	note "named-checkzone not installed (Debian bind9-utils): shape checks only"
fi

# Every RRset of the dump (SOA aside: its serial moves) is what the daemon
# answers, TTLs included.
awk '$4 != "SOA" { print $1, $4 }' "$dump" | sort -u >"$WORK/rrsets"
n=0
while read -r owner type; do
	n=$((n + 1))
	want=$(awk -v o="$owner" -v t="$type" '$1 == o && $4 == t' "$dump" | LC_ALL=C sort)
	got=$(dig_answers "$owner" "$type")
	[ "$want" = "$got" ] ||
		fail "dump vs daemon, $owner $type: dump '$(printf '%s' "$want" | tr '\n' '|')', daemon '$(printf '%s' "$got" | tr '\n' '|')'"
done <"$WORK/rrsets"
[ "$n" -ge 40 ] || fail "--dump has only $n RRsets, expected 40 or more"
