#!/bin/bash
# setup/dist.sh - `make dist` makes lotrace-VERSION.tar.gz of HEAD, with
# VERSION the one place the version is written; the unpacked tarball builds
# on its own (no git, nothing beside it) and its lotrace -V says that version.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$REPO" || exit 1
if ! git rev-parse -q --verify HEAD >/dev/null 2>&1; then
	echo "== dist: SKIPPED (not a git checkout, e.g. an unpacked tarball: make dist needs git)"
	exit 0
fi
v=$(git show HEAD:VERSION 2>/dev/null)
if [ -z "$v" ]; then
	fail "make dist" "no VERSION file in HEAD"
	exit 0
fi
if make -s dist DISTDIR="$tmp" >"$tmp/dist.log" 2>&1 && [ -s "$tmp/lotrace-$v.tar.gz" ]; then
	ok "make dist writes lotrace-$v.tar.gz"
else
	fail "make dist" "$(ls "$tmp"; tail -3 "$tmp/dist.log")"
	exit 0
fi
# the version is written nowhere else in the tree (docs quote output, so
# only the sources and the build files are searched)
others=$(git grep -lF "$v" HEAD -- '*.c' '*.h' Makefile '*.sh' '*.py' | sed 's/^HEAD://')
[ -z "$others" ] && ok "the version $v is written only in VERSION (sources, Makefile, scripts)" ||
	fail "one place for the version" "also in: $others"

mkdir "$tmp/u"
tar -xzf "$tmp/lotrace-$v.tar.gz" -C "$tmp/u"
[ "$(ls "$tmp/u")" = "lotrace-$v" ] && ok "unpacks into lotrace-$v/" || fail "unpacks into lotrace-$v/" "$(ls "$tmp/u")"
d=$tmp/u/lotrace-$v
git ls-tree -r --name-only HEAD | sort >"$tmp/want"
(cd "$d" && find . ! -type d | sed 's|^\./||' | sort) >"$tmp/got"
cmp -s "$tmp/want" "$tmp/got" && ok "holds exactly the files of HEAD" ||
	fail "holds exactly the files of HEAD" "$(diff "$tmp/want" "$tmp/got" | head -5 | tr '\n' '|')"
if make -C "$d" -j2 "$SCRATCH_MAKE" >"$tmp/build.log" 2>&1; then
	ok "the unpacked tarball builds (make LTO=)"
else
	fail "the unpacked tarball builds" "$(grep -m3 -iE 'error|No rule' "$tmp/build.log")"
fi
[ "$("$d/build/lotrace" -V 2>&1 | head -1)" = "lotrace $v" ] && ok "its build/lotrace -V says lotrace $v" ||
	fail "its build/lotrace -V" "$("$d/build/lotrace" -V 2>&1 | head -1)"
