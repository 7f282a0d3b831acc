#!/bin/bash
# live/privs.sh - without privileges: one clear line and exit 1 for a live
# run (eBPF refused, libpcap refused), while replaying a file still works.
. "$(dirname "$0")/../lib.sh"
command -v setpriv >/dev/null || { fail "privs" "setpriv missing (util-linux)"; exit 0; }
tmp=$(mktemp -d); chmod 755 "$tmp"; trap 'rm -rf "$tmp"; ip netns del lt-privs-$$ 2>/dev/null' EXIT
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$@"; }
cp "$REPO/captures/clean.pcap" "$tmp/"; chmod 644 "$tmp/clean.pcap"

nobody "$LOTRACE" --port 61900 --no-tui >"$tmp/out" 2>"$tmp/err"
st=$?
if [ $st = 1 ] && [ "$(grep -c . "$tmp/err")" = 1 ] && grep -q "permission denied; run as root" "$tmp/err" && [ ! -s "$tmp/out" ]; then
	ok "live run without privileges: one line naming the fix, exit 1"
else
	fail "unprivileged live run" "exit $st: $(cat "$tmp/err")"
fi
nobody "$LOTRACE" --backend ebpf --port 61900 --no-tui >"$tmp/out" 2>"$tmp/err"
st=$?
if [ $st = 1 ] && grep -qE "cannot load the eBPF program: .*(not permitted|denied).*(root|--backend pcap)" "$tmp/err"; then
	ok "--backend ebpf without privileges: says why and what to do"
elif grep -q "built without eBPF" "$tmp/err"; then
	ok "--backend ebpf: this build has no eBPF, and says so"
else
	fail "unprivileged --backend ebpf" "exit $st: $(cat "$tmp/err")"
fi
nobody "$LOTRACE" -r "$tmp/clean.pcap" >"$tmp/out" 2>"$tmp/err" && grep -q " closed " "$tmp/out" &&
	ok "replay works without privileges" || fail "unprivileged replay" "$(cat "$tmp/err")"
nobody "$LOTRACE" -i nosuch0 --backend pcap --no-tui >"$tmp/out" 2>"$tmp/err"
grep -qE "no such interface 'nosuch0'|cannot capture on 'nosuch0'" "$tmp/err" && ok "missing interface named" || fail "missing interface" "$(cat "$tmp/err")"
"$LOTRACE" -i nosuch0 --backend pcap --no-tui >"$tmp/out" 2>"$tmp/err"
st=$?
[ $st = 1 ] && grep -q "no such interface 'nosuch0'; list interfaces with 'ip link'" "$tmp/err" && ok "missing interface (root): the fix is named" || fail "missing interface as root" "exit $st $(cat "$tmp/err")"

# ---- -Z: a live run gives up root once its capture and outputs are open ----
# What stays is what lotrace(8) (PRIVILEGES) documents: CAP_DAC_READ_SEARCH and
# CAP_SYS_PTRACE (owners of listening sockets in other users' /proc/PID/fd),
# plus CAP_SYS_ADMIN while eBPF watches every namespace with
# tcx, plus CAP_BPF on kernels before 6.5. Each value checked here must be the
# one the man page lists.
PEER=${PEER:-$REPO/build/tools/lt_peer}
[ -x "$PEER" ] || make -s -C "$REPO" build/tools/lt_peer >/dev/null 2>&1
# tcx links lotrace holds, as the kernel describes its descriptors
tcx_links() { grep -ls "^link_type:[[:space:]]*tcx" /proc/$1/fdinfo/* 2>/dev/null | wc -l; }
st_field() { awk -v f="$2:" '$1 == f { print $2; exit }' "/proc/$1/status" 2>/dev/null; }
kernel_old=0
IFS=. read -r kmaj kmin _ <<<"$(uname -r)"
{ [ "$kmaj" -lt 6 ] || { [ "$kmaj" = 6 ] && [ "${kmin%%[!0-9]*}" -lt 5 ]; }; } && kernel_old=1
free_port() {
	local p
	for _ in $(seq 50); do
		p=$((62100 + RANDOM % 1800))
		ss -Hltn "sport = :$p" 2>/dev/null | grep -q . || { echo $p; return; }
	done
}
# the CapEff lotrace(8) documents for a run whose -v line is $1
expected_capeff() {
	local v=$((0x80004))
	grep -q "(every namespace)" <<<"$1" && v=$((v | 0x200000))
	[ "$kernel_old" = 1 ] && v=$((v | 1 << 39))
	printf '%016x\n' $v
}
# wait until the run's -v line says it captures (the drop is done by then)
wait_started() {
	for _ in $(seq 100); do
		grep -qs "capturing with" "$1" && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# check_dropped NAME PID ERRFILE: uid nobody, CapEff as documented, no_new_privs,
# in every thread
check_dropped() {
	local name=$1 pid=$2 err=$3 want t bad=
	want=$(expected_capeff "$(grep "capturing with" "$err")")
	for t in /proc/$pid/task/*; do
		t=${t#/proc/$pid/task/}
		[ "$(st_field "$pid/task/$t" Uid)" = 65534 ] || bad="$bad thread $t uid $(st_field "$pid/task/$t" Uid);"
		[ "$(st_field "$pid/task/$t" Gid)" = 65534 ] || bad="$bad thread $t gid $(st_field "$pid/task/$t" Gid);"
		[ "$(st_field "$pid/task/$t" CapEff)" = "$want" ] || bad="$bad thread $t CapEff $(st_field "$pid/task/$t" CapEff) want $want;"
		[ "$(st_field "$pid/task/$t" CapPrm)" = "$want" ] || bad="$bad thread $t CapPrm $(st_field "$pid/task/$t" CapPrm);"
		[ "$(st_field "$pid/task/$t" CapBnd)" = "$want" ] || bad="$bad thread $t CapBnd $(st_field "$pid/task/$t" CapBnd);"
		[ "$(st_field "$pid/task/$t" NoNewPrivs)" = 1 ] || bad="$bad thread $t no NoNewPrivs;"
	done
	[ "$(awk '$1 == "Groups:" { $1 = ""; print }' /proc/$pid/status | xargs)" = 65534 ] || bad="$bad groups $(grep Groups: /proc/$pid/status);"
	[ "$kernel_old" = 1 ] || grep -q "^\.It Li $want\$" "$REPO/docs/lotrace.8" || bad="$bad CapEff $want is not in lotrace(8);"
	if [ -z "$bad" ]; then ok "$name: uid/gid nobody, CapEff $want as lotrace(8) says, no_new_privs, every thread"
	else fail "$name" "$bad"; fi
}

P=$(free_port)
have_bpf=1
"$LOTRACE" --version 2>/dev/null | grep -qi "ebpf" || have_bpf=0
runs=("pcap|--backend pcap")
[ $have_bpf = 1 ] && runs+=("ebpf default|--backend ebpf" "ebpf --netns host|--backend ebpf --netns host" "ebpf --attach tc|--backend ebpf --attach tc")
for r in "${runs[@]}"; do
	name=${r%%|*} args=${r#*|}
	mp=$(free_port)
	rm -f "$tmp/drop.out" "$tmp/drop.err" # not the last run's lines: the shell truncates later
	# shellcheck disable=SC2086
	"$LOTRACE" $args --port "$P" --no-tui -v --metrics 127.0.0.1:$mp >"$tmp/drop.out" 2>"$tmp/drop.err" &
	lt=$!
	if ! wait_started "$tmp/drop.err" $lt; then
		fail "-Z default, $name" "did not start: $(grep -v libbpf "$tmp/drop.err" | tail -3)"
		kill $lt 2>/dev/null; wait $lt 2>/dev/null; continue
	fi
	check_dropped "-Z default, $name" $lt "$tmp/drop.err"
	ns= links0=$(tcx_links $lt)
	if grep -q "(every namespace)" "$tmp/drop.err" && ip netns add "lt-privs-$$" 2>/dev/null; then
		# made after the drop: found, entered and attached with what was kept
		ns=lt-privs-$$
		ip netns exec $ns ip link set lo up
	fi
	# after the drop: the capture still sees connections, the metrics thread
	# serves, and who listens is still named: root's lt_peer, on ::1 only,
	# in the note on a refusal to 127.0.0.1 (other users' /proc/PID/fd)
	"$PEER" serve --addr ::1 --port "$P" --v6only --mode reply --ready-file "$tmp/ready" >/dev/null 2>&1 &
	srv=$!
	for _ in $(seq 50); do [ -s "$tmp/ready" ] && break; sleep 0.1; done
	spid=$(cat "$tmp/ready")
	"$PEER" connect --addr ::1 --port "$P" --send 10 --expect-reply >/dev/null 2>&1
	"$PEER" connect --addr 127.0.0.1 --port "$P" --timeout-ms 500 >/dev/null 2>&1
	sleep 1.5
	m=$(curl -sf "http://127.0.0.1:$mp/metrics" 2>/dev/null)
	if [ -n "$ns" ]; then
		links1=$(tcx_links $lt)
		[ "$links1" = $((links0 + 1)) ] &&
			ok "-Z default, $name: a namespace made after the drop gets its tcx link ($links0 -> $links1)" ||
			fail "-Z default, $name: namespace made after the drop" "tcx links held by lotrace: $links0 -> $links1"
		ip netns del $ns
	fi
	kill $srv 2>/dev/null; wait $srv 2>/dev/null; rm -f "$tmp/ready"
	kill -INT $lt; wait $lt; st=$?
	if [ $st = 0 ] && grep -q " closed " "$tmp/drop.out" && grep -q "^lotrace_connections_total" <<<"$m" &&
		grep -qE "refused; listening on $P: \[::1\]:$P lt_peer\[$spid\]" "$tmp/drop.out"; then
		ok "-Z default, $name: after the drop it traces, serves metrics and names root's listener"
	else
		fail "-Z default, $name: after the drop" "exit $st; out: $(grep -v '^#' "$tmp/drop.out" | head -2); notes: $(grep '^#' "$tmp/drop.out" | tail -1); metrics: $(grep -c . <<<"$m") lines; err: $(grep -v libbpf "$tmp/drop.err" | tail -2)"
	fi
	grep -q "running as uid 65534, keeping " "$tmp/drop.err" &&
		ok "-Z default, $name: -v names the uid and the capabilities kept" ||
		fail "-Z default, $name: -v line" "$(grep -v libbpf "$tmp/drop.err" | tail -3)"
done

# the clsact hook goes at a normal exit although lotrace lost CAP_NET_ADMIN: the guard removes it
if [ $have_bpf = 1 ]; then
	before=$(tc qdisc show dev lo | grep -c clsact)
	"$LOTRACE" --backend ebpf --attach tc --port "$P" --no-tui --duration 2s >/dev/null 2>"$tmp/tc.err"
	st=$?
	left=$(tc filter show dev lo egress 2>/dev/null | grep -c lotrace_tc)
	after=$(tc qdisc show dev lo | grep -c clsact)
	[ $st = 0 ] && [ "$left" = 0 ] && [ "$after" = "$before" ] &&
		ok "-Z default, --attach tc: nothing left on lo after a normal exit (the guard removed it)" ||
		fail "--attach tc exit after the drop" "exit $st, $left lotrace_tc filters, clsact $before -> $after: $(cat "$tmp/tc.err")"
fi

# -Z root keeps root and every capability, as tcpdump -Z root
"$LOTRACE" --backend pcap -Z root --port "$P" --no-tui -v >"$tmp/root.out" 2>"$tmp/root.err" &
lt=$!
if wait_started "$tmp/root.err" $lt && [ "$(st_field $lt Uid)" = 0 ] &&
	[ "$(st_field $lt CapEff)" = "$(st_field $$ CapEff)" ] && [ "$(st_field $lt NoNewPrivs)" = 0 ]; then
	ok "-Z root: uid 0, CapEff $(st_field $lt CapEff) as the shell that started it"
else
	fail "-Z root" "uid $(st_field $lt Uid) CapEff $(st_field $lt CapEff) NoNewPrivs $(st_field $lt NoNewPrivs)"
fi
kill -INT $lt 2>/dev/null; wait $lt

# a replay as root drops too, once the file is open (everything: CapEff 0);
# --speed 1 makes it last as long as the capture (3 s)
cp "$REPO/captures/unanswered.pcap" "$tmp/"
"$LOTRACE" -r "$tmp/unanswered.pcap" --speed 1 --no-tui >"$tmp/rep.out" 2>"$tmp/rep.err" &
lt=$!
sleep 1
if [ "$(st_field $lt Uid)" = 65534 ] && [ "$(st_field $lt CapEff)" = 0000000000000000 ] &&
	[ "$(st_field $lt NoNewPrivs)" = 1 ]; then
	ok "replay as root: uid nobody, CapEff 0, no_new_privs while reading"
else
	fail "replay as root drops" "uid $(st_field $lt Uid) CapEff $(st_field $lt CapEff)"
fi
wait $lt
grep -q " unanswered " "$tmp/rep.out" && ok "replay as root: the connections after the drop" || fail "replay after drop" "$(cat "$tmp/rep.err")"

# errors: an unknown user is a usage error (exit 2), a switch that cannot be made stops (exit 1)
"$LOTRACE" -Z no-such-user-lt -r "$tmp/clean.pcap" >"$tmp/out" 2>"$tmp/err"
st=$?
[ $st = 2 ] && [ "$(grep -c . "$tmp/err")" = 1 ] && grep -q "^lotrace: unknown user 'no-such-user-lt' for -Z: " "$tmp/err" && [ ! -s "$tmp/out" ] &&
	ok "-Z unknown user: one line, exit 2" || fail "-Z unknown user" "exit $st: $(cat "$tmp/err")"
setpriv --bounding-set=-setuid,-setgid --inh-caps=-setuid,-setgid "$LOTRACE" -r "$tmp/clean.pcap" >"$tmp/out" 2>"$tmp/err"
st=$?
[ $st = 1 ] && [ "$(grep -c . "$tmp/err")" = 1 ] && grep -q "^lotrace: cannot drop privileges: .*use -Z root" "$tmp/err" && [ ! -s "$tmp/out" ] &&
	ok "root without CAP_SETUID: the drop fails with one line, exit 1, nothing read as root" ||
	fail "failed drop" "exit $st: $(cat "$tmp/err"); out $(wc -l <"$tmp/out") lines"
nobody "$LOTRACE" -Z root -r "$tmp/clean.pcap" >"$tmp/out" 2>"$tmp/err"
st=$?
[ $st = 2 ] && grep -q "^lotrace: cannot become user 'root' for -Z: lotrace is not running as root" "$tmp/err" &&
	ok "-Z without root: one line, exit 2" || fail "-Z without root" "exit $st: $(cat "$tmp/err")"
# --metrics-file is replaced every interval: a directory nobody cannot write stops the run at once
mkdir -m 700 "$tmp/rootonly"
"$LOTRACE" -r "$tmp/clean.pcap" --metrics-file "$tmp/rootonly/m.prom" >"$tmp/out" 2>"$tmp/err"
st=$?
[ $st = 1 ] && [ "$(grep -c . "$tmp/err")" = 1 ] && grep -q "cannot write --metrics-file '.*' as user 'nobody': Permission denied" "$tmp/err" &&
	ok "--metrics-file where nobody cannot write: one line naming -Z, exit 1" || fail "--metrics-file after the drop" "exit $st: $(cat "$tmp/err")"
