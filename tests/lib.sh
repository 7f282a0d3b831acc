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

# Builds made to test a tree's files or a make flow (a clone, the release
# tarball, make install, the first make run) are made without LTO: make
# test has built the same sources with LTO already, and LTO triples a
# build's compile time (66 against 24 CPU seconds for make all). Pass it
# on the make command line: make ... "$SCRATCH_MAKE"
export SCRATCH_MAKE="LTO="

# fresh_copy DIR: what a user starts from, in DIR: a git clone of HEAD, or,
# outside a git checkout (an unpacked release tarball), a copy of the tree
# without build outputs. Prints which; non-zero if it failed.
fresh_copy() {
	if git -C "$REPO" rev-parse -q --verify HEAD >/dev/null 2>&1; then
		git clone -q "$REPO" "$1" && echo "a git clone of HEAD"
	else
		mkdir -p "$1" && tar -C "$REPO" --exclude='./build*' --exclude='./lotrace-*.tar.gz' -cf - . |
			tar -C "$1" -xf - && echo "a copy of the tree (not a git checkout)"
	fi
}

# scratch_dir: $tmp, a new directory, and $pids, the test's background
# processes (append to it); on exit, however the test ends, they are
# killed and waited for and $tmp is removed. A test with more to undo
# defines cleanup_more (e.g. an nft table), which runs before the removal.
scratch_dir() {
	tmp=$(mktemp -d)
	pids=()
	trap scratch_cleanup EXIT
	trap 'exit 1' INT TERM
}
scratch_cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	if declare -F cleanup_more >/dev/null; then cleanup_more; fi
	rm -rf "$tmp"
}
