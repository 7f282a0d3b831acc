/* SPDX-License-Identifier: MIT */
/* conn_log.c - the TUI's bounded, id-mapped log of connection rows. */
#include "conn_log.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"

static struct tui_row *slot_of(const struct conn_log *l, uint64_t id)
{
	return &l->rows[id % l->cap];
}

/* May id be stored? Not cleared, and within cap of the newest. */
static int in_window(const struct conn_log *l, uint64_t id)
{
	if (id < l->min_id)
		return 0;
	return id + l->cap > l->max_id;
}

static void lat_init(struct conn_lat *c, uint16_t port)
{
	memset(c, 0, sizeof(*c));
	c->port = port;
	hist_init(&c->h);
}

int conn_log_init(struct conn_log *l, uint32_t cap, const struct ports *p)
{
	memset(l, 0, sizeof(*l));
	l->cap = cap ? cap : CONN_LOG_CAP;
	l->rows = calloc(l->cap, sizeof(*l->rows));
	if (!l->rows)
		return -ENOMEM;
	l->min_id = 1;
	l->connecting_ns = 1000000000ull;
	lat_init(&l->lat_all, 0);
	for (int i = 0; p && i < p->n && i < CONN_LOG_PORTS; i++)
		lat_init(&l->lat_port[l->nlat_port++], p->list[i]);
	return 0;
}

void conn_log_release(struct conn_log *l)
{
	free(l->rows);
	memset(l, 0, sizeof(*l));
}

/* Bucket i holds [2^i us, 2^(i+1) us); below 1us in 0, 16ms+ in the last. */
static int spark_bucket(int64_t ns)
{
	int b = 0;
	uint64_t us = (uint64_t)ns / 1000u;
	while (us > 1 && b < CONN_LOG_SPARK - 1) {
		us >>= 1;
		b++;
	}
	return b;
}

static void lat_add(struct conn_log *l, const struct tui_row *r)
{
	int b = spark_bucket(r->lat_ns);
	hist_add(&l->lat_all.h, (uint64_t)r->lat_ns);
	l->lat_all.spark[b]++;
	for (int i = 0; i < l->nlat_port; i++)
		if (l->lat_port[i].port == r->f.server.port) {
			hist_add(&l->lat_port[i].h, (uint64_t)r->lat_ns);
			l->lat_port[i].spark[b]++;
		}
}

/* The text the filter searches, lowercase: endpoints, verdict, processes. */
static void build_key(struct tui_row *r)
{
	char c[FMT_EP_LEN], s[FMT_EP_LEN];
	const struct flow *f = &r->f;
	int n = snprintf(r->key, sizeof(r->key), "%s %s %s",
			 fmt_endpoint(c, f->family, &f->client),
			 fmt_endpoint(s, f->family, &f->server),
			 lt_verdict_name((enum lt_verdict)r->verdict));
	for (int d = 0; d < 2 && n > 0 && (size_t)n < sizeof(r->key); d++)
		if (f->side[d].pid >= 0)
			n += snprintf(r->key + n, sizeof(r->key) - (size_t)n,
				      " %s[%d]", f->side[d].comm, f->side[d].pid);
	for (char *p = r->key; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

/* Store a copy of f with verdict v; returns the row, or NULL if not kept. */
static struct tui_row *upsert(struct conn_log *l, const struct flow *f,
			      enum lt_verdict v, int final)
{
	if (!in_window(l, f->id))
		return NULL;
	struct tui_row *r = slot_of(l, f->id);
	int fresh = r->f.id != f->id;
	int rekey = fresh || r->verdict != v ||
		    r->f.side[0].pid != f->side[0].pid ||
		    r->f.side[1].pid != f->side[1].pid;

	if (fresh && r->f.id)
		l->dropped++;
	if (f->id > l->max_id)
		l->max_id = f->id;
	memcpy(&r->f, f, sizeof(*f));
	if (fresh)
		r->lat_counted = r->active_counted = 0;
	r->verdict = (uint8_t)v;
	r->final = (uint8_t)final;
	r->lat_ns = flow_syn_to_synack(f);
	if (rekey)
		build_key(r);
	if (!r->lat_counted && r->lat_ns >= 0) {
		lat_add(l, r);
		r->lat_counted = 1;
	}
	l->gen++;
	return r;
}

static void on_change(void *ctx, const struct flow *f, enum lt_verdict v)
{
	struct conn_log *l = ctx;
	upsert(l, f, v, 0);
}

static void on_retire(void *ctx, const struct flow *f, enum lt_verdict v)
{
	struct conn_log *l = ctx;
	if (f->id < l->min_id)
		return;
	/* counted as active by the last sync: move it, not count it twice */
	struct tui_row *old = slot_of(l, f->id);
	if (old->f.id == f->id && old->active_counted) {
		l->active_v[old->counted_v]--;
		l->active_est -= old->counted_est;
		old->active_counted = 0;
	}
	l->retired_v[v < LT_V_COUNT ? v : LT_V_MIDSTREAM]++;
	if (flow_established(f))
		l->retired_est++;
	upsert(l, f, v, 1);
}

int conn_log_attach(struct conn_log *l, struct engine *e)
{
	struct engine_observer o = { .on_change = on_change,
				     .on_retire = on_retire,
				     .ctx = l };
	l->connecting_ns = e->cfg.connecting_ns;
	return engine_add_observer(e, &o);
}

struct sync_ctx {
	struct conn_log *l;
	uint64_t now;
};

static void sync_one(void *ctx, const struct flow *f)
{
	struct sync_ctx *sc = ctx;
	struct conn_log *l = sc->l;

	if (f->id < l->min_id)
		return;
	enum lt_verdict v = flow_verdict(f, sc->now, false, l->connecting_ns);
	int est = flow_established(f);
	l->active_v[v]++;
	l->active_est += (uint32_t)est;
	struct tui_row *r = (struct tui_row *)conn_log_get(l, f->id);
	/* Changed since the last copy? (Unchanged is the common case.) */
	if (!r || r->f.t_last != f->t_last || r->verdict != v ||
	    r->f.kctx != f->kctx || r->f.tl_len != f->tl_len)
		r = upsert(l, f, v, 0);
	if (r) {
		r->active_counted = 1;
		r->counted_v = (uint8_t)v;
		r->counted_est = (uint8_t)est;
	}
}

void conn_log_sync(struct conn_log *l, const struct engine *e, uint64_t now)
{
	struct sync_ctx sc = { .l = l, .now = now };
	memset(l->active_v, 0, sizeof(l->active_v));
	l->active_est = 0;
	flow_foreach(e->flows, sync_one, &sc);
}

const struct tui_row *conn_log_get(const struct conn_log *l, uint64_t id)
{
	if (!id || !l->rows)
		return NULL;
	const struct tui_row *r = slot_of(l, id);
	return r->f.id == id && in_window(l, id) ? r : NULL;
}

void conn_log_clear(struct conn_log *l)
{
	l->min_id = l->max_id + 1;
	memset(l->retired_v, 0, sizeof(l->retired_v));
	l->retired_est = 0;
	memset(l->active_v, 0, sizeof(l->active_v));
	l->active_est = 0;
	lat_init(&l->lat_all, 0);
	for (int i = 0; i < l->nlat_port; i++)
		lat_init(&l->lat_port[i], l->lat_port[i].port);
	l->gen++;
}

uint64_t conn_log_count(const struct conn_log *l, enum lt_verdict v)
{
	return l->retired_v[v] + l->active_v[v];
}

uint64_t conn_log_total(const struct conn_log *l)
{
	uint64_t n = 0;
	for (int v = 0; v < LT_V_COUNT; v++)
		n += conn_log_count(l, (enum lt_verdict)v);
	return n;
}

uint64_t conn_log_established(const struct conn_log *l)
{
	return l->retired_est + l->active_est;
}
