#!/bin/bash
# bench/bpf_ab.sh - what the kernel side costs per connection, two or more
# lotrace builds side by side: the A/B behind each change to bpf/.
#
# Rates on a shared machine do not compare builds; the kernel's own
# per-program run times do, when the builds run in the same minutes. Each
# round runs every build once, in the order given and reversed every
# other round (A B, B A, ...): lotrace --backend ebpf
# watching the flood's port (or, KIND=unwatched, another port), the BPF
# run-time statistics on for the flood only (bpf_cost.py hold: they go
# off when it exits; kernel.bpf_stats_enabled is not touched), one
# `lt_peer flood --conns CONNS --parallel 4`. Printed per build and
# program: runs per connection, ns per run and ns per connection (medians
# over the rounds, then each round's ns/run), and every round's total, so
# a reader sees whether one build is lower in every round or only in the
# median. The statistics add two clock reads to every run: the figures are
# a little high, for comparing builds.
#
# Needs root and the live lock (it attaches to lo):
#   flock /tmp/lotrace-live.lock tests/bench/bpf_ab.sh 6 /tmp/old/lotrace build/lotrace
# Env: CONNS (20000), KIND (watched|unwatched), PORT0 (63100: the first
# port; each run takes the next), FLOOD_ARGS (more lt_peer flood options,
# e.g. "--greet 40": every connection carries data), LOTRACE_ARGS (more
# lotrace options for every build, e.g. "--netns host").
set -u
cd "$(dirname "$0")/../.." || exit 1
PEER=./build/tools/lt_peer
COST=tests/bench/bpf_cost.py
if [ $# -lt 2 ] || ! [[ $1 =~ ^[0-9]+$ ]]; then
	echo "usage: $0 ROUNDS LOTRACE_BINARY..." >&2
	exit 2
fi
ROUNDS=$1
shift
CONNS=${CONNS:-20000}
KIND=${KIND:-watched}
if [ "$(id -u)" != 0 ] || [ ! -x "$PEER" ]; then
	echo "  skipped: needs root and $PEER"
	exit 0
fi
work=$(mktemp -d /tmp/lotrace-bpfab.XXXXXX)
TRACER=
STATS=
cleanup() {
	[ -n "$TRACER" ] && kill -INT "$TRACER" 2>/dev/null && wait "$TRACER" 2>/dev/null
	[ -n "$STATS" ] && kill "$STATS" 2>/dev/null && wait "$STATS" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

port=${PORT0:-63100}
builds=("$@")
for ((r = 0; r < ROUNDS; r++)); do
	# the order turns every round (A B, B A, ...): the run after another
	# build's flood, or first in a round, is not always the same build's
	order=$(seq 1 $#)
	[ $((r % 2)) = 1 ] && order=$(seq $# -1 1)
	for n in $order; do
		b=${builds[n - 1]}
		p=$((port++))
		wp=$p
		[ "$KIND" = unwatched ] && wp=$((p + 500))
		"$b" --backend ebpf --port "$wp" --no-tui -v ${LOTRACE_ARGS:-} >/dev/null 2>"$work/err" &
		TRACER=$!
		for _ in $(seq 100); do grep -q capturing "$work/err" && break; sleep 0.05; done
		if ! kill -0 "$TRACER" 2>/dev/null; then
			echo "  $b did not start: $(grep -v '^libbpf' "$work/err" | head -1)"
			TRACER=
			exit 1
		fi
		sleep 0.1
		coproc STATSP { python3 "$COST" hold 2>&1; }
		STATS=$STATSP_PID
		on=
		read -r -t 5 on <&"${STATSP[0]}"
		if [ "$on" != on ]; then
			echo "  cannot turn BPF statistics on: $on"
			exit 1
		fi
		python3 "$COST" snap "$TRACER" >"$work/s0"
		"$PEER" flood --addr 127.0.0.1 --port "$p" --conns "$CONNS" --parallel 4 ${FLOOD_ARGS:-} >/dev/null
		python3 "$COST" snap "$TRACER" >"$work/s1"
		kill "$STATS"
		wait "$STATS" 2>/dev/null
		STATS=
		kill -INT "$TRACER"
		wait "$TRACER" 2>/dev/null
		TRACER=
		# "round build prog runs ns"; builds by position (two may share a name)
		python3 "$COST" diff "$work/s0" "$work/s1" | sed "s|^|$r $n:$(basename "$b") |" >>"$work/k"
		sleep 0.3
	done
done

echo "  $KIND port, $ROUNDS rounds of $CONNS connections per build (BPF statistics):"
awk -v conns="$CONNS" '
function median(arr, n,    i, j, t) {
	for (i = 2; i <= n; i++) { t = arr[i]; for (j = i - 1; j >= 1 && arr[j] > t; j--) arr[j + 1] = arr[j]; arr[j + 1] = t }
	return n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
}
{ key = $2 SUBSEP $3; k = ++n[key]; runs[key, k] = $4; ns[key, k] = $5; bins[$2] = 1; progs[$3] = 1
  tot[$1, $2] += $5; rounds[$1] = 1 }
END {
	nb = 0; for (b in bins) names[++nb] = b
	for (i = 2; i <= nb; i++) { t = names[i]; for (j = i - 1; j >= 1 && names[j] > t; j--) names[j + 1] = names[j]; names[j + 1] = t }
	np = 0; for (p in progs) pn[++np] = p
	for (i = 2; i <= np; i++) { t = pn[i]; for (j = i - 1; j >= 1 && pn[j] > t; j--) pn[j + 1] = pn[j]; pn[j + 1] = t }
	for (q = 1; q <= nb; q++) {
		b = names[q]; all = 0
		printf "  %s\n", b
		for (x = 1; x <= np; x++) {
			p = pn[x]; key = b SUBSEP p; if (!(key in n)) continue
			delete a; delete c; delete d; s = ""
			for (i = 1; i <= n[key]; i++) { a[i] = runs[key, i] / conns; c[i] = ns[key, i] / runs[key, i]; d[i] = ns[key, i] / conns; s = s sprintf(" %.0f", c[i]) }
			rc = median(a, n[key]); nr = median(c, n[key]); nc = median(d, n[key])
			if (rc < 0.005) continue
			printf "    %-20s %6.2f runs/conn %6.0f ns/run %6.0f ns/conn  (ns/run by round:%s)\n", p, rc, nr, nc, s
			all += nc
		}
		printf "    %-20s %46.0f ns/conn\n", "all programs", all
	}
	printf "  all programs, ns per connection, by round:\n"
	for (r = 0; r in rounds; r++) {
		line = sprintf("    round %d:", r)
		for (q = 1; q <= nb; q++) line = line sprintf("  %s %.0f", names[q], tot[r, names[q]] / conns)
		print line
	}
}' "$work/k"
