#!/bin/bash
# lib.sh - shared helpers for lotrace's shell tests. Source it.
# Each check prints "ok   NAME" or "FAIL NAME: why"; run-all.sh counts them.
set -u
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PUBLIC=${PUBLIC:-$REPO/tests/captures/public}
LOTRACE=${LOTRACE:-$REPO/build/lotrace}
export TZ=UTC LC_ALL=C

ok()   { printf 'ok   %s\n' "$1"; }
fail() { printf 'FAIL %s: %s\n' "$1" "$2"; }

# expect NAME CONDITION-DESCRIPTION COMMAND... : ok when COMMAND succeeds
expect() {
	local name=$1; shift
	if "$@"; then ok "$name"; else fail "$name" "check failed: $*"; fi
}
