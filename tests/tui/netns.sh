#!/bin/bash
# netns.sh - the TUI's NETNS column (eBPF, needs root): hidden while every
# connection is in one namespace; once a client in an `ip netns`
# namespace is refused on 127.0.0.1:P (the server listens on the host's),
# the list names each row's namespace: the refused row's, the host's for
# the answered one. The filter finds rows by namespace name. The
# namespace and the processes are removed after, even on failure.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tui-lib.sh"
NS=lt-tui-$$
cleanup() {
	tui_cleanup
	ip netns del $NS 2>/dev/null
}
trap cleanup EXIT

if [ "$(id -u)" != 0 ]; then
	echo "skip tui netns: needs root (eBPF, ip netns)"
	exit 0
fi
if ! command -v tmux >/dev/null; then
	fail "tui netns" "tmux is not installed (make deps)"
	exit 0
fi
PEER=$REPO/build/tools/lt_peer
[ -x "$PEER" ] || make -s -C "$REPO" build/tools/lt_peer >/dev/null 2>&1
if ! "$LOTRACE" --backend ebpf --no-tui --duration 1ms >/dev/null 2>&1; then
	echo "skip tui netns: no eBPF here"
	exit 0
fi
if ! command -v ip >/dev/null || ! ip netns add $NS 2>/dev/null; then
	echo "skip tui netns: cannot create a network namespace (ip netns add)"
	exit 0
fi
ip netns exec $NS ip link set lo up

for _ in $(seq 20); do
	P=$((62000 + RANDOM % 2000))
	ss -Hltn "sport = :$P" 2>/dev/null | grep -q . || break
done

S=netns
tui_start $S 160 30 "$LOTRACE --backend ebpf --port $P"
check "tui netns: eBPF live" "no eBPF title" tui_wait $S 'eBPF' 10

ready=$TUI_TMP/serve.ready
"$PEER" serve --addr 127.0.0.1 --port "$P" --mode reply --ready-file "$ready" >/dev/null 2>&1 &
TUI_PIDS+=($!)
for _ in $(seq 50); do [ -s "$ready" ] && break; sleep 0.1; done
"$PEER" connect --addr 127.0.0.1 --port "$P" --timeout-ms 2000 >/dev/null 2>&1
check "tui netns: an answered row" "no closed row" \
	tui_wait $S "127\.0\.0\.1:[0-9]+ +-> 127\.0\.0\.1:$P .* closed "
check "tui netns: no NETNS column with one namespace" "a NETNS column already" \
	eval '! tui_screen $S | grep -q NETNS'

sleep 1.2 # the eBPF source looks for new namespaces every second
ip netns exec $NS "$PEER" connect --addr 127.0.0.1 --port "$P" --timeout-ms 2000 >/dev/null 2>&1
check "tui netns: the NETNS column, once a second namespace was seen" "no NETNS title" \
	tui_wait $S "SERVER +NETNS +PROCESS"
check "tui netns: the refused row names its namespace" "no '... -> 127.0.0.1:$P $NS refused'" \
	tui_wait $S "127\.0\.0\.1:[0-9]+ +-> 127\.0\.0\.1:$P +$NS +.* refused "
check "tui netns: the answered row names the host's" "no '... -> 127.0.0.1:$P host ... closed'" \
	tui_wait $S "127\.0\.0\.1:[0-9]+ +-> 127\.0\.0\.1:$P +host +.* closed "

# the filter looks in the namespace's name
tui_keys $S '\' && tui_keys $S -l "$NS" && tui_keys $S Enter
check "tui netns: the filter finds the namespace" "the host's row still listed" \
	tui_wait_gone $S "127\.0\.0\.1:$P +host "
check "tui netns: ... and keeps its row" "no $NS row" \
	tui_wait $S "127\.0\.0\.1:$P +$NS +.* refused "

tui_keys $S q
check "tui netns: q quits" "still running" tui_wait_dead $S 5
cleanup
trap - EXIT
ip netns list | grep -q "^$NS\b" && fail "tui netns: namespace" "left: $NS" ||
	ok "tui netns: the test's namespace is gone"
