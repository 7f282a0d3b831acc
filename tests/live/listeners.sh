#!/bin/bash
# live/listeners.sh - the "who listens?" lines of a live run.
# A listener on [::1] only, a client dialling 127.0.0.1: lotrace must say at
# start that nothing listens, then, after the refusal, name the ::1-only
# listener and its process.
. "$(dirname "$0")/../lib.sh"
PEER=$REPO/build/tools/lt_peer
tmp=$(mktemp -d)
trap 'kill $lt $srv 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
P=62040
for b in pcap ebpf; do
	"$LOTRACE" --backend $b --port $P --no-tui -v --duration 4s >"$tmp/out" 2>"$tmp/err" &
	lt=$!
	for _ in $(seq 100); do grep -q capturing "$tmp/err" && break; sleep 0.05; done
	if ! kill -0 $lt 2>/dev/null; then
		grep -q "without eBPF" "$tmp/err" && continue
		fail "$b listeners" "lotrace did not start: $(cat "$tmp/err")"; continue
	fi
	"$PEER" serve --addr ::1 --port $P --v6only --mode reply --duration-ms 2500 --ready-file "$tmp/ready" >/dev/null 2>&1 &
	srv=$!
	for _ in $(seq 100); do [ -s "$tmp/ready" ] && break; sleep 0.05; done
	pid=$(cat "$tmp/ready")
	"$PEER" connect --addr 127.0.0.1 --port $P --timeout-ms 500 >/dev/null
	wait $lt
	grep -q "^# listening on $P: nothing listens on port $P" "$tmp/out" &&
		ok "$b: at start, nothing listens on $P" || fail "$b: start note" "$(head -3 "$tmp/out")"
	grep -qE "^# 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:$P refused; listening on $P: \[::1\]:$P lt_peer\[$pid\] \(IPv6 only\)" "$tmp/out" &&
		ok "$b: after the refusal, the ::1-only listener and its process are named" ||
		fail "$b: refusal note" "$(cat "$tmp/out")"
	note_at=$(grep -nE "^# 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:$P refused; " "$tmp/out" | head -1 | cut -d: -f1)
	line_at=$(grep -nE "^[0-9].* -> 127\.0\.0\.1:$P .*refused" "$tmp/out" | head -1 | cut -d: -f1)
	[ -n "$note_at" ] && [ -n "$line_at" ] && [ "$note_at" -lt "$line_at" ] &&
		ok "$b: the refusal note comes as soon as the refusal, before the connection's own line" ||
		fail "$b: refusal note at once" "note at line ${note_at:-none}, connection at line ${line_at:-none}: $(cat "$tmp/out")"
	grep -qE "^# 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:$P refused; .*; none takes 127\.0\.0\.1: the server listens on IPv6 only$" "$tmp/out" &&
		ok "$b: the refusal note says no listener takes 127.0.0.1, the server listens on IPv6 only" ||
		fail "$b: refusal note, why" "$(grep '^#' "$tmp/out")"
	wait $srv 2>/dev/null
	P=$((P + 1))
done

# Two refusals on neighbouring ports right after each other: each port
# gets its note (the rate limit is per port, not per group of ports).
A=62050 B=62051
"$LOTRACE" --port $A,$B --no-tui -v --duration 3s >"$tmp/out2" 2>"$tmp/err2" &
lt=$!
for _ in $(seq 100); do grep -q capturing "$tmp/err2" && break; sleep 0.05; done
"$PEER" connect --addr 127.0.0.1 --port $A --timeout-ms 500 >/dev/null
"$PEER" connect --addr 127.0.0.1 --port $B --timeout-ms 500 >/dev/null
wait $lt
for p in $A $B; do
	grep -qE "^# 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:$p refused; listening on $p: nothing listens" "$tmp/out2" &&
		ok "a refusal on $p right after one on the next port still gets its note" ||
		fail "refusal note on $p" "$(grep '^#' "$tmp/out2")"
done
# eBPF: A's refused connection retires with its end record, before B's
# refusal; its line, which the sink may hold, goes out before B's note
if grep -q "capturing with ebpf" "$tmp/err2"; then
	line_a=$(grep -nE "^[0-9].* -> 127\.0\.0\.1:$A .*refused" "$tmp/out2" | head -1 | cut -d: -f1)
	note_b=$(grep -nE "^# 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:$B refused; " "$tmp/out2" | head -1 | cut -d: -f1)
	[ -n "$line_a" ] && [ -n "$note_b" ] && [ "$line_a" -lt "$note_b" ] &&
		ok "the connection line of the refusal on $A comes before the note of the one on $B" ||
		fail "lines before notes" "line of $A at ${line_a:-none}, note of $B at ${note_b:-none}: $(cat "$tmp/out2")"
fi

# A listener that starts after lotrace, accepts 2 connections and closes
# before the end: the report's Listeners section names it with its times
# (it is neither in the start nor in the end sample).
P=62052
"$LOTRACE" --port $P --no-tui -v --duration 4s --report "$tmp/rep.md" >/dev/null 2>"$tmp/err3" &
lt=$!
for _ in $(seq 100); do grep -q capturing "$tmp/err3" && break; sleep 0.05; done
"$PEER" serve --addr 127.0.0.1 --port $P --mode reply --duration-ms 1500 --ready-file "$tmp/ready3" >/dev/null 2>&1 &
srv=$!
for _ in $(seq 100); do [ -s "$tmp/ready3" ] && break; sleep 0.05; done
pid=$(cat "$tmp/ready3")
"$PEER" connect --addr 127.0.0.1 --port $P --timeout-ms 500 >/dev/null
"$PEER" connect --addr 127.0.0.1 --port $P --timeout-ms 500 >/dev/null
wait $srv 2>/dev/null
wait $lt
want="Listened during the run only \(not at the start, not at the end\): \`127\.0\.0\.1:$P\`( by \`lt_peer\` \(pid $pid\))?, answered 2 connections from [0-9:.]+ to [0-9:.]+\."
grep -qE "$want" "$tmp/rep.md" &&
	ok "report: a listener that came and went during the run is listed with its 2 connections and times" ||
	fail "report: listener that came and went" "$(sed -n '/^## Listeners/,/^## /p' "$tmp/rep.md")"
grep -qE "by \`lt_peer\` \(pid $pid\)" "$tmp/rep.md" || grep -q "backend pcap\|libpcap" "$tmp/err3" &&
	ok "report: ... with its process (eBPF)" || fail "report: process of the listener that came and went" "$(grep -i 'listened during' "$tmp/rep.md")"
