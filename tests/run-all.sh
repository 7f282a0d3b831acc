#!/bin/bash
# run-all.sh [SECTION...] - lotrace's whole test suite (what `make test` runs).
#
# Sections: unit cli crosscheck golden sweep live tui report fuzz. Each prints
# "ok   ..." / "FAIL ...: why" lines; this script counts them and ends with
# "N passed, N failed". Exit status 1 if anything failed.
# Live sections need root (CI is root); without it they are skipped, loudly.
set -u
cd "$(dirname "$0")/.." || exit 2
REPO=$PWD
export PUBLIC="$REPO/tests/captures/public"  # third-party captures (BSD-3-Clause, see SOURCES.md)
export TZ=UTC LC_ALL=C
sections=${*:-unit cli crosscheck golden sweep live tui report fuzz}
log=$(mktemp); trap 'rm -f "$log"' EXIT

run() { # run LABEL COMMAND...: stream its output, keep it for counting
	echo "== $1"
	shift
	"$@" 2>&1 | tee -a "$log"
}

captures() { # every capture with a truth file: shared public ones and ours
	ls "$PUBLIC"/*.truth.json captures/*.truth.json 2>/dev/null |
		sed 's/\.truth\.json$//'
}

for s in $sections; do
	case $s in
	unit)
		for b in build build-asan; do
			for t in "$b"/tests/test_*; do
				case $t in *.d) continue ;; esac
				[ -x "$t" ] || continue
				if out=$("$t" 2>&1); then
					echo "ok   unit $t ($(echo "$out" | grep -o '[0-9]* test(s) run' | head -1))" | tee -a "$log"
				else
					echo "$out" | grep -E 'FAILED|ERROR' | head -5
					echo "FAIL unit $t" | tee -a "$log"
				fi
			done
		done ;;
	cli)
		run "cli (release)" env LOTRACE="$REPO/build/lotrace" tests/cli.sh
		run "cli (asan)" env LOTRACE="$REPO/build-asan/lotrace" tests/cli.sh
		if [ -x build-pcap/lotrace ]; then
			run "cli (BACKEND=pcap build, no libbpf)" env LOTRACE="$REPO/build-pcap/lotrace" tests/cli.sh
			if build-pcap/lotrace --backend ebpf --no-tui --duration 1ms 2>&1 | grep -q "built without eBPF"; then
				echo "ok   BACKEND=pcap build says it has no eBPF" | tee -a "$log"
			else
				echo "FAIL BACKEND=pcap build: --backend ebpf did not say it lacks eBPF" | tee -a "$log"
			fi
			if ldd build-pcap/lotrace | grep -q libbpf; then
				echo "FAIL BACKEND=pcap build links libbpf" | tee -a "$log"
			else
				echo "ok   BACKEND=pcap build does not link libbpf" | tee -a "$log"
			fi
		fi ;;
	crosscheck)
		# shellcheck disable=SC2046
		run "crosscheck vs tshark (release)" python3 tests/crosscheck.py build/lotrace $(captures)
		# shellcheck disable=SC2046
		run "crosscheck vs tshark (asan)" python3 tests/crosscheck.py build-asan/lotrace $(captures) ;;
	golden)
		[ -x tests/golden/run.sh ] && run "golden" tests/golden/run.sh ;;
	sweep)
		[ -x tests/sweep.sh ] && run "truncation and corruption sweep" tests/sweep.sh ;;
	live)
		if [ "$(id -u)" != 0 ]; then
			echo "== live: SKIPPED (needs root)"
			continue
		fi
		for t in tests/live/*.sh; do
			[ -x "$t" ] && run "live $(basename "$t")" "$t"
		done ;;
	tui)
		for t in tests/tui/*.sh; do
			[ -x "$t" ] && run "tui $(basename "$t")" "$t"
		done ;;
	report)
		[ -x tests/report.sh ] && run "report" tests/report.sh ;;
	fuzz)
		# each libFuzzer target for FUZZ_TIME (30) seconds, ASan/UBSan
		run "fuzz (libFuzzer, ${FUZZ_TIME:-30}s each)" tests/fuzz/run.sh "${FUZZ_TIME:-30}" ;;
	*)
		echo "unknown section '$s'"; exit 2 ;;
	esac
done

passed=$(grep -c '^ok ' "$log")
failed=$(grep -c '^FAIL' "$log")
echo
if [ "$failed" -gt 0 ]; then
	echo "failures:"
	grep '^FAIL' "$log"
	echo
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
