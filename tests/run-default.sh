#!/bin/bash
# run-default.sh - what `make run` does: lotrace on its embedded default.
#
# As root with a working loopback capture: a live run on lo for 15 seconds
# while a small demo client talks to a demo server (so there is something
# to see), in plain lines. Otherwise (no root): replay the bundled
# scenario capture. Extra arguments go to lotrace: make run ARGS="--json".
set -u
cd "$(dirname "$0")/.." || exit 1
LT=./build/lotrace
if [ "$(id -u)" = 0 ] && [ -x build/tools/lt_peer ]; then
	port=61900
	echo "lotrace: live on lo, port $port, 15 s, with demo traffic (as root)" >&2
	"$LT" --no-tui --port $port --duration 15s "$@" &
	lt=$!
	trap 'kill $lt 2>/dev/null; kill $srv 2>/dev/null' EXIT
	sleep 1.5
	build/tools/lt_peer connect --addr 127.0.0.1 --port $port --timeout-ms 500 >/dev/null   # refused
	build/tools/lt_peer serve --addr 127.0.0.1 --port $port --mode reply --duration-ms 8000 >/dev/null 2>&1 &
	srv=$!
	sleep 0.5
	build/tools/lt_peer connect --addr 127.0.0.1 --port $port --send 64 --expect-reply >/dev/null
	build/tools/lt_peer connect --addr ::1 --port $port --timeout-ms 500 >/dev/null       # refused on ::1
	wait $lt
	exit $?
fi
echo "lotrace: not root; replaying the bundled capture $(pwd)/captures/busy-mixed.pcap" >&2
exec "$LT" --demo --no-tui "$@"
