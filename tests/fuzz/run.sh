#!/bin/bash
# run.sh [SECONDS] - run every libFuzzer target in build-fuzz/fuzz/ for
# SECONDS each (default 30) under ASan/UBSan, as many at once as there are
# CPUs; what `make fuzz` and the `fuzz` section of `make test` run.
#
# Each target first replays its regression inputs (tests/fuzz/regress/
# TARGET/: minimised crashers found before), then fuzzes from a corpus
# seeded from captures/ and tests/captures/public (tests/fuzz/seeds.py;
# the corpus grows in build-fuzz/corpus/ across runs). Any crash, leak,
# sanitizer report or timeout is a FAIL naming the saved input in
# build-fuzz/artifacts/; minimise it with `TARGET -minimize_crash=1 FILE`
# and add it to tests/fuzz/regress/TARGET/.
. "$(dirname "$0")/../lib.sh"
secs=${1:-30}
B=$REPO/build-fuzz
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

targets=()
for src in "$REPO"/tests/fuzz/fuzz_*.c; do
	t=$(basename "$src" .c)
	if [ ! -x "$B/fuzz/$t" ]; then
		fail "fuzz $t" "$B/fuzz/$t is not built (make fuzz-build; needs clang and libclang-rt-14-dev)"
		continue
	fi
	targets+=("$t")
done
[ ${#targets[@]} -gt 0 ] || exit 0

# Seeds: the bundled scenario captures and the public ones.
rm -rf "$B/seeds"
python3 "$REPO/tests/fuzz/seeds.py" "$B/seeds" "$REPO"/captures/*.pcap \
	"$PUBLIC"/*.pcap "$PUBLIC"/*.pcapng "$PUBLIC"/*.pcap.gz ||
	fail "fuzz seeds" "tests/fuzz/seeds.py failed"
mkdir -p "$B/artifacts"

# fuzz_one TARGET: its regressions, then $secs seconds of fuzzing; prints
# the ok/FAIL lines
fuzz_one() {
	local t=$1 kind=${1#fuzz_} bin=$B/fuzz/$1 log=$B/$1.log
	# 1. regressions: each must run clean
	local reg=$REPO/tests/fuzz/regress/$kind
	if [ -d "$reg" ] && [ -n "$(ls -A "$reg")" ]; then
		if "$bin" "$reg"/* >"$log.regress" 2>&1; then
			ok "fuzz $kind: $(ls "$reg" | wc -l) regression inputs run clean"
		else
			fail "fuzz $kind regressions" "$(grep -m1 -E 'ERROR|runtime error|Running' "$log.regress" | tail -1)"
		fi
	fi
	# 2. fuzz for $secs seconds from the corpus and the seeds
	local corpus=$B/corpus/$kind st execs cov ft files art
	mkdir -p "$corpus"
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$B/artifacts/$kind-" \
		"$corpus" "$B/seeds/$kind" >"$log" 2>&1
	st=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -E '^#[0-9]+' "$log" | tail -1 | grep -o 'cov: [0-9]*' | cut -d' ' -f2)
	ft=$(grep -E '^#[0-9]+' "$log" | tail -1 | grep -o 'ft: [0-9]*' | cut -d' ' -f2)
	files=$(ls "$corpus" | wc -l)
	if [ $st = 0 ] && ! grep -qE 'ERROR: |runtime error|SUMMARY: ' "$log"; then
		ok "fuzz $kind: ${execs:-?} execs in ${secs}s, cov ${cov:-?} edges, ${ft:-?} features, corpus $files, 0 crashes"
	else
		art=$(grep -o "$B/artifacts/[^ ]*" "$log" | tail -1)
		fail "fuzz $kind" "exit $st: $(grep -m1 -E 'ERROR: |runtime error' "$log") (input: ${art:-see $log})"
	fi
}

# The targets side by side, as many at a time as there are CPUs (each
# libFuzzer process uses one): each still fuzzes for $secs seconds.
jobs=$(nproc 2>/dev/null || echo 1)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null' EXIT
for ((i = 0; i < ${#targets[@]}; i += jobs)); do
	pids=()
	for t in "${targets[@]:i:jobs}"; do
		fuzz_one "$t" >"$B/$t.result" &
		pids+=($!)
	done
	wait "${pids[@]}"
	for t in "${targets[@]:i:jobs}"; do
		cat "$B/$t.result"
	done
done
