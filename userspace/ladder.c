/* SPDX-License-Identifier: MIT */
/* ladder.c - a connection's timeline as an ASCII ladder diagram. */
#include "ladder.h"

#include <stdio.h>
#include <string.h>

#include "fmt.h"

#define TIME_COLS 11 /* "  " + "+100.00ms" after the server column */
#define DROP_GAP 3   /* blanks between a dropped segment's X and the column */

static const char *ordinal_suffix(unsigned n)
{
	if (n % 100 >= 11 && n % 100 <= 13)
		return "th";
	switch (n % 10) {
	case 1:
		return "st";
	case 2:
		return "nd";
	case 3:
		return "rd";
	default:
		return "th";
	}
}

/* What a dropped segment was, from its TCP flags. */
static const char *seg_name(uint8_t flags)
{
	if ((flags & LT_TCP_SYN) && (flags & LT_TCP_ACK))
		return "SYN-ACK";
	if (flags & LT_TCP_SYN)
		return "SYN";
	if (flags & LT_TCP_RST)
		return "RST";
	if (flags & LT_TCP_FIN)
		return "FIN";
	return "segment";
}

void ladder_label(struct sbuf *b, const struct lt_tl_entry *e, unsigned nth)
{
	char by[24];

	switch ((enum lt_tl_kind)e->kind) {
	case LT_TL_DATA:
		if (e->count > 1)
			sbuf_printf(b, "DATA %u segments, %s", e->count, fmt_bytes(by, e->bytes));
		else
			sbuf_printf(b, "DATA %s", fmt_bytes(by, e->bytes));
		return;
	case LT_TL_DROP:
		sbuf_printf(b, "%s dropped", seg_name(e->flags));
		break;
	case LT_TL_SYN:
	case LT_TL_SYNACK:
	case LT_TL_ACK:
	case LT_TL_FIN:
	case LT_TL_RST:
		sbuf_puts(b, lt_tl_kind_name(e->kind));
		break;
	case LT_TL_KIND_COUNT:
	default:
		sbuf_puts(b, "?");
		break;
	}
	if (e->count > 1)
		sbuf_printf(b, " x%u", e->count);
	/* A repeated SYN or SYN-ACK is a retransmission: say which one. */
	if ((e->kind == LT_TL_SYN || e->kind == LT_TL_SYNACK) && nth > 1)
		sbuf_printf(b, " (%u%s)", nth, ordinal_suffix(nth));
}

static void repeat(struct sbuf *b, char c, int n)
{
	for (int i = 0; i < n; i++)
		sbuf_putc(b, c);
}

/* "client curl[812] 127.0.0.1:55188" */
static void side_label(struct sbuf *b, const char *who, const struct flow *f, int dir)
{
	const struct flow_side *sd = &f->side[dir];
	char ep[FMT_EP_LEN];

	sbuf_puts(b, who);
	sbuf_putc(b, ' ');
	if (sd->pid >= 0)
		sbuf_printf(b, "%s[%d] ", sd->comm, sd->pid);
	sbuf_puts(b, fmt_endpoint(ep, f->family, dir == LT_DIR_C2S ? &f->client : &f->server));
}

static void header(struct sbuf *b, const struct flow *f, int right)
{
	struct sbuf c, s;

	sbuf_init(&c, 256);
	sbuf_init(&s, 256);
	side_label(&c, "client", f, LT_DIR_C2S);
	side_label(&s, "server", f, LT_DIR_S2C);
	/* The server label ends above the server column. */
	if ((int)(c.len + 2 + s.len) <= right + 1) {
		sbuf_puts(b, sbuf_str(&c));
		repeat(b, ' ', right + 1 - (int)(c.len + s.len));
		sbuf_puts(b, sbuf_str(&s));
	} else {
		sbuf_puts(b, sbuf_str(&c));
		sbuf_putc(b, '\n');
		if ((int)s.len < right + 1)
			repeat(b, ' ', right + 1 - (int)s.len);
		sbuf_puts(b, sbuf_str(&s));
	}
	sbuf_putc(b, '\n');
	sbuf_release(&c);
	sbuf_release(&s);
}

/* One arrow across `inner` columns: the label centred in the shaft. */
static void arrow(struct sbuf *b, const char *label, int inner, int c2s, int dropped)
{
	char text[LADDER_WIDTH_MAX];
	int gap = dropped ? DROP_GAP + 1 : 1; /* head (or X and blanks) */
	int room = inner - gap - 4;	      /* at least two dashes a side */
	int tl;

	snprintf(text, sizeof(text), " %.*s ", room > 0 ? room : 0, label);
	tl = (int)strlen(text);
	int dashes = inner - gap - tl;
	int left = dashes / 2, rightd = dashes - left;

	if (c2s) {
		repeat(b, '-', left);
		sbuf_puts(b, text);
		repeat(b, '-', rightd);
		if (dropped) {
			sbuf_putc(b, 'X');
			repeat(b, ' ', DROP_GAP);
		} else {
			sbuf_putc(b, '>');
		}
	} else {
		if (dropped) {
			repeat(b, ' ', DROP_GAP);
			sbuf_putc(b, 'X');
		} else {
			sbuf_putc(b, '<');
		}
		repeat(b, '-', rightd);
		sbuf_puts(b, text);
		repeat(b, '-', left);
	}
}

void ladder_render(struct sbuf *b, const struct flow *f, int width)
{
	if (width < LADDER_WIDTH_MIN)
		width = LADDER_WIDTH_MIN;
	if (width > LADDER_WIDTH_MAX)
		width = LADDER_WIDTH_MAX;
	int right = width - 1 - TIME_COLS; /* column of the server's bar */
	int inner = right - 1;
	unsigned nth[LT_TL_KIND_COUNT][2] = { { 0 } };
	int first_drop = 1;
	struct sbuf label;

	header(b, f, right);
	if (!f->tl_len) {
		sbuf_puts(b, "(no segments recorded)\n");
		return;
	}
	sbuf_init(&label, 256);
	for (unsigned i = 0; i < f->tl_len; i++) {
		const struct lt_tl_entry *e = &f->tl[i];
		int c2s = e->dir == LT_DIR_C2S;
		int dropped = e->kind == LT_TL_DROP;
		char d[24];

		if (i == LT_TIMELINE_MAX - 1 && f->tl_omitted) {
			char msg[64];
			int n = snprintf(msg, sizeof(msg), "... %u more not kept ...",
					 f->tl_omitted);
			int pad = (inner - n) / 2;
			sbuf_putc(b, ':');
			repeat(b, ' ', pad);
			sbuf_puts(b, msg);
			repeat(b, ' ', inner - pad - n);
			sbuf_puts(b, ":\n");
		}
		if (e->kind < LT_TL_KIND_COUNT)
			nth[e->kind][c2s ? 0 : 1]++;
		sbuf_reset(&label);
		/* A drop names its segment only when its flags say which:
		 * guessing from the neighbours goes wrong when the dropped
		 * segment never reached the wire. */
		ladder_label(&label, e, e->kind < LT_TL_KIND_COUNT ? nth[e->kind][c2s ? 0 : 1] : 1);
		/* The flow keeps the first drop reason only: name it once. */
		if (dropped && first_drop && f->drop_reason[0])
			sbuf_printf(&label, " (%s)", f->drop_reason);
		if (dropped)
			first_drop = 0;

		sbuf_putc(b, '|');
		arrow(b, sbuf_str(&label), inner, c2s, dropped);
		sbuf_puts(b, "|  ");
		if (e->t_ns < f->t_first)
			sbuf_puts(b, "?");
		else if (i == 0 && e->t_ns == f->t_first)
			sbuf_puts(b, "0");
		else
			sbuf_printf(b, "+%s", fmt_dur(d, (int64_t)(e->t_ns - f->t_first)));
		sbuf_putc(b, '\n');
	}
	sbuf_release(&label);
}
