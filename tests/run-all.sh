#!/bin/bash
# run-all.sh [SECTION...] - lotrace's whole test suite (what `make test` runs).
#
# Sections: format unit cli crosscheck golden report pipeline output tcpdump
# sweep tui fuzz setup metrics live. Each prints "ok   ..." / "FAIL ...: why"
# lines; this script counts them and ends with "N passed, N failed" and how
# long each section took (wall and CPU seconds). Exit status 1 if anything
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
# The quick replay-only sections first (see LANES below), then the rest.
sections=${*:-format unit cli crosscheck golden report pipeline output tcpdump sweep tui fuzz setup metrics live}
# Replay-only sections that use one CPU and share nothing: when several of
# them come in a row they run in LANES (2) parallel lanes, each lane's
# output shown when it is done. LANES=1 runs everything one after another.
PARALLEL="format unit cli crosscheck golden report pipeline output"
LANES=${LANES:-2}
log=$(mktemp); trap 'rm -f "$log" "$log".*' EXIT

run() { # run LABEL COMMAND...: stream its output, keep it for counting, say how long it took
	local label=$1 t0=${EPOCHREALTIME/./} t
	echo "== $label"
	shift
	"$@" 2>&1 | tee -a "$log"
	t=$(((${EPOCHREALTIME/./} - t0) / 100000))
	echo "-- $label: $((t / 10)).$((t % 10)) s"
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

# CPU milliseconds (user + system) of every process this script waited for:
# on a loaded machine the wall time says little, the CPU time still does
# (the times builtin, in this shell: a $(...) subshell would have no children)
cpu_ms() { # cpu_ms VAR
	local var=$1 u s
	times >"$log.times.$BASHPID"
	{ read -r _; read -r u s; } <"$log.times.$BASHPID"
	# shellcheck disable=SC2086
	set -- ${u//[ms.]/ } ${s//[ms.]/ }
	printf -v "$var" %d $((($1 + $4) * 60000 + (10#$2 + 10#$5) * 1000 + 10#$3 + 10#$6))
}
# section NAME: run one section, then add "NAME WALL (cpu CPU)" to
# $log.sections (a file: lanes are subshells)
section() {
	local s=$1 t0=${EPOCHREALTIME/./} c0 c1 t c
	cpu_ms c0
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
			echo "live skipped" >>"$log.sections"
			return
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
		# clone.sh (two builds, then single-CPU replay tests) beside the
		# others (one build each), its output after theirs
		script "setup clone.sh" tests/setup/clone.sh >"$log.clone" 2>&1 &
		local clone=$! t
		for t in tests/setup/*.sh; do
			case $t in *-lib.sh | */clone.sh) continue ;; esac
			[ -e "$t" ] && script "setup $(basename "$t")" "$t"
		done
		wait $clone
		cat "$log.clone" ;;
	metrics)
		# replay checks; the live ones (real Prometheus, node_exporter,
		# SIGHUP) need root and the live lock
		script "metrics (Prometheus, node_exporter, SIGHUP)" tests/metrics.sh ;;
	tcpdump)
		script "tcpdump habits (replay; the live ones are tests/live/tcpdump.sh)" tests/tcpdump.sh ;;
	esac
	cpu_ms c1
	t=$(((${EPOCHREALTIME/./} - t0) / 100000)) c=$(((c1 - c0) / 100))
	echo "$s $((t / 10)).$((t % 10)) (cpu $((c / 10)).$((c % 10)))" >>"$log.sections"
}

# weight NAME: a section's rough share of a lane (seconds on a quiet machine)
weight() {
	case $1 in cli) echo 14 ;; unit) echo 10 ;; report) echo 8 ;; pipeline) echo 5 ;;
	crosscheck) echo 3 ;; golden) echo 2 ;; *) echo 1 ;; esac
}

# lanes NAME...: the sections in LANES parallel lanes, heaviest first, each
# to the lightest lane; the lanes' outputs in order once all are done
lanes() {
	local -a lane load pids
	local s i best w
	for ((i = 0; i < LANES; i++)); do lane[i]="" load[i]=0; done
	for s in $(for s in "$@"; do echo "$(weight "$s") $s"; done | sort -rn | cut -d' ' -f2); do
		best=0
		for ((i = 1; i < LANES; i++)); do [ "${load[i]}" -lt "${load[best]}" ] && best=$i; done
		w=$(weight "$s")
		lane[best]+=" $s" load[best]=$((load[best] + w))
	done
	for ((i = 0; i < LANES; i++)); do
		(for s in ${lane[i]}; do section "$s"; done) >"$log.lane$i" 2>&1 &
		pids[i]=$!
	done
	wait "${pids[@]}"
	for ((i = 0; i < LANES; i++)); do
		echo "== lane $((i + 1)) of $LANES:${lane[i]}"
		cat "$log.lane$i"
	done
}

for s in $sections; do
	case " format unit cli crosscheck golden report pipeline output tcpdump sweep tui fuzz setup metrics live " in
	*" $s "*) ;;
	*) echo "unknown section '$s'"; exit 2 ;;
	esac
done
queue=() # parallel sections waiting for the next one that is not
for s in $sections $'\n'; do
	if [ "$s" != $'\n' ] && [ "$LANES" -gt 1 ] && [[ " $PARALLEL " == *" $s "* ]]; then
		queue+=("$s")
		continue
	fi
	if [ ${#queue[@]} -gt 1 ]; then
		lanes "${queue[@]}"
	elif [ ${#queue[@]} = 1 ]; then
		section "${queue[0]}"
	fi
	queue=()
	[ "$s" != $'\n' ] && section "$s"
done

passed=$(grep -c '^ok ' "$log")
failed=$(grep -c '^FAIL' "$log")
echo
if [ "$failed" -gt 0 ]; then
	echo "failures:"
	grep '^FAIL' "$log"
	echo
fi
echo "section times, wall (cpu) seconds: $(paste -sd, "$log.sections" | sed 's/,/, /g')"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
