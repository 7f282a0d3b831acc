#!/bin/bash
# live/tcpdump.sh - tcpdump habits on live traffic (run under the live lock):
#   tcpdump -i lo -w - port P | lotrace -r -  = lotrace -r (the same packets, saved)
#   a filter expression means the same on the eBPF and libpcap backends
#   -w with libpcap live writes whole packets; with eBPF header snapshots,
#   said once on stderr
# Real sockets (lt_peer) on 127.0.0.1 and ::1.
. "$(dirname "$0")/../lib.sh"
PEER=$REPO/build/tools/lt_peer
[ -x "$PEER" ] || make -s -C "$REPO" build/tools/lt_peer >/dev/null
scratch_dir
P1=62101 P2=62102 PREF=62103 # served on 127.0.0.1 and ::1; nothing on PREF

serve() { # serve NAME ARGS...
	"$PEER" serve --ready-file "$tmp/$1.ready" "${@:2}" >"$tmp/$1.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$tmp/$1.ready" ] && return 0; sleep 0.05; done
	fail "server $1" "did not start: $(cat "$tmp/$1.log")"
	return 1
}
traffic() { # three clean connections each on v4 and v6, two refused
	for a in 127.0.0.1 ::1; do
		for _ in 1 2 3; do "$PEER" connect --addr $a --port $P1 --send 32 --expect-reply >/dev/null; done
		"$PEER" connect --addr $a --port $P2 --send 16 --expect-reply >/dev/null
		"$PEER" connect --addr $a --port $PREF --timeout-ms 500 >/dev/null
	done
}
conns() { grep '"type":"connection"' "$1" | python3 -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l)
    print(r["start_ns"], r["client"], r["server"], r["verdict"], r["history"])' | sort; }
# keys without times: two live captures of the same traffic never share them
tuples() { grep '"type":"connection"' "$1" | python3 -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l)
    print(r["client_addr"], r["server"], r["verdict"])' | sort; }

serve v4a --addr 127.0.0.1 --port $P1 --mode reply || exit 0
serve v6a --addr ::1 --port $P1 --v6only --mode reply || exit 0
serve v4b --addr 127.0.0.1 --port $P2 --mode reply || exit 0
serve v6b --addr ::1 --port $P2 --v6only --mode reply || exit 0

# ---- tcpdump -w - | lotrace -r - ----------------------------------------------
sh -c 'echo $$ >"$0"; exec tcpdump -i lo --immediate-mode -U -w - "$1"' "$tmp/tcpdump.pid" "tcp portrange $P1-$PREF" \
	2>"$tmp/tcpdump.err" | tee "$tmp/saved.pcap" |
	"$LOTRACE" -r - --json >"$tmp/pipe.json" 2>"$tmp/pipe.err" &
tdpipe=$!
for _ in $(seq 100); do grep -q "listening on" "$tmp/tcpdump.err" && break; sleep 0.05; done
traffic
sleep 1
kill -INT "$(cat "$tmp/tcpdump.pid")"
wait $tdpipe
[ -n "${LT_DEBUG:-}" ] && { cat "$tmp/tcpdump.err" "$tmp/pipe.err"; ls -la "$tmp"; }
"$LOTRACE" -r "$tmp/saved.pcap" --json >"$tmp/file.json" 2>&1
n=$(conns "$tmp/pipe.json" | wc -l)
if [ "$n" = 10 ] && [ "$(conns "$tmp/pipe.json")" = "$(conns "$tmp/file.json")" ]; then
	ok "tcpdump -i lo -w - | lotrace -r -: the 10 connections lotrace -r finds in the same packets"
else fail "tcpdump | lotrace -r -" "$n connections ($(cat "$tmp/pipe.err")), file run $(conns "$tmp/file.json" | wc -l)"; fi

# ---- a filter expression means the same on both backends -------------------
backends=pcap
"$LOTRACE" --backend ebpf --port 1 --duration 1ms --no-tui >/dev/null 2>&1 && backends="pcap ebpf"
EXPR="ip6 and tcp port $P1 or tcp port $PREF"
for b in $backends; do
	"$LOTRACE" --backend $b --port "$P1-$PREF" --json --no-tui -v -w "$tmp/$b.pcap" "$EXPR" \
		>"$tmp/$b.json" 2>"$tmp/$b.err" &
	lt=$!
	pids+=($lt)
	for _ in $(seq 200); do grep -q capturing "$tmp/$b.err" && break; sleep 0.05; done
	traffic
	sleep 1.5
	kill -INT $lt; wait $lt
	# ip6 and port P1: 3 connections; port PREF (both families): 2 refused
	got=$(tuples "$tmp/$b.json")
	want=$(printf '%s\n' "::1 [::1]:$P1 closed" "::1 [::1]:$P1 closed" "::1 [::1]:$P1 closed" \
		"127.0.0.1 127.0.0.1:$PREF refused" "::1 [::1]:$PREF refused" | sort)
	[ "$got" = "$want" ] && ok "$b: '$EXPR' selects the same 5 connections" ||
		fail "$b: filter expression" "got: $(echo "$got" | tr '\n' '|')"
	snaps=$(grep -c "header snapshots" "$tmp/$b.err")
	if [ $b = ebpf ]; then
		[ "$(grep -c -- "-w writes header snapshots" "$tmp/$b.err")" = 1 ] &&
			ok "ebpf: -w says once that it writes header snapshots" || fail "ebpf -w note" "$(cat "$tmp/$b.err")"
	else
		# libpcap live: whole packets, the data bytes are there
		data=$(tshark -r "$tmp/$b.pcap" -Y "tcp.len > 0" -T fields -e tcp.payload 2>/dev/null | grep -c .)
		[ "$snaps" = 0 ] && [ "$data" -gt 0 ] && ok "pcap: -w writes whole packets live ($data with payload)" ||
			fail "pcap -w live" "snapshot notes $snaps, packets with payload bytes $data"
	fi
	tshark -r "$tmp/$b.pcap" >/dev/null 2>&1 && ok "$b: tshark reads the -w file" || fail "$b -w" "tshark cannot read it"
done
