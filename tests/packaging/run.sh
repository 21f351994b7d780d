#!/usr/bin/env bash
# Runs every tests/packaging/test_*.sh (or those named) and sums them up:
#
#   tests/packaging/run.sh [test_unit test_man ...]
#
# Each test's output is shown as it runs. A test exits 0 (passed), 77
# (skipped: a tool it needs cannot be had here) or anything else (failed).
# The last line is "packaging: N passed, M failed, K skipped"; the status is
# non-zero when any failed. `make check-packaging` runs this; `make test`
# does not (building the .deb takes a while).
set -u
here=$(cd "$(dirname "$0")" && pwd)
pass=0
fail=0
skip=0
failed=
if [ $# -gt 0 ]; then
	tests=()
	for t in "$@"; do tests+=("$here/${t%.sh}.sh"); done
else
	tests=("$here"/test_*.sh)
fi
for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	echo "=== $name"
	start=$(date +%s)
	bash "$t"
	rc=$?
	took=$(($(date +%s) - start))
	case $rc in
	0) pass=$((pass + 1)); echo "--- $name: passed (${took} s)" ;;
	77) skip=$((skip + 1)); echo "--- $name: skipped (${took} s)" ;;
	*) fail=$((fail + 1)); failed="$failed $name"; echo "--- $name: FAILED, status $rc (${took} s)" ;;
	esac
done
echo
[ -n "$failed" ] && echo "failed:$failed"
echo "packaging: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
