#!/bin/bash
# bench/live-cost.sh - what tracing costs the traced: the loopback
# connection rate with no tracer and with each tracer attached, side by
# side in one run, lotrace's own CPU per connection, and what each of
# lotrace's BPF programs costs the kernel per connection.
#
# A run of one mode is `lt_peer flood --conns N --parallel 4` (connect,
# accept, close as fast as it goes) on a fresh port with the tracer
# watching that port:
#   none        no tracer
#   ebpf        lotrace --backend ebpf (text to /dev/null)
#   ebpf-json   lotrace --backend ebpf --json (to /dev/null)
#   ebpf-hooks  lotrace --backend ebpf watching another port (kernel hooks only)
#   ebpf-b      another build, $LOTRACE_B, as ebpf (only in MODES: an A/B of two
#               builds' rates in the same rounds)
#   pcap        lotrace --backend pcap (text to /dev/null)
#   tcpdump     tcpdump -i lo -w /dev/null 'tcp port P'
#   tcplife     tcplife -L P (Debian libbpf-tools; needs tracefs, mounted
#               at /sys/kernel/tracing for the run if it is not, and
#               unmounted again)
#
# The machine's speed drifts (other work, frequency, caches), so rates of
# runs far apart do not compare. A round runs every traced mode once, in an
# order that rotates from round to round, each just after an untraced run;
# a traced run's share is its rate over the median of its round's
# untraced runs (one untraced run that met a burst of other work does not
# make a share). Printed: the median over the rounds and the spread
# (min-max), so a reader sees whether a target is missed by more than the
# noise.
#
# CPU share: the rate is paid in machine CPU, and on a 2-core VM whose
# speed drifts the CPU a flood takes per connection is steadier than its
# rate. Each flood reads the machine's busy ticks (/proc/stat: user, nice,
# system, irq, softirq) before and after; a traced run's CPU share is the
# median untraced busy CPU per connection of its round over its own: the
# share of the rate a CPU-bound flood would keep. Printed beside the rate
# share, as the steadier second opinion (it counts other work on the
# machine too: run the bench on a quiet machine).
#
# lotrace's CPU: utime+stime from /proc/PID/stat (10 ms ticks) and the
# on-CPU ns from /proc/PID/schedstat, both taken just before and just
# after the flood, divided by the connections made.
#
# Kernel side: after the rounds, lotrace eBPF watching the flood's port,
# and watching another port, each KRUNS times with the kernel's BPF
# run-time statistics on for the flood only (bpf_cost.py holds them on
# through BPF_ENABLE_STATS and they go off when it exits; the sysctl
# kernel.bpf_stats_enabled is not touched): per program, runs per
# connection, ns per run and ns per connection (medians). The statistics
# add two clock reads to every run, so these figures are a little above
# the true cost; they are for comparing builds, not for adding to rates.
#
# Targets (issue 9): eBPF >= 92 % of the untraced rate and ahead of
# tcpdump in the same run; lotrace eBPF <= 2 us CPU per connection. The
# targets' modes (ebpf, tcpdump) run TARGET_ROUNDS (default 15) rounds,
# the rounds after ROUNDS only them.
# Needs root. Usage: live-cost.sh [ROUNDS] (default 7; env LOTRACE=binary
# (default build/lotrace), CONNS=40000 (a flood of ~1 s: long beside lotrace's
# 250 ms poll, whose last batch is read after the flood),
# KRUNS=3; RESULTS=FILE also appends the raw per-run figures to FILE;
# MODES="ebpf tcpdump" runs only those traced modes).
set -u
cd "$(dirname "$0")/../.." || exit 1
LT=${LOTRACE:-./build/lotrace}
PEER=./build/tools/lt_peer
COST=tests/bench/bpf_cost.py
ROUNDS=${1:-7}
# The two modes the targets compare get more rounds than the rest: one
# 7-round median of a share that spreads over +-12 points flipped the
# verdict from run to run (2026-12-04: ahead of tcpdump in 1 of 7 rounds,
# then in 20 of 30). Rounds after ROUNDS run only ebpf and tcpdump.
TARGET_ROUNDS=${TARGET_ROUNDS:-15}
CONNS=${CONNS:-40000}
KRUNS=${KRUNS:-3}
TICK=$(getconf CLK_TCK)
work=$(mktemp -d /tmp/lotrace-cost.XXXXXX)
TRACER=
STATS=
MOUNTED_TRACEFS=
cleanup() {
	[ -n "$TRACER" ] && kill "$TRACER" 2>/dev/null && wait "$TRACER" 2>/dev/null
	[ -n "$STATS" ] && kill "$STATS" 2>/dev/null && wait "$STATS" 2>/dev/null
	[ -n "$MOUNTED_TRACEFS" ] && umount /sys/kernel/tracing 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

if [ "$(id -u)" != 0 ] || [ ! -x "$PEER" ] || [ ! -x "$LT" ]; then
	echo "  skipped: needs root, $LT and $PEER"
	exit 0
fi

modes=${MODES:-"ebpf ebpf-json ebpf-hooks pcap tcpdump tcplife"}
if [[ " $modes " == *" ebpf-b "* ]] && [ ! -x "${LOTRACE_B:-}" ]; then
	echo "live-cost.sh: mode ebpf-b needs LOTRACE_B, another lotrace binary (LOTRACE_B=/tmp/old/lotrace)" >&2
	exit 2
fi
TCPLIFE=$(command -v tcplife || echo /usr/sbin/tcplife)
if [[ " $modes " == *" tcplife "* ]]; then
	if [ -x "$TCPLIFE" ]; then
		if ! grep -qs ' /sys/kernel/tracing tracefs ' /proc/mounts; then
			mount -t tracefs nodev /sys/kernel/tracing && MOUNTED_TRACEFS=1
		fi
	else
		modes=${modes//tcplife/}
		echo "  note: tcplife not installed (Debian package libbpf-tools); left out"
	fi
fi
HAVE_EBPF=1
if ! "$LT" --backend ebpf --port 1 --duration 1ms --no-tui >/dev/null 2>&1; then
	HAVE_EBPF=
	modes=${modes//ebpf-json/}
	modes=${modes//ebpf-hooks/}
	modes=${modes//ebpf-b/}
	modes=${modes//ebpf/}
	echo "  note: no eBPF backend; left out"
fi

# cpu_of PID: on-CPU ns (schedstat) and utime+stime ticks (stat)
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
	sleep 0.1
	kill -0 "$3" 2>/dev/null
}

# busy_ticks: the machine's busy CPU so far, in ticks (/proc/stat: user,
# nice, system, irq, softirq; not idle, iowait or steal)
busy_ticks() {
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat
}

# flood PORT: "rate busy_ticks" of one flood: its connection rate and the
# machine's busy CPU over it and the half second after, traced or not
# (the traced process, the tracer, the kernel's softirq work: what the rate
# is paid with; lotrace reads the flood's last records within its 250 ms
# poll, after the flood)
flood() {
	local b0 b1 r
	b0=$(busy_ticks)
	r=$("$PEER" flood --addr 127.0.0.1 --port "$1" --conns "$CONNS" --parallel 4 |
		sed -n 's/.*rate=\([0-9.]*\).*/\1/p')
	sleep 0.5
	b1=$(busy_ticks)
	echo "${r:-0} $((b1 - b0))"
}

# start MODE PORT: the tracer of MODE watching PORT; sets TRACER (and $lt
# = 1 for lotrace); returns 1 when it did not start
start() {
	local mode=$1 p=$2 other=$(($2 + 500))
	TRACER= lt=0
	case $mode in
	ebpf) "$LT" --backend ebpf --port "$p" --no-tui -v >/dev/null 2>"$work/err" & TRACER=$! lt=1 ;;
	ebpf-json) "$LT" --backend ebpf --json --port "$p" --no-tui -v >/dev/null 2>"$work/err" & TRACER=$! lt=1 ;;
	ebpf-hooks) "$LT" --backend ebpf --port "$other" --no-tui -v >/dev/null 2>"$work/err" & TRACER=$! lt=1 ;;
	ebpf-b) "$LOTRACE_B" --backend ebpf --port "$p" --no-tui -v >/dev/null 2>"$work/err" & TRACER=$! lt=1 ;;
	pcap) "$LT" --backend pcap --port "$p" --no-tui -v >/dev/null 2>"$work/err" & TRACER=$! lt=1 ;;
	tcpdump) tcpdump -i lo -w /dev/null "tcp port $p" 2>"$work/err" & TRACER=$! ;;
	tcplife) "$TCPLIFE" -L "$p" >"$work/out" 2>"$work/err" & TRACER=$! ;;
	esac
	case $mode in
	tcpdump) wait_ready "$work/err" "listening on" "$TRACER" ;;
	tcplife) wait_ready "$work/out" "PID" "$TRACER" ;; # its header: attached
	*) wait_ready "$work/err" "capturing" "$TRACER" ;;
	esac || { echo "  $mode did not start: $(head -1 "$work/err")"; stop; return 1; }
}

# stop: the tracer ends, and the kernel gets a moment to tear down what it
# held (maps, links) before the next untraced run
stop() {
	[ -n "$TRACER" ] && { kill -INT "$TRACER" 2>/dev/null; wait "$TRACER" 2>/dev/null; }
	TRACER=
	sleep 0.3
}

port=62100
# run ROUND MODE: an untraced flood, then one with MODE's tracer; appends
# "MODE round rate base_rate cpu_ns cpu_ticks busy_ticks base_busy_ticks"
# to $work/results
run() {
	local round=$1 mode=$2 p c0 c1 r rb base bb n0 t0 n1 t1 line
	p=$((port++))
	read -r base bb <<<"$(flood "$p")"
	p=$((port++))
	start "$mode" "$p" || return
	c0=$([ "$lt" = 1 ] && cpu_of "$TRACER" || echo "0 0")
	read -r r rb <<<"$(flood "$p")"
	# (flood waited 0.5 s: lotrace has read the flood's last records)
	c1=$([ "$lt" = 1 ] && cpu_of "$TRACER" || echo "0 0")
	stop
	read -r n0 t0 <<<"$c0"
	read -r n1 t1 <<<"$c1"
	line="$mode $round ${r:-0} ${base:-0} $((n1 - n0)) $((t1 - t0)) ${rb:-0} ${bb:-0}"
	echo "$line" >>"$work/results"
	[ -n "${RESULTS:-}" ] && echo "$line" >>"$RESULTS"
}

# kernel_cost KIND: lotrace eBPF watching the flood's port (watched) or
# another one (unwatched), BPF statistics on for the flood; appends
# "KIND prog runs ns" per program to $work/kcost
kernel_cost() {
	local kind=$1 p mode=ebpf
	p=$((port++))
	[ "$kind" = unwatched ] && mode=ebpf-hooks
	start "$mode" "$p" || return
	coproc STATSP { python3 "$COST" hold 2>&1; }
	STATS=$STATSP_PID
	local on=
	read -r -t 5 on <&"${STATSP[0]}"
	if [ "$on" != on ]; then
		echo "  kernel cost: cannot turn BPF statistics on: $on"
		stop
		kill "$STATS" 2>/dev/null; wait "$STATS" 2>/dev/null; STATS=
		return 1
	fi
	python3 "$COST" snap "$TRACER" >"$work/snap0"
	flood "$p" >/dev/null
	python3 "$COST" snap "$TRACER" >"$work/snap1"
	kill "$STATS" 2>/dev/null; wait "$STATS" 2>/dev/null; STATS=
	stop
	python3 "$COST" diff "$work/snap0" "$work/snap1" | sed "s/^/$kind /" >>"$work/kcost"
}

targets=
for m in ebpf tcpdump; do [[ " $modes " == *" $m "* ]] && targets+=" $m"; done
[ -n "$targets" ] && [ "$TARGET_ROUNDS" -gt "$ROUNDS" ] || TARGET_ROUNDS=$ROUNDS
echo "  $ROUNDS rounds of $CONNS connections per mode in rotating order, each after an untraced"
echo "  run; share = rate / the median untraced rate of its round"
[ "$TARGET_ROUNDS" -gt "$ROUNDS" ] &&
	echo "  (the targets' modes,$targets, $TARGET_ROUNDS rounds: $((TARGET_ROUNDS - ROUNDS)) more with only them)"
for ((round = 0; round < TARGET_ROUNDS; round++)); do
	# shellcheck disable=SC2086
	if [ "$round" -lt "$ROUNDS" ]; then set -- $modes; else set -- $targets; fi
	nm=$#
	for ((i = 0; i < nm; i++)); do
		idx=$(((i + round) % nm + 1))
		run "$round" "${!idx}"
	done
done

awk -v conns="$CONNS" -v tick="$TICK" -v order="$modes" '
function sort(arr, n,    i, j, t) {
	for (i = 2; i <= n; i++) { t = arr[i]; for (j = i - 1; j >= 1 && arr[j] > t; j--) arr[j + 1] = arr[j]; arr[j + 1] = t }
}
function median(arr, n) { sort(arr, n); return n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2 }
{ line[NR] = $0; nb++; base[nb] = $4; rb[$2, ++nrb[$2]] = $4; bt[$2, nrb[$2]] = $8 }
END {
	for (r in nrb) {
		delete a; for (i = 1; i <= nrb[r]; i++) a[i] = rb[r, i]; RB[r] = median(a, nrb[r])
		delete a; for (i = 1; i <= nrb[r]; i++) a[i] = bt[r, i]; BT[r] = median(a, nrb[r])
	}
	for (l = 1; l <= NR; l++) {
		split(line[l], f, " ")
		m = f[1]; k = ++n[m]; rate[m, k] = f[3]; share[m, k] = (RB[f[2]] > 0 ? 100 * f[3] / RB[f[2]] : 0)
		ns[m, k] = f[5]; tk[m, k] = f[6]
		cshare[m, k] = (f[7] > 0 ? 100 * BT[f[2]] / f[7] : 0)
		byround[f[2], m] = share[m, k]
	}
	printf "  %-11s %24s %26s %22s %22s\n", "tracer", "conn/s median (min-max)", "share median (min-max)", "lotrace CPU/conn", "CPU share (min-max)"
	B = median(base, nb)
	delete a; nbt = 0; for (r in BT) a[++nbt] = BT[r]
	printf "  %-11s %7.0f (%6.0f-%6.0f) %26s %22s\n", "none", B, base[1], base[nb], "100%", sprintf("%.1f us/conn", median(a, nbt) * 1e6 / tick / conns)
	cnt = split(order, mo, " ")
	for (q = 1; q <= cnt; q++) {
		m = mo[q]; if (!(m in n)) continue
		delete a; delete s; delete b; delete c; delete d
		for (i = 1; i <= n[m]; i++) { a[i] = rate[m, i]; s[i] = share[m, i]; b[i] = ns[m, i]; c[i] = tk[m, i]; d[i] = cshare[m, i] }
		R[m] = median(a, n[m]); S[m] = median(s, n[m]); Smin[m] = s[1]; Smax[m] = s[n[m]]
		C[m] = median(d, n[m]); Cmin[m] = d[1]; Cmax[m] = d[n[m]]
		NS[m] = median(b, n[m]); TK[m] = median(c, n[m])
		cpu = ""
		if (m ~ /^(ebpf|pcap)/)
			cpu = sprintf("%.2f us (stat %.1f us)", NS[m] / conns / 1000, TK[m] * 1e6 / tick / conns)
		printf "  %-11s %7.0f (%6.0f-%6.0f) %9.1f%% (%5.1f-%5.1f%%) %22s %9.1f%% (%4.0f-%3.0f%%)\n", m, R[m], a[1], a[n[m]], S[m], Smin[m], Smax[m], cpu, C[m], Cmin[m], Cmax[m]
	}
	if ("ebpf" in S) {
		verdict = S["ebpf"] >= 92 ? "reached" : "MISSED"
		noise = (Smin["ebpf"] < 92 && Smax["ebpf"] >= 92) ? ", within the spread" : ""
		printf "  target eBPF >= 92%% of untraced: %s (median %.1f%%, %.1f-%.1f%%%s)\n", verdict, S["ebpf"], Smin["ebpf"], Smax["ebpf"], noise
		printf "    by machine CPU per connection (untraced / traced busy CPU): %.1f%% (%.1f-%.1f%%), %s\n", C["ebpf"], Cmin["ebpf"], Cmax["ebpf"], (C["ebpf"] >= 92 ? "at or above 92%" : "below 92%")
		if ("tcpdump" in S) {
			ahead = 0; both = 0
			for (r in byround) { split(r, rk, SUBSEP); if (rk[2] != "ebpf" || !((rk[1], "tcpdump") in byround)) continue
				both++; if (byround[rk[1], "ebpf"] > byround[rk[1], "tcpdump"]) ahead++ }
			printf "  target eBPF ahead of tcpdump: %s (median share %.1f%% vs %.1f%%; ahead in %d of %d rounds)\n", (S["ebpf"] > S["tcpdump"] ? "reached" : "MISSED"), S["ebpf"], S["tcpdump"], ahead, both
		}
		us = NS["ebpf"] / conns / 1000
		printf "  target lotrace eBPF <= 2 us CPU per connection: %s (%.2f us)\n", (us <= 2 ? "reached" : "MISSED"), us
	}
}' "$work/results"

[ -n "$HAVE_EBPF" ] || exit 0
[ "$KRUNS" -gt 0 ] || exit 0
for ((i = 0; i < KRUNS; i++)); do
	kernel_cost watched
	kernel_cost unwatched
done
[ -s "$work/kcost" ] || exit 0
echo "  kernel side per connection (BPF statistics, medians of $KRUNS floods of $CONNS connections):"
awk -v conns="$CONNS" '
function median(arr, n,    i, j, t) {
	for (i = 2; i <= n; i++) { t = arr[i]; for (j = i - 1; j >= 1 && arr[j] > t; j--) arr[j + 1] = arr[j]; arr[j + 1] = t }
	return n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
}
{ key = $1 SUBSEP $2; k = ++n[key]; runs[key, k] = $3; ns[key, k] = $4; kinds[$1] = 1; progs[$2] = 1 }
END {
	split("watched unwatched", kl, " ")
	for (q = 1; q <= 2; q++) {
		kind = kl[q]; if (!(kind in kinds)) continue
		printf "    %s port:\n", kind
		tot = 0
		for (p in progs) {
			key = kind SUBSEP p; if (!(key in n)) continue
			delete a; delete b; delete c
			for (i = 1; i <= n[key]; i++) { a[i] = runs[key, i] / conns; b[i] = ns[key, i] / runs[key, i]; c[i] = ns[key, i] / conns }
			rc = median(a, n[key]); nr = median(b, n[key]); nc = median(c, n[key])
			if (rc < 0.005) continue
			line[p] = sprintf("      %-20s %6.2f runs/conn %6.0f ns/run %7.0f ns/conn", p, rc, nr, nc)
			tot += nc
		}
		m = 0; for (p in line) names[++m] = p
		for (i = 2; i <= m; i++) { t = names[i]; for (j = i - 1; j >= 1 && names[j] > t; j--) names[j + 1] = names[j]; names[j + 1] = t }
		for (i = 1; i <= m; i++) print line[names[i]]
		printf "      %-20s %40s %7.0f ns/conn\n", "all programs", "", tot
		delete line; delete names
	}
}' "$work/kcost"
