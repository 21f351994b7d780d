#!/usr/bin/env bash
# The Debian package: builds it with packaging/build-deb.sh (what `make deb`
# runs) into a temp directory, then checks
#   - the source tree was not written (dpkg-buildpackage works in a copy);
#   - lintian: no error or warning; every override in
#     packaging/debian/svcdns.lintian-overrides has a comment above it;
#   - the contents: binary, unit, man page, /etc/default/svcdns (a
#     conffile), the example zones, the empty manifest directory;
#   - the metadata: version = the daemon's, shared-library dependencies,
#     a postinst that creates the system user before starting the unit;
#   - the binary's hardening (PIE, BIND_NOW, RELRO, NX stack, stack
#     protector and fortified calls), as RELIABILITY.md section 4 asks;
#   - a trial install: dpkg --unpack into a throwaway root (no maintainer
#     script runs, so nothing touches this machine's users), then the
#     installed svcdns --version and --check on the installed examples.
# Prints every lintian tag, info, pedantic, experimental and overridden
# ones included.
. "$(dirname "$0")/lib.sh"
pk_need_pkgs gcc make pkg-config libuv1-dev libc-ares-dev libyaml-dev \
	libcmocka-dev dpkg-dev debhelper fakeroot lintian binutils man-db ||
	pk_skip "cannot install the packaging tools"
pk_tmpdir
out=$PK_TMP/deb
export LC_ALL=C.UTF-8

# ---- build --------------------------------------------------------------
stamp=$PK_TMP/stamp
touch "$stamp"
sleep 1
t0=$(date +%s)
if ! deb=$("$PK_ROOT/packaging/build-deb.sh" "$out" | tail -1) || [ ! -f "$deb" ]; then
	pk_fail "packaging/build-deb.sh failed"
	pk_done
fi
echo "built $(basename "$deb") in $(($(date +%s) - t0)) s"
pk_ok "dpkg-buildpackage built the source and binary packages"
changes=$(ls "$out"/*.changes)
# Nothing in the tree changed but build/ (ignored) and what others edit.
written=$(cd "$PK_ROOT" && find . \( -path ./build -o -path ./.git \) -prune -o \
	-newer "$stamp" -type f -print | grep -E '(^\./debian/|\.deb$|\.changes$|\.buildinfo$|-stamp$|/\.debhelper/)' || true)
written_up=$(find "$PK_ROOT/.." -maxdepth 1 -newer "$stamp" -name 'svcdns_*' 2>/dev/null)
if [ -z "$written$written_up" ] && [ ! -e "$PK_ROOT/debian" ]; then
	pk_ok "the build wrote nothing into the source tree or beside it"
else
	pk_fail "the build wrote into the tree: $written $written_up"
fi

# ---- lintian ------------------------------------------------------------
lintian --pedantic --display-info --display-experimental --show-overrides \
	--fail-on error,warning \
	"$changes" >"$PK_TMP/lintian.txt" 2>&1
rc=$?
grep -v '^running with root privileges is not recommended' "$PK_TMP/lintian.txt" |
	sed 's/^/lintian: /'
tags=$(grep -c '^[EWIPX]: ' "$PK_TMP/lintian.txt")
overridden=$(grep -c '^O: ' "$PK_TMP/lintian.txt")
echo "lintian: $tags tag(s), $overridden overridden, status $rc"
if [ $rc = 0 ] && ! grep -q '^[EW]: ' "$PK_TMP/lintian.txt"; then
	pk_ok "lintian: no error, no warning"
else
	pk_fail "lintian reports errors or warnings (status $rc)"
fi
for ovr in "$PK_ROOT/packaging/debian/svcdns.lintian-overrides" \
	"$PK_ROOT/packaging/debian/source/lintian-overrides"; do
	[ -f "$ovr" ] || continue
	bad=$(awk '/^[ \t]*$/ { c = 0; next } /^#/ { c = 1; next }
		{ if (!c) print; }' "$ovr")
	pk_check "every override in ${ovr#"$PK_ROOT"/} is justified by a comment${bad:+ (not: $bad)}" \
		[ -z "$bad" ]
done
# An override that no longer matches anything is clutter.
if grep -q 'unused-override\|mismatched-override' "$PK_TMP/lintian.txt"; then
	pk_fail "lintian reports an unused or mismatched override"
fi

# ---- contents -----------------------------------------------------------
dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's|^\./|/|' >"$PK_TMP/files.txt"
for f in /usr/sbin/svcdns /lib/systemd/system/svcdns.service \
	/usr/share/man/man8/svcdns.8.gz /etc/default/svcdns /etc/svcdns/zones/ \
	/usr/share/doc/svcdns/copyright /usr/share/doc/svcdns/changelog.gz \
	/usr/share/doc/svcdns/examples/zones/shop/cart.yaml; do
	grep -qxF "$f" "$PK_TMP/files.txt" || pk_fail "the package lacks $f"
done
pk_ok "the package holds the binary, unit, man page, defaults and examples"
ctl=$PK_TMP/control
dpkg-deb -e "$deb" "$ctl"
pk_check "/etc/default/svcdns is a conffile" grep -qx /etc/default/svcdns "$ctl/conffiles"
version=$(dpkg-deb -f "$deb" Version)
depends=$(dpkg-deb -f "$deb" Depends)
echo "package: svcdns $version; Depends: $depends"
for d in adduser libuv1 libc-ares2 libyaml-0-2 libc6; do
	grep -qE "(^|, )$d( |,|$)" <<<"$depends" || pk_fail "Depends lacks $d"
done
pk_ok "Depends names adduser and the shared libraries"
# The user first, then debhelper's unit start.
user_line=$(grep -n 'adduser --system' "$ctl/postinst" | head -1 | cut -d: -f1)
start_line=$(grep -n 'deb-systemd-invoke' "$ctl/postinst" | head -1 | cut -d: -f1)
order=no
if [ -n "$user_line" ] && [ -n "$start_line" ] && [ "$user_line" -lt "$start_line" ] &&
	grep -q -- '--group --no-create-home' "$ctl/postinst"; then
	order=yes
fi
pk_check "postinst creates the system user svcdns before starting the unit" [ $order = yes ]
pk_check "postinst enables the unit" grep -q "deb-systemd-helper enable 'svcdns.service'" "$ctl/postinst"
pk_check "postinst passes sh -n" sh -n "$ctl/postinst"

# ---- trial install ------------------------------------------------------
root=$PK_TMP/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
if dpkg --root="$root" --force-not-root --force-depends --unpack "$deb" \
	>"$PK_TMP/dpkg.txt" 2>&1; then
	pk_ok "dpkg --unpack into a throwaway root"
	st=$(dpkg --root="$root" -s svcdns 2>/dev/null | sed -n 's/^Status: //p')
	pk_check "dpkg records it as '$st'" [ "$st" = "install ok unpacked" ]
else
	cat "$PK_TMP/dpkg.txt"
	pk_fail "dpkg --unpack failed; falling back to dpkg -x"
	dpkg -x "$deb" "$root"
fi
bin=$root/usr/sbin/svcdns
got=$("$bin" --version 2>&1 | head -1)
pk_check "installed svcdns --version says 'svcdns $version' (got '$got')" \
	[ "$got" = "svcdns $version" ]
"$bin" --check --zones "$root/usr/share/doc/svcdns/examples/zones" >"$PK_TMP/check.txt" 2>&1
rc=$?
cat "$PK_TMP/check.txt"
grep -q '^check: ok .*errors=0' "$PK_TMP/check.txt" || rc=1
pk_check "installed svcdns --check passes on the installed examples" [ $rc = 0 ]
"$bin" --check --zones "$root/etc/svcdns/zones" >/dev/null 2>&1
pk_check "the shipped, empty manifest directory loads" [ $? = 0 ]
pk_check "the installed unit is packaging/svcdns.service" \
	cmp -s "$root/lib/systemd/system/svcdns.service" "$PK_ROOT/packaging/svcdns.service"
pk_check "the installed man page renders without warnings" \
	eval '[ -z "$(MANWIDTH=80 man --warnings -l "$root/usr/share/man/man8/svcdns.8.gz" 2>&1 >/dev/null)" ]'

# ---- hardening of the binary --------------------------------------------
h=$PK_TMP/readelf.txt
readelf -W -h -l -d --dyn-syms "$bin" >"$h" 2>&1
pk_check "PIE (ELF type DYN)" grep -qE 'Type: +DYN' "$h"
pk_check "BIND_NOW" grep -qE '\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*NOW' "$h"
pk_check "GNU_RELRO" grep -q 'GNU_RELRO' "$h"
pk_check "non-executable stack" eval "grep 'GNU_STACK' '$h' | grep -qv 'RWE'"
pk_check "stack protector (__stack_chk_fail)" grep -q '__stack_chk_fail' "$h"
pk_check "fortified calls (*_chk)" grep -qE ' __[a-z]+_chk(@|$)' "$h"
pk_done
