/* SPDX-License-Identifier: MIT */
/*
 * keys.c - what each key does: one table from key code to action.
 *
 * Every action changes the UI state only and returns TUI_* flags (REDRAW,
 * RESORT, QUIT) for the loop to react to; what needs the run (writing a
 * pcap or a report, the replay speed, clearing the model) is asked for
 * with a TUI_CMD_* flag the loop carries out. No action draws or touches
 * the engine. The help screen is generated from the same table, so it
 * cannot go stale. Typing a filter or a search is the one modal input.
 */
#include "keys.h"

#include <stdio.h>
#include <string.h>

#define KEY_ESC 27
#define CTRL(c) ((c)&0x1f)

struct tui_key {
	int key;
	int (*fn)(struct tui_ui *ui, const struct tui_snap *s, int ch);
	const char *name; /* for the help screen; NULL: listed with another */
	const char *what;
};

static int page(const struct tui_ui *ui)
{
	return ui->view.rows > 1 ? ui->view.rows - 1 : 1;
}

static int act_up(struct tui_ui *ui, const struct tui_snap *s, int ch)
{
	if (ui->mode == TUI_M_DETAIL) {
		ui->detail_scroll -= ch == KEY_PPAGE ? page(ui) : 1;
		return TUI_REDRAW;
	}
	tui_view_move(&ui->view, ch == KEY_PPAGE ? -(long)page(ui) : -1);
	return TUI_REDRAW;
}

static int act_down(struct tui_ui *ui, const struct tui_snap *s, int ch)
{
	if (ui->mode == TUI_M_DETAIL) {
		ui->detail_scroll += ch == KEY_NPAGE ? page(ui) : 1;
		return TUI_REDRAW;
	}
	tui_view_move(&ui->view, ch == KEY_NPAGE ? (long)page(ui) : 1);
	return TUI_REDRAW;
}

static int act_home(struct tui_ui *ui, const struct tui_snap *s, int ch)
{
	if (ui->mode == TUI_M_DETAIL)
		ui->detail_scroll = 0;
	else
		tui_view_home(&ui->view);
	return TUI_REDRAW;
}

static int act_end(struct tui_ui *ui, const struct tui_snap *s, int ch)
{
	if (ui->mode == TUI_M_DETAIL)
		ui->detail_scroll = 1 << 20; /* clamped when drawn */
	else
		tui_view_end(&ui->view);
	return TUI_REDRAW;
}

static int act_enter(struct tui_ui *ui, const struct tui_snap *s, int ch)
{
	if (ui->mode == TUI_M_DETAIL) {
		ui->mode = TUI_M_LIST;
		return TUI_REDRAW;
	}
	if (!tui_view_selected(&ui->view, s->m)) {
		tui_message(ui, 0, "no connection to show");
		return TUI_REDRAW;
	}
	ui->mode = TUI_M_DETAIL;
	ui->detail_scroll = 0;
	return TUI_REDRAW;
}

static int act_back(struct tui_ui *ui, const struct tui_snap *s, int ch)
{
	ui->mode = TUI_M_LIST;
	return TUI_REDRAW;
}

static int act_filter(struct tui_ui *ui, const struct tui_snap *s, int ch)
{
	snprintf(ui->filter_saved, sizeof(ui->filter_saved), "%s", ui->view.filter);
	ui->mode = TUI_M_FILTER;
	return TUI_REDRAW;
}

static int act_search(struct tui_ui *ui, const struct tui_snap *s, int ch)
{
	ui->search[0] = '\0';
	ui->mode = TUI_M_SEARCH;
	return TUI_REDRAW;
}

/* n / N: the next (previous) row matching the last search. */
static int act_next(struct tui_ui *ui, const struct tui_snap *s, int ch)
{
	if (!ui->search[0]) {
		tui_message(ui, 0, "nothing to search for yet (/ searches)");
		return TUI_REDRAW;
	}
	if (!tui_view_search(&ui->view, s->m, ui->search, ch == 'N' ? -1 : 1))
		tui_message(ui, 1, "no connection matches '%s'", ui->search);
	return TUI_REDRAW;
}

static int act_sort(struct tui_ui *ui, const struct tui_snap *s, int ch)
{
	ui->view.sort = (enum tui_sort)((ui->view.sort + 1) % TUI_SORT_COUNT);
	ui->view.follow = 0;
	tui_message(ui, 0, "sorted by %s", tui_sort_name(ui->view.sort));
	return TUI_REDRAW | TUI_RESORT;
}

static int act_pause(struct tui_ui *ui, const struct tui_snap *s, int ch)
{
	ui->paused = !ui->paused;
	tui_message(ui, 0,
		    ui->paused ? "view paused; capture goes on (p resumes)" : "view resumed");
	return TUI_REDRAW | TUI_RESORT;
}

static int act_clear(struct tui_ui *ui, const struct tui_snap *s, int ch)
{
	ui->view.sel_id = 0;
	ui->view.follow = 1;
	ui->mode = TUI_M_LIST;
	tui_message(ui, 0, "cleared; new connections will show");
	return TUI_CMD_CLEAR | TUI_REDRAW | TUI_RESORT;
}

static int act_write(struct tui_ui *ui, const struct tui_snap *s, int ch)
{
	if (!ui->view.n) {
		tui_message(ui, 1, "no connections to write");
		return TUI_REDRAW;
	}
	return TUI_CMD_PCAP | TUI_REDRAW;
}

static int act_report(struct tui_ui *ui, const struct tui_snap *s, int ch)
{
	return TUI_CMD_REPORT | TUI_REDRAW;
}

static int act_help(struct tui_ui *ui, const struct tui_snap *s, int ch)
{
	ui->mode = ui->mode == TUI_M_HELP ? TUI_M_LIST : TUI_M_HELP;
	ui->help_scroll = 0;
	return TUI_REDRAW;
}

static int act_quit(struct tui_ui *ui, const struct tui_snap *s, int ch)
{
	return TUI_QUIT;
}

static int act_speed(struct tui_ui *ui, const struct tui_snap *s, int ch)
{
	if (s->live || s->bench || s->replay_done) {
		tui_message(ui, 0, "+ and - change the speed of a replay while it plays");
		return TUI_REDRAW;
	}
	return (ch == '-' ? TUI_CMD_SLOWER : TUI_CMD_FASTER) | TUI_REDRAW;
}

static int act_resize(struct tui_ui *ui, const struct tui_snap *s, int ch)
{
	return TUI_REDRAW;
}

static int act_refresh(struct tui_ui *ui, const struct tui_snap *s, int ch)
{
	return TUI_CMD_REFRESH | TUI_REDRAW;
}

static const struct tui_key keys[] = {
	{ KEY_UP, act_up, "Up k", "previous connection (scroll in details)" },
	{ 'k', act_up, NULL, NULL },
	{ KEY_DOWN, act_down, "Down j", "next connection (scroll in details)" },
	{ 'j', act_down, NULL, NULL },
	{ KEY_PPAGE, act_up, "PgUp PgDn", "a page up / down" },
	{ KEY_NPAGE, act_down, NULL, NULL },
	{ KEY_HOME, act_home, "Home End", "newest / oldest (g G)" },
	{ 'g', act_home, NULL, NULL },
	{ KEY_END, act_end, NULL, NULL },
	{ 'G', act_end, NULL, NULL },
	{ '\n', act_enter, "Enter", "details of the connection; again to go back" },
	{ '\r', act_enter, NULL, NULL },
	{ KEY_ENTER, act_enter, NULL, NULL },
	{ KEY_ESC, act_back, "Esc", "back to the list" },
	{ KEY_LEFT, act_back, NULL, NULL },
	{ KEY_BACKSPACE, act_back, NULL, NULL },
	{ '/', act_search, "/", "search: select the next row with these words" },
	{ 'n', act_next, "n N", "next / previous match of the search" },
	{ 'N', act_next, NULL, NULL },
	{ '\\', act_filter, "\\ f",
	  "filter: list only verdict, port, address, process (words AND)" },
	{ 'f', act_filter, NULL, NULL },
	{ 's', act_sort, "s", "sort by time, verdict, latency, port" },
	{ 'p', act_pause, "p", "pause the view (capture goes on)" },
	{ 'c', act_clear, "c", "clear the list and the counters" },
	{ 'w', act_write, "w", "write the listed connections to a pcap (headers only)" },
	{ 'r', act_report, "r", "write a bug-report summary" },
	{ '+', act_speed, "+ -", "replay speed: 1x, 10x, 100x, instant" },
	{ '=', act_speed, NULL, NULL },
	{ '-', act_speed, NULL, NULL },
	{ '?', act_help, "?", "this help" },
	{ KEY_F(1), act_help, NULL, NULL },
	{ 'h', act_help, NULL, NULL },
	{ CTRL('l'), act_refresh, "Ctrl-L", "redraw the screen" },
	{ 'q', act_quit, "q", "quit (Ctrl-C too)" },
	{ KEY_RESIZE, act_resize, NULL, NULL },
};

/* Edit a line being typed; returns 1 when ch changed it. */
static int edit_line(char *f, size_t cap, int ch)
{
	size_t n = strlen(f);
	switch (ch) {
	case KEY_BACKSPACE:
	case 127:
	case CTRL('h'):
		if (n)
			f[n - 1] = '\0';
		return 1;
	case CTRL('u'):
		f[0] = '\0';
		return 1;
	default:
		if (ch >= 32 && ch < 127 && n + 1 < cap) {
			f[n] = (char)ch;
			f[n + 1] = '\0';
			return 1;
		}
		return 0;
	}
}

/* The filter line: keys edit it and the list follows. */
static int filter_key(struct tui_ui *ui, int ch)
{
	char *f = ui->view.filter;

	switch (ch) {
	case '\n':
	case '\r':
	case KEY_ENTER:
		ui->mode = TUI_M_LIST;
		if (f[0])
			tui_message(ui, 0, "filter '%s' (\\ then Ctrl-U and Enter clears it)", f);
		return TUI_REDRAW;
	case KEY_ESC:
		snprintf(f, TUI_FILTER_LEN, "%s", ui->filter_saved);
		ui->mode = TUI_M_LIST;
		return TUI_REDRAW | TUI_RESORT;
	case KEY_RESIZE:
		return TUI_REDRAW;
	default:
		if (!edit_line(f, TUI_FILTER_LEN, ch))
			return 0;
		ui->view.follow = 1;
		return TUI_REDRAW | TUI_RESORT;
	}
}

/* The search line: Enter selects the next match; n and N go on. */
static int search_key(struct tui_ui *ui, const struct tui_snap *s, int ch)
{
	switch (ch) {
	case '\n':
	case '\r':
	case KEY_ENTER:
		ui->mode = TUI_M_LIST;
		if (ui->search[0] && !tui_view_search(&ui->view, s->m, ui->search, 1))
			tui_message(ui, 1, "no connection matches '%s'", ui->search);
		else if (ui->search[0])
			tui_message(ui, 0, "found '%s' (n next, N previous)", ui->search);
		return TUI_REDRAW;
	case KEY_ESC:
		ui->mode = TUI_M_LIST;
		return TUI_REDRAW;
	case KEY_RESIZE:
		return TUI_REDRAW;
	default:
		return edit_line(ui->search, sizeof(ui->search), ch) ? TUI_REDRAW : 0;
	}
}

int tui_key(struct tui_ui *ui, const struct tui_snap *s, int ch)
{
	if (ui->mode == TUI_M_FILTER)
		return filter_key(ui, ch);
	if (ui->mode == TUI_M_SEARCH)
		return search_key(ui, s, ch);
	if (ui->mode == TUI_M_HELP) {
		if (ch == KEY_UP || ch == 'k') {
			ui->help_scroll--;
			return TUI_REDRAW;
		}
		if (ch == KEY_DOWN || ch == 'j' || ch == ' ' || ch == KEY_NPAGE) {
			ui->help_scroll += ch == KEY_NPAGE || ch == ' ' ? page(ui) : 1;
			return TUI_REDRAW;
		}
		if (ch == KEY_RESIZE)
			return TUI_REDRAW;
		ui->mode = TUI_M_LIST; /* any other key closes the help */
		return TUI_REDRAW;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].key == ch)
			return keys[i].fn(ui, s, ch);
	return 0;
}

int tui_keys_help(char lines[][96], int max)
{
	int n = 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && n < max; i++)
		if (keys[i].name)
			snprintf(lines[n++], 96, "  %-10s %s", keys[i].name, keys[i].what);
	return n;
}
