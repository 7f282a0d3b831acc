#!/bin/bash
# live/cleanup.sh - lotrace leaves the system as it found it.
#
# After a normal exit (--duration), after SIGINT, SIGTERM and SIGKILL (and a
# new run after the kill), no BPF program, link, tc filter or qdisc of
# lotrace's remains on lo, and no lotrace process. Also the forced clsact
# fallback: its filter and the qdisc it created go away, a foreign filter
# on lo egress survives, and a stale filter of a SIGKILLed run is removed
# by the next run. The clsact fallback's guard process removes the filter
# (and the qdisc lotrace created) after a SIGKILL at any moment: ten kills
# at random moments without a clsact qdisc before, five with a foreign
# qdisc and filter, which survive; the guard itself never stays.
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
	# (a zombie has no command line: pgrep -f does not see it)
	pgrep -f "lotrace-cleanup-test" >/dev/null && echo "process still running: $(pgrep -af lotrace-cleanup-test)"
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

# kill_at_random NAME: start --attach tc, SIGKILL it 0-1500 ms later
# (while loading, attaching or capturing); prints the delay in ms
kill_at_random() {
	local ms=$((RANDOM % 1500))
	bash -c 'exec -a lotrace-cleanup-test "$0" "$@"' "$LOTRACE" --no-tui --backend ebpf --attach tc >/dev/null 2>"$tmp/$1.err" &
	local p=$!
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -KILL $p; wait $p 2>/dev/null
	echo $ms
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
	# kill the guard first: the filter stays, as it would on a kernel that
	# never ran the guard, and the next run's sweep must remove it
	bash -c 'exec -a lotrace-cleanup-test "$0" "$@"' "$LOTRACE" --no-tui -v --backend ebpf --attach tc >/dev/null 2>"$tmp/cls-kill.err" &
	p=$!
	for _ in $(seq 100); do grep -q capturing "$tmp/cls-kill.err" && break; sleep 0.05; done
	pkill -KILL -P $p; kill -KILL $p; wait $p 2>/dev/null
	stale=$(tc filter show dev lo egress | grep -ci lotrace)
	"$LOTRACE" --backend ebpf --attach tc --no-tui --duration 300ms >/dev/null 2>&1
	[ -z "$(tc filter show dev lo egress | grep -i lotrace)" ] && ok "clsact: stale filter of a killed run ($stale) removed by the next run" || fail "clsact stale" "$(tc filter show dev lo egress)"
	[ "$(tc filter show dev lo egress | grep -c 'pref 7')" = "$foreign" ] && [ "$foreign" -gt 0 ] && ok "clsact: a foreign filter survives" || fail "foreign filter" "gone"
	# SIGKILL at random moments (loading, attaching, capturing), the
	# foreign qdisc and filter present: the guard removes only ours
	for i in 1 2 3 4 5; do kill_at_random "fk$i" >/dev/null; done
	check_clean "clsact: five random SIGKILLs next to a foreign filter"
	[ "$(tc filter show dev lo egress | grep -c 'pref 7')" = "$foreign" ] && tc qdisc show dev lo | grep -q clsact &&
		ok "clsact: foreign filter and qdisc survive five random SIGKILLs" || fail "foreign filter after kills" "$(tc filter show dev lo egress)"
	tc filter del dev lo egress pref 7 2>/dev/null
	[ -n "${qdisc_added:-}" ] && tc qdisc del dev lo clsact 2>/dev/null && qdisc_added=
	check_clean "the clsact tests"

	# no clsact before: ten SIGKILLs at random moments, each checked
	if tc qdisc show dev lo | grep -q clsact; then
		echo "note: lo has a clsact qdisc of someone else; skipping the ten-kill test"
	else
		for i in $(seq 10); do
			delay=$(kill_at_random "k$i")
			check_clean "clsact: SIGKILL $i of 10 after $delay ms (guard removed filter, qdisc and program)"
		done
	fi
fi
