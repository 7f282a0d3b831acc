/* SPDX-License-Identifier: MIT */
/*
 * frame.c - one frame: the header, the body the mode asks for, and the
 * status line (key hints, a message, or the line being typed; on the
 * right the sort, the filter and the position in the list).
 *
 * Draws from the const snapshot only; the loop decides when.
 */
#include "frame.h"

#include <stdio.h>
#include <string.h>

#include "views.h"

static void draw_input(const struct tui_ui *ui, int y, int w)
{
	const struct tui_view *v = &ui->view;
	int search = ui->mode == TUI_M_SEARCH;
	const char *text = search ? ui->search : v->filter;
	char buf[400];

	snprintf(buf, sizeof(buf), "%s: %s_", search ? "search" : "filter", text);
	attrset(A_BOLD);
	int x = tui_put(y, 0, w, buf);
	attrset(tui_attr(&ui->look, TC_DIM));
	if (search)
		snprintf(buf, sizeof(buf), "  Enter selects the next match, Esc cancels");
	else
		snprintf(buf, sizeof(buf), "  %u match%s  Enter keeps, Esc cancels", v->n,
			 v->n == 1 ? "" : "es");
	tui_put(y, x, w - x, buf);
	attrset(A_NORMAL);
}

static void draw_status(const struct tui_snap *s, const struct tui_ui *ui, int y, int w)
{
	const struct tui_view *v = &ui->view;
	const struct tui_look *lk = &ui->look;
	uint64_t now = tui_mono_ns();

	attrset(A_NORMAL);
	tui_clear_to_eol(y, 0);
	if (ui->mode == TUI_M_FILTER || ui->mode == TUI_M_SEARCH) {
		draw_input(ui, y, w);
		return;
	}
	/* state on the right, always; a message or key hints on the left */
	char right[200];
	snprintf(right, sizeof(right), " %s%s%s%s sort:%s  %u/%llu ", ui->paused ? "PAUSED  " : "",
		 v->filter[0] ? "filter:" : "", v->filter, v->filter[0] ? " " : "",
		 tui_sort_name(v->sort), v->n ? v->sel + 1 : 0, (unsigned long long)v->n);
	int rw = tui_width(right);
	if (rw > w)
		rw = 0;
	if (rw)
		tui_put(y, w - rw, rw, right);
	const char *stopped = s->stopped_why && s->stopped_why[0] ? s->stopped_why : NULL;
	const char *text = ui->msg[0] && now < ui->msg_until_mono ? ui->msg : stopped;
	if (text) {
		int bad = text == stopped || ui->msg_bad;
		attrset(bad ? tui_attr(lk, TC_BAD) : A_BOLD);
		tui_put(y, 0, w - rw, text);
		attrset(A_NORMAL);
		return;
	}
	static const char *const hints[][2] = {
		{ "q", "quit" },    { "?", "help" },  { "Enter", "details" }, { "/", "search" },
		{ "\\", "filter" }, { "s", "sort" },  { "p", "pause" },	      { "w", "pcap" },
		{ "r", "report" },  { "c", "clear" },
	};
	int x = 0;
	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
		int need = tui_width(hints[i][0]) + tui_width(hints[i][1]) + 2;
		if (x + need > w - rw)
			break;
		attrset(tui_attr(lk, TC_KEY) | A_BOLD);
		x += tui_put(y, x, w - x, hints[i][0]);
		attrset(A_NORMAL);
		x += tui_put(y, x, w - x, " ");
		x += tui_put(y, x, w - x, hints[i][1]);
		x += tui_put(y, x, w - x, " ");
	}
	attrset(A_NORMAL);
}

void tui_frame_draw(const struct tui_snap *s, struct tui_ui *ui)
{
	int h = LINES, w = COLS;

	erase();
	if (w < 30 || h < 5) {
		tui_put(0, 0, w, "lotrace: terminal too small");
		refresh();
		return;
	}
	/* header lines: fewer as the terminal gets short */
	int hmax = h >= 30 ? 4 + 4 : h >= 20 ? 4 : h >= 12 ? 3 : 1;
	int y = tui_draw_header(s, ui, 0, w, hmax);
	int body = h - y - 1;
	switch (ui->mode) {
	case TUI_M_DETAIL:
		tui_draw_detail(s, ui, y, body, w);
		break;
	case TUI_M_HELP:
		tui_draw_help(s, ui, y, body, w);
		break;
	case TUI_M_LIST:
	case TUI_M_FILTER:
	case TUI_M_SEARCH:
		tui_draw_conns(s, ui, y, body, w);
		break;
	}
	draw_status(s, ui, h - 1, w);
	refresh();
}
