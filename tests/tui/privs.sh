#!/bin/bash
# privs.sh - the TUI gives up root too (-Z, run.c): a live TUI as root runs as
# nobody with the CapEff lotrace(8) documents and no_new_privs, and still
# draws connections and writes a report (r) as nobody after the drop; -Z root
# keeps root. Live (libpcap on lo): run it under the live lock.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tui-lib.sh"
trap tui_cleanup EXIT

if [ "$(id -u)" != 0 ]; then
	echo "skip tui privs: needs root"
	exit 0
fi
command -v tmux >/dev/null || { fail "tui privs" "tmux is not installed (make deps)"; exit 0; }
LT_PEER=${LT_PEER:-$REPO/build/tools/lt_peer}
[ -x "$LT_PEER" ] || make -s -C "$REPO" build/tools/lt_peer >/dev/null 2>&1
st_field() { awk -v f="$2:" '$1 == f { print $2; exit }' "/proc/$1/status" 2>/dev/null; }
for _ in $(seq 20); do
	P=$((62000 + RANDOM % 2000))
	ss -Hltn "sport = :$P" 2>/dev/null | grep -q . || break
done
want=0000000000080004 # libpcap: CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE (lotrace(8), PRIVILEGES)

S=drop
tui_start $S 120 40 "$LOTRACE --backend pcap --port $P"
check "tui privs: started" "no 'libpcap on lo'" tui_wait $S 'libpcap on lo'
pid=$(tui_pid $S)
check "tui privs: uid nobody, CapEff $want, no_new_privs" \
	"uid $(st_field "$pid" Uid) CapEff $(st_field "$pid" CapEff) NoNewPrivs $(st_field "$pid" NoNewPrivs)" \
	test "$(st_field "$pid" Uid)/$(st_field "$pid" CapEff)/$(st_field "$pid" NoNewPrivs)" = "65534/$want/1"
check "tui privs: CapEff $want is the one lotrace(8) lists" "not in docs/lotrace.8" \
	grep -q "^\.It Li $want\$" "$REPO/docs/lotrace.8"
"$LT_PEER" connect --addr 127.0.0.1 --port "$P" --timeout-ms 1000 >/dev/null 2>&1
check "tui privs: a refused row after the drop" "no refused row" \
	tui_wait $S "127\.0\.0\.1:[0-9]+ +-> 127\.0\.0\.1:$P +refused"
tui_keys $S r
check "tui privs: r writes the report as nobody" "no 'wrote the report'" tui_wait $S 'wrote the report to'
rep=$(ls "$TUI_TMP"/lotrace-report*.md 2>/dev/null | head -1)
check "tui privs: the report file belongs to nobody" "owner '$(stat -c %U "$rep" 2>/dev/null)'" \
	test "$(stat -c %u "$rep" 2>/dev/null)" = 65534
tui_keys $S q
check "tui privs: q exits" "still running" tui_wait_dead $S
check "tui privs: terminal restored" "alternate_on is $(tui_alt $S)" test "$(tui_alt $S)" = 0

S=root
tui_start $S 100 30 "$LOTRACE --backend pcap --port $P -Z root"
tui_wait $S 'libpcap on lo' >/dev/null
pid=$(tui_pid $S)
check "tui privs: -Z root keeps uid 0 and every capability" \
	"uid $(st_field "$pid" Uid) CapEff $(st_field "$pid" CapEff)" \
	test "$(st_field "$pid" Uid)/$(st_field "$pid" CapEff)" = "0/$(st_field $$ CapEff)"
tui_keys $S q
tui_wait_dead $S >/dev/null
