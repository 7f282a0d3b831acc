/* SPDX-License-Identifier: MIT */
/*
 * frontends.h - what main.c shares with the other front ends (the TUI in
 * tui/, the report in userspace/report.c): opening the source the options
 * name, pumping it into the engine, and the run description.
 */
#ifndef LT_FRONTENDS_H
#define LT_FRONTENDS_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "opts.h"
#include "source.h"

/* frontends.c */
/* SIGINT/SIGTERM/SIGHUP set a flag lt_stop_requested() reads; SIGPIPE ignored. */
void lt_install_signals(void);
int lt_open_source(const struct lt_opts *o, struct lt_source **out,
		   char *note, size_t notelen, char err[LT_ERR_LEN]);
int lt_source_is_live(const struct lt_source *s);
int lt_pump(struct lt_source *src, struct engine *eng, uint64_t duration_ns,
	    int poll_ms);
void lt_run_info_fill(struct lt_run_info *ri, const struct lt_opts *o,
		      const struct lt_source *src, const char *note);
void lt_flow_config(struct flow_config *cfg, const struct lt_opts *o, int live);
int lt_stop_requested(void);
const char *lt_demo_capture(void);

/* report.c: "lotrace report ..."; returns the exit status */
int lt_report_main(const struct lt_opts *o);

/* tui/: whether to open the full-screen view, and running it */
int lt_want_tui(const struct lt_opts *o);
int lt_tui_main(const struct lt_opts *o);

#endif
