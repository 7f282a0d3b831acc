#!/bin/bash
# live/scenarios.sh - real traffic on lo, watched live by each backend.
#
# One lotrace run per backend (pcap, and ebpf when built with it) watches
# eight ports while lt_peer plays a scenario on each: refused on IPv4 and
# IPv6, a clean exchange, a reset after the request, SYNs dropped by an nft
# rule, an accept queue overflow (backlog 1, no accept, 20 clients), a
# half-open handshake (nft drops the client's ACK), and a listener on ::1
# only while the client dials 127.0.0.1. Asserts each port's verdicts, that
# both backends agree, and (eBPF) the kernel context: processes, the reset
# reason, the netfilter drop reason, the accept queue overflow.
# Needs root. nft rules live in table inet lotrace_live, removed on exit.
. "$(dirname "$0")/../lib.sh"
PEER=$REPO/build/tools/lt_peer
[ -x "$PEER" ] || make -s -C "$REPO" build/tools/lt_peer >/dev/null
cleanup_more() { nft delete table inet lotrace_live 2>/dev/null; }
scratch_dir

P_REF4=62001 P_REF6=62002 P_CLEAN=62003 P_RESET=62004 P_DROP=62005 P_OVER=62006 P_HALF=62007 P_V6ONLY=62008
ALL="$P_REF4,$P_REF6,$P_CLEAN,$P_RESET,$P_DROP,$P_OVER,$P_HALF,$P_V6ONLY"

serve() { # serve NAME ARGS...: start a server, wait until it listens
	"$PEER" serve --ready-file "$tmp/$1.ready" "${@:2}" >"$tmp/$1.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$tmp/$1.ready" ] && return 0; sleep 0.05; done
	fail "server $1" "did not start: $(cat "$tmp/$1.log")"
	return 1
}

# start_lotrace BACKEND: lotrace in the background, JSON to $tmp/BACKEND.json
start_lotrace() {
	"$LOTRACE" --backend "$1" --port "$ALL" --json --no-tui -v -w "$tmp/$1.pcap" \
		--report "$tmp/$1.report.md" >"$tmp/$1.json" 2>"$tmp/$1.err" &
	LT_PID=$!
	pids+=("$LT_PID")
	for _ in $(seq 200); do
		grep -q "capturing" "$tmp/$1.err" && return 0
		kill -0 "$LT_PID" 2>/dev/null || break
		sleep 0.05
	done
	fail "lotrace --backend $1 starts" "$(cat "$tmp/$1.err")"
	return 1
}

play_scenarios() { # the traffic, the same for every backend
	nft add table inet lotrace_live
	nft add chain inet lotrace_live in '{ type filter hook input priority -10; }'
	nft add chain inet lotrace_live out '{ type filter hook output priority -10; }'
	nft add rule inet lotrace_live in tcp dport $P_DROP tcp flags syn drop
	nft add rule inet lotrace_live out tcp dport $P_HALF tcp flags \& syn == 0 drop

	serve clean --addr 127.0.0.1 --port $P_CLEAN --mode reply || return 1
	serve reset --addr 127.0.0.1 --port $P_RESET --mode reset-after-request || return 1
	serve over --addr 127.0.0.1 --port $P_OVER --backlog 1 --no-accept || return 1
	serve half --addr 127.0.0.1 --port $P_HALF --mode reply || return 1
	serve v6only --addr ::1 --port $P_V6ONLY --v6only --mode reply || return 1

	# the slow ones (timeouts) in the background, the quick ones meanwhile
	"$PEER" connect --addr 127.0.0.1 --port $P_DROP --timeout-ms 3500 >"$tmp/drop.out" &
	local bg=($!)
	"$PEER" connect --addr 127.0.0.1 --port $P_HALF --hold-ms 3500 --timeout-ms 5000 --linger0 >"$tmp/half.out" &
	bg+=($!)
	for i in $(seq 20); do
		"$PEER" connect --addr 127.0.0.1 --port $P_OVER --timeout-ms 3000 >"$tmp/over.$i.out" &
		bg+=($!)
	done
	"$PEER" connect --addr 127.0.0.1 --port $P_REF4 --timeout-ms 1000 >"$tmp/ref4.out"
	"$PEER" connect --addr ::1 --port $P_REF6 --timeout-ms 1000 >"$tmp/ref6.out"
	"$PEER" connect --addr 127.0.0.1 --port $P_CLEAN --send 64 --expect-reply >"$tmp/clean.out" &
	echo $! >"$tmp/clean.client.pid"
	wait $!
	"$PEER" connect --addr 127.0.0.1 --port $P_RESET --send 64 --expect-reply >"$tmp/reset.out"
	"$PEER" connect --addr 127.0.0.1 --port $P_V6ONLY --timeout-ms 1000 >"$tmp/v6only.out"
	wait "${bg[@]}"
	# Stop the half-open listener while its SYN-ACKs are still unanswered:
	# once the rule is gone, a retransmission would complete the handshake.
	kill "$(cat "$tmp/half.ready")" 2>/dev/null
	sleep 0.2
	nft delete table inet lotrace_live
	sleep 1.5 # let the last connections end and linger out
}

# verdicts FILE PORT: the sorted verdicts of the connections to PORT
verdicts() {
	python3 - "$1" "$2" <<'PY'
import json, sys
out = []
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o["type"] == "connection" and o["server_port"] == int(sys.argv[2]):
        out.append(o["verdict"])
print(" ".join(sorted(out)))
PY
}

check_port() { # check_port BACKEND NAME PORT PATTERN
	local got; got=$(verdicts "$tmp/$1.json" "$3")
	if [[ "$got" =~ ^($4)$ ]]; then ok "$1: $2 ($got)"; else fail "$1: $2" "port $3 verdicts '$got', want /$4/"; fi
}

backends="pcap"
"$LOTRACE" --backend ebpf --port 1 --duration 1ms --no-tui >/dev/null 2>"$tmp/probe.err" && backends="pcap ebpf"
grep -q "built without eBPF" "$tmp/probe.err" && echo "note: this build has no eBPF backend; testing pcap only"

for b in $backends; do
	start_lotrace "$b" || continue
	play_scenarios
	kill -INT "$LT_PID"
	wait "$LT_PID"
	st=$?
	[ $st = 0 ] && ok "$b: SIGINT ends the run cleanly" || fail "$b: SIGINT" "exit $st: $(cat "$tmp/$b.err")"
	tail -1 "$tmp/$b.json" | grep -q '"type":"summary"' && ok "$b: summary written on SIGINT" || fail "$b: summary" "no summary line"

	written=$(sed -n "s/.*wrote \([0-9]*\) segments.*/\1/p" "$tmp/$b.err")
	read_back=$(tshark -r "$tmp/$b.pcap" 2>/dev/null | wc -l)
	if tshark -r "$tmp/$b.pcap" >/dev/null 2>&1 && [ -n "$written" ] && [ "$read_back" = "$written" ] && [ "$written" -gt 0 ]; then
		ok "$b: -w file complete after SIGINT (tshark reads all $written segments)"
	else
		fail "$b: -w file" "lotrace wrote '$written', tshark read $read_back"
	fi
	check_port "$b" "refused on IPv4" $P_REF4 "refused"
	check_port "$b" "refused on IPv6" $P_REF6 "refused"
	check_port "$b" "clean open/close with data" $P_CLEAN "closed"
	check_port "$b" "reset after the request" $P_RESET "reset-by-server"
	check_port "$b" "SYNs dropped by nft: unanswered" $P_DROP "unanswered"
	check_port "$b" "accept queue overflow: some established, the rest unanswered" $P_OVER "(half-closed |closed |open |reset-by-client |reset-by-server )*(unanswered ?)+"
	check_port "$b" "half-open (final ACK dropped)" $P_HALF "half-open"
	check_port "$b" "listener on ::1 only, client dials 127.0.0.1" $P_V6ONLY "refused"
	grep -q '"lost_events":0' "$tmp/$b.json" && ok "$b: no events lost" || fail "$b: lost events" "$(tail -1 "$tmp/$b.json" | grep -o '"lost_events":[0-9]*')"
	nft list tables 2>/dev/null | grep -q lotrace_live && fail "$b: nft table removed" "still there"
done

# Both backends must agree on every port's verdicts (overflow splits vary run to run).
if [ "$backends" = "pcap ebpf" ]; then
	for p in $P_REF4 $P_REF6 $P_CLEAN $P_RESET $P_DROP $P_HALF $P_V6ONLY; do
		a=$(verdicts "$tmp/pcap.json" $p); e=$(verdicts "$tmp/ebpf.json" $p)
		[ "$a" = "$e" ] && ok "same verdicts from pcap and ebpf on port $p ($a)" || fail "backends agree on $p" "pcap '$a' ebpf '$e'"
	done

	# eBPF-only: what only the kernel knows
	python3 - "$tmp/ebpf.json" "$(cat "$tmp/clean.ready")" "$(cat "$tmp/clean.client.pid")" \
		$P_REF4 $P_CLEAN $P_RESET $P_DROP $P_OVER "$(cat "$tmp/over.ready")" "$tmp/ebpf.report.md" <<'PY'
import json, re, sys
path, srv_pid, cli_pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ref4, clean, reset, drop, over = map(int, sys.argv[4:9])
over_pid, report = int(sys.argv[9]), open(sys.argv[10]).read()
conns = [o for o in map(json.loads, open(path)) if o["type"] == "connection"]
def on(p): return [c for c in conns if c["server_port"] == p]
def check(name, cond, why):
    print(("ok   " if cond else "FAIL ") + "ebpf: " + name + ("" if cond else ": " + why))
c = on(clean)[0]
check("client process of the clean connection", c["c2s"]["pid"] == cli_pid and c["c2s"]["comm"] == "lt_peer",
      f"c2s pid/comm {c['c2s']['pid']}/{c['c2s']['comm']}, want {cli_pid}/lt_peer")
check("server process of the clean connection", c["s2c"]["pid"] == srv_pid and c["s2c"]["comm"] == "lt_peer",
      f"s2c pid/comm {c['s2c']['pid']}/{c['s2c']['comm']}, want {srv_pid}/lt_peer")
r = on(ref4)[0]
check("refused carries the kernel reset reason NO_SOCKET", (r["kernel"] or {}).get("reset_reason") == "NO_SOCKET",
      f"kernel={r['kernel']}")
check("refused carries errno 111 (ECONNREFUSED)", (r["kernel"] or {}).get("errno") == 111, f"kernel={r['kernel']}")
x = on(reset)[0]
check("server reset carries a kernel reset reason", bool((x["kernel"] or {}).get("reset_reason")), f"kernel={x['kernel']}")
d = on(drop)[0]
check("nft-dropped SYNs carry the drop reason NETFILTER_DROP", (d["kernel"] or {}).get("drop_reason") == "NETFILTER_DROP",
      f"kernel={d['kernel']}")
un = [c for c in on(over) if c["verdict"] == "unanswered"]
named = [c for c in un if "accept-queue-overflow" in c["anomalies"]]
check("accept queue overflow named on the unanswered attempts", un and len(named) == len(un),
      f"{len(named)} of {len(un)} unanswered attempts flagged")
check("accept queue overflow has no drop reason (the SYN is consumed)",
      all(not (c["kernel"] or {}).get("drop_reason") for c in un), "a drop reason was reported")
lo = [(c["kernel"] or {}).get("listen_overflow") for c in named]
check("each overflow attempt names the listener: backlog 1, its queue length, lt_peer and its pid",
      lo and all(l and l["backlog"] == 1 and l["queued"] >= 1 and l["pid"] == over_pid and l["comm"] == "lt_peer"
                 for l in lo), f"listen_overflow={lo[:3]}, want backlog 1, pid {over_pid}")
want = r"accept queue was full[^(]*\(backlog 1, up to \d+ waiting for accept\(\); the listener is lt_peer\[%d\]\)" % over_pid
check("the report's overflow attempts name queue, backlog and listener", len(re.findall(want, report)) >= 1,
      "no line like '%s' in the report: %s" % (want, [l for l in report.splitlines() if "accept queue" in l][:3]))
PY
fi
