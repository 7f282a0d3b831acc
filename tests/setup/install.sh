#!/bin/bash
# setup/install.sh - `make install` and `make uninstall` into a staging
# directory (DESTDIR), as a packager runs them: the binary runs and says its
# version and backends, the man page renders without warnings and has every
# option `lotrace --help` lists, the bash completion completes, the demo
# capture is found, nothing lands outside DESTDIR, and uninstall removes
# every file.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest
mkdir -p "$dest"
cd "$REPO" || exit 1

# the real system's files at the paths it installs to, if written during the install
touch "$tmp/stamp"
real() {
	(cd "$dest" && find . ! -type d) | sed 's|^\.||' | while read -r f; do
		[ -e "$f" ] && find "$f" -newer "$tmp/stamp"
	done
}
if make -s install DESTDIR="$dest" PREFIX=/usr "$SCRATCH_MAKE" >"$tmp/install.log" 2>&1; then
	ok "make install DESTDIR=... PREFIX=/usr LTO="
else
	fail "make install" "$(tail -5 "$tmp/install.log")"
	exit 0
fi
outside=$(real)
[ -z "$outside" ] && ok "install writes nothing outside DESTDIR (none of its files under /usr changed)" ||
	fail "install writes nothing outside DESTDIR" "$outside"

(cd "$dest" && find . -type f | sort) >"$tmp/files"
for f in ./usr/sbin/lotrace ./usr/share/man/man8/lotrace.8 \
	./usr/share/bash-completion/completions/lotrace ./usr/share/zsh/site-functions/_lotrace \
	./usr/share/doc/lotrace/README.md ./usr/share/doc/lotrace/LICENSE ./usr/share/doc/lotrace/verdicts.md \
	./usr/share/lotrace/captures/busy-mixed.pcap; do
	grep -qxF "$f" "$tmp/files" && ok "installs $f" || fail "installs $f" "not there: $(tr '\n' ' ' <"$tmp/files")"
done

LT=$dest/usr/sbin/lotrace
[ -x "$LT" ] && [ "$(stat -c %a "$LT")" = 755 ] && ok "sbin/lotrace is mode 755" || fail "sbin/lotrace mode" "$(stat -c %a "$LT")"
"$LT" -V >"$tmp/V" 2>&1
head -1 "$tmp/V" | grep -qx "lotrace $(cat VERSION)" && ok "installed lotrace -V: version from VERSION" ||
	fail "installed lotrace -V" "$(head -1 "$tmp/V"), VERSION says $(cat VERSION)"
grep -q '^live backends: .*pcap' "$tmp/V" && grep -q '^libpcap version ' "$tmp/V" &&
	grep -q '^libbpf' "$tmp/V" && grep -q '^ncurses ' "$tmp/V" &&
	ok "installed lotrace -V names the backends and libpcap, libbpf, ncurses" ||
	fail "installed lotrace -V" "$(tr '\n' '|' <"$tmp/V")"
# --demo reads the capture from the installed share directory, here DESTDIR's
# /usr/share/lotrace, which does not exist: the message names that path.
"$LT" --demo --no-tui >/dev/null 2>"$tmp/demo.err"
grep -q "/usr/share/lotrace/captures/busy-mixed.pcap" "$tmp/demo.err" &&
	ok "installed --demo looks in PREFIX/share/lotrace" || fail "installed --demo" "$(cat "$tmp/demo.err")"

man8=$dest/usr/share/man/man8/lotrace.8
MANWIDTH=100 man -l "$man8" >"$tmp/man.txt" 2>"$tmp/man.err"
[ -s "$tmp/man.txt" ] && [ ! -s "$tmp/man.err" ] && ok "man -l renders lotrace.8" ||
	fail "man -l renders lotrace.8" "$(head -3 "$tmp/man.err")"
groff -ww -z -mandoc "$man8" 2>"$tmp/groff.err"
[ ! -s "$tmp/groff.err" ] && ok "groff -ww -z: no warnings" || fail "groff -ww -z" "$(head -3 "$tmp/groff.err")"
lexgrog "$man8" | grep -q 'lotrace - ' && ok "lexgrog finds the NAME section" ||
	fail "lexgrog" "$(lexgrog "$man8" 2>&1)"
grep -q '/usr/share/lotrace/captures/busy-mixed.pcap' "$tmp/man.txt" && ! grep -q '/usr/local' "$tmp/man.txt" &&
	ok "the installed man page names PREFIX's paths (FILES)" || fail "man page FILES" "$(grep -n 'share/' "$tmp/man.txt" | head -3)"
for sec in NAME SYNOPSIS DESCRIPTION OPTIONS VERDICTS OUTPUT "EXIT STATUS" OVERHEAD EXAMPLES FILES "SEE ALSO"; do
	grep -qx "$sec" "$tmp/man.txt" || fail "man page section $sec" "missing"
done
ok "man page has NAME ... SEE ALSO"

# every long option of --help in the man page and both completions
"$LT" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u >"$tmp/opts"
[ "$(wc -l <"$tmp/opts")" -ge 10 ] || fail "options from --help" "only $(wc -l <"$tmp/opts")"
for where in man bash zsh; do
	case $where in
	man) file=$tmp/man.txt ;;
	bash) file=$dest/usr/share/bash-completion/completions/lotrace ;;
	zsh) file=$dest/usr/share/zsh/site-functions/_lotrace ;;
	esac
	missing=$(while read -r o; do grep -q -e "$o\b" "$file" || echo "$o"; done <"$tmp/opts" | tr '\n' ' ')
	[ -z "$missing" ] && ok "$where: every long option of --help ($(wc -l <"$tmp/opts"))" ||
		fail "$where: every long option of --help" "missing: $missing"
done

comp() { # comp WORDS...: what the installed bash completion offers for the last word
	bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _lotrace; echo "${COMPREPLY[*]}"' \
		_ "$dest/usr/share/bash-completion/completions/lotrace" "$@"
}
[ "$(comp lotrace --backend '')" = "auto ebpf pcap" ] && ok "bash: --backend completes auto ebpf pcap" ||
	fail "bash: --backend" "got '$(comp lotrace --backend '')'"
[ "$(comp lotrace --backend = e)" = "ebpf" ] && ok "bash: --backend=e completes ebpf" ||
	fail "bash: --backend=e" "got '$(comp lotrace --backend = e)'"
[ "$(comp lotrace --format j)" = "json" ] && ok "bash: --format completes" || fail "bash: --format" "got '$(comp lotrace --format j)'"
[ "$(comp lotrace --no-t)" = "--no-tui" ] && ok "bash: options complete" || fail "bash: options" "got '$(comp lotrace --no-t)'"
got=$(comp lotrace -r captures/refused-v | tr ' ' '\n' | sort | tr '\n' ' ')
[ "$got" = "captures/refused-v4.pcap captures/refused-v4.pcap.truth.json captures/refused-v6.pcap captures/refused-v6.pcap.truth.json " ] &&
	ok "bash: -r completes file names" || fail "bash: -r" "got '$got'"
[ "$(comp lotrace -Z nob)" = "nobody" ] && ok "bash: -Z completes user names" || fail "bash: -Z" "got '$(comp lotrace -Z nob)'"
[ "$(comp lotrace rep)" = "report" ] && ok "bash: the report command completes" || fail "bash: report" "got '$(comp lotrace rep)'"
if command -v zsh >/dev/null; then
	zsh -n "$dest/usr/share/zsh/site-functions/_lotrace" 2>"$tmp/zsh.err" && ok "zsh: _lotrace parses" ||
		fail "zsh: _lotrace parses" "$(head -2 "$tmp/zsh.err")"
else
	fail "zsh: _lotrace parses" "no zsh (make deps installs it)"
fi

if make -s uninstall DESTDIR="$dest" PREFIX=/usr >"$tmp/uninstall.log" 2>&1; then
	ok "make uninstall"
else
	fail "make uninstall" "$(tail -3 "$tmp/uninstall.log")"
fi
left=$(find "$dest" ! -type d | head -5)
[ -z "$left" ] && ok "uninstall leaves no files" || fail "uninstall leaves no files" "$left"
