#!/bin/bash
# live/container.sh - a container-like server (eBPF): a network namespace
# without an `ip netns` name (unshare -n, as a container runtime makes
# one) whose processes are in a cgroup named as Docker names them under
# systemd (.../docker-<64 hex>.scope). Its server listens on its own
# 127.0.0.1:R; a client inside is answered, the host's client is refused.
# lotrace names the container in text (netns=), JSON (netns.container)
# and the report, whose finding says the host's refusal is the
# container's loopback (from the connection answered inside, and from a
# listen() seen inside when no connection reached it). The cgroup, the
# namespace and every process are removed after, even on failure.
. "$(dirname "$0")/../lib.sh"
PEER=$REPO/build/tools/lt_peer
tmp=$(mktemp -d)
lt= box=
CG=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
SLICE=$CG/lt-test-$$.slice
ID=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
CGD=$SLICE/docker-$ID.scope
cleanup() {
	kill $lt 2>/dev/null
	# everything in the cgroup was started here
	[ -f "$CGD/cgroup.procs" ] && kill $(cat "$CGD/cgroup.procs") 2>/dev/null
	wait 2>/dev/null
	for _ in $(seq 50); do
		[ -s "$CGD/cgroup.procs" ] || break
		sleep 0.1
	done
	rmdir "$CGD" "$SLICE" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
if [ -z "$CG" ] || ! mkdir -p "$CGD" 2>/dev/null || ! command -v unshare >/dev/null; then
	echo "skip container: no writable cgroup2 hierarchy or no unshare"
	exit 0
fi
R=62072

"$LOTRACE" --backend ebpf --port $R --no-tui --json -v --duration 6s --report "$tmp/rep.md" \
	>"$tmp/j" 2>"$tmp/err" &
lt=$!
for _ in $(seq 100); do grep -q capturing "$tmp/err" && break; sleep 0.05; done
if ! kill -0 $lt 2>/dev/null; then
	grep -qE "without eBPF|cannot load the eBPF" "$tmp/err" && { echo "skip container: no eBPF"; exit 0; }
	fail "container: lotrace" "did not start: $(cat "$tmp/err")"
	exit 0
fi
# the "container": into the cgroup first, then a namespace of its own
sh -c 'echo $$ >"$1/cgroup.procs" && exec unshare -n sh -c "
	ip link set lo up
	\"$2\" serve --addr 127.0.0.1 --port $3 --mode reply --duration-ms 15000 --ready-file \"$4/ready\" >/dev/null 2>&1 &
	for _ in \$(seq 100); do [ -e \"$4/go\" ] && break; sleep 0.05; done
	\"$2\" connect --addr 127.0.0.1 --port $3 --timeout-ms 500 >/dev/null 2>&1
	wait"' sh "$CGD" "$PEER" $R "$tmp" &
box=$!
for _ in $(seq 100); do [ -s "$tmp/ready" ] && break; sleep 0.05; done
spid=$(cat "$tmp/ready")
box_ino=$(stat -L -c %i /proc/$spid/ns/net)
sleep 1.5 # the eBPF source looks for new namespaces every second
touch "$tmp/go"
sleep 0.5
"$PEER" connect --addr 127.0.0.1 --port $R --timeout-ms 500 >/dev/null 2>&1
wait $lt
lt=

short=${ID:0:12}
conn() { grep '"type":"connection"' "$tmp/j" | grep "\"verdict\":\"$1\"" | grep -qF "$2"; }
conn closed "\"netns\":{\"inode\":$box_ino,\"name\":null,\"container\":\"docker:$short\"}" &&
	ok "container: JSON names the container of the answered connection inside (netns.container docker:$short)" ||
	fail "container: JSON" "$(grep '"type":"connection"' "$tmp/j" | cut -c1-400)"
conn refused '"netns":{"inode":'$(stat -L -c %i /proc/self/ns/net)',"name":"host","container":null}' &&
	ok "container: the host's client refused, in the host namespace" ||
	fail "container: host client" "$(grep '"type":"connection"' "$tmp/j" | cut -c1-400)"
t="- **Refused in the host namespace: \`127.0.0.1:$R\` is served in container \`docker:$short\` (namespace \`netns:$box_ino\`) by \`lt_peer\` pid $spid, another loopback** (error)"
grep -qF -- "$t" "$tmp/rep.md" &&
	grep -A12 -F -- "$t" "$tmp/rep.md" | grep -qE "^  Evidence: #[0-9]+ .* in \`host\`, #[0-9]+ .* in \`netns:$box_ino/docker:$short\`$" &&
	ok "container: the report names the container as the cause of the host's refusal" ||
	fail "container: report" "$(grep -F -- '- **' "$tmp/rep.md"; grep '^  Evidence' "$tmp/rep.md")"

# text: the netns= column from the second namespace on; a `docker exec`
# client (a new process in the container's cgroup and namespace)
"$LOTRACE" --backend ebpf --port $R --no-tui -v --duration 2500ms >"$tmp/t" 2>"$tmp/terr" &
lt=$!
for _ in $(seq 100); do grep -q capturing "$tmp/terr" && break; sleep 0.05; done
"$PEER" connect --addr 127.0.0.1 --port $R --timeout-ms 500 >/dev/null 2>&1
sh -c 'echo $$ >"$1/cgroup.procs" && exec nsenter -n -t "$2" "$3" connect --addr 127.0.0.1 --port "$4" --timeout-ms 500' \
	sh "$CGD" $spid "$PEER" $R >/dev/null 2>&1
wait $lt
lt=
grep -qE "^[0-9].* -> 127\.0\.0\.1:$R .*closed.* netns=netns:$box_ino/docker:$short( |$)" "$tmp/t" &&
	ok "container: text names the container's namespace (netns=netns:$box_ino/docker:$short)" ||
	fail "container: text" "$(grep -E '^[0-9]' "$tmp/t" | head -4)"

# a server that begins listening in the container during the run, and no
# connection reaches it: the timeline's listen() there is the evidence
R2=$((R + 1))
"$LOTRACE" --backend ebpf --port $R2 --no-tui -v --duration 3s --report "$tmp/rep2.md" >/dev/null 2>"$tmp/err2" &
lt=$!
for _ in $(seq 100); do grep -q capturing "$tmp/err2" && break; sleep 0.05; done
sh -c 'echo $$ >"$1/cgroup.procs" && exec nsenter -n -t "$2" "$3" serve --addr 127.0.0.1 --port "$4" --mode reply --duration-ms 6000 --ready-file "$5/ready2"' \
	sh "$CGD" $spid "$PEER" $R2 "$tmp" >/dev/null 2>&1 &
for _ in $(seq 100); do [ -s "$tmp/ready2" ] && break; sleep 0.05; done
spid2=$(cat "$tmp/ready2")
"$PEER" connect --addr 127.0.0.1 --port $R2 --timeout-ms 500 >/dev/null 2>&1
wait $lt
lt=
t="- **Refused in the host namespace: \`127.0.0.1:$R2\` is served in container \`docker:$short\` (namespace \`netns:$box_ino\`) by \`lt_peer\` pid $spid2, another loopback** (error)"
grep -qF -- "$t" "$tmp/rep2.md" &&
	grep -qE "a socket began listening for it before the refusals: \`lt_peer\` \(pid $spid2, started [0-9:.]+\) called listen\(\) on \`127\.0\.0\.1:$R2\` at [0-9:.]+" "$tmp/rep2.md" &&
	ok "container: a listen() in the container (no connection there) is the evidence for the host's refusal" ||
	fail "container: listen() evidence" "$(grep -F -- '- **' "$tmp/rep2.md"; grep -i 'listen' "$tmp/rep2.md" | head -5)"

cleanup
trap - EXIT
if [ -d "$CGD" ] || [ -d "$SLICE" ]; then
	fail "container: cgroup" "left: $CGD"
else
	ok "container: the test's cgroup is gone"
fi
