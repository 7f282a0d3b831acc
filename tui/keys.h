/* SPDX-License-Identifier: MIT */
/*
 * keys.h - what each key does to the UI state, and what it asks of the
 * loop (TUI_* flags and TUI_CMD_* commands, tui.h).
 */
#ifndef LT_TUI_KEYS_H
#define LT_TUI_KEYS_H

#include "tui.h"

/* Handle one key (a curses key code); returns TUI_* flags. */
int tui_key(struct tui_ui *ui, const struct tui_snap *s, int ch);
/* The help text lines of the key table; returns how many. */
int tui_keys_help(char lines[][96], int max);

#endif
