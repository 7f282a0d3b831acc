/* SPDX-License-Identifier: MIT */
/*
 * engine.h - the analysis pipeline every front end drives.
 *
 * Owns the flow table, the per-port stats and the list of outputs. A
 * source feeds it with engine_obs (an lt_obs_fn); the caller's loop calls
 * engine_tick with the source's clock and engine_finish at the end. Every
 * retired connection goes, with its final verdict, to the stats, to each
 * sink and to the optional observer (the TUI's connection log, the
 * report's evidence).
 */
#ifndef LT_ENGINE_H
#define LT_ENGINE_H

#include <stdint.h>

#include "flow.h"
#include "pcapw.h"
#include "sink.h"
#include "stats.h"

#define ENGINE_MAX_SINKS 4
#define ENGINE_MAX_OBSERVERS 4

struct engine_observer {
	void (*on_retire)(void *ctx, const struct flow *f, enum lt_verdict v);
	void (*on_change)(void *ctx, const struct flow *f, enum lt_verdict v);
	void *ctx;
};

struct engine {
	struct flow_tab *flows;
	struct stats *stats;
	struct flow_config cfg;
	struct lt_sink *sinks[ENGINE_MAX_SINKS];
	int nsinks;
	uint64_t conns_out;    /* connections handed to the sinks */
	uint64_t max_conns;    /* 0: no limit; else stop after this many */
	uint64_t next_tick;
	struct engine_observer obs[ENGINE_MAX_OBSERVERS];
	int nobs;
	struct pcapw *writer;  /* -w: every segment also goes here (not owned) */
};

/* 0, or -1 when memory for the table cannot be had. */
int engine_init(struct engine *e, const struct flow_config *cfg);
void engine_release(struct engine *e);
void engine_add_sink(struct engine *e, struct lt_sink *s);
/* Watch connections change and retire (the TUI, the report); -1 if full. */
int engine_add_observer(struct engine *e, const struct engine_observer *o);

/* Feed one observation (signature of lt_obs_fn; ctx is the engine). */
void engine_obs(void *ctx, const struct lt_obs *o);
/* Expiry and time-driven verdicts; cheap to call often. */
void engine_tick(struct engine *e, uint64_t now_ns);
/* Retire everything left (end of input). */
void engine_finish(struct engine *e);
/* True once max_conns connections went out. */
int engine_done(const struct engine *e);

void engine_begin(struct engine *e, const struct lt_run_info *ri);
void engine_end(struct engine *e, const struct lt_run_info *ri,
		const struct lt_source_stats *ss);

#endif
