#!/bin/bash
# output.sh - connection lines people can scan, and records tools can read
# (issue 10, output side), on the scenario captures:
#   aligned columns for IPv4 and IPv6; -t/-tt/-ttt/-tttt/-ttttt as tcpdump;
#   the date when the capture is not from today or spans days; -n; -q;
#   --sort start; the stream index (= tshark's tcp.stream, the cross-check
#   compares it with the truth files) in text and JSON; schema_version;
#   --format zeek (conn.log JSON lines).
# Each check compares what lotrace prints with lotrace's own JSON or with
# the capture (timestamps from editcap/capinfos), never a fixed string.
. "$(dirname "$0")/lib.sh"
cd "$REPO" || exit 1
work=$(mktemp -d /tmp/lotrace-output.XXXXXX)
trap 'rm -rf "$work"' EXIT
LT=$LOTRACE
MIX=captures/v6-listener-v4-client.pcap   # an IPv4 and an IPv6 connection
BUSY=captures/busy-mixed.pcap

# run NAME ARGS...: lotrace's stdout to $work/NAME, its status to $work/NAME.rc
run() { local n=$1; shift; "$LT" "$@" > "$work/$n" 2> "$work/$n.err"; echo $? > "$work/$n.rc"; }

# -- alignment: " -> " and the verdict start in the same column, v4 and v6
run mix -r "$MIX"
cols=$(grep ' -> ' "$work/mix" | awk '{ print index($0, " -> ") " " match($0, /(refused|closed) /) }' | sort -u)
if [ "$(grep -cE '\[::1\]|127\.0\.0\.1' "$work/mix")" -ge 2 ] && [ "$(echo "$cols" | wc -l)" = 1 ]; then
	ok "IPv4 and IPv6 lines: arrow and verdict in the same columns ($cols)"
else
	fail "IPv4 and IPv6 lines aligned" "columns differ: $(echo $cols)"; fi

# -- the checks that need lotrace's JSON beside its text
run busy.json -r "$BUSY" --json
for m in t tt ttt tttt ttttt; do run "busy.$m" -r "$BUSY" "-$m"; done
run busy.default -r "$BUSY"
run busy.n -r "$BUSY" -n
run busy.sorted.json -r "$BUSY" --json --sort start
run busy.sorted.tt -r "$BUSY" --sort start -tt
run busy.q -r "$BUSY" -q
run busy.qj -r "$BUSY" -q --json
run busy.zeek -r "$BUSY" --format zeek
run busy.zeek.sorted -r "$BUSY" --format zeek --sort start
python3 - "$work" <<'PY'
import json, os, re, sys, time, calendar
w = sys.argv[1]
def ok(n): print(f"ok   {n}")
def fail(n, why): print(f"FAIL {n}: {why}")
def lines(n): return [l for l in open(os.path.join(w, n)).read().splitlines()]
def conn_lines(n): return [l for l in lines(n) if " -> " in l]
def rc(n): return int(open(os.path.join(w, n + ".rc")).read())
recs = [json.loads(l) for l in lines("busy.json")]
conns = [r for r in recs if r["type"] == "connection"]
summ = [r for r in recs if r["type"] == "summary"]

def check(name, cond, why):
    ok(name) if cond else fail(name, why)

def us(ns): return ns // 1000
def hms(delta_us):
    s = "-" if delta_us < 0 else ""
    d = abs(delta_us)
    sec, u = divmod(d, 1000000)
    return f"{s}{sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}.{u:06d}"

check("every JSON record has schema_version", all(isinstance(r.get("schema_version"), int) for r in recs),
      "missing in " + str([r["type"] for r in recs if "schema_version" not in r]))
check("JSON: one stream index per connection, distinct", len({c["stream"] for c in conns}) == len(conns) > 0,
      str([c.get("stream") for c in conns]))

# text lines are in the same order as JSON records: time and stream per line
for m, want in (("tt", lambda c, i: f"{c['start_ns'] // 10**9}.{us(c['start_ns']) % 10**6:06d}"),
                ("tttt", lambda c, i: time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(c["start_ns"] // 10**9)) + f".{us(c['start_ns']) % 10**6:06d}"),
                ("ttt", lambda c, i: hms(us(c["start_ns"]) - us(conns[i - 1]["start_ns"]) if i else 0)),
                ("ttttt", lambda c, i: hms(us(c["start_ns"]) - us(conns[0]["start_ns"])))):
    got = conn_lines(f"busy.{m}")
    bad = [(g, want(c, i)) for i, (g, c) in enumerate(zip(got, conns)) if not g.startswith(want(c, i) + "  ")]
    check(f"-{m}: each line starts with its time as tcpdump -{m} prints it",
          len(got) == len(conns) and not bad, f"{len(got)} lines for {len(conns)} connections; first mismatch {bad[:1]}")
t = conn_lines("busy.t")
check("-t: lines start with the client endpoint",
      len(t) == len(conns) and all(l.startswith(c["client"]) for l, c in zip(t, conns)), t[:1])
d = conn_lines("busy.default")
check("default: a capture from another day shows the date",
      all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}  ", l) for l in d) and d, d[:1])
streams = [int(re.search(r"  stream=(\d+)$", l).group(1)) if re.search(r"  stream=(\d+)$", l) else None for l in d]
check("text: each line ends with the stream index of its JSON record",
      streams == [c["stream"] for c in conns], f"text {streams}, json {[c['stream'] for c in conns]}")
check("-n changes nothing (names are never resolved)", lines("busy.n") == lines("busy.default"), "output differs")

srt = [json.loads(l) for l in lines("busy.sorted.json")]
sc = [r for r in srt if r["type"] == "connection"]
check("--sort start: JSON records by first packet, the same records",
      [c["start_ns"] for c in sc] == sorted(c["start_ns"] for c in sc)
      and sorted(json.dumps(c, sort_keys=True) for c in sc) == sorted(json.dumps(c, sort_keys=True) for c in conns)
      and srt[-1]["type"] == "summary",
      str([c["id"] for c in sc]))
check("--sort end (default) is not already sorted on this capture (so the test can fail)",
      [c["id"] for c in conns] != [c["id"] for c in sc], "same order")
ts = [l.split()[0] for l in conn_lines("busy.sorted.tt")]
check("--sort start: text lines by first packet", ts == sorted(ts, key=float) and len(ts) == len(conns), ts)

q = lines("busy.q")
check("-q: no connection line, the summary", not [l for l in q if " -> " in l] and any(l.startswith("port ") for l in q),
      q[:2])
qj = [json.loads(l) for l in lines("busy.qj")]
check("-q --json: only the summary record", [r["type"] for r in qj] == ["summary"], [r["type"] for r in qj])

# Zeek conn.log
z = [json.loads(l) for l in lines("busy.zeek")]
need = {"ts": float, "uid": str, "id.orig_h": str, "id.orig_p": int, "id.resp_h": str, "id.resp_p": int,
        "proto": str, "duration": float, "orig_bytes": int, "resp_bytes": int, "conn_state": str,
        "history": str, "orig_pkts": int, "resp_pkts": int, "lotrace.verdict": str, "lotrace.stream": int}
probs = []
for r, c in zip(z, conns):
    for k, ty in need.items():
        if not isinstance(r.get(k), ty) or isinstance(r.get(k), bool):
            probs.append(f"{k}={r.get(k)!r}")
    if probs:
        break
    want = {"ts": round(c["start_ns"] / 1e9, 6), "id.orig_h": c["client_addr"], "id.orig_p": c["client_port"],
            "id.resp_h": c["server_addr"], "id.resp_p": c["server_port"], "proto": "tcp",
            "duration": round(c["duration_ns"] / 1e9, 6), "orig_bytes": c["c2s"]["bytes"],
            "resp_bytes": c["s2c"]["bytes"], "conn_state": c["zeek_state"], "history": c["history"],
            "orig_pkts": c["c2s"]["packets"], "resp_pkts": c["s2c"]["packets"],
            "lotrace.verdict": c["verdict"], "lotrace.stream": c["stream"]}
    for k, v in want.items():
        if (abs(r[k] - v) > 1e-6) if isinstance(v, float) else r[k] != v:
            probs.append(f"stream {c['stream']} {k}: zeek {r[k]!r}, json {v!r}")
check("--format zeek: conn.log fields, types and units, one line per connection",
      len(z) == len(conns) and not probs, f"{len(z)} lines; {probs[:3]}")
uids = [r.get("uid", "") for r in z]
check("--format zeek: uids unique, Zeek-shaped", len(set(uids)) == len(uids) and all(re.fullmatch(r"C[0-9A-Za-z]{17}", u) for u in uids), uids[:3])
zs = [json.loads(l) for l in lines("busy.zeek.sorted")]
check("--format zeek --sort start: by ts", [r["ts"] for r in zs] == sorted(r["ts"] for r in zs) and len(zs) == len(z), "")
PY

# -- the date: not shown for a capture from today, shown when it spans days
now=$(date +%s)
first=$(capinfos -T -r -a -S "$MIX" 2>/dev/null | awk -F"\t" 'NR == 1 { print int($2) }')
if [ -n "$first" ]; then
	editcap -t $((now - first)) "$MIX" "$work/today.pcap" 2>/dev/null
	editcap -t $((now - first - 86400 * 2)) captures/clean.pcap "$work/past.pcap" 2>/dev/null
	mergecap -w "$work/days.pcap" "$work/today.pcap" "$work/past.pcap" 2>/dev/null
	run today -r "$work/today.pcap"
	run days -r "$work/days.pcap"
	if grep ' -> ' "$work/today" | grep -qvE '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}  '; then
		fail "a capture from today: time of day only" "$(head -1 "$work/today")"
	else ok "a capture from today: time of day only"; fi
	n=$(grep -c ' -> ' "$work/days"); nd=$(grep -cE '^[0-9]{4}-[0-9]{2}-[0-9]{2} ' "$work/days")
	if [ "$n" -ge 2 ] && [ "$n" = "$nd" ]; then ok "a capture over several days: every line dated ($n)"
	else fail "a capture over several days: every line dated" "$nd of $n lines dated"; fi
else
	fail "date checks" "capinfos gave no first packet time for $MIX"
fi

# -- usage errors: one line, exit 2
for args in "--sort start --no-tui" "--sort middle -r $MIX" "-tttttt -r $MIX" "-q --format zeek -r $MIX" "report --format zeek -r $MIX"; do
	# shellcheck disable=SC2086
	"$LT" $args > "$work/u.out" 2> "$work/u.err"; st=$?
	if [ "$st" = 2 ] && [ "$(wc -l < "$work/u.err")" = 1 ] && [ ! -s "$work/u.out" ]; then
		ok "lotrace $args: usage error ($(cut -c1-60 "$work/u.err"))"
	else fail "lotrace $args: usage error" "exit $st, stderr: $(head -2 "$work/u.err")"; fi
done
