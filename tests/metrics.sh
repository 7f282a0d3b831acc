#!/bin/bash
# metrics.sh - Prometheus metrics and the long-running service outputs,
# checked by the real consumers: Prometheus, promtool, node_exporter.
#
# Replay part (no root): --metrics-file after a replay holds the same
# counts by verdict as the JSON summary, and promtool accepts it; a bad
# --metrics / --metrics-file is one line and exit 1 or 2.
# Live part (root; run it under the live lock): a real Prometheus scrapes
# a live `lotrace --metrics 127.0.0.1:PORT` while lt_peer makes refused,
# clean and reset connections; Prometheus's /api/v1/query answers the
# same counts by verdict as lotrace's own summary; node_exporter's
# textfile collector shows the same series; SIGHUP reopens the --json
# file after a rename and no connection is lost; without --metrics no
# port is opened. Every process and temp dir goes away, even on failure.
. "$(dirname "$0")/lib.sh"
PEER=${PEER:-$REPO/build/tools/lt_peer}
LT_ARGS=${LT_ARGS:-} # e.g. --backend pcap
tmp=$(mktemp -d /tmp/lotrace-metrics.XXXXXX)
# lotrace as root becomes nobody once its files are open (-Z): the files it
# replaces or reopens later (--metrics-file, SIGHUP) need a directory nobody
# can write to, as a service's would (lotrace(8), PRIVILEGES)
[ "$(id -u)" = 0 ] && chown nobody: "$tmp"
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# the series NAME of an exposition, labels sorted (node_exporter sorts them)
series() {
	python3 -c '
import re, sys
for line in open(sys.argv[2]):
    m = re.match(r"(\w+)\{(.*)\} (\S+)$", line)
    if m and m.group(1) == sys.argv[1]:
        labels = sorted(re.findall(r"(\w+)=\"([^\"]*)\"", m.group(2)))
        print(m.group(1), labels, float(m.group(3)))' "$1" "$2" | sort
}
# verdict counts of a summary record, "closed=4 refused=3 ...", sorted
summary_counts() {
	python3 -c '
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d.get("type") == "summary":
        print(" ".join(sorted(f"{k}={v}" for k, v in d["total"]["verdicts"].items() if v)))' "$1"
}
# the same from an exposition: lotrace_connections_total summed by verdict
text_counts() {
	python3 -c '
import re, sys, collections
c = collections.Counter()
for line in open(sys.argv[1]):
    m = re.match(r"(?:\w+\.)?lotrace_connections_total\{.*verdict=\"([^\"]+)\".*\} (\S+)$", line)
    if m:
        c[m.group(1)] += int(float(m.group(2)))
print(" ".join(sorted(f"{k}={v}" for k, v in c.items() if v)))' "$1"
}

# ---- replay ---------------------------------------------------------------
cap=$REPO/captures/busy-mixed.pcap
if "$LOTRACE" -r "$cap" --json --metrics-file "$tmp/replay.prom" >"$tmp/replay.json" 2>"$tmp/err"; then
	want=$(summary_counts "$tmp/replay.json") got=$(text_counts "$tmp/replay.prom")
	if [ -n "$want" ] && [ "$want" = "$got" ]; then
		ok "replay: --metrics-file counts by verdict equal the summary ($want)"
	else
		fail "replay: --metrics-file counts" "summary '$want', metrics '$got'"
	fi
	if out=$(promtool check metrics <"$tmp/replay.prom" 2>&1); then
		ok "replay: promtool check metrics accepts the file"
	else
		fail "replay: promtool check metrics" "$out"
	fi
	[ -z "$(ls "$tmp" | grep '\.tmp\.')" ] && ok "replay: no temp file left next to the metrics file" ||
		fail "replay: temp file left" "$(ls "$tmp")"
else
	fail "replay: lotrace -r --metrics-file" "$(cat "$tmp/err")"
fi
"$LOTRACE" -r "$cap" --json --metrics-file /nonexistent-dir/x.prom >/dev/null 2>"$tmp/err"
rc=$? msg=$(cat "$tmp/err")
if [ $rc = 1 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q "cannot write --metrics-file '/nonexistent-dir/x.prom'.*; choose" "$tmp/err"; then
	ok "unwritable --metrics-file: exit 1, one line naming the file and the fix"
else
	fail "unwritable --metrics-file" "exit $rc: $msg"
fi
"$LOTRACE" -r "$cap" --json="$tmp/r.json" >"$tmp/stdout" 2>"$tmp/err"
rc=$?
if [ $rc = 0 ] && [ ! -s "$tmp/stdout" ] && cmp -s "$tmp/r.json" "$tmp/replay.json"; then
	ok "--json=FILE: the same records as --json on stdout, nothing on stdout"
else
	fail "--json=FILE" "exit $rc, stdout $(wc -c <"$tmp/stdout") bytes, $(cat "$tmp/err")"
fi
"$LOTRACE" -r "$cap" --json /nonexistent-dir/x.json >/dev/null 2>"$tmp/err"
rc=$?
if [ $rc = 1 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q "cannot open '/nonexistent-dir/x.json' for --json: No such file or directory; choose" "$tmp/err"; then
	ok "--json FILE in a missing directory: exit 1, one line with the fix"
else
	fail "--json FILE unwritable" "exit $rc: $(cat "$tmp/err")"
fi
for bad in 70000 localhost:9464 1.2.3:80 "[::1]9464" ""; do
	"$LOTRACE" -r "$cap" --metrics "$bad" >/dev/null 2>"$tmp/err"
	rc=$?
	if [ $rc = 2 ] && grep -qF "lotrace: invalid --metrics '$bad'" "$tmp/err"; then
		ok "--metrics '$bad' is a usage error"
	else
		fail "--metrics '$bad'" "exit $rc: $(cat "$tmp/err")"
	fi
done

# ---- live -----------------------------------------------------------------
if [ "$(id -u)" != 0 ]; then
	echo "SKIP live metrics: needs root"
	exit 0
fi
for t in prometheus promtool prometheus-node-exporter curl; do
	command -v $t >/dev/null || { fail "live metrics" "$t is missing: make deps installs it"; exit 0; }
done
P_REF=61951 P_CLEAN=61952 P_RST=61953
MP=$(free_port) PP=$(free_port) NP=$(free_port)

# without --metrics, lotrace listens on nothing
"$LOTRACE" --no-tui -p $P_REF --duration 20s >"$tmp/hup.out" 2>&1 & lt0=$!
pids+=($lt0)
sleep 1.5
if ss -ltnpH | grep -q "pid=$lt0,"; then
	fail "no port opened by default" "$(ss -ltnpH | grep "pid=$lt0,")"
else
	ok "no port opened by default (ss -ltnp shows no socket of lotrace)"
fi
# without output files, SIGHUP still stops lotrace (a closed terminal)
kill -HUP $lt0
for i in $(seq 30); do kill -0 $lt0 2>/dev/null || break; sleep 0.1; done
if kill -0 $lt0 2>/dev/null; then
	fail "SIGHUP without output files stops lotrace" "still running 3 s later"
	kill $lt0
else
	wait $lt0
	rc=$?
	[ $rc = 0 ] && grep -q "interrupted\|connections" "$tmp/hup.out" &&
		ok "SIGHUP without output files stops lotrace (exit 0, summary written)" ||
		fail "SIGHUP without output files" "exit $rc: $(tail -2 "$tmp/hup.out")"
fi

"$PEER" serve --addr 127.0.0.1 --port $P_CLEAN --mode reply >/dev/null & pids+=($!)
"$PEER" serve --addr 127.0.0.1 --port $P_RST --mode reset-after-request >/dev/null & pids+=($!)
mkdir -p "$tmp/textfile" && chown nobody: "$tmp/textfile"
"$LOTRACE" $LT_ARGS --no-tui -p $P_REF,$P_CLEAN,$P_RST --json "$tmp/conns.json" -w "$tmp/cap.pcap" \
	--metrics 127.0.0.1:$MP --metrics-file "$tmp/textfile/lotrace.prom" \
	--metrics-interval 1s 2>"$tmp/lt.err" & LT=$!
pids+=($LT)

cat >"$tmp/prom.yml" <<EOC
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: lotrace
    static_configs:
      - targets: ['127.0.0.1:$MP']
EOC
prometheus --config.file="$tmp/prom.yml" --storage.tsdb.path="$tmp/tsdb" \
	--web.listen-address=127.0.0.1:$PP >"$tmp/prom.log" 2>&1 & pids+=($!)
prometheus-node-exporter --web.listen-address=127.0.0.1:$NP --collector.disable-defaults \
	--collector.textfile --collector.textfile.directory="$tmp/textfile" >"$tmp/ne.log" 2>&1 & pids+=($!)

for i in $(seq 50); do
	curl -sf "http://127.0.0.1:$MP/metrics" >/dev/null && break
	sleep 0.2
done
curl -sf "http://127.0.0.1:$MP/metrics" >/dev/null ||
	{ fail "live: lotrace --metrics answers" "$(cat "$tmp/lt.err")"; exit 0; }

# before the rotation: 3 refused, 4 clean, 2 reset
"$PEER" connect --addr 127.0.0.1 --port $P_REF --count 3 >/dev/null
"$PEER" connect --addr 127.0.0.1 --port $P_CLEAN --send 10 --expect-reply --count 4 >/dev/null
"$PEER" connect --addr 127.0.0.1 --port $P_RST --send 10 --expect-reply --count 2 >/dev/null
sleep 3 # ended connections leave the table a second after their last packet
mv "$tmp/conns.json" "$tmp/conns.json.1"
mv "$tmp/cap.pcap" "$tmp/cap.pcap.1"
kill -HUP $LT
sleep 0.5
# after: 2 refused, 1 clean, 1 reset
"$PEER" connect --addr 127.0.0.1 --port $P_REF --count 2 >/dev/null
"$PEER" connect --addr 127.0.0.1 --port $P_CLEAN --send 10 --expect-reply --count 1 >/dev/null
"$PEER" connect --addr 127.0.0.1 --port $P_RST --send 10 --expect-reply --count 1 >/dev/null
sleep 3

# two scrapes after the traffic settled
q() { curl -sf "http://127.0.0.1:$PP/api/v1/query" --data-urlencode "query=$1"; }
n0=$(q 'count_over_time(up{job="lotrace"}[1h])' |
	python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)')
for i in $(seq 60); do
	n=$(q 'count_over_time(up{job="lotrace"}[1h])' |
		python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)')
	[ "${n:-0}" -ge $((n0 + 2)) ] && break
	sleep 0.5
done
up=$(q 'up{job="lotrace"}' | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")')
[ "$up" = 1 ] && ok "live: Prometheus scrapes lotrace (up=1, $n scrapes)" ||
	fail "live: Prometheus scrapes lotrace" "up=$up; $(tail -3 "$tmp/prom.log")"
prom=$(q 'sum by (verdict) (lotrace_connections_total)' | python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(" ".join(sorted("%s=%d" % (x["metric"]["verdict"], int(float(x["value"][1])))
                      for x in r if float(x["value"][1]))))')
curl -sf "http://127.0.0.1:$MP/metrics" >"$tmp/scraped.txt"
if out=$(promtool check metrics <"$tmp/scraped.txt" 2>&1); then
	ok "live: promtool check metrics accepts the scraped text"
else
	fail "live: promtool check metrics" "$out"
fi
curl -sf "http://127.0.0.1:$NP/metrics" >"$tmp/ne.txt"
series lotrace_connections_total "$tmp/scraped.txt" >"$tmp/a"
series lotrace_connections_total "$tmp/ne.txt" >"$tmp/b"
if [ -s "$tmp/a" ] && cmp -s "$tmp/a" "$tmp/b"; then
	ok "live: node_exporter's textfile collector shows the same lotrace_connections_total series ($(wc -l <"$tmp/a"))"
else
	fail "live: node_exporter textfile" "$(diff "$tmp/a" "$tmp/b" | head -5)"
fi
grep -q '^lotrace_build_info{' "$tmp/ne.txt" &&
	grep -q '^lotrace_listening{address="127.0.0.1",port="'$P_CLEAN'"} 1' "$tmp/ne.txt" &&
	ok "live: node_exporter also shows lotrace_build_info and lotrace_listening" ||
	fail "live: node_exporter series" "$(grep '^lotrace_\(build\|listening\)' "$tmp/ne.txt")"

if grep -q '^lotrace_build_info{.*backend="ebpf"' "$tmp/scraped.txt"; then
	rr=$(sed -n 's/^lotrace_source_total{name="records_read",problem="0"} //p' "$tmp/scraped.txt")
	mf=$(sed -n 's/^lotrace_source_total{name="map_full",problem="1"} //p' "$tmp/scraped.txt")
	[ "${rr:-0}" -gt 0 ] && [ "$mf" = 0 ] &&
		ok "live: the eBPF source's counters are series (records_read $rr, map_full $mf)" ||
		fail "live: lotrace_source_total" "records_read '$rr' map_full '$mf'"
fi

kill -INT $LT
wait $LT
rc=$?
[ $rc = 0 ] && ok "live: lotrace exits 0 on SIGINT" || fail "live: lotrace exit" "$rc: $(cat "$tmp/lt.err")"
want=$(summary_counts "$tmp/conns.json")
if [ "$want" = "closed=5 refused=5 reset-by-server=3" ] && [ "$prom" = "$want" ]; then
	ok "live: Prometheus's counts by verdict equal lotrace's summary ($want)"
else
	fail "live: Prometheus vs summary" "Prometheus '$prom', summary '$want', made closed=5 refused=5 reset-by-server=3"
fi
old=$(grep -c '"type":"connection"' "$tmp/conns.json.1") new=$(grep -c '"type":"connection"' "$tmp/conns.json")
if [ "$old" = 9 ] && [ "$new" = 4 ]; then
	ok "live: SIGHUP reopened --json: 9 connections in the renamed file, the 4 later ones in the new file, none lost"
else
	fail "live: SIGHUP reopen" "renamed file $old connections (want 9), new file $new (want 4)"
fi
syns() { tcpdump -nr "$1" 'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn' 2>/dev/null | wc -l; }
old=$(syns "$tmp/cap.pcap.1") new=$(syns "$tmp/cap.pcap")
if [ "$old" = 9 ] && [ "$new" = 4 ]; then
	ok "live: SIGHUP reopened -w: 9 SYNs in the renamed capture, the 4 later ones in the new one"
else
	fail "live: SIGHUP reopen of -w" "renamed capture $old SYNs (want 9), new $new (want 4)"
fi
grep -q '"type":"summary"' "$tmp/conns.json" && ok "live: the summary went to the new file" ||
	fail "live: summary in the new file" "$(tail -1 "$tmp/conns.json")"

# a port already in use: one line, exit 1
"$LOTRACE" --no-tui -p $P_REF --metrics 127.0.0.1:$PP --duration 1s >/dev/null 2>"$tmp/err"
rc=$?
if [ $rc = 1 ] && grep -q "^lotrace: cannot listen on '127.0.0.1:$PP' for --metrics: Address already in use; pick another port" "$tmp/err"; then
	ok "live: --metrics on a busy port: exit 1, one line with the fix"
else
	fail "live: --metrics on a busy port" "exit $rc: $(cat "$tmp/err")"
fi
