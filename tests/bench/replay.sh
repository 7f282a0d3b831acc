#!/bin/bash
# replay.sh [CAPTURE] - replay speed of lotrace against a bare libpcap loop.
#
# Reads the same capture with build/bench/pcap_loop (pcap_next_ex and
# nothing else: the floor) twice, with libpcap's defaults (the bare loop)
# and with -l (read as lotrace reads a plain capture: a 256 KiB stdio
# buffer, no stdio lock), `lotrace -r` (text) and `lotrace -r --json`,
# ROUNDS times each (default 5), alternating, output to /dev/null, and
# prints the medians of wall and CPU (user+sys) time, the ratios and
# whether each target of issue 9 is reached:
#   text within 3x of the bare loop, --json within 1.3x of text,
#   engine+output CPU per connection <= 2 us (lotrace CPU minus the -l
#   loop's, so lotrace's reads are left out, over the connections lotrace
#   reported).
# Ratios use CPU time: the machine is shared, and CPU time is what lotrace
# costs; wall times are printed beside them. Without CAPTURE, one is made
# with tests/bench/gen_pcap.py (100,000 connections, 1.17 M packets).
# Exit status: 0 whether or not the targets are reached (it measures);
# 1 when something could not run.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
LT=${LT:-./$BUILD/lotrace}
LOOP=${LOOP:-./$BUILD/bench/pcap_loop}
ROUNDS=${ROUNDS:-5}
work=$(mktemp -d /tmp/lotrace-replay.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM

for b in "$LT" "$LOOP"; do
	[ -x "$b" ] || { echo "replay: '$b' is missing; run make all $BUILD/bench/pcap_loop" >&2; exit 1; }
done
cap=${1:-}
if [ -z "$cap" ]; then
	cap=$work/big.pcap
	python3 tests/bench/gen_pcap.py "$cap" 100000 || exit 1
fi
read -r pkts _ < <("$LOOP" "$cap") || { echo "replay: cannot read '$cap'" >&2; exit 1; }
conns=$("$LT" -r "$cap" --json | grep -c '"type":"connection"')
echo "capture: $cap, $pkts packets, $conns connections, $ROUNDS rounds each (alternating)"

# one NAME CMD...: append "wall cpu" to $work/NAME. bash's time reports
# the child's user and system time to the millisecond (/usr/bin/time only
# to 10 ms, a tenth of the bare loop).
one() {
	local name=$1 t; shift
	t=$( { TIMEFORMAT='%3R %3U %3S'; time "$@" > /dev/null 2> "$work/err"; } 2>&1 ) ||
		{ echo "replay: $name failed: $(head -1 "$work/err")" >&2; exit 1; }
	awk '{ printf "%s %.3f\n", $1, $2 + $3 }' <<< "$t" >> "$work/$name"
}
for ((r = 0; r < ROUNDS; r++)); do
	one loop "$LOOP" "$cap"
	one loopl "$LOOP" -l "$cap"
	one text "$LT" -r "$cap"
	one json "$LT" -r "$cap" --json
done
med() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for n in loop loopl text json; do
	eval "wall_$n=$(cut -d' ' -f1 "$work/$n" | med)"
	eval "cpu_$n=$(cut -d' ' -f2 "$work/$n" | med)"
done
# shellcheck disable=SC2154
awk -v lw="$wall_loop" -v lc="$cpu_loop" -v llw="$wall_loopl" -v llc="$cpu_loopl" \
    -v tw="$wall_text" -v tc="$cpu_text" \
    -v jw="$wall_json" -v jc="$cpu_json" -v conns="$conns" -v pkts="$pkts" '
function verdict(ok) { return ok ? "reached" : "NOT reached" }
BEGIN {
	printf "  %-22s wall %6.3f s  cpu %6.3f s  %6.2f M packets/s\n", "bare pcap_next_ex loop", lw, lc, (lc > 0 ? pkts / lc / 1e6 : 0)
	printf "  %-22s wall %6.3f s  cpu %6.3f s  %6.2f M packets/s\n", "loop, reads as lotrace", llw, llc, (llc > 0 ? pkts / llc / 1e6 : 0)
	printf "  %-22s wall %6.3f s  cpu %6.3f s  %6.2f M packets/s\n", "lotrace -r (text)", tw, tc, (tc > 0 ? pkts / tc / 1e6 : 0)
	printf "  %-22s wall %6.3f s  cpu %6.3f s  %6.2f M packets/s\n", "lotrace -r --json", jw, jc, (jc > 0 ? pkts / jc / 1e6 : 0)
	rt = lc > 0 ? tc / lc : 0; rj = tc > 0 ? jc / tc : 0
	printf "  text / bare loop: %.2fx cpu (%.2fx wall)   target <= 3x: %s\n", rt, (lw > 0 ? tw / lw : 0), verdict(rt <= 3)
	printf "  json / text:      %.2fx cpu (%.2fx wall)   target <= 1.3x: %s\n", rj, (tw > 0 ? jw / tw : 0), verdict(rj <= 1.3)
	ut = conns > 0 ? (tc - llc) * 1e6 / conns : 0; uj = conns > 0 ? (jc - llc) * 1e6 / conns : 0
	printf "  engine+output cpu per connection: text %.2f us, json %.2f us   target <= 2 us: %s\n", ut, uj, verdict(ut <= 2 && uj <= 2)
}'
