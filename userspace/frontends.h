/* SPDX-License-Identifier: MIT */
/*
 * frontends.h - the options turned into a run's parts (frontends.c: stop
 * signals, the source they name, the flow table's configuration, the run
 * description), and the TUI's entry points main.c dispatches to.
 */
#ifndef LT_FRONTENDS_H
#define LT_FRONTENDS_H

#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "sink.h"
#include "opts.h"
#include "source.h"

/* frontends.c */
/* SIGINT/SIGTERM set a flag lt_stop_requested() reads; SIGPIPE ignored.
 * SIGHUP stops too, unless the run said it has output files to reopen
 * (lt_hup_reopens(1)): then lt_take_hup() returns 1 once per SIGHUP. */
void lt_install_signals(void);
void lt_hup_reopens(int on);
int lt_take_hup(void);
int lt_open_source(const struct lt_opts *o, struct lt_source **out, char *note, size_t notelen,
		   char err[LT_ERR_LEN]);
int lt_source_is_live(const struct lt_source *s);
/* The -r file that -w would overwrite (the same file), or NULL. */
const char *lt_writes_input(const struct lt_opts *o);
void lt_run_info_fill(struct lt_run_info *ri, const struct lt_opts *o, const struct lt_source *src,
		      const char *note);
void lt_flow_config(struct flow_config *cfg, const struct lt_opts *o, int live);
int lt_stop_requested(void);
const char *lt_demo_capture(void);

/* tui/: whether to open the full-screen view, and running it */
int lt_want_tui(const struct lt_opts *o);
int lt_tui_main(const struct lt_opts *o);

#endif
