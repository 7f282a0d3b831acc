#!/bin/bash
# bench-tui.sh [N] - keypress-to-redraw time of the TUI with N connections
# (default 100000) in the table. Runs build/tests/tui_bench (built from
# tests/tui/tui_bench.c with the tui/ objects; not part of lotrace): the
# TUI's own application over a real engine holding N synthetic
# connections, curses drawing a 120x40 screen to /dev/null, and a fixed
# mix of keys (moves, pages, sorts, details, help, typed filters, a
# search), each timed from the key to the end of its redraw. Prints
#   tui: N conns, keypress->redraw p50=.. p99=.. ms
# and an ok/FAIL line against the 100 ms budget. `make bench` runs it.
. "$(dirname "$0")/../lib.sh"
N=${1:-100000}
BUDGET_MS=${TUI_BENCH_BUDGET_MS:-100}
BENCH=${TUI_BENCH:-$(dirname "$LOTRACE")/tests/tui_bench}

if [ ! -x "$BENCH" ]; then
	fail "tui bench" "'$BENCH' is missing (make builds it)"
	exit 0
fi
out=$(env TERM="${TERM:-xterm}" "$BENCH" "$N" 2>&1)
line=$(grep '^tui: ' <<<"$out")
if [ -z "$line" ]; then
	fail "tui bench" "no result from '$BENCH': $(head -3 <<<"$out")"
	exit 0
fi
echo "$line"
p99=$(sed -n 's/.* p99=\([0-9.]*\) .*/\1/p' <<<"$line")
if awk -v p="$p99" -v b="$BUDGET_MS" 'BEGIN { exit !(p < b) }'; then
	ok "tui bench: p99 keypress->redraw ${p99} ms < ${BUDGET_MS} ms with $N connections"
else
	fail "tui bench" "p99 keypress->redraw ${p99} ms, budget ${BUDGET_MS} ms"
fi
