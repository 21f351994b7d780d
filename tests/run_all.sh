#!/usr/bin/env bash
# `make test`: unit tests (plain and ASan+UBSan builds), then the integration
# tests against the real daemon. The last line sums them all up as
# "N passed, M failed, K skipped" (skipped: integration cases that cannot
# run on this machine). With an argument, runs only that build's tests.
set -u
cd "$(dirname "$0")/.."
total_p=0
total_f=0
total_s=0
tally() { # reads "...: N passed, M failed[, K skipped]" from a log's last such line
	local line p f s
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
	p=$(printf '%s' "$line" | sed -n 's/.* \([0-9]*\) passed.*/\1/p')
	f=$(printf '%s' "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	s=$(printf '%s' "$line" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
	total_p=$((total_p + ${p:-0}))
	total_s=$((total_s + ${s:-0}))
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
echo "all tests: $total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" = 0 ]
