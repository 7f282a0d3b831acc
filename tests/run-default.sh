#!/bin/bash
# run-default.sh - what `make run` does: lotrace on its default input.
#
# As root: a live demo on lo (about 10 seconds). lotrace watches five ports
# while real clients and servers (build/tools/lt_peer) play every verdict it
# explains, one after the other, each announced on stderr:
#   61902  a healthy service: request, reply, close           -> closed
#   61900  a server on [::1] only, the client dials 127.0.0.1  -> refused,
#          then [::1]                                          -> closed
#   61901  a server that resets after the request              -> reset-by-server
#   61903  a server that never accepts (backlog 1), 12 clients -> accept queue
#          overflow: the first get in, the rest are unanswered
#   61904  SYNs dropped by an nft rule                         -> unanswered
# then lotrace's summary and the diagnosis of its report (--report).
# The nft rule lives in its own table, inet lotrace_demo, which the EXIT trap
# deletes (also on Ctrl-C or SIGTERM; a stale one from a killed run is
# deleted first). Servers, clients and lotrace are stopped the same way:
# nothing outlives the demo.
#
# Without root (or without the traffic tool): replay the bundled capture
# captures/busy-mixed.pcap, as `lotrace --demo`.
# Extra arguments go to lotrace: make run ARGS="--json".
set -u
cd "$(dirname "$0")/.." || exit 1
LT=./build/lotrace
PEER=./build/tools/lt_peer

if [ "$(id -u)" != 0 ] || [ ! -x "$PEER" ]; then
	echo "lotrace: not root; replaying the bundled capture $(pwd)/captures/busy-mixed.pcap" >&2
	exec "$LT" --demo --no-tui "$@"
fi

P_V6=61900 P_RESET=61901 P_CLEAN=61902 P_OVER=61903 P_DROP=61904
PORTS=$P_V6,$P_RESET,$P_CLEAN,$P_OVER,$P_DROP
TABLE=lotrace_demo
tmp=$(mktemp -d /tmp/lotrace-demo.XXXXXX)
servers=() clients=()
lt= view=

cleanup() {
	trap - EXIT INT TERM
	[ -n "$lt" ] && kill -INT "$lt" 2>/dev/null
	for p in "${servers[@]}" "${clients[@]}" $view; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	nft delete table inet "$TABLE" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "demo: interrupted; cleaning up" >&2; exit 130' INT
trap 'exit 143' TERM

say() { printf '\ndemo: %s\n' "$*" >&2; }

serve() { # serve NAME ARGS...: start an lt_peer server, wait until it listens
	"$PEER" serve --ready-file "$tmp/$1.ready" "${@:2}" >/dev/null 2>"$tmp/$1.err" &
	servers+=($!)
	for _ in $(seq 100); do
		[ -s "$tmp/$1.ready" ] && return 0
		kill -0 "${servers[-1]}" 2>/dev/null || break
		sleep 0.05
	done
	echo "demo: skipped: the $1 server did not start: $(head -1 "$tmp/$1.err")" >&2
	return 1
}

client() { "$PEER" connect "$@" >/dev/null 2>&1; }
bg_client() { # in the background, its pid (not a subshell's) kept for cleanup
	"$PEER" connect "$@" >/dev/null 2>&1 &
	clients+=($!)
}

seen() { grep -q -e "$1" "$tmp/out"; } # seen PATTERN: lotrace printed a line matching it

nft delete table inet "$TABLE" 2>/dev/null # left by a run killed with -9

echo "lotrace: live on lo, ports $PORTS, with demo traffic (as root; Ctrl-C ends it)" >&2
: >"$tmp/out"
# stdbuf: lines appear as connections end although stdout is a file here
stdbuf -oL "$LT" --no-tui --port "$PORTS" --duration 60s --report "$tmp/report.md" "$@" >"$tmp/out" &
lt=$!
tail -n +1 -f --pid="$lt" "$tmp/out" &
view=$!

say "1/5 a healthy service on 127.0.0.1:$P_CLEAN: request, reply, close (closed)"
if serve clean --addr 127.0.0.1 --port $P_CLEAN --mode reply; then
	# the first connections also tell when lotrace is watching
	# (a connection made before lotrace watches goes unseen: try again)
	for _ in $(seq 15); do
		client --addr 127.0.0.1 --port $P_CLEAN --send 64 --expect-reply --timeout-ms 500
		for _ in $(seq 20); do
			seen "-> [^ ]*:$P_CLEAN \|\"server_port\":$P_CLEAN" && break 2
			kill -0 "$lt" 2>/dev/null || break 2
			sleep 0.1
		done
	done
	client --addr 127.0.0.1 --port $P_CLEAN --send 200 --expect-reply
fi
if ! kill -0 "$lt" 2>/dev/null; then
	wait "$lt"
	st=$?
	lt=
	echo "demo: lotrace ended early (exit $st)" >&2
	exit "$st"
fi

sleep 1.5
say "2/5 a server listens on [::1]:$P_V6 only; the client tries 127.0.0.1:$P_V6 first (refused), then [::1]:$P_V6 (closed), as a client dialing 'localhost' does"
if serve v6only --addr ::1 --port $P_V6 --v6only --mode reply; then
	client --addr 127.0.0.1 --port $P_V6 --timeout-ms 1000
	client --addr ::1 --port $P_V6 --send 64 --expect-reply
fi

sleep 1.5
say "3/5 a server that reads the request and resets the connection (reset-by-server)"
serve reset --addr 127.0.0.1 --port $P_RESET --mode reset-after-request &&
	client --addr 127.0.0.1 --port $P_RESET --send 64 --expect-reply

sleep 1.5
say "4/5 a server on 127.0.0.1:$P_OVER that never accepts (backlog 1); 12 clients at once overflow its accept queue: the first get in, the others' SYNs go unanswered (3 s)"
if serve overflow --addr 127.0.0.1 --port $P_OVER --backlog 1 --no-accept; then
	for _ in $(seq 12); do
		bg_client --addr 127.0.0.1 --port $P_OVER --timeout-ms 3000
	done
fi
say "5/5 an nft rule (table inet $TABLE) drops SYNs to 127.0.0.1:$P_DROP; the client retries, then gives up (unanswered, 3 s)"
if ! command -v nft >/dev/null; then
	echo "demo: skipped: no nft command (apt-get install nftables)" >&2
elif ! { nft add table inet $TABLE &&
	nft add chain inet $TABLE in '{ type filter hook input priority -10; }' &&
	nft add rule inet $TABLE in tcp dport $P_DROP tcp flags syn drop; } 2>"$tmp/nft.err"; then
	echo "demo: skipped: nft cannot add the rule: $(head -1 "$tmp/nft.err")" >&2
	nft delete table inet $TABLE 2>/dev/null
else
	bg_client --addr 127.0.0.1 --port $P_DROP --timeout-ms 3000
fi
[ ${#clients[@]} -gt 0 ] && wait "${clients[@]}" # they end by themselves within 3 s
clients=()
nft delete table inet $TABLE 2>/dev/null

# stop the servers (the overflow one resets what sits in its queue), then lotrace
for p in "${servers[@]}"; do kill "$p" 2>/dev/null; done
wait "${servers[@]}" 2>/dev/null
servers=()
sleep 1.5
echo >&2
kill -INT "$lt"
wait "$lt"
st=$?
lt=
wait "$view" 2>/dev/null # tail: the last lines
view=
if [ -s "$tmp/report.md" ]; then
	# after plain lines on stdout; after JSON on stderr, to keep stdout JSON
	case " $* " in *" --json "* | *" --format"*) exec 3>&2 ;; *) exec 3>&1 ;; esac
	{
		echo
		echo "demo: the diagnosis from lotrace's report (--report FILE writes all of it):"
		echo
		sed -n '1p' "$tmp/report.md"
		echo
		sed -n '/^## Diagnosis/,/^## /p' "$tmp/report.md" | sed '$d'
	} >&3
fi
exit "$st"
