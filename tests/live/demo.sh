#!/bin/bash
# live/demo.sh - `make run`'s live demo (tests/run-default.sh, as root) shows
# every verdict it announces and the report's diagnosis, and leaves nothing
# behind: no nft table, no lt_peer or lotrace process, no tc filter or qdisc
# on lo, no temporary directory; also when it is interrupted (Ctrl-C to its
# process group while the nft rule is in place, or SIGTERM to the script).
# Needs root; run it under the live lock (run-all.sh's live section is).
. "$(dirname "$0")/../lib.sh"
[ -x "$REPO/build/tools/lt_peer" ] || make -s -C "$REPO" build/tools/lt_peer >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# What may be left behind, as text to compare before and after.
leftovers() {
	nft list tables 2>/dev/null | grep lotrace_demo
	pgrep -af 'lt_peer (serve|connect) .*--port 6190[0-4]'
	pgrep -af 'lotrace --no-tui --port 61900,'
	tc qdisc show dev lo
	tc filter show dev lo ingress 2>/dev/null
	tc filter show dev lo egress 2>/dev/null
	ls -d /tmp/lotrace-demo.* 2>/dev/null
}
leftovers >"$tmp/before"

# have NAME PATTERN: the demo's output has a line matching PATTERN
have() {
	if grep -qE -- "$2" "$tmp/out"; then ok "demo: $1"; else fail "demo: $1" "no line matches /$2/"; fi
}

"$REPO/tests/run-default.sh" >"$tmp/out" 2>"$tmp/err" </dev/null
st=$?
[ $st = 0 ] && ok "demo: exits 0" || fail "demo: exits 0" "exit $st: $(tail -3 "$tmp/err")"
for n in 1 2 3 4 5; do
	grep -q "^demo: $n/5 " "$tmp/err" && ok "demo: step $n announced" ||
		fail "demo: step $n announced" "$(grep '^demo:' "$tmp/err" | tr '\n' '|')"
done
grep -q '^demo: skipped' "$tmp/err" && fail "demo: no step skipped" "$(grep '^demo: skipped' "$tmp/err")"

ebpf=0
grep -q 'client=lt_peer\[' "$tmp/out" && ebpf=1
have "a clean connection" '127\.0\.0\.1:[0-9]+ +-> 127\.0\.0\.1:61902 +closed '
have "refused on 127.0.0.1 while the server listens on ::1" '127\.0\.0\.1:[0-9]+ +-> 127\.0\.0\.1:61900 +refused '
have "then answered on ::1" '\[::1\]:[0-9]+ +-> \[::1\]:61900 +closed '
have "a reset after the request" '-> 127\.0\.0\.1:61901 +reset-by-server \(after-data\)'
have "accept queue overflow: SYNs unanswered" '-> 127\.0\.0\.1:61903 +unanswered '
have "SYNs dropped by the nft rule: unanswered" '-> 127\.0\.0\.1:61904 +unanswered '
have "the per-port summary" '^61904 +1 +1 +0 +0 +1 '
have "no events lost" '^lost events: 0$'
have "ends with the report's diagnosis" '^## Diagnosis$'
have "diagnosis: refused on IPv4 but ::1 answered" 'Refused on IPv4 `127\.0\.0\.1:61900`, but `\[::1\]:61900` answered'
if [ $ebpf = 1 ]; then
	have "eBPF: the overflow is named" '-> 127\.0\.0\.1:61903 +unanswered .*accept-queue-overflow'
	have "eBPF: the firewall drop is named" '-> 127\.0\.0\.1:61904 +unanswered .*NETFILTER_DROP'
	have "diagnosis: the accept queue is full" 'SYNs to `127\.0\.0\.1:61903` dropped: the listener.s accept queue is full'
	have "diagnosis: dropped by a firewall rule" 'SYNs to `127\.0\.0\.1:61904` dropped by a firewall rule'
	have "diagnosis: reset after the request" 'Server reset the connection right after the request on `127\.0\.0\.1:61901`'
else
	echo "note: the demo ran with libpcap: no kernel context to check"
fi
grep -q 'built without eBPF' "$tmp/err" && fail "demo: uses eBPF when built with it" "$(grep 'built without' "$tmp/err")"

leftovers >"$tmp/after"
if cmp -s "$tmp/before" "$tmp/after"; then ok "demo: leaves nothing behind"
else fail "demo: leaves nothing behind" "$(diff "$tmp/before" "$tmp/after" | tr '\n' '|')"; fi

# interrupted: wait until the nft rule is in place, then Ctrl-C or SIGTERM
interrupt() { # interrupt NAME SIGNAL TARGET(group|script)
	set -m # its own process group, as a terminal's foreground job
	# not the last run's "5/5": the child truncates err only once it runs
	: >"$tmp/out"; : >"$tmp/err"
	"$REPO/tests/run-default.sh" >"$tmp/out" 2>"$tmp/err" </dev/null &
	local pid=$!
	set +m
	for _ in $(seq 300); do
		grep -q '^demo: 5/5 ' "$tmp/err" && break
		sleep 0.05
	done
	sleep 0.3
	if nft list tables | grep -q lotrace_demo; then ok "demo $1: the nft table exists while it runs"
	else fail "demo $1: the nft table exists while it runs" "$(tail -2 "$tmp/err")"; fi
	if [ "$3" = group ]; then kill -"$2" -- -"$pid"; else kill -"$2" "$pid"; fi
	local t0=$SECONDS
	wait "$pid"
	local st=$?
	[ $st != 0 ] && [ $((SECONDS - t0)) -le 5 ] && ok "demo $1: stops (exit $st) within 5 s" ||
		fail "demo $1: stops" "exit $st after $((SECONDS - t0)) s"
	sleep 0.3
	leftovers >"$tmp/after"
	if cmp -s "$tmp/before" "$tmp/after"; then ok "demo $1: leaves nothing behind"
	else fail "demo $1: leaves nothing behind" "$(diff "$tmp/before" "$tmp/after" | tr '\n' '|')"; fi
}
interrupt "Ctrl-C" INT group
interrupt "SIGTERM" TERM script
