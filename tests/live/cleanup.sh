#!/bin/bash
# live/cleanup.sh - lotrace leaves the system as it found it.
#
# After a normal exit (--duration), after SIGINT, SIGTERM and SIGKILL (and a
# new run after the kill), no BPF program, link, tc filter or qdisc of
# lotrace's remains on lo, and no lotrace process. Also the forced clsact
# fallback: its filter and the qdisc it created go away, a foreign filter
# on lo egress survives, and a stale filter of a SIGKILLed run is removed
# by the next run.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
trap 'pkill -KILL -f "lotrace-cleanup-test" 2>/dev/null; tc filter del dev lo egress pref 7 2>/dev/null; [ -n "${qdisc_added:-}" ] && tc qdisc del dev lo clsact 2>/dev/null; rm -rf "$tmp"' EXIT

if ! "$LOTRACE" --backend ebpf --port 1 --duration 1ms --no-tui >/dev/null 2>&1; then
	echo "note: no eBPF backend in this build or kernel; checking pcap runs only"
	ebpf=0
else
	ebpf=1
fi

# traces: everything of ours that could outlive a run, as text
# A BPF program of ours held by no process is a leak; one held by a process
# is someone's live run (another lotrace on this machine), not a leftover.
# Programs are freed asynchronously after their last holder exits, so
# check_clean polls for a few seconds.
traces() {
	bpftool -j prog show 2>/dev/null | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    n = p.get("name", "")
    if (n.startswith("lt_") or n.startswith("lotrace")) and not p.get("pids"):
        print("leaked BPF program %d %s" % (p["id"], n))'
	tc filter show dev lo egress 2>/dev/null | grep -i lotrace
	tc filter show dev lo ingress 2>/dev/null | grep -i lotrace
	[ -z "${qdisc_added:-}" ] && tc qdisc show dev lo 2>/dev/null | grep clsact
	pgrep -f "lotrace-cleanup-test" >/dev/null && echo "process still running"
}

# run_and_stop NAME SIGNAL EXTRA-ARGS...: start, wait until capturing, send SIGNAL
run_and_stop() {
	local name=$1 sig=$2; shift 2
	# argv[0] tagged so pgrep finds only our runs
	bash -c 'exec -a lotrace-cleanup-test "$0" "$@"' "$LOTRACE" --no-tui -v "$@" >/dev/null 2>"$tmp/$name.err" &
	local p=$!
	for _ in $(seq 100); do grep -q capturing "$tmp/$name.err" && break; sleep 0.05; done
	kill "-$sig" $p; wait $p 2>/dev/null
	sleep 0.3
}

check_clean() { # check_clean NAME
	local left
	for _ in $(seq 30); do left=$(traces); [ -z "$left" ] && break; sleep 0.1; done
	[ -z "$left" ] && ok "nothing left after $1" || fail "nothing left after $1" "$left"
}

check_clean "earlier runs (before this test)"

for b in pcap $([ $ebpf = 1 ] && echo ebpf); do
	"$LOTRACE" --backend $b --no-tui --duration 500ms >/dev/null 2>&1
	check_clean "$b: a normal exit"
	run_and_stop "$b-int" INT --backend $b
	check_clean "$b: SIGINT"
	run_and_stop "$b-term" TERM --backend $b
	check_clean "$b: SIGTERM"
	run_and_stop "$b-kill" KILL --backend $b
	check_clean "$b: SIGKILL"
done

if [ $ebpf = 1 ]; then
	for i in 1 2 3 4 5; do run_and_stop "kill$i" KILL --backend ebpf; done
	check_clean "five SIGKILLed eBPF runs in a row"
	"$LOTRACE" --backend ebpf --no-tui --duration 300ms >/dev/null 2>&1
	check_clean "a new run after SIGKILL"

	# the clsact fallback, with a foreign filter on lo egress that must survive
	if tc qdisc add dev lo clsact 2>/dev/null; then qdisc_added=1; fi
	tc filter add dev lo egress pref 7 protocol all bpf bytecode '1,6 0 0 4294967295,' classid 1:1
	foreign=$(tc filter show dev lo egress | grep -c 'pref 7')
	"$LOTRACE" --backend ebpf --attach tc --no-tui --duration 300ms >/dev/null 2>"$tmp/cls.err"
	[ -z "$(tc filter show dev lo egress | grep -i lotrace)" ] && ok "clsact: our filter removed at exit" || fail "clsact exit" "$(tc filter show dev lo egress)"
	run_and_stop cls-kill KILL --backend ebpf --attach tc
	stale=$(tc filter show dev lo egress | grep -ci lotrace)
	"$LOTRACE" --backend ebpf --attach tc --no-tui --duration 300ms >/dev/null 2>&1
	[ -z "$(tc filter show dev lo egress | grep -i lotrace)" ] && ok "clsact: stale filter of a killed run ($stale) removed by the next run" || fail "clsact stale" "$(tc filter show dev lo egress)"
	[ "$(tc filter show dev lo egress | grep -c 'pref 7')" = "$foreign" ] && [ "$foreign" -gt 0 ] && ok "clsact: a foreign filter survives" || fail "foreign filter" "gone"
	tc filter del dev lo egress pref 7 2>/dev/null
	[ -n "${qdisc_added:-}" ] && tc qdisc del dev lo clsact 2>/dev/null && qdisc_added=
	check_clean "the clsact tests"
fi
