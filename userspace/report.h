/* SPDX-License-Identifier: MIT */
/*
 * report.h - handshake summaries for bug reports (markdown, text, JSON).
 *
 * A report is a tap of an engine (run.c adds it) while it runs, keeps the
 * evidence it needs (counts, one representative connection per verdict,
 * the connections each finding rests on, listeners seen for live runs),
 * and at the end writes a summary a person can paste into an issue: what
 * happened, and what to check next. It never claims more than the
 * evidence: every finding names the connections it rests on.
 */
#ifndef LT_REPORT_H
#define LT_REPORT_H

#include <stdio.h>

#include "engine.h"
#include "opts.h"
#include "sink.h"

struct report;

/* Start collecting from e (as a tap). live: listeners are queried now and
 * at the end. Returns NULL on no memory. */
struct report *report_attach(struct engine *e, const struct lt_opts *o, int live);

/* Write the report to out in fmt. The engine must be finished (all flows
 * retired) unless partial is set (the TUI's report key: active flows are
 * included as they stand). Returns 0 or -errno. */
int report_write(struct report *r, FILE *out, enum lt_format fmt, const struct lt_run_info *ri,
		 const struct lt_source_stats *ss, int partial);

/* The format a report file name asks for: .md markdown, .json JSON, else text. */
enum lt_format report_format_for(const char *path);

/* Leaves e's taps, so a report can go while its engine runs on. */
void report_free(struct report *r);

#endif
