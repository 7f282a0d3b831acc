/* SPDX-License-Identifier: MIT */
/*
 * tui_app.h - the TUI's application loop, as seen from outside.
 *
 * lt_want_tui and lt_tui_main (frontends.h) are the product's entry
 * points. The functions below let a benchmark (tests/tui/tui_bench.c)
 * drive the same application without a source: it feeds the run's
 * engine itself, then times keys and frames.
 */
#ifndef LT_TUI_APP_H
#define LT_TUI_APP_H

#include <stdint.h>
#include <stdio.h>

#include "opts.h"

struct lt_obs;
struct tui_app;

/* An application over a run of max_flows flows and no source (long
 * timeouts: nothing expires); NULL when memory cannot be had. */
struct tui_app *tui_app_new_bench(const struct lt_opts *o, uint32_t max_flows, uint32_t rows);
/* One observation into the run, as a source would give it. */
void tui_app_feed(struct tui_app *a, const struct lt_obs *o);
/* The clock verdicts are judged at. */
void tui_app_set_now(struct tui_app *a, uint64_t now_ns);
/* Curses on outfp/infp at cols x rows. 0, or -1. */
int tui_app_start(struct tui_app *a, FILE *outfp, FILE *infp, int cols, int rows);
/* One key as the loop handles it (commands included); returns its flags. */
int tui_app_key(struct tui_app *a, int ch);
/* One frame; full: sync every active flow first, as a data frame does. */
void tui_app_frame(struct tui_app *a, int flags, int full);
/* Rows in the model. */
uint64_t tui_app_rows(const struct tui_app *a);
void tui_app_free(struct tui_app *a);

#endif
