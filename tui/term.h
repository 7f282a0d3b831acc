/* SPDX-License-Identifier: MIT */
/*
 * term.h - the terminal: curses up and down, and nothing left behind.
 *
 * Owns: the curses screen (newterm, so an unknown TERM is an error we
 * report), stderr redirected to a temporary file while curses runs and
 * replayed once the screen is restored, and the promise that the
 * terminal always comes back: tui_term_done runs on q, via atexit on any
 * exit(), and before a fatal message.
 */
#ifndef LT_TUI_TERM_H
#define LT_TUI_TERM_H

#include <stdio.h>

/* Curses up (output to outfp, keys from infp; NULL: the terminal, with
 * stderr captured). 0, or -1 when the terminal cannot be set up. */
int tui_term_init(FILE *outfp, FILE *infp);
/* Restore the terminal and replay captured stderr; safe to call twice. */
void tui_term_done(void);
/* Restore the terminal, print "lotrace: MESSAGE" and exit 1. */
void tui_term_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
