/* SPDX-License-Identifier: MIT */
/*
 * frame.h - one frame of the screen from a snapshot: the header, the body
 * the mode asks for (list, details, help) and the status line.
 */
#ifndef LT_TUI_FRAME_H
#define LT_TUI_FRAME_H

#include "tui.h"

/* Draw everything to stdscr and refresh. */
void tui_frame_draw(const struct tui_snap *s, struct tui_ui *ui);

#endif
