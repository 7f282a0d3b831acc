#!/bin/bash
# golden/update.sh - regenerate tests/golden/expected from captures/*.pcap.
# Review `git diff tests/golden` before committing: the diff is the change.
. "$(dirname "$0")/../lib.sh"
cd "$REPO" || exit 1
for cap in captures/*.pcap; do
	name=$(basename "$cap" .pcap)
	"$LOTRACE" -r "$cap" > "tests/golden/expected/$name.txt"
	"$LOTRACE" -r "$cap" --json > "tests/golden/expected/$name.json"
done
echo "updated $(ls tests/golden/expected | wc -l) files"
