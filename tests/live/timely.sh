#!/bin/bash
# live/timely.sh - a live run's lines reach a pipe while it runs.
# lotrace --port P | reader: the reader must see the refused connection's
# line (text, then JSON) soon after it happened, long before lotrace ends.
# A live connection is reported when it retires (1 s after its last
# segment, so late retransmissions still count), so "soon" is under 2 s;
# output held in stdio's buffer until exit would show after 6 s.
# A live run into a full disk says why, whatever wrote first: the
# listener note at the start fails before any record (each backend).
. "$(dirname "$0")/../lib.sh"
PEER=$REPO/build/tools/lt_peer
tmp=$(mktemp -d)
trap 'kill $lt 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
P=62056
now() { date +%s%N; }
for fmt in text json; do
	args=()
	[ $fmt = json ] && args=(--json)
	: >"$tmp/err"
	# the reader stamps each line as it arrives
	( "$LOTRACE" --port $P --no-tui -v --duration 6s "${args[@]}" 2>"$tmp/err" |
		while IFS= read -r l; do echo "$(date +%s%N) $l"; done >"$tmp/lines" ) &
	lt=$!
	for _ in $(seq 100); do grep -q capturing "$tmp/err" && break; sleep 0.05; done
	t0=$(now)
	"$PEER" connect --addr 127.0.0.1 --port $P --timeout-ms 500 >/dev/null
	for _ in $(seq 40); do grep -q "127\.0\.0\.1:$P" "$tmp/lines" 2>/dev/null && break; sleep 0.05; done
	t1=$(grep -m1 "127\.0\.0\.1:$P" "$tmp/lines" | cut -d' ' -f1)
	wait $lt
	if [ -z "$t1" ]; then
		fail "$fmt into a pipe: the connection's line arrives while lotrace runs" "no line within 2 s; at the end: $(head -3 "$tmp/lines")"
	else
		ms=$(((t1 - t0) / 1000000))
		[ $ms -lt 2000 ] && ok "$fmt into a pipe: the refused connection's line arrives ${ms} ms after it (lotrace runs 6 s)" ||
			fail "$fmt into a pipe: line late" "${ms} ms"
	fi
	P=$((P + 1))
done

# > /dev/full: the start note ("# listening on P: ...") is the first write
# to fail; the message names the disk's errno, not a stand-in EIO
backends=(pcap)
"$LOTRACE" --version 2>/dev/null | grep -qi ebpf && backends+=(ebpf)
for b in "${backends[@]}"; do
	for fmt in text json; do
		args=()
		[ $fmt = json ] && args=(--json)
		"$LOTRACE" --backend "$b" --port $P --no-tui --duration 1s "${args[@]}" >/dev/full 2>"$tmp/err"
		st=$?
		msg=$(grep -v "^lotrace: \(eBPF\|libpcap\) " "$tmp/err")
		[ $st = 1 ] && [ "$msg" = "lotrace: cannot write to stdout: No space left on device" ] &&
			ok "$b $fmt > /dev/full: exit 1, 'No space left on device'" ||
			fail "$b $fmt > /dev/full" "exit $st: $msg"
	done
done
