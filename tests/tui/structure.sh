#!/bin/bash
# structure.sh - the TUI is built as htop is (issue 8): only the
# application loop (tui/tui_app.c) knows the run, the engine and the
# source; no include cycle among tui/ modules (foo.c and foo.h are one
# module); the keypress benchmark is a test program, not in lotrace; and
# a row of the snapshot model stays compact.
. "$(dirname "$0")/../lib.sh"
cd "$REPO" || exit 1

# 1. who includes the run, the engine or the source
bad=$(grep -lE '#include "(engine|source|run)\.h"' tui/*.c tui/*.h | grep -v '^tui/tui_app\.c$')
if [ -z "$bad" ]; then
	ok "tui structure: only tui/tui_app.c includes engine.h, source.h or run.h"
else
	fail "tui structure: engine/source/run included outside the application loop" "$(echo $bad)"
fi

# 2. no cycle: module edges from #include "x.h" of a tui/ header, through tsort
edges=$(for f in tui/*.c tui/*.h; do
	from=$(basename "$f"); from=${from%.*}
	sed -n 's/^#include "\([a-z_]*\)\.h".*/\1/p' "$f" | while read -r to; do
		[ -f "tui/$to.h" ] && [ "$to" != "$from" ] && echo "$from $to"
	done
done)
if out=$(tsort <<<"$edges" 2>&1 >/dev/null) && [ -z "$out" ]; then
	ok "tui structure: no include cycle among $(wc -l <<<"$edges") module edges"
else
	fail "tui structure: include cycle" "$(head -3 <<<"$out" | tr '\n' ' ')"
fi

# 3. the benchmark left the product
bench=$(dirname "$LOTRACE")/tests/tui_bench
if grep -q 'LOTRACE_TUI_BENCH' "$LOTRACE" 2>/dev/null; then
	fail "tui structure: benchmark in the product" "'$LOTRACE' still knows LOTRACE_TUI_BENCH"
elif [ ! -x "$bench" ]; then
	fail "tui structure: benchmark program" "'$bench' was not built"
else
	ok "tui structure: the benchmark is a test program ($bench), not in lotrace"
fi

# 4. compact rows (also a _Static_assert in tui/model.h)
unit=$(dirname "$LOTRACE")/tests/test_tui_model
if [ ! -x "$unit" ]; then
	fail "tui structure: row size" "'$unit' was not built (make units; make test builds it)"
elif line=$("$unit" 2>&1 | grep -o 'row [0-9]* B.*MiB') &&
	[ "$(sed 's/row \([0-9]*\) B.*/\1/' <<<"$line")" -le 200 ]; then
	ok "tui structure: $line"
else
	fail "tui structure: row size" "no row size of 200 B or less from '$unit'"
fi
