# Helpers for tests/packaging/test_*.sh; sourced, not run.
#
# A test prints "ok: ..." or "FAIL: ..." per check, and ends with exactly
# one of the lines "PASS NAME", "FAIL NAME" or "SKIP NAME: why". Its exit
# status says the same: 0 passed, 77 skipped (the automake convention), any
# other failed. tests/packaging/run.sh adds them up.

set -u
PK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PK_NAME=$(basename "$0" .sh)
PK_FAILS=0
PK_BUILD=${SVCDNS_BUILD:-$PK_ROOT/build}

pk_ok() { echo "ok: $*"; }
pk_fail()
{
	echo "FAIL: $*"
	PK_FAILS=$((PK_FAILS + 1))
}
pk_skip()
{
	echo "SKIP $PK_NAME: $*"
	exit 77
}
# pk_done: the closing line and exit status.
pk_done()
{
	if [ "$PK_FAILS" = 0 ]; then
		echo "PASS $PK_NAME"
		exit 0
	fi
	echo "FAIL $PK_NAME: $PK_FAILS check(s) failed"
	exit 1
}

# pk_check LABEL CMD...: runs CMD, one ok/FAIL line.
pk_check()
{
	local label=$1
	shift
	if "$@"; then pk_ok "$label"; else pk_fail "$label"; fi
}

# pk_need_pkgs PKG...: installs the Debian packages that are missing, as the
# Makefile's deps target does (root or sudo, apt-get). Returns non-zero when
# they cannot be installed, so that the caller can skip.
pk_need_pkgs()
{
	local p missing= sudo=
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	[ "$(id -u)" = 0 ] || sudo=sudo
	echo "installing:$missing"
	{ $sudo apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
			--no-install-recommends $missing; } >/dev/null 2>&1 ||
		{ echo "cannot install:$missing"; return 1; }
}

# pk_need_binary: the daemon built by `make` (tests run after it).
pk_need_binary()
{
	[ -x "$PK_BUILD/svcdns" ] || { echo "building svcdns"; make -C "$PK_ROOT" -s all >/dev/null; } ||
		pk_skip "no $PK_BUILD/svcdns and make failed"
}

# pk_tmpdir: a temp directory removed at exit; sets PK_TMP.
pk_tmpdir()
{
	PK_TMP=$(mktemp -d "${TMPDIR:-/tmp}/svcdns-$PK_NAME.XXXXXX")
	trap 'pk_cleanup' EXIT
}
pk_cleanup()
{
	[ -n "${PK_CLEANUP_HOOK:-}" ] && $PK_CLEANUP_HOOK
	[ -n "${SVCDNS_TEST_KEEP:-}" ] && { echo "kept $PK_TMP"; return; }
	rm -rf "$PK_TMP"
}
