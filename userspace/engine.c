/* SPDX-License-Identifier: MIT */
/*
 * engine.c - flow table + stats + taps, wired together.
 *
 * Owns: the flow table's hooks (change, retire), the final verdict of a
 * retired connection, the connection limit, the list of taps and the
 * listener timeline (listen_tl.h: LT_OBS_LISTEN goes there, not to a flow). Does not
 * own: where observations come from, what the taps do with them, the
 * clock (callers pass the source's time).
 */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

#define TICK_NS 100000000ull /* expiry runs at most every 100 ms of source time */

struct engine {
	struct flow_tab *flows;
	struct stats *stats;
	struct flow_config cfg;
	uint64_t reported;   /* connections counted and handed to the taps */
	uint64_t unreported; /* retired past the limit */
	uint64_t limit;	     /* 0: no limit */
	/* with a limit: connections that ended (refused, closed, reset) but
	 * are still in the table count as finished; a bit per flow id */
	uint8_t *ended;
	uint64_t ended_cap;	/* bits */
	uint64_t ended_pending; /* ended, not retired yet */
	uint64_t next_tick;
	struct lt_tap taps[ENGINE_MAX_TAPS];
	int ntaps;
	/* taps with on_obs / on_flow_obs / on_change: most runs have none,
	 * and the loops run for every packet (on_change: for most) */
	int n_on_obs, n_on_flow_obs, n_on_change;
	struct listen_tl listen; /* sockets that began or stopped listening */
};

static int ended_bit(const struct engine *e, uint64_t id)
{
	return id < e->ended_cap && (e->ended[id / 8] >> (id % 8) & 1);
}

/* Remember that flow id ended; 0, or -1 on no memory (then it counts when
 * it retires, as without a limit). */
static int mark_ended(struct engine *e, uint64_t id)
{
	if (id >= e->ended_cap) {
		uint64_t cap = e->ended_cap ? e->ended_cap : 4096;
		while (cap <= id)
			cap *= 2;
		uint8_t *b = realloc(e->ended, cap / 8);
		if (!b)
			return -1;
		memset(b + e->ended_cap / 8, 0, (cap - e->ended_cap) / 8);
		e->ended = b;
		e->ended_cap = cap;
	}
	e->ended[id / 8] |= (uint8_t)(1u << (id % 8));
	return 0;
}

static void on_retire(void *ctx, const struct flow *f, enum lt_retire_why why)
{
	struct engine *e = ctx;
	(void)why;
	if (e->limit) {
		/* Ended connections were counted first: they go out first. */
		int ended = ended_bit(e, f->id);
		if (ended)
			e->ended_pending--;
		if (e->reported >= e->limit ||
		    (!ended && e->reported + e->ended_pending >= e->limit)) {
			e->unreported++;
			return;
		}
	}
	/* Retired means no more packets are expected for it: final verdict. */
	enum lt_verdict v = flow_verdict(f, flow_tab_now(e->flows), true, e->cfg.connecting_ns);
	stats_add(e->stats, f, v);
	e->reported++;
	for (int i = 0; i < e->ntaps; i++)
		if (e->taps[i].on_retire)
			e->taps[i].on_retire(e->taps[i].ctx, f, v);
}

static void on_change(void *ctx, const struct flow *f, enum lt_verdict v)
{
	struct engine *e = ctx;
	if (e->limit && lt_verdict_ended(v) && !ended_bit(e, f->id) && mark_ended(e, f->id) == 0)
		e->ended_pending++;
	for (int i = 0; e->n_on_change && i < e->ntaps; i++)
		if (e->taps[i].on_change)
			e->taps[i].on_change(e->taps[i].ctx, f, v);
}

/* The verdicts on_change must see: the taps' and, with a limit, those
 * that end a connection (mark_ended). */
static void set_change_mask(struct engine *e)
{
	uint32_t mask = 0;
	for (int i = 0; i < e->ntaps; i++)
		if (e->taps[i].on_change)
			mask |= e->taps[i].change_verdicts ? e->taps[i].change_verdicts : ~0u;
	for (int v = 0; e->limit && v < LT_V_COUNT; v++)
		if (lt_verdict_ended((enum lt_verdict)v))
			mask |= 1u << v;
	flow_tab_change_mask(e->flows, mask);
}

struct engine *engine_init(const struct flow_config *cfg)
{
	struct engine *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	struct flow_hooks hooks = { .on_change = on_change, .on_retire = on_retire, .ctx = e };
	e->cfg = *cfg;
	if (!e->cfg.connecting_ns)
		e->cfg.connecting_ns = 1000000000ull;
	e->stats = stats_new();
	e->flows = flow_tab_new(&e->cfg, &hooks);
	if (!e->stats || !e->flows) {
		engine_release(e);
		return NULL;
	}
	set_change_mask(e);
	return e;
}

void engine_release(struct engine *e)
{
	if (!e)
		return;
	flow_tab_free(e->flows);
	stats_free(e->stats);
	free(e->ended);
	listen_tl_free(&e->listen);
	free(e);
}

static void count_obs_taps(struct engine *e)
{
	e->n_on_obs = e->n_on_flow_obs = e->n_on_change = 0;
	for (int i = 0; i < e->ntaps; i++) {
		e->n_on_obs += e->taps[i].on_obs != NULL;
		e->n_on_flow_obs += e->taps[i].on_flow_obs != NULL;
		e->n_on_change += e->taps[i].on_change != NULL;
	}
	set_change_mask(e);
}

int engine_add_tap(struct engine *e, const struct lt_tap *t)
{
	if (e->ntaps >= ENGINE_MAX_TAPS)
		return -1;
	e->taps[e->ntaps++] = *t;
	count_obs_taps(e);
	return 0;
}

void engine_remove_tap(struct engine *e, const void *ctx)
{
	for (int i = 0; i < e->ntaps; i++)
		if (e->taps[i].ctx == ctx) {
			memmove(&e->taps[i], &e->taps[i + 1],
				(size_t)(e->ntaps - i - 1) * sizeof(e->taps[0]));
			e->ntaps--;
			count_obs_taps(e);
			return;
		}
}

void engine_watch(struct engine *e, uint16_t port)
{
	stats_watch(e->stats, port);
}

void engine_set_limit(struct engine *e, uint64_t n)
{
	e->limit = n;
	set_change_mask(e);
}

void engine_obs(void *ctx, const struct lt_obs *o)
{
	struct engine *e = ctx;
	if (o->kind == LT_OBS_LISTEN) {
		/* no packet: the listener timeline, not the flow table */
		const struct listen_ev *ev = listen_tl_add(&e->listen, o);
		for (int i = 0; ev && i < e->ntaps; i++)
			if (e->taps[i].on_listen)
				e->taps[i].on_listen(e->taps[i].ctx, ev);
		return;
	}
	for (int i = 0; e->n_on_obs && i < e->ntaps; i++)
		if (e->taps[i].on_obs)
			e->taps[i].on_obs(e->taps[i].ctx, o);
	/* after flow_input: a reused 4-tuple names the new flow */
	const struct flow *f = flow_input(e->flows, o);
	for (int i = 0; e->n_on_flow_obs && i < e->ntaps; i++)
		if (e->taps[i].on_flow_obs)
			e->taps[i].on_flow_obs(e->taps[i].ctx, o, f);
	if (o->over)
		flow_over(e->flows, o, f); /* nothing more comes: out at once */
	if (o->ts_ns >= e->next_tick)
		engine_tick(e, o->ts_ns);
}

void engine_tick(struct engine *e, uint64_t now_ns)
{
	flow_expire(e->flows, now_ns);
	e->next_tick = now_ns + TICK_NS;
}

void engine_finish(struct engine *e)
{
	flow_flush(e->flows);
}

int engine_done(const struct engine *e)
{
	return e->limit && e->reported + e->ended_pending >= e->limit;
}

const struct stats *engine_stats(const struct engine *e)
{
	return e->stats;
}

const struct flow_tab *engine_flows(const struct engine *e)
{
	return e->flows;
}

const struct flow_config *engine_config(const struct engine *e)
{
	return &e->cfg;
}

uint64_t engine_reported(const struct engine *e)
{
	return e->reported;
}

const struct listen_tl *engine_listen_tl(const struct engine *e)
{
	return &e->listen;
}

uint64_t engine_unreported(const struct engine *e)
{
	return e->unreported;
}
