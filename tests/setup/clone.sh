#!/bin/bash
# setup/clone.sh - the repository holds everything it builds and tests from.
#
#  - no tracked file except documentation (*.md) names the shared directory
#    beside the development checkouts ("../" + "shared"), nor the
#    development machine's top directory (/work + /);
#  - a `git clone` into a scratch directory, with no shared directory beside
#    it, builds and passes the replay tests (unit cli golden report). As
#    root this runs in a private mount namespace where the original checkout
#    and the shared directory beside it are hidden under empty tmpfs mounts, so a test that
#    still read them would fail (they vanish with the namespace);
#  - the backend decision: with pkg-config unable to find libbpf (a
#    PKG_CONFIG_LIBDIR holding every .pc file except libbpf.pc) the build
#    picks libpcap and says why; with libbpf it picks eBPF.
# Tests HEAD (a clone holds commits only); in an unpacked release tarball,
# a copy of it.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d /tmp/lotrace-clone.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$REPO" || exit 1

# tracked files; outside a git checkout (a release tarball), every file
files() { if git rev-parse -q --verify HEAD >/dev/null 2>&1; then git ls-files; else find . -type f ! -path './build*' | sed 's|^\./||'; fi; }
pat='\.\./'shared
hits=$(files | grep -v '\.md$' | tr '\n' '\0' | xargs -0 grep -n -e "$pat" 2>/dev/null)
[ -z "$hits" ] && ok "no tracked file names the shared directory beside the checkout (documentation aside)" ||
	fail "no tracked file names the shared directory beside the checkout" "$(echo "$hits" | head -5 | tr '\n' '|')"
pat=/work; pat=$pat/ # (split so that this line does not match)
hits=$(files | grep -v '\.md$' | tr '\n' '\0' | xargs -0 grep -n -e "$pat" 2>/dev/null)
[ -z "$hits" ] && ok "no tracked file names $pat" || fail "no tracked file names $pat" "$(echo "$hits" | head -5 | tr '\n' '|')"

src=$tmp/checkout/lotrace
if ! how=$(fresh_copy "$src" 2>"$tmp/clone.err"); then
	fail "a fresh copy in a scratch directory" "$(head -3 "$tmp/clone.err")"
	exit 0
fi
ok "$how in $src (nothing beside it)"

# pkg-config without libbpf: every other .pc file of its search path
nobpf=$tmp/pc-without-libbpf
mkdir -p "$nobpf"
IFS=: read -ra pcdirs <<<"$(pkg-config --variable pc_path pkg-config)"
for d in "${pcdirs[@]}"; do
	for pc in "$d"/*.pc; do
		[ -e "$pc" ] && [ "$(basename "$pc")" != libbpf.pc ] && [ ! -e "$nobpf/$(basename "$pc")" ] && ln -s "$pc" "$nobpf/"
	done
done

# The rest runs in the clone, with the original checkout hidden when root.
cat >"$tmp/inner.sh" <<'EOF'
#!/bin/bash
# inner.sh NOBPF: build and test the clone in the current directory
set -u
unset PUBLIC LOTRACE
nobpf=$1
say() { printf '%s %s\n' "$1" "$2"; }
# (lotrace only: the tools and the TUI benchmark do not depend on the backend)
if PKG_CONFIG_LIBDIR=$nobpf PKG_CONFIG_PATH= make -j2 "$SCRATCH_MAKE" BUILD=build-pcap build-pcap/lotrace >build-pcap.log 2>&1; then
	if grep -q "BACKEND  libpcap only, no eBPF: pkg-config finds no libbpf; \`make deps\` installs libbpf-dev" build-pcap.log; then
		say "ok  " "without libbpf (pkg-config): the build picks libpcap and says why"
	else
		say "FAIL" "without libbpf: the build does not say so: $(grep BACKEND build-pcap.log)"
	fi
	grep -qx 'live backends: pcap.*' <(build-pcap/lotrace -V) && ! ldd build-pcap/lotrace | grep -q libbpf &&
		say "ok  " "without libbpf: lotrace -V names pcap only, libbpf not linked" ||
		say "FAIL" "without libbpf: $(build-pcap/lotrace -V | sed -n 2p)"
else
	say "FAIL" "build without libbpf: $(grep -m3 -E 'error|Error' build-pcap.log)"
fi
if make -j2 "$SCRATCH_MAKE" all units >build.log 2>&1; then
	say "ok  " "make all units in the clone"
else
	say "FAIL" "make all units in the clone: $(grep -m3 -E 'error|Error' build.log)"
	exit 0
fi
if pkg-config --exists libbpf && [ -r /sys/kernel/btf/vmlinux ] && command -v clang >/dev/null; then
	grep -q 'BACKEND  eBPF and libpcap' build.log && grep -qx 'live backends: ebpf pcap' <(build/lotrace -V) &&
		say "ok  " "with libbpf: the build picks eBPF (and libpcap)" ||
		say "FAIL" "with libbpf: $(grep BACKEND build.log); -V: $(build/lotrace -V | sed -n 2p)"
fi
# section NAME COMMAND...: one line for a whole test script's run
section() {
	local name=$1
	shift
	"$@" >"section.$name.log" 2>&1
	local p f
	p=$(grep -c '^ok ' "section.$name.log")
	f=$(grep -c '^FAIL' "section.$name.log")
	if [ "$f" = 0 ] && [ "$p" -gt 0 ]; then
		say "ok  " "clone: $name ($p passed)"
	else
		say "FAIL" "clone: $name: $p passed, $f failed: $(grep -m3 '^FAIL' "section.$name.log" | tr '\n' '|')"
	fi
}
section "unit" tests/run-all.sh unit
section "cli" env LOTRACE="$PWD/build/lotrace" tests/cli.sh
section "cli (libpcap-only build)" env LOTRACE="$PWD/build-pcap/lotrace" tests/cli.sh
section "golden" tests/run-all.sh golden
section "report" tests/run-all.sh report
# a test script that lost its exec bit fails the run (it is not skipped)
chmod -x tests/report.sh
if ! tests/run-all.sh report >noexec.log 2>&1 && grep -q '^FAIL tests/report.sh: not executable' noexec.log; then
	say "ok  " "run-all.sh fails on a test script that is not executable"
else
	say "FAIL" "run-all.sh with tests/report.sh not executable: $(tail -1 noexec.log)"
fi
chmod +x tests/report.sh
EOF
chmod +x "$tmp/inner.sh"

if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
	hide=("$REPO")
	shared="$REPO/.."/shared
	[ -d "$shared" ] && hide+=("$(cd "$shared" && pwd)")
	# shellcheck disable=SC2016
	unshare -m --propagation private bash -c '
		src=$1 inner=$2 nobpf=$3; shift 3
		for d in "$@"; do mount -t tmpfs -o size=64k,mode=0 lotrace-hidden "$d" || exit 1; done
		echo "ok   hidden for the clone: $*"
		cd "$src" && "$inner" "$nobpf"' _ "$src" "$tmp/inner.sh" "$nobpf" "${hide[@]}"
else
	echo "note: not root: the original checkout stays visible to the clone's tests"
	(cd "$src" && "$tmp/inner.sh" "$nobpf")
fi
