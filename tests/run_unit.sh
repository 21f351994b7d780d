#!/usr/bin/env bash
# Runs every unit test program of one build directory (default: build).
# Prints cmocka's own report per program and, last, "unit: N passed, M failed".
set -u
build=${1:-build}
pass=0
fail=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1}
for t in "$build"/tests/unit/test_*; do
	[ -x "$t" ] || continue
	case "$t" in *.d) continue ;; esac
	out=$(cd "$(dirname "$0")/unit" && "$OLDPWD/$t" 2>&1)
	rc=$?
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	p=${p:-0}
	f=${f:-0}
	if [ $rc -ne 0 ] && [ "$f" = 0 ]; then
		f=1 # crashed, or a sanitizer stopped it
	fi
	if [ "$f" != 0 ]; then
		printf '%s\n' "$out"
		echo "FAIL $t (exit $rc)"
	else
		echo "ok   $t ($p tests)"
	fi
	pass=$((pass + p))
	fail=$((fail + f))
done
echo "unit ($build): $pass passed, $fail failed"
[ "$fail" = 0 ]
