#!/bin/bash
# live/protocols.sh - both ends up, speaking different protocols: real
# clients against real servers on lo, watched live with the pcap backend
# (the eBPF backend sees no payload) while tcpdump records the same
# traffic; the report of the live run and the report of the capture must
# both name the cause in a finding's title and quote the first line each
# side sent, and --no-payload must name none.
#   P+0 openssl s_client (TLS)        -> python3 -m http.server
#   P+1 curl http://                  -> openssl s_server -www (TLS)
#   P+2 curl --http2-prior-knowledge  -> python3 -m http.server (HTTP/1 only)
#   P+3 a redis command (raw RESP)    -> python3 -m http.server
#   P+4 curl http://.../v1/models     -> python3 -m http.server (404)
. "$(dirname "$0")/../lib.sh"
for t in openssl curl python3 tcpdump; do
	command -v $t >/dev/null || { echo "SKIP protocols: $t not installed (make deps)"; exit 0; }
done
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
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

run_live() { # run_live NAME [lotrace options]: a live run while the clients run
	local name=$1; shift
	"$LOTRACE" --backend pcap --port "$ports" --no-tui -v --duration 6s \
		--report "$tmp/$name.md" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	local lt=$!
	pids+=($lt)
	for _ in $(seq 100); do grep -q capturing "$tmp/$name.err" && break; sleep 0.05; done
	kill -0 $lt 2>/dev/null || { fail "$name" "lotrace did not start: $(head -3 "$tmp/$name.err")"; return 1; }
	clients
	wait $lt
}

tcpdump -i lo -U -s 0 -w "$tmp/cap.pcap" "tcp and (portrange $P-$((P + 4)))" 2>"$tmp/tcpdump.err" &
td=$!
pids+=($td)
for _ in $(seq 100); do grep -q listening "$tmp/tcpdump.err" && break; sleep 0.05; done
run_live live
sleep 0.3
kill -INT $td 2>/dev/null
wait $td 2>/dev/null
"$LOTRACE" report -r "$tmp/cap.pcap" >"$tmp/replay.md" 2>"$tmp/replay.err"
run_live nopayload --no-payload

# check NAME TITLE-REGEX TEXT-REGEX: a finding whose title and text match
check() {
	local what=$1 title=$2 text=$3
	for src in live replay; do
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
for src in live replay; do
	grep -qiE "User-Agent|Host: 127|DOCTYPE|<html" "$tmp/$src.md" &&
		fail "$src: only first lines quoted" "$(grep -iE 'User-Agent|Host: 127|DOCTYPE|<html' "$tmp/$src.md" | head -3)" ||
		ok "$src: no header or body line in the report"
done
grep -qE "protocol-mismatch|http-error|TLS to a plain|HTTP 404" "$tmp/nopayload.md" &&
	fail "--no-payload names no protocol" "$(grep -E '^- \*\*' "$tmp/nopayload.md" | head)" ||
	ok "--no-payload: no protocol finding"
grep -q "Plain HTTP to a port that closed" "$tmp/nopayload.md" &&
	fail "--no-payload: no HTTP finding" "" || true
