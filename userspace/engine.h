/* SPDX-License-Identifier: MIT */
/*
 * engine.h - the analysis core: flow table, per-port stats, taps.
 *
 * Owns the flow table (flow.c) and the per-port stats (stats.c), and hands
 * each observation, change and retired connection to the taps (tap.h)
 * added to it. It knows nothing of sources, outputs or front ends: the run
 * (run.c) feeds it with engine_obs, calls engine_tick with the source's
 * clock and engine_finish at the end, and adds the sinks, the pcap writer,
 * the report and the TUI's log as taps. Everything it knows is readable
 * through const accessors.
 *
 * With a limit N (engine_set_limit), the engine is done once N connections
 * finished: ended (refused, closed, reset) or left the table. Those N go
 * to the stats and the taps as they retire (ended ones first); the others
 * are only counted (engine_unreported), so every output covers the same N
 * connections.
 */
#ifndef LT_ENGINE_H
#define LT_ENGINE_H

#include <stdint.h>

#include "flow.h"
#include "stats.h"
#include "tap.h"

#define ENGINE_MAX_TAPS 8

struct engine;

/* A new engine, or NULL when memory for the table cannot be had. */
struct engine *engine_init(const struct flow_config *cfg);
/* Frees the engine (taps are not called; call engine_finish first). */
void engine_release(struct engine *e);

/* Taps are called in the order they were added; -1 if full. */
int engine_add_tap(struct engine *e, const struct lt_tap *t);
/* Remove the tap whose context is ctx (no-op if none). */
void engine_remove_tap(struct engine *e, const void *ctx);
/* Make sure the stats have a row for port, even with no traffic. */
void engine_watch(struct engine *e, uint16_t port);
/* Only the first n retired connections count (0: all). */
void engine_set_limit(struct engine *e, uint64_t n);

/* Feed one observation (signature of lt_obs_fn; ctx is the engine). */
void engine_obs(void *ctx, const struct lt_obs *o);
/* Expiry and time-driven verdicts; cheap to call often. */
void engine_tick(struct engine *e, uint64_t now_ns);
/* Retire everything left (end of input). */
void engine_finish(struct engine *e);
/* True once the limit of connections finished. */
int engine_done(const struct engine *e);

/* Read-only views. */
const struct stats *engine_stats(const struct engine *e);
const struct flow_tab *engine_flows(const struct engine *e);
const struct flow_config *engine_config(const struct engine *e);
/* Connections retired (so: counted) and retired past the limit. */
uint64_t engine_reported(const struct engine *e);
/* Sockets that began or stopped listening during the run (eBPF). */
const struct listen_tl *engine_listen_tl(const struct engine *e);
uint64_t engine_unreported(const struct engine *e);

#endif
