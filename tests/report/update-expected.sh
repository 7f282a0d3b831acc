#!/bin/bash
# update-expected.sh - regenerate the report golden files and the example
# reports from captures/*.pcap:
#   tests/report/expected/NAME.md   normalised (tests/report/normalise.sed)
#   docs/reports/NAME.md            as lotrace writes it
# Review `git diff tests/report docs/reports` before committing: read each
# changed finding; the diff is the change in what lotrace tells people.
. "$(dirname "$0")/../lib.sh"
cd "$REPO" || exit 1
n=0
for cap in captures/*.pcap; do
	name=$(basename "$cap" .pcap)
	"$LOTRACE" report -r "$cap" > "docs/reports/$name.md" || echo "warning: report of $cap exited $?" >&2
	sed -E -f tests/report/normalise.sed "docs/reports/$name.md" > "tests/report/expected/$name.md"
	n=$((n + 1))
done
echo "updated $n expected reports and $n example reports"
