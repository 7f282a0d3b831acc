#!/bin/bash
# pipeline.sh - one run lifecycle (userspace/run.c): -w, -c, --duration and
# --report mean the same in headless, report and TUI runs; every write
# error on an output is one line and exit 1; a reader that goes away
# (| head) is a quiet stop; --speed paces a headless replay too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui/tui-lib.sh"
trap tui_cleanup EXIT
tmp=$TUI_TMP
BUSY=$REPO/captures/busy-mixed.pcap     # 60 connections, 395 frames
ECHO=$PUBLIC/echo-connections.pcap.gz  # 500 long connections, 82582 frames

# json_get FILE EXPR: a Python expression over d, the last JSON line of FILE
json_get() { tail -1 "$1" | python3 -c "import json,sys; d=json.load(sys.stdin); print($2)"; }
# pcap_frames FILE: frames tshark reads in FILE
pcap_frames() { tshark -r "$1" 2>/dev/null | wc -l; }

# ---- headless ------------------------------------------------------------
"$LOTRACE" -r "$BUSY" -c 5 -w "$tmp/h.pcap" --report "$tmp/h.json" >"$tmp/h.out" 2>"$tmp/h.err"
st=$?
conns=$(grep -c ' -> ' "$tmp/h.out")
total=$(awk '$1 == "total" { print $2 }' "$tmp/h.out")
check "headless -c 5: five connections, exit 0" "exit $st, $conns lines, total '$total'" \
	test "$st" = 0 -a "$conns" = 5 -a "$total" = 5
check "headless -c 5: the summary says the run was cut" "no 'cut:' line" \
	grep -Eq '^cut: stopped after 5 connections \(-c 5\); [0-9]+ more connections were not reported$' "$tmp/h.out"
check "headless --report: covers the same five" "report connections $(json_get "$tmp/h.json" 'd["run"]["connections"]')" \
	test "$(json_get "$tmp/h.json" 'd["run"]["connections"], d["run"]["cut"] is not None')" = "5 True"
frames=$(sed -n 's/^decode: \([0-9]*\) frames.*/\1/p' "$tmp/h.out")
check "headless -w: every frame read is in the file" "tshark reads $(pcap_frames "$tmp/h.pcap") frames, lotrace read $frames" \
	test "$(pcap_frames "$tmp/h.pcap")" = "$frames"

"$LOTRACE" -r "$ECHO" -c 2 >"$tmp/e.out" 2>&1
frames=$(sed -n 's/^decode: \([0-9]*\) frames.*/\1/p' "$tmp/e.out")
check "-c stops reading a replay" "read $frames of 82582 frames" \
	test -n "$frames" -a "${frames:-0}" -lt 82582
check "-c 2: two connections" "$(grep -c ' -> ' "$tmp/e.out") lines" \
	test "$(grep -c ' -> ' "$tmp/e.out")" = 2

"$LOTRACE" -r "$BUSY" --duration 100ms --json >"$tmp/d.json" 2>"$tmp/d.err"
dconns=$(json_get "$tmp/d.json" 'd["total"]["connections"]')
check "headless --duration counts capture time" "$dconns connections, cut '$(json_get "$tmp/d.json" 'd.get("cut")')'" \
	test "$(json_get "$tmp/d.json" 'd["decode"]["frames"] < 395 and "--duration" in d["cut"]')" = True

# ---- report: the same options, the same connections ------------------------
"$LOTRACE" report -r "$BUSY" -c 5 -w "$tmp/r.pcap" --report "$tmp/r.json" >"$tmp/r.out" 2>"$tmp/r.err"
st=$?
check "report -c 5 --report FILE: exit 0, nothing on stdout" "exit $st, stdout $(wc -c <"$tmp/r.out") bytes: $(cat "$tmp/r.err")" \
	test "$st" = 0 -a ! -s "$tmp/r.out"
check "report -c 5: five connections, and says it was cut" "$(json_get "$tmp/r.json" 'd["run"]["connections"], d["run"]["cut"]')" \
	test "$(json_get "$tmp/r.json" 'd["run"]["connections"], d["run"]["cut"]')" = "5 $(sed -n 's/^cut: //p' "$tmp/h.out")"
check "report -w: the same file as headless -w" "r.pcap differs from h.pcap" cmp -s "$tmp/r.pcap" "$tmp/h.pcap"
"$LOTRACE" report -r "$BUSY" --duration 100ms --format json >"$tmp/rd.json" 2>/dev/null
check "report --duration: the same connections as headless" "$(json_get "$tmp/rd.json" 'd["run"]["connections"]') vs $dconns" \
	test "$(json_get "$tmp/rd.json" 'd["run"]["connections"]')" = "$dconns"
"$LOTRACE" report -r "$BUSY" -c 5 --format markdown >"$tmp/r.md" 2>/dev/null
check "report markdown says the run was cut" "no 'Run cut' line" \
	grep -q '^- Run cut: stopped after 5 connections (-c 5)' "$tmp/r.md"

# ---- TUI: the same options, the same connections ---------------------------
if command -v tmux >/dev/null; then
	S=cut
	tui_start $S 120 30 "sh -c '$LOTRACE -r $BUSY -c 5 -w t.pcap --report t.json; echo \$? > status'"
	check "tui -c 5: the replay stops" "no 'end of capture'" tui_wait $S 'end of capture'
	check "tui -c 5: the status line says why" "no 'stopped after 5 connections'" \
		tui_wait $S 'stopped after 5 connections \(-c 5\)'
	tui_keys $S q
	check "tui -c 5: q exits" "still running" tui_wait_dead $S
	check "tui -c 5: exit status 0" "status '$(cat "$tmp/status" 2>/dev/null)'" \
		test "$(cat "$tmp/status" 2>/dev/null)" = 0
	check "tui --report: the same five connections" "$(json_get "$tmp/t.json" 'd["run"]["connections"], d["run"]["cut"]' 2>&1)" \
		test "$(json_get "$tmp/t.json" 'd["run"]["connections"], d["run"]["cut"] is not None' 2>/dev/null)" = "5 True"
	check "tui -w: the same file as headless -w" "t.pcap differs from h.pcap" cmp -s "$tmp/t.pcap" "$tmp/h.pcap"

	S=dur
	rm -f "$tmp/status"
	tui_start $S 120 30 "sh -c '$LOTRACE -r $BUSY --duration 100ms --report td.json; echo \$? > status'"
	check "tui --duration: the replay stops" "no 'stopped after --duration'" \
		tui_wait $S 'stopped after --duration'
	tui_keys $S q
	tui_wait_dead $S
	check "tui --duration: the same connections as headless" "$(json_get "$tmp/td.json" 'd["run"]["connections"]' 2>&1) vs $dconns" \
		test "$(json_get "$tmp/td.json" 'd["run"]["connections"]' 2>/dev/null)" = "$dconns"

	S=quit
	tui_start $S 200 30 "$LOTRACE -r $ECHO --speed 1 --report tq.json"
	check "tui --speed 1: plays" "no 'playing 1x'" tui_wait $S 'playing 1x'
	tui_keys $S q
	tui_wait_dead $S
	check "tui q mid-replay: the report says the run was cut" "$(json_get "$tmp/tq.json" 'd["run"]["cut"]' 2>&1)" \
		test "$(json_get "$tmp/tq.json" 'd["run"]["cut"]' 2>/dev/null)" = "quit before the end; the rest of the capture was not read"
else
	fail "pipeline tui" "tmux is not installed (make deps)"
fi

# ---- every record once, however it leaves ---------------------------------------
# A replay's --json records are held by the sink and written in 256 KiB
# blocks (to a pipe, to a file: 2,000 records are 3.6 MB, many blocks), or
# each as it ends (to stderr with -w -, to a terminal): the same records,
# each once, in the same order, and the summary after them.
python3 "$REPO/tests/bench/gen_pcap.py" "$tmp/many.pcap" 2000 >/dev/null
"$LOTRACE" -r "$tmp/many.pcap" --json >"$tmp/pipe.json"
"$LOTRACE" -r "$tmp/many.pcap" --json "$tmp/file.json"
"$LOTRACE" -r "$tmp/many.pcap" --json -w - 2>"$tmp/stderr.json" >/dev/null
script -qec "$LOTRACE -r $tmp/many.pcap --json" /dev/null | tr -d '\r' >"$tmp/tty.json"
n=$(grep -c '"type":"connection"' "$tmp/pipe.json")
for way in file stderr tty; do
	if [ "$n" = 2000 ] && [ "$(tail -1 "$tmp/pipe.json" | cut -c1-17)" = '{"type":"summary"' ] &&
		cmp -s "$tmp/pipe.json" "$tmp/$way.json"; then
		ok "--json records to a pipe and to $way: the same 2000, each once, then the summary"
	else
		fail "--json to $way" "$n records to the pipe; $(diff "$tmp/pipe.json" "$tmp/$way.json" | head -3 | cut -c1-200)"
	fi
done

# ---- write errors ------------------------------------------------------------
# out_err NAME PATTERN STDOUT ARGS...: with stdout to STDOUT, exit 1 and
# one stderr line matching PATTERN
out_err() {
	local name=$1 pat=$2 out=$3; shift 3
	"$LOTRACE" "$@" >"$out" 2>"$tmp/err" </dev/null
	local st=$? lines; lines=$(grep -c . "$tmp/err")
	if [ "$st" = 1 ] && [ "$lines" = 1 ] && grep -qE "$pat" "$tmp/err"; then ok "$name"
	else fail "$name" "exit $st, $lines lines: $(cat "$tmp/err")"; fi
}
out_err "text to a full disk" "^lotrace: cannot write to stdout: No space left on device$" \
	/dev/full -r "$BUSY" --no-tui
out_err "--json to a full disk" "^lotrace: cannot write to stdout: No space left on device$" \
	/dev/full -r "$BUSY" --json
# 3.6 MB of records: the first block fails while records are still coming
out_err "--json to a full disk, a write per 256 KiB" \
	"^lotrace: cannot write to stdout: No space left on device$" /dev/full -r "$tmp/many.pcap" --json
out_err "--json FILE on a full disk" "^lotrace: cannot write to '/dev/full': No space left on device$" \
	/dev/null -r "$tmp/many.pcap" --json /dev/full
out_err "report to a full disk" "^lotrace: cannot write to stdout: No space left on device$" \
	/dev/full report -r "$BUSY"
out_err "-w to a full disk" "^lotrace: writing '/dev/full' failed: No space left on device$" \
	/dev/null -r "$BUSY" --no-tui -w /dev/full
out_err "--report to a full disk" "^lotrace: cannot write report '/dev/full': No space left on device$" \
	/dev/null -r "$BUSY" --no-tui --report /dev/full

# a reader that goes away: a quiet stop, exit 0
for args in "-r $ECHO" "-r $ECHO --json" "report -r $ECHO"; do
	# shellcheck disable=SC2086
	timeout 20 "$LOTRACE" $args 2>"$tmp/err" | head -1 >/dev/null
	st=${PIPESTATUS[0]}
	check "lotrace ${args/$REPO\//} | head -1: exit 0, quiet" "exit $st: $(head -c 200 "$tmp/err")" \
		test "$st" = 0 -a ! -s "$tmp/err"
done

# ---- --speed paces a headless replay ------------------------------------------
BGP=$PUBLIC/bgp-bgpsec.pcap # 7.36 s of capture
t0=$(date +%s%N)
"$LOTRACE" -r "$BGP" --speed 10 >"$tmp/s.out" 2>&1
ms=$((($(date +%s%N) - t0) / 1000000))
check "headless --speed 10: 7.4 s of capture take 0.7 s or more" "took $ms ms" test "$ms" -ge 700
"$LOTRACE" -r "$BGP" >"$tmp/i.out" 2>&1
check "headless --speed 10: the same output as instant" "outputs differ" cmp -s "$tmp/s.out" "$tmp/i.out"
