#!/bin/bash
# live/overflow.sh - the accept queue overflow (eBPF) by every way the
# kernel side learns a listener's queue.
#
# A SYN that meets a full accept queue is dropped without a drop reason;
# tc reads the listener's queue as the SYN leaves. The listener's socket
# is recorded when it begins listening while lotrace runs, and read
# directly; otherwise the kernel's own lookup finds it. Three listeners
# (backlog 1, never accepting), 8 clients each:
#   early   listening before lotrace started (no recorded socket: lookup)
#   again   a backlog-4 listener that stopped, then a backlog-1 one on the
#           same port (the recorded socket is the new one, not the old)
#   shared  two SO_REUSEPORT listeners (the kernel picks one per SYN:
#           lookup)
# Every unanswered attempt must carry accept-queue-overflow with backlog 1,
# a queue length and the listener's process.
. "$(dirname "$0")/../lib.sh"
PEER=$REPO/build/tools/lt_peer
scratch_dir
P_EARLY=62070 P_AGAIN=62071 P_SHARED=62072

serve() { # serve NAME ARGS...: start a listener, wait until it listens
	"$PEER" serve --ready-file "$tmp/$1.ready" --addr 127.0.0.1 --backlog 1 --no-accept "${@:2}" \
		>"$tmp/$1.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$tmp/$1.ready" ] && return 0; sleep 0.05; done
	fail "listener $1" "did not start: $(cat "$tmp/$1.log")"
	return 1
}

if ! "$LOTRACE" --backend ebpf --port 1 --duration 1ms --no-tui >/dev/null 2>"$tmp/probe.err"; then
	echo "note: no eBPF backend here ($(head -1 "$tmp/probe.err")); overflow checks skipped"
	exit 0
fi

serve early --port $P_EARLY || exit 0
"$LOTRACE" --backend ebpf --port "$P_EARLY,$P_AGAIN,$P_SHARED" --json --no-tui -v \
	>"$tmp/out.json" 2>"$tmp/err" &
lt=$!
pids+=($lt)
for _ in $(seq 200); do grep -q capturing "$tmp/err" && break; sleep 0.05; done
kill -0 $lt 2>/dev/null || { fail "lotrace starts" "$(cat "$tmp/err")"; exit 0; }

serve gone --port $P_AGAIN --backlog 4 || exit 0
kill "$(cat "$tmp/gone.ready")"
for _ in $(seq 100); do [ -e "$tmp/gone.ready" ] || break; sleep 0.05; done
serve again --port $P_AGAIN || exit 0
serve shared1 --port $P_SHARED --reuseport || exit 0
serve shared2 --port $P_SHARED --reuseport || exit 0

bg=()
for p in $P_EARLY $P_AGAIN $P_SHARED; do
	for _ in $(seq 8); do
		"$PEER" connect --addr 127.0.0.1 --port $p --timeout-ms 1500 >/dev/null &
		bg+=($!)
	done
done
wait "${bg[@]}"
sleep 0.5
kill -INT $lt
wait $lt

python3 - "$tmp/out.json" $P_EARLY "$(cat "$tmp/early.ready")" $P_AGAIN "$(cat "$tmp/again.ready")" \
	$P_SHARED "$(cat "$tmp/shared1.ready") $(cat "$tmp/shared2.ready")" <<'PY'
import json, sys
conns = [o for o in map(json.loads, open(sys.argv[1])) if o["type"] == "connection"]
cases = [("listening before lotrace started", sys.argv[2], sys.argv[3]),
         ("listening again after a backlog-4 listener on the port stopped", sys.argv[4], sys.argv[5]),
         ("two SO_REUSEPORT listeners", sys.argv[6], sys.argv[7])]
for name, port, want_pids in cases:
    port, want_pids = int(port), [int(p) for p in want_pids.split()]
    un = [c for c in conns if c["server_port"] == port and c["verdict"] == "unanswered"]
    named = [c for c in un if "accept-queue-overflow" in c["anomalies"]]
    lo = [(c["kernel"] or {}).get("listen_overflow") for c in named]
    good = [l for l in lo if l and l["backlog"] == 1 and l["queued"] >= 1 and l["pid"] in want_pids
            and l["comm"] == "lt_peer"]
    cond = un and len(named) == len(un) and len(good) == len(lo)
    print(("ok   " if cond else "FAIL ") + "ebpf overflow, %s: %d unanswered attempts, each names backlog 1, "
          "its queue and the listener" % (name, len(un))
          + ("" if cond else ": %d flagged, listen_overflow=%s, want pid in %s" % (len(named), lo[:3], want_pids)))
PY
