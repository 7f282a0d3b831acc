#!/bin/bash
# report.sh - `lotrace report`: the bug-report summary.
#
#  - golden: each scenario capture's markdown report against
#    tests/report/expected/NAME.md, after tests/report/normalise.sed
#    (regenerate with tests/report/update-expected.sh, review the diff);
#  - findings: each scenario yields the findings it was recorded for;
#  - honesty: no kernel reason is mentioned when the flows carry none, a
#    capture of clean connections says nothing is wrong, every finding's
#    evidence names real connections;
#  - form: JSON parses and keeps its key order, ladders fit 100 columns,
#    code fences balance, text output has no markdown marks;
#  - the command line: an invalid port is rejected before anything else.
. "$(dirname "$0")/lib.sh"
cd "$REPO" || exit 1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
exp=tests/report/expected
public=$PUBLIC

report() { "$LOTRACE" report "$@"; }

# ---- golden --------------------------------------------------------------
n=0
for cap in captures/*.pcap; do
	name=$(basename "$cap" .pcap)
	n=$((n + 1))
	if [ ! -f "$exp/$name.md" ]; then
		fail "report golden $name" "no expected file $exp/$name.md (tests/report/update-expected.sh)"
		continue
	fi
	report -r "$cap" >"$tmp/$name.md" 2>"$tmp/$name.err"
	st=$?
	sed -E -f tests/report/normalise.sed "$tmp/$name.md" >"$tmp/$name.norm"
	if [ $st != 0 ]; then
		fail "report golden $name" "exit $st: $(head -c 300 "$tmp/$name.err")"
	elif ! diff -u "$exp/$name.md" "$tmp/$name.norm" >"$tmp/diff"; then
		fail "report golden $name" "report differs:
$(head -40 "$tmp/diff")"
	else
		ok "report golden $name"
	fi
done
[ $n -gt 0 ] || fail "report golden" "no scenario captures in captures/"

# ---- the findings each scenario was recorded for ------------------------
# finding_ids CAPTURE [ARGS...]: the ids of its findings, sorted, one line
finding_ids() {
	report -r "$@" --format json 2>/dev/null | python3 -c '
import json, sys
print(" ".join(sorted(f["id"] for f in json.load(sys.stdin)["findings"])))'
}
want_ids() { # want_ids NAME "ids" : the findings of captures/NAME.pcap
	local got; got=$(finding_ids "captures/$1.pcap")
	[ "$got" = "$2" ] && ok "report findings of $1: $2" ||
		fail "report findings of $1" "want '$2', got '$got'"
}
want_ids refused-v4 "refused"
want_ids refused-v6 "refused"
want_ids v6-listener-v4-client "refused-other-family"
want_ids unanswered "unanswered"
want_ids clean "no-problem"
want_ids reset-after-data "reset-after-request"
want_ids half-open "half-open"
want_ids port-reuse "refused-before-listening"
want_ids accept-overflow "server-silent unanswered"
want_ids busy-mixed "refused-other-family reset-after-request unanswered"

# want_text NAME TEXT: the markdown report of captures/NAME.pcap says TEXT
want_text() {
	if grep -qF -- "$2" "$tmp/$1.md"; then ok "report of $1 says: $2"
	else fail "report of $1" "does not say '$2'"; fi
}
want_text refused-v4 'Refused: nothing answered on `127.0.0.1:61901`'
want_text refused-v4 'is the server running, and is it configured for this port?'
want_text refused-v6 'Refused: nothing answered on `[::1]:61902`'
want_text v6-listener-v4-client 'Refused on IPv4 `127.0.0.1:61903`, but `[::1]:61903` answered'
want_text v6-listener-v4-client 'listening on IPv6 only'
want_text unanswered 'No answer to SYNs on `127.0.0.1:61904`'
want_text unanswered 'A packet capture cannot tell a firewall rule that drops the SYNs from a listener whose accept queue is full'
want_text unanswered 'nft list ruleset'
want_text unanswered "ss -ltn 'sport = :61904'"
want_text clean 'Nothing wrong found in the handshakes'
want_text reset-after-data 'Server reset the connection right after the request on `127.0.0.1:61906`'
want_text reset-after-data 'the wrong protocol'
want_text half-open 'Handshake never completed on `127.0.0.1:61907`: SYN-ACK sent, final ACK never seen'
want_text port-reuse 'Refused until the server listened on `127.0.0.1:61908`'
want_text accept-overflow 'No answer to SYNs on `127.0.0.1:61909`'
want_text accept-overflow 'fits a server that does not call accept()'
want_text busy-mixed 'Refused on IPv6 `[::1]:61910`, but `127.0.0.1:61910` answered'
want_text busy-mixed 'No answer to SYNs on `127.0.0.1:61911`'
want_text busy-mixed 'Server reset the connection right after the request on `127.0.0.1:61911`'

# Public captures exercise the rest: mid-stream, still open, client resets.
want_public() { # want_public FILE ID: the report of that capture has finding ID
	local got; got=$(finding_ids "$public/$1")
	case " $got " in
	*" $2 "*) ok "report finding $2 in $1" ;;
	*) fail "report finding $2 in $1" "got '$got'" ;;
	esac
}
want_public start-with-server.pcapng mid-stream
want_public openjdk-25.0.2-zeek.org.pcap still-open
want_public ipv6-violation.pcap reset-by-client
want_public get-to-ssh-server.pcap reset-by-server
want_public syn-synack.pcap half-open
want_public echo-connections.pcap.gz syn-retransmitted
want_public DERIVED-resp_1_benchmark-cut.pcap input-ended-early

# ---- honesty --------------------------------------------------------------
# A plain packet capture carries no kernel reasons: never mention one.
kernel_words='NETFILTER_DROP|NO_SOCKET|LISTEN_OVERFLOW|drop reason|reset reason|kernel reported|kernel gave'
for cap in captures/*.pcap "$public"/*.pcap "$public"/*.pcapng "$public"/*.pcap.gz; do
	[ -f "$cap" ] || continue
	for fmt in markdown text json; do
		report -r "$cap" --format $fmt >"$tmp/h.out" 2>/dev/null
		if grep -qE "$kernel_words" "$tmp/h.out"; then
			fail "report of $(basename "$cap") ($fmt) names no kernel reason" \
				"$(grep -oE ".{0,60}($kernel_words).{0,40}" "$tmp/h.out" | head -2)"
			continue 2
		fi
	done
done
ok "reports from plain captures never mention a kernel reason"

# Clean connections only: it says so, and no error is found.
clean_check() { # clean_check FILE PHRASE
	report -r "$1" --format json >"$tmp/c.json"
	report -r "$1" >"$tmp/c.md"
	if python3 - "$tmp/c.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ids = [f["id"] for f in r["findings"]]
sev = [f["severity"] for f in r["findings"]]
sys.exit(0 if "no-problem" in ids and "error" not in sev else 1)
PY
	then
		if grep -q "$2" "$tmp/c.md"; then ok "report of $(basename "$1") says: $2"
		else fail "report of $(basename "$1")" "does not say '$2'"; fi
	else
		fail "report of $(basename "$1")" "want a no-problem finding and no error, got: $(grep -o '"id":"[^"]*"' "$tmp/c.json" | tr '\n' ' ')"
	fi
}
clean_check captures/clean.pcap "Nothing wrong found in the handshakes"
clean_check "$public/echo-connections.pcap.gz" "Nothing failed: every handshake completed"

# Every finding rests on connections that exist, and says how many.
for cap in captures/*.pcap; do
	report -r "$cap" --format json >"$tmp/e.json"
	"$LOTRACE" -r "$cap" --json >"$tmp/e.conns"
	if msg=$(python3 - "$tmp/e.json" "$tmp/e.conns" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
conns = {c["id"]: c for c in map(json.loads, open(sys.argv[2])) if c["type"] == "connection"}
counters = {"events-lost", "decode-problems", "flows-evicted", "input-ended-early",
            "findings-cut", "no-connections"}
bad = []
for f in r["findings"]:
    ev = f["evidence"]
    if f["id"] in counters:
        continue
    if not ev or f["evidence_total"] < len(ev):
        bad.append(f"{f['id']}: evidence {ev} total {f['evidence_total']}")
    bad += [f"{f['id']}: no connection #{i}" for i in ev if i not in conns]
print("; ".join(bad))
sys.exit(1 if bad else 0)
PY
	); then ok "report evidence of $(basename "$cap") names real connections"
	else fail "report evidence of $(basename "$cap")" "$msg"; fi
done

# No connections at all is a finding too, not an empty report.
report -r captures/clean.pcap --port 1 >"$tmp/none.md"
grep -q "No connections seen" "$tmp/none.md" && grep -q "No TCP connection to port 1 in the capture" "$tmp/none.md" &&
	ok "report with no connection says so" || fail "report with no connection" "$(sed -n '/Diagnosis/,/Ports/p' "$tmp/none.md")"

# ---- form -----------------------------------------------------------------
for cap in captures/*.pcap; do
	name=$(basename "$cap" .pcap)
	report -r "$cap" --format json >"$tmp/j.json"
	if ! python3 -m json.tool "$tmp/j.json" >/dev/null 2>"$tmp/j.err"; then
		fail "report json $name" "not JSON: $(head -c 200 "$tmp/j.err")"
		continue
	fi
	if msg=$(python3 - "$tmp/j.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
want = ["type", "schema_version", "run", "ports", "total", "findings", "examples"]
fk = ["id", "severity", "title", "text", "next_step", "evidence", "evidence_total"]
bad = []
if list(r) != want:
    bad.append(f"top-level keys {list(r)}")
bad += [f"finding keys {list(f)}" for f in r["findings"] if list(f) != fk]
bad += [f"severity {f['severity']}" for f in r["findings"] if f["severity"] not in ("error", "warning", "info")]
bad += ["markdown mark in " + f["id"] for f in r["findings"] if "`" in f["text"] + f["title"] + f["next_step"]]
bad += [f"example type {e['type']}" for e in r["examples"] if e["type"] != "connection"]
print("; ".join(bad))
sys.exit(1 if bad else 0)
PY
	); then ok "report json $name parses, keys in order"
	else fail "report json $name" "$msg"; fi
done

for cap in captures/*.pcap "$public"/echo-connections.pcap.gz; do
	name=$(basename "$cap")
	md=$(report -r "$cap")
	wide=$(printf '%s\n' "$md" | awk '/^```/ { inb = !inb; next } inb && length > 100' | head -1)
	fences=$(printf '%s\n' "$md" | grep -c '^```')
	if [ -n "$wide" ]; then fail "report ladders of $name fit 100 columns" "$wide"
	elif [ $((fences % 2)) != 0 ] || [ "$fences" = 0 ]; then fail "report code blocks of $name" "$fences fences"
	elif ! printf '%s\n' "$md" | head -1 | grep -q '^# lotrace report: '; then fail "report of $name" "markdown is not the default"
	else ok "report markdown of $name: ladders in code blocks, under 100 columns"; fi
	if report -r "$cap" --format text | grep -q '`'; then
		fail "report text of $name" "markdown marks in plain text"
	else ok "report text of $name is plain"; fi
done

# --report FILE picks the format from the name; run and report agree.
"$LOTRACE" -r captures/v6-listener-v4-client.pcap --report "$tmp/r.md" >/dev/null 2>&1
report -r captures/v6-listener-v4-client.pcap >"$tmp/r2.md"
cmp -s "$tmp/r.md" "$tmp/r2.md" && ok "--report FILE.md equals lotrace report" ||
	fail "--report FILE.md" "differs from lotrace report: $(diff "$tmp/r.md" "$tmp/r2.md" | head -5)"
report -r captures/clean.pcap --report "$tmp/r.json" >"$tmp/r.stdout"
if [ ! -s "$tmp/r.stdout" ] && python3 -m json.tool "$tmp/r.json" >/dev/null 2>&1; then
	ok "lotrace report --report FILE.json writes JSON there"
else fail "lotrace report --report FILE.json" "stdout $(wc -c <"$tmp/r.stdout") bytes"; fi

# ---- the command line -----------------------------------------------------
for args in "--port 619009" "--port 619009 --format json" "--port 80,619009"; do
	# shellcheck disable=SC2086
	report -r captures/clean.pcap $args >"$tmp/p.out" 2>"$tmp/p.err"
	st=$?
	if [ $st = 2 ] && [ ! -s "$tmp/p.out" ] && [ "$(grep -c . "$tmp/p.err")" = 1 ] &&
		grep -q "invalid port '619009': expected an integer from 0 to 65535" "$tmp/p.err"; then
		ok "report $args: rejected first, with the reason"
	else
		fail "report $args" "exit $st, stdout $(wc -c <"$tmp/p.out") bytes, stderr: $(cat "$tmp/p.err")"
	fi
done
report -r /nonexistent.pcap >"$tmp/p.out" 2>"$tmp/p.err"
st=$?
[ $st = 1 ] && [ ! -s "$tmp/p.out" ] && grep -q "cannot read capture" "$tmp/p.err" &&
	ok "report of a missing file: one error, no report" ||
	fail "report of a missing file" "exit $st: $(cat "$tmp/p.err")"
