#!/bin/bash
# live/netns.sh - every network namespace's loopback (eBPF).
# A client in an `ip netns` namespace (created after lotrace started) dials
# 127.0.0.1:P while the server listens on the host's 127.0.0.1:P: refused,
# and lotrace names the namespace. The reverse (server inside, client on
# the host): refused in the host namespace, the same 4-tuple elsewhere is
# another connection. The report's finding names the namespace as the
# cause of both refusals, with the listener (or the answering process) in
# the other one. --netns narrows to one. Nothing is left after exit:
# no tcx link, no tc filter in any namespace, no namespace of the test.
. "$(dirname "$0")/../lib.sh"
PEER=$REPO/build/tools/lt_peer
tmp=$(mktemp -d)
NA=lt-test-cli-$$ NB=lt-test-srv-$$
lt= srv= srv2=
cleanup() {
	kill $lt $srv $srv2 2>/dev/null
	wait 2>/dev/null
	ip netns del $NA 2>/dev/null
	ip netns del $NB 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
if ! command -v ip >/dev/null || ! ip netns add $NB 2>/dev/null; then
	echo "skip netns: cannot create a network namespace (ip netns add)"
	exit 0
fi
ip netns exec $NB ip link set lo up
P=62070 Q=62071

"$LOTRACE" --backend ebpf --port $P,$Q --no-tui --json -v --duration 7s --report "$tmp/rep.md" \
	>"$tmp/out" 2>"$tmp/err" &
lt=$!
for _ in $(seq 100); do grep -q capturing "$tmp/err" && break; sleep 0.05; done
if ! kill -0 $lt 2>/dev/null; then
	grep -qE "without eBPF|cannot load the eBPF" "$tmp/err" && { echo "skip netns: no eBPF"; exit 0; }
	fail "netns: lotrace" "did not start: $(cat "$tmp/err")"
	exit 0
fi
# created after lotrace started: found by the next look (every second)
ip netns add $NA
ip netns exec $NA ip link set lo up
"$PEER" serve --addr 127.0.0.1 --port $P --mode reply --duration-ms 12000 --ready-file "$tmp/ready" >/dev/null 2>&1 &
srv=$!
ip netns exec $NB "$PEER" serve --addr 127.0.0.1 --port $Q --mode reply --duration-ms 12000 \
	--ready-file "$tmp/ready2" >/dev/null 2>&1 &
srv2=$!
for _ in $(seq 100); do [ -s "$tmp/ready" ] && [ -s "$tmp/ready2" ] && break; sleep 0.05; done
spid=$(cat "$tmp/ready") spid2=$(cat "$tmp/ready2")
sleep 1.5 # the look for new namespaces
ip netns exec $NA "$PEER" connect --addr 127.0.0.1 --port $P --timeout-ms 500 >/dev/null 2>&1
"$PEER" connect --addr 127.0.0.1 --port $Q --timeout-ms 500 >/dev/null 2>&1
ip netns exec $NB "$PEER" connect --addr 127.0.0.1 --port $Q --timeout-ms 500 >/dev/null 2>&1
wait $lt
lt=
kill $srv $srv2 2>/dev/null # they listened until the end of the run (the report's lists)
wait $srv $srv2 2>/dev/null
srv= srv2=

na_ino=$(stat -L -c %i /run/netns/$NA)
host_ino=$(stat -L -c %i /proc/self/ns/net) # the test runs in the host namespace
conn() { grep '"type":"connection"' "$tmp/out" | grep "\"server_port\":$1" | grep "\"verdict\":\"$2\"" | grep -- "$3"; }
conn $P refused "\"netns\":{\"inode\":$na_ino,\"name\":\"$NA\"" >/dev/null &&
	ok "netns: a client in '$NA' (created after the start) refused on 127.0.0.1:$P, named" ||
	fail "netns: client in a namespace" "$(grep -c connection "$tmp/out") records: $(grep "$P" "$tmp/out" | head -3)"
conn $Q refused "\"netns\":{\"inode\":$host_ino,\"name\":\"host\"" >/dev/null &&
	ok "netns: the host client refused on $Q (the server is in '$NB'), in the host namespace" ||
	fail "netns: host client" "$(grep "$Q" "$tmp/out" | head -3)"
grep '"type":"connection"' "$tmp/out" | grep "\"server_port\":$Q" | grep -v '"verdict":"refused"' |
	grep -q "\"name\":\"$NB\"" &&
	ok "netns: the same port inside '$NB' is another connection, answered there" ||
	fail "netns: inside $NB" "$(grep "$Q" "$tmp/out" | head -3)"

# the report: both refusals are the namespaces' doing, with the evidence
title() { grep -F -- "- **Refused in $1" "$tmp/rep.md"; }
t1="namespace \`$NA\`: \`127.0.0.1:$P\` is served in the host namespace by \`lt_peer\` pid $spid, another loopback** (error)"
title "$t1" >/dev/null &&
	grep -qF "The client in namespace \`$NA\` dialed \`127.0.0.1:$P\` and was refused" "$tmp/rep.md" &&
	grep -qF "in the host namespace a socket listens for it: \`127.0.0.1:$P\` (\`lt_peer\` pid $spid," "$tmp/rep.md" &&
	ok "netns: report: '$NA' refused on 127.0.0.1:$P, served in the host namespace by lt_peer pid $spid" ||
	fail "netns: report (client in $NA)" "$(grep -F -- '- **' "$tmp/rep.md")"
t2="the host namespace: \`127.0.0.1:$Q\` is served in namespace \`$NB\` by \`lt_peer\` pid $spid2, another loopback** (error)"
ev2=$(grep -A12 -F -- "- **Refused in $t2" "$tmp/rep.md" | grep -m1 '^  Evidence: ')
re2='^  Evidence: #[0-9]+ `127\.0\.0\.1:[0-9]+` -> `127\.0\.0\.1:'$Q'` in `host`, #[0-9]+ `127\.0\.0\.1:[0-9]+` -> `127\.0\.0\.1:'$Q'` in `'$NB'`$'
title "$t2" >/dev/null &&
	echo "$ev2" | grep -qE "$re2" &&
	ok "netns: report: the host's client refused on $Q, served only in '$NB' by lt_peer pid $spid2 (evidence in both)" ||
	fail "netns: report (server in $NB)" "$(grep -F -- '- **' "$tmp/rep.md"); $ev2"
grep -qE '^- \*\*Refused(: nothing| although| until)' "$tmp/rep.md" &&
	fail "netns: report" "a generic refused finding too: $(grep -F -- '- **Refused' "$tmp/rep.md")" ||
	ok "netns: report: no generic refused finding for the namespaced refusals"

# text: the column once a second namespace was seen; --netns narrows
"$LOTRACE" --backend ebpf --port $P --no-tui -v --netns $NA --duration 2500ms --report "$tmp/rep.json" \
	>"$tmp/t" 2>"$tmp/terr" &
lt=$!
for _ in $(seq 100); do grep -q capturing "$tmp/terr" && break; sleep 0.05; done
rm -f "$tmp/ready"
"$PEER" serve --addr 127.0.0.1 --port $P --mode reply --duration-ms 6000 --ready-file "$tmp/ready" >/dev/null 2>&1 &
srv=$!
for _ in $(seq 100); do [ -s "$tmp/ready" ] && break; sleep 0.05; done
spid=$(cat "$tmp/ready")
"$PEER" connect --addr 127.0.0.1 --port $P --timeout-ms 300 >/dev/null 2>&1
ip netns exec $NA "$PEER" connect --addr 127.0.0.1 --port $P --timeout-ms 300 >/dev/null 2>&1
wait $lt
lt=
kill $srv 2>/dev/null
wait $srv 2>/dev/null
srv=
[ "$(grep -c '^[0-9].* -> 127.0.0.1:'$P "$tmp/t")" = 1 ] && grep -q "refused .* netns=$NA " "$tmp/t" &&
	ok "netns: --netns $NA shows its refusal only, with the netns= column" ||
	fail "netns: --netns" "$(cat "$tmp/t" "$tmp/terr" | head -5)"
grep -qE "^# 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:$P refused; .*; the client in namespace $NA dialed 127\.0\.0\.1:$P; nothing listens there; in the host namespace 127\.0\.0\.1:$P is served by lt_peer\[$spid\]$" "$tmp/t" &&
	ok "netns: the refusal note names the host's listener of the port the namespaced client dialed" ||
	fail "netns: note" "$(grep '^#' "$tmp/t")"
python3 - "$tmp/rep.json" "$NA" $P "$spid" <<'PY' && ok "netns: JSON report: refused-other-netns, its title and evidence" || fail "netns: JSON report" "$(head -c 600 "$tmp/rep.json")"
import json, sys
r = json.load(open(sys.argv[1]))
ns, port, pid = sys.argv[2], sys.argv[3], sys.argv[4]
f = [x for x in r["findings"] if x["id"] == "refused-other-netns"]
assert len(f) == 1, [x["id"] for x in r["findings"]]
want = f"Refused in namespace {ns}: 127.0.0.1:{port} is served in the host namespace by lt_peer pid {pid}, another loopback"
assert f[0]["title"] == want, f[0]["title"]
assert f[0]["severity"] == "error" and len(f[0]["evidence"]) == 1, f[0]
assert not [x for x in r["findings"] if x["id"].startswith("refused") and x["id"] != "refused-other-netns"]
PY
"$LOTRACE" --backend ebpf --netns lt-no-such-ns --no-tui --duration 1s >/dev/null 2>"$tmp/e"
st=$?
[ $st = 1 ] && grep -q "no network namespace 'lt-no-such-ns'" "$tmp/e" &&
	ok "netns: an unknown --netns is a one-line error, exit 1" || fail "netns: unknown" "exit $st: $(cat "$tmp/e")"

# nothing left: no tcx link, no tc filter, in any namespace of the test
left=
for ns in $NA $NB; do
	out=$(ip netns exec $ns tc filter show dev lo egress 2>&1; ip netns exec $ns tc filter show dev lo ingress 2>&1)
	[ -n "$out" ] && left="$left $ns:tc"
	command -v bpftool >/dev/null && ip netns exec $ns bpftool net show dev lo 2>/dev/null | grep -q lotrace &&
		left="$left $ns:bpftool"
done
command -v bpftool >/dev/null && bpftool link show 2>/dev/null | grep -A2 ' tcx ' | grep -q lotrace && left="$left link"
[ -z "$left" ] && ok "netns: nothing attached after exit (tc filters, bpftool net, tcx links)" ||
	fail "netns: left behind" "$left"
ip netns del $NA; ip netns del $NB
ip netns list | grep -q "lt-test-.*-$$" && fail "netns: namespaces" "left: $(ip netns list)" ||
	ok "netns: the test's namespaces are gone"
