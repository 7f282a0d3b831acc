#!/bin/bash
# live/flood.sh - connections at the machine's maximum rate, nothing lost,
# and loss, when forced, never silent and never a diagnosis.
#
# lt_peer flood makes connect/accept/close cycles on one port as fast as
# it can; lotrace watches live.
#  1. pcap: every connection comes out, or the lost-events counter says
#     why not (libpcap may drop at this rate).
#  2. eBPF, default ring and map, 20 s at the maximum rate: every
#     connection made has exactly one record (all closed), lost 0.
#  3. eBPF forced overflow: lotrace stopped (SIGSTOP) for 3 s during a
#     flood with a small ring and map (1 MiB, --max-flows 2048): the loss
#     shows in the
#     text summary, in the JSON summary and in the report, whose first
#     finding is events-lost; the report of this flood of clean
#     connections raises no refused/unanswered/half-open/mid-stream
#     finding, and every connection that could be affected is flagged.
#  4. eBPF with a 4 KiB ring: overflow counted, or kept up.
. "$(dirname "$0")/../lib.sh"
PEER=$REPO/build/tools/lt_peer
[ -x "$PEER" ] || make -s -C "$REPO" build/tools/lt_peer >/dev/null
tmp=$(mktemp -d)
LT_PID=
FL_PID=
trap 'kill -CONT "$LT_PID" 2>/dev/null; kill "$LT_PID" "$FL_PID" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
N=20000

# start_lt NAME PORT ARGS...: lotrace in the background, output to $tmp/NAME.out
start_lt() {
	local name=$1 port=$2; shift 2
	"$LOTRACE" --port "$port" --no-tui -v "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	LT_PID=$!
	for _ in $(seq 200); do grep -q capturing "$tmp/$name.err" && break; sleep 0.05; done
}

stop_lt() {
	sleep 2
	kill -INT "$LT_PID"; wait "$LT_PID"; LT_PID=
}

# json_counts FILE: "conns closed lost distinct" from a --json run
json_counts() {
	python3 - "$1" <<'PY'
import json, sys
conns = closed = 0
lost = -1
seen = set()
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o["type"] == "connection":
        conns += 1
        closed += o["verdict"] == "closed"
        seen.add((o["client_port"], o["start_ns"]))
    elif o["type"] == "summary":
        lost = o["lost_events"]
print(conns, closed, lost, len(seen))
PY
}

backends="pcap"
"$LOTRACE" --backend ebpf --port 1 --duration 1ms --no-tui >/dev/null 2>&1 && backends="pcap ebpf"

# 1. pcap
p=62020
start_lt pcap $p --backend pcap --json
"$PEER" flood --addr 127.0.0.1 --port $p --conns $N --parallel 4 >"$tmp/pcap.rate"
stop_lt
read -r conns closed lost _ < <(json_counts "$tmp/pcap.out")
rate=$(sed -n 's/.*rate=\([0-9.]*\).*/\1/p' "$tmp/pcap.rate")
if { [ "$conns" = $N ] && [ "$closed" = $N ]; } || [ "$lost" -gt 0 ]; then
	ok "pcap flood: $N connections at ${rate}/s -> $conns reported ($closed closed), lost $lost"
else
	fail "pcap flood" "$N connections at ${rate}/s -> $conns reported, $closed closed, lost $lost: silently missing"
fi

[[ $backends == *ebpf* ]] || exit 0

# 2. eBPF, 20 s at the maximum rate, default ring
p=62021
rate=$("$PEER" flood --addr 127.0.0.1 --port 62029 --conns 20000 --parallel 4 | sed -n 's/.*rate=\([0-9]*\).*/\1/p')
M=$(( ${rate:-20000} * 20 ))
[ "$M" -gt 900000 ] && M=900000
start_lt ebpf20 $p --backend ebpf
"$PEER" flood --addr 127.0.0.1 --port $p --conns $M --parallel 4 >"$tmp/ebpf20.rate"
stop_lt
made=$(sed -n 's/.*conns=\([0-9]*\).*/\1/p' "$tmp/ebpf20.rate")
secs=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' "$tmp/ebpf20.rate")
rate=$(sed -n 's/.*rate=\([0-9]*\).*/\1/p' "$tmp/ebpf20.rate")
# text lines: one per connection, "... CLOSED ..." style verdict labels
read -r lines distinct < <(awk '/127\.0\.0\.1:[0-9]+ *-> *127\.0\.0\.1:'$p'/ { n++; if (!seen[$1 " " $2]++) d++ } END { print n + 0, d + 0 }' "$tmp/ebpf20.out")
summary_conns=$(awk -v p=$p '$1 == p { print $2 }' "$tmp/ebpf20.out" | head -1)
lost=$(sed -n 's/^lost events: //p' "$tmp/ebpf20.out")
if [ "$lost" = 0 ] && [ "$summary_conns" = "$made" ] && [ "$lines" = "$made" ] && [ "$distinct" = "$made" ]; then
	ok "ebpf ${secs}s flood at ${rate}/s, default ring: $made connections made, $lines records, each once, lost 0"
else
	fail "ebpf ${secs}s flood" "$made made at ${rate}/s; $lines records ($distinct distinct), summary $summary_conns, lost '$lost'; $(grep '^source counters' "$tmp/ebpf20.out")"
fi

# 3. forced overflow: SIGSTOP for 3 s mid-flood, small map
overflow_run() { # NAME PORT ARGS...
	local name=$1 port=$2; shift 2
	start_lt "$name" "$port" --backend ebpf --max-flows 2048 --ring-size 1048576 "$@"
	"$PEER" flood --addr 127.0.0.1 --port "$port" --conns 150000 --parallel 4 >"$tmp/$name.rate" &
	FL_PID=$!
	sleep 1
	kill -STOP "$LT_PID"; sleep 3; kill -CONT "$LT_PID"
	wait "$FL_PID"; FL_PID=
	stop_lt
}
overflow_run stopj 62022 --json --report "$tmp/stop.json"
overflow_run stopt 62023
read -r conns closed jlost _ < <(json_counts "$tmp/stopj.out")
tlost=$(sed -n 's/^lost events: //p' "$tmp/stopt.out")
[ "${jlost:-0}" -gt 0 ] && ok "SIGSTOP overflow: JSON summary shows lost_events $jlost ($conns connections reported)" ||
	fail "SIGSTOP overflow JSON" "lost_events '$jlost' ($conns of 150000 reported)"
[ "${tlost:-0}" -gt 0 ] && ok "SIGSTOP overflow: text summary shows 'lost events: $tlost'" ||
	fail "SIGSTOP overflow text" "lost events '$tlost'"
python3 - "$tmp/stop.json" "$tmp/stopj.out" <<'PY'
import json, sys
rep = json.load(open(sys.argv[1]))
ids = [f["id"] for f in rep["findings"]]
def check(name, cond, why):
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else ": " + why))
check("SIGSTOP overflow: the report's first finding is events-lost", ids[:1] == ["events-lost"], f"findings {ids}")
bad = [i for i in ids if i.split("-")[0] in ("refused", "unanswered") or i in ("half-open", "mid-stream")]
check("SIGSTOP overflow: no refused/unanswered/half-open/mid-stream finding from a flood of clean connections",
      not bad, f"findings {ids}")
def find(o, key):
    if isinstance(o, dict):
        if key in o:
            return o[key]
        o = list(o.values())
    if isinstance(o, list):
        for v in o:
            r = find(v, key)
            if r is not None:
                return r
    return None
sc = find(rep, "source_counters") or {}
lossy = {k: sc.get(k, 0) for k in ("context_records_lost", "map_full", "reused_tuple_lost", "evicted")}
check("SIGSTOP overflow: the report's source_counters name the loss " + str(lossy),
      "records_read" in sc and sum(lossy.values()) > 0, f"source_counters {sc}")
conns = [o for o in map(json.loads, open(sys.argv[2])) if o["type"] == "connection"]
odd = [c for c in conns if c["verdict"] != "closed" and "events-lost" not in c["anomalies"]
       and not ("evicted" in c["anomalies"] and c["verdict"] == "mid-stream")]
check("SIGSTOP overflow: every connection not cleanly closed carries events-lost (or, the rest of one the full table evicted, evicted)",
      not odd, f"{len(odd)} unflagged, e.g. {odd[0]['verdict'] if odd else ''} {odd[0]['anomalies'] if odd else ''}")
PY

# 4. a 4 KiB ring
p=62024
start_lt tiny $p --backend ebpf --ring-size 4096 --json
"$PEER" flood --addr 127.0.0.1 --port $p --conns $N --parallel 4 >/dev/null
stop_lt
read -r conns closed lost _ < <(json_counts "$tmp/tiny.out")
if [ "$lost" -gt 0 ]; then
	ok "ebpf with a 4 KiB ring: overflow counted (lost $lost, $conns connections reported)"
elif [ "$conns" = $N ] && [ "$closed" = $N ]; then
	ok "ebpf with a 4 KiB ring: kept up with all $N (end records the ring could not take came from the map)"
elif [ "$conns" -gt $N ]; then
	fail "ebpf 4 KiB ring" "$conns of $N reported, lost 0: extra records (one connection reported twice, or a late segment taken for a new one)"
else
	fail "ebpf 4 KiB ring" "$conns of $N reported, lost 0: silently missing"
fi
