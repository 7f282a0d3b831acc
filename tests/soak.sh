#!/bin/bash
# soak.sh [SECONDS] - lotrace as a long-running service: live capture with
# --metrics, --metrics-file and --json FILE for SECONDS (default 600) of
# mixed traffic (refused, clean and reset connections from lt_peer), the
# JSON file rotated with SIGHUP every minute, /metrics scraped and the
# RSS of lotrace sampled every 10 s. Prints the samples and a verdict:
# "flat" when every sample after the first minute is within 10 % of the
# sample at one minute. Not part of `make test` (it takes 10 minutes);
# run it as root, under the live lock:
#   flock /tmp/lotrace-live.lock tests/soak.sh
# Exit status: 0 flat, 1 not flat or lotrace died.
set -u
cd "$(dirname "$0")/.." || exit 2
SECS=${1:-600}
LOTRACE=${LOTRACE:-$PWD/build/lotrace}
PEER=${PEER:-$PWD/build/tools/lt_peer}
P_REFUSED=61941 P_CLEAN=61942 P_RESET=61943
tmp=$(mktemp -d /tmp/lotrace-soak.XXXXXX)
# the run becomes nobody once its files are open (-Z): the metrics file and
# the SIGHUP reopen need a directory nobody can write to
[ "$(id -u)" = 0 ] && chown nobody: "$tmp"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
MPORT=$(free_port)

"$PEER" serve --addr 127.0.0.1 --port $P_CLEAN --mode reply --max-conns 1000000000 >/dev/null & pids+=($!)
"$PEER" serve --addr 127.0.0.1 --port $P_RESET --mode reset-after-request --max-conns 1000000000 >/dev/null & pids+=($!)
"$LOTRACE" --no-tui -p $P_REFUSED,$P_CLEAN,$P_RESET --json "$tmp/conns.json" \
	--metrics 127.0.0.1:$MPORT --metrics-file "$tmp/lotrace.prom" 2>"$tmp/err" & LT=$!
pids+=($LT)
sleep 2
kill -0 $LT 2>/dev/null || { echo "soak: lotrace did not start: $(cat "$tmp/err")"; exit 1; }

# traffic: about 30 connections a second, a third of each kind
(
	while :; do
		"$PEER" connect --addr 127.0.0.1 --port $P_REFUSED --count 10 >/dev/null
		"$PEER" connect --addr 127.0.0.1 --port $P_CLEAN --send 100 --expect-reply --count 10 >/dev/null
		"$PEER" connect --addr 127.0.0.1 --port $P_RESET --send 100 --expect-reply --count 10 >/dev/null
		sleep 1
	done
) & pids+=($!)

echo "soak: lotrace pid $LT, $SECS s, RSS every 10 s (KiB)"
start=$(date +%s) base=0 worst=0 n=0
while :; do
	sleep 10
	t=$(( $(date +%s) - start ))
	rss=$(awk '/^VmRSS/ {print $2}' /proc/$LT/status 2>/dev/null)
	[ -n "$rss" ] || { echo "soak: lotrace died: $(cat "$tmp/err")"; exit 1; }
	conns=$(curl -s "http://127.0.0.1:$MPORT/metrics" |
		awk '/^lotrace_connections_total/ {s += $2} END {print s + 0}')
	echo "t=${t}s rss=${rss} connections=${conns}"
	n=$((n + 1))
	# rotate the JSON file every minute, as logrotate would
	if [ $((n % 6)) -eq 0 ]; then
		mv "$tmp/conns.json" "$tmp/conns.json.1" && kill -HUP $LT && sleep 1 && rm -f "$tmp/conns.json.1"
	fi
	if [ $t -ge 60 ] && [ $base -eq 0 ]; then
		base=$rss
	elif [ $base -gt 0 ]; then
		d=$(( rss > base ? rss - base : base - rss ))
		[ $d -gt $worst ] && worst=$d
	fi
	[ $t -ge "$SECS" ] && break
done
pct=$(awk -v w=$worst -v b=$base 'BEGIN {printf "%.1f", b ? 100 * w / b : 0}')
echo "soak: RSS at 1 min ${base} KiB, largest difference after it ${worst} KiB (${pct} %)"
if awk -v p="$pct" 'BEGIN {exit !(p <= 10)}'; then
	echo "soak: flat (within 10 %)"
	exit 0
fi
echo "soak: NOT flat"
exit 1
