#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# record.sh - re-record lotrace's scenario captures on lo with real sockets.
#
#   sudo captures/record.sh            record every scenario (overwrites them)
#   sudo captures/record.sh clean ...  record only the named scenarios
#
# Each scenario drives build/tools/lt_peer on 127.0.0.1 / ::1 only, under
# `tcpdump -i lo` filtered to its own port (61900-61999), and writes
# captures/NAME.pcap plus NAME.pcap.truth.json (tshark ground truth from
# tests/tools/truth.sh), then checks the truth's derived states against
# what the scenario intends.  Firewall rules live only in the nft table
# inet lotrace_test; the EXIT trap deletes it and kills every process this
# script started (servers, clients, tcpdump), also on Ctrl-C or SIGTERM.
# Exit status: 0 all recorded and as intended, 1 a check failed, 2 usage.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
cap="$repo/captures"
peer="$repo/build/tools/lt_peer"
truth="${LT_TRUTH:-$repo/tests/tools/truth.sh}"
table=lotrace_test
work=$(mktemp -d /tmp/lt-record.XXXXXX)
servers=""	# background servers we started, killed by cleanup
clients=""	# background clients we started, killed by cleanup
dump_pid=""	# the running tcpdump
nft_ours=0	# 1 once we own the nft table (never delete someone else's)
failed=0

die() { echo "record.sh: $*" >&2; exit 1; }
say() { printf '  %-24s %s\n' "$1" "$2"; }

cleanup() {
	set +e
	for p in $dump_pid $servers $clients; do
		kill "$p" 2>/dev/null
	done
	for p in $dump_pid $servers $clients; do
		wait "$p" 2>/dev/null
	done
	servers="" clients="" dump_pid=""
	[ "$nft_ours" = 1 ] && nft delete table inet "$table" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- prerequisites -----------------------------------------------------

[ "$(id -u)" = 0 ] || die "must run as root (tcpdump on lo and nft): try 'sudo captures/record.sh'"
for t in tcpdump tshark capinfos nft python3 cc; do
	command -v "$t" >/dev/null 2>&1 || die "missing tool '$t': try 'make deps'"
done
[ -r "$truth" ] || die "missing truth script '$truth': set LT_TRUTH"

build_peer() {
	if make -s -C "$repo" build/tools/lt_peer >"$work/make.log" 2>&1; then
		return 0
	fi
	echo "record.sh: 'make build/tools/lt_peer' failed, compiling lt_peer directly" >&2
	mkdir -p "$(dirname "$peer")"
	cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Wshadow -Wstrict-prototypes \
		-Wmissing-prototypes -Wno-unused-parameter -Wswitch-enum -Werror \
		"$repo/tests/tools/lt_peer.c" -o "$peer" -lpthread ||
		die "cannot build lt_peer: see $repo/tests/tools/lt_peer.c"
}

# ---- helpers -----------------------------------------------------------

# client ARGS...: start an lt_peer client in the background.
client() {
	"$peer" connect "$@" &
	clients="$clients $!"
}

# wait_clients: wait until every background client has finished.
wait_clients() {
	local p
	for p in $clients; do
		wait "$p" 2>/dev/null || true
	done
	clients=""
}

# serve NAME ARGS...: start an lt_peer server and wait until it listens.
serve() {
	local ready="$work/$1.ready" i=0
	shift
	"$peer" serve --ready-file "$ready" "$@" &
	servers="$servers $!"
	while [ ! -s "$ready" ]; do
		i=$((i + 1))
		[ "$i" -le 500 ] || die "server '$*' did not start listening"
		sleep 0.01
	done
}

# stop_servers: end the servers we started.
stop_servers() {
	local p
	for p in $servers; do
		kill "$p" 2>/dev/null || true
	done
	for p in $servers; do
		wait "$p" 2>/dev/null || true
	done
	servers=""
}

# nft_rule HOOK RULE...: add RULE to chain HOOK (input|output) of our table.
nft_rule() {
	local hook=$1
	shift
	nft add table inet "$table"
	nft add chain inet "$table" "$hook" "{ type filter hook $hook priority 0; policy accept; }"
	nft add rule inet "$table" "$hook" "$@"
}

nft_clear() {
	nft delete table inet "$table" 2>/dev/null || true
}

# dump_start NAME FILTER: start tcpdump on lo and wait until it captures.
dump_start() {
	local err="$work/$1.tcpdump" i=0
	: >"$err"
	tcpdump -i lo -U --immediate-mode -B 32768 -s 262144 -Z root -w "$work/$1.pcap" "$2" 2>"$err" &
	dump_pid=$!
	until grep -q 'listening on' "$err"; do
		i=$((i + 1))
		kill -0 "$dump_pid" 2>/dev/null || die "tcpdump failed: $(cat "$err")"
		[ "$i" -le 500 ] || die "tcpdump did not start listening"
		sleep 0.01
	done
}

# dump_stop NAME: let the last packets land, stop tcpdump, keep the pcap.
dump_stop() {
	sleep 0.3
	kill -INT "$dump_pid"
	wait "$dump_pid" || true
	dump_pid=""
	if ! grep -q '^0 packets dropped by kernel' "$work/$1.tcpdump"; then
		say "$1" "warning: tcpdump dropped packets: $(grep dropped "$work/$1.tcpdump")"
		failed=1
	fi
	mv "$work/$1.pcap" "$cap/$1.pcap"
}

# outcomes FILE: the client outcome lines of FILE as "N word, M word".
outcomes() {
	sort "$1" | uniq -c | awk '{ n = $1; $1 = ""; printf "%s%d%s", sep, n, $0; sep = ", " }'
}

# said NAME WANT: the clients' outcome lines must sum up to WANT.
said() {
	local got
	got=$(outcomes "$work/out")
	if [ "$got" != "$2" ]; then
		say "$1" "MISMATCH: clients said '$got', want '$2'"
		failed=1
	fi
}

# check NAME SPEC [EXPR]: run truth.sh and compare derived states with
# SPEC, a space-separated list of STATE=N (exactly N), STATE=N+ (at least
# N) or STATE=N-M (between N and M); states not in SPEC must not appear.
# EXPR, a Python expression over the streams `ss` of the truth file, must
# be true too (for what derived states cannot say, such as SYN counts).
check() {
	local name=$1 spec=$2 expr=${3:-True} got
	sh "$truth" "$cap/$name.pcap" >/dev/null || die "truth.sh failed on $name.pcap"
	if got=$(python3 - "$cap/$name.pcap.truth.json" "$spec" "$expr" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))
got = t["derived_state_counts"]
ss = t["streams"]
want = dict(w.split("=", 1) for w in sys.argv[2].split())
bad = []
for state, rng in want.items():
    n = got.get(state, 0)
    lo, _, hi = rng.partition("-")
    if lo.endswith("+"):
        ok = n >= int(lo[:-1])
    else:
        ok = int(lo) <= n <= int(hi or lo)
    if not ok:
        bad.append(f"{state}={n} (want {rng})")
bad += [f"{s}={n} (unexpected)" for s, n in got.items() if s not in want]
if not eval(sys.argv[3], {"ss": ss}):
    bad.append("not " + sys.argv[3])
print(" ".join(f"{s}={n}" for s, n in sorted(got.items())))
if bad:
    print("MISMATCH: " + ", ".join(bad))
    sys.exit(1)
EOF
	); then
		say "$name" "ok: $got"
	else
		say "$name" "$got"
		failed=1
	fi
}

# ---- scenarios (one function each, port 619xx) ---------------------------

# Nothing listens: SYN, then RST-ACK from the kernel.
rec_refused_v4() {
	local port=61901
	dump_start refused-v4 "tcp port $port"
	"$peer" connect --addr 127.0.0.1 --port $port >"$work/out"
	dump_stop refused-v4
	said refused-v4 "1 refused"
	check refused-v4 "REFUSED=1" "ss[0]['packets'] == 2 and ss[0]['ip_version'] == 4"
}

rec_refused_v6() {
	local port=61902
	dump_start refused-v6 "tcp port $port"
	"$peer" connect --addr ::1 --port $port >"$work/out"
	dump_stop refused-v6
	said refused-v6 "1 refused"
	check refused-v6 "REFUSED=1" "ss[0]['packets'] == 2 and ss[0]['ip_version'] == 6"
}

# The service listens on [::1] only; a client dialling 127.0.0.1 is
# refused, then the same client on ::1 shows the listener was there.
rec_v6_listener_v4_client() {
	local port=61903
	serve v6only --addr ::1 --port $port --v6only --mode reply
	dump_start v6-listener-v4-client "tcp port $port"
	"$peer" connect --addr 127.0.0.1 --port $port --send 16 --expect-reply >"$work/out"
	"$peer" connect --addr ::1 --port $port --send 16 --expect-reply >>"$work/out"
	dump_stop v6-listener-v4-client
	stop_servers
	said v6-listener-v4-client "1 connected, 1 refused"
	check v6-listener-v4-client "REFUSED=1 CLOSED=1" \
		"[(s['derived_state'], s['ip_version']) for s in ss] == [('REFUSED', 4), ('CLOSED', 6)]"
}

# A firewall drops the SYNs: the original SYN and its retransmissions
# (1 s apart with tcp_syn_linear_timeouts), never an answer.
rec_unanswered() {
	local port=61904
	nft_rule input tcp dport $port "tcp flags & (syn | ack) == syn" drop
	dump_start unanswered "tcp port $port"
	"$peer" connect --addr 127.0.0.1 --port $port --timeout-ms 3500 >"$work/out"
	dump_stop unanswered
	nft_clear
	said unanswered "1 timeout"
	check unanswered "UNANSWERED=1" "ss[0]['syn_count'] >= 3 and ss[0]['s2c']['packets'] == 0"
}

# Request, reply, the server closes first, then the client: SF.
rec_clean() {
	local port=61905
	serve clean --addr 127.0.0.1 --port $port --mode reply
	dump_start clean "tcp port $port"
	"$peer" connect --addr 127.0.0.1 --port $port --send 64 --expect-reply --hold-ms 50 >"$work/out"
	dump_stop clean
	stop_servers
	said clean "1 connected"
	check clean "CLOSED=1" \
		"ss[0]['payload_bytes_client'] == 64 and ss[0]['payload_bytes_server'] > 0"
}

# The server reads the request and aborts with RST (SO_LINGER {1,0}).
rec_reset_after_data() {
	local port=61906
	serve reset --addr 127.0.0.1 --port $port --mode reset-after-request
	dump_start reset-after-data "tcp port $port"
	"$peer" connect --addr 127.0.0.1 --port $port --send 64 --expect-reply >"$work/out"
	dump_stop reset-after-data
	stop_servers
	said reset-after-data "1 reset"
	check reset-after-data "RESET_BY_SERVER=1" "ss[0]['payload_bytes_client'] == 64"
}

# The client's ACK of the SYN-ACK never reaches the server: an output rule
# drops every client->server segment except the SYN, so the server's SYN-ACK
# is retransmitted while the client, already ESTABLISHED, waits.  The client
# then closes with RST (also dropped) so no orphaned socket keeps sending
# FINs after the rule is gone.
rec_half_open() {
	local port=61907
	serve halfopen --addr 127.0.0.1 --port $port --mode echo
	nft_rule output tcp dport $port "tcp flags & syn == 0" drop
	dump_start half-open "tcp port $port"
	"$peer" connect --addr 127.0.0.1 --port $port --hold-ms 3500 --linger0 >"$work/out"
	dump_stop half-open
	nft_clear
	stop_servers
	said half-open "1 connected"
	check half-open "HALF_OPEN=1" \
		"ss[0]['c2s']['packets'] == 1 and ss[0]['synack_count'] >= 3"
}

# free_port PORT...: the first PORT no socket (TIME_WAIT included) uses.
free_port() {
	local p
	for p in "$@"; do
		if [ -z "$(ss -Htan "( sport = :$p or dport = :$p )")" ]; then
			echo "$p"
			return 0
		fi
	done
	die "source ports $* are all in use (TIME_WAIT from a run <60 s ago?): wait a minute"
}

# One 4-tuple, four connections: the client binds one source port each
# time.  Two attempts are refused (nothing listens yet), then two clean
# connections.  The server closes first (reply mode), so TIME_WAIT sits on
# the server side, where a new SYN with a higher ISN/timestamp may reopen
# it (RFC 9293 3.6.1, RFC 6191); a client that closed first would hold the
# tuple in its own TIME_WAIT and the next bind()/connect() would fail.
# The source port (below the ephemeral range) is one no socket uses yet:
# a TIME_WAIT left by a run a minute ago would answer the first SYN with
# a challenge ACK instead of the RST this scenario wants.
rec_port_reuse() {
	local port=61908 sport
	sport=$(free_port 31908 31918 31928 31938 31948)
	dump_start port-reuse "tcp port $port"
	"$peer" connect --addr 127.0.0.1 --port $port --bind-port $sport --count 2 --interval-ms 100 >"$work/out"
	serve reuse --addr 127.0.0.1 --port $port --mode reply
	"$peer" connect --addr 127.0.0.1 --port $port --bind-port $sport --count 2 --interval-ms 100 \
		--send 32 --expect-reply >>"$work/out"
	dump_stop port-reuse
	stop_servers
	said port-reuse "2 connected, 2 refused"
	check port-reuse "REFUSED=2 CLOSED=2" \
		"len({(s['client'], s['server']) for s in ss}) == 1 and all(s['packets'] == 2 for s in ss if s['derived_state'] == 'REFUSED')"
}

# backlog 1, never accept(), 20 clients at once with a 3 s timeout: a few
# complete the handshake into the accept queue; the others' SYNs (or third
# ACKs) are dropped once the queue is full (ListenOverflows/ListenDrops).
rec_accept_overflow() {
	local port=61909 i
	serve overflow --addr 127.0.0.1 --port $port --backlog 1 --no-accept
	dump_start accept-overflow "tcp port $port"
	: >"$work/out"
	for i in $(seq 1 20); do
		client --addr 127.0.0.1 --port $port --timeout-ms 3000 >>"$work/out"
	done
	wait_clients
	dump_stop accept-overflow
	stop_servers
	say accept-overflow "clients: $(outcomes "$work/out")"
	check accept-overflow "UNANSWERED=1+ HALF_CLOSED_BY_CLIENT=1+ HALF_OPEN=0+ HANDSHAKE_ABORTED_SERVER_RST=0+ ESTABLISHED_OPEN=0+"
}

# ~60 connections of four kinds, interleaved, on two ports:
#   127.0.0.1:61910 reply server      -> clean (SF)
#   [::1]:61910     nothing listens   -> refused (the server is v4 only)
#   127.0.0.1:61911 reset server      -> reset after the request
#   127.0.0.1:61911 from source ports 31911-31914, SYN dropped by nft
#                                     -> unanswered
rec_busy_mixed() {
	local pa=61910 pb=61911 i k=0 unans=0
	serve busy-a --addr 127.0.0.1 --port $pa --mode reply
	serve busy-b --addr 127.0.0.1 --port $pb --mode reset-after-request
	nft_rule input tcp dport $pb tcp sport 31911-31914 "tcp flags & (syn | ack) == syn" drop
	dump_start busy-mixed "tcp port $pa or tcp port $pb"
	: >"$work/out"
	for i in $(seq 0 59); do
		k=$((i * 7 % 15))	# 7 is prime to 15: the kinds spread out
		if [ $k -lt 6 ]; then
			client --addr 127.0.0.1 --port $pa --send $((20 + i)) --expect-reply \
				--hold-ms $(((i * 37) % 200)) >>"$work/out"
		elif [ $k -lt 10 ]; then
			client --addr 127.0.0.1 --port $pb --send $((20 + i)) --expect-reply >>"$work/out"
		elif [ $k -lt 14 ]; then
			client --addr ::1 --port $pa >>"$work/out"
		else
			client --addr 127.0.0.1 --port $pb --bind-port $((31911 + unans)) \
				--timeout-ms 1500 >>"$work/out"
			unans=$((unans + 1))
		fi
		sleep 0.03
	done
	wait_clients
	dump_stop busy-mixed
	nft_clear
	stop_servers
	said busy-mixed "24 connected, 16 refused, 16 reset, 4 timeout"
	check busy-mixed "CLOSED=24 RESET_BY_SERVER=16 REFUSED=16 UNANSWERED=4"
}

# ---- main ----------------------------------------------------------------

all="refused-v4 refused-v6 v6-listener-v4-client unanswered clean reset-after-data half-open port-reuse accept-overflow busy-mixed"
if [ $# -gt 0 ]; then
	for n in "$@"; do
		case " $all " in
		*" $n "*) ;;
		*) echo "record.sh: unknown scenario '$n': expected one of: $all" >&2; exit 2 ;;
		esac
	done
else
	set -- $all
fi

if nft list table inet "$table" >/dev/null 2>&1; then
	die "nft table inet $table already exists: another run owns it; wait for it or 'nft delete table inet $table'"
fi
nft_ours=1
build_peer
start=$(date +%s)
echo "recording on lo, kernel $(uname -r)"
for n in "$@"; do
	"rec_$(echo "$n" | tr - _)"
done
chown --reference="$cap" "$cap"/*.pcap "$cap"/*.truth.json 2>/dev/null || true
echo "done in $(($(date +%s) - start)) s"
exit $failed
