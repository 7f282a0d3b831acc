#!/bin/bash
# tui-lib.sh - helpers for the tmux-driven TUI tests. Source it after
# tests/lib.sh. Not executable on purpose: run-all.sh runs only the
# executable tests/tui/*.sh.
#
# Every test gets its own tmux server (-L), so nothing touches the user's
# sessions; tui_cleanup (run from an EXIT trap) kills that server and any
# process the test started. Panes stay after their command exits
# (remain-on-exit), so a test can look at how the program left the screen.

TUI_SOCK=lotrace-tui-$$
TUI_PIDS=()
TUI_TMP=$(mktemp -d /tmp/lotrace-tui.XXXXXX)
# as root the TUI becomes nobody once its capture is open (-Z): the w and r
# keys write into the current directory as nobody, as they would for a user
[ "$(id -u)" = 0 ] && chown nobody: "$TUI_TMP"

tm() { tmux -L "$TUI_SOCK" -f /dev/null "$@"; }

tui_cleanup() {
	local p
	for p in "${TUI_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	tm kill-server 2>/dev/null
	rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$TUI_SOCK"
	for p in "${TUI_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$TUI_TMP"
}

# tui_start NAME COLS ROWS COMMAND: run COMMAND (a shell string) in a new
# session NAME, in $TUI_TMP (files the TUI writes land there).
tui_start() {
	local name=$1 cols=$2 rows=$3 cmd=$4
	if ! tm has-session -t keep 2>/dev/null; then
		tm new-session -d -s keep -x 80 -y 24 "sleep 600" || return 1
		tm set-option -g remain-on-exit on >/dev/null
		tm set-option -g history-limit 0 >/dev/null
	fi
	tm new-session -d -s "$name" -x "$cols" -y "$rows" -c "$TUI_TMP" \
		"exec env TZ=UTC LC_ALL=C $cmd"
}

tui_screen() { tm capture-pane -p -t "$1"; }
tui_keys() { local n=$1; shift; tm send-keys -t "$n" "$@"; }
tui_pid() { tm display -p -t "$1" '#{pane_pid}'; }
tui_dead() { [ "$(tm display -p -t "$1" '#{pane_dead}')" = 1 ]; }
tui_alt() { tm display -p -t "$1" '#{alternate_on}'; }

# tui_wait NAME REGEX [SECONDS]: until the screen matches (grep -E).
tui_wait() {
	local name=$1 re=$2 secs=${3:-5} i
	for ((i = 0; i < secs * 20; i++)); do
		tui_screen "$name" | grep -Eq -- "$re" && return 0
		sleep 0.05
	done
	return 1
}

# tui_wait_gone NAME REGEX [SECONDS]: until the screen no longer matches.
tui_wait_gone() {
	local name=$1 re=$2 secs=${3:-5} i
	for ((i = 0; i < secs * 20; i++)); do
		tui_screen "$name" | grep -Eq -- "$re" || return 0
		sleep 0.05
	done
	return 1
}

# tui_wait_dead NAME [SECONDS]: until the program in NAME exited.
tui_wait_dead() {
	local name=$1 secs=${2:-5} i
	for ((i = 0; i < secs * 20; i++)); do
		tui_dead "$name" && return 0
		sleep 0.05
	done
	return 1
}

# check NAME WHY COMMAND...: ok when COMMAND succeeds, else FAIL with WHY
# and the screen of session $S, so a failure shows what was there.
check() {
	local name=$1 why=$2
	shift 2
	if "$@"; then
		ok "$name"
	else
		fail "$name" "$why"
		[ -n "${S:-}" ] && tui_screen "$S" 2>/dev/null | sed 's/^/    | /' | head -50
	fi
}
