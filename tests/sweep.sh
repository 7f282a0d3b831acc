#!/bin/bash
# sweep.sh - truncation and corruption sweep over every small capture.
#
# Each capture is cut to snap lengths 1..80, 96 and 128 (editcap -s) and
# corrupted at random (editcap -E, fixed seeds); lotrace (the ASan/UBSan
# build) must never die by a signal or print a sanitizer report, must exit
# 0 or 1, and must count decode problems rather than drop packets silently.
. "$(dirname "$0")/lib.sh"
LT=${SWEEP_LOTRACE:-$REPO/build-asan/lotrace}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
command -v editcap >/dev/null || { fail "sweep" "editcap missing (apt-get install tshark)"; exit 0; }
export ASAN_OPTIONS=detect_leaks=1:exitcode=99 UBSAN_OPTIONS=halt_on_error=1:exitcode=98

caps=()
for c in "$PUBLIC"/*.pcap "$PUBLIC"/*.pcapng "$REPO"/captures/*.pcap; do
	[ "$(stat -c %s "$c")" -lt 200000 ] && caps+=("$c")
done

# one_run FILE: prints a problem, or nothing
# (--max-flows 1024: these captures have far fewer connections, so the
# table never fills either way, and under ASan a 1024-flow table costs 19 ms
# a run where the default 65536 costs 32: the sweep is 3,000 runs)
one_run() {
	"$LT" -r "$1" --json --max-flows 1024 >"$1.out" 2>"$1.err"
	local st=$?
	if [ $st -ge 2 ]; then echo "$(basename "$1"): exit $st $(grep -m1 -E 'ERROR|runtime error' "$1.err")"; fi
	rm -f "$1.out" "$1.err" "$1"
}
# cut_and_run CAPTURE ARG...: for each ARG ("s N": snap length N, "e N":
# corruption with seed N) the capture so damaged, read by lotrace; prints
# the problems
cut_and_run() {
	local c=$1 out
	shift
	while [ $# -ge 2 ]; do
		out=$tmp/$(basename "$c").$1$2
		if [ "$1" = s ]; then
			editcap -s "$2" "$c" "$out" 2>/dev/null
		else
			editcap --seed "$2" -E 0.05 "$c" "$out" 2>/dev/null
		fi
		one_run "$out"
		shift 2
	done
}
export -f one_run cut_and_run; export LT tmp

# Two processes at a time, each making and reading a share of the damaged
# copies (one bash per share, not one per copy).
for c in "${caps[@]}"; do
	base=$(basename "$c")
	probs=$({
		for s in $(seq 1 80) 96 128; do printf 's\0%s\0' "$s"; done
		for seed in 1 2 3 4 5 6 7 8; do printf 'e\0%s\0' "$seed"; done
	} | xargs -0 -n 16 -P 2 bash -c 'cut_and_run "$@"' _ "$c")
	if [ -n "$probs" ]; then fail "sweep $base" "$(echo "$probs" | head -3)"; else ok "sweep $base (snaplen 1..128, 8 corruptions)"; fi
done

# Truncation is counted, not silent: a 40-byte snap of an Ethernet capture
# cuts every TCP header, so every TCP frame must show as a decode problem.
editcap -s 40 "$REPO/captures/clean.pcap" "$tmp/clean40.pcap" 2>/dev/null
p=$("$LT" -r "$tmp/clean40.pcap" --json | python3 -c '
import json,sys
s=[o for o in map(json.loads,sys.stdin) if o["type"]=="summary"][0]["decode"]
print(s["problems"], s["frames"])')
set -- $p
[ "$1" = "$2" ] && [ "$1" -gt 0 ] && ok "snaplen 40: all $1 frames counted as truncated" || fail "snaplen 40" "problems/frames = $p"

# Minimised fuzz crashers (tests/fuzz/regress/file/): each is a capture
# that once crashed; lotrace must now read it like any bad capture.
for r in "$REPO"/tests/fuzz/regress/file/*; do
	[ -f "$r" ] || continue
	cp "$r" "$tmp/regress"
	prob=$(one_run "$tmp/regress")
	if [ -n "$prob" ]; then fail "fuzz regression $(basename "$r")" "$prob"; else ok "fuzz regression $(basename "$r")"; fi
done

# A damaged IPv4 header (one address byte flipped in a copy of a real
# capture) is a malformed frame with a bad checksum, not a new connection.
python3 - "$REPO/captures/busy-mixed.pcap" "$tmp/badcsum.pcap" <<'PY'
import struct, sys
raw = bytearray(open(sys.argv[1], "rb").read())
off, n = 24, 0
while off + 16 <= len(raw):
    incl = struct.unpack("<I", raw[off + 8:off + 12])[0]
    if n == 5:
        raw[off + 16 + 14 + 19] ^= 0x04  # last byte of the IPv4 destination
    off += 16 + incl
    n += 1
open(sys.argv[2], "wb").write(raw)
PY
cmp_conns() { "$LT" -r "$1" --json | python3 -c '
import json,sys
recs=[json.loads(l) for l in sys.stdin]
s=[r for r in recs if r["type"]=="summary"][0]["decode"]
print(sum(r["type"]=="connection" for r in recs), s["malformed"]["ipv4"], s["bad_ipv4_checksum"])'; }
want=$(cmp_conns "$REPO/captures/busy-mixed.pcap")
got=$(cmp_conns "$tmp/badcsum.pcap")
set -- $want; n=$1
if [ "$n" -gt 0 ] && [ "$got" = "$n 1 1" ]; then ok "bad IPv4 header checksum: $n connections as in the original, 1 malformed frame counted"
else fail "bad IPv4 header checksum" "conns/malformed/bad-checksum: original '$want', damaged '$got' (want '$n 1 1')"; fi
"$LT" -r "$tmp/badcsum.pcap" | grep -q 'malformed ipv4 1 \[bad header checksum 1\]' &&
	ok "bad IPv4 header checksum named in the text summary" || fail "bad IPv4 checksum text" "not in the decode line"
"$LT" report -r "$tmp/badcsum.pcap" | grep -q 'with a bad IPv4 header checksum' &&
	ok "bad IPv4 header checksum named in the report" || fail "bad IPv4 checksum report" "not in the report"
