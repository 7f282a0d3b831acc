#!/bin/bash
# live/protocols.sh - both ends up, speaking different protocols: real
# clients against real servers on lo, watched live by every backend at
# once (pcap, and eBPF when built with it: its first bytes are copied in
# the kernel) while tcpdump records the same traffic; the report of each
# live run and the report of the capture must name the cause in a
# finding's title and quote the first line each side sent, the backends
# must classify every connection alike, and --no-payload must name none
# (eBPF: the kernel copies no byte).
#   P+0 openssl s_client (TLS)        -> python3 -m http.server
#   P+1 curl http://                  -> openssl s_server -www (TLS)
#   P+2 curl --http2-prior-knowledge  -> python3 -m http.server (HTTP/1 only)
#   P+3 a redis command (raw RESP)    -> python3 -m http.server
#   P+4 curl http://.../v1/models     -> python3 -m http.server (404)
. "$(dirname "$0")/../lib.sh"
for t in openssl curl python3 tcpdump; do
	command -v $t >/dev/null || { echo "SKIP protocols: $t not installed (make deps)"; exit 0; }
done
scratch_dir
P=62160
ports="$P,$((P + 1)),$((P + 2)),$((P + 3)),$((P + 4))"
mkdir "$tmp/www"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" \
	-days 1 -subj /CN=localhost 2>/dev/null

wait_port() { # wait_port PORT: until something listens on 127.0.0.1:PORT
	for _ in $(seq 100); do
		ss -Hltn "sport = :$1" | grep -q . && return 0
		sleep 0.05
	done
	return 1
}

for p in $P $((P + 2)) $((P + 3)) $((P + 4)); do
	(cd "$tmp/www" && exec python3 -m http.server "$p" --bind 127.0.0.1 >/dev/null 2>&1) &
	pids+=($!)
done
openssl s_server -accept 127.0.0.1:$((P + 1)) -cert "$tmp/cert.pem" -key "$tmp/key.pem" \
	-www -quiet >/dev/null 2>&1 &
pids+=($!)
for p in $P $((P + 1)) $((P + 2)) $((P + 3)) $((P + 4)); do
	wait_port $p || { fail "protocols" "no server on $p"; exit 0; }
done

backends="pcap"
"$LOTRACE" --backend ebpf --port 1 --duration 1ms --no-tui >/dev/null 2>"$tmp/probe.err" && backends="pcap ebpf"
grep -q "built without eBPF" "$tmp/probe.err" && echo "note: this build has no eBPF backend; testing pcap only"

clients() {
	timeout 5 openssl s_client -connect 127.0.0.1:$P </dev/null >/dev/null 2>&1
	timeout 5 curl -s -o /dev/null http://127.0.0.1:$((P + 1))/
	timeout 5 curl -s -o /dev/null --http2-prior-knowledge http://127.0.0.1:$((P + 2))/
	timeout 5 python3 -c "
import socket
s = socket.create_connection(('127.0.0.1', $((P + 3))))
s.sendall(b'*1\r\n\$4\r\nPING\r\n')
s.settimeout(3)
while s.recv(4096):
    pass"
	timeout 5 curl -s -o /dev/null http://127.0.0.1:$((P + 4))/v1/models
}

lts=()
start_live() { # start_live NAME BACKEND [lotrace options]: a live run, until it captures
	local name=$1 b=$2; shift 2
	"$LOTRACE" --backend "$b" --port "$ports" --no-tui -v --json --duration 8s \
		--report "$tmp/$name.md" "$@" >"$tmp/$name.json" 2>"$tmp/$name.err" &
	local lt=$!
	pids+=($lt)
	lts+=($lt)
	for _ in $(seq 300); do grep -qs capturing "$tmp/$name.err" && return 0; sleep 0.05; done
	fail "$name" "lotrace did not start: $(grep -v '^libbpf' "$tmp/$name.err" | head -3)"
}
wait_live() { # the runs started, to their end
	for lt in "${lts[@]}"; do wait "$lt"; done
	lts=()
}

tcpdump -i lo -U -s 0 -w "$tmp/cap.pcap" "tcp and (portrange $P-$((P + 4)))" 2>"$tmp/tcpdump.err" &
td=$!
pids+=($td)
for _ in $(seq 100); do grep -qs listening "$tmp/tcpdump.err" && break; sleep 0.05; done
for b in $backends; do start_live "live-$b" "$b"; done
clients
wait_live
sleep 0.3
kill -INT $td 2>/dev/null
wait $td 2>/dev/null
"$LOTRACE" report -r "$tmp/cap.pcap" >"$tmp/replay.md" 2>"$tmp/replay.err"
for b in $backends; do start_live "nopayload-$b" "$b" --no-payload; done
clients
wait_live
srcs="replay"
for b in $backends; do srcs="live-$b $srcs"; done

# check NAME TITLE-REGEX TEXT-REGEX: a finding whose title and text match
check() {
	local what=$1 title=$2 text=$3
	for src in $srcs; do
		if grep -qE "^- \*\*$title\*\*" "$tmp/$src.md" && grep -qE "$text" "$tmp/$src.md"; then
			ok "$src: $what"
		else
			fail "$src: $what" "$(grep -E '^- \*\*' "$tmp/$src.md" | head -12)"
		fi
	done
}
check "TLS to a plain HTTP server" \
	"TLS to a plain-HTTP port: \`127\.0\.0\.1:$P\`" \
	"sent a TLS ClientHello \(TLS 1\.2\); the server answered with an HTML page with no HTTP status line .*: TLS to a plain-HTTP port"
check "plain HTTP to a TLS server" \
	"Plain HTTP to a port that closed without a word \(TLS\?\): \`127\.0\.0\.1:$((P + 1))\`" \
	"the client sent \`GET / HTTP/1\.1\`; the server (closed|reset) the connection without sending a byte"
check "HTTP/2 prior knowledge to an HTTP/1-only server" \
	"HTTP/2 prior knowledge to an HTTP/1-only server: \`127\.0\.0\.1:$((P + 2))\`" \
	"sent the HTTP/2 prior-knowledge preface \`PRI \* HTTP/2\.0\`"
check "a redis client to an HTTP server" \
	"RESP client to an HTTP/1 server: \`127\.0\.0\.1:$((P + 3))\`" \
	"sent a redis \(RESP\) command \`PING\`"
check "HTTP 404 on the path asked for" \
	"HTTP 404 on \`127\.0\.0\.1:$((P + 4))\`: \`GET /v1/models HTTP/1\.1\`" \
	"answered with \`HTTP/1\.0 404 File not found\`.*does not exist on this server"
# the report never quotes more than a first line: no header, no body
for src in $srcs; do
	grep -qiE "User-Agent|Host: 127|DOCTYPE|<html" "$tmp/$src.md" &&
		fail "$src: only first lines quoted" "$(grep -iE 'User-Agent|Host: 127|DOCTYPE|<html' "$tmp/$src.md" | head -3)" ||
		ok "$src: no header or body line in the report"
done
for b in $backends; do
	grep -qE "protocol-mismatch|http-error|TLS to a plain|HTTP 404|Plain HTTP to a port that closed" "$tmp/nopayload-$b.md" &&
		fail "$b: --no-payload names no protocol" "$(grep -E '^- \*\*' "$tmp/nopayload-$b.md" | head)" ||
		ok "$b: --no-payload: no protocol finding"
done

# What each connection's first bytes were (JSON), per server port, and
# the kernel's count of first data segments it copied bytes from.
protocols() { # protocols FILE.json
	python3 - "$1" <<'PY'
import json, sys
rows, heads = [], None
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d.get("type") == "connection" and d.get("verdict") != "open":
        p = d.get("protocol")
        side = lambda s: s and (s["kind"], s["line"], s["status"], s["tls_version"], s["sni"])
        rows.append("%s %s" % (d["server_port"], json.dumps(
            p and [side(p["client"]), side(p["server"]), p["mismatch"]])))
    elif d.get("type") == "summary":
        heads = d.get("source_counters", {}).get("payload_heads")
print("heads", heads)
print("\n".join(sorted(rows)))
PY
}
for b in $backends; do
	protocols "$tmp/live-$b.json" >"$tmp/live-$b.protocols"
	protocols "$tmp/nopayload-$b.json" >"$tmp/nopayload-$b.protocols"
	n=$(grep -vc '^heads ' "$tmp/live-$b.protocols")
	[ "$n" -ge 5 ] && ok "$b: $n connections in the JSON" || fail "$b: connections in the JSON" "$n"
	grep -v '^heads ' "$tmp/nopayload-$b.protocols" | grep -qv ' null$' &&
		fail "$b: --no-payload: every connection's protocol is null" "$(grep -v ' null$' "$tmp/nopayload-$b.protocols" | head -3)" ||
		ok "$b: --no-payload: every connection's protocol is null"
done
if [ "$backends" = "pcap ebpf" ]; then
	# one event model: the kernel's first bytes classify as the packets do
	if diff <(grep -v '^heads ' "$tmp/live-pcap.protocols") <(grep -v '^heads ' "$tmp/live-ebpf.protocols") >"$tmp/protocols.diff"; then
		ok "pcap and ebpf: the same protocols on every connection"
	else
		fail "pcap and ebpf: the same protocols on every connection" "$(head -6 "$tmp/protocols.diff")"
	fi
	t_pcap=$(grep -E '^- \*\*' "$tmp/live-pcap.md" | grep -E "TLS|HTTP|RESP" | sort)
	t_ebpf=$(grep -E '^- \*\*' "$tmp/live-ebpf.md" | grep -E "TLS|HTTP|RESP" | sort)
	[ "$t_pcap" = "$t_ebpf" ] && ok "pcap and ebpf: the same protocol findings" ||
		fail "pcap and ebpf: the same protocol findings" "pcap: $t_pcap / ebpf: $t_ebpf"
	h=$(sed -n 's/^heads //p' "$tmp/live-ebpf.protocols")
	[ "${h:-0}" -ge 5 ] 2>/dev/null && ok "ebpf: the kernel copied the first bytes of $h segments" ||
		fail "ebpf: the kernel copied first bytes" "payload_heads '$h'"
	h=$(sed -n 's/^heads //p' "$tmp/nopayload-ebpf.protocols")
	[ "$h" = 0 ] && ok "ebpf --no-payload: the kernel copied no byte" ||
		fail "ebpf --no-payload: the kernel copied no byte" "payload_heads '$h'"
fi
