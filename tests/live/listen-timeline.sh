#!/bin/bash
# live/listen-timeline.sh - the listener timeline with real processes.
# Three scenarios, each run live with the eBPF backend (written with -w)
# and the capture replayed:
#   late:    the client dials first, the server starts listening 0.5 s later
#   restart: the server stops, a client is refused, a new server listens
#   stop:    the server stops listening, a client is refused
# Live, the report names the process and the times from listen() and
# close(); the replayed capture says only what a capture shows (the first
# SYN-ACK, no process). The late scenario also runs with --backend pcap,
# whose finding is the capture's.
. "$(dirname "$0")/../lib.sh"
PEER=$REPO/build/tools/lt_peer
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$tmp"' EXIT
P=62110

if ! "$LOTRACE" --backend ebpf --port 1 --duration 1ms --no-tui >/dev/null 2>"$tmp/probe.err"; then
	echo "skip listen-timeline: no eBPF backend here ($(head -1 "$tmp/probe.err"))"
	exit 0
fi

# start NAME BACKEND PORT [ARGS...]: lotrace in the background for 4 s,
# writing $tmp/NAME.{out,err,md,json,pcap}; waits until it captures
start() {
	local name=$1 b=$2 port=$3
	shift 3
	"$LOTRACE" --backend "$b" --port "$port" --no-tui -v --duration 4s \
		--report "$tmp/$name.md" -w "$tmp/$name.pcap" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	lt=$!
	pids+=($lt)
	for _ in $(seq 100); do grep -q capturing "$tmp/$name.err" && break; sleep 0.05; done
}

# serve PORT MS FILE: a listener for MS ms; its pid goes to FILE
serve() {
	rm -f "$3"
	"$PEER" serve --addr 127.0.0.1 --port "$1" --mode reply --duration-ms "$2" \
		--ready-file "$3" >/dev/null 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$3" ] && break; sleep 0.02; done
}

dial() { "$PEER" connect --addr 127.0.0.1 --port "$1" --timeout-ms 500 2>&1; }

# finding FILE: the diagnosis of a markdown report (titles and texts)
finding() { sed -n '/^## Diagnosis/,/^## Ports/p' "$1"; }
# show NAME FINDINGS: its first finding's title and text, for the log
show() { echo "  $1: $(grep -m1 -A2 '^- \*\*' <<<"$2" | grep -v '^$' | tr -s ' ' | tr '\n' ' ')"; }

# the same capture replayed: no process, the first SYN-ACK as evidence
replay() {
	"$LOTRACE" report -r "$tmp/$1.pcap" >"$tmp/$1.replay.md" 2>"$tmp/$1.replay.err"
	finding "$tmp/$1.replay.md"
}

# ---- late: refused before the server started listening --------------------
for b in ebpf pcap; do
	name=late-$b
	start $name $b $P
	r=$(dial $P)
	sleep 0.5
	serve $P 1500 "$tmp/$name.ready"
	pid=$(cat "$tmp/$name.ready")
	a=$(dial $P)
	wait $lt
	[ "$r/$a" = "refused/connected" ] || fail "$name: peers" "dialled $r then $a"
	f=$(finding "$tmp/$name.md")
	show "$name" "$f"
	if [ $b = ebpf ]; then
		t=$(grep -oE "Refused before the server started listening on \`127\.0\.0\.1:$P\` \(by [0-9.]+ms\)" <<<"$f")
		ms=$(grep -oE '[0-9.]+ms' <<<"$t")
		[ -n "$t" ] && awk -v m="${ms%ms}" 'BEGIN { exit !(m >= 400 && m < 2000) }' &&
			ok "$name: report title: refused before the server started listening (by $ms, dialled 0.5 s early)" ||
			fail "$name: report title" "$f"
		grep -qE "\`lt_peer\` \(pid $pid, started [0-9:.]+\) began listening on \`127\.0\.0\.1:$P\` at [0-9:.]+, $ms later" <<<"$f" &&
			ok "$name: the finding names the server process (pid $pid), its start and when it began listening" ||
			fail "$name: process in the finding" "$f"
		grep -qE "^# [0-9:.]+ 127\.0\.0\.1:$P began listening: lt_peer\[$pid\] \(started [0-9:.]+\) backlog [0-9]+$" "$tmp/$name.out" &&
			grep -qE "^# [0-9:.]+ 127\.0\.0\.1:$P stopped listening: lt_peer\[$pid\]" "$tmp/$name.out" &&
			ok "$name: the text output has a line for listen() and for the close" ||
			fail "$name: listener lines" "$(grep '^#' "$tmp/$name.out")"
		grep -qE "^\| [0-9:.]+ \| began listening \(backlog [0-9]+\) \| \`127\.0\.0\.1:$P\` \| \`lt_peer\` \(pid $pid\) \| [0-9:.]+ \|$" "$tmp/$name.md" &&
			grep -qE "^\| [0-9:.]+ \| stopped listening \| \`127\.0\.0\.1:$P\` \| \`lt_peer\` \(pid $pid\) \|" "$tmp/$name.md" &&
			ok "$name: the report's Listeners section lists the listener that came and went, with its times" ||
			fail "$name: Listeners section" "$(sed -n '/^## Listeners/,/^## Input/p' "$tmp/$name.md")"
		rf=$(replay $name)
		show "$name replayed" "$rf"
	else
		rf=$f
	fi
	what="$name$([ $b = ebpf ] && echo ' replayed')"
	grep -q "Refused until the server listened on \`127.0.0.1:$P\`" <<<"$rf" &&
		grep -qE "The first SYN-ACK was seen at [0-9:.]+, .*that SYN-ACK is the only evidence of a listener" <<<"$rf" &&
		! grep -qE "pid|began listening on" <<<"$rf" &&
		ok "$what: capture-style finding (the first SYN-ACK seen at T, no process)" ||
		fail "$what: capture-style finding" "$rf"
	P=$((P + 1))
done

# ---- restart: refused while the server was down -----------------------------
name=restart
start $name ebpf $P --json
serve $P 700 "$tmp/$name.ready1"
pid1=$(cat "$tmp/$name.ready1")
a1=$(dial $P)
for _ in $(seq 100); do kill -0 "$pid1" 2>/dev/null || break; sleep 0.02; done
r=$(dial $P)
sleep 0.5
serve $P 1000 "$tmp/$name.ready2"
pid2=$(cat "$tmp/$name.ready2")
a2=$(dial $P)
wait $lt
[ "$a1/$r/$a2" = "connected/refused/connected" ] || fail "$name: peers" "dialled $a1, $r, $a2"
f=$(finding "$tmp/$name.md")
show "$name" "$f"
grep -qE "Refused while the server on \`127\.0\.0\.1:$P\` was restarting \(down from [0-9:.]+ to [0-9:.]+\)" <<<"$f" &&
	grep -qE "\`lt_peer\` \(pid $pid1, started [0-9:.]+\) stopped listening on \`127\.0\.0\.1:$P\` at [0-9:.]+, and \`lt_peer\` \(pid $pid2, started [0-9:.]+\) began listening again at [0-9:.]+, [0-9.]+ms later" <<<"$f" &&
	ok "$name: report title: refused while the server was restarting (down T1 to T2), both processes named" ||
	fail "$name: report title" "$f"
python3 - "$tmp/$name.out" "$P" "$pid1" "$pid2" <<'PY' && ok "$name: --json has the close and the listen as {\"type\":\"listener\"} records" || fail "$name: json listener records" "$(grep '"listener"' "$tmp/$name.out")"
import json, sys
port, p1, p2 = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
ev = [r for r in map(json.loads, open(sys.argv[1])) if r.get("type") == "listener"]
got = [(r["event"], r["pid"]) for r in ev if r["port"] == port]
keys = ["type", "event", "time", "time_ns", "addr", "port", "ip_version", "backlog", "pid", "comm",
        "process_start", "process_start_ns", "netns"]
ok = ("close", p1) in got and ("listen", p2) in got and all(list(r) == keys for r in ev)
ok = ok and all(r["process_start_ns"] and r["process_start_ns"] <= r["time_ns"] for r in ev)
sys.exit(0 if ok else 1)
PY
rf=$(replay $name)
show "$name replayed" "$rf"
grep -q "\`127.0.0.1:$P\` refused some connections while accepting others" <<<"$rf" &&
	! grep -qE "pid|restarting" <<<"$rf" &&
	ok "$name replayed: capture-style finding (refused between answered connections, no process)" ||
	fail "$name replayed: capture-style finding" "$rf"
P=$((P + 1))

# ---- stop: refused after the server stopped listening ----------------------
name=stop
start $name ebpf $P
serve $P 700 "$tmp/$name.ready"
pid=$(cat "$tmp/$name.ready")
a=$(dial $P)
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.02; done
sleep 0.2
r=$(dial $P)
wait $lt
[ "$a/$r" = "connected/refused" ] || fail "$name: peers" "dialled $a then $r"
f=$(finding "$tmp/$name.md")
show "$name" "$f"
grep -qE "Refused after the server stopped listening on \`127\.0\.0\.1:$P\` at [0-9:.]+" <<<"$f" &&
	grep -qE "\`lt_peer\` \(pid $pid, started [0-9:.]+\) stopped listening on \`127\.0\.0\.1:$P\` at [0-9:.]+; the attempt after that \(at [0-9:.]+, [0-9.]+ms later\)" <<<"$f" &&
	ok "$name: report title: refused after the server stopped listening at T, its process named" ||
	fail "$name: report title" "$f"
"$LOTRACE" report -r "$tmp/$name.pcap" --format json >"$tmp/$name.replay.json" 2>/dev/null
rf=$(replay $name)
show "$name replayed" "$rf"
grep -q "\`127.0.0.1:$P\` stopped listening: refused after earlier connections got in" <<<"$rf" &&
	! grep -q "pid" <<<"$rf" &&
	ok "$name replayed: capture-style finding (answered, then refused; no process)" ||
	fail "$name replayed: capture-style finding" "$rf"
python3 - "$tmp/$name.replay.json" <<'PY' && ok "$name replayed: report JSON has no listener events (a capture holds none)" || fail "$name replayed: report JSON" "listener_events not null"
import json, sys
sys.exit(0 if json.load(open(sys.argv[1]))["run"]["listener_events"] is None else 1)
PY
