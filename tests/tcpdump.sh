#!/bin/bash
# tcpdump.sh - tcpdump and tshark habits work (replay; the live half is
# tests/live/tcpdump.sh): reading pipes and several files, filter
# expressions, port ranges, -w as pcap (same bytes), pcapng with verdict
# comments, -w - into tshark, and one-line failures. The referees are the
# real tools: tshark, tcpdump, mergecap, editcap, gzip.
. "$(dirname "$0")/lib.sh"
export LOTRACE PUBLIC
tmp=$(mktemp -d); trap 'kill $filters 2>/dev/null; wait; rm -rf "$tmp"' EXIT
filters=
HERE=$(cd "$(dirname "$0")" && pwd)
IRC=$PUBLIC/irc-353.pcap
RESP=$PUBLIC/resp_1_benchmark.pcap
ECHO=$PUBLIC/echo-connections.pcap.gz
# three Ethernet captures of one recording session (mergecap -F pcap needs
# one link type; captures years apart would be a time jump, see cli.sh)
M1=$REPO/captures/busy-mixed.pcap M2=$REPO/captures/port-reuse.pcap M3=$REPO/captures/refused-v6.pcap

# Filter expressions against tshark's display filters, on every capture but
# the 82582-frame one: the longest check, so it runs beside the others
# (its lines are shown with the selection checks below).
caps=$(ls "$PUBLIC"/*.pcap "$PUBLIC"/*.pcapng "$REPO"/captures/*.pcap 2>/dev/null)
# shellcheck disable=SC2086
python3 "$HERE/tcpdump/filter_vs_tshark.py" "$LOTRACE" $caps >"$tmp/filters.out" 2>&1 &
filters=$!

# conns FILE: the connection records of a --json run, without the
# summary (which names the input), one per line, sorted
conns() { grep '"type":"connection"' "$1" | sort; }

# ---- input: stdin, pipes, FIFOs, gzip without seeking --------------------
"$LOTRACE" -r "$IRC" --json >"$tmp/file.json"
cat "$IRC" | "$LOTRACE" -r - --json >"$tmp/stdin.json"
[ -s "$tmp/file.json" ] && [ "$(conns "$tmp/file.json")" = "$(conns "$tmp/stdin.json")" ] &&
	ok "cat F | lotrace -r - = lotrace -r F" || fail "stdin" "connections differ"
"$LOTRACE" -r <(cat "$IRC") --json >"$tmp/procsub.json"
[ "$(conns "$tmp/file.json")" = "$(conns "$tmp/procsub.json")" ] &&
	ok "process substitution <(cat F)" || fail "process substitution" "connections differ"
mkfifo "$tmp/fifo"
cat "$IRC" >"$tmp/fifo" &
"$LOTRACE" -r "$tmp/fifo" --json >"$tmp/fifo.json"
wait $!
[ "$(conns "$tmp/file.json")" = "$(conns "$tmp/fifo.json")" ] && ok "a FIFO" || fail "FIFO" "connections differ"
"$LOTRACE" -r "$ECHO" --json >"$tmp/gz.json"
gzip -dc "$ECHO" | gzip -c | "$LOTRACE" -r - --json >"$tmp/gzpipe.json"
[ "$(conns "$tmp/gz.json" | wc -l)" = 500 ] && [ "$(conns "$tmp/gz.json")" = "$(conns "$tmp/gzpipe.json")" ] &&
	ok "gzip through a pipe (500 connections)" || fail "gzip pipe" "connections differ"

# ---- failures: one line on stderr, exit 1 --------------------------------
one_line() { # one_line NAME WANT_STATUS PATTERN STATUS ERRFILE
	local lines; lines=$(grep -c . "$5")
	if [ "$4" = "$2" ] && [ "$lines" = 1 ] && grep -qE "$3" "$5"; then ok "$1"
	else fail "$1" "exit $4 (want $2), $lines stderr lines: $(head -c 300 "$5")"; fi
}
python3 - "$IRC" "$tmp" <<'PY'
import gzip, struct, sys, zlib
data = open(sys.argv[1], "rb").read()
tmp = sys.argv[2]
# record boundaries of this little-endian pcap
off, ends = 24, []
while off < len(data):
    off += 16 + struct.unpack("<I", data[off + 8:off + 12])[0]
    ends.append(off)
# cut on a record boundary: a deflate stream flushed there, no trailer
c = zlib.compressobj(6, zlib.DEFLATED, 31)
open(tmp + "/cut-boundary.pcap.gz", "wb").write(
    c.compress(data[:ends[5]]) + c.flush(zlib.Z_SYNC_FLUSH))
# a flipped byte inside the deflate stream
g = bytearray(gzip.compress(data))
g[len(g) // 2] ^= 0xFF
open(tmp + "/corrupt.pcap.gz", "wb").write(bytes(g))
PY
"$LOTRACE" -r "$tmp/cut-boundary.pcap.gz" >"$tmp/out" 2>"$tmp/err"
one_line "gzip cut on a record boundary: exit 1" 1 "ends early: gzip data ends before its trailer" $? "$tmp/err"
"$LOTRACE" -r - <"$tmp/cut-boundary.pcap.gz" >"$tmp/out" 2>"$tmp/err"
one_line "the same, through stdin" 1 "gzip data ends before its trailer" $? "$tmp/err"
"$LOTRACE" -r "$tmp/corrupt.pcap.gz" >"$tmp/out" 2>"$tmp/err"
one_line "corrupt gzip: zlib's reason, not a stale errno" 1 "gzip data is corrupt \(.*(check|distance|code|block|length).*\)" $? "$tmp/err"
grep -q "Success" "$tmp/err" && fail "corrupt gzip" "says Success"
"$LOTRACE" -r - </dev/null >"$tmp/out" 2>"$tmp/err"
one_line "empty stdin" 1 "cannot read capture '-'" $? "$tmp/err"
"$LOTRACE" -r "$tmp/none-*.pcap" >"$tmp/out" 2>"$tmp/err"
one_line "a glob that matches nothing" 1 "no file matches" $? "$tmp/err"

# modify-request.pcapng: interfaces with different snap lengths; the fix
# the message names must work
MR=$PUBLIC/modify-request.pcapng
"$LOTRACE" -r "$MR" >"$tmp/out" 2>"$tmp/err"
one_line "pcapng libpcap cannot read: names a fix" 1 "editcap -F pcap" $? "$tmp/err"
fix=$(grep -o "'editcap [^']*'" "$tmp/err" | tr -d "'" | sed "s| out.pcap| $tmp/fixed.pcap|")
if [ -n "$fix" ] && $fix >/dev/null 2>&1 && "$LOTRACE" -r "$tmp/fixed.pcap" --json >"$tmp/fixed.json" &&
	[ "$(conns "$tmp/fixed.json" | wc -l)" -ge 1 ]; then
	ok "the named fix works: $fix"
else fail "the named fix" "'$fix' did not give a readable capture"; fi

# ---- several files: merged by time, like mergecap ------------------------
"$LOTRACE" -r "$M1" -r "$M2" -r "$M3" --json >"$tmp/merged.json"
mergecap -F pcap -w "$tmp/mergecap.pcap" "$M1" "$M2" "$M3"
"$LOTRACE" -r "$tmp/mergecap.pcap" --json >"$tmp/mergecap.json"
n=$(conns "$tmp/merged.json" | wc -l)
[ "$n" -gt 50 ] && [ "$(conns "$tmp/merged.json")" = "$(conns "$tmp/mergecap.json")" ] &&
	ok "-r A -r B -r C = lotrace on mergecap's merge ($n connections, same ids)" ||
	fail "-r A -r B -r C" "differs from mergecap's merge"
python3 - "$M1" "$M2" "$M3" <<'PY' && ok "-r A -r B -r C = the union of the three runs, by time" || fail "merge union" "see above"
import json, subprocess, sys, os
lt = os.environ["LOTRACE"]
def recs(*args):
    out = subprocess.run([lt, *args, "--json"], capture_output=True, text=True).stdout
    return [json.loads(l) for l in out.splitlines() if '"type":"connection"' in l]
key = lambda r: (r["start_ns"], r["client"], r["server"], r["verdict"], r["history"])
union = sorted(key(r) for f in sys.argv[1:] for r in recs("-r", f))
merged = sorted(key(r) for r in recs(*[a for f in sys.argv[1:] for a in ("-r", f)]))
if union != merged:
    print("union %d, merged %d" % (len(union), len(merged)))
    sys.exit(1)
PY
grep '"type":"summary"' "$tmp/merged.json" | grep -q "busy-mixed.pcap + .*port-reuse.pcap + .*refused-v6.pcap" &&
	ok "the merged run names every file" || fail "merged run" "summary input does not name every file"
"$LOTRACE" -r "$M1" -r "$M2" -r "$M3" -w "$tmp/merged.pcap" >/dev/null 2>&1
[ "$(tshark -r "$tmp/merged.pcap" -x 2>/dev/null | md5sum)" = "$(tshark -r "$tmp/mergecap.pcap" -x 2>/dev/null | md5sum)" ] &&
	ok "-w of a merge: mergecap's packets, in mergecap's order" || fail "-w merge" "differs from mergecap"
# files of different snap lengths: the merge's header has the largest, as
# mergecap's (the first packet is from the 80-byte one)
editcap -F pcap -s 80 "$M2" "$tmp/snap80.pcap"
"$LOTRACE" -r "$tmp/snap80.pcap" -r "$M1" -w "$tmp/snapmix.pcap" >/dev/null 2>&1
mergecap -F pcap -w "$tmp/snapmix-mergecap.pcap" "$tmp/snap80.pcap" "$M1"
got=$(capinfos -l -T -r "$tmp/snapmix.pcap" | cut -f2) want=$(capinfos -l -T -r "$tmp/snapmix-mergecap.pcap" | cut -f2)
[ "$want" = 262144 ] && [ "$got" = "$want" ] &&
	[ "$(tshark -r "$tmp/snapmix.pcap" -x 2>/dev/null | md5sum)" = "$(tshark -r "$tmp/snapmix-mergecap.pcap" -x 2>/dev/null | md5sum)" ] &&
	ok "-w of a merge of snap lengths 80 and 262144: header snap length $got, mergecap's packets" ||
	fail "-w merge snap length" "header says $got, mergecap's $want"
mkdir "$tmp/dir" && cp "$IRC" "$RESP" "$tmp/dir/"
"$LOTRACE" -r "$tmp/dir/*.pcap" --json >"$tmp/glob.json"
"$LOTRACE" -r "$tmp/dir/irc-353.pcap" -r "$tmp/dir/resp_1_benchmark.pcap" --json >"$tmp/two.json"
[ "$(conns "$tmp/glob.json")" = "$(conns "$tmp/two.json")" ] && ok "-r 'dir/*.pcap' (a quoted glob)" ||
	fail "-r glob" "differs from naming the files"

# ---- selection: filter expressions and port ranges ------------------------
# (filter_vs_tshark.py has run meanwhile, see the top)
wait "$filters"
grep -v '^skip' "$tmp/filters.out"
"$LOTRACE" -r "$IRC" 'tcp port 6666 and' >"$tmp/out" 2>"$tmp/err"
one_line "bad filter expression: libpcap's reason, exit 2" 2 "invalid filter expression 'tcp port 6666 and': .*syntax error" $? "$tmp/err"
"$LOTRACE" -r "$IRC" --port 6660-6670 --json >"$tmp/range.json"
"$LOTRACE" -r "$IRC" --port 6666 --json >"$tmp/single.json"
[ "$(conns "$tmp/range.json" | wc -l)" = 2 ] && [ "$(conns "$tmp/range.json")" = "$(conns "$tmp/single.json")" ] &&
	ok "--port 6660-6670 = --port 6666 on irc-353" || fail "port range" "differs"
for bad in 619009 5-3 1- 1-70000 -1; do
	"$LOTRACE" -r "$IRC" --port "$bad" >"$tmp/out" 2>"$tmp/err"
	one_line "--port '$bad' rejected" 2 "invalid port" $? "$tmp/err"
done

# ---- -w: the packets as they were ------------------------------------------
for c in "$IRC" "$RESP" "$M1" "$PUBLIC/tcp-syslog.pcap" "$PUBLIC/DERIVED-irc-353-dlt_loop.pcap"; do
	name=$(basename "$c")
	"$LOTRACE" -r "$c" -w "$tmp/w.pcap" >/dev/null 2>"$tmp/err"
	if [ "$(tshark -r "$c" -x 2>/dev/null | md5sum)" = "$(tshark -r "$tmp/w.pcap" -x 2>/dev/null | md5sum)" ] &&
		[ "$(capinfos -l -E -T "$c" | tail -1 | cut -f2-)" = "$(capinfos -l -E -T "$tmp/w.pcap" | tail -1 | cut -f2-)" ]; then
		ok "-w $name: same packet bytes (tshark -x), snap length and link type"
	else fail "-w $name" "differs from the input: $(cat "$tmp/err")"; fi
done
# with a selection: the packets tcpdump selects with the same expression
"$LOTRACE" -r "$IRC" -w "$tmp/sel.pcap" 'ip6' >/dev/null
tcpdump -r "$IRC" -w "$tmp/tcpdump-sel.pcap" 'ip6' 2>/dev/null
[ "$(tshark -r "$tmp/sel.pcap" -x 2>/dev/null | md5sum)" = "$(tshark -r "$tmp/tcpdump-sel.pcap" -x 2>/dev/null | md5sum)" ] &&
	[ "$(tshark -r "$tmp/sel.pcap" 2>/dev/null | wc -l)" = 2 ] &&
	ok "-w with 'ip6': the packets tcpdump selects" || fail "-w with a filter" "differs from tcpdump's"
"$LOTRACE" -r "$RESP" --port 6379 -w "$tmp/port.pcap" >/dev/null
tcpdump -r "$RESP" -w "$tmp/tcpdump-port.pcap" 'tcp port 6379' 2>/dev/null
[ "$(tshark -r "$tmp/port.pcap" -x 2>/dev/null | md5sum)" = "$(tshark -r "$tmp/tcpdump-port.pcap" -x 2>/dev/null | md5sum)" ] &&
	ok "-w with --port: the packets 'tcp port N' selects" || fail "-w with --port" "differs from tcpdump's"

# -w -: packets on stdout, connection lines on stderr
"$LOTRACE" -r "$IRC" -w - 2>"$tmp/lines" | tshark -r - -x 2>/dev/null >"$tmp/tshark-stdin"
[ "$(md5sum <"$tmp/tshark-stdin")" = "$(tshark -r "$IRC" -x 2>/dev/null | md5sum)" ] &&
	[ "$(grep -c ' -> ' "$tmp/lines")" = 2 ] &&
	ok "-w - | tshark -r -: the packets, and the lines on stderr" || fail "-w -" "tshark or stderr differ"
"$LOTRACE" -r "$IRC" -w - 2>/dev/null | "$LOTRACE" -r - --json >"$tmp/rw.json"
[ "$(conns "$tmp/rw.json")" = "$(conns "$tmp/file.json")" ] && ok "lotrace -w - | lotrace -r -" || fail "-w - | -r -" "differs"

# ---- -w FILE.pcapng: the packets plus a verdict comment per connection -----
for c in "$IRC" "$ECHO" "$PUBLIC/start-with-server.pcapng" "$RESP"; do
	name=$(basename "$c")
	"$LOTRACE" -r "$c" --json -w "$tmp/v.pcapng" >"$tmp/v.json" 2>"$tmp/err"
	tshark -r "$tmp/v.pcapng" -Y frame.comment -T fields -e frame.comment >"$tmp/comments" 2>/dev/null
	if [ "$(tshark -r "$c" -x 2>/dev/null | md5sum)" = "$(tshark -r "$tmp/v.pcapng" -x 2>/dev/null | md5sum)" ] &&
		python3 - "$tmp/v.json" "$tmp/comments" <<'PY'
import json, re, sys
want = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["type"] == "connection":
        want[r["id"]] = r["verdict"]
first = {}
for c in open(sys.argv[2]):
    m = re.match(r"lotrace conn #(\d+) (first packet|first and last packet): verdict (\S+);", c)
    if m:
        first[int(m.group(1))] = m.group(3)
if first != want:
    print("comments %s, want %s" % (list(first.items())[:3], list(want.items())[:3]))
    sys.exit(1)
PY
	then ok "-w $name.pcapng: same bytes, one first-packet comment per connection naming its verdict"
	else fail "-w $name.pcapng" "$(head -c 300 "$tmp/err")"; fi
done
last=$(grep -c "last packet: verdict" "$tmp/comments")
[ "$last" -gt 0 ] && ok "pcapng: last packets are commented too ($last)" || fail "pcapng last" "none"

# -w onto the capture being read: refused before anything is truncated
cp "$IRC" "$tmp/self.pcap"
"$LOTRACE" -r "$tmp/self.pcap" -w "$tmp/self.pcap" >"$tmp/out" 2>"$tmp/err"
one_line "-w onto the -r file is refused" 1 "refusing to write .*being read" $? "$tmp/err"
cmp -s "$IRC" "$tmp/self.pcap" && ok "... and the capture is untouched" || fail "-w onto -r" "the capture changed"
# several files of different link types: pcap refuses the others (said, exit 1), pcapng keeps all
"$LOTRACE" -r "$IRC" -r "$RESP" -w "$tmp/mixed.pcap" >"$tmp/out" 2>"$tmp/err"
one_line "-w pcap with two link types: says pcapng holds them" 1 "another link type were not written.*pcapng" $? "$tmp/err"
"$LOTRACE" -r "$IRC" -r "$RESP" -w "$tmp/mixed.pcapng" >/dev/null 2>&1
[ "$(tshark -r "$tmp/mixed.pcapng" 2>/dev/null | wc -l)" = 162 ] && ok "-w pcapng with two link types: all 162 packets" ||
	fail "-w pcapng mixed" "tshark reads $(tshark -r "$tmp/mixed.pcapng" 2>/dev/null | wc -l) packets"
# -w - on a terminal: refused (one line), and never the full-screen view
script -qec "$LOTRACE -r $IRC -w -" /dev/null >"$tmp/tty.out" 2>&1
st=$?
[ $st = 1 ] && grep -q "refusing to write packets to a terminal" "$tmp/tty.out" && [ "$(grep -c . "$tmp/tty.out")" = 1 ] &&
	ok "-w - on a terminal is refused" || fail "-w - on a terminal" "exit $st: $(head -c 200 "$tmp/tty.out")"
"$LOTRACE" -r "$IRC" -w - --tui >"$tmp/out" 2>"$tmp/err"
one_line "-w - with --tui: usage error" 2 "cannot be used together" $? "$tmp/err"
