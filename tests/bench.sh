#!/bin/bash
# bench.sh - what `make bench` measures, side by side with peer tools.
#
# 1. Replay speed: a generated capture of >= 1 million packets, read by
#    a bare libpcap loop, lotrace (text and JSON) with the ratios and
#    targets (tests/bench/replay.sh), then `tcpdump -nr` and
#    `tshark -q -z conv,tcp`: seconds, packets/s, max RSS, and the ratios.
# 2. Memory bound: a flood of distinct SYNs through --max-flows 65536.
# 3. Tracing cost (root): tests/bench/live-cost.sh, the loopback connection
#    rate with no tracer, lotrace (eBPF, pcap), tcpdump and tcplife (7
#    interleaved rounds, 15 for lotrace eBPF and tcpdump, whose shares
#    the targets compare; medians and spreads), lotrace's own CPU per
#    connection, and the kernel's ns per connection for each BPF program.
# 4. TUI: keypress-to-redraw with 100,000 connections (tests/tui/bench-tui.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
LT=./build/lotrace
PEER=./build/tools/lt_peer
work=$(mktemp -d /tmp/lotrace-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT INT TERM

# timed NAME COMMAND...: "NAME seconds maxrss_kb"
timed() {
	local name=$1; shift
	/usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null 2>"$work/err" || true
	read -r secs kb < <(tail -1 "$work/t")
	echo "$name $secs $kb"
}

echo "== replay speed"
python3 tests/bench/gen_pcap.py "$work/big.pcap" 100000
pkts=$(capinfos -cM "$work/big.pcap" 2>/dev/null | awk -F: '/Number of packets/ {gsub(/ /,"",$2); print $2}')
echo "capture: $pkts packets, $(du -m "$work/big.pcap" | cut -f1) MB"
tests/bench/replay.sh "$work/big.pcap"
{
	timed lotrace-text "$LT" -r "$work/big.pcap"
	timed lotrace-json "$LT" -r "$work/big.pcap" --json
	timed tcpdump-nr tcpdump -nr "$work/big.pcap"
	timed tshark-conv tshark -r "$work/big.pcap" -q -z conv,tcp
} > "$work/replay"
awk -v n="$pkts" '{ printf "  %-14s %7.2f s %10.0f packets/s  max RSS %6.1f MB\n", $1, $2, ($2 > 0 ? n / $2 : 0), $3 / 1024 }' "$work/replay"
lt=$(awk '$1=="lotrace-text"{print $2}' "$work/replay")
awk -v lt="$lt" '$1!="lotrace-text" && $1!="lotrace-json" && lt > 0 { printf "  lotrace is %.1fx faster than %s\n", $2 / lt, $1 }' "$work/replay"

echo "== memory bound: 1,000,000 distinct SYNs, --max-flows 65536"
python3 - "$work/syns.pcap" <<'PY'
import struct, sys
f = open(sys.argv[1], "wb")
f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))  # DLT_RAW
for i in range(1_000_000):
    src = bytes([10, (i >> 16) & 255, (i >> 8) & 255, i & 255])
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0, 64, 6, 0, src, bytes([127, 0, 0, 1]))
    tcp = struct.pack("!HHIIBBHHH", 40000 + i % 20000, 61900, i, 0, 0x50, 2, 65535, 0, 0)
    t = 1_700_000_000_000_000 + i * 10
    f.write(struct.pack("<IIII", t // 1_000_000, t % 1_000_000, 40, 40) + ip + tcp)
PY
/usr/bin/time -f "%e %M" -o "$work/t" "$LT" -r "$work/syns.pcap" --max-flows 65536 > "$work/syns.out"
read -r secs kb < "$work/t"
grep '^flows:' "$work/syns.out" | sed 's/^/  /'
echo "  $secs s, max RSS $((kb / 1024)) MB"

echo "== tracing cost: loopback connection rate (connect/accept/close)"
tests/bench/live-cost.sh

echo "== TUI responsiveness"
if [ -x tests/tui/bench-tui.sh ]; then tests/tui/bench-tui.sh; else echo "  skipped: tests/tui/bench-tui.sh missing"; fi
