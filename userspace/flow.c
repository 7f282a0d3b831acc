/* SPDX-License-Identifier: MIT */
/*
 * flow.c - connection table, handshake machine, expiry.
 *
 * What a flow's fields mean for its verdict is decided in verdict.c;
 * this file only fills them in, segment by segment.
 *
 * Flows live in one preallocated pool, indexed by an open-addressing hash
 * table (linear probing, deletion by backward shift, at most half full)
 * whose slots hold the flow's pool index and its tuple hash as a tag, so
 * a probe touches a flow only when the tags match; and linked into an
 * LRU list (most recently active first). Index 0 is "none". Nothing is
 * allocated per packet. The table uses as many slots as the flows in it
 * need (from 64, doubled as they fill a quarter of them: shorter probe
 * runs, each a load the next waits for; up to twice the capacity, where
 * a full table is half full), so a few live flows in a large table hash into a few cache
 * lines (a live run's table holds few: each connection leaves it with its
 * end record; from 4096 slots, 512 lines, the new connection's slot was a
 * cache miss); and the flow the last lookup found is tried first (a
 * connection's segments, and a kernel record's observations, come
 * together).
 */
#include "flow.h"

#include "inline.h"
#include "hash.h"
#include "hugemem.h"
#include "ports.h"
#include "zero.h"

#include <stdlib.h>
#include <string.h>

#define NIL 0u
#define EVICT_SCAN 32
#define MS 1000000ull
#define SEC 1000000000ull

/* A hash table slot: idx NIL is empty; tag is the flow's hash. */
struct slot {
	uint32_t tag;
	uint32_t idx;
};

struct lru_link {
	uint32_t prev, next;
};

struct flow_tab {
	struct flow_config cfg;
	struct flow_hooks hooks;
	uint32_t change_mask; /* verdicts hooks.on_change is called for */
	struct flow *pool;    /* [1..cap]; [0] unused */
	uint32_t cap;
	struct slot *slot; /* the hash table: mask_max + 1 slots allocated, */
	uint32_t mask;	   /* mask + 1 in use (a power of two) */
	uint32_t mask_max;
	uint32_t last;	    /* the flow the last lookup found, or NIL */
	uint32_t free_head; /* free list through free_next */
	uint32_t high;	    /* pool indices used so far: those above are free */
	uint32_t lru_head, lru_tail;
	/* LRU links by pool index, apart from the flows: unlinking one writes
	 * its neighbours' links, which here share cache lines */
	struct lru_link *lru;
	uint64_t next_id;
	uint64_t now;	   /* the table's clock: newest time, jumps removed */
	int64_t ts_offset; /* capture time - table time, after a jump */
	/* A jump not yet confirmed: the table time it happened at, how many
	 * frames in a row came at the new time, and the flows they touched
	 * (pool index and id; at most JUMP_CONFIRM - 1). */
	uint64_t jump_at;
	uint32_t jump_run, n_jump_touched;
	struct {
		uint32_t i;
		uint64_t id;
	} jump_touched[4];
	struct flow_counters c;
	uint64_t longest; /* the longest of the three timeouts */
	bool loss_seen;	  /* a source said it lost events (LT_KCTX_EVENTS_LOST) */
	/* Flows last reported "connecting": the only verdict that changes
	 * with time alone. flow_expire walks for them only when one may be
	 * due (connecting_due, a lower bound) and stops once it saw them all. */
	uint32_t n_connecting;
	uint64_t connecting_due;
};

/* ---- names ------------------------------------------------------------- */

const char *lt_tl_kind_name(enum lt_tl_kind k)
{
	switch (k) {
	case LT_TL_SYN:
		return "SYN";
	case LT_TL_SYNACK:
		return "SYN-ACK";
	case LT_TL_ACK:
		return "ACK";
	case LT_TL_DATA:
		return "DATA";
	case LT_TL_FIN:
		return "FIN";
	case LT_TL_RST:
		return "RST";
	case LT_TL_DROP:
		return "DROP";
	case LT_TL_KIND_COUNT:
		break;
	}
	return "?";
}

static bool any_rst(const struct flow *f)
{
	return f->side[0].rst_count + f->side[1].rst_count > 0;
}

/* ---- hashing ----------------------------------------------------------- */

/* An endpoint folded into 64 bits: exact for IPv4 (address in the low 32
 * bits, port above), lossy but well spread for IPv6. */
static uint64_t endpoint_key(const struct lt_endpoint *e)
{
	uint64_t a, b;
	memcpy(&a, e->addr, 8);
	memcpy(&b, e->addr + 8, 8);
	return a ^ (b << 29 | b >> 35) ^ ((uint64_t)e->port << 32);
}

/* Direction-independent: both directions of a connection hash alike (a
 * sum of two mixed endpoints). The namespace is not hashed. */
static uint32_t tuple_hash(uint8_t family, const struct lt_endpoint *x, const struct lt_endpoint *y)
{
	uint64_t h = mix64(endpoint_key(x)) + mix64(endpoint_key(y)) + family;
	return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

static bool endpoint_eq(const struct lt_endpoint *a, const struct lt_endpoint *b)
{
	uint64_t a0, a1, b0, b1;
	memcpy(&a0, a->addr, 8);
	memcpy(&a1, a->addr + 8, 8);
	memcpy(&b0, b->addr, 8);
	memcpy(&b1, b->addr + 8, 8);
	return a->port == b->port && a0 == b0 && a1 == b1;
}

static bool addr_eq(const uint8_t *a, const uint8_t *b)
{
	uint64_t a0, a1, b0, b1;
	memcpy(&a0, a, 8);
	memcpy(&a1, a + 8, 8);
	memcpy(&b0, b, 8);
	memcpy(&b1, b + 8, 8);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/* The ports first: another connection's flow (the one the last lookup
 * found, in a capture of interleaved connections: most segments) differs
 * there, and is told so in a few instructions. */
LT_INLINE bool flow_matches(const struct flow *f, const struct lt_obs *o)
{
	const uint16_t cp = f->client.port, sp = f->server.port;
	const bool fwd = cp == o->src.port && sp == o->dst.port;
	const bool rev = cp == o->dst.port && sp == o->src.port;

	if (!(fwd | rev) || f->family != o->family || f->ns != o->ns)
		return false;
	return (fwd && addr_eq(f->client.addr, o->src.addr) &&
		addr_eq(f->server.addr, o->dst.addr)) ||
	       (rev && addr_eq(f->client.addr, o->dst.addr) &&
		addr_eq(f->server.addr, o->src.addr));
}

static struct flow *lookup_hashed(struct flow_tab *t, const struct lt_obs *o, uint32_t h)
{
	for (uint32_t i = h & t->mask;; i = (i + 1) & t->mask) {
		const struct slot *s = &t->slot[i];
		if (s->idx == NIL)
			return NULL;
		if (s->tag == h && flow_matches(&t->pool[s->idx], o))
			return &t->pool[s->idx];
	}
}

static struct flow *lookup_slow(struct flow_tab *t, const struct lt_obs *o)
{
	struct flow *f = lookup_hashed(t, o, tuple_hash(o->family, &o->src, &o->dst));
	if (f)
		t->last = (uint32_t)(f - t->pool);
	return f;
}

/* The flow the last lookup found, inline: a live run's observations come
 * a connection at a time (5 of its 6 find it), and the call's own cost
 * was a third of a hit's */
LT_INLINE struct flow *lookup(struct flow_tab *t, const struct lt_obs *o)
{
	struct flow *f = &t->pool[t->last];
	if (t->last != NIL && flow_matches(f, o))
		return f;
	return lookup_slow(t, o);
}

const struct flow *flow_find(struct flow_tab *t, const struct lt_obs *o)
{
	return o->kind == LT_OBS_SEGMENT ? lookup(t, o) : NULL;
}

static uint32_t flow_index(const struct flow_tab *t, const struct flow *f)
{
	return (uint32_t)(f - t->pool);
}

/* ---- LRU --------------------------------------------------------------- */

static void lru_unlink(struct flow_tab *t, struct flow *f)
{
	struct lru_link *l = &t->lru[flow_index(t, f)];
	if (l->prev)
		t->lru[l->prev].next = l->next;
	else
		t->lru_head = l->next;
	if (l->next)
		t->lru[l->next].prev = l->prev;
	else
		t->lru_tail = l->prev;
	l->prev = l->next = NIL;
}

static void lru_push_head(struct flow_tab *t, struct flow *f)
{
	uint32_t i = flow_index(t, f);
	t->lru[i].prev = NIL;
	t->lru[i].next = t->lru_head;
	if (t->lru_head)
		t->lru[t->lru_head].prev = i;
	t->lru_head = i;
	if (!t->lru_tail)
		t->lru_tail = i;
}

static void lru_touch(struct flow_tab *t, struct flow *f)
{
	if (t->lru_head == flow_index(t, f))
		return;
	lru_unlink(t, f);
	lru_push_head(t, f);
}

/* ---- table ------------------------------------------------------------- */

static uint64_t longest_timeout(const struct flow_config *c)
{
	uint64_t m = c->linger_ns;
	if (c->syn_timeout_ns > m)
		m = c->syn_timeout_ns;
	if (c->idle_timeout_ns > m)
		m = c->idle_timeout_ns;
	return m;
}

void flow_tab_change_mask(struct flow_tab *t, uint32_t mask)
{
	t->change_mask = mask;
}

struct flow_tab *flow_tab_new(const struct flow_config *cfg, const struct flow_hooks *hooks)
{
	struct flow_tab *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->cfg = *cfg;
	if (hooks)
		t->hooks = *hooks;
	t->change_mask = ~0u;
	if (!t->cfg.max_flows)
		t->cfg.max_flows = LT_FLOWS_DEFAULT;
	if (!t->cfg.linger_ns)
		t->cfg.linger_ns = 5 * SEC;
	if (!t->cfg.syn_timeout_ns)
		t->cfg.syn_timeout_ns = 130 * SEC;
	if (!t->cfg.idle_timeout_ns)
		t->cfg.idle_timeout_ns = 600 * SEC;
	if (!t->cfg.connecting_ns)
		t->cfg.connecting_ns = 1 * SEC;
	t->cap = t->cfg.max_flows;
	t->longest = longest_timeout(&t->cfg);

	if (t->cap > (1u << 29)) /* keeps the hash table at most half full */
		t->cap = 1u << 29;
	uint32_t nb = 1;
	while (nb < t->cap * 2u)
		nb <<= 1;
	t->mask_max = nb - 1;
	t->mask = (nb < 64 ? nb : 64) - 1;
	/* Pages are touched only as flows are used (huge ones: hugemem.h) */
	t->pool = hugemem_zalloc((size_t)t->cap + 1, sizeof(*t->pool));
	t->slot = hugemem_zalloc(nb, sizeof(*t->slot));
	t->lru = hugemem_zalloc((size_t)t->cap + 1, sizeof(*t->lru));
	if (!t->pool || !t->slot || !t->lru) {
		flow_tab_free(t);
		return NULL;
	}
	/* Lazily threaded free list: indices above high water are free. */
	t->free_head = NIL;
	t->c.capacity = t->cap;
	t->next_id = 1;
	return t;
}

void flow_tab_free(struct flow_tab *t)
{
	if (!t)
		return;
	hugemem_free(t->pool, (size_t)t->cap + 1, sizeof(*t->pool));
	hugemem_free(t->slot, (size_t)t->mask_max + 1, sizeof(*t->slot));
	hugemem_free(t->lru, (size_t)t->cap + 1, sizeof(*t->lru));
	free(t);
}

const struct flow_counters *flow_tab_counters(const struct flow_tab *t)
{
	return &t->c;
}

uint64_t flow_tab_now(const struct flow_tab *t)
{
	return t->now;
}

static void hash_put(struct flow_tab *t, struct flow *f)
{
	uint32_t i = f->hash & t->mask;
	while (t->slot[i].idx != NIL)
		i = (i + 1) & t->mask;
	t->slot[i].tag = f->hash;
	t->slot[i].idx = flow_index(t, f);
}

/* Insert f (not in the LRU list yet), first doubling the slots in use
 * when f would fill more than a quarter of them: every flow is in the LRU
 * list, so they are put back from there. */
static void hash_insert(struct flow_tab *t, struct flow *f)
{
	if (t->mask < t->mask_max && (t->c.active + 1u) * 4u > t->mask + 1u) {
		memset(t->slot, 0, ((size_t)t->mask + 1) * sizeof(*t->slot));
		t->mask = t->mask * 2 + 1;
		for (uint32_t i = t->lru_head; i != NIL; i = t->lru[i].next)
			hash_put(t, &t->pool[i]);
	}
	hash_put(t, f);
}

/* Remove f's slot, then shift later slots of the same probe run back
 * into the hole (no tombstones: probes stay short). */
static void hash_unlink(struct flow_tab *t, struct flow *f)
{
	uint32_t want = flow_index(t, f), i = f->hash & t->mask;
	while (t->slot[i].idx != want) {
		if (t->slot[i].idx == NIL)
			return; /* not linked */
		i = (i + 1) & t->mask;
	}
	for (uint32_t j = i;;) {
		t->slot[i].idx = NIL;
		uint32_t home;
		do {
			j = (j + 1) & t->mask;
			if (t->slot[j].idx == NIL)
				return;
			home = t->slot[j].tag & t->mask;
			/* j stays unless its home lies cyclically outside (i, j] */
		} while (i <= j ? (i < home && home <= j) : (i < home || home <= j));
		t->slot[i] = t->slot[j];
		i = j;
	}
}

static enum lt_verdict current_verdict(const struct flow_tab *t, const struct flow *f, bool final)
{
	return flow_verdict(f, t->now, final, t->cfg.connecting_ns);
}

static void retire(struct flow_tab *t, struct flow *f, enum lt_retire_why why)
{
	if (why == LT_RETIRE_EVICTED)
		f->anomalies |= LT_A_EVICTED;
	if (why == LT_RETIRE_REUSED)
		f->anomalies |= LT_A_REUSED;
	/* After a loss, a connection whose client SYN was never seen may
	 * have lost its start: never evidence of mid-stream. Decided here,
	 * not at creation, because the loss may be reported after it began. */
	if (t->loss_seen && !f->side[LT_DIR_C2S].syn_count)
		f->anomalies |= LT_A_EVENTS_LOST;
	/* After the table evicted a connection, one first seen without its
	 * SYN may be the rest of an evicted one: its start was cut here. */
	if (t->c.evicted && !f->side[LT_DIR_C2S].syn_count)
		f->anomalies |= LT_A_EVICTED;
	if (t->hooks.on_retire)
		t->hooks.on_retire(t->hooks.ctx, f, why);
	if (f->verdict_seen == LT_V_CONNECTING)
		t->n_connecting--;
	hash_unlink(t, f);
	lru_unlink(t, f);
	if (t->last == flow_index(t, f))
		t->last = NIL;
	f->id = 0; /* free (jump_touched tells live flows by id) */
	f->free_next = t->free_head;
	t->free_head = flow_index(t, f);
	t->c.active--;
	t->c.retired++;
	switch (why) {
	case LT_RETIRE_EVICTED:
		t->c.evicted++;
		break;
	case LT_RETIRE_EXPIRED:
		t->c.expired++;
		break;
	case LT_RETIRE_REUSED:
		t->c.reused++;
		break;
	case LT_RETIRE_END:
	case LT_RETIRE_OVER:
		break;
	}
}

static void evict_one(struct flow_tab *t)
{
	uint32_t i = t->lru_tail;
	for (int n = 0; i != NIL && n < EVICT_SCAN; n++, i = t->lru[i].prev)
		if (lt_verdict_ended(current_verdict(t, &t->pool[i], false))) {
			retire(t, &t->pool[i], LT_RETIRE_EVICTED);
			return;
		}
	if (t->lru_tail)
		retire(t, &t->pool[t->lru_tail], LT_RETIRE_EVICTED);
}

static struct flow *alloc_flow(struct flow_tab *t)
{
	uint32_t i;
	if (t->free_head != NIL) {
		i = t->free_head;
		t->free_head = t->pool[i].free_next;
	} else if (t->high < t->cap) {
		i = ++t->high; /* never used before */
	} else {
		evict_one(t);
		i = t->free_head;
		t->free_head = t->pool[i].free_next;
	}
	struct flow *f = &t->pool[i];
	zero_block(f, sizeof(*f));
	return f;
}

/* Linux's default ip_local_port_range, and IANA's dynamic range (macOS,
 * BSDs, Windows): where clients' ports come from. */
static bool ephemeral_linux(uint16_t p)
{
	return p >= 32768 && p <= 60999;
}

static bool ephemeral_iana(uint16_t p)
{
	return p >= 49152;
}

/* No handshake to go by: a watched port is the server's; else the port
 * outside the ephemeral ranges; else the lower port. */
static bool src_is_server_by_port(const struct flow_tab *t, uint16_t sp, uint16_t dp)
{
	const uint8_t *pf = t->cfg.port_filter;
	bool sw = pf && ports_bit(pf, sp), dw = pf && ports_bit(pf, dp);

	if (sw != dw)
		return sw;
	if (ephemeral_linux(sp) != ephemeral_linux(dp))
		return !ephemeral_linux(sp);
	if (ephemeral_iana(sp) != ephemeral_iana(dp))
		return !ephemeral_iana(sp);
	return sp < dp;
}

static void choose_roles(const struct flow_tab *t, struct flow *f, const struct lt_obs *o)
{
	const uint8_t fl = o->tcp_flags;
	const struct lt_endpoint *cli = &o->src, *srv = &o->dst;

	if ((fl & LT_TCP_SYN) && !(fl & LT_TCP_ACK)) {
		f->role_basis = LT_ROLE_SYN;
	} else if ((fl & LT_TCP_SYN) && (fl & LT_TCP_ACK)) {
		f->role_basis = LT_ROLE_SYNACK;
		cli = &o->dst;
		srv = &o->src;
	} else {
		f->role_basis = LT_ROLE_PORT;
		if (src_is_server_by_port(t, o->src.port, o->dst.port)) {
			cli = &o->dst;
			srv = &o->src;
		}
	}
	f->client = *cli;
	f->server = *srv;
}

static struct flow *create_flow(struct flow_tab *t, const struct lt_obs *o)
{
	struct flow *f = alloc_flow(t);

	f->id = t->next_id++;
	f->family = o->family;
	f->ns = o->ns;
	choose_roles(t, f, o);
	f->t_first = f->t_last = o->ts_ns;
	f->side[0].pid = f->side[1].pid = -1;
	f->sk_errno = 0;

	f->hash = tuple_hash(f->family, &f->client, &f->server);
	hash_insert(t, f);
	lru_push_head(t, f);
	t->last = flow_index(t, f);
	t->c.created++;
	t->c.active++;
	f->verdict_seen = LT_V_COUNT; /* nothing reported yet */
	return f;
}

/* ---- per-segment update ------------------------------------------------ */

/* inlined (as hist_put_seq): a few calls per connection, each with its
 * kind or letter known at the call */
LT_INLINE void tl_add(struct flow *f, enum lt_tl_kind kind, int dir, uint8_t flags, uint64_t ts,
		      uint64_t bytes)
{
	if (f->tl_len > 0) {
		struct lt_tl_entry *last = &f->tl[f->tl_len - 1];
		/* Consecutive data one way collapse; control segments keep
		 * their own entry, since retransmission timing matters. */
		if (last->kind == kind && last->dir == dir && kind == LT_TL_DATA) {
			last->count++;
			last->bytes += bytes;
			return;
		}
	}
	struct lt_tl_entry *e;
	if (f->tl_len < LT_TIMELINE_MAX) {
		e = &f->tl[f->tl_len++];
	} else {
		/* Full: keep the first entries and the newest in the last slot. */
		e = &f->tl[LT_TIMELINE_MAX - 1];
		f->tl_omitted++;
		f->anomalies |= LT_A_TIMELINE_CUT;
	}
	e->t_ns = ts;
	e->bytes = bytes;
	e->count = 1;
	e->kind = (uint8_t)kind;
	e->dir = (uint8_t)dir;
	e->flags = flags;
}

enum { HIST_SH = 0, HIST_F = 1, HIST_R = 2 };
enum { ONCE_A = 1, ONCE_D = 2, SEEN_SH = 4, SEEN_F = 8, SEEN_R = 16, ONCE_Q = 32, ONCE_I = 64 };

static void hist_put(struct flow *f, char letter, int dir)
{
	size_t n = f->hist_len;
	if (n >= LT_HISTORY_MAX)
		return;
	f->history[n] = dir == LT_DIR_C2S ? (char)(letter - 'a' + 'A') : letter;
	f->history[n + 1] = '\0';
	f->hist_len = (uint8_t)(n + 1);
}

/* A letter that repeats only when the sequence number moved on. */
LT_INLINE void hist_put_seq(struct flow *f, char letter, int dir, int slot, uint8_t seen_bit,
			    uint32_t seq)
{
	if ((f->hist_once[dir] & seen_bit) && f->hist_last_seq[dir][slot] == seq)
		return;
	f->hist_once[dir] |= seen_bit;
	f->hist_last_seq[dir][slot] = seq;
	hist_put(f, letter, dir);
}

static void hist_put_once(struct flow *f, char letter, int dir, uint8_t bit)
{
	if (f->hist_once[dir] & bit)
		return;
	f->hist_once[dir] |= bit;
	hist_put(f, letter, dir);
}

/* Zeek-style history letters for one segment (see kernel-and-peers §5.2). */
static void history_update(struct flow *f, const struct lt_obs *o, int dir)
{
	uint8_t fl = o->tcp_flags;

	if ((fl & LT_TCP_SYN) && (fl & (LT_TCP_FIN | LT_TCP_RST)))
		hist_put_once(f, 'q', dir, ONCE_Q);
	if ((fl & LT_TCP_FIN) && (fl & LT_TCP_RST))
		hist_put_once(f, 'i', dir, ONCE_I);
	if (fl & LT_TCP_SYN)
		hist_put_seq(f, (fl & LT_TCP_ACK) ? 'h' : 's', dir, HIST_SH, SEEN_SH, o->seq);
	if (fl & LT_TCP_FIN)
		hist_put_seq(f, 'f', dir, HIST_F, SEEN_F, o->seq);
	if (fl & LT_TCP_RST)
		hist_put_seq(f, 'r', dir, HIST_R, SEEN_R, o->seq);
	if (o->payload_len > 0)
		hist_put_once(f, 'd', dir, ONCE_D);
	else if ((fl & LT_TCP_ACK) && !(fl & (LT_TCP_SYN | LT_TCP_FIN | LT_TCP_RST)))
		hist_put_once(f, 'a', dir, ONCE_A);
}

/* The first PROTO_HEAD_MAX payload bytes of a side: the first data
 * segment's (a later one, retransmitted or not, changes nothing; the
 * TUI keeps thousands of flows, so no sequence tracking here). */
static void head_keep(struct flow_side *sd, const struct lt_obs *o)
{
	if (!o->payload || !o->payload_cap || sd->head_len)
		return;
	size_t n = o->payload_cap < PROTO_HEAD_MAX ? o->payload_cap : PROTO_HEAD_MAX;
	memcpy(sd->head, o->payload, n);
	sd->head_len = (uint8_t)n;
}

void flow_protocols(const struct flow *f, struct proto_id *client, struct proto_id *server)
{
	const struct flow_side *c = &f->side[LT_DIR_C2S], *s = &f->side[LT_DIR_S2C];
	proto_classify(c->head, c->head_len, NULL, client);
	proto_classify(s->head, s->head_len, client, server);
}

/* Does o say nothing but the process the flow already names for its
 * side? The eBPF source names a side's process on each of its segments. */
static inline bool same_proc_again(const struct flow *f, const struct lt_obs *o, int dir)
{
	return o->kctx == LT_KCTX_PROC && (f->kctx & LT_KCTX_PROC) && f->side[dir].pid == o->pid &&
	       !memcmp(f->side[dir].comm, o->comm, LT_COMM_LEN);
}

static void attach_kernel(struct flow *f, const struct lt_obs *o, int dir)
{
	f->kctx |= o->kctx;
	if (o->kctx & LT_KCTX_PROC) {
		f->side[dir].pid = o->pid;
		memcpy(f->side[dir].comm, o->comm, LT_COMM_LEN);
		f->side[dir].comm[LT_COMM_LEN - 1] = '\0';
	}
	if ((o->kctx & LT_KCTX_RESET_REASON) && !f->reset_reason[0]) {
		memcpy(f->reset_reason, o->reason_name, LT_REASON_LEN);
		f->reset_reason[LT_REASON_LEN - 1] = '\0';
	}
	/* A client's SYN retransmitted while its request socket exists is
	 * freed as NOT_SPECIFIED and answered by a SYN-ACK retransmission:
	 * not a loss worth naming. */
	bool benign = (o->kctx & LT_KCTX_DROP_REASON) && !strcmp(o->reason_name, "NOT_SPECIFIED") &&
		      f->side[LT_DIR_S2C].syn_count > 0 && !flow_established(f);
	if ((o->kctx & LT_KCTX_DROP_REASON) && !benign) {
		if (!f->drop_reason[0]) {
			memcpy(f->drop_reason, o->reason_name, LT_REASON_LEN);
			f->drop_reason[LT_REASON_LEN - 1] = '\0';
		}
		f->drops++;
		tl_add(f, LT_TL_DROP, dir, o->tcp_flags, o->ts_ns, 0);
	}
	if ((o->kctx & LT_KCTX_ERRNO) && !f->sk_errno)
		f->sk_errno = o->sk_errno;
	if (o->kctx & (LT_KCTX_SYN_RETRANS | LT_KCTX_SYNACK_RETRANS))
		f->kernel_syn_retrans++;
	if ((o->kctx & LT_KCTX_LISTEN_OVERFLOW) && !(f->anomalies & LT_A_LISTEN_OVERFLOW)) {
		f->anomalies |= LT_A_LISTEN_OVERFLOW;
		f->ovf_backlog = o->listen_backlog;
		f->ovf_queued = o->listen_queued;
	}
	if (o->kctx & LT_KCTX_EVENTS_LOST)
		f->anomalies |= LT_A_EVENTS_LOST;
}

static enum lt_rst_phase rst_phase_now(const struct flow *f)
{
	if (!flow_established(f))
		return LT_RST_HANDSHAKE;
	if (f->side[0].fin_count || f->side[1].fin_count)
		return LT_RST_AFTER_FIN;
	if (f->side[0].bytes || f->side[1].bytes)
		return LT_RST_AFTER_DATA;
	return LT_RST_BEFORE_DATA;
}

static void update_flow(struct flow *f, const struct lt_obs *o, int dir, bool keep_payload)
{
	struct flow_side *sd = &f->side[dir];
	const uint8_t fl = o->tcp_flags;
	const uint64_t ts = o->ts_ns;

	if (ts < f->t_last)
		f->anomalies |= LT_A_TIME_BACKWARDS;
	else
		f->t_last = ts;
	sd->pkts++;
	history_update(f, o, dir);

	if (fl & LT_TCP_SYN) {
		if (sd->syn_count == 0) {
			sd->isn = o->seq;
			sd->t_syn_first = ts;
			sd->mss = o->mss;
		}
		sd->syn_count++;
		sd->t_syn_last = ts;
		tl_add(f, (fl & LT_TCP_ACK) ? LT_TL_SYNACK : LT_TL_SYN, dir, fl, ts, 0);
		if (dir == LT_DIR_S2C && f->side[LT_DIR_C2S].syn_count == 0)
			f->anomalies |= LT_A_SYN_NOT_SEEN;
	}

	/* The handshake completes with the client's first ACK (not SYN, not
	 * RST) after the server's SYN-ACK (RFC 9293 3.5). */
	bool completes = dir == LT_DIR_C2S && !f->t_ack && (fl & LT_TCP_ACK) &&
			 !(fl & (LT_TCP_SYN | LT_TCP_RST)) && f->side[LT_DIR_S2C].syn_count > 0;
	if (completes) {
		f->t_ack = ts;
		if (o->payload_len == 0 && !(fl & LT_TCP_FIN))
			tl_add(f, LT_TL_ACK, dir, fl, ts, 0);
	}

	if (o->payload_len > 0) {
		if (!sd->data_pkts)
			sd->t_first_data = ts;
		sd->data_pkts++;
		sd->bytes += o->payload_len;
		tl_add(f, LT_TL_DATA, dir, fl, ts, o->payload_len);
		if (keep_payload)
			head_keep(sd, o);
	}
	if (o->agg_pkts) {
		/* the kernel aggregated data segments: take its totals */
		if (o->agg_pkts > sd->data_pkts)
			sd->data_pkts = o->agg_pkts;
		if (o->agg_bytes > sd->bytes)
			sd->bytes = o->agg_bytes;
		if (o->agg_first_ns && (!sd->t_first_data || o->agg_first_ns < sd->t_first_data))
			sd->t_first_data = o->agg_first_ns;
	}

	if (fl & LT_TCP_FIN) {
		if (!sd->fin_count)
			sd->t_fin = ts;
		sd->fin_count++;
		tl_add(f, LT_TL_FIN, dir, fl, ts, 0);
	}
	if (fl & LT_TCP_RST) {
		if (!any_rst(f)) {
			f->rst_dir = (uint8_t)dir;
			f->rst_phase = (uint8_t)rst_phase_now(f);
			if (f->side[0].fin_count && f->side[1].fin_count)
				f->anomalies |= LT_A_RST_AFTER_CLOSE;
			sd->t_rst = ts;
		} else if (!sd->rst_count) {
			sd->t_rst = ts;
		}
		sd->rst_count++;
		tl_add(f, LT_TL_RST, dir, fl, ts, 0);
	}
	if (o->kctx && !same_proc_again(f, o, dir))
		attach_kernel(f, o, dir);
}

/* A copy of the last segment in this direction, seen again in another
 * encapsulation (VLAN) within DUP_COPY_NS: count it apart and stop. */
#define DUP_COPY_NS 1000000ull
static bool take_copy(struct flow *f, const struct lt_obs *o, int dir)
{
	struct flow_side *sd = &f->side[dir];
	if (!sd->has_last || o->encap == sd->last_encap) /* most segments */
		return false;
	uint64_t gap = o->ts_ns > sd->last_ts ? o->ts_ns - sd->last_ts : sd->last_ts - o->ts_ns;
	if (gap > DUP_COPY_NS || o->seq != sd->last_seq || o->ack != sd->last_ack ||
	    o->tcp_flags != sd->last_flags || o->payload_len != sd->last_len ||
	    o->window != sd->last_window)
		return false;
	sd->copies.pkts++;
	sd->copies.syn += !!(o->tcp_flags & LT_TCP_SYN);
	sd->copies.fin += !!(o->tcp_flags & LT_TCP_FIN);
	sd->copies.rst += !!(o->tcp_flags & LT_TCP_RST);
	if (o->payload_len) {
		sd->copies.data_pkts++;
		sd->copies.bytes += o->payload_len;
	}
	f->anomalies |= LT_A_DUP_COPIES;
	return true;
}

static void remember_segment(struct flow_side *sd, const struct lt_obs *o)
{
	sd->has_last = true;
	sd->last_ts = o->ts_ns;
	sd->last_seq = o->seq;
	sd->last_ack = o->ack;
	sd->last_len = o->payload_len;
	sd->last_encap = o->encap;
	sd->last_window = o->window;
	sd->last_flags = o->tcp_flags;
}

/* A SYN (no ACK) on a known 4-tuple: the same connection (a
 * retransmission, or the SYN behind a SYN-ACK we saw first) or a new one? */
static bool starts_new_connection(const struct flow *f, const struct lt_obs *o)
{
	bool from_client = endpoint_eq(&o->src, &f->client);
	const struct flow_side *c = &f->side[LT_DIR_C2S];
	const struct flow_side *s = &f->side[LT_DIR_S2C];

	if (!from_client)
		return true; /* the old server now dials out: a new connection */
	if (c->syn_count)
		return o->seq != c->isn;
	if (s->syn_count) /* its SYN-ACK came first: this is its SYN */
		return false;
	return true; /* mid-stream flow, now a SYN: a new connection */
}

/* inlined: after most segments of a live connection (5 of 6) */
LT_INLINE void report_change(struct flow_tab *t, struct flow *f)
{
	enum lt_verdict v = current_verdict(t, f, false);
	if (v == LT_V_CONNECTING) {
		/* Both SYN times are at or after t_first: never late. */
		uint64_t due = f->t_first + t->cfg.connecting_ns;
		if (!t->n_connecting || due < t->connecting_due)
			t->connecting_due = due;
	}
	if (v == f->verdict_seen)
		return;
	if (f->verdict_seen == LT_V_CONNECTING)
		t->n_connecting--;
	if (v == LT_V_CONNECTING)
		t->n_connecting++;
	f->verdict_seen = (uint8_t)v;
	if (t->hooks.on_change && (t->change_mask >> v & 1))
		t->hooks.on_change(t->hooks.ctx, f, v);
}

/*
 * Segment o, just taken into f (whose handshake ACK time was t_ack
 * before it), cannot have changed f's verdict: it carries no SYN, FIN or
 * RST and did not complete the handshake, so every count and time
 * flow_verdict reads is as it was; and the last verdict is neither
 * "connecting" (which time alone ends) nor none yet. With no capture time
 * jump the table's time never goes back, so a verdict that was not
 * "connecting" cannot become it again. Most segments (data, plain ACKs)
 * skip report_change's verdict this way.
 */
static bool verdict_unchanged(const struct flow_tab *t, const struct flow *f,
			      const struct lt_obs *o, uint64_t t_ack)
{
	return !(o->tcp_flags & (LT_TCP_SYN | LT_TCP_FIN | LT_TCP_RST)) && f->t_ack == t_ack &&
	       f->verdict_seen != LT_V_CONNECTING && f->verdict_seen != LT_V_COUNT &&
	       !t->c.time_jumps;
}

static void kernel_input(struct flow_tab *t, const struct lt_obs *o)
{
	struct flow *f = lookup(t, o);
	t->c.kernel_events++;
	if (o->kctx & LT_KCTX_EVENTS_LOST)
		t->loss_seen = true;
	if (!f) {
		t->c.kernel_unmatched++;
		return;
	}
	attach_kernel(f, o, endpoint_eq(&o->src, &f->client) ? LT_DIR_C2S : LT_DIR_S2C);
	report_change(t, f);
}

/* ---- capture time jumps ------------------------------------------------ */

#define JUMP_BACK_NS SEC /* further back than this is a jump, not reordering */
/* Frames in a row at the new time that make a jump sustained (a merge of
 * captures taken years apart, a clock step), not one corrupt timestamp.
 * The first two are read in table time; a connection that began and was
 * retired within them (a new SYN on its 4-tuple as the second frame) is
 * written in table time. */
#define JUMP_CONFIRM 3

static bool near_now(const struct flow_tab *t, uint64_t ts)
{
	return ts + JUMP_BACK_NS >= t->now && ts <= t->now + t->longest;
}

static struct flow *jump_touched(struct flow_tab *t, uint32_t k)
{
	struct flow *f = &t->pool[t->jump_touched[k].i];
	return f->id == t->jump_touched[k].id ? f : NULL; /* retire clears id */
}

static bool was_touched(struct flow_tab *t, const struct flow *f)
{
	for (uint32_t k = 0; k < t->n_jump_touched; k++)
		if (jump_touched(t, k) == f)
			return true;
	return false;
}

static void shift_time(uint64_t *v, uint64_t from, int64_t by)
{
	if (*v >= from)
		*v += (uint64_t)by;
}

/* The times a flow took in table time during an unconfirmed jump (all at
 * or after from), moved to capture time. */
static void shift_flow(struct flow *f, uint64_t from, int64_t by)
{
	shift_time(&f->t_first, from, by);
	shift_time(&f->t_last, from, by);
	if (f->t_ack)
		shift_time(&f->t_ack, from, by);
	for (int d = 0; d < 2; d++) {
		struct flow_side *s = &f->side[d];
		uint64_t *v[] = { &s->t_first_data, &s->t_syn_first, &s->t_syn_last,
				  &s->t_fin,	    &s->t_rst,	     &s->last_ts };
		for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++)
			if (*v[k])
				shift_time(v[k], from, by);
	}
	for (int k = 0; k < f->tl_len; k++)
		shift_time(&f->tl[k].t_ns, from, by);
}

/*
 * JUMP_CONFIRM frames in a row came at the new time: the jump is real, and
 * the table returns to capture time. The connections from before it end
 * there, as at the end of a capture (a merge of captures years apart reads
 * as the captures one by one); those the jump's first frames touched get
 * their times of those frames in capture time.
 */
static void jump_confirmed(struct flow_tab *t, uint64_t capture_now)
{
	t->now = t->jump_at; /* verdicts as they stood when the jump came */
	for (uint32_t i = t->lru_tail; i != NIL;) {
		struct flow *f = &t->pool[i];
		i = t->lru[i].prev;
		if (!was_touched(t, f))
			retire(t, f, LT_RETIRE_END);
	}
	for (uint32_t k = 0; k < t->n_jump_touched; k++) {
		struct flow *f = jump_touched(t, k);
		if (f && t->ts_offset)
			shift_flow(f, t->jump_at, t->ts_offset);
	}
	t->c.jumps_sustained++;
	t->now = capture_now;
	t->ts_offset = 0;
	t->jump_run = t->n_jump_touched = 0;
	t->connecting_due = 0; /* look again at the next expiry */
}

/*
 * The table time of capture time ts. A corrupt timestamp (year 2105) must
 * not expire every connection: at a jump the table time stays where it was
 * (the offset absorbs the jump). When the capture comes back to the
 * table's time (the next record after a corrupt one) the offset goes back
 * to 0; when JUMP_CONFIRM frames in a row come at the new time the jump is
 * sustained and the table follows the capture (jump_confirmed). *jumped
 * says this observation jumped.
 */
static uint64_t table_time(struct flow_tab *t, const struct lt_obs *o, bool *jumped)
{
	uint64_t ts = o->ts_ns - (uint64_t)t->ts_offset;

	*jumped = false;
	if (t->cfg.steady_clock)
		return o->ts_ns;
	if (!t->now || near_now(t, ts)) {
		if (t->ts_offset && ++t->jump_run >= JUMP_CONFIRM) {
			jump_confirmed(t, o->ts_ns);
			return o->ts_ns;
		}
		return ts;
	}
	*jumped = true;
	int64_t by = (int64_t)(ts - t->now);
	if (!t->c.time_jumps++) {
		t->c.jump_first_ns = by;
		t->c.jump_first_frame = o->frame ? o->frame->number : 0;
	}
	t->jump_run = t->n_jump_touched = 0;
	if (t->ts_offset && near_now(t, o->ts_ns)) {
		t->ts_offset = 0; /* back to where the capture was before */
		return o->ts_ns;
	}
	t->ts_offset = (int64_t)(o->ts_ns - t->now);
	t->jump_at = t->now;
	t->jump_run = 1;
	return t->now;
}

/* A flow a frame of an unconfirmed jump touched. */
static void note_jump_touch(struct flow_tab *t, const struct flow *f)
{
	if (!t->ts_offset || !t->jump_run)
		return;
	for (uint32_t k = 0; k < t->n_jump_touched; k++)
		if (jump_touched(t, k) == f)
			return;
	if (t->n_jump_touched < sizeof(t->jump_touched) / sizeof(t->jump_touched[0])) {
		t->jump_touched[t->n_jump_touched].i = flow_index(t, f);
		t->jump_touched[t->n_jump_touched].id = f->id;
		t->n_jump_touched++;
	}
}

const struct flow *flow_input(struct flow_tab *t, const struct lt_obs *obs)
{
	bool jumped;
	struct lt_obs adj;
	const struct lt_obs *o = obs;
	uint64_t ts = table_time(t, obs, &jumped);

	if (ts != obs->ts_ns) {
		adj = *obs;
		adj.ts_ns = ts;
		o = &adj;
	}
	if (o->ts_ns < t->now)
		t->c.ts_backwards++;
	else
		t->now = o->ts_ns;

	if (o->kind == LT_OBS_KERNEL) {
		kernel_input(t, o);
		return NULL;
	}
	t->c.segments++;
	const uint8_t *pf = t->cfg.port_filter;
	if (pf && !ports_bit(pf, o->src.port) && !ports_bit(pf, o->dst.port)) {
		t->c.filtered++;
		return NULL;
	}

	struct flow *f = lookup(t, o);
	bool bare_syn = (o->tcp_flags & LT_TCP_SYN) && !(o->tcp_flags & LT_TCP_ACK);
	if (f && bare_syn && starts_new_connection(f, o)) {
		retire(t, f, LT_RETIRE_REUSED);
		f = NULL;
	}
	int dir = 0;
	if (f) {
		dir = endpoint_eq(&o->src, &f->client) ? LT_DIR_C2S : LT_DIR_S2C;
		if (take_copy(f, o, dir)) {
			lru_touch(t, f);
			return f;
		}
	} else {
		f = create_flow(t, o);
		dir = endpoint_eq(&o->src, &f->client) ? LT_DIR_C2S : LT_DIR_S2C;
		if (t->c.time_jumps)
			f->anomalies |= LT_A_TIME_JUMP;
	}
	if (jumped)
		f->anomalies |= LT_A_TIME_JUMP;
	uint64_t t_ack = f->t_ack;
	update_flow(f, o, dir, !t->cfg.no_payload);
	remember_segment(&f->side[dir], o);
	lru_touch(t, f);
	note_jump_touch(t, f);
	if (!verdict_unchanged(t, f, o, t_ack))
		report_change(t, f);
	return f;
}

void flow_over(struct flow_tab *t, const struct lt_obs *o, const struct flow *f)
{
	struct flow *mine = f ? &t->pool[flow_index(t, f)] : lookup(t, o);
	if (mine)
		retire(t, mine, o->over == LT_OVER_REUSED ? LT_RETIRE_REUSED : LT_RETIRE_OVER);
}

/* ---- expiry ------------------------------------------------------------ */

static uint64_t timeout_for(const struct flow_tab *t, const struct flow *f)
{
	bool crowded = t->c.active * 10ull >= t->cap * 9ull;
	enum lt_verdict v = current_verdict(t, f, false);

	if (lt_verdict_ended(v))
		return crowded ? SEC : t->cfg.linger_ns;
	switch (v) {
	case LT_V_CONNECTING:
	case LT_V_UNANSWERED:
	case LT_V_HALF_OPEN:
		return crowded ? 5 * SEC : t->cfg.syn_timeout_ns;
	case LT_V_OPEN:
	case LT_V_HALF_CLOSED:
	case LT_V_MIDSTREAM:
	case LT_V_REFUSED:
	case LT_V_CLOSED:
	case LT_V_RESET_CLIENT:
	case LT_V_RESET_SERVER:
	case LT_V_COUNT:
		break;
	}
	return t->cfg.idle_timeout_ns;
}

void flow_expire(struct flow_tab *t, uint64_t now_ns)
{
	now_ns -= (uint64_t)t->ts_offset; /* the source's clock, in table time */
	if (now_ns > t->now)
		t->now = now_ns;
	now_ns = t->now;

	/* Oldest first; a flow younger than the shortest timeout ends the
	 * walk, since everything ahead of it is younger still. Crowding only
	 * shortens timeouts, and retiring only ends it. */
	uint64_t shortest = t->cfg.linger_ns;
	if (t->cfg.syn_timeout_ns < shortest)
		shortest = t->cfg.syn_timeout_ns;
	if (t->cfg.idle_timeout_ns < shortest)
		shortest = t->cfg.idle_timeout_ns;
	if (t->c.active * 10ull >= t->cap * 9ull && SEC < shortest)
		shortest = SEC; /* crowded: see timeout_for */
	uint32_t i = t->lru_tail;
	while (i != NIL) {
		struct flow *f = &t->pool[i];
		uint32_t prev = t->lru[i].prev;
		uint64_t idle = now_ns > f->t_last ? now_ns - f->t_last : 0;
		if (idle < shortest)
			break;
		if (idle >= timeout_for(t, f))
			retire(t, f, LT_RETIRE_EXPIRED);
		i = prev;
	}

	/* Verdicts that change with time alone (connecting -> unanswered),
	 * newest first; only when one may be due. */
	if (!t->n_connecting || now_ns < t->connecting_due)
		return;
	uint32_t left = t->n_connecting;
	t->connecting_due = UINT64_MAX;
	for (i = t->lru_head; i != NIL && left; i = t->lru[i].next) {
		struct flow *f = &t->pool[i];
		if (now_ns - f->t_last > 4 * t->cfg.connecting_ns + 4 * SEC) {
			t->connecting_due = now_ns; /* not all seen: look again */
			break;
		}
		if (f->verdict_seen != LT_V_CONNECTING)
			continue;
		left--;
		report_change(t, f); /* lowers connecting_due if still connecting */
	}
}

void flow_flush(struct flow_tab *t)
{
	while (t->lru_tail != NIL)
		retire(t, &t->pool[t->lru_tail], LT_RETIRE_END);
}

void flow_foreach(const struct flow_tab *t, void (*fn)(void *ctx, const struct flow *f), void *ctx)
{
	for (uint32_t i = t->lru_head; i != NIL; i = t->lru[i].next)
		fn(ctx, &t->pool[i]);
}
