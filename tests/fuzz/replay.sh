#!/usr/bin/env bash
# Replays every fuzz corpus (tests/fuzz/corpus/<target>/) through the
# replay_<target> programs of one build directory, without libFuzzer.
# Last line: "fuzz replay: N passed, M failed" (N = inputs replayed).
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
pass=0
fail=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for bin in "$build"/tests/fuzz/replay_*; do
	[ -x "$bin" ] || continue
	case "$bin" in *.d) continue ;; esac
	t=${bin##*/replay_}
	[ -d "$here/corpus/$t" ] || continue
	if out=$("$bin" "$here/corpus/$t" 2>&1); then
		n=$(printf '%s\n' "$out" | sed -n 's/^replay: \([0-9]*\) inputs ok$/\1/p')
		echo "ok   replay $t (${n:-0} inputs)"
		pass=$((pass + ${n:-0}))
	else
		printf '%s\n' "$out" | tail -20
		echo "FAIL replay $t"
		fail=$((fail + 1))
	fi
done
echo "fuzz replay ($build): $pass passed, $fail failed"
[ "$fail" = 0 ]
