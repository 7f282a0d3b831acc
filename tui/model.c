/* SPDX-License-Identifier: MIT */
/*
 * model.c - the TUI's snapshot model: compact rows, detail copies,
 * counters and latency histograms, filled from the engine's tap calls and
 * from a walk over the active flows before a frame (model.h).
 *
 * Owns: the rows and what they are built from; the search text of a row.
 * Does not own: the flows (only read), the list order (tui_view.c),
 * drawing (views), the engine or the source (tui_app.c).
 */
#include "model.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct tui_row *slot_of(const struct tui_model *m, uint64_t id)
{
	return &m->rows[id % m->cap];
}

/* May id be stored? Not cleared, and within cap of the newest. */
static int in_window(const struct tui_model *m, uint64_t id, uint32_t cap)
{
	if (id < m->min_id)
		return 0;
	return id + cap > m->max_id;
}

static void lat_init(struct tui_lat *c, uint16_t port)
{
	memset(c, 0, sizeof(*c));
	c->port = port;
	hist_init(&c->h);
}

int tui_model_init(struct tui_model *m, uint32_t cap, uint32_t dcap, uint32_t bcap,
		   const struct ports *p, uint64_t connecting_ns)
{
	memset(m, 0, sizeof(*m));
	m->cap = cap ? cap : TUI_MODEL_CAP;
	m->dcap = dcap ? dcap : TUI_DETAIL_CAP;
	/* calloc: the kernel commits pages as rows are written */
	m->rows = calloc(m->cap, sizeof(*m->rows));
	m->det = calloc(m->dcap, sizeof(*m->det));
	m->bcap = bcap ? bcap : TUI_BAD_CAP;
	m->bad = calloc(m->bcap, sizeof(*m->bad));
	m->bidx = calloc(4 * (size_t)m->bcap, sizeof(*m->bidx));
	m->answered[0] = calloc(65536, sizeof(uint64_t));
	m->answered[1] = calloc(65536, sizeof(uint64_t));
	if (!m->rows || !m->det || !m->bad || !m->bidx || !m->answered[0] || !m->answered[1]) {
		tui_model_release(m);
		return -ENOMEM;
	}
	m->min_id = 1;
	m->connecting_ns = connecting_ns ? connecting_ns : 1000000000ull;
	lat_init(&m->lat_all, 0);
	for (int i = 0; p && i < p->n && i < TUI_LAT_PORTS; i++)
		lat_init(&m->lat_port[m->nlat_port++], p->list[i]);
	return 0;
}

void tui_model_release(struct tui_model *m)
{
	free(m->rows);
	free(m->det);
	free(m->bad);
	free(m->bidx);
	free(m->answered[0]);
	free(m->answered[1]);
	memset(m, 0, sizeof(*m));
}

/* Bucket i holds [2^i us, 2^(i+1) us); below 1us in 0, 16ms+ in the last. */
static int spark_bucket(int64_t ns)
{
	int b = 0;
	uint64_t us = (uint64_t)ns / 1000u;
	while (us > 1 && b < TUI_SPARK - 1) {
		us >>= 1;
		b++;
	}
	return b;
}

static void lat_add(struct tui_model *m, const struct tui_row *r)
{
	int b = spark_bucket(r->lat_ns);
	hist_add(&m->lat_all.h, (uint64_t)r->lat_ns);
	m->lat_all.spark[b]++;
	for (int i = 0; i < m->nlat_port; i++)
		if (m->lat_port[i].port == r->server.port) {
			hist_add(&m->lat_port[i].h, (uint64_t)r->lat_ns);
			m->lat_port[i].spark[b]++;
		}
}

/* f's namespace as a row keeps it: 1 + its index in m->ns. */
static uint16_t ns_index(struct tui_model *m, const struct lt_netns *ns)
{
	if (!ns)
		return 0;
	for (int i = m->nns - 1; i >= 0; i--) /* the newest are the likeliest */
		if (m->ns[i] == ns)
			return (uint16_t)(i + 1);
	if (m->nns == TUI_NS_MAX) {
		m->ns_over = 1;
		return TUI_NS_MAX + 1;
	}
	m->ns[m->nns++] = ns;
	return m->nns;
}

int tui_model_nns(const struct tui_model *m)
{
	return m->nns + m->ns_over;
}

const struct lt_netns *tui_model_row_ns(const struct tui_model *m, const struct tui_row *r)
{
	return r->ns && r->ns <= m->nns ? m->ns[r->ns - 1] : NULL;
}

/* The row's part of f: what the list shows and sorts by. */
static void fill_row(struct tui_model *m, struct tui_row *r, const struct flow *f)
{
	r->id = f->id;
	r->t_first = f->t_first;
	r->t_last = f->t_last;
	r->family = f->family;
	r->client = f->client;
	r->server = f->server;
	r->kctx = f->kctx;
	if (!r->ns) /* part of the flow's identity: set once */
		r->ns = ns_index(m, f->ns);
	r->est = flow_established(f);
	for (int d = 0; d < 2; d++) {
		r->bytes[d] = f->side[d].bytes;
		r->pid[d] = f->side[d].pid;
		memcpy(r->comm[d], f->side[d].comm, LT_COMM_LEN);
		r->comm[d][LT_COMM_LEN - 1] = '\0';
	}
	r->steps = f->tl_len < TUI_ROW_STEPS ? f->tl_len : TUI_ROW_STEPS;
	for (unsigned i = 0; i < r->steps; i++) {
		r->step[i] = (uint8_t)((f->tl[i].kind & 0x0f) | (f->tl[i].dir & 1) << 4);
		r->count[i] = (uint8_t)(f->tl[i].count > 255 ? 255 : f->tl[i].count);
	}
	r->steps_cut = f->tl_omitted || f->tl_len > TUI_ROW_STEPS;
}

/* Store f with verdict v; returns the row, or NULL if not kept. */
static struct tui_row *upsert(struct tui_model *m, const struct flow *f, enum lt_verdict v,
			      int final)
{
	if (!in_window(m, f->id, m->cap))
		return NULL;
	struct tui_row *r = slot_of(m, f->id);
	int fresh = r->id != f->id;

	if (fresh && r->id)
		m->dropped++;
	if (f->id > m->max_id)
		m->max_id = f->id;
	if (fresh)
		memset(r, 0, sizeof(*r));
	fill_row(m, r, f);
	if (f->t_last > m->last_ts)
		m->last_ts = f->t_last;
	r->verdict = (uint8_t)v;
	r->final = (uint8_t) final;
	r->lat_ns = flow_syn_to_synack(f);
	if (!r->lat_counted && r->lat_ns >= 0) {
		lat_add(m, r);
		r->lat_counted = 1;
	}
	if (r->est && (f->family == 4 || f->family == 6))
		m->answered[f->family == 6][f->server.port] = f->id;

	struct tui_detail *d = &m->det[f->id % m->dcap];
	if (d->f.id == f->id || in_window(m, f->id, m->dcap)) {
		memcpy(&d->f, f, sizeof(*f));
		d->verdict = (uint8_t)v;
		d->final = (uint8_t) final;
	}
	if (f->id == m->pin_id) {
		memcpy(&m->pin.f, f, sizeof(*f));
		m->pin.verdict = (uint8_t)v;
		m->pin.final = (uint8_t) final;
	}
	m->gen++;
	return r;
}

void tui_model_on_change(void *ctx, const struct flow *f, enum lt_verdict v)
{
	upsert(ctx, f, v, 0);
}

/* Endings a user opens to find out why: kept longer in full. */
static int ended_badly(enum lt_verdict v)
{
	return v == LT_V_REFUSED || v == LT_V_UNANSWERED || v == LT_V_HALF_OPEN ||
	       v == LT_V_RESET_CLIENT || v == LT_V_RESET_SERVER;
}

void tui_model_on_retire(void *ctx, const struct flow *f, enum lt_verdict v)
{
	struct tui_model *m = ctx;
	if (f->id < m->min_id)
		return;
	/* counted as active by the last sync: move it, not count it twice */
	struct tui_row *old = slot_of(m, f->id);
	if (old->id == f->id && old->active_counted) {
		m->active_v[old->counted_v]--;
		m->active_est -= old->counted_est;
		old->active_counted = 0;
	}
	m->retired_v[v < LT_V_COUNT ? v : LT_V_MIDSTREAM]++;
	if (flow_established(f))
		m->retired_est++;
	upsert(m, f, v, 1);
	if (ended_badly(v)) {
		uint32_t slot = (uint32_t)(m->bseq++ % m->bcap);
		memcpy(&m->bad[slot].f, f, sizeof(*f));
		m->bad[slot].verdict = (uint8_t)v;
		m->bad[slot].final = 1;
		m->bidx[f->id % (4 * (uint64_t)m->bcap)] = slot + 1;
	}
}

struct sync_ctx {
	struct tui_model *m;
	uint64_t now;
};

static void sync_one(void *ctx, const struct flow *f)
{
	struct sync_ctx *sc = ctx;
	struct tui_model *m = sc->m;

	if (f->id < m->min_id)
		return;
	enum lt_verdict v = flow_verdict(f, sc->now, false, m->connecting_ns);
	int est = flow_established(f);
	m->active_v[v]++;
	m->active_est += (uint32_t)est;
	struct tui_row *r = (struct tui_row *)tui_model_row(m, f->id);
	/* Changed since the last copy? (Unchanged is the common case.) */
	if (!r || r->t_last != f->t_last || r->verdict != v || r->kctx != f->kctx ||
	    r->steps != (f->tl_len < TUI_ROW_STEPS ? f->tl_len : TUI_ROW_STEPS) ||
	    (f->id == m->pin_id && m->pin.f.id != f->id))
		r = upsert(m, f, v, 0);
	if (r) {
		r->active_counted = 1;
		r->counted_v = (uint8_t)v;
		r->counted_est = (uint8_t)est;
	}
}

void tui_model_sync(struct tui_model *m, const struct flow_tab *ft, uint64_t now)
{
	struct sync_ctx sc = { .m = m, .now = now };
	memset(m->active_v, 0, sizeof(m->active_v));
	m->active_est = 0;
	flow_foreach(ft, sync_one, &sc);
}

const struct tui_row *tui_model_row(const struct tui_model *m, uint64_t id)
{
	if (!id || !m->rows)
		return NULL;
	const struct tui_row *r = slot_of(m, id);
	return r->id == id && in_window(m, id, m->cap) ? r : NULL;
}

int tui_model_pin(struct tui_model *m, uint64_t id)
{
	if (id != m->pin_id) {
		m->pin_id = id;
		memset(&m->pin, 0, sizeof(m->pin));
	}
	return id && !tui_model_detail(m, id);
}

const struct tui_detail *tui_model_detail(const struct tui_model *m, uint64_t id)
{
	if (!id || !m->det || id < m->min_id)
		return NULL;
	const struct tui_detail *d = &m->det[id % m->dcap];
	if (d->f.id == id)
		return d;
	if (m->pin.f.id == id)
		return &m->pin;
	uint32_t b = m->bidx[id % (4 * (uint64_t)m->bcap)];
	return b && m->bad[b - 1].f.id == id ? &m->bad[b - 1] : NULL;
}

const struct tui_row *tui_model_answered_other(const struct tui_model *m, uint8_t family,
					       uint16_t port)
{
	if (family != 4 && family != 6)
		return NULL;
	return tui_model_row(m, m->answered[family == 4][port]);
}

void tui_model_clear(struct tui_model *m)
{
	m->min_id = m->max_id + 1;
	memset(m->retired_v, 0, sizeof(m->retired_v));
	m->retired_est = 0;
	memset(m->active_v, 0, sizeof(m->active_v));
	m->active_est = 0;
	lat_init(&m->lat_all, 0);
	for (int i = 0; i < m->nlat_port; i++)
		lat_init(&m->lat_port[i], m->lat_port[i].port);
	m->gen++;
}

uint64_t tui_model_count(const struct tui_model *m, enum lt_verdict v)
{
	return m->retired_v[v] + m->active_v[v];
}

uint64_t tui_model_total(const struct tui_model *m)
{
	uint64_t n = 0;
	for (int v = 0; v < LT_V_COUNT; v++)
		n += tui_model_count(m, (enum lt_verdict)v);
	return n;
}

uint64_t tui_model_established(const struct tui_model *m)
{
	return m->retired_est + m->active_est;
}

/* ---- the search text, built on demand (no copy kept per row) ------------- */

struct kbuf {
	char *p;
	size_t n, len;
};

static void kputn(struct kbuf *k, const char *s, size_t n)
{
	if (n > k->len - 1 - k->n)
		n = k->len - 1 - k->n;
	memcpy(k->p + k->n, s, n);
	k->n += n;
}

static void kput(struct kbuf *k, const char *s)
{
	kputn(k, s, strlen(s));
}

static void kput_u(struct kbuf *k, unsigned v)
{
	char d[12];
	int i = (int)sizeof(d);
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i > 0);
	kputn(k, d + i, sizeof(d) - (size_t)i);
}

/* "127.0.0.1:61900" or "[::1]:61900", as fmt_endpoint writes them. The
 * common IPv4 case without snprintf: this runs for every row while a
 * filter is typed. */
static void kput_ep(struct kbuf *k, uint8_t family, const struct lt_endpoint *e)
{
	if (family == 4) {
		char a[16];
		size_t n = 0;
		for (int i = 0; i < 4; i++) {
			unsigned o = e->addr[i];
			if (i)
				a[n++] = '.';
			if (o >= 100)
				a[n++] = (char)('0' + o / 100);
			if (o >= 10)
				a[n++] = (char)('0' + o / 10 % 10);
			a[n++] = (char)('0' + o % 10);
		}
		kputn(k, a, n);
	} else {
		char a[INET6_ADDRSTRLEN];
		if (!inet_ntop(AF_INET6, e->addr, a, sizeof(a)))
			snprintf(a, sizeof(a), "?");
		kputn(k, "[", 1);
		kput(k, a);
		kputn(k, "]", 1);
	}
	kputn(k, ":", 1);
	kput_u(k, e->port);
}

size_t tui_row_key(const struct tui_model *m, const struct tui_row *r, char *out, size_t len)
{
	const struct lt_netns *ns = m ? tui_model_row_ns(m, r) : NULL;
	struct kbuf k = { out, 0, len };
	if (!len)
		return 0;
	kput_ep(&k, r->family, &r->client);
	kput(&k, " ");
	kput_ep(&k, r->family, &r->server);
	kput(&k, " ");
	kput(&k, lt_verdict_name((enum lt_verdict)r->verdict));
	for (int d = 0; d < 2; d++)
		if (r->pid[d] >= 0) {
			kput(&k, " ");
			kput(&k, r->comm[d]);
			kput(&k, "[");
			kput_u(&k, (unsigned)r->pid[d]);
			kput(&k, "]");
		}
	if (ns && ns->name[0]) {
		kput(&k, " ");
		kput(&k, ns->name);
	}
	if (ns && ns->container[0]) {
		kput(&k, " ");
		kput(&k, ns->container);
	}
	out[k.n] = '\0';
	for (size_t i = 0; i < k.n; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] + 32);
	return k.n;
}
