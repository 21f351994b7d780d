# 400-ansible-bluegreen: our users' blue/green flow, as an Ansible playbook
# (packaging/ansible/bluegreen.yml), against svcdns's manifest directory:
# 6 full cutovers, blue->green->blue..., each one a whole ansible-playbook
# run (read the color file, deploy the idle color not ready then ready,
# wait for its preview name, re-point the Service, wait, flip the color
# file), while cutover_load asks for the service at 500 queries/s. No
# answer may be mixed, empty, failed or missing.
s=store.svc.cluster.local
tool=$SVCDNS_BUILD/tests/tools/cutover_load
book=$SVCDNS_ROOT/packaging/ansible

# ---- ansible-core, from Debian ------------------------------------------
if ! command -v ansible-playbook >/dev/null; then
	note "installing ansible-core (Debian)"
	sudo=
	[ "$(id -u)" = 0 ] || sudo=sudo
	{ $sudo apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
			--no-install-recommends ansible-core; } >"$WORK/apt.log" 2>&1
fi
if ! command -v ansible-playbook >/dev/null; then
	fail "ansible-playbook is not installed and 'apt-get install ansible-core' failed: $(tail -2 "$WORK/apt.log" 2>/dev/null | tr '\n' ' ')"
	return
fi
note "$(ansible-playbook --version | head -1)"

printf 'color: blue\n' >"$ZONES/../web-color.yaml"
wait_until 10 sh -c "[ \"\$(dig +short +norec -p $PORT @127.0.0.1 web.$s A | sort | tr '\n' ' ')\" = '10.244.5.10 10.244.5.11 ' ]" ||
	fail "web.$s not served blue at the start"

# The flip command: one whole playbook run, which must switch to the color
# cutover_load expects next (%s).
export ANSIBLE_LOCAL_TEMP=$WORK/ansible-tmp ANSIBLE_HOME=$WORK/ansible-home
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_RETRY_FILES_ENABLED=0
cat >"$WORK/flip.sh" <<SH
#!/usr/bin/env bash
n=\$(ls "$WORK"/play.*.log 2>/dev/null | wc -l)
ansible-playbook -i "$book/inventory.ini" "$book/bluegreen.yml" \\
	-e zones_dir="$ZONES" -e dns_port=$PORT -e target_color="\$1" \\
	>"$WORK/play.\$((n + 1)).log" 2>&1
SH
chmod +x "$WORK/flip.sh"

out=$("$tool" --server 127.0.0.1 --port "$PORT" --name "web.$s" \
	--rate 500 --blue 10.244.5.10,10.244.5.11 --green 10.244.6.10,10.244.6.11 \
	--flips 6 --interval-ms 500 --settle-ms 1000 --timeout-ms 1000 \
	--flip-timeout-ms 180000 --flip-cmd "$WORK/flip.sh %s" --verbose \
	2>"$WORK/load.err")
rc=$?
note "cutover_load: $out"
if [ $rc != 0 ]; then
	fail "cutover_load exited $rc: $out"
	sed 's/^/  /' "$WORK/load.err" | head -20
	for f in "$WORK"/play.*.log; do
		grep -q 'failed=0' "$f" || { echo "== $f"; tail -30 "$f"; }
	done
fi
for k in mixed empty error timeout truncated regressions flip_failed flip_unseen send_errors; do
	expect_match "$k" "* $k=0 *" "$out"
done
expect_match "flips" '* flips=6 *' "$out"
n=$(ls "$WORK"/play.*.log 2>/dev/null | wc -l)
expect_eq "playbook runs" 6 "$n"
ok=$(grep -l 'localhost *: ok=[0-9]* *changed=[1-9][0-9]* *unreachable=0 *failed=0' "$WORK"/play.*.log 2>/dev/null | wc -l)
expect_eq "playbook runs that succeeded with changes" 6 "$ok"
expect_eq "the color file after 6 cutovers" "color: blue" "$(cat "$ZONES/../web-color.yaml")"
expect_eq "served after 6 cutovers" "10.244.5.10 10.244.5.11 " \
	"$(dig +short +norec -p "$PORT" @127.0.0.1 "web.$s" A | sort | tr '\n' ' ')"
c=$(grep -c 'bluegreen: cutover svc=store/web' "$DAEMON_ERR")
expect_eq "cutovers logged by svcdns" 6 "$c"
