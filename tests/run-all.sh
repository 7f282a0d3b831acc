#!/bin/bash
# run-all.sh [SECTION...] - lotrace's whole test suite (what `make test` runs).
#
# Sections: unit cli crosscheck golden sweep live tui report fuzz setup
# pipeline tcpdump output metrics. Each prints "ok   ..." / "FAIL ...: why" lines; this script
# counts them and ends with "N passed, N failed". Exit status 1 if anything
# failed.
# Live sections need root (CI is root); without it they are skipped, loudly.
# A test script that is not executable is a failure, not a skip: every *.sh
# in tests/live, tests/tui and tests/setup is a test, except libraries
# (*-lib.sh); tools that are not tests live in tests/tools.
set -u
cd "$(dirname "$0")/.." || exit 2
REPO=$PWD
export PUBLIC="$REPO/tests/captures/public"  # third-party captures (BSD-3-Clause, see SOURCES.md)
export TZ=UTC LC_ALL=C
sections=${*:-format unit cli crosscheck golden sweep live tui report fuzz setup pipeline tcpdump output metrics}
log=$(mktemp); trap 'rm -f "$log"' EXIT

run() { # run LABEL COMMAND...: stream its output, keep it for counting
	echo "== $1"
	shift
	"$@" 2>&1 | tee -a "$log"
}

# script LABEL FILE [ARG...]: run a test script, or fail if it cannot be run
script() {
	if [ -x "$2" ]; then
		run "$1" "$2" "${@:3}"
	else
		echo "FAIL $2: not executable, so it cannot run (chmod +x $2)" | tee -a "$log"
	fi
}

# scripts DIR LABEL: every test script in DIR
scripts() {
	local t
	for t in "$1"/*.sh; do
		case $t in *-lib.sh) continue ;; esac
		[ -e "$t" ] && script "$2 $(basename "$t")" "$t"
	done
}

captures() { # every capture with a truth file: shared public ones and ours
	ls "$PUBLIC"/*.truth.json captures/*.truth.json 2>/dev/null |
		sed 's/\.truth\.json$//'
}

for s in $sections; do
	case $s in
	format)
		if make --no-print-directory format-check >/dev/null 2>&1; then
			echo "ok   make format changes nothing (.clang-format)" | tee -a "$log"
		else
			echo "FAIL make format would change: $(make --no-print-directory format-check 2>&1 | grep -o '^[^:]*\.[ch]' | sort -u | tr '\n' ' ')" | tee -a "$log"
		fi ;;
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
		script "golden" tests/golden/run.sh ;;
	sweep)
		script "truncation and corruption sweep" tests/sweep.sh ;;
	live)
		if [ "$(id -u)" != 0 ]; then
			echo "== live: SKIPPED (needs root)"
			continue
		fi
		scripts tests/live live ;;
	tui)
		scripts tests/tui tui ;;
	report)
		script "report" tests/report.sh ;;
	output)
		LOTRACE="$REPO/build/lotrace" script "output (release)" tests/output.sh
		LOTRACE="$REPO/build-asan/lotrace" script "output (asan)" tests/output.sh ;;
	pipeline)
		LOTRACE="$REPO/build/lotrace" script "pipeline (release)" tests/pipeline.sh
		LOTRACE="$REPO/build-asan/lotrace" script "pipeline (asan)" tests/pipeline.sh ;;
	fuzz)
		# each libFuzzer target for FUZZ_TIME (30) seconds, ASan/UBSan
		script "fuzz (libFuzzer, ${FUZZ_TIME:-30}s each)" tests/fuzz/run.sh "${FUZZ_TIME:-30}" ;;
	setup)
		scripts tests/setup setup ;;
	metrics)
		# replay checks; the live ones (real Prometheus, node_exporter,
		# SIGHUP) need root and the live lock
		script "metrics (Prometheus, node_exporter, SIGHUP)" tests/metrics.sh ;;
	tcpdump)
		script "tcpdump habits (replay; the live ones are tests/live/tcpdump.sh)" tests/tcpdump.sh ;;
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
