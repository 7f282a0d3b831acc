#!/bin/bash
# tui-doc-screens.sh [OUTDIR] - regenerate the screen dumps of docs/tui.md
# and docs/tui-screen.txt (root: live capture on lo). Not a test (so it
# lives in tests/tools, which run-all.sh does not run). Writes OUTDIR
# (default a temp dir) and prints where; paste from there into the docs.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tui/tui-lib.sh"
trap tui_cleanup EXIT
OUT=${1:-$(mktemp -d /tmp/lotrace-screens.XXXXXX)}
mkdir -p "$OUT"
PEER=${LT_PEER:-$REPO/build/tools/lt_peer}
U="env LANG=C.UTF-8 LC_ALL=C.UTF-8"
tm() { tmux -u -L "$TUI_SOCK" -f /dev/null "$@"; }
cap() { tui_screen "$1" | sed -e 's/[[:space:]]*$//' > "$OUT/$2"; }

# live: three ports, two servers, one with nothing listening
tui_start live 110 30 "$U $LOTRACE --backend pcap --port 61900,61901,61902"
tui_wait live 'nothing listening' >/dev/null
cap live nothing.txt
"$PEER" serve --addr 127.0.0.1 --port 61900 --mode reply --duration-ms 9000 >/dev/null & TUI_PIDS+=($!)
"$PEER" serve --addr 127.0.0.1 --port 61901 --mode reset-after-request --duration-ms 9000 >/dev/null & TUI_PIDS+=($!)
sleep 0.3
for i in 1 2 3 4 5; do "$PEER" connect --addr 127.0.0.1 --port 61900 --send $((10 * i)) --expect-reply >/dev/null; sleep 0.1; done
"$PEER" connect --addr 127.0.0.1 --port 61902 >/dev/null
"$PEER" connect --addr 127.0.0.1 --port 61901 --send 30 --expect-reply >/dev/null
"$PEER" connect --addr 127.0.0.1 --port 61900 --send 5 --hold-ms 6000 >/dev/null & TUI_PIDS+=($!)
"$PEER" connect --addr 127.0.0.1 --port 61902 >/dev/null
for i in 1 2 3; do "$PEER" connect --addr 127.0.0.1 --port 61900 --send 100 --expect-reply >/dev/null; sleep 0.1; done
"$PEER" connect --addr 127.0.0.1 --port 61901 --send 30 --expect-reply >/dev/null
sleep 2.5
cap live main.txt
tui_keys live Enter; sleep 0.4
cap live live-detail.txt
tui_keys live Escape
tm resize-window -t live -x 80 -y 24; sleep 0.5
cap live main-80.txt
tui_keys live q

# replays: detail, help, list, filter
tui_start rep 110 34 "$U $LOTRACE -r $REPO/captures/v6-listener-v4-client.pcap"
tui_wait rep 'end of capture' >/dev/null
tui_keys rep j Enter; sleep 0.4
cap rep detail.txt
tui_keys rep Escape '?'; sleep 0.3
cap rep help.txt
tui_start busy 110 26 "$U $LOTRACE -r $REPO/captures/busy-mixed.pcap"
tui_wait busy 'end of capture' >/dev/null
cap busy busy.txt
tui_keys busy '\' r e f u s e d; sleep 0.3
cap busy filter.txt
echo "screens in $OUT"
