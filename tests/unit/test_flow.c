/* SPDX-License-Identifier: MIT */
/* test_flow.c - the handshake machine: verdicts, Zeek states, reuse, eviction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "flow.h"

#define US 1000ull
#define SEC 1000000000ull
#define T0 (1700000000ull * SEC)

enum { C2S, S2C };

struct rec {
	int n;
	struct flow last;
	enum lt_verdict v[64];
	struct flow f[64];
};

static void on_retire(void *ctx, const struct flow *f, enum lt_retire_why why)
{
	struct rec *r = ctx;
	if (r->n < 64) {
		r->f[r->n] = *f;
		r->v[r->n] = flow_verdict(f, f->t_last, true, SEC);
		r->n++;
	}
}

struct harness {
	struct flow_tab *t;
	struct rec r;
	uint16_t cport;
};

static struct flow_tab *new_tab(struct rec *r, uint32_t cap)
{
	struct flow_config cfg = { .max_flows = cap };
	struct flow_hooks hooks = { .on_retire = on_retire, .ctx = r };
	memset(r, 0, sizeof(*r));
	return flow_tab_new(&cfg, &hooks);
}

/* one segment of 127.0.0.1:cport <-> 127.0.0.1:61900, not yet fed */
static struct lt_obs seg_obs(uint16_t cport, int dir, uint8_t flags, uint32_t seq, uint32_t len,
			     uint64_t ts)
{
	struct lt_obs o;
	memset(&o, 0, sizeof(o));
	o.kind = LT_OBS_SEGMENT;
	o.family = 4;
	o.ts_ns = T0 + ts;
	o.tcp_flags = flags;
	o.seq = seq;
	o.payload_len = len;
	o.pid = -1;
	struct lt_endpoint c = { { 127, 0, 0, 1 }, cport };
	struct lt_endpoint s = { { 127, 0, 0, 1 }, 61900 };
	o.src = dir == C2S ? c : s;
	o.dst = dir == C2S ? s : c;
	return o;
}

/* ... fed to the table */
static void seg(struct flow_tab *t, uint16_t cport, int dir, uint8_t flags, uint32_t seq,
		uint32_t len, uint64_t ts)
{
	struct lt_obs o = seg_obs(cport, dir, flags, seq, len, ts);
	flow_input(t, &o);
}

#define SYN LT_TCP_SYN
#define ACK LT_TCP_ACK
#define FIN LT_TCP_FIN
#define RST LT_TCP_RST

/* seg() in a VLAN tag stack (encap key; 0 = untagged) */
static void seg_encap(struct flow_tab *t, uint16_t cport, int dir, uint8_t flags, uint32_t seq,
		      uint64_t ts, uint32_t encap)
{
	struct lt_obs o = seg_obs(cport, dir, flags, seq, 0, ts);
	o.encap = encap;
	flow_input(t, &o);
}

/* The same SYN in three VLANs is one SYN and two copies; the same SYN
 * again in the same VLAN, or a second later, is a retransmission. */
static void test_vlan_copies(void **state)
{
	struct rec r;
	struct flow_tab *t = new_tab(&r, 16);
	seg_encap(t, 40000, C2S, SYN, 100, 0, 7);
	seg_encap(t, 40000, C2S, SYN, 100, 0, 9);
	seg_encap(t, 40000, C2S, SYN, 100, 2 * US, 0);
	seg_encap(t, 40000, S2C, SYN | ACK, 500, 10 * US, 7);
	seg_encap(t, 40000, S2C, SYN | ACK, 500, 10 * US, 9);
	seg_encap(t, 40000, C2S, ACK, 101, 20 * US, 7);
	flow_flush(t);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.f[0].side[C2S].syn_count, 1);
	assert_int_equal(r.f[0].side[C2S].copies.syn, 2);
	assert_int_equal(r.f[0].side[C2S].copies.pkts, 2);
	assert_int_equal(r.f[0].side[S2C].syn_count, 1);
	assert_int_equal(r.f[0].side[S2C].copies.syn, 1);
	assert_true(r.f[0].anomalies & LT_A_DUP_COPIES);
	assert_int_equal(r.v[0], LT_V_OPEN);
	assert_int_equal(r.f[0].tl_len, 3); /* S> SA< A> */
	flow_tab_free(t);

	t = new_tab(&r, 16);
	seg_encap(t, 40001, C2S, SYN, 100, 0, 7);
	seg_encap(t, 40001, C2S, SYN, 100, 5 * US, 7); /* same VLAN */
	seg_encap(t, 40001, C2S, SYN, 100, SEC, 9);    /* a second later */
	flow_flush(t);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.f[0].side[C2S].syn_count, 3);
	assert_int_equal(r.f[0].side[C2S].copies.pkts, 0);
	assert_false(r.f[0].anomalies & LT_A_DUP_COPIES);
	flow_tab_free(t);
}

static void test_refused(void **state)
{
	struct rec r;
	struct flow_tab *t = new_tab(&r, 16);
	seg(t, 40000, C2S, SYN, 100, 0, 0);
	seg(t, 40000, S2C, RST | ACK, 0, 0, 15 * US);
	flow_flush(t);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0], LT_V_REFUSED);
	assert_string_equal(flow_zeek_state(&r.f[0]), "REJ");
	assert_string_equal(r.f[0].history, "Sr");
	assert_int_equal(flow_syn_to_rst(&r.f[0]), 15 * US);
	flow_tab_free(t);
}

static void test_clean_close(void **state)
{
	struct rec r;
	struct flow_tab *t = new_tab(&r, 16);
	seg(t, 40000, C2S, SYN, 100, 0, 0);
	seg(t, 40000, S2C, SYN | ACK, 500, 0, 40 * US);
	seg(t, 40000, C2S, ACK, 101, 0, 50 * US);
	seg(t, 40000, C2S, ACK | LT_TCP_PSH, 101, 27, 60 * US);
	seg(t, 40000, S2C, ACK, 501, 0, 70 * US);
	seg(t, 40000, S2C, ACK | LT_TCP_PSH, 501, 42, 80 * US);
	seg(t, 40000, C2S, FIN | ACK, 128, 0, 90 * US);
	seg(t, 40000, S2C, FIN | ACK, 543, 0, 95 * US);
	seg(t, 40000, C2S, ACK, 129, 0, 99 * US);
	flow_flush(t);
	assert_int_equal(r.n, 1);
	const struct flow *f = &r.f[0];
	assert_int_equal(r.v[0], LT_V_CLOSED);
	assert_string_equal(flow_zeek_state(f), "SF");
	assert_string_equal(f->history, "ShADadFf");
	assert_int_equal(flow_syn_to_synack(f), 40 * US);
	assert_int_equal(flow_synack_to_ack(f), 10 * US);
	assert_int_equal(f->side[C2S].bytes, 27);
	assert_int_equal(f->side[S2C].bytes, 42);
	/* timeline: S SA A D> D< F> F< */
	assert_int_equal(f->tl_len, 7);
	assert_int_equal(f->tl[0].kind, LT_TL_SYN);
	assert_int_equal(f->tl[1].kind, LT_TL_SYNACK);
	assert_int_equal(f->tl[2].kind, LT_TL_ACK);
	assert_int_equal(f->tl[3].kind, LT_TL_DATA);
	assert_int_equal(f->tl[6].kind, LT_TL_FIN);
	assert_int_equal(f->tl[6].dir, S2C);
	flow_tab_free(t);
}

static void test_unanswered_retries(void **state)
{
	struct rec r;
	struct flow_tab *t = new_tab(&r, 16);
	seg(t, 40000, C2S, SYN, 100, 0, 0);
	seg(t, 40000, C2S, SYN, 100, 0, 1 * SEC);
	seg(t, 40000, C2S, SYN, 100, 0, 2 * SEC);
	flow_flush(t);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0], LT_V_UNANSWERED);
	assert_int_equal(r.f[0].side[C2S].syn_count, 3);
	assert_string_equal(r.f[0].history, "S"); /* same seq: one letter */
	assert_string_equal(flow_zeek_state(&r.f[0]), "S0");
	assert_int_equal(r.f[0].tl_len, 3); /* each retransmission, with its time */
	assert_int_equal(r.f[0].tl[2].t_ns, T0 + 2 * SEC);
	/* a single fresh SYN counts as "connecting" until 1 s passes, live */
	assert_int_equal(flow_verdict(&r.f[0], T0 + 2 * SEC, false, SEC), LT_V_UNANSWERED);
	flow_tab_free(t);
}

static void test_connecting_then_unanswered(void **state)
{
	struct rec r;
	struct flow_tab *t = new_tab(&r, 16);
	seg(t, 40001, C2S, SYN, 7, 0, 0);
	flow_flush(t);
	const struct flow *f = &r.f[0];
	assert_int_equal(flow_verdict(f, T0 + 500 * US, false, SEC), LT_V_CONNECTING);
	assert_int_equal(flow_verdict(f, T0 + 2 * SEC, false, SEC), LT_V_UNANSWERED);
	assert_int_equal(flow_verdict(f, T0 + 500 * US, true, SEC), LT_V_UNANSWERED);
	flow_tab_free(t);
}

static void test_half_open(void **state)
{
	struct rec r;
	struct flow_tab *t = new_tab(&r, 16);
	seg(t, 40000, C2S, SYN, 100, 0, 0);
	seg(t, 40000, S2C, SYN | ACK, 500, 0, 40 * US);
	seg(t, 40000, S2C, SYN | ACK, 500, 0, 1 * SEC);
	flow_flush(t);
	assert_int_equal(r.v[0], LT_V_HALF_OPEN);
	assert_int_equal(r.f[0].side[S2C].syn_count, 2);
	assert_string_equal(r.f[0].history, "Sh");
	flow_tab_free(t);
}

static void test_reset_after_data(void **state)
{
	struct rec r;
	struct flow_tab *t = new_tab(&r, 16);
	seg(t, 40000, C2S, SYN, 100, 0, 0);
	seg(t, 40000, S2C, SYN | ACK, 500, 0, 40 * US);
	seg(t, 40000, C2S, ACK, 101, 0, 50 * US);
	seg(t, 40000, C2S, ACK, 101, 10, 60 * US);
	seg(t, 40000, S2C, RST | ACK, 501, 0, 70 * US);
	flow_flush(t);
	assert_int_equal(r.v[0], LT_V_RESET_SERVER);
	assert_int_equal(r.f[0].rst_phase, LT_RST_AFTER_DATA);
	assert_string_equal(flow_zeek_state(&r.f[0]), "RSTR");
	flow_tab_free(t);
}

static void test_port_reuse(void **state)
{
	struct rec r;
	struct flow_tab *t = new_tab(&r, 16);
	seg(t, 40000, C2S, SYN, 100, 0, 0);
	seg(t, 40000, S2C, RST | ACK, 0, 0, 10 * US);
	seg(t, 40000, C2S, SYN, 9999, 0, 1 * SEC); /* new ISN: new connection */
	seg(t, 40000, S2C, SYN | ACK, 500, 0, 1 * SEC + 40 * US);
	seg(t, 40000, C2S, ACK, 10000, 0, 1 * SEC + 50 * US);
	flow_flush(t);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.v[0], LT_V_REFUSED);
	assert_true(r.f[0].anomalies & LT_A_REUSED);
	assert_int_equal(r.v[1], LT_V_OPEN);
	assert_int_equal(flow_tab_counters(t)->reused, 1);
	flow_tab_free(t);
}

static void test_midstream_roles(void **state)
{
	struct rec r;
	struct flow_tab *t = new_tab(&r, 16);
	/* the server speaks first; the lower port is taken as the server */
	seg(t, 40000, S2C, ACK, 1, 100, 0);
	seg(t, 40000, C2S, ACK, 1, 0, 10 * US);
	flow_flush(t);
	assert_int_equal(r.v[0], LT_V_MIDSTREAM);
	assert_int_equal(r.f[0].server.port, 61900);
	assert_int_equal(r.f[0].role_basis, LT_ROLE_PORT);
	assert_string_equal(flow_zeek_state(&r.f[0]), "OTH");
	flow_tab_free(t);
}

static void test_eviction(void **state)
{
	struct rec r;
	struct flow_tab *t = new_tab(&r, 16);
	/* 16 refused (ended) then 4 more: the oldest ended ones go first */
	for (uint16_t i = 0; i < 20; i++) {
		seg(t, (uint16_t)(30000 + i), C2S, SYN, 1, 0, i * US);
		if (i < 16)
			seg(t, (uint16_t)(30000 + i), S2C, RST | ACK, 0, 0, i * US + 1);
	}
	const struct flow_counters *c = flow_tab_counters(t);
	assert_int_equal(c->evicted, 4);
	assert_int_equal(c->active, 16);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.f[0].client.port, 30000);
	assert_true(r.f[0].anomalies & LT_A_EVICTED);
	flow_flush(t);
	assert_int_equal(c->retired, 20);
	flow_tab_free(t);
}

/* The rest of a connection the full table evicted comes back without its
 * SYN: it is marked evicted (its start was cut here), and a mid-stream
 * connection in a table that evicted nothing is not. */
static void test_evicted_rest(void **state)
{
	struct rec r;
	struct flow_tab *t = new_tab(&r, 16);
	seg(t, 29999, C2S, ACK, 5, 0, 0); /* mid-stream, before any eviction */
	flow_flush(t);
	assert_int_equal(r.n, 1);
	assert_false(r.f[0].anomalies & LT_A_EVICTED);
	r.n = 0;
	for (uint16_t i = 0; i < 17; i++) { /* 17 open connections in 16 slots */
		seg(t, (uint16_t)(30000 + i), C2S, SYN, 100, 0, i * US);
		seg(t, (uint16_t)(30000 + i), S2C, SYN | ACK, 500, 0, i * US + 1);
		seg(t, (uint16_t)(30000 + i), C2S, ACK, 101, 0, i * US + 2);
	}
	assert_true(flow_tab_counters(t)->evicted >= 1);
	assert_true(r.n >= 1 && (r.f[0].anomalies & LT_A_EVICTED));
	uint16_t gone = r.f[0].client.port;
	seg(t, gone, C2S, FIN | ACK, 101, 0, 100 * US); /* its rest */
	flow_flush(t);
	int rest = -1;
	for (int i = 1; i < r.n; i++)
		if ((r.f[i].client.port == gone || r.f[i].server.port == gone) &&
		    !r.f[i].side[LT_DIR_C2S].syn_count) /* (its roles are a guess) */
			rest = i;
	assert_true(rest > 0);
	assert_int_equal(r.f[rest].side[LT_DIR_C2S].syn_count, 0);
	assert_true(r.f[rest].anomalies & LT_A_EVICTED);
	flow_tab_free(t);
}

static void test_expiry(void **state)
{
	struct rec r;
	struct flow_tab *t = new_tab(&r, 16);
	seg(t, 40000, C2S, SYN, 100, 0, 0);
	seg(t, 40000, S2C, RST | ACK, 0, 0, 10 * US);
	flow_expire(t, T0 + 2 * SEC);
	assert_int_equal(r.n, 0); /* linger is 5 s */
	flow_expire(t, T0 + 6 * SEC);
	assert_int_equal(r.n, 1);
	assert_int_equal(flow_tab_counters(t)->expired, 1);
	flow_tab_free(t);
}

static void test_port_filter(void **state)
{
	uint8_t bitmap[8192];
	struct rec r;
	memset(bitmap, 0, sizeof(bitmap));
	bitmap[80 >> 3] |= 1u << (80 & 7);
	struct flow_config cfg = { .max_flows = 16, .port_filter = bitmap };
	struct flow_hooks hooks = { .on_retire = on_retire, .ctx = &r };
	memset(&r, 0, sizeof(r));
	struct flow_tab *t = flow_tab_new(&cfg, &hooks);
	seg(t, 40000, C2S, SYN, 100, 0, 0); /* to 61900: not watched */
	flow_flush(t);
	assert_int_equal(r.n, 0);
	assert_int_equal(flow_tab_counters(t)->filtered, 1);
	flow_tab_free(t);
}

/* ---- the hash table ------------------------------------------------------ */

/* Every retired flow, checked against what was sent to its port. */
struct churn {
	uint64_t retired, evicted, reused, wrong;
	uint32_t seen[4096]; /* retirements per client port - 30000 */
};

static void churn_retire(void *ctx, const struct flow *f, enum lt_retire_why why)
{
	struct churn *c = ctx;
	unsigned p = (unsigned)f->client.port - 30000u;
	c->retired++;
	c->evicted += why == LT_RETIRE_EVICTED;
	c->reused += why == LT_RETIRE_REUSED;
	if (p >= 4096) {
		c->wrong++;
		return;
	}
	c->seen[p]++;
	/* each connection below: SYN, ACK, FIN from the client; SYN-ACK,
	 * FIN from the server; nothing of another connection */
	if (f->side[C2S].pkts != 3 || f->side[S2C].pkts != 2 || f->side[C2S].isn != 1000 + p ||
	    f->server.port != 61900)
		c->wrong++;
}

/* A table of 16 with a window of 12 connections open at once, 3000
 * connections through it: every lookup must find its own flow while
 * slots are inserted and deleted (backward shift) all the time, and the
 * full table evicts ended connections, never an open one. */
static void test_table_churn(void **state)
{
	static struct churn c;
	memset(&c, 0, sizeof(c));
	struct flow_config cfg = { .max_flows = 16 };
	struct flow_hooks hooks = { .on_retire = churn_retire, .ctx = &c };
	struct flow_tab *t = flow_tab_new(&cfg, &hooks);
	const int n = 3000, win = 12;
	for (int i = 0; i < n + win; i++) {
		if (i < n) { /* connection i opens */
			uint16_t p = (uint16_t)(30000 + i);
			seg(t, p, C2S, SYN, (uint32_t)(1000 + i), 0, (uint64_t)i * 10 * US);
			seg(t, p, S2C, SYN | ACK, 7, 0, (uint64_t)i * 10 * US + 1);
			seg(t, p, C2S, ACK, (uint32_t)(1001 + i), 0, (uint64_t)i * 10 * US + 2);
		}
		if (i >= win) { /* connection i - win closes */
			int k = i - win;
			uint16_t p = (uint16_t)(30000 + k);
			seg(t, p, C2S, FIN | ACK, (uint32_t)(1001 + k), 0,
			    (uint64_t)i * 10 * US + 3);
			seg(t, p, S2C, FIN | ACK, 8, 0, (uint64_t)i * 10 * US + 4);
		}
	}
	flow_flush(t);
	assert_int_equal(c.wrong, 0);
	assert_int_equal(c.retired, n);
	for (int i = 0; i < n; i++)
		assert_int_equal(c.seen[i], 1);
	/* closed ones made room: n - 16 evictions, each of an ended flow
	 * (an evicted open one would have come back as a mid-stream flow
	 * and been counted wrong above) */
	assert_int_equal(c.evicted, n - 16);
	assert_int_equal(flow_tab_counters(t)->active, 0);
	flow_tab_free(t);
}

/* One 4-tuple reused 500 times (a new ISN each time) in a full table of
 * other connections: each use is its own flow, retired as reused. */
static void test_table_tuple_reuse(void **state)
{
	static struct churn c;
	memset(&c, 0, sizeof(c));
	struct flow_config cfg = { .max_flows = 16 };
	struct flow_hooks hooks = { .on_retire = churn_retire, .ctx = &c };
	struct flow_tab *t = flow_tab_new(&cfg, &hooks);
	for (int i = 1; i <= 15; i++) /* 15 open connections fill the table */
		seg(t, (uint16_t)(30000 + i), C2S, SYN, (uint32_t)(1000 + i), 0, (uint64_t)i);
	for (int r = 0; r < 500; r++) {
		uint64_t ts = 1000 + (uint64_t)r * 100;
		seg(t, 30000, C2S, SYN, 1000, 0, ts); /* ISN 1000 after 555: new */
		seg(t, 30000, S2C, SYN | ACK, 7, 0, ts + 1);
		seg(t, 30000, C2S, ACK, 1001, 0, ts + 2);
		seg(t, 30000, C2S, FIN | ACK, 1001, 0, ts + 3);
		seg(t, 30000, S2C, FIN | ACK, 8, 0, ts + 4);
		seg(t, 30000, C2S, SYN, 555, 0, ts + 5); /* new again: one SYN */
	}
	flow_flush(t);
	assert_int_equal(c.seen[0], 1000); /* 500 closed + 500 one-SYN flows */
	assert_int_equal(c.reused, 999);
	assert_int_equal(c.evicted, 0);
	for (int i = 1; i <= 15; i++)
		assert_int_equal(c.seen[i], 1);
	/* the 500 one-SYN flows and the 15 open ones do not have 3+2 pkts */
	assert_int_equal(c.wrong, 500 + 15);
	flow_tab_free(t);
}

/* The namespace is not hashed: the same 4-tuple in two namespaces lands
 * on the same hash and must still be two connections, whichever comes
 * first on the probe run, and deleting one must leave the other. */
static void test_table_same_hash(void **state)
{
	struct rec r;
	struct flow_tab *t = new_tab(&r, 16);
	struct lt_netns ns[2] = { { .ino = 1 }, { .ino = 2 } };
	struct lt_obs o;
	memset(&o, 0, sizeof(o));
	o.kind = LT_OBS_SEGMENT;
	o.family = 4;
	o.pid = -1;
	struct lt_endpoint c = { { 127, 0, 0, 1 }, 40000 };
	struct lt_endpoint s = { { 127, 0, 0, 1 }, 61900 };
	for (int i = 0; i < 2; i++) { /* a SYN in each namespace */
		o.ns = &ns[i];
		o.src = c;
		o.dst = s;
		o.tcp_flags = SYN;
		o.seq = 100;
		o.ts_ns = T0 + (uint64_t)i;
		assert_non_null(flow_input(t, &o));
	}
	/* a refusal in namespace 2 only */
	o.ns = &ns[1];
	o.src = s;
	o.dst = c;
	o.tcp_flags = RST | ACK;
	o.ts_ns = T0 + 10 * US;
	const struct flow *f2 = flow_input(t, &o);
	assert_non_null(f2);
	assert_ptr_equal(f2->ns, &ns[1]);
	assert_int_equal(flow_tab_counters(t)->active, 2);
	flow_expire(t, T0 + 6 * SEC); /* the refused one lingered out */
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.f[0].ns, &ns[1]);
	/* the one left is still found: a SYN-ACK in namespace 1 */
	o.ns = &ns[0];
	o.tcp_flags = SYN | ACK;
	o.seq = 7;
	o.ts_ns = T0 + 6 * SEC + 1;
	const struct flow *f1 = flow_input(t, &o);
	assert_non_null(f1);
	assert_int_equal(f1->side[S2C].syn_count, 1);
	assert_int_equal(f1->side[C2S].syn_count, 1);
	assert_int_equal(flow_tab_counters(t)->created, 2);
	flow_flush(t);
	flow_tab_free(t);
}

/* seg() with lt_obs.over: the source's last word on the connection. */
static const struct flow *seg_over(struct flow_tab *t, uint16_t cport, int dir, uint8_t flags,
				   uint32_t seq, uint64_t ts, uint8_t over)
{
	struct lt_obs o = seg_obs(cport, dir, flags, seq, 0, ts);
	o.over = over;
	const struct flow *f = flow_input(t, &o);
	if (over)
		flow_over(t, &o, f);
	return f;
}

/* A connection the source says is over retires at once with its final
 * verdict (no linger); over = reused marks it so; nothing else moves. */
static void test_over(void **state)
{
	struct rec r;
	struct flow_tab *t = new_tab(&r, 16);
	seg(t, 41000, C2S, SYN, 100, 0, 0);
	seg(t, 41000, S2C, SYN | ACK, 500, 0, 1 * US);
	seg(t, 41000, C2S, ACK, 101, 0, 2 * US);
	seg(t, 41000, S2C, FIN | ACK, 501, 0, 3 * US);
	seg(t, 41000, C2S, FIN | ACK, 101, 0, 4 * US);
	assert_int_equal(r.n, 0);
	seg_over(t, 41000, S2C, ACK, 502, 5 * US, LT_OVER_YES);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0], LT_V_CLOSED);
	assert_int_equal(r.f[0].anomalies, 0);
	assert_int_equal(flow_tab_counters(t)->active, 0);
	/* over on a connection ended by a new SYN on its 4-tuple */
	seg(t, 41001, C2S, SYN, 100, 0, 10 * US);
	seg_over(t, 41001, S2C, RST | ACK, 0, 11 * US, LT_OVER_REUSED);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.v[1], LT_V_REFUSED);
	assert_true(r.f[1].anomalies & LT_A_REUSED);
	assert_int_equal(flow_tab_counters(t)->reused, 1);
	/* the next connection on the same 4-tuple is a new flow */
	seg(t, 41000, C2S, SYN, 900, 0, 20 * US);
	assert_int_equal(flow_tab_counters(t)->created, 3);
	flow_flush(t);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.v[2], LT_V_UNANSWERED);
	flow_tab_free(t);
}

/* Flows retired at once leave pool entries never used: a full count of
 * creations is no reason to evict while the table holds two flows. */
static void test_no_eviction_below_capacity(void **state)
{
	struct rec r;
	struct flow_tab *t = new_tab(&r, 4);
	for (uint16_t i = 0; i < 10; i++) { /* 10 connections, one at a time */
		seg(t, (uint16_t)(42000 + i), C2S, SYN, 100, 0, i * 10 * US);
		seg_over(t, (uint16_t)(42000 + i), S2C, RST | ACK, 0, i * 10 * US + 1, LT_OVER_YES);
	}
	seg(t, 42100, C2S, SYN, 100, 0, 200 * US); /* then two at once */
	seg(t, 42101, C2S, SYN, 100, 0, 201 * US);
	seg(t, 42102, C2S, SYN, 100, 0, 202 * US);
	const struct flow_counters *c = flow_tab_counters(t);
	assert_int_equal(c->active, 3);
	assert_int_equal(c->evicted, 0);
	flow_flush(t);
	flow_tab_free(t);
}

/* A steady clock (eBPF): an observation seconds behind the newest is a
 * late one, not a capture time jump, and three of them in a row do not
 * retire the table. */
static void test_steady_clock(void **state)
{
	struct rec r;
	struct flow_config cfg = { .max_flows = 16, .steady_clock = true };
	struct flow_hooks hooks = { .on_retire = on_retire, .ctx = &r };
	memset(&r, 0, sizeof(r));
	struct flow_tab *t = flow_tab_new(&cfg, &hooks);
	seg(t, 43000, C2S, SYN, 100, 0, 5 * SEC); /* open, alive */
	seg(t, 43000, S2C, SYN | ACK, 500, 0, 5 * SEC + 1);
	seg(t, 43000, C2S, ACK, 101, 0, 5 * SEC + 2);
	for (int i = 0; i < 4; i++) /* a connection from 3 s before */
		seg(t, 43001, i % 2 ? S2C : C2S, i ? ACK : SYN, 100, 0, 2 * SEC + (uint64_t)i);
	const struct flow_counters *c = flow_tab_counters(t);
	assert_int_equal(c->time_jumps, 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(c->active, 2);
	flow_flush(t);
	assert_int_equal(r.n, 2);
	for (int i = 0; i < 2; i++)
		assert_false(r.f[i].anomalies & LT_A_TIME_JUMP);
	flow_tab_free(t);
}

/* The slots in use grow with the flows (from 4096 for 2048 flows): past
 * several doublings every flow is still found, and found again after
 * half of them left (backward shifts in the grown table). */
static void test_table_growth(void **state)
{
	struct rec r;
	struct flow_tab *t = new_tab(&r, 20000);
	const int n = 12000;
	for (int i = 0; i < n; i++) /* 12000 connections open at once */
		seg(t, (uint16_t)(20000 + i), C2S, SYN, (uint32_t)(100 + i), 0, (uint64_t)i * US);
	const struct flow_counters *c = flow_tab_counters(t);
	assert_int_equal(c->active, n);
	assert_int_equal(c->evicted, 0);
	for (int i = 0; i < n; i += 2) /* every other one is refused */
		seg(t, (uint16_t)(20000 + i), S2C, RST | ACK, 0, 0, (uint64_t)(n + i) * US);
	flow_expire(t, T0 + 7 * SEC); /* the refused ones linger out */
	assert_int_equal(c->active, n / 2);
	for (int i = 1; i < n; i += 2) { /* the rest: the same flows */
		seg(t, (uint16_t)(20000 + i), S2C, SYN | ACK, 7, 0, 8 * SEC + (uint64_t)i);
		seg(t, (uint16_t)(20000 + i), C2S, ACK, (uint32_t)(101 + i), 0,
		    8 * SEC + (uint64_t)i + 1);
	}
	assert_int_equal(c->created, n);
	assert_int_equal(c->active, n / 2);
	flow_flush(t);
	flow_tab_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_clean_close),
		cmocka_unit_test(test_unanswered_retries),
		cmocka_unit_test(test_connecting_then_unanswered),
		cmocka_unit_test(test_half_open),
		cmocka_unit_test(test_reset_after_data),
		cmocka_unit_test(test_port_reuse),
		cmocka_unit_test(test_midstream_roles),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_evicted_rest),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_port_filter),
		cmocka_unit_test(test_vlan_copies),
		cmocka_unit_test(test_table_churn),
		cmocka_unit_test(test_table_tuple_reuse),
		cmocka_unit_test(test_table_same_hash),
		cmocka_unit_test(test_over),
		cmocka_unit_test(test_no_eviction_below_capacity),
		cmocka_unit_test(test_steady_clock),
		cmocka_unit_test(test_table_growth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
