#!/usr/bin/env bash
# `make test`: unit tests (plain and ASan+UBSan builds), then the integration
# tests against the real daemon. The last line sums them all up as
# "N passed, M failed". With an argument, runs only that build's tests.
set -u
cd "$(dirname "$0")/.."
total_p=0
total_f=0
tally() { # reads "...: N passed, M failed" from the last line of a log
	local line p f
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
	p=$(printf '%s' "$line" | sed -n 's/.* \([0-9]*\) passed.*/\1/p')
	f=$(printf '%s' "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	total_p=$((total_p + ${p:-0}))
	if [ -z "$line" ]; then f=1; fi
	total_f=$((total_f + ${f:-1}))
}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if [ $# -gt 0 ]; then
	builds=("$@")
	integ=0
else
	builds=(build build/san-address+undefined)
	integ=1
fi
for b in "${builds[@]}"; do
	tests/run_unit.sh "$b" | tee "$log"
	tally "$log"
	tests/fuzz/replay.sh "$b" | tee "$log"
	tally "$log"
done
if [ $integ = 1 ]; then
	tests/integration/run.sh build | tee "$log"
	tally "$log"
fi
echo
echo "all tests: $total_p passed, $total_f failed"
[ "$total_f" = 0 ]
