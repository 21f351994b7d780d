#!/usr/bin/env bash
# Integration tests: runs every case directory tests/integration/NNN-topic/
# against the real daemon (NSD's tpkg idea; see lib.sh for the format).
#
#   tests/integration/run.sh [BUILD_DIR] [CASE...]
#
# BUILD_DIR (default build) holds svcdns and tests/tools/cares_query.
# CASE names (e.g. 010-clusterip, or a prefix such as 010) select cases.
# Environment:
#   SVCDNS_TEST_TIMEOUT_MULTIPLIER  scales every timeout (default 1; use 5+
#                                   under valgrind or slow sanitizers)
#   SVCDNS_TEST_KEEP=1              keep each case's temp directory
#   SVCDNS_TEST_VERBOSE=1           print every check, not only failures
# Prints "ok NNN-topic", "FAIL NNN-topic: why" or "skip NNN-topic: why" (a
# case that cannot run on this machine: it_skip) per case and, last,
# "integration: N passed, M failed, K skipped"; exits non-zero if any case
# failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-build}
shift $(($# > 0 ? 1 : 0))
case $build in
/*) ;;
*) build=$root/$build ;;
esac
export SVCDNS_BUILD=$build
export SVCDNS_ROOT=$root
export SVCDNS_TEST_TIMEOUT_MULTIPLIER=${SVCDNS_TEST_TIMEOUT_MULTIPLIER:-1}

# shellcheck source=lib.sh
. "$here/lib.sh"

pass=0
fail=0
skip=0
tmproot=$(mktemp -d "${TMPDIR:-/tmp}/svcdns-it.XXXXXX")
trap 'rm -rf "$tmproot"' EXIT

selected() { # case name -> true if it was asked for (or nothing was)
	local c
	[ $# -gt 1 ] || return 0
	for c in "${@:2}"; do
		case $1 in "$c"*) return 0 ;; esac
	done
	return 1
}

if [ ! -x "$build/svcdns" ]; then
	echo "FAIL setup: $build/svcdns not found (run make first)"
	echo "integration: 0 passed, 1 failed"
	exit 1
fi

for dir in "$here"/[0-9][0-9][0-9]-*/; do
	dir=${dir%/}
	name=$(basename "$dir")
	selected "$name" "$@" || continue
	work=$tmproot/$name
	mkdir -p "$work"
	limit=$(it_case_timeout "$dir")
	# timeout(1) puts the case in its own process group and signals the
	# whole group on expiry, daemons included; it_reap_daemons below
	# catches anything that survived by its recorded PID.
	# shellcheck disable=SC2016 # expanded by the inner bash
	timeout -k 5 "$limit" bash -c '. "$1/lib.sh"; it_case_main "$2" "$3"' \
		_ "$here" "$dir" "$work" >"$work/case.out" 2>&1
	rc=$?
	it_reap_daemons "$work"
	if [ $rc = 124 ] || [ $rc = 137 ]; then
		echo "timeout after ${limit}s" >>"$work/fails"
	elif [ $rc != 0 ] && [ ! -s "$work/fails" ]; then
		echo "case exited with status $rc" >>"$work/fails"
	fi
	if [ -s "$work/fails" ]; then
		sed 's/^/# /' "$work/case.out"
		echo "FAIL $name: $(head -1 "$work/fails")$(
			n=$(wc -l <"$work/fails")
			[ "$n" -gt 1 ] && echo " (+$((n - 1)) more)")"
		fail=$((fail + 1))
		if [ "${SVCDNS_TEST_KEEP:-0}" = 1 ]; then
			echo "# kept $work"
		fi
	elif [ -s "$work/skipped" ]; then
		# it_skip: could not run here (not a pass).
		echo "skip $name: $(head -1 "$work/skipped")"
		skip=$((skip + 1))
	else
		if [ "${SVCDNS_TEST_VERBOSE:-0}" = 1 ]; then
			sed 's/^/# /' "$work/case.out"
		fi
		echo "ok $name"
		pass=$((pass + 1))
	fi
	if [ "${SVCDNS_TEST_KEEP:-0}" = 1 ]; then
		cp -a "$work" "${TMPDIR:-/tmp}/svcdns-it-$name.$$"
	fi
done

echo "integration: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
