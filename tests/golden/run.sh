#!/bin/bash
# golden/run.sh - every scenario capture's text and JSON output, against
# reviewed expected files (tests/golden/expected/NAME.{txt,json}).
# Regenerate with tests/golden/update.sh and review the diff before committing.
. "$(dirname "$0")/../lib.sh"
cd "$REPO" || exit 1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0
for cap in captures/*.pcap; do
	name=$(basename "$cap" .pcap)
	for fmt in txt json; do
		exp=tests/golden/expected/$name.$fmt
		[ -f "$exp" ] || { fail "golden $name.$fmt" "no expected file $exp"; continue; }
		args=(-r "$cap"); [ $fmt = json ] && args+=(--json)
		"$LOTRACE" "${args[@]}" >"$tmp/out" 2>"$tmp/err"
		st=$?
		if [ $st != 0 ]; then fail "golden $name.$fmt" "exit $st: $(head -c 300 "$tmp/err")"
		elif ! diff -u "$exp" "$tmp/out" >"$tmp/diff"; then fail "golden $name.$fmt" "output differs:
$(head -40 "$tmp/diff")"
		else ok "golden $name.$fmt"; fi
		n=$((n + 1))
	done
done
[ $n -gt 0 ] || fail "golden" "no scenario captures found in captures/"

# Each scenario's verdicts, as a person reads them: the intent of the capture.
verdicts() { "$LOTRACE" -r "captures/$1.pcap" --json | python3 -c '
import json, sys
print(" ".join(sorted(o["verdict"] for o in map(json.loads, sys.stdin) if o["type"] == "connection")))'; }
want() { # want NAME "sorted verdicts"
	local got; got=$(verdicts "$1")
	[ "$got" = "$2" ] && ok "verdicts of $1: $2" || fail "verdicts of $1" "want '$2', got '$got'"
}
want refused-v4 "refused"
want refused-v6 "refused"
want v6-listener-v4-client "closed refused"
want unanswered "unanswered"
want clean "closed"
want reset-after-data "reset-by-server"
want half-open "half-open"
