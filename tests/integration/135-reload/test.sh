# 135-reload: a reload (SIGHUP) with a bad file keeps that file's last good
# objects and logs the diagnostic; the other files' changes are applied;
# fixing the file applies it; the SOA serial only goes up (CLUSTER-DNS row
# 40, 2.3; STYLE 5 "reload with a bad file").
s=shop.svc.cluster.local

answers_are() { # NAME TYPE EXPECTED-ANSWER-LINES
	[ "$(dig_answers "$1" "$2")" = "$3" ]
}
rcode_is() { # NAME TYPE RCODE
	it_dig "$1" "$2" | grep -q "status: $3"
}
a70="app.$s. 5 IN A 10.96.0.70"
a71="app.$s. 5 IN A 10.96.0.71"
a72="extra.$s. 5 IN A 10.96.0.72"

expect_dig app.$s A file=app70.A
serial1=$(soa_serial)

# Break app.yaml (and change its IP), add a good extra.yaml, SIGHUP.
cat >"$ZONES/app.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: app
  namespace: shop
spec:
  clusterIP: 10.96.0.71
  ports:
  - name: http
    port: 80000
    protocol: TCP
YAML
cat >"$ZONES/extra.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: extra
  namespace: shop
spec:
  clusterIP: 10.96.0.72
YAML
kill -HUP "$DAEMON_PID"
wait_until 10 answers_are extra.$s A "$a72" ||
	fail "extra.yaml not served 10 s after SIGHUP"
expect_dig app.$s A file=app70.A
expect_dig extra.$s A file=extra.A
wait_until 5 grep -qE 'app\.yaml:10:[0-9]+: error' "$DAEMON_ERR" ||
	fail "the reload did not log app.yaml:10: error (port 80000)"
serial2=$(soa_serial)
[ "${serial2:-0}" -gt "${serial1:-0}" ] ||
	fail "SOA serial did not increase on reload: $serial1 -> $serial2"

# Fix app.yaml: the new IP is served.
sed -i 's/port: 80000/port: 80/' "$ZONES/app.yaml"
kill -HUP "$DAEMON_PID"
wait_until 10 answers_are app.$s A "$a71" ||
	fail "the fixed app.yaml not served 10 s after SIGHUP"
expect_dig app.$s A file=app71.A
serial3=$(soa_serial)
[ "${serial3:-0}" -gt "${serial2:-0}" ] ||
	fail "SOA serial did not increase on reload: $serial2 -> $serial3"

# Remove extra.yaml: its names go away.
rm "$ZONES/extra.yaml"
kill -HUP "$DAEMON_PID"
wait_until 10 rcode_is extra.$s A NXDOMAIN ||
	fail "extra.shop still served 10 s after its file was removed"
expect_dig app.$s A file=app71.A
