#!/bin/bash
# live/flood.sh - many thousands of connections per second, nothing silently lost.
#
# lt_peer flood makes N connect/accept/close cycles on one port as fast as
# it can; lotrace watches live. Every connection must come out (all N,
# each closed), or the lost-events counter must be non-zero. Then the same
# with a tiny eBPF ring buffer (4 KiB), which must overflow and say so.
. "$(dirname "$0")/../lib.sh"
PEER=$REPO/build/tools/lt_peer
[ -x "$PEER" ] || make -s -C "$REPO" build/tools/lt_peer >/dev/null
tmp=$(mktemp -d)
LT_PID=
trap '[ -n "$LT_PID" ] && kill "$LT_PID" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
N=20000

# flood_run NAME PORT LOTRACE-ARGS...: prints "conns lost closed"
flood_run() {
	local name=$1 port=$2; shift 2
	"$LOTRACE" --port "$port" --json --no-tui -v "$@" >"$tmp/$name.json" 2>"$tmp/$name.err" &
	LT_PID=$!
	for _ in $(seq 200); do grep -q capturing "$tmp/$name.err" && break; sleep 0.05; done
	"$PEER" flood --addr 127.0.0.1 --port "$port" --conns $N --parallel 4 >"$tmp/$name.rate"
	sleep 2
	kill -INT "$LT_PID"; wait "$LT_PID"; LT_PID=
	python3 - "$tmp/$name.json" <<'PY'
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
conns = [o for o in objs if o["type"] == "connection"]
s = [o for o in objs if o["type"] == "summary"]
lost = s[0]["lost_events"] if s else -1
print(len(conns), lost, sum(1 for c in conns if c["verdict"] == "closed"))
PY
}

backends="pcap"
"$LOTRACE" --backend ebpf --port 1 --duration 1ms --no-tui >/dev/null 2>&1 && backends="pcap ebpf"

p=62020
for b in $backends; do
	read -r conns lost closed < <(flood_run "$b" $p --backend "$b")
	rate=$(sed -n 's/.*rate=\([0-9.]*\).*/\1/p' "$tmp/$b.rate")
	if { [ "$conns" = $N ] && [ "$closed" = $N ]; } || [ "$lost" -gt 0 ]; then
		ok "$b flood: $N connections at ${rate}/s -> $conns reported ($closed closed), lost $lost"
	else
		fail "$b flood" "$N connections at ${rate}/s -> $conns reported, $closed closed, lost $lost: silently missing"
	fi
	p=$((p + 1))
done

if [[ $backends == *ebpf* ]]; then
	read -r conns lost closed < <(flood_run tiny $p --backend ebpf --ring-size 4096)
	if [ "$lost" -gt 0 ]; then
		ok "ebpf with a 4 KiB ring: overflow counted (lost $lost, $conns connections reported)"
	elif [ "$conns" = $N ] && [ "$closed" = $N ]; then
		ok "ebpf with a 4 KiB ring: kept up with all $N"
	else
		fail "ebpf 4 KiB ring" "$conns of $N reported, lost 0: silently missing"
	fi
fi
