/* SPDX-License-Identifier: MIT */
/*
 * run.h - one run of lotrace, from opening the input to the exit status.
 *
 * A run owns the source (wrapped in the replay pacer for capture files),
 * the engine, and the taps that consume it: the text or JSON sink and the
 * listener notes (headless), the -w pcap writer, the report (--report, the
 * report subcommand, the TUI's report key). It has one loop step
 * (run_step: read within a time budget, tick the engine's clock, check the
 * outputs and the stop conditions) and one place (run_finish) that turns
 * every way a run can fail into a one-line message and an exit status.
 * The options mean the same in every front end: -w writes what was read,
 * -c stops reading after N connections, --duration stops reading after
 * that much of the source's clock (capture time for a replay), --report
 * writes a report at the end.
 *
 * Headless and report runs call run_main. The TUI drives a run itself:
 * run_open, then run_fd / run_wait_ms to know when to call run_step, the
 * read-only accessors to draw, run_finish and run_close after the screen
 * is restored.
 */
#ifndef LT_RUN_H
#define LT_RUN_H

#include <stdint.h>

#include "flow.h"
#include "opts.h"
#include "sink.h"
#include "stats.h"
#include "tap.h"

enum run_front {
	RUN_HEADLESS = 0, /* connections and a summary on stdout */
	RUN_REPORT,	  /* "lotrace report": a report on stdout or --report */
	RUN_TUI,	  /* the full-screen view adds its own taps */
};

/* Why reading stopped. */
enum run_stop {
	RUN_READING = 0, /* it did not */
	RUN_STOP_END,	 /* end of the capture file */
	RUN_STOP_COUNT,	 /* -c connections went out */
	RUN_STOP_DURATION,
	RUN_STOP_SIGNAL, /* SIGINT, SIGTERM, SIGHUP without file outputs */
	RUN_STOP_USER,	 /* the TUI's q, or run_finish while reading */
	RUN_STOP_INPUT,	 /* the source failed (cut capture, device gone) */
	RUN_STOP_OUTPUT, /* writing an output failed */
	RUN_STOP_PIPE,	 /* stdout's reader went away: a quiet stop */
};

struct lt_run;

/* Open everything the options name; NULL after printing one line to
 * stderr, with the exit status in *status. */
struct lt_run *run_open(const struct lt_opts *o, enum run_front fe, int *status);
/* The same around a source the caller opened (taken over; closed on
 * failure), with its note (or NULL) and flow table configuration (NULL:
 * from the options): the TUI benchmark's synthetic source. */
struct lt_source;
struct lt_run *run_open_source(const struct lt_opts *o, enum run_front fe, struct lt_source *src,
			       const char *note, const struct flow_config *cfg, int *status);
/* Headless and report runs: open, step until done, finish, close. */
int run_main(const struct lt_opts *o, enum run_front fe);

/* A descriptor to poll for input (live sources), or -1. */
int run_fd(const struct lt_run *r);
/* How long the caller may wait before the next run_step, in ms: 0 now;
 * a live source at most 100 ms in the TUI, 250 ms headless or for a
 * report, even if its descriptor stays quiet (the eBPF ring is filled
 * without waking the reader); a paced replay until
 * its next frame is due. */
int run_wait_ms(const struct lt_run *r);
/* Read what is ready, for at most budget_ns; returns 1 while reading. */
int run_step(struct lt_run *r, uint64_t budget_ns);
/* One observation into the engine, as the source would give it (the TUI
 * benchmark's synthetic connections). */
void run_feed(struct lt_run *r, const struct lt_obs *o);
/* Stop reading now (the engine retires what is left). */
void run_stop(struct lt_run *r, enum run_stop why);
/* Stop if still reading, write the summary, the -w file and the report,
 * print what went wrong; returns the exit status (0, or 1). */
int run_finish(struct lt_run *r);
void run_close(struct lt_run *r);

/* Taps the caller adds (the TUI's log); -1 if full. */
int run_add_tap(struct lt_run *r, const struct lt_tap *t);
void run_remove_tap(struct lt_run *r, const void *ctx);

/* Read-only views. */
int run_live(const struct lt_run *r);
enum run_stop run_stopped(const struct lt_run *r);
/* Why reading stopped, one line ("" when it ended as expected). */
const char *run_stop_text(const struct lt_run *r);
const struct lt_run_info *run_info(const struct lt_run *r);
const struct stats *run_stats(const struct lt_run *r);
const struct flow_counters *run_flow_counters(const struct lt_run *r);
const struct flow_config *run_flow_config(const struct lt_run *r);
const struct flow_tab *run_flows(const struct lt_run *r);
/* Each active connection, most recently active first. */
void run_foreach_active(const struct lt_run *r, void (*fn)(void *ctx, const struct flow *f),
			void *ctx);
void run_source_stats(const struct lt_run *r, struct lt_source_stats *ss);
/* The source's clock: now for live sources, the replay clock for files. */
uint64_t run_now(const struct lt_run *r);

/* Replays: the pacing speed (0: instant); set returns -1 if not a replay. */
double run_speed(const struct lt_run *r);
int run_set_speed(struct lt_run *r, double speed);
/* The next preset speed up (dir 1) or down (-1): 1x, 10x, 100x, instant. */
double run_next_speed(double speed, int dir);

/* Write the report as it stands (partial while reading) to path, in the
 * format its name asks for; 0 or -errno. */
int run_write_report(struct lt_run *r, const char *path);

#endif
