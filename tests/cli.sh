#!/bin/bash
# cli.sh - bad input gets one clear line and the documented exit status.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# run_err NAME WANT_STATUS PATTERN ARGS...: exit WANT_STATUS, nothing on
# stdout, exactly one stderr line matching PATTERN.
run_err() {
	local name=$1 want=$2 pat=$3; shift 3
	"$LOTRACE" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	local st=$?
	local lines; lines=$(grep -c . "$tmp/err")
	if [ "$st" != "$want" ]; then fail "$name" "exit $st, want $want ($(head -c 200 "$tmp/err"))"
	elif [ -s "$tmp/out" ]; then fail "$name" "unexpected stdout: $(head -c 200 "$tmp/out")"
	elif [ "$lines" != 1 ]; then fail "$name" "want one stderr line, got $lines: $(cat "$tmp/err")"
	elif ! grep -qE "$pat" "$tmp/err"; then fail "$name" "stderr '$(cat "$tmp/err")' lacks /$pat/"
	else ok "$name"; fi
}

for p in 619009 65536 -1 abc 61900x "" " 80" 0x50 80abc; do
	run_err "port '$p' rejected" 2 "invalid port '.*': expected an integer from 0 to 65535" -r "$PUBLIC/irc-353.pcap" --port "$p"
done
run_err "port rejected before the file is opened" 2 "invalid port '619009'" -r /nonexistent.pcap --port 619009
run_err "report: port rejected first" 2 "invalid port '619009'" report -r /nonexistent.pcap --port 619009
run_err "missing file" 1 "cannot read capture '/nonexistent.pcap': No such file" -r /nonexistent.pcap
run_err "directory as capture" 1 "cannot read capture" -r /tmp
: > "$tmp/empty.pcap"
run_err "empty file" 1 "cannot read capture" -r "$tmp/empty.pcap"
head -c 10 "$PUBLIC/irc-353.pcap" > "$tmp/short.pcap"
run_err "file shorter than its header" 1 "cannot read capture" -r "$tmp/short.pcap"
printf 'this is not a capture at all, just text\n' > "$tmp/text.pcap"
run_err "text file" 1 "cannot read capture.*pcap or pcapng" -r "$tmp/text.pcap"
run_err "corrupt pcapng" 1 "cannot read capture" -r "$PUBLIC/shb-option-too-long.pcapng"
run_err "unsupported pcap version" 1 "cannot read capture" -r "$PUBLIC/pcap-invalid-version-1.pcap"
run_err "unknown option" 2 "unknown option" --frobnicate
run_err "missing option value" 2 "needs a value" -r
run_err "stray word is a filter expression libpcap rejects" 2 "invalid filter expression 'foo': .*syntax error" foo
run_err "bad duration" 2 "invalid duration" --duration 5y -r x
run_err "bad count" 2 "invalid count" -c 0 -r x
run_err "bad backend" 2 "invalid backend" --backend xdp
# Numbers are plain decimals: no overflow, NaN/inf, exponents, hex, signs
# or trailing garbage slip through (each once turned into a silent value).
for c in 18446744073709551616 99999999999999999999999 -1 +3 0x10 1e3 "3 " " 3" 3abc "" 0; do
	run_err "count '$c' rejected" 2 "invalid count '.*': expected an integer from 1 to 18446744073709551615" -c "$c" -r x
done
run_err "count 2^64-1 accepted (then the file is missing)" 1 "cannot read capture" -c 18446744073709551615 -r /nonexistent.pcap
for s in nan NaN inf infinity -1 0 0.001 1e-300 1e300 1e3 0x10 2y 1.5.5 . "" 1000001 " 1"; do
	run_err "speed '$s' rejected" 2 "invalid speed '.*': expected instant or a factor from 0.01 to 1000000" --speed "$s" -r x
done
for d in 0x10 0x10s 1e3 1e-300 nan inf -5s +5s 5s5 "5 s" 0 0s 0.0000000001s 1000000000h .5s 5.s; do
	run_err "duration '$d' rejected" 2 "invalid duration '.*': expected e.g. 10s" --duration "$d" -r x
done
for m in 18446744073709551616 0x100 1e4 -16 15 16777217; do
	run_err "--max-flows '$m' rejected" 2 "invalid --max-flows" --max-flows "$m" -r x
done
run_err "--ring-size hex rejected" 2 "invalid --ring-size" --ring-size 0x1000 -r x
# the plain forms still work: they fail only on the missing file
for a in "--speed 0.01" "--speed 10x" "--speed 1000000" "--duration 1.5s" "--duration 250ms" "--duration 2m" "-c 5" "--max-flows 16"; do
	# shellcheck disable=SC2086
	run_err "'$a' accepted" 1 "cannot read capture" $a -r /nonexistent.pcap --no-tui
done
run_err "interface name too long" 2 "invalid interface name" -i abcdefghijklmnopq
run_err "-r with -i" 2 "cannot be used together" -r x -i lo

# a capture of an unsupported link type: DLT_USB_LINUX (189), one record
python3 - "$tmp/usb.pcap" <<'PY'
import struct, sys
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 189))
    f.write(struct.pack("<IIII", 1, 0, 4, 4) + b"\0\0\0\0")
PY
run_err "unsupported link type" 1 "link type .*189.*cannot decode" -r "$tmp/usb.pcap"

# a capture cut mid-record: what was read is reported, the cut is said, exit 1
"$LOTRACE" -r "$PUBLIC/DERIVED-resp_1_benchmark-cut.pcap" >"$tmp/out" 2>"$tmp/err"
st=$?
if [ $st = 1 ] && grep -q "ends early" "$tmp/err" && [ "$(grep -c ' -> ' "$tmp/out")" = 14 ]; then
	ok "cut capture: 14 connections then a clear error"
else fail "cut capture" "exit $st, $(cat "$tmp/err")"; fi

# The same segment seen on several VLANs (a mirror port) is named as
# duplicate copies, not counted as retransmissions (vlan-pcp-dei: each
# handshake segment three times, tags 10+20, 20 and none).
out=$("$LOTRACE" -r "$PUBLIC/vlan-pcp-dei.pcapng")
if echo "$out" | grep -q ' S> SA<@204us A>@336us .*\[6 duplicate copies: same segment, another VLAN\]' &&
	echo "$out" | grep -qE '^80 +1 +1 +1 +0 +0 +0 +0 +0 '; then
	ok "VLAN copies named as duplicate copies, retrans 0"
else fail "VLAN copies" "$(echo "$out" | head -4)"; fi

# A capture time jump (one record's ts_sec edited in a copy of a scenario
# capture) is counted and named, expires nothing, marks what follows; the
# connections and verdicts stay those of the original, exit 0.
for tsec in 4268710400 2000000000; do
	python3 - "$REPO/captures/busy-mixed.pcap" "$tmp/jump.pcap" "$tsec" <<'PY'
import struct, sys
raw = bytearray(open(sys.argv[1], "rb").read())
off, n = 24, 0
while off + 16 <= len(raw):
    n += 1
    if n == 120:
        struct.pack_into("<I", raw, off, int(sys.argv[3]))
    off += 16 + struct.unpack("<I", raw[off + 8:off + 12])[0]
open(sys.argv[2], "wb").write(raw)
PY
	summ() { "$LOTRACE" -r "$1" --json | python3 -c '
import json,sys
recs=[json.loads(l) for l in sys.stdin]
s=[r for r in recs if r["type"]=="summary"][0]
c=[r for r in recs if r["type"]=="connection"]
print(len(c), json.dumps(s["total"]["verdicts"], sort_keys=True))
print(s["flows"]["time_jumps"], (s["flows"]["time_jump_first"] or {}).get("frame"),
      sum("after-time-jump" in r["anomalies"] for r in c))'; }
	orig=$(summ "$REPO/captures/busy-mixed.pcap"); orig=${orig%%$'\n'*}
	got=$(summ "$tmp/jump.pcap")
	"$LOTRACE" -r "$tmp/jump.pcap" >"$tmp/out" 2>"$tmp/err"; st=$?
	set -- $(echo "$got" | tail -1)
	if [ "$(echo "$got" | head -1)" != "$orig" ]; then fail "time jump ($tsec)" "connections/verdicts changed: '$(echo "$got" | head -1)' vs '$orig'"
	elif [ $st != 0 ] || [ -s "$tmp/err" ]; then fail "time jump ($tsec)" "exit $st, stderr '$(cat "$tmp/err")'"
	elif [ "$1" -lt 1 ] || [ "$2" != 120 ] || [ "$3" -lt 1 ]; then fail "time jump ($tsec)" "jumps/frame/marked = $*"
	elif ! grep -q '^capture time jumped by [-+][0-9.]* years at frame 120.*nothing expired' "$tmp/out"; then fail "time jump ($tsec)" "text does not name it: $(tail -3 "$tmp/out")"
	elif ! "$LOTRACE" report -r "$tmp/jump.pcap" | grep -q 'Time: capture time jumped by .* at frame 120'; then fail "time jump ($tsec)" "the report does not name it"
	else ok "time jump (ts_sec $tsec at frame 120): same ${orig%% *} connections and verdicts, named, $3 marked, exit 0"; fi
done

# A lasting jump: busy-mixed.pcap, then port-reuse.pcap moved 10 years on
# (editcap -t), merged into one capture (mergecap). After 3 frames at the
# new time the table follows the capture: the merge reads as the two
# captures one by one, and every connection's start and end are the frame
# times tshark reads for its stream.
editcap -F pcap -t 315576000 "$REPO/captures/port-reuse.pcap" "$tmp/later.pcap"
mergecap -F pcap -w "$tmp/both.pcap" "$REPO/captures/busy-mixed.pcap" "$tmp/later.pcap"
"$LOTRACE" -r "$tmp/both.pcap" --json >"$tmp/both.json"
"$LOTRACE" -r "$REPO/captures/busy-mixed.pcap" --json >"$tmp/a.json"
"$LOTRACE" -r "$tmp/later.pcap" --json >"$tmp/b.json"
tshark -r "$tmp/both.pcap" -T fields -e tcp.stream -e frame.time_epoch >"$tmp/frames" 2>/dev/null
"$LOTRACE" -r "$tmp/both.pcap" >"$tmp/out" 2>&1
first=$(($(capinfos -c -T -r "$REPO/captures/busy-mixed.pcap" | cut -f2) + 1))
if ! msg=$(python3 - "$tmp/both.json" "$tmp/a.json" "$tmp/b.json" "$tmp/frames" <<'PY'
import json, sys
def conns(f):
    return [json.loads(l) for l in open(f) if '"type":"connection"' in l]
key = lambda r: (r["start_ns"], r["duration_ns"], r["client"], r["server"], r["verdict"],
                 r["history"], json.dumps(r["timeline"]))
both = conns(sys.argv[1])
union = sorted(key(r) for r in conns(sys.argv[2]) + conns(sys.argv[3]))
if sorted(map(key, both)) != union:
    print("the merge differs from the two captures read one by one: %s" %
          sorted(set(map(key, both)) ^ set(union))[:2])
    sys.exit(1)
first, last = {}, {}
for line in open(sys.argv[4]):
    s, t = line.split()
    # frame.time_epoch has 9 decimals: whole nanoseconds, no float
    sec, frac = t.split(".")
    ns = int(sec) * 10**9 + int(frac.ljust(9, "0"))
    first.setdefault(int(s), ns)
    last[int(s)] = ns
bad = [(r["stream"], r["start_ns"], first.get(r["stream"])) for r in both
       if r["start_ns"] != first.get(r["stream"]) or
       r["start_ns"] + r["duration_ns"] != last.get(r["stream"])]
if bad:
    print("start/end differ from tshark's frame times (stream, start_ns, tshark): %s" % bad[:3])
    sys.exit(1)
print(len(both))
PY
); then
	fail "lasting time jump" "$msg"
elif ! grep -q "^capture time jumped by +10.0 years at frame $first: it lasted" "$tmp/out"; then
	fail "lasting time jump" "text does not name it at frame $first: $(grep 'time jumped' "$tmp/out")"
else
	ok "lasting time jump (+10 years at frame $first of a mergecap merge): $msg connections as in the two captures read one by one, start and end = tshark's frame times"
fi

"$LOTRACE" --help >"$tmp/out" 2>&1 && grep -q "usage: lotrace" "$tmp/out" && ok "--help" || fail "--help" "no usage"
"$LOTRACE" --version >"$tmp/out" 2>&1
if [ "$(head -1 "$tmp/out")" = "lotrace $(cat "$REPO/VERSION")" ] && grep -qE '^live backends: (ebpf pcap|pcap)' "$tmp/out" &&
	grep -q '^libpcap version [0-9]' "$tmp/out" && grep -qE '^libbpf( [0-9]+\.[0-9]+|: not built in)$' "$tmp/out" &&
	grep -q '^ncurses [0-9]' "$tmp/out"; then
	ok "--version: VERSION, the live backends, libpcap, libbpf and ncurses versions"
else fail "--version" "$(tr '\n' '|' <"$tmp/out")"; fi
"$LOTRACE" -V >/dev/full 2>"$tmp/err"
st=$?
[ $st = 1 ] && [ "$(grep -c . "$tmp/err")" = 1 ] && grep -q "cannot write the version to stdout: No space left" "$tmp/err" &&
	ok "-V > /dev/full: one line, exit 1" || fail "-V > /dev/full" "exit $st: $(cat "$tmp/err")"

# stdout closed early (| head): no crash, no hang
timeout 20 "$LOTRACE" -r "$PUBLIC/echo-connections.pcap.gz" | head -1 >/dev/null
st=${PIPESTATUS[0]}
[ "$st" -lt 128 ] && ok "closed stdout is not a crash" || fail "closed stdout" "status $st"
