#!/bin/bash
# live/first-run.sh - the first `make run` on a machine without libbpf
# already runs with eBPF: `make deps` installs libbpf-dev first, and only
# then is the backend decided.
#
# A clone of HEAD in a scratch directory, and a machine that lacks libbpf
# until `make deps` installs it: in PATH, pkg-config hides libbpf.pc and
# dpkg-query calls libbpf-dev not installed until apt-get "installs" it
# (apt-get is replaced too, so nothing is really installed or removed; it
# records what it was asked). Then `make run`, the README's first command:
# it must install libbpf-dev, build with eBPF, run the live demo with
# kernel context, and never say "built without eBPF".
# Needs root (deps and the live demo); run under the live lock.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d /tmp/lotrace-first-run.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
src=$tmp/lotrace
if ! fresh_copy "$src" >/dev/null 2>"$tmp/err"; then
	fail "first run: a fresh copy" "$(head -2 "$tmp/err")"
	exit 0
fi

shims=$tmp/shims nobpf=$tmp/pc-without-libbpf marker=$tmp/libbpf-installed
mkdir -p "$shims" "$nobpf"
IFS=: read -ra pcdirs <<<"$(pkg-config --variable pc_path pkg-config)"
for d in "${pcdirs[@]}"; do
	for pc in "$d"/*.pc; do
		[ -e "$pc" ] && [ "$(basename "$pc")" != libbpf.pc ] && [ ! -e "$nobpf/$(basename "$pc")" ] && ln -s "$pc" "$nobpf/"
	done
done
real_pc=$(command -v pkg-config) real_dpkg=$(command -v dpkg-query)
cat >"$shims/pkg-config" <<EOF
#!/bin/sh
[ -e "$marker" ] && exec "$real_pc" "\$@"
PKG_CONFIG_LIBDIR="$nobpf" PKG_CONFIG_PATH= exec "$real_pc" "\$@"
EOF
cat >"$shims/dpkg-query" <<EOF
#!/bin/sh
if [ ! -e "$marker" ]; then
	for a in "\$@"; do [ "\$a" = libbpf-dev ] && { echo "dpkg-query: no packages found matching libbpf-dev" >&2; exit 1; }; done
fi
exec "$real_dpkg" "\$@"
EOF
cat >"$shims/apt-get" <<EOF
#!/bin/sh
echo "\$*" >>"$tmp/apt-get.log"
case " \$* " in *" install "*" libbpf-dev "*) touch "$marker" ;; esac
exit 0
EOF
chmod +x "$shims"/*
export PATH="$shims:$PATH"

if ! pkg-config --exists libbpf && ! dpkg-query -W libbpf-dev >/dev/null 2>&1; then
	ok "first run: the scratch machine has no libbpf (pkg-config, dpkg)"
else
	fail "first run: the scratch machine has no libbpf" "the pkg-config/dpkg-query shims do not hide it"
fi

make -C "$src" --no-print-directory -j2 "$SCRATCH_MAKE" run >"$tmp/out" 2>"$tmp/err"
st=$?
[ $st = 0 ] && ok "first run: make run exits 0" || fail "first run: make run exits 0" "exit $st: $(tail -3 "$tmp/err")"
grep -q 'install.* libbpf-dev' "$tmp/apt-get.log" 2>/dev/null && ok "first run: make deps installs libbpf-dev" ||
	fail "first run: make deps installs libbpf-dev" "apt-get was asked: $(cat "$tmp/apt-get.log" 2>/dev/null)"
all=$(cat "$tmp/out" "$tmp/err")
grep -q 'BACKEND  eBPF and libpcap' <<<"$all" && ok "first run: builds with eBPF" ||
	fail "first run: builds with eBPF" "$(grep BACKEND <<<"$all")"
grep -q 'built without eBPF\|libpcap only' <<<"$all" && fail "first run: never says built without eBPF" \
	"$(grep 'built without eBPF\|libpcap only' <<<"$all" | head -2)" || ok "first run: never says built without eBPF"
grep -q 'demo: 5/5' "$tmp/err" && grep -qE -- '-> 127\.0\.0\.1:61904 +unanswered .*NETFILTER_DROP' "$tmp/out" &&
	ok "first run: the live demo runs with eBPF's kernel context" ||
	fail "first run: the live demo with eBPF" "$(grep -m2 -- '->' "$tmp/out")"
