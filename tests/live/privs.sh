#!/bin/bash
# live/privs.sh - without privileges: one clear line and exit 1 for a live
# run (eBPF refused, libpcap refused), while replaying a file still works.
. "$(dirname "$0")/../lib.sh"
command -v setpriv >/dev/null || { fail "privs" "setpriv missing (util-linux)"; exit 0; }
tmp=$(mktemp -d); chmod 755 "$tmp"; trap 'rm -rf "$tmp"' EXIT
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$@"; }
cp "$REPO/captures/clean.pcap" "$tmp/"; chmod 644 "$tmp/clean.pcap"

nobody "$LOTRACE" --port 61900 --no-tui >"$tmp/out" 2>"$tmp/err"
st=$?
if [ $st = 1 ] && [ "$(grep -c . "$tmp/err")" = 1 ] && grep -q "permission denied; run as root" "$tmp/err" && [ ! -s "$tmp/out" ]; then
	ok "live run without privileges: one line naming the fix, exit 1"
else
	fail "unprivileged live run" "exit $st: $(cat "$tmp/err")"
fi
nobody "$LOTRACE" --backend ebpf --port 61900 --no-tui >"$tmp/out" 2>"$tmp/err"
st=$?
if [ $st = 1 ] && grep -qE "cannot load the eBPF program: .*(not permitted|denied).*(root|--backend pcap)" "$tmp/err"; then
	ok "--backend ebpf without privileges: says why and what to do"
elif grep -q "built without eBPF" "$tmp/err"; then
	ok "--backend ebpf: this build has no eBPF, and says so"
else
	fail "unprivileged --backend ebpf" "exit $st: $(cat "$tmp/err")"
fi
nobody "$LOTRACE" -r "$tmp/clean.pcap" >"$tmp/out" 2>"$tmp/err" && grep -q " closed " "$tmp/out" &&
	ok "replay works without privileges" || fail "unprivileged replay" "$(cat "$tmp/err")"
nobody "$LOTRACE" -i nosuch0 --backend pcap --no-tui >"$tmp/out" 2>"$tmp/err"
grep -qE "no such interface 'nosuch0'|cannot capture on 'nosuch0'" "$tmp/err" && ok "missing interface named" || fail "missing interface" "$(cat "$tmp/err")"
"$LOTRACE" -i nosuch0 --backend pcap --no-tui >"$tmp/out" 2>"$tmp/err"
st=$?
[ $st = 1 ] && grep -q "no such interface 'nosuch0'; list interfaces with 'ip link'" "$tmp/err" && ok "missing interface (root): the fix is named" || fail "missing interface as root" "exit $st $(cat "$tmp/err")"
