/* SPDX-License-Identifier: MIT */
/* view_help.c - the help screen: the key table, verdicts and glyphs. */
#include <stdio.h>

#include "keys.h"
#include "views.h"

static const struct {
	enum lt_verdict v;
	const char *what;
} legend[] = {
	{ LT_V_CONNECTING, "SYN sent moments ago, no answer yet" },
	{ LT_V_REFUSED, "the SYN was answered with RST: nothing listens" },
	{ LT_V_UNANSWERED, "SYN(s) without any answer: dropped" },
	{ LT_V_HALF_OPEN, "SYN-ACK sent, the client never ACKed" },
	{ LT_V_OPEN, "established, still open" },
	{ LT_V_HALF_CLOSED, "established, FIN from one side only" },
	{ LT_V_CLOSED, "established, FIN from both sides" },
	{ LT_V_RESET_CLIENT, "the client aborted with RST" },
	{ LT_V_RESET_SERVER, "the server aborted with RST" },
	{ LT_V_MIDSTREAM, "no handshake seen: the capture started late" },
};

void tui_draw_help(const struct tui_snap *s, struct tui_ui *ui, int y0, int h, int w)
{
	const struct tui_look *lk = &ui->look;
	char keys[48][96], line[200];
	int nk = tui_keys_help(keys, 48);
	int total = nk + (int)(sizeof(legend) / sizeof(legend[0])) + 8;
	int y, row = 0;

	if (ui->help_scroll > total - h)
		ui->help_scroll = total - h > 0 ? total - h : 0;
	if (ui->help_scroll < 0)
		ui->help_scroll = 0;
	y = y0 - ui->help_scroll;
#define LINE(attr, ...)                                            \
	do {                                                       \
		if (y + row >= y0 && y + row < y0 + h) {           \
			snprintf(line, sizeof(line), __VA_ARGS__); \
			attrset(attr);                             \
			tui_put(y + row, 1, w - 1, line);          \
		}                                                  \
		row++;                                             \
	} while (0)
	LINE(A_BOLD, "lotrace: keys (any other key closes this help)");
	LINE(A_NORMAL, "%s", "");
	for (int i = 0; i < nk; i++)
		LINE(A_NORMAL, "%s", keys[i]);
	LINE(A_NORMAL, "%s", "");
	LINE(A_BOLD, "Verdicts");
	for (size_t i = 0; i < sizeof(legend) / sizeof(legend[0]); i++) {
		if (y + row >= y0 && y + row < y0 + h) {
			attrset(tui_attr(lk, tui_verdict_color(legend[i].v)));
			tui_put_pad(y + row, 3, 16, lt_verdict_name(legend[i].v), 0);
			attrset(A_NORMAL);
			tui_put(y + row, 20, w - 20, legend[i].what);
		}
		row++;
	}
	LINE(A_NORMAL, "%s", "");
	LINE(A_BOLD, "Timeline");
	LINE(A_NORMAL, "  S SYN  SA SYN-ACK  A ACK  data payload  F FIN  R RST  X kernel drop");
	LINE(A_NORMAL, "  %s2 sent twice (retransmitted)   steps joined by %s", lk->g->times,
	     lk->g->sep);
#undef LINE
	attrset(A_NORMAL);
}
