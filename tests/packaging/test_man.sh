#!/usr/bin/env bash
# packaging/svcdns.8: renders without a warning, fits 80 columns, and says
# what the daemon does: every option of `svcdns --help` (and no other), the
# version of `svcdns --version`, every blue/green annotation the source
# knows, and the sections an administrator looks for.
. "$(dirname "$0")/lib.sh"
page=$PK_ROOT/packaging/svcdns.8
[ -f "$page" ] || { pk_fail "no $page"; pk_done; }
command -v man >/dev/null || pk_need_pkgs man-db groff-base || true
command -v man >/dev/null || pk_skip "man is not available (Debian package man-db)"
pk_need_binary
pk_tmpdir
export LC_ALL=C.UTF-8

# ---- rendering ----------------------------------------------------------
MANWIDTH=80 man --warnings -l "$page" >"$PK_TMP/page.txt" 2>"$PK_TMP/warn.txt"
rc=$?
if [ $rc = 0 ] && [ ! -s "$PK_TMP/warn.txt" ]; then
	pk_ok "man --warnings renders it without a warning"
else
	cat "$PK_TMP/warn.txt"
	pk_fail "man --warnings: status $rc, $(wc -l <"$PK_TMP/warn.txt") warning line(s)"
fi
# The way lintian renders it (UTF-8 output, every groff warning).
MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" >/dev/null 2>"$PK_TMP/warn2.txt"
if [ -s "$PK_TMP/warn2.txt" ]; then
	cat "$PK_TMP/warn2.txt"
	pk_fail "man -Tutf8 -Z warns"
else
	pk_ok "man -Tutf8 -Z renders it without a warning"
fi
long=$(grep -c '.\{81,\}' "$PK_TMP/page.txt")
if [ "$long" = 0 ]; then
	pk_ok "every rendered line fits 80 columns"
else
	grep -n '.\{81,\}' "$PK_TMP/page.txt"
	pk_fail "$long rendered line(s) wider than 80 columns"
fi

# ---- sections -----------------------------------------------------------
for s in NAME SYNOPSIS DESCRIPTION OPTIONS SIGNALS "EXIT STATUS" FILES \
	EXAMPLES "SEE ALSO"; do
	grep -qx "$s" "$PK_TMP/page.txt" || pk_fail "no section $s"
done
pk_ok "the sections are there"

# ---- in step with the daemon --------------------------------------------
"$PK_BUILD/svcdns" --help | sed -n 's/^  \(--[a-z][a-z-]*\).*/\1/p' |
	sort -u >"$PK_TMP/help.txt"
# The options the page documents: its .TP items under OPTIONS.
awk '/^\.SH OPTIONS/ { on = 1; next } /^\.SH/ { on = 0 }
	on && prev == ".TP" { print } { prev = $0 }' "$page" |
	sed -n 's/^\.BI\{0,1\} \(\\-\\-[a-z\\-]*\).*/\1/p' | sed 's/\\-/-/g' |
	sort -u >"$PK_TMP/page-opts.txt"
missing=$(comm -23 "$PK_TMP/help.txt" "$PK_TMP/page-opts.txt" | tr '\n' ' ')
extra=$(comm -13 "$PK_TMP/help.txt" "$PK_TMP/page-opts.txt" | tr '\n' ' ')
pk_check "the page documents all $(wc -l <"$PK_TMP/help.txt") options of --help${missing:+ (missing: $missing)}" \
	[ -z "$missing" ]
pk_check "the page documents no option that --help lacks${extra:+ (extra: $extra)}" \
	[ -z "$extra" ]
# Every option of --help appears in the synopsis too.
syn=$(sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' "$PK_TMP/page.txt")
nosyn=
while read -r o; do
	case $o in --help | --version | --check | --dump) continue ;; esac
	grep -q -- "$o" <<<"$syn" || nosyn="$nosyn $o"
done <"$PK_TMP/help.txt"
pk_check "the synopsis names every option${nosyn:+ (missing:$nosyn)}" [ -z "$nosyn" ]

version=$("$PK_BUILD/svcdns" --version | sed -n 's/^svcdns \([^ ]*\)$/\1/p')
th=$(sed -n 's/^\.TH SVCDNS 8 [^ ]* "svcdns \([^"]*\)".*/\1/p' "$page")
pk_check ".TH says svcdns $th, the daemon $version" [ "$th" = "$version" ]

miss=
for a in $(grep -ho 'svcdns\.io/[a-z-]*' "$PK_ROOT"/src/*.c | sort -u); do
	grep -qF -- "$a" "$PK_TMP/page.txt" || miss="$miss $a"
done
pk_check "every blue/green annotation is described${miss:+ (missing:$miss)}" [ -z "$miss" ]

# The exit statuses --help announces.
for code in 0 1 2; do
	sed -n '/^EXIT STATUS/,/^FILES/p' "$PK_TMP/page.txt" | grep -q "^       $code  " ||
		pk_fail "EXIT STATUS does not describe status $code"
done
pk_ok "EXIT STATUS describes 0, 1 and 2"
pk_done
