/* SPDX-License-Identifier: MIT */
/*
 * tui_draw.h - colours, glyphs and column-aware text output on stdscr.
 *
 * Owns: the colour pairs and their monochrome fallbacks (NO_COLOR, a
 * terminal without colours), the two glyph sets (UTF-8 and ASCII), and
 * the few output helpers every view uses: text is clipped to a number of
 * terminal columns, never bytes, so UTF-8 glyphs and process names line up.
 */
#ifndef LT_TUI_DRAW_H
#define LT_TUI_DRAW_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <curses.h>

#include "flow.h"

/* Glyphs: UTF-8 when the locale has it, ASCII otherwise. */
struct tui_glyphs {
	int utf8;
	const char *sep;    /* between timeline steps: "▸" */
	const char *to;	    /* client to server: "→" */
	const char *head_r; /* arrow heads in the ladder */
	const char *head_l;
	const char *hline, *vline;
	const char *times; /* "×" */
	const char *ellipsis;
	const char *spark[8]; /* lowest to highest */
};

/* How the screen looks: colours on or off, and the glyph set. */
struct tui_look {
	int color; /* colours on (not NO_COLOR, has_colors) */
	const struct tui_glyphs *g;
};

enum tui_color {
	TC_NORMAL = 0,
	TC_OK,	  /* healthy verdicts */
	TC_BAD,	  /* refused, reset */
	TC_WARN,  /* unanswered, half-open */
	TC_INFO,  /* connecting, half-closed */
	TC_DIM,	  /* mid-stream, secondary text */
	TC_TITLE, /* title bar, column header */
	TC_ALERT, /* "nothing listening" */
	TC_KEY,	  /* key names in the status line */
	TC_COUNT,
};

/* Set up colours (honours NO_COLOR) and pick the glyph set. */
void tui_draw_setup(struct tui_look *lk);
/* The attribute for a colour role (monochrome: bold/reverse/dim). */
attr_t tui_attr(const struct tui_look *lk, enum tui_color c);
enum tui_color tui_verdict_color(enum lt_verdict v);

/* Terminal columns s takes (UTF-8 aware). */
int tui_width(const char *s);
/* Write s at (y, x), at most w columns; returns the columns written. */
int tui_put(int y, int x, int w, const char *s);
/* Same, padded with spaces to exactly w columns (right-aligned if right). */
void tui_put_pad(int y, int x, int w, const char *s, int right);
/*
 * An endpoint ("127.0.0.1:61900", "[2001:db8::1]:443") in at most w
 * columns: the middle of a longer address becomes ell ("…"), the port is
 * always kept. Returns out.
 */
char *tui_elide_ep(const char *ep, int w, const char *ell, char *out, size_t len);
/* Clear row y from x to the end of the line. */
void tui_clear_to_eol(int y, int x);

#endif
