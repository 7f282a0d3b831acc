#!/bin/bash
# bench/cpu-ab.sh - lotrace's own CPU per connection, two builds A/B in
# the same minutes: the way to compare builds on a shared machine, where
# rates of runs far apart do not compare.
#
# Each round floods loopback once per build (lt_peer flood --conns N
# --parallel 4) with that build's lotrace --backend ebpf watching the
# flood's port (text to /dev/null), in alternating order (A B, B A, ...),
# and takes lotrace's on-CPU ns from /proc/PID/schedstat and its
# utime+stime ticks from /proc/PID/stat just before and just after the
# flood. Prints each run, then per build the median and spread of
# us/connection (schedstat) and of the stat ticks per connection.
# Needs root. Usage: cpu-ab.sh LOTRACE_A LOTRACE_B [ROUNDS] (default 6;
# env CONNS=20000, ARGS="--json" adds lotrace arguments to both).
set -u
cd "$(dirname "$0")/../.." || exit 1
A=${1:?usage: cpu-ab.sh LOTRACE_A LOTRACE_B [ROUNDS]}
B=${2:?usage: cpu-ab.sh LOTRACE_A LOTRACE_B [ROUNDS]}
ROUNDS=${3:-6}
CONNS=${CONNS:-20000}
PEER=./build/tools/lt_peer
TICK=$(getconf CLK_TCK)
work=$(mktemp -d /tmp/lotrace-ab.XXXXXX)
TRACER=
cleanup() {
	[ -n "$TRACER" ] && kill "$TRACER" 2>/dev/null && wait "$TRACER" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
if [ "$(id -u)" != 0 ] || [ ! -x "$PEER" ] || [ ! -x "$A" ] || [ ! -x "$B" ]; then
	echo "cpu-ab.sh: needs root, $PEER, and both lotrace binaries" >&2
	exit 2
fi

cpu_of() { # PID: on-CPU ns (schedstat) and utime+stime ticks (stat)
	local ns ticks
	ns=$(awk '{print $1}' "/proc/$1/schedstat" 2>/dev/null)
	ticks=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null)
	echo "${ns:-0} ${ticks:-0}"
}

port=62300
run() { # NAME BINARY: one flood watched by BINARY; appends to results
	local name=$1 bin=$2 p=$((port++)) n0 t0 n1 t1 made
	# shellcheck disable=SC2086
	"$bin" --backend ebpf --port "$p" --no-tui -v ${ARGS:-} >/dev/null 2>"$work/err" &
	TRACER=$!
	for _ in $(seq 100); do grep -q capturing "$work/err" && break; sleep 0.05; done
	sleep 0.1
	read -r n0 t0 < <(cpu_of "$TRACER")
	made=$("$PEER" flood --addr 127.0.0.1 --port "$p" --conns "$CONNS" --parallel 4 |
		sed -n 's/.*conns=\([0-9]*\).*/\1/p')
	sleep 0.5 # the last records: read within the 250 ms poll (headless)
	read -r n1 t1 < <(cpu_of "$TRACER")
	kill -INT "$TRACER"; wait "$TRACER" 2>/dev/null; TRACER=
	made=${made:-$CONNS}
	awk -v n="$name" -v ns=$((n1 - n0)) -v t=$((t1 - t0)) -v c="$made" -v tick="$TICK" \
		'BEGIN { printf "%s %.3f %.3f\n", n, ns / c / 1000, t * 1e6 / tick / c }' |
		tee -a "$work/results"
	sleep 0.3
}

echo "run us/conn(schedstat) us/conn(stat)"
for ((r = 0; r < ROUNDS; r++)); do
	if ((r % 2)); then run B "$B"; run A "$A"; else run A "$A"; run B "$B"; fi
done
for n in A B; do
	awk -v n=$n '$1 == n { s[++k] = $2; t[k] = $3 }
	function med(v, k,   i, j, x) {
		for (i = 2; i <= k; i++) { x = v[i]; for (j = i - 1; j > 0 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
		return k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
	}
	END { if (!k) exit; lo = hi = s[1]; for (i = 1; i <= k; i++) { if (s[i] < lo) lo = s[i]; if (s[i] > hi) hi = s[i] }
	      printf "%s: %.2f us/conn median (%.2f-%.2f, %d runs, schedstat); stat %.2f\n", n, med(s, k), lo, hi, k, med(t, k) }' \
		"$work/results"
done
echo "A = $A"
echo "B = $B"
