#!/bin/bash
# live/timeouts.sh - the anatomy of a connect timeout: in a throwaway
# network namespace (its own lo and sysctls; removed on exit), an nft rule
# drops SYNs to two ports and tcp_syn_retries is 2 (with the 6.18 default
# tcp_syn_linear_timeouts 4: SYNs at 0..5 s, ETIMEDOUT at 7 s). A client
# that gives up after 2 s on P, one left to the kernel on P+1; lotrace
# (pcap backend, inside the namespace) must say who gave up: the client
# after its SYNs, with the next SYN the kernel would have sent, and the
# kernel's whole schedule on P+1.
. "$(dirname "$0")/../lib.sh"
for t in ip nft python3; do
	command -v $t >/dev/null || { echo "SKIP timeouts: $t not installed (make deps)"; exit 0; }
done
[ "$(id -u)" = 0 ] || { echo "SKIP timeouts: needs root"; exit 0; }
NS=lotrace-timeouts-$$
tmp=$(mktemp -d)
trap 'kill $lt 2>/dev/null; wait 2>/dev/null; ip netns del $NS 2>/dev/null; rm -rf "$tmp"' EXIT
P=62180
ip netns add $NS || { fail "timeouts" "cannot create a network namespace"; exit 0; }
in_ns() { ip netns exec $NS "$@"; }
in_ns ip link set lo up
in_ns nft -f - <<EOF2 || { fail "timeouts" "nft rule"; exit 0; }
table inet lotrace_timeouts {
	chain input { type filter hook input priority 0; tcp dport { $P, $((P + 1)) } tcp flags syn drop; }
}
EOF2
in_ns sysctl -qw net.ipv4.tcp_syn_retries=2
linear=$(in_ns cat /proc/sys/net/ipv4/tcp_syn_linear_timeouts 2>/dev/null || echo absent)

in_ns "$LOTRACE" --backend pcap --port "$P,$((P + 1))" --no-tui -v --duration 10s \
	--report "$tmp/live.md" >"$tmp/out" 2>"$tmp/err" &
lt=$!
for _ in $(seq 100); do grep -q capturing "$tmp/err" && break; sleep 0.05; done
kill -0 $lt 2>/dev/null || { fail "timeouts" "lotrace did not start: $(head -3 "$tmp/err")"; exit 0; }
in_ns python3 - $P >"$tmp/c1" <<'PY' &
import socket, sys, time
t = time.time()
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
except OSError as e:
    print("gave-up", e.errno, round(time.time() - t, 1))
PY
c1=$!
in_ns python3 - $((P + 1)) >"$tmp/c2" <<'PY'
import socket, sys, time
t = time.time()
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])))
except OSError as e:
    print("kernel", e.errno, round(time.time() - t, 1))
PY
wait $c1
wait $lt
grep -q "^kernel 110 " "$tmp/c2" && ok "the kernel's timeout: ETIMEDOUT after $(cut -d' ' -f3 "$tmp/c2") s" ||
	fail "kernel timeout" "$(cat "$tmp/c2")"

f1=$(grep -A2 "^- \*\*.*127\.0\.0\.1:$P\`" "$tmp/live.md")
f2=$(grep -A2 "^- \*\*.*127\.0\.0\.1:$((P + 1))\`" "$tmp/live.md")
if [ "$linear" = 4 ]; then
	echo "$f1" | grep -qE "This kernel \(\`tcp_syn_retries\` = 2, \`tcp_syn_linear_timeouts\` = 4\) re-sends an unanswered SYN at \+1\.00s, \+2\.00s, \+3\.00s, \+4\.00s, \+5\.00s and gives up \(ETIMEDOUT, errno 110\) at \+7\.00s: 6 SYNs in all" &&
		ok "the schedule from this namespace's sysctls" || fail "schedule" "$f1"
fi
echo "$f1" | grep -qE "The client gave up after [23] SYNs, between its last SYN \(\+[12]\.[0-9]+s\) and \+[23]\.00s, when the kernel would have sent the next; the kernel would have kept trying until \+7\.00s" &&
	ok "a client that gives up after 2 s: its own timeout, and the next SYN" || fail "client gave up" "$f1"
echo "$f2" | grep -q "The client's kernel sent its whole schedule: connect() fails with ETIMEDOUT at its end" &&
	ok "a client left to the kernel: the whole schedule" || fail "kernel gave up" "$f2"
