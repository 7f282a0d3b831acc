/* SPDX-License-Identifier: MIT */
/*
 * tui_draw.c - colours, glyph sets and column-aware output helpers.
 *
 * Owns: the colour roles (readable on light and dark backgrounds), the
 * UTF-8 and ASCII glyph sets, writing text clipped to terminal columns,
 * and shortening an endpoint without losing its port. Does not own what
 * is drawn where (views) or the terminal (term.c).
 */
#include "tui_draw.h"

#include <langinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static const struct tui_glyphs glyphs_utf8 = {
	.utf8 = 1,
	.sep = "\xe2\x96\xb8",	    /* ▸ */
	.to = "\xe2\x86\x92",	    /* → */
	.head_r = "\xe2\x96\xb6",   /* ▶ */
	.head_l = "\xe2\x97\x80",   /* ◀ */
	.hline = "\xe2\x94\x80",    /* ─ */
	.vline = "\xe2\x94\x82",    /* │ */
	.times = "\xc3\x97",	    /* × */
	.ellipsis = "\xe2\x80\xa6", /* … */
	.spark = { "\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84", "\xe2\x96\x85",
		   "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88" },
};

static const struct tui_glyphs glyphs_ascii = {
	.utf8 = 0,
	.sep = ">",
	.to = ">",
	.head_r = ">",
	.head_l = "<",
	.hline = "-",
	.vline = "|",
	.times = "x",
	.ellipsis = "~",
	.spark = { "_", ".", ":", "-", "=", "+", "*", "#" },
};

/*
 * Colour pairs, by role: foreground, background (-1: the terminal's).
 * Only red, green and magenta are read as easily on a light background
 * as on a dark one; blue (dark on black), yellow and cyan (pale on
 * white) are never used as text on the terminal's own background. Roles
 * without a hue of their own are bold or dim in the terminal's colour.
 */
static const short pair_fg[TC_COUNT] = {
	[TC_NORMAL] = -1,	   [TC_OK] = COLOR_GREEN,    [TC_BAD] = COLOR_RED,
	[TC_WARN] = COLOR_MAGENTA, [TC_INFO] = -1,	     [TC_DIM] = -1,
	[TC_TITLE] = COLOR_BLACK,  [TC_ALERT] = COLOR_WHITE, [TC_KEY] = -1,
};
static const short pair_bg[TC_COUNT] = {
	[TC_NORMAL] = -1,	 [TC_OK] = -1,		 [TC_BAD] = -1,
	[TC_WARN] = -1,		 [TC_INFO] = -1,	 [TC_DIM] = -1,
	[TC_TITLE] = COLOR_CYAN, [TC_ALERT] = COLOR_RED, [TC_KEY] = -1,
};
/* What a role adds to its colours (and all it has without colours). */
static const attr_t color_attr[TC_COUNT] = {
	[TC_BAD] = A_BOLD,   [TC_INFO] = A_BOLD,  [TC_DIM] = A_DIM,
	[TC_TITLE] = A_BOLD, [TC_ALERT] = A_BOLD, [TC_KEY] = A_BOLD,
};
/* Without colours: what stands out instead. */
static const attr_t mono_attr[TC_COUNT] = {
	[TC_NORMAL] = A_NORMAL, [TC_OK] = A_NORMAL,
	[TC_BAD] = A_BOLD,	[TC_WARN] = A_BOLD,
	[TC_INFO] = A_NORMAL,	[TC_DIM] = A_DIM,
	[TC_TITLE] = A_REVERSE, [TC_ALERT] = A_REVERSE | A_BOLD,
	[TC_KEY] = A_BOLD,
};

void tui_draw_setup(struct tui_look *lk)
{
	const char *nc = getenv("NO_COLOR");
	const char *cs = nl_langinfo(CODESET);

	lk->g = cs && (!strcmp(cs, "UTF-8") || !strcmp(cs, "utf8")) ? &glyphs_utf8 : &glyphs_ascii;
	lk->color = !(nc && *nc) && has_colors();
	if (!lk->color)
		return;
	start_color();
	use_default_colors();
	for (int i = 1; i < TC_COUNT; i++)
		init_pair((short)i, pair_fg[i], pair_bg[i]);
}

attr_t tui_attr(const struct tui_look *lk, enum tui_color c)
{
	if (!lk->color)
		return mono_attr[c];
	attr_t a = pair_fg[c] < 0 && pair_bg[c] < 0 ? A_NORMAL : COLOR_PAIR(c);
	return a | color_attr[c];
}

enum tui_color tui_verdict_color(enum lt_verdict v)
{
	static const enum tui_color c[LT_V_COUNT] = {
		[LT_V_CONNECTING] = TC_INFO,  [LT_V_REFUSED] = TC_BAD,
		[LT_V_UNANSWERED] = TC_WARN,  [LT_V_HALF_OPEN] = TC_WARN,
		[LT_V_OPEN] = TC_OK,	      [LT_V_HALF_CLOSED] = TC_INFO,
		[LT_V_CLOSED] = TC_OK,	      [LT_V_RESET_CLIENT] = TC_BAD,
		[LT_V_RESET_SERVER] = TC_BAD, [LT_V_MIDSTREAM] = TC_DIM,
	};
	return (unsigned)v < LT_V_COUNT ? c[v] : TC_NORMAL;
}

/*
 * Decode s into wide characters that fit in w columns. Bytes that are not
 * valid in the locale become '?', control characters too, so a process
 * name cannot move the cursor.
 */
static int to_wide(const char *s, int w, wchar_t *out, int outmax, int *cols)
{
	mbstate_t st;
	int n = 0, used = 0;
	size_t len = strlen(s);

	memset(&st, 0, sizeof(st));
	while (len && n < outmax - 1) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, s, len, &st);
		if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
			memset(&st, 0, sizeof(st));
			wc = L'?';
			k = 1;
		}
		int cw = wcwidth(wc);
		if (cw < 0 || wc < 32) {
			wc = L'?';
			cw = 1;
		}
		if (used + cw > w)
			break;
		out[n++] = wc;
		used += cw;
		s += k;
		len -= k;
	}
	out[n] = 0;
	*cols = used;
	return n;
}

int tui_width(const char *s)
{
	wchar_t buf[512];
	int cols;
	to_wide(s, 1 << 20, buf, 512, &cols);
	return cols;
}

int tui_put(int y, int x, int w, const char *s)
{
	wchar_t buf[512];
	int cols;

	if (w <= 0 || y < 0 || y >= LINES || x >= COLS)
		return 0;
	if (x + w > COLS)
		w = COLS - x;
	int n = to_wide(s, w, buf, 512, &cols);
	if (n)
		mvaddnwstr(y, x, buf, n);
	return cols;
}

/* Spaces in the current attributes (hline would drop them). */
static void spaces(int y, int x, int n)
{
	static const char sp[] = "                                                                "
				 "                                                                ";
	move(y, x);
	while (n > 0) {
		int k = n < (int)sizeof(sp) - 1 ? n : (int)sizeof(sp) - 1;
		addnstr(sp, k);
		n -= k;
	}
}

void tui_put_pad(int y, int x, int w, const char *s, int right)
{
	if (w <= 0 || y < 0 || y >= LINES || x >= COLS)
		return;
	if (x + w > COLS)
		w = COLS - x;
	int sw = tui_width(s);
	if (sw > w)
		sw = w;
	int lead = right ? w - sw : 0;
	if (lead)
		spaces(y, x, lead);
	int put = tui_put(y, x + lead, w - lead, s);
	if (lead + put < w)
		spaces(y, x + lead + put, w - lead - put);
}

void tui_clear_to_eol(int y, int x)
{
	if (y < 0 || y >= LINES || x >= COLS)
		return;
	spaces(y, x, COLS - x);
}

char *tui_elide_ep(const char *ep, int w, const char *ell, char *out, size_t len)
{
	size_t n = strlen(ep);
	if ((int)n <= w) {
		snprintf(out, len, "%s", ep);
		return out;
	}
	/* the port, and the bracket before it for IPv6 */
	const char *suffix = ep[0] == '[' ? strrchr(ep, ']') : strrchr(ep, ':');
	if (!suffix)
		suffix = ep + n;
	int plen = (int)(suffix - ep), slen = (int)strlen(suffix);
	int keep = w - slen - 1; /* the ellipsis takes one column */
	if (keep < 2)
		keep = 2;
	if (keep > plen)
		keep = plen;
	/* the head keeps the bracket and at least half of the rest */
	int head = ep[0] == '[' ? 1 + (keep - 1 + 1) / 2 : (keep + 1) / 2;
	int tail = keep - head;
	snprintf(out, len, "%.*s%s%.*s%s", head, ep, ell, tail, ep + plen - tail, suffix);
	return out;
}
