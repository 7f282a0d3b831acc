/* SPDX-License-Identifier: MIT */
/*
 * views.h - the parts of the screen; each draws from the const snapshot.
 *
 * Each view gets the rows of stdscr given to it (y0, h) and the width w.
 * The UI state is passed for what the user chose (selection, scroll) and
 * for the scroll clamps a view computes from what it drew.
 */
#ifndef LT_TUI_VIEWS_H
#define LT_TUI_VIEWS_H

#include <stddef.h>

#include "tui.h"

/* view_header.c: returns the lines it used (at most max_lines). */
int tui_draw_header(const struct tui_snap *s, const struct tui_ui *ui, int y0, int w,
		    int max_lines);
/* view_conns.c */
void tui_draw_conns(const struct tui_snap *s, struct tui_ui *ui, int y0, int h, int w);
/* The compact timeline of a row ("S▸SA▸A▸data▸F/F"); spaced 1: with
 * spaces, 0: without, -1: as short as it gets ("D" for data). */
void tui_tl_glyphs(const struct tui_glyphs *g, const struct tui_row *r, char *out, size_t len,
		   int spaced);
/* view_detail.c */
void tui_draw_detail(const struct tui_snap *s, struct tui_ui *ui, int y0, int h, int w);
/* view_help.c */
void tui_draw_help(const struct tui_snap *s, struct tui_ui *ui, int y0, int h, int w);

#endif
