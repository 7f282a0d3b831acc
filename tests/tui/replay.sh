#!/bin/bash
# replay.sh - the TUI on replayed scenario captures, driven through tmux:
# header, rows, detail ladder, filter, help, sort, pcap and report keys,
# resize to 80x24 and back, NO_COLOR, speed keys, and the terminal coming
# back after q and after SIGTERM.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tui-lib.sh"
trap tui_cleanup EXIT

CAP=$REPO/captures
if ! command -v tmux >/dev/null; then
	fail "tui replay" "tmux is not installed (make deps)"
	exit 0
fi

# ---- one refused (IPv4) and one closed (IPv6) connection -----------------
S=v6
# through sh, which records the exit status (tmux may not reap the
# program in time to show #{pane_dead_status}, e.g. under ASan)
tui_start $S 120 40 "sh -c '$LOTRACE -r $CAP/v6-listener-v4-client.pcap; echo \$? > status'"
check "tui replay: end of capture shown" "no 'end of capture' in 5 s" \
	tui_wait $S 'end of capture'
scr=$(tui_screen $S)
check "tui replay: title names the file and link type" "title line" \
	grep -Eq 'replay .*v6-listener-v4-client\.pcap \(EN10MB\)' <<<"$scr"
check "tui replay: header says it is a replay" "no 'replay, not live'" \
	grep -q 'replay, not live' <<<"$scr"
check "tui replay: counters" "counters line" \
	grep -Eq 'total 2 +established 1 +refused 1 +unanswered 0 +half-open 0 +resets 0 +lost 0' <<<"$scr"
check "tui replay: latency p50/p99" "no handshake latency" \
	grep -Eq 'handshake SYN->SYN-ACK p50 [0-9]+us p99 [0-9]+us' <<<"$scr"
check "tui replay: refused row" "no IPv4 refused row" \
	grep -Eq '127\.0\.0\.1:[0-9]+ +-> 127\.0\.0\.1:61903 +refused +S > R ' <<<"$scr"
check "tui replay: closed row" "no IPv6 closed row" \
	grep -Eq '\[::1\]:[0-9]+ +-> \[::1\]:61903 +closed +S > SA > A > data > F/F' <<<"$scr"
check "tui replay: newest first" "the closed (newer) row is not above the refused one" \
	bash -c "grep -E ' -> .* (closed|refused) ' <<<\"\$1\" | head -1 | grep -q closed" _ "$scr"
check "tui replay: terminal in the alternate screen" "alternate_on is not 1" \
	test "$(tui_alt $S)" = 1

# detail of the refused connection (second row)
tui_keys $S j Enter
check "tui detail: opens" "no detail pane" tui_wait $S '^ *REFUSED'
scr=$(tui_screen $S)
check "tui detail: ladder SYN arrow" "no client->server SYN arrow" \
	grep -Eq '^ +0  \|-+ SYN \[S\] -+>\|' <<<"$scr"
check "tui detail: ladder RST arrow" "no server->client RST arrow with an offset" \
	grep -Eq '^ +[0-9]+us  \|<-+ RST \[R\.\] -+\|' <<<"$scr"
check "tui detail: diagnosis" "no refused diagnosis" \
	grep -q 'nothing listens on 127.0.0.1:61903' <<<"$scr"
check "tui detail: IPv6-only hint" "no hint that [::1] works" \
	grep -q 'connections to \[::1\]:61903 succeed' <<<"$scr"
want=$("$LOTRACE" -r "$CAP/v6-listener-v4-client.pcap" --json |
	grep '"verdict":"refused"' | grep -o '"stream":[0-9]*' | head -1 | cut -d: -f2)
check "tui detail: the stream index, as in the JSON and tshark ($want)" "no 'stream $want'" \
	grep -q "stream $want (tshark -Y 'tcp.stream == $want')" <<<"$scr"
tui_keys $S Escape
check "tui detail: Esc goes back" "list not back" tui_wait $S 'VERDICT'

# filter
tui_keys $S '\' r e f u s e d
check "tui filter: live line" "no filter line" tui_wait $S '^filter: refused_ +1 match'
tui_keys $S Enter
check "tui filter: only the refused row" "closed row still listed" \
	tui_wait_gone $S ' closed +S > '
check "tui filter: status shows it" "no filter in the status line" \
	tui_wait $S 'filter:refused +sort:time +1/1'
tui_keys $S '\' C-u z z z
check "tui filter: no match says so" "no 'no connection matches'" \
	tui_wait $S "no connection matches 'zzz'"
tui_keys $S Escape
check "tui filter: Esc restores the previous filter" "filter not restored" \
	tui_wait $S 'filter:refused'
tui_keys $S '\' C-u Enter
check "tui filter: cleared" "rows not back" tui_wait $S ' closed +S > SA'

# help
tui_keys $S '?'
check "tui help: shows keys" "no help screen" tui_wait $S 'pause the view \(capture goes on\)'
scr=$(tui_screen $S)
check "tui help: verdict legend" "no verdict legend" grep -q 'reset-by-server' <<<"$scr"
tui_keys $S x
check "tui help: any key closes" "help still open" tui_wait_gone $S 'this help'

# sort
tui_keys $S s
check "tui sort: by verdict" "status does not say sort:verdict" tui_wait $S 'sort:verdict'
check "tui sort: verdict column marked" "no VERDICT* header" tui_wait $S 'VERDICT\*'
scr=$(tui_screen $S)
check "tui sort: refused first" "refused is not the first row" \
	bash -c "grep -E ' -> .* (closed|refused) ' <<<\"\$1\" | head -1 | grep -q refused" _ "$scr"
tui_keys $S s s s
check "tui sort: back to time" "not back to sort:time" tui_wait $S 'sort:time'

# w: the listed connections as a pcap tshark reads
tui_keys $S w
check "tui w: message" "no 'wrote 2 connections'" \
	tui_wait $S 'wrote 2 connections \([0-9]+ packets'
pcap=$(ls "$TUI_TMP"/lotrace-*.pcap 2>/dev/null | head -1)
check "tui w: file written" "no lotrace-*.pcap in $TUI_TMP" test -s "$pcap"
if command -v tshark >/dev/null && [ -s "$pcap" ]; then
	ts=$(tshark -r "$pcap" 2>&1)
	check "tui w: tshark reads it" "tshark: $(head -2 <<<"$ts")" \
		test "$(grep -c 'TCP' <<<"$ts")" -eq 9
	check "tui w: SYN and RST of the refused one" "no SYN/RST" \
		bash -c 'grep -q "\[SYN\]" <<<"$1" && grep -q "\[RST, ACK\]" <<<"$1"' _ "$ts"
	check "tui w: IP length covers the payload" "no 16-byte segment" \
		test "$(tshark -r "$pcap" -Y 'tcp.len == 16 && ipv6' 2>/dev/null | wc -l)" -eq 1
	check "tui w: handshake complete for tshark" "no SYN-ACK" \
		bash -c 'grep -q "\[SYN, ACK\]" <<<"$1"' _ "$ts"
else
	fail "tui w: tshark reads it" "tshark missing (make deps) or no file"
fi

# r: a report, or the selected connection as JSON when there is none
tui_keys $S r
check "tui r: message" "no report message" tui_wait $S 'wrote the report to|as JSON to'
check "tui r: file written" "no report or JSON file" \
	bash -c 'ls "$1"/lotrace-report-*.md "$1"/lotrace-conn-*.json 2>/dev/null | head -1 | xargs test -s' _ "$TUI_TMP"

# resize to 80x24 and back
tm resize-window -t $S -x 80 -y 24
check "tui resize: 80x24 redraws" "header not redrawn at 80 columns" \
	tui_wait $S '^ *[0-9.]+/s +total 2 .*lost 0 *$'
scr=$(tui_screen $S)
check "tui resize: rows at 80x24" "no refused row at 80x24" \
	grep -Eq '127\.0\.0\.1:[0-9]+ +-> 127\.0\.0\.1:61903 +refused' <<<"$scr"
check "tui resize: no line longer than 80" "a line is wider than 80" \
	bash -c '! awk "length > 80" <<<"$1" | grep -q .' _ "$scr"
check "tui resize: status line at the bottom" "status line not on row 24" \
	bash -c 'sed -n 24p <<<"$1" | grep -q "sort:time  [0-9]*/2 *$"' _ "$scr"
# issue 13: at 80x24 rows keep their milliseconds and both ports
check "tui 80x24: rows keep milliseconds and ports" "no '12:26:11.059 127.0.0.1:37166 -> 127.0.0.1:61903'" \
	grep -Eq '^12:26:11\.059 127\.0\.0\.1:37166 +-> 127\.0\.0\.1:61903 +refused' <<<"$scr"
tui_keys $S End Enter
check "tui 80x24: detail opens" "no detail at 80x24" tui_wait $S '^ *REFUSED'
scr=$(tui_screen $S)
check "tui 80x24: the ladder names the server's full port" "no 'server 127.0.0.1:61903' over the ladder" \
	grep -Eq 'client 127\.0\.0\.1:37166 +server 127\.0\.0\.1:61903 *$' <<<"$scr"
check "tui 80x24: no detail line longer than 80" "a line is wider than 80" \
	bash -c '! awk "length > 80" <<<"$1" | grep -q .' _ "$scr"
tui_keys $S Escape
tui_wait $S 'VERDICT' >/dev/null
tm resize-window -t $S -x 40 -y 10
check "tui resize: 40x10 still draws" "nothing sensible at 40x10" \
	tui_wait $S 'lotrace'
tm resize-window -t $S -x 120 -y 40
check "tui resize: back to 120x40" "wide header not back" \
	tui_wait $S 'conns/s [0-9.]+ +total 2'

# q restores the terminal
tui_keys $S q
check "tui quit: q exits" "still running after q" tui_wait_dead $S
check "tui quit: alternate screen left" "alternate_on is $(tui_alt $S)" \
	test "$(tui_alt $S)" = 0
st=$(cat "$TUI_TMP/status" 2>/dev/null)
check "tui quit: exit status 0" "exit status '$st'" test "$st" = 0

# ---- 60 connections: counters, moving, port filter ------------------------
S=busy
tui_start $S 120 40 "$LOTRACE -r $CAP/busy-mixed.pcap"
check "tui busy: counters" "counters of busy-mixed" \
	tui_wait $S 'total 60 +established 40 +refused 16 +unanswered 4 +half-open 0 +resets 16 +lost 0'
check "tui busy: 60 rows" "status not 1/60" tui_wait $S 'sort:time +1/60'
tui_keys $S End
check "tui busy: End" "status not 60/60" tui_wait $S '60/60'
tui_keys $S Home PageDown
check "tui busy: PgDn" "PgDn did not move a page" tui_wait $S ' (3[0-9])/60'
tui_keys $S '\' 6 1 9 1 1 Enter
check "tui busy: filter by port" "not 20 rows on port 61911" tui_wait $S 'filter:61911 +sort:time +1/20'
tui_keys $S c
check "tui busy: c clears" "not cleared" tui_wait $S 'total 0 .*lost 0'
tui_keys $S q
check "tui busy: q exits" "still running" tui_wait_dead $S

# ---- issue 13: the replay clock is the capture time of the last frame -----
S=clock
tui_start $S 120 40 "$LOTRACE -r $CAP/v6-listener-v4-client.pcap"
tui_wait $S 'end of capture' >/dev/null
last=$(tshark -r "$CAP/v6-listener-v4-client.pcap" -T fields -e frame.time_epoch 2>/dev/null | tail -1)
want=$(date -u -d "@$last" '+%Y-%m-%d %H:%M:%S.%6N' 2>/dev/null)
check "tui replay clock: the last frame's time" "header does not say 'frame time $want'" \
	tui_wait $S "replay, not live: 12 frames, frame time $want "
tui_keys $S q

# ---- search (/, n, N): the selection moves, the list stays -----------------
S=search
tui_start $S 120 40 "$LOTRACE -r $CAP/busy-mixed.pcap"
tui_wait $S 'sort:time +1/60' >/dev/null
tui_keys $S / 6 1 9 1 1
check "tui search: typing line" "no search line" tui_wait $S '^search: 61911_'
tui_keys $S Enter
check "tui search: found" "no 'found' message" tui_wait $S "found '61911'"
scr=$(tui_screen $S)
pos=$(grep -Eo 'sort:time +[0-9]+/60' <<<"$scr" | grep -Eo '[0-9]+/' | tr -d /)
# the selection moves to the first row on port 61911 below it (it was on row 1)
rows=$(grep -E '^[0-9:.]+ ' <<<"$scr" | grep -n '127\.0\.0\.1:61911 ' | cut -d: -f1 | awk '$1 > 1')
first=$(sed -n 1p <<<"$rows")
second=$(sed -n 2p <<<"$rows")
check "tui search: selects the next match" "selection at $pos, next 61911 row is row $first" \
	test -n "$pos" -a "$pos" = "$first"
check "tui search: the list is not filtered" "not 60 rows" test -n "$(grep -E '/60 *$' <<<"$scr")"
tui_keys $S n
check "tui search: n goes to the next match" "n did not select row $second" \
	tui_wait $S "sort:time +$second/60"
tui_keys $S N
check "tui search: N goes back" "N did not select row $first" tui_wait $S "sort:time +$first/60"
tui_keys $S / z z z Enter
check "tui search: no match says so" "no 'no connection matches'" \
	tui_wait $S "no connection matches 'zzz'"
tui_keys $S '?'
check "tui search: / and n in the help" "help does not list / and n" \
	tui_wait $S '^ +/ +search: select the next row'
check "tui search: the filter keeps its own key in the help" "help does not list \\ for the filter" \
	tui_wait $S '^ +\\ f +filter: list only'
check "tui search: n N in the help" "help does not list n N" \
	tui_wait $S '^ +n N +next / previous match'
tui_keys $S q

# ---- IPv6 addresses are never cut (ipv6-violation.pcap, public) ------------
V6CAP=$PUBLIC/ipv6-violation.pcap
S=wide
tui_start $S 220 12 "$LOTRACE -r $V6CAP"
check "tui IPv6 220 columns: both endpoints whole" "no full '[2001:470:...:6b88]:24316 -> [2001:6a8:a40::21]:21'" \
	tui_wait $S '\[2001:470:1f05:17a6:d69a:20ff:fefd:6b88\]:24316 -> \[2001:6a8:a40::21\]:21 +reset-by-client'
tui_keys $S q
S=narrow
tui_start $S 80 24 "$LOTRACE -r $V6CAP"
check "tui IPv6 80 columns: the middle elided, the ports kept" "no '[2001..~..]:24316 -> [2001...]:21' row" \
	tui_wait $S '^07:08:56\.786 \[2001[0-9a-f:]*~[0-9a-f:]*\]:24316 +-> \[2001[0-9a-f:~]*\]:21 +reset-by-client'
scr=$(tui_screen $S)
check "tui IPv6 80 columns: no line longer than 80" "a line is wider than 80" \
	bash -c '! awk "length > 80" <<<"$1" | grep -q .' _ "$scr"
tui_keys $S Enter
check "tui IPv6 80 columns: detail names both endpoints whole" "endpoints cut in the detail" \
	tui_wait $S 'client \[2001:470:1f05:17a6:d69a:20ff:fefd:6b88\]:24316'
check "tui IPv6 80 columns: the server's full endpoint over the ladder" "no 'server [2001:6a8:a40::21]:21'" \
	tui_wait $S 'server \[2001:6a8:a40::21\]:21 *$'
tui_keys $S q

# ---- first bytes in the detail (get-to-ssh-server.pcap, public) ------------
S=proto
tui_start $S 120 40 "$LOTRACE -r $PUBLIC/get-to-ssh-server.pcap"
tui_wait $S 'end of capture' >/dev/null
tui_keys $S Enter
check "tui detail: what each side's first bytes were, with the mismatch" \
	"no 'first bytes: client sent \`GET / HTTP/1.1\`; server sent the SSH banner ... (mismatch: other)'" \
	tui_wait $S 'first bytes: client sent `GET / HTTP/1\.1`; server sent the SSH banner `SSH-2\.0-OpenSSH_8\.7` \(mismatch: other\)'
scr=$(tui_screen $S)
check "tui detail: no header line of the request" "a header line in the detail" \
	bash -c '! grep -qiE "User-Agent|Host:" <<<"$1"' _ "$scr"
tui_keys $S q
S=noproto
tui_start $S 120 40 "$LOTRACE -r $PUBLIC/get-to-ssh-server.pcap --no-payload"
tui_wait $S 'end of capture' >/dev/null
tui_keys $S Enter
tui_wait $S 'Diagnosis' >/dev/null
check "tui detail --no-payload: no first bytes" "a 'first bytes' line with --no-payload" \
	bash -c '! grep -q "first bytes" <<<"$1"' _ "$(tui_screen $S)"
tui_keys $S q

# ---- units on every byte figure, latencies not cut -------------------------
S=units
tui_start $S 120 12 "$LOTRACE -r $PUBLIC/test_loopback.pcap"
check "tui units: bytes keep their unit" "no '1465B/54.9kB'" tui_wait $S ' 1465B/54\.9kB '
tui_keys $S q
S=lat
tui_start $S 120 12 "$LOTRACE -r $PUBLIC/openjdk-25.0.2-zeek.org.pcap"
check "tui units: a latency keeps its unit" "no '19.01ms'" tui_wait $S ' 19\.01ms +457B/2920B'
tui_keys $S q

# ---- paced replay: speed keys, then SIGTERM mid-replay ---------------------
S=speed
tui_start $S 120 40 "$LOTRACE --speed 1 -r $CAP/busy-mixed.pcap"
check "tui speed: plays at 1x" "no 'playing 1x'" tui_wait $S 'playing 1x'
tui_keys $S +
check "tui speed: + gives 10x" "no 'playing 10x'" tui_wait $S 'playing 10x'
tui_keys $S -
check "tui speed: - gives 1x" "no 'playing 1x'" tui_wait $S 'playing 1x'
pid=$(tui_pid $S)
kill -TERM "$pid" 2>/dev/null
check "tui SIGTERM: exits" "still running after SIGTERM" tui_wait_dead $S
check "tui SIGTERM: alternate screen left" "alternate_on is $(tui_alt $S)" \
	test "$(tui_alt $S)" = 0

# ---- colours: on by default, off with NO_COLOR ------------------------------
S=color
tui_start $S 100 30 "$LOTRACE -r $CAP/v6-listener-v4-client.pcap"
tui_wait $S 'end of capture' >/dev/null
check "tui colour: verdicts coloured" "no colour escape in the pane" \
	bash -c 'tmux -L "$1" capture-pane -e -p -t color | grep -q $'"'"'\e\[3[1-7]m'"'" _ "$TUI_SOCK"
# readable on a light background too: no yellow, blue, cyan or white text
# on the terminal's own background (white only on red, the alarm)
check "tui colour: readable on light and dark backgrounds" "yellow, blue, cyan or white text escapes" \
	bash -c '! tmux -L "$1" capture-pane -e -p -t color | grep -Eq $'"'"'\e\\[([0-9]+;)*3[3467](;[0-9]+)*m'"'" _ "$TUI_SOCK"
tui_keys $S q
S=mono
tui_start $S 100 30 "env NO_COLOR=1 $LOTRACE -r $CAP/v6-listener-v4-client.pcap"
tui_wait $S 'end of capture' >/dev/null
check "tui NO_COLOR: no colours" "colour escapes despite NO_COLOR" \
	bash -c '! tmux -L "$1" capture-pane -e -p -t mono | grep -q $'"'"'\e\[3[1-7]m'"'" _ "$TUI_SOCK"
check "tui NO_COLOR: still readable" "no refused row" tui_wait $S 'refused +S ?> ?R'
tui_keys $S q
tui_wait_dead $S >/dev/null
