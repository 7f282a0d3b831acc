#!/bin/bash
# live/verifier.sh - the kernel's verifier accepts every program with room
# to spare, and lotrace says so under -v.
#
# lotrace -v prints, for each program it loads, the instructions the
# verifier walked against its limit (1,000,000) and how long it took. A
# program walked near the limit fails to load on a kernel that prunes a
# little worse, and the walk is lotrace's start-up time: lotrace_tc once
# took 826,036 instructions and 2.6 s here, 0.5 s to "capturing" after its
# loops and per-connection helpers became global functions (checked once
# each). Every program must stay under a quarter of the limit.
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP verifier: needs root"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! "$LOTRACE" --backend ebpf --port 1 --no-tui -v --duration 200ms >/dev/null 2>"$tmp/err"; then
	grep -q 'built without eBPF' "$tmp/err" && { echo "SKIP verifier: no eBPF in this build"; exit 0; }
	fail "verifier: lotrace -v starts" "$(grep -v '^libbpf' "$tmp/err" | head -2)"
	exit 0
fi
python3 - "$tmp/err" <<'PY'
import re, sys
lines = [l for l in open(sys.argv[1]) if l.startswith("lotrace: verifier: ")]
def check(name, cond, why):
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else ": " + why))
walks = {}
for l in lines:
    m = re.match(r"lotrace: verifier: (\S+) walked (\d+) of (\d+) instructions in (\d+) ms", l)
    if m:
        walks[m.group(1)] = (int(m.group(2)), int(m.group(3)), int(m.group(4)))
check("verifier: -v gives the verifier's figures for every program loaded (%d)" % len(walks),
      "lotrace_tc" in walks and "lt_set_state" in walks and len(walks) == len(lines),
      "lines: %r" % lines[:4])
for name, (n, limit, ms) in sorted(walks.items()):
    check("verifier: %s walked %d of %d instructions (%d ms): under a quarter of the limit" % (name, n, limit, ms),
          n * 4 < limit, "%.0f %% of the limit" % (100.0 * n / limit))
PY
