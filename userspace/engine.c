/* SPDX-License-Identifier: MIT */
/* engine.c - flow table + stats + sinks, wired together. */
#include "engine.h"

#include <string.h>

#define TICK_NS 100000000ull /* expiry runs at most every 100 ms of source time */

static void on_retire(void *ctx, const struct flow *f, enum lt_retire_why why)
{
	struct engine *e = ctx;
	/* Retired means no more packets are expected for it: final verdict. */
	enum lt_verdict v = flow_verdict(f, flow_tab_now(e->flows), true,
					 e->cfg.connecting_ns);
	(void)why;
	stats_add(e->stats, f, v);
	if (!e->max_conns || e->conns_out < e->max_conns) {
		for (int i = 0; i < e->nsinks; i++)
			e->sinks[i]->ops->conn(e->sinks[i], f, v);
		e->conns_out++;
	}
	for (int i = 0; i < e->nobs; i++)
		if (e->obs[i].on_retire)
			e->obs[i].on_retire(e->obs[i].ctx, f, v);
}

static void on_change(void *ctx, const struct flow *f, enum lt_verdict v)
{
	struct engine *e = ctx;
	for (int i = 0; i < e->nobs; i++)
		if (e->obs[i].on_change)
			e->obs[i].on_change(e->obs[i].ctx, f, v);
}

int engine_init(struct engine *e, const struct flow_config *cfg)
{
	struct flow_hooks hooks = { .on_change = on_change,
				    .on_retire = on_retire,
				    .ctx = e };
	memset(e, 0, sizeof(*e));
	e->cfg = *cfg;
	if (!e->cfg.connecting_ns)
		e->cfg.connecting_ns = 1000000000ull;
	e->stats = stats_new();
	e->flows = flow_tab_new(&e->cfg, &hooks);
	if (!e->stats || !e->flows) {
		engine_release(e);
		return -1;
	}
	return 0;
}

void engine_release(struct engine *e)
{
	for (int i = 0; i < e->nsinks; i++)
		e->sinks[i]->ops->free(e->sinks[i]);
	flow_tab_free(e->flows);
	stats_free(e->stats);
	memset(e, 0, sizeof(*e));
}

void engine_add_sink(struct engine *e, struct lt_sink *s)
{
	if (s && e->nsinks < ENGINE_MAX_SINKS)
		e->sinks[e->nsinks++] = s;
}

int engine_add_observer(struct engine *e, const struct engine_observer *o)
{
	if (e->nobs >= ENGINE_MAX_OBSERVERS)
		return -1;
	e->obs[e->nobs++] = *o;
	return 0;
}

void engine_obs(void *ctx, const struct lt_obs *o)
{
	struct engine *e = ctx;
	if (e->writer)
		pcapw_obs(e->writer, o);
	flow_input(e->flows, o);
	if (o->ts_ns >= e->next_tick)
		engine_tick(e, o->ts_ns);
}

void engine_tick(struct engine *e, uint64_t now_ns)
{
	flow_expire(e->flows, now_ns);
	if (e->writer)
		pcapw_flush(e->writer); /* a killed run loses at most one tick */
	e->next_tick = now_ns + TICK_NS;
}

void engine_finish(struct engine *e)
{
	flow_flush(e->flows);
}

int engine_done(const struct engine *e)
{
	return e->max_conns && e->conns_out >= e->max_conns;
}

void engine_begin(struct engine *e, const struct lt_run_info *ri)
{
	for (int i = 0; i < e->nsinks; i++)
		e->sinks[i]->ops->begin(e->sinks[i], ri);
}

void engine_end(struct engine *e, const struct lt_run_info *ri,
		const struct lt_source_stats *ss)
{
	struct lt_run_end re = { .stats = e->stats,
				 .flows = flow_tab_counters(e->flows),
				 .src = ss };
	for (int i = 0; i < e->nsinks; i++)
		e->sinks[i]->ops->end(e->sinks[i], ri, &re);
}
