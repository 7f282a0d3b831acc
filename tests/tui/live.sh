#!/bin/bash
# live.sh - the TUI on live loopback traffic (libpcap backend, needs root):
# "nothing listening" before the server starts, the listener line within 1 s
# of the first connection the server answers,
# a refused and an established row, the detail ladder of the latter, and
# the terminal coming back after q, Ctrl-C and SIGTERM.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tui-lib.sh"
trap tui_cleanup EXIT

if [ "$(id -u)" != 0 ]; then
	echo "skip tui live: needs root (libpcap on lo)"
	exit 0
fi
if ! command -v tmux >/dev/null; then
	fail "tui live" "tmux is not installed (make deps)"
	exit 0
fi
LT_PEER=${LT_PEER:-$REPO/build/tools/lt_peer}
if [ ! -x "$LT_PEER" ]; then
	make -s -C "$REPO" build/tools/lt_peer >/dev/null 2>&1
fi
if [ ! -x "$LT_PEER" ]; then
	fail "tui live" "no $LT_PEER (make build/tools/lt_peer)"
	exit 0
fi

# a port nothing listens on
for _ in $(seq 20); do
	P=$((62000 + RANDOM % 2000))
	ss -Hltn "sport = :$P" 2>/dev/null | grep -q . || break
done

S=live
tui_start $S 120 40 "$LOTRACE --backend pcap --port $P"
check "tui live: backend in the title" "no 'libpcap on lo'" tui_wait $S 'libpcap on lo'
check "tui live: nothing listening" "no 'nothing listening on 127.0.0.1:$P'" \
	tui_wait $S "nothing listening on 127\.0\.0\.1:$P"
check "tui live: lost events shown" "no 'lost 0'" tui_wait $S 'lost 0'
check "tui live: waiting hint" "no 'waiting for connections'" \
	tui_wait $S "waiting for connections on port $P"

out=$("$LT_PEER" connect --addr 127.0.0.1 --port "$P" --timeout-ms 2000 2>&1)
check "tui live: peer refused" "lt_peer said: $out" grep -q refused <<<"$out"
check "tui live: refused row" "no refused row" \
	tui_wait $S "127\.0\.0\.1:[0-9]+ +-> 127\.0\.0\.1:$P +refused +S > R "

ready=$TUI_TMP/serve.ready
"$LT_PEER" serve --addr 127.0.0.1 --port "$P" --mode reply --ready-file "$ready" \
	>/dev/null 2>&1 &
TUI_PIDS+=($!)
for _ in $(seq 50); do [ -s "$ready" ] && break; sleep 0.1; done
# a connection answered on a port the line says nobody listens on: the
# line is asked again at once, not at the next 2 s query
"$LT_PEER" connect --addr 127.0.0.1 --port "$P" --timeout-ms 2000 >/dev/null 2>&1
check "tui live: listener line within 1 s of an answered connection" "no 'listening: 127.0.0.1:$P lt_peer[pid]' within 1 s" \
	tui_wait $S "listening: 127\.0\.0\.1:$P lt_peer\[[0-9]+\]" 1
check "tui live: alert gone" "'nothing listening' still shown" \
	tui_wait_gone $S "nothing listening on 127\.0\.0\.1:$P" 1
# too narrow for the listener: it is counted, never cut mid-address
tm resize-window -t $S -x 34 -y 24
check "tui live: a listener that does not fit is counted, not cut" "line 2 is not ' +1 more'" \
	bash -c 'for i in $(seq 40); do tmux -L "$1" capture-pane -p -t "$2" | sed -n 2p |
		grep -Eq "^ \+1 more *$" && exit 0; sleep 0.05; done; exit 1' _ "$TUI_SOCK" "$S"
tm resize-window -t $S -x 120 -y 40
tui_wait $S "listening: 127\.0\.0\.1:$P lt_peer" >/dev/null

out=$("$LT_PEER" connect --addr 127.0.0.1 --port "$P" --send 10 --expect-reply 2>&1)
check "tui live: peer connected" "lt_peer said: $out" grep -q connected <<<"$out"
check "tui live: established row" "no closed row with a full timeline" \
	tui_wait $S "127\.0\.0\.1:[0-9]+ +-> 127\.0\.0\.1:$P +closed +S > SA > A > data > F/F +[0-9]+us +10B/14B"
check "tui live: counters" "counters do not show 2 established, 1 refused" \
	tui_wait $S 'total 3 +established 2 +refused 1 '
check "tui live: latency" "no handshake p50" tui_wait $S 'SYN-ACK p50 [0-9]+us'

# the newest row (the established one) is selected: its ladder
tui_keys $S Enter
check "tui live detail: opens" "no CLOSED detail" tui_wait $S '^ *CLOSED'
scr=$(tui_screen $S)
check "tui live detail: ladder" "ladder arrows missing" bash -c '
	grep -Eq "^ +0  \|-+ SYN \[S\] -+>\|" <<<"$1" &&
	grep -Eq "^ +[0-9]+us  \|<-+ SYN-ACK \[S\.\] -+\|" <<<"$1" &&
	grep -Eq "\|-+ DATA 10B \[P\.\] -+>\|" <<<"$1" &&
	grep -Eq "\|<-+ DATA 14B \[P\.\] -+\|" <<<"$1"' _ "$scr"
check "tui live detail: diagnosis" "no healthy-connection diagnosis" \
	grep -q 'A healthy connection' <<<"$scr"
tui_keys $S Escape

tui_keys $S q
check "tui live quit: q exits" "still running" tui_wait_dead $S
check "tui live quit: terminal restored" "alternate_on is $(tui_alt $S)" \
	test "$(tui_alt $S)" = 0

# Ctrl-C and SIGTERM end it cleanly too
S=sigint
tui_start $S 100 30 "$LOTRACE --backend pcap --port $P"
tui_wait $S 'listening: ' >/dev/null
tui_keys $S C-c
check "tui live Ctrl-C: exits" "still running after Ctrl-C" tui_wait_dead $S
check "tui live Ctrl-C: terminal restored" "alternate_on is $(tui_alt $S)" \
	test "$(tui_alt $S)" = 0

S=sigterm
tui_start $S 100 30 "$LOTRACE --backend pcap --port $P"
tui_wait $S 'listening: ' >/dev/null
kill -TERM "$(tui_pid $S)"
check "tui live SIGTERM: exits" "still running after SIGTERM" tui_wait_dead $S
check "tui live SIGTERM: terminal restored" "alternate_on is $(tui_alt $S)" \
	test "$(tui_alt $S)" = 0

# eBPF: the listener line follows listen() and close() at once (the kernel
# says so), not at the next 2 s query and with no connection needed
for _ in $(seq 20); do
	Q=$((62000 + RANDOM % 2000))
	[ "$Q" != "$P" ] && ! ss -Hltn "sport = :$Q" 2>/dev/null | grep -q . && break
done
S=ebpf
tui_start $S 120 40 "$LOTRACE --backend ebpf --port $Q"
if tui_wait $S 'eBPF' && tui_wait $S "nothing listening on 127\.0\.0\.1:$Q"; then
	sleep 0.3 # past the first query
	"$LT_PEER" serve --addr 127.0.0.1 --port "$Q" --mode reply --duration-ms 1500 \
		--ready-file "$TUI_TMP/ebpf.ready" >/dev/null 2>&1 &
	srv=$!
	TUI_PIDS+=($srv)
	# the window starts once listen() returned (lt_peer's start is not ours)
	for _ in $(seq 100); do [ -e "$TUI_TMP/ebpf.ready" ] && break; sleep 0.02; done
	# at most 0.6 s: the ring is read every 100 ms, a frame drawn every 100 ms
	within() { # within REGEX: the screen matches within 0.6 s
		for _ in $(seq 12); do tui_screen $S | grep -Eq -- "$1" && return 0; sleep 0.05; done
		return 1
	}
	check "tui live ebpf: the listener line shows a new listener within 0.6 s of listen()" \
		"no 'listening: 127.0.0.1:$Q lt_peer[pid]' within 0.6 s" \
		within "listening: 127\.0\.0\.1:$Q lt_peer\[[0-9]+\]"
	wait $srv
	check "tui live ebpf: ... and says nothing listens within 0.6 s of its close" \
		"no 'nothing listening on 127.0.0.1:$Q' within 0.6 s" \
		within "nothing listening on 127\.0\.0\.1:$Q"
else
	fail "tui live ebpf" "no eBPF TUI with 'nothing listening on 127.0.0.1:$Q': $(tui_screen $S | head -3)"
fi
tui_keys $S q
tui_wait_dead $S >/dev/null
