#!/bin/bash
# bench/live-cost.sh - what tracing costs the traced: the loopback
# connection rate with no tracer and with each tracer attached, side by
# side in one run, and lotrace's own CPU per connection.
#
# Each round runs every mode once, in an order that rotates from round to
# round; the figures are the medians over the rounds. A round of one mode
# is `lt_peer flood --conns N --parallel 4` (connect, accept, close as fast
# as it goes) on a fresh port with the tracer watching that port:
#   none        no tracer
#   ebpf        lotrace --backend ebpf (text to /dev/null)
#   ebpf-json   lotrace --backend ebpf --json (to /dev/null)
#   ebpf-hooks  lotrace --backend ebpf watching another port (kernel hooks only)
#   pcap        lotrace --backend pcap (text to /dev/null)
#   tcpdump     tcpdump -i lo -w /dev/null 'tcp port P'
#   tcplife     tcplife -L P (Debian libbpf-tools; needs tracefs, mounted
#               at /sys/kernel/tracing for the run if it is not, and
#               unmounted again)
# lotrace's CPU: utime+stime from /proc/PID/stat (10 ms ticks) and the
# on-CPU ns from /proc/PID/schedstat, both taken just before and just
# after the flood, divided by the connections made.
#
# Targets (issue 9): eBPF >= 92 % of the untraced rate and ahead of
# tcpdump in the same run; lotrace eBPF <= 2 us CPU per connection.
# Needs root. Usage: live-cost.sh [ROUNDS] (default 3; env CONNS=60000;
# RESULTS=FILE also appends the raw per-round figures to FILE).
set -u
cd "$(dirname "$0")/../.." || exit 1
LT=./build/lotrace
PEER=./build/tools/lt_peer
ROUNDS=${1:-3}
CONNS=${CONNS:-60000}
TICK=$(getconf CLK_TCK)
work=$(mktemp -d /tmp/lotrace-cost.XXXXXX)
TRACER=
MOUNTED_TRACEFS=
cleanup() {
	[ -n "$TRACER" ] && kill "$TRACER" 2>/dev/null && wait "$TRACER" 2>/dev/null
	[ -n "$MOUNTED_TRACEFS" ] && umount /sys/kernel/tracing 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

if [ "$(id -u)" != 0 ] || [ ! -x "$PEER" ] || [ ! -x "$LT" ]; then
	echo "  skipped: needs root, $LT and $PEER"
	exit 0
fi

modes="none ebpf ebpf-json ebpf-hooks pcap tcpdump"
TCPLIFE=$(command -v tcplife || echo /usr/sbin/tcplife)
if [ -x "$TCPLIFE" ]; then
	if ! grep -qs ' /sys/kernel/tracing tracefs ' /proc/mounts; then
		mount -t tracefs nodev /sys/kernel/tracing && MOUNTED_TRACEFS=1
	fi
	modes="$modes tcplife"
else
	echo "  note: tcplife not installed (Debian package libbpf-tools); left out"
fi
"$LT" --backend ebpf --port 1 --duration 1ms --no-tui >/dev/null 2>&1 ||
	{ modes=${modes//ebpf-json/}; modes=${modes//ebpf-hooks/}; modes=${modes//ebpf/}; echo "  note: no eBPF backend; left out"; }

# cpu_ns PID: on-CPU ns (schedstat) and utime+stime ticks (stat)
cpu_of() {
	local ns ticks
	ns=$(awk '{print $1}' "/proc/$1/schedstat" 2>/dev/null)
	ticks=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null)
	echo "${ns:-0} ${ticks:-0}"
}

# wait_ready FILE PATTERN PID: until FILE has PATTERN (or 3 s), PID alive
wait_ready() {
	for _ in $(seq 60); do
		grep -q "$2" "$1" 2>/dev/null && break
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.05
	done
	sleep 0.3
	kill -0 "$3" 2>/dev/null
}

port=62100
# run MODE: appends "MODE rate cpu_ns cpu_ticks" to $work/results
run() {
	local mode=$1 p=$((port++)) other=$((port + 500)) pid= lt=0 c0 c1
	case $mode in
	none) ;;
	ebpf) "$LT" --backend ebpf --port $p --no-tui -v >/dev/null 2>"$work/err" & pid=$! lt=1 ;;
	ebpf-json) "$LT" --backend ebpf --json --port $p --no-tui -v >/dev/null 2>"$work/err" & pid=$! lt=1 ;;
	ebpf-hooks) "$LT" --backend ebpf --port $other --no-tui -v >/dev/null 2>"$work/err" & pid=$! lt=1 ;;
	pcap) "$LT" --backend pcap --port $p --no-tui -v >/dev/null 2>"$work/err" & pid=$! lt=1 ;;
	tcpdump) tcpdump -i lo -w /dev/null "tcp port $p" 2>"$work/err" & pid=$! ;;
	tcplife) "$TCPLIFE" -L $p >/dev/null 2>"$work/err" & pid=$! ;;
	esac
	TRACER=$pid
	if [ -n "$pid" ]; then
		case $mode in
		tcpdump) wait_ready "$work/err" "listening on" "$pid" ;;
		tcplife) sleep 1.5; kill -0 "$pid" 2>/dev/null ;;
		*) wait_ready "$work/err" "capturing" "$pid" ;;
		esac || { echo "  $mode did not start: $(head -1 "$work/err")"; TRACER=; return; }
	fi
	c0=$( [ $lt = 1 ] && cpu_of "$pid" || echo "0 0")
	r=$("$PEER" flood --addr 127.0.0.1 --port $p --conns "$CONNS" --parallel 4 |
		sed -n 's/.*rate=\([0-9.]*\).*/\1/p')
	c1=$( [ $lt = 1 ] && cpu_of "$pid" || echo "0 0")
	if [ -n "$pid" ]; then
		kill -INT "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	fi
	TRACER=
	read -r n0 t0 <<<"$c0"
	read -r n1 t1 <<<"$c1"
	echo "$mode ${r:-0} $((n1 - n0)) $((t1 - t0))" >>"$work/results"
	[ -n "${RESULTS:-}" ] && echo "$mode ${r:-0} $((n1 - n0)) $((t1 - t0))" >>"$RESULTS"
}

echo "  $ROUNDS rounds of $CONNS connections per mode, modes in rotating order"
set -- $modes
nm=$#
for ((round = 0; round < ROUNDS; round++)); do
	for ((i = 0; i < nm; i++)); do
		idx=$(( (i + round) % nm + 1 ))
		run "${!idx}"
	done
done

awk -v conns="$CONNS" -v tick="$TICK" -v order="$modes" '
function median(arr, n,    i, j, t) {
	for (i = 2; i <= n; i++) { t = arr[i]; for (j = i - 1; j >= 1 && arr[j] > t; j--) arr[j + 1] = arr[j]; arr[j + 1] = t }
	return n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
}
{ n[$1]++; rate[$1, n[$1]] = $2; ns[$1, n[$1]] = $3; tk[$1, n[$1]] = $4 }
END {
	m = split(order, mo, " ")
	for (k = 1; k <= m; k++) {
		mode = mo[k]; if (!(mode in n)) continue
		delete a; delete b; delete c
		for (i = 1; i <= n[mode]; i++) { a[i] = rate[mode, i]; b[i] = ns[mode, i]; c[i] = tk[mode, i] }
		R[mode] = median(a, n[mode]); NS[mode] = median(b, n[mode]); TK[mode] = median(c, n[mode])
	}
	base = R["none"]
	printf "  %-11s %10s %8s %22s\n", "tracer", "conn/s", "share", "lotrace CPU/conn"
	for (k = 1; k <= m; k++) {
		mode = mo[k]; if (!(mode in R)) continue
		cpu = ""
		if (mode ~ /^(ebpf|pcap)/)
			cpu = sprintf("%.2f us (stat %.1f us)", NS[mode] / conns / 1000, TK[mode] * 1e6 / tick / conns)
		printf "  %-11s %10.0f %7.1f%% %22s\n", mode, R[mode], (base > 0 ? 100 * R[mode] / base : 0), cpu
	}
	if ("ebpf" in R && base > 0) {
		share = 100 * R["ebpf"] / base
		us = NS["ebpf"] / conns / 1000
		printf "  target eBPF >= 92%% of untraced: %s (%.1f%%)\n", (share >= 92 ? "reached" : "MISSED"), share
		if ("tcpdump" in R)
			printf "  target eBPF ahead of tcpdump: %s (%.0f vs %.0f conn/s)\n", (R["ebpf"] > R["tcpdump"] ? "reached" : "MISSED"), R["ebpf"], R["tcpdump"]
		printf "  target lotrace eBPF <= 2 us CPU per connection: %s (%.2f us)\n", (us <= 2 ? "reached" : "MISSED"), us
	}
}' "$work/results"
