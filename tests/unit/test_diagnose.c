/* SPDX-License-Identifier: MIT */
/*
 * test_diagnose.c - the diagnosis rules: which finding fires, on which
 * connections, and which does not.
 *
 * Connections are built by the real flow table from synthetic segments,
 * retired into the diagnosis as the report does, then diag_findings is
 * asked with a run context (capture or live listeners, lost events).
 * The wording is covered by the report goldens; here the decisions are.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "diagnose.h"
#include "flow.h"
#include "listeners.h"
#include "ports.h"
#include "sbuf.h"
#include "source.h"

#define US 1000ull
#define MS 1000000ull
#define SEC 1000000000ull
#define T0 (1700000000ull * SEC)
#define SPORT 61900

enum { C2S, S2C };

#define SYN LT_TCP_SYN
#define ACK LT_TCP_ACK
#define FIN LT_TCP_FIN
#define RST LT_TCP_RST
#define PSH LT_TCP_PSH

struct h {
	struct flow_tab *t;
	struct diag *d;
	/* retired flows with a client port in [lost_lo, lost_hi] are marked
	 * as the engine marks flows that were live while events were lost */
	uint16_t lost_lo, lost_hi;
	/* the network namespace segments are seen in (eBPF), NULL none */
	const struct lt_netns *ns;
	/* the server's process on its segments, 0 none */
	int32_t srv_pid;
	struct diag_finding *fnd;
	int n;
};

static void on_retire(void *ctx, const struct flow *f, enum lt_retire_why why)
{
	struct h *h = ctx;
	struct flow g = *f;
	(void)why;
	if (g.client.port >= h->lost_lo && g.client.port <= h->lost_hi)
		g.anomalies |= LT_A_EVENTS_LOST;
	diag_add(h->d, &g, flow_verdict(&g, g.t_last, true, SEC));
}

static void h_init(struct h *h)
{
	struct flow_config cfg = { .max_flows = 1u << 14 };
	struct flow_hooks hooks = { .on_retire = on_retire, .ctx = h };
	memset(h, 0, sizeof(*h));
	h->t = flow_tab_new(&cfg, &hooks);
	h->d = diag_new();
	assert_non_null(h->t);
	assert_non_null(h->d);
}

static void h_free(struct h *h)
{
	diag_findings_free(h->fnd, h->n);
	diag_free(h->d);
	flow_tab_free(h->t);
}

static void set_addr(struct lt_endpoint *e, uint8_t family, uint16_t port)
{
	memset(e, 0, sizeof(*e));
	if (family == 4) {
		e->addr[0] = 127;
		e->addr[3] = 1;
	} else {
		e->addr[15] = 1;
	}
	e->port = port;
}

static void seg(struct h *h, uint8_t family, uint16_t cport, int dir, uint8_t flags, uint32_t seq,
		uint32_t len, uint64_t ts)
{
	struct lt_obs o;
	struct lt_endpoint c, s;

	memset(&o, 0, sizeof(o));
	o.kind = LT_OBS_SEGMENT;
	o.family = family;
	o.ts_ns = T0 + ts;
	o.tcp_flags = flags;
	o.seq = seq;
	o.payload_len = len;
	o.pid = -1;
	if (dir == S2C && h->srv_pid) {
		o.kctx = LT_KCTX_PROC;
		o.pid = h->srv_pid;
		snprintf(o.comm, sizeof(o.comm), "srv");
	}
	o.ns = h->ns;
	o.netns = h->ns ? h->ns->ino : 0;
	set_addr(&c, family, cport);
	set_addr(&s, family, SPORT);
	o.src = dir == C2S ? c : s;
	o.dst = dir == C2S ? s : c;
	flow_input(h->t, &o);
}

static void clean(struct h *h, uint8_t fam, uint16_t cp, uint64_t ts)
{
	seg(h, fam, cp, C2S, SYN, 100, 0, ts);
	seg(h, fam, cp, S2C, SYN | ACK, 500, 0, ts + 40 * US);
	seg(h, fam, cp, C2S, ACK, 101, 0, ts + 50 * US);
	seg(h, fam, cp, C2S, ACK | PSH, 101, 20, ts + 60 * US);
	seg(h, fam, cp, S2C, ACK | PSH, 501, 30, ts + 70 * US);
	seg(h, fam, cp, C2S, FIN | ACK, 121, 0, ts + 80 * US);
	seg(h, fam, cp, S2C, FIN | ACK, 531, 0, ts + 90 * US);
	seg(h, fam, cp, C2S, ACK, 122, 0, ts + 99 * US);
}

static void refused(struct h *h, uint8_t fam, uint16_t cp, uint64_t ts)
{
	seg(h, fam, cp, C2S, SYN, 100, 0, ts);
	seg(h, fam, cp, S2C, RST | ACK, 0, 0, ts + 15 * US);
}

static void unanswered(struct h *h, uint8_t fam, uint16_t cp, uint64_t ts, int syns)
{
	for (int i = 0; i < syns; i++)
		seg(h, fam, cp, C2S, SYN, 100, 0, ts + (uint64_t)i * SEC);
}

static void half_open(struct h *h, uint8_t fam, uint16_t cp, uint64_t ts)
{
	seg(h, fam, cp, C2S, SYN, 100, 0, ts);
	seg(h, fam, cp, S2C, SYN | ACK, 500, 0, ts + 40 * US);
	seg(h, fam, cp, S2C, SYN | ACK, 500, 0, ts + 1 * SEC);
}

static void midstream(struct h *h, uint8_t fam, uint16_t cp, uint64_t ts)
{
	seg(h, fam, cp, C2S, ACK | PSH, 1000, 10, ts);
	seg(h, fam, cp, S2C, ACK, 2000, 0, ts + 10 * US);
}

/* established, then one side resets after data (or after its FIN) */
static void reset_by(struct h *h, uint16_t cp, int side, int after_fin, uint64_t ts)
{
	seg(h, 4, cp, C2S, SYN, 100, 0, ts);
	seg(h, 4, cp, S2C, SYN | ACK, 500, 0, ts + 40 * US);
	seg(h, 4, cp, C2S, ACK, 101, 0, ts + 50 * US);
	seg(h, 4, cp, C2S, ACK | PSH, 101, 20, ts + 60 * US);
	seg(h, 4, cp, S2C, ACK | PSH, 501, 30, ts + 70 * US);
	if (after_fin) {
		seg(h, 4, cp, side, FIN | ACK, side == C2S ? 121 : 531, 0, ts + 80 * US);
		seg(h, 4, cp, side == C2S ? S2C : C2S, ACK | PSH, 9, 5, ts + 85 * US);
	}
	seg(h, 4, cp, side, RST, side == C2S ? 122 : 532, 0, ts + 90 * US);
}

/* the kernel's word on cport's connection: a dropped SYN, with reason */
static void kernel_drop(struct h *h, uint16_t cport, const char *reason, uint64_t ts)
{
	struct lt_obs o;

	memset(&o, 0, sizeof(o));
	o.kind = LT_OBS_KERNEL;
	o.family = 4;
	o.ts_ns = T0 + ts;
	o.tcp_flags = SYN;
	o.pid = -1;
	o.kctx = LT_KCTX_DROP_REASON;
	snprintf(o.reason_name, sizeof(o.reason_name), "%s", reason);
	set_addr(&o.src, 4, cport);
	set_addr(&o.dst, 4, SPORT);
	flow_input(h->t, &o);
}

/* The rules alone: facts, no words. */
struct facts {
	struct diag_fact *v;
	int n;
};

static void decide(struct h *h, const struct diag_context *c, struct facts *fx)
{
	flow_flush(h->t);
	fx->n = diag_decide(h->d, c, &fx->v);
	assert_true(fx->n > 0);
}

static const struct diag_fact *fact_of(const struct facts *fx, enum diag_id id)
{
	for (int i = 0; i < fx->n; i++)
		if (fx->v[i].id == id)
			return &fx->v[i];
	return NULL;
}

static void findings(struct h *h, const struct diag_context *c)
{
	struct diag_context none;
	memset(&none, 0, sizeof(none));
	flow_flush(h->t);
	h->n = diag_findings(h->d, c ? c : &none, &h->fnd);
	assert_true(h->n > 0);
}

static const struct diag_finding *find(const struct h *h, const char *id)
{
	for (int i = 0; i < h->n; i++)
		if (!strcmp(h->fnd[i].id, id))
			return &h->fnd[i];
	return NULL;
}

static bool any_error(const struct h *h)
{
	for (int i = 0; i < h->n; i++)
		if (h->fnd[i].severity == DIAG_ERROR)
			return true;
	return false;
}

/* ---- one rule at a time ------------------------------------------------- */

static void test_refused_fires_with_its_connections(void **state)
{
	struct h h;
	(void)state;
	h_init(&h);
	clean(&h, 4, 40000, 0);		/* #1: unrelated, answered */
	refused(&h, 4, 40001, 10 * MS); /* #2 */
	refused(&h, 4, 40002, 20 * MS); /* #3 */
	findings(&h, NULL);
	/* answered on the same address before: the listener went away */
	const struct diag_finding *f = find(&h, "refused-after-listening");
	assert_non_null(f);
	assert_int_equal(f->severity, DIAG_ERROR);
	assert_int_equal(f->nprimary, 2);
	assert_int_equal(f->refs[0].id, 2);
	assert_int_equal(f->refs[1].id, 3);
	assert_int_equal(f->refs[2].id, 1); /* compared with the answered one */
	assert_null(find(&h, "unanswered"));
	assert_null(find(&h, "no-problem"));
	h_free(&h);
}

static void test_refused_cross_family(void **state)
{
	struct h h;
	(void)state;
	h_init(&h);
	refused(&h, 4, 40001, 0);     /* #1: 127.0.0.1 refused */
	clean(&h, 6, 40002, 10 * MS); /* #2: ::1 answered */
	findings(&h, NULL);
	const struct diag_finding *f = find(&h, "refused-other-family");
	assert_non_null(f);
	assert_int_equal(f->nprimary, 1);
	assert_int_equal(f->refs[0].id, 1);
	assert_int_equal(f->nrefs, 2);
	assert_int_equal(f->refs[1].id, 2);
	assert_int_equal(f->refs[1].family, 6);
	assert_int_equal(f->total, 2);
	h_free(&h);
}

static void test_refused_live_listener_other_family(void **state)
{
	struct h h;
	struct listener l;
	struct diag_context c;
	(void)state;
	h_init(&h);
	refused(&h, 4, 40001, 0);
	memset(&l, 0, sizeof(l));
	l.family = 6;
	l.addr[15] = 1; /* [::1]:61900 */
	l.port = SPORT;
	l.pid = -1;
	l.backlog = 128;
	memset(&c, 0, sizeof(c));
	c.live = 1;
	c.start = c.end = &l;
	c.nstart = c.nend = 1;
	findings(&h, &c);
	assert_non_null(find(&h, "refused-other-family"));
	assert_null(find(&h, "refused"));
	h_free(&h);
}

static void test_unanswered_and_half_open(void **state)
{
	struct h h;
	(void)state;
	h_init(&h);
	unanswered(&h, 4, 40001, 0, 3);	   /* #1 */
	half_open(&h, 4, 40002, 10 * SEC); /* #2 */
	findings(&h, NULL);
	const struct diag_finding *u = find(&h, "unanswered");
	const struct diag_finding *o = find(&h, "half-open");
	assert_non_null(u);
	assert_non_null(o);
	assert_int_equal(u->severity, DIAG_ERROR);
	assert_int_equal(u->total, 1);
	assert_int_equal(u->refs[0].id, 1);
	assert_non_null(strstr(u->text, "3 SYNs"));
	assert_int_equal(o->total, 1);
	assert_int_equal(o->refs[0].id, 2);
	assert_non_null(strstr(o->text, "re-sent it 1 time"));
	assert_null(find(&h, "no-problem"));
	h_free(&h);
}

static void test_resets_by_side(void **state)
{
	struct h h;
	(void)state;
	h_init(&h);
	reset_by(&h, 40001, S2C, 0, 0);	      /* #1: server, after data */
	reset_by(&h, 40002, C2S, 1, 10 * MS); /* #2: client, after its FIN */
	findings(&h, NULL);
	const struct diag_finding *s = find(&h, "reset-by-server");
	const struct diag_finding *c = find(&h, "reset-by-client");
	assert_non_null(s);
	assert_non_null(c);
	assert_int_equal(s->severity, DIAG_WARNING);
	assert_int_equal(s->refs[0].id, 1);
	assert_non_null(strstr(s->text, "The server sent a reset on 1 connection to"));
	assert_non_null(strstr(s->text, "after data was exchanged"));
	assert_non_null(strstr(s->next_step, "should say why it aborted"));
	/* a reset after a FIN only is harmless: info, and its own next step */
	assert_int_equal(c->severity, DIAG_INFO);
	assert_int_equal(c->refs[0].id, 2);
	assert_non_null(strstr(c->text, "The client aborted 1 connection to"));
	assert_non_null(strstr(c->text, "with a reset after a FIN."));
	assert_string_equal(c->next_step, "Nothing to do unless the client reports an error.");
	h_free(&h);
}

static void test_clean_only(void **state)
{
	struct h h;
	(void)state;
	h_init(&h);
	for (int i = 0; i < 500; i++)
		clean(&h, 4, (uint16_t)(40000 + i), (uint64_t)i * MS);
	findings(&h, NULL);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.fnd[0].id, "no-problem");
	assert_int_equal(h.fnd[0].total, 500);
	h_free(&h);
}

/* A full table evicts an open connection; its FIN comes back without a
 * SYN: that rest is not evidence of a mid-stream connection. */
static void test_evicted_rest_not_midstream(void **state)
{
	struct h h;
	(void)state;
	h_init(&h);
	for (uint32_t i = 0; i <= 1u << 14; i++) { /* one more than the table holds */
		uint16_t cp = (uint16_t)(20000 + i);
		seg(&h, 4, cp, C2S, SYN, 100, 0, (uint64_t)i * US);
		seg(&h, 4, cp, S2C, SYN | ACK, 500, 0, (uint64_t)i * US + 1);
		seg(&h, 4, cp, C2S, ACK, 101, 0, (uint64_t)i * US + 2);
	}
	seg(&h, 4, 20000, C2S, FIN | ACK, 101, 0, 1 * SEC); /* the evicted one's rest */
	findings(&h, NULL);
	assert_null(find(&h, "mid-stream"));
	h_free(&h);
}

static void test_midstream_is_info(void **state)
{
	struct h h;
	(void)state;
	h_init(&h);
	midstream(&h, 4, 40001, 0);
	findings(&h, NULL);
	const struct diag_finding *f = find(&h, "mid-stream");
	assert_non_null(f);
	assert_int_equal(f->severity, DIAG_INFO);
	assert_false(any_error(&h));
	h_free(&h);
}

static void test_refused_before_and_between(void **state)
{
	struct h h;
	(void)state;

	/* refused first, answered later: the server was not ready yet */
	h_init(&h);
	refused(&h, 4, 40001, 0);     /* #1 */
	clean(&h, 4, 40002, 1 * SEC); /* #2 */
	findings(&h, NULL);
	const struct diag_finding *f = find(&h, "refused-before-listening");
	assert_non_null(f);
	assert_int_equal(f->refs[0].id, 1);
	assert_int_equal(f->refs[1].id, 2);
	assert_null(find(&h, "refused-after-listening"));
	h_free(&h);

	/* answered, refused, answered: intermittent */
	h_init(&h);
	clean(&h, 4, 40001, 0);
	refused(&h, 4, 40002, 1 * SEC);
	clean(&h, 4, 40003, 2 * SEC);
	findings(&h, NULL);
	f = find(&h, "refused-intermittent");
	assert_non_null(f);
	assert_int_equal(f->nprimary, 1);
	assert_int_equal(f->total, 3);
	h_free(&h);
}

/* The kernel said NO_SOCKET for every reset: "nothing listens". */
static void test_refused_no_socket(void **state)
{
	struct h h;
	struct lt_obs o;
	struct facts fx;
	struct diag_context c;
	(void)state;
	h_init(&h);
	refused(&h, 4, 40001, 0);
	memset(&o, 0, sizeof(o));
	o.kind = LT_OBS_KERNEL;
	o.family = 4;
	o.ts_ns = T0 + 20 * US;
	o.pid = -1;
	o.kctx = LT_KCTX_RESET_REASON;
	snprintf(o.reason_name, sizeof(o.reason_name), "NO_SOCKET");
	set_addr(&o.src, 4, SPORT);
	set_addr(&o.dst, 4, 40001);
	flow_input(h.t, &o);
	memset(&c, 0, sizeof(c));
	c.kernel = 1;
	decide(&h, &c, &fx);
	const struct diag_fact *x = fact_of(&fx, DIAG_REFUSED);
	assert_non_null(x);
	assert_true(x->no_socket);
	assert_false(x->by_listeners);
	free(fx.v);
	h_free(&h);
}

static void test_reset_after_request(void **state)
{
	struct h h;
	(void)state;
	h_init(&h);
	seg(&h, 4, 40001, C2S, SYN, 100, 0, 0);
	seg(&h, 4, 40001, S2C, SYN | ACK, 500, 0, 40 * US);
	seg(&h, 4, 40001, C2S, ACK, 101, 0, 50 * US);
	seg(&h, 4, 40001, C2S, ACK | PSH, 101, 300, 60 * US);
	seg(&h, 4, 40001, S2C, RST | ACK, 501, 0, 200 * US);
	findings(&h, NULL);
	const struct diag_finding *f = find(&h, "reset-after-request");
	assert_non_null(f);
	assert_int_equal(f->severity, DIAG_ERROR);
	assert_non_null(strstr(f->text, "140us after the request"));
	assert_null(find(&h, "reset-by-server"));
	h_free(&h);
}

/* Retries that ended well are warnings, and nothing failed. */
static void test_retransmissions_then_fine(void **state)
{
	struct h h;
	(void)state;
	h_init(&h);
	/* #1: the SYN re-sent a second later, then answered */
	seg(&h, 4, 40001, C2S, SYN, 100, 0, 0);
	seg(&h, 4, 40001, C2S, SYN, 100, 0, 1 * SEC);
	seg(&h, 4, 40001, S2C, SYN | ACK, 500, 0, 1 * SEC + 40 * US);
	seg(&h, 4, 40001, C2S, ACK, 101, 0, 1 * SEC + 50 * US);
	seg(&h, 4, 40001, C2S, FIN | ACK, 101, 0, 1 * SEC + 60 * US);
	seg(&h, 4, 40001, S2C, FIN | ACK, 501, 0, 1 * SEC + 70 * US);
	/* #2: the SYN-ACK re-sent after the client's ACK (full accept queue) */
	seg(&h, 4, 40002, C2S, SYN, 100, 0, 2 * SEC);
	seg(&h, 4, 40002, S2C, SYN | ACK, 500, 0, 2 * SEC + 40 * US);
	seg(&h, 4, 40002, C2S, ACK, 101, 0, 2 * SEC + 50 * US);
	seg(&h, 4, 40002, S2C, SYN | ACK, 500, 0, 3 * SEC);
	seg(&h, 4, 40002, C2S, ACK, 101, 0, 3 * SEC + 10 * US);
	seg(&h, 4, 40002, C2S, FIN | ACK, 101, 0, 3 * SEC + 60 * US);
	seg(&h, 4, 40002, S2C, FIN | ACK, 501, 0, 3 * SEC + 70 * US);
	findings(&h, NULL);
	const struct diag_finding *s = find(&h, "syn-retransmitted");
	const struct diag_finding *a = find(&h, "synack-retransmitted");
	const struct diag_finding *ok = find(&h, "no-problem");
	assert_non_null(s);
	assert_non_null(a);
	assert_non_null(ok);
	assert_int_equal(s->refs[0].id, 1);
	assert_int_equal(s->total, 1);
	assert_int_equal(a->refs[0].id, 2);
	assert_non_null(strstr(a->text, "after the client's ACK was already in the capture"));
	assert_string_equal(ok->title,
			    "Nothing failed: every handshake completed, some only after retries");
	assert_false(any_error(&h));
	h_free(&h);
}

static void test_still_open(void **state)
{
	struct h h;
	(void)state;
	h_init(&h);
	seg(&h, 4, 40001, C2S, SYN, 100, 0, 0);
	seg(&h, 4, 40001, S2C, SYN | ACK, 500, 0, 40 * US);
	seg(&h, 4, 40001, C2S, ACK, 101, 0, 50 * US);
	seg(&h, 4, 40001, C2S, ACK | PSH, 101, 10, 60 * US);
	findings(&h, NULL);
	const struct diag_finding *f = find(&h, "still-open");
	assert_non_null(f);
	assert_int_equal(f->severity, DIAG_INFO);
	assert_non_null(strstr(f->text, "The server had not sent a byte on it yet."));
	/* an open connection is no failure: nothing else fires */
	assert_non_null(find(&h, "no-problem"));
	assert_false(any_error(&h));
	h_free(&h);
}

/* What the run says besides the connections. */
static void test_run_findings(void **state)
{
	struct h h;
	struct diag_context c;
	struct lt_source_stats ss;
	struct flow_counters fc;
	struct ports p;
	(void)state;

	h_init(&h);
	memset(&c, 0, sizeof(c));
	memset(&p, 0, sizeof(p));
	p.n = 1;
	p.list[0] = 80;
	c.watched = &p;
	findings(&h, &c);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.fnd[0].id, "no-connections");
	assert_string_equal(h.fnd[0].text, "No TCP connection to port 80 in the capture.");
	h_free(&h);

	h_init(&h);
	clean(&h, 4, 40001, 0);
	memset(&ss, 0, sizeof(ss));
	ss.dec.frames = 100;
	ss.dec.problems[DEC_TRUNCATED][0] = 3;
	snprintf(ss.read_error, sizeof(ss.read_error), "truncated record");
	memset(&fc, 0, sizeof(fc));
	fc.evicted = 2;
	fc.capacity = 16;
	memset(&c, 0, sizeof(c));
	c.src = &ss;
	c.flows = &fc;
	findings(&h, &c);
	assert_non_null(find(&h, "decode-problems"));
	assert_non_null(find(&h, "input-ended-early"));
	assert_null(find(&h, "events-lost"));
	/* doubts about the input do not stand against "nothing wrong" */
	const struct diag_finding *ok = find(&h, "no-problem");
	assert_non_null(ok);
	assert_non_null(strstr(ok->text, "warnings about the input"));
	h_free(&h);
}

/* ---- lost events (issue 9) ---------------------------------------------- */

/* A flood of clean connections, part of whose events were lost: those
 * look unanswered, half-open, open or mid-stream, and must not become
 * findings; events-lost comes first and names them. */
static void test_loss_is_no_diagnosis(void **state)
{
	struct h h;
	struct lt_source_stats ss;
	struct diag_context c;
	(void)state;
	h_init(&h);
	h.lost_lo = 50000;
	h.lost_hi = 50999;
	for (int i = 0; i < 2000; i++)
		clean(&h, 4, (uint16_t)(40000 + i), (uint64_t)i * MS);
	/* what lost SYN-ACKs, ACKs and SYNs leave of clean connections */
	for (int i = 0; i < 100; i++) {
		uint64_t ts = 3 * SEC + (uint64_t)i * MS;
		unanswered(&h, 4, (uint16_t)(50000 + i), ts, 1);
		half_open(&h, 4, (uint16_t)(50200 + i), ts);
		midstream(&h, 4, (uint16_t)(50400 + i), ts);
		refused(&h, 4, (uint16_t)(50600 + i), ts); /* an RST whose SYN-ACK was lost */
	}
	memset(&ss, 0, sizeof(ss));
	ss.lost = ss.lost_kernel = 12345;
	memset(&c, 0, sizeof(c));
	c.live = 1;
	c.kernel = 1;
	c.nstart = c.nend = -1; /* listeners unknown */
	c.src = &ss;
	findings(&h, &c);

	assert_string_equal(h.fnd[0].id, "events-lost");
	assert_int_equal(h.fnd[0].total, 400);
	assert_non_null(strstr(h.fnd[0].title, "12345 events lost"));
	assert_non_null(strstr(h.fnd[0].text, "400 connections were live while events were lost"));
	assert_non_null(strstr(h.fnd[0].text, "100 looked unanswered"));
	assert_non_null(strstr(h.fnd[0].text, "lower bounds"));
	for (int i = 0; i < h.n; i++) {
		assert_true(strncmp(h.fnd[i].id, "refused", 7));
		assert_string_not_equal(h.fnd[i].id, "unanswered");
		assert_string_not_equal(h.fnd[i].id, "half-open");
		assert_string_not_equal(h.fnd[i].id, "mid-stream");
		assert_string_not_equal(h.fnd[i].id, "still-open");
	}
	assert_false(any_error(&h));
	/* the clean ones still say so, with the doubt about the input */
	const struct diag_finding *ok = find(&h, "no-problem");
	assert_non_null(ok);
	assert_int_equal(ok->total, 2000);
	assert_non_null(strstr(ok->text, "All 2000 connections whose evidence is complete "
					 "completed the handshake and closed normally;"));
	assert_non_null(strstr(ok->text, "warnings about the input"));
	h_free(&h);
}

/* Loss comes first even above real errors, which still fire: with the
 * lost connections known, the others' evidence is intact. */
static void test_loss_first_above_errors(void **state)
{
	struct h h;
	struct lt_source_stats ss;
	struct diag_context c;
	(void)state;
	h_init(&h);
	h.lost_lo = 50000;
	h.lost_hi = 50000;
	unanswered(&h, 4, 40001, 0, 3); /* #1: a real one, evidence intact */
	unanswered(&h, 4, 50000, 0, 1); /* #2: live while events were lost */
	memset(&ss, 0, sizeof(ss));
	ss.lost = 7;
	memset(&c, 0, sizeof(c));
	c.src = &ss;
	findings(&h, &c);
	assert_string_equal(h.fnd[0].id, "events-lost");
	assert_int_equal(h.fnd[0].severity, DIAG_WARNING);
	assert_int_equal(h.fnd[0].total, 1);
	assert_int_equal(h.fnd[0].refs[0].id, 2);
	assert_string_equal(h.fnd[1].id, "unanswered");
	assert_int_equal(h.fnd[1].severity, DIAG_ERROR);
	assert_int_equal(h.fnd[1].total, 1);
	assert_int_equal(h.fnd[1].refs[0].id, 1);
	h_free(&h);
}

/* Loss the source could not attribute to connections: nothing a loss
 * could make up is a finding; events-lost names it; a seen RST still counts. */
static void test_unattributed_loss_doubt(void **state)
{
	struct h h;
	struct lt_source_stats ss;
	struct diag_context c;
	(void)state;
	h_init(&h);
	for (int i = 0; i < 100; i++)
		clean(&h, 4, (uint16_t)(40000 + i), (uint64_t)i * US * 200);
	for (int i = 0; i < 5; i++)
		unanswered(&h, 4, (uint16_t)(41000 + i), SEC, 1); /* #101..#105 */
	half_open(&h, 4, 42000, 2 * SEC);			  /* #106 */
	midstream(&h, 4, 42500, 2 * SEC);			  /* #107 */
	refused(&h, 6, 43000, 3 * SEC);				  /* #108 */
	memset(&ss, 0, sizeof(ss));
	ss.lost = 10;
	memset(&c, 0, sizeof(c));
	c.src = &ss;
	findings(&h, &c);
	const struct diag_finding *l = &h.fnd[0];
	assert_string_equal(l->id, "events-lost");
	assert_non_null(strstr(l->text, "connections that look unanswered (5), half-open (1), "
					"mid-stream (1) are not findings here"));
	assert_int_equal(l->total, 7);
	assert_int_equal(l->nrefs, 7);
	assert_int_equal(l->refs[0].id, 101);
	assert_int_equal(l->refs[6].id, 107);
	assert_null(find(&h, "unanswered"));
	assert_null(find(&h, "half-open"));
	assert_null(find(&h, "mid-stream"));
	/* ::1 refused while 127.0.0.1 answered: the RSTs were seen */
	const struct diag_finding *r = find(&h, "refused-other-family");
	assert_non_null(r);
	assert_int_equal(r->severity, DIAG_ERROR);
	assert_null(find(&h, "no-problem"));
	h_free(&h);
}

static void test_no_loss_no_finding(void **state)
{
	struct h h;
	struct lt_source_stats ss;
	struct diag_context c;
	(void)state;
	h_init(&h);
	clean(&h, 4, 40001, 0);
	memset(&ss, 0, sizeof(ss));
	memset(&c, 0, sizeof(c));
	c.src = &ss;
	findings(&h, &c);
	assert_null(find(&h, "events-lost"));
	h_free(&h);
}

/* ---- facts: what a rule decided, before any word ------------------------ */

static void test_fact_refused_live_cites_listener(void **state)
{
	struct h h;
	struct listener l[2];
	struct diag_context c;
	struct facts fx;
	(void)state;
	h_init(&h);
	refused(&h, 4, 40001, 0);
	memset(l, 0, sizeof(l));
	l[0].family = 4; /* 127.0.0.2:61900: another address, same family */
	l[0].addr[0] = 127;
	l[0].addr[3] = 2;
	l[0].port = SPORT;
	l[0].pid = -1;
	memset(&c, 0, sizeof(c));
	c.live = 1;
	c.start = c.end = l;
	c.nstart = c.nend = 1;
	decide(&h, &c, &fx);
	const struct diag_fact *x = fact_of(&fx, DIAG_REFUSED_OTHER_ADDRESS);
	assert_non_null(x);
	assert_true(x->by_listeners);
	assert_ptr_equal(x->listener, &l[0]);
	assert_null(x->l_start);
	assert_null(x->l_end);
	assert_int_equal(x->g->n, 1);
	assert_null(fact_of(&fx, DIAG_REFUSED_OTHER_FAMILY));
	free(fx.v);
	h_free(&h);
}

/* ---- the listener timeline (eBPF: listen() and close() with the process) */

/* (a finding's title is a char array: strstr on it through a pointer
 * GCC cannot follow trips -Wstringop-overread) */
static bool title_has(const struct diag_finding *f, const char *want)
{
	char t[sizeof(f->title)];
	snprintf(t, sizeof(t), "%s", f->title);
	return strstr(t, want) != NULL;
}

static void lev(struct listen_ev *e, uint8_t what, uint16_t port, uint64_t ts, int32_t pid)
{
	memset(e, 0, sizeof(*e));
	e->ts_ns = T0 + ts;
	e->what = what;
	e->l.family = 4;
	e->l.addr[0] = 127;
	e->l.addr[3] = 1;
	e->l.port = port;
	e->l.backlog = 128;
	e->l.pid = pid;
	snprintf(e->l.comm, sizeof(e->l.comm), "mcp-server");
	e->proc_start_ns = T0 + ts - 150 * MS;
}

static void live_ctx(struct diag_context *c, const struct listen_ev *v, int n)
{
	memset(c, 0, sizeof(*c));
	c->live = 1;
	c->kernel = 1;
	c->nstart = c->nend = 0; /* nothing listened at the start or the end */
	c->lev = v;
	c->nlev = n;
}

static void test_timeline_refused_before_listening(void **state)
{
	struct h h;
	struct listen_ev ev[2];
	struct diag_context c;
	struct facts fx;
	(void)state;

	/* refused at 1.2 s; the server listens at 2.05 s and answers later */
	h_init(&h);
	refused(&h, 4, 40001, 1200 * MS);
	clean(&h, 4, 40002, 2100 * MS);
	lev(&ev[0], LT_LISTEN_BEGAN, SPORT, 2050 * MS, 4242);
	live_ctx(&c, ev, 1);
	c.nend = 0;
	decide(&h, &c, &fx);
	const struct diag_fact *x = fact_of(&fx, DIAG_REFUSED_BEFORE_LISTENING);
	assert_non_null(x);
	assert_true(x->by_timeline);
	assert_ptr_equal(x->ev_after, &ev[0]);
	assert_null(x->ev_before);
	assert_int_equal(x->g->n, 1);
	free(fx.v);
	findings(&h, &c);
	const struct diag_finding *f = find(&h, "refused-before-listening");
	assert_non_null(f);
	assert_true(title_has(f, "Refused before the server started listening on "
				 "`127.0.0.1:61900` (by 850.00ms)"));
	assert_non_null(strstr(f->text, "`mcp-server` (pid 4242, started "));
	assert_non_null(strstr(f->text, "850.00ms later"));
	h_free(&h);

	/* does not fire: the listener was up before the refusal (that is a
	 * refusal while listening, not before), nor for another port */
	h_init(&h);
	refused(&h, 4, 40001, 1200 * MS);
	lev(&ev[0], LT_LISTEN_BEGAN, SPORT, 1000 * MS, 4242);
	lev(&ev[1], LT_LISTEN_BEGAN, SPORT + 1, 2000 * MS, 4243);
	live_ctx(&c, ev, 2);
	decide(&h, &c, &fx);
	for (int i = 0; i < fx.n; i++)
		assert_false(fx.v[i].by_timeline);
	assert_null(fact_of(&fx, DIAG_REFUSED_BEFORE_LISTENING));
	free(fx.v);
	h_free(&h);
}

static void test_timeline_refused_while_restarting(void **state)
{
	struct h h;
	struct listen_ev ev[3];
	struct diag_context c;
	struct facts fx;
	(void)state;

	/* up before the run's first connection, down at 1 s, refused twice,
	 * up again at 1.8 s */
	h_init(&h);
	clean(&h, 4, 40001, 500 * MS);
	refused(&h, 4, 40002, 1200 * MS);
	refused(&h, 4, 40003, 1500 * MS);
	clean(&h, 4, 40004, 2000 * MS);
	lev(&ev[0], LT_LISTEN_STOPPED, SPORT, 1000 * MS, 4242);
	lev(&ev[1], LT_LISTEN_BEGAN, SPORT, 1800 * MS, 4300);
	live_ctx(&c, ev, 2);
	decide(&h, &c, &fx);
	const struct diag_fact *x = fact_of(&fx, DIAG_REFUSED_WHILE_RESTARTING);
	assert_non_null(x);
	assert_true(x->by_timeline);
	assert_ptr_equal(x->ev_before, &ev[0]);
	assert_ptr_equal(x->ev_after, &ev[1]);
	assert_int_equal(x->g->n, 2);
	assert_null(fact_of(&fx, DIAG_REFUSED_INTERMITTENT));
	free(fx.v);
	findings(&h, &c);
	const struct diag_finding *f = find(&h, "refused-while-restarting");
	assert_non_null(f);
	assert_true(title_has(f, "was restarting (down from "));
	assert_non_null(strstr(f->text, "(pid 4300, started "));
	h_free(&h);

	/* does not fire: the listener came back between the two refusals */
	h_init(&h);
	refused(&h, 4, 40002, 1200 * MS);
	refused(&h, 4, 40003, 2500 * MS);
	lev(&ev[0], LT_LISTEN_STOPPED, SPORT, 1000 * MS, 4242);
	lev(&ev[1], LT_LISTEN_BEGAN, SPORT, 1800 * MS, 4300);
	lev(&ev[2], LT_LISTEN_STOPPED, SPORT, 2000 * MS, 4300);
	live_ctx(&c, ev, 3);
	decide(&h, &c, &fx);
	assert_null(fact_of(&fx, DIAG_REFUSED_WHILE_RESTARTING));
	free(fx.v);
	h_free(&h);
}

static void test_timeline_stopped_listening(void **state)
{
	struct h h;
	struct listen_ev ev[2];
	struct diag_context c;
	struct facts fx;
	(void)state;

	h_init(&h);
	clean(&h, 4, 40001, 500 * MS);
	refused(&h, 4, 40002, 1500 * MS);
	lev(&ev[0], LT_LISTEN_STOPPED, SPORT, 1000 * MS, 4242);
	live_ctx(&c, ev, 1);
	decide(&h, &c, &fx);
	const struct diag_fact *x = fact_of(&fx, DIAG_REFUSED_AFTER_LISTENING);
	assert_non_null(x);
	assert_true(x->by_timeline);
	assert_ptr_equal(x->ev_before, &ev[0]);
	assert_null(x->ev_after);
	free(fx.v);
	findings(&h, &c);
	const struct diag_finding *f = find(&h, "refused-after-listening");
	assert_non_null(f);
	assert_true(title_has(f, "Refused after the server stopped listening on "
				 "`127.0.0.1:61900` at "));
	h_free(&h);

	/* does not fire: it began listening again after the refusal (a
	 * restart), and a close on another address says nothing */
	h_init(&h);
	refused(&h, 4, 40002, 1500 * MS);
	lev(&ev[0], LT_LISTEN_STOPPED, SPORT, 1000 * MS, 4242);
	lev(&ev[1], LT_LISTEN_BEGAN, SPORT, 1600 * MS, 4242);
	live_ctx(&c, ev, 2);
	decide(&h, &c, &fx);
	assert_null(fact_of(&fx, DIAG_REFUSED_AFTER_LISTENING));
	assert_non_null(fact_of(&fx, DIAG_REFUSED_WHILE_RESTARTING));
	free(fx.v);
	h_free(&h);

	h_init(&h);
	refused(&h, 4, 40002, 1500 * MS);
	lev(&ev[0], LT_LISTEN_STOPPED, SPORT, 1000 * MS, 4242);
	ev[0].l.addr[3] = 2; /* 127.0.0.2 */
	live_ctx(&c, ev, 1);
	decide(&h, &c, &fx);
	assert_null(fact_of(&fx, DIAG_REFUSED_AFTER_LISTENING));
	free(fx.v);
	h_free(&h);
}

/* Without listener events (a capture, or libpcap live with nothing
 * listening at the start): the first SYN-ACK is the evidence. */
static void test_no_timeline_capture_style(void **state)
{
	struct h h;
	struct listener l;
	struct diag_context c;
	struct facts fx;
	(void)state;

	h_init(&h);
	refused(&h, 4, 40001, 1200 * MS);
	clean(&h, 4, 40002, 2100 * MS);
	memset(&l, 0, sizeof(l));
	l.family = 4;
	l.addr[0] = 127;
	l.addr[3] = 1;
	l.port = SPORT;
	l.pid = -1;
	memset(&c, 0, sizeof(c));
	c.live = 1; /* libpcap: listening at the end only */
	c.nstart = 0;
	c.end = &l;
	c.nend = 1;
	decide(&h, &c, &fx);
	const struct diag_fact *x = fact_of(&fx, DIAG_REFUSED_BEFORE_LISTENING);
	assert_non_null(x);
	assert_false(x->by_timeline);
	assert_false(x->by_listeners);
	assert_non_null(x->other);
	free(fx.v);
	findings(&h, &c);
	const struct diag_finding *f = find(&h, "refused-before-listening");
	assert_non_null(f);
	assert_non_null(strstr(f->text, "The first SYN-ACK was seen at "));
	assert_non_null(strstr(f->text, "that SYN-ACK is the only evidence of a listener"));
	assert_null(strstr(f->text, "pid"));
	h_free(&h);
}

static void test_fact_unanswered_causes(void **state)
{
	struct h h;
	struct listener l;
	struct diag_context c;
	struct facts fx;
	(void)state;

	/* every SYN dropped by netfilter: the firewall, whatever the queue */
	h_init(&h);
	unanswered(&h, 4, 40001, 0, 2);
	kernel_drop(&h, 40001, "NETFILTER_DROP", 10 * US);
	memset(&c, 0, sizeof(c));
	c.kernel = 1;
	decide(&h, &c, &fx);
	const struct diag_fact *x = fact_of(&fx, DIAG_UNANSWERED);
	assert_non_null(x);
	assert_int_equal(x->cause, DIAG_CAUSE_FIREWALL);
	assert_int_equal(x->g->nf, 1);
	free(fx.v);
	h_free(&h);

	/* no kernel reason, a live listener with more waiting than its
	 * backlog: the accept queue */
	h_init(&h);
	unanswered(&h, 4, 40001, 0, 2);
	memset(&l, 0, sizeof(l));
	l.family = 4; /* 0.0.0.0:61900 takes 127.0.0.1 */
	l.port = SPORT;
	l.pid = -1;
	l.backlog = 4;
	l.queued = 5;
	memset(&c, 0, sizeof(c));
	c.live = 1;
	c.start = c.end = &l;
	c.nstart = c.nend = 1;
	decide(&h, &c, &fx);
	x = fact_of(&fx, DIAG_UNANSWERED);
	assert_non_null(x);
	assert_int_equal(x->cause, DIAG_CAUSE_QUEUE_FULL);
	assert_true(x->queue_full);
	assert_ptr_equal(x->l_start, &l);
	assert_ptr_equal(x->l_end, &l);
	free(fx.v);
	h_free(&h);

	/* a capture cannot tell */
	h_init(&h);
	unanswered(&h, 4, 40001, 0, 2);
	memset(&c, 0, sizeof(c));
	decide(&h, &c, &fx);
	x = fact_of(&fx, DIAG_UNANSWERED);
	assert_non_null(x);
	assert_int_equal(x->cause, DIAG_CAUSE_UNKNOWN);
	assert_false(x->by_listeners);
	free(fx.v);
	h_free(&h);
}

static void test_fact_resets_and_silence(void **state)
{
	struct h h;
	struct facts fx;
	struct diag_context c;
	(void)state;
	h_init(&h);
	reset_by(&h, 40001, S2C, 0, 0);
	/* the client closes, the server never says a word */
	seg(&h, 4, 40002, C2S, SYN, 100, 0, 10 * MS);
	seg(&h, 4, 40002, S2C, SYN | ACK, 500, 0, 10 * MS + 40 * US);
	seg(&h, 4, 40002, C2S, ACK, 101, 0, 10 * MS + 50 * US);
	seg(&h, 4, 40002, C2S, FIN | ACK, 101, 0, 10 * MS + 60 * US);
	memset(&c, 0, sizeof(c));
	decide(&h, &c, &fx);
	const struct diag_fact *r = fact_of(&fx, DIAG_RESET_BY_SERVER);
	assert_non_null(r);
	assert_int_equal(r->severity, DIAG_WARNING);
	assert_int_equal(r->phase, LT_RST_AFTER_DATA);
	assert_null(fact_of(&fx, DIAG_RESET_BY_CLIENT));
	const struct diag_fact *s = fact_of(&fx, DIAG_SERVER_SILENT);
	assert_non_null(s);
	assert_int_equal(s->g->silent, 1);
	assert_null(fact_of(&fx, DIAG_HALF_CLOSED));
	assert_null(fact_of(&fx, DIAG_NO_PROBLEM));
	free(fx.v);
	h_free(&h);
}

/* Beyond ten addresses of one kind, one fact lists the rest. */
static void test_fact_more_addresses(void **state)
{
	struct h h;
	struct facts fx;
	struct diag_context c;
	struct lt_obs o;
	int refused_facts = 0;
	(void)state;
	h_init(&h);
	for (int i = 0; i < 14; i++) {
		/* refused on 127.0.0.(10+i) */
		memset(&o, 0, sizeof(o));
		o.kind = LT_OBS_SEGMENT;
		o.family = 4;
		o.pid = -1;
		set_addr(&o.src, 4, (uint16_t)(40000 + i));
		set_addr(&o.dst, 4, SPORT);
		o.dst.addr[3] = (uint8_t)(10 + i);
		o.ts_ns = T0 + (uint64_t)i * MS;
		o.tcp_flags = SYN;
		o.seq = 100;
		flow_input(h.t, &o);
		struct lt_endpoint tmp = o.src;
		o.src = o.dst;
		o.dst = tmp;
		o.tcp_flags = RST | ACK;
		o.ts_ns += 10 * US;
		flow_input(h.t, &o);
	}
	memset(&c, 0, sizeof(c));
	decide(&h, &c, &fx);
	for (int i = 0; i < fx.n; i++)
		if (fx.v[i].id == DIAG_REFUSED) {
			refused_facts++;
			if (fx.v[i].more) {
				assert_null(fx.v[i].g);
				assert_int_equal(fx.v[i].nmore, 4);
				assert_int_equal(fx.v[i].more[0]->server.addr[3], 20);
			}
		}
	assert_int_equal(refused_facts, 11);
	free(fx.v);
	h_free(&h);
}

/* ---- the listener rules ------------------------------------------------- */

static void test_listener_takes(void **state)
{
	static const uint8_t lo4[16] = { 127, 0, 0, 1 }, lo4b[16] = { 127, 0, 0, 2 };
	static const uint8_t lo6[16] = { [15] = 1 };
	struct listener l;
	(void)state;

	memset(&l, 0, sizeof(l));
	l.family = 6;
	l.port = 80; /* [::]:80, dual stack */
	assert_true(listener_takes(&l, 4, lo4, 80));
	assert_true(listener_takes(&l, 6, lo6, 80));
	assert_false(listener_takes(&l, 4, lo4, 81));
	l.v6only = 1;
	assert_false(listener_takes(&l, 4, lo4, 80));
	assert_true(listener_takes(&l, 6, lo6, 80));

	memset(&l, 0, sizeof(l));
	l.family = 4;
	l.port = 80;
	memcpy(l.addr, lo4b, 4); /* 127.0.0.2:80 */
	assert_false(listener_takes(&l, 4, lo4, 80));
	assert_true(listener_takes(&l, 4, lo4b, 80));
	assert_false(listener_takes(&l, 6, lo6, 80));
	memset(l.addr, 0, 16); /* 0.0.0.0:80 */
	assert_true(listener_takes(&l, 4, lo4, 80));
	assert_false(listener_takes(&l, 6, lo6, 80));

	assert_true(lt_cross_family(4, lo4, 6, lo6));
	assert_false(lt_cross_family(4, lo4, 4, lo4b));
}

/* One formatter, every style lotrace writes a listener in. */
static void test_listener_format(void **state)
{
	struct listener l;
	struct sbuf b;
	(void)state;

	memset(&l, 0, sizeof(l));
	l.family = 6;
	l.addr[15] = 1;
	l.port = 61903;
	l.v6only = 1;
	l.pid = 812;
	snprintf(l.comm, sizeof(l.comm), "python3");
	l.backlog = 128;
	l.queued = 3;
	sbuf_init(&b, 1024);
	listener_format(&b, &l, LISTENER_ENDPOINT, true);
	assert_string_equal(sbuf_str(&b), "`[::1]:61903`");
	sbuf_reset(&b);
	listener_format(&b, &l, LISTENER_CELL, true);
	assert_string_equal(sbuf_str(&b), "`[::1]:61903` (IPv6 only)");
	sbuf_reset(&b);
	listener_format(&b, &l, LISTENER_NOTE, false);
	assert_string_equal(sbuf_str(&b),
			    "[::1]:61903 python3[812] (IPv6 only) backlog 128 queued 3");
	sbuf_reset(&b);
	listener_format(&b, &l, LISTENER_BRIEF, false);
	assert_string_equal(sbuf_str(&b), "[::1]:61903 python3[812] (3/128 queued)");
	sbuf_reset(&b);
	listener_format(&b, &l, LISTENER_PROSE, true);
	assert_string_equal(sbuf_str(&b), "`[::1]:61903` (IPv6 only, `python3` pid 812, 3 waiting "
					  "for accept(), backlog 128)");
	/* dual stack, owner unknown */
	memset(&l, 0, sizeof(l));
	l.family = 6;
	l.port = 80;
	l.pid = -1;
	sbuf_reset(&b);
	listener_format(&b, &l, LISTENER_NOTE, false);
	assert_string_equal(sbuf_str(&b), "[::]:80 (IPv6 and IPv4) backlog 0 queued 0");
	sbuf_release(&b);
}

/* The schedules measured on Linux 6.18 with an nft drop in a netns:
 * tcp_syn_retries 2 / linear 4: SYNs at 0,1,2,3,4,5 s, ETIMEDOUT at 7.16 s;
 * 4 / 4: 0,1,2,3,4,5,7,11,19 s, ETIMEDOUT at 35.6 s; and the classic
 * 6 without linear timeouts: 1,3,7,15,31,63 s, ETIMEDOUT at 127 s. */

/* ---- network namespaces --------------------------------------------------- */

static const struct lt_netns ns_host = { .ino = 4026531840u, .name = "host" };
static const struct lt_netns ns_cli = { .ino = 4026532001u, .name = "lt-cli" };
static const struct lt_netns ns_box = { .ino = 4026532002u, .container = "docker:3f2a9c1b7e4d" };

/* a listener on 127.0.0.1:SPORT, owned by "srv" pid 4242 */
static void lo_listener(struct listener *l)
{
	memset(l, 0, sizeof(*l));
	l->family = 4;
	l->addr[0] = 127;
	l->addr[3] = 1;
	l->port = SPORT;
	l->pid = 4242;
	snprintf(l->comm, sizeof(l->comm), "srv");
	l->backlog = 128;
}

static void ns_ctx(struct diag_context *c, const struct listener *l, int n)
{
	memset(c, 0, sizeof(*c));
	c->live = 1;
	c->start = c->end = l;
	c->nstart = c->nend = n;
	c->netns_self = ns_host.ino;
	c->netns_self_host = true;
}

/* A client in another namespace refused; lotrace's (the host's)
 * listener takes the address: the namespace is the cause, not "nothing
 * listens", and not "refused while listening". */
static void test_netns_client_in_namespace(void **state)
{
	struct h h;
	struct listener l;
	struct diag_context c;
	(void)state;
	h_init(&h);
	h.ns = &ns_cli;
	refused(&h, 4, 40001, 0);      /* #1 */
	refused(&h, 4, 40002, 5 * MS); /* #2 */
	lo_listener(&l);
	ns_ctx(&c, &l, 1);
	findings(&h, &c);
	const struct diag_finding *f = find(&h, "refused-other-netns");
	assert_non_null(f);
	assert_int_equal(f->severity, DIAG_ERROR);
	assert_int_equal(f->nprimary, 2);
	assert_int_equal(f->refs[0].id, 1);
	assert_non_null(strstr(f->title, "namespace `lt-cli`"));
	assert_non_null(strstr(f->title, "`127.0.0.1:61900` is served in the host namespace"));
	assert_non_null(strstr(f->title, "`srv` pid 4242"));
	assert_non_null(
		strstr(f->text, "The client in namespace `lt-cli` dialed `127.0.0.1:61900`"));
	assert_non_null(strstr(f->text, "Nothing listens on that address in namespace `lt-cli`"));
	assert_null(find(&h, "refused"));
	assert_null(find(&h, "refused-while-listening"));
	assert_string_equal(h.fnd[0].id, "refused-other-netns"); /* it leads */
	h_free(&h);
}

/* The reverse: the host's client refused, nothing listens in the host
 * namespace, and a container answered on the same address. */
static void test_netns_server_in_container(void **state)
{
	struct h h;
	struct diag_context c;
	(void)state;
	h_init(&h);
	h.ns = &ns_box;
	h.srv_pid = 777;
	clean(&h, 4, 40001, 0); /* #1: inside the container, answered */
	h.ns = &ns_host;
	h.srv_pid = 0;
	refused(&h, 4, 40002, 10 * MS); /* #2: the host's client */
	ns_ctx(&c, NULL, 0);
	findings(&h, &c);
	const struct diag_finding *f = find(&h, "refused-other-netns");
	assert_non_null(f);
	assert_int_equal(f->nprimary, 1);
	assert_int_equal(f->refs[0].id, 2);
	assert_int_equal(f->nrefs, 2); /* compared with the answered one */
	assert_int_equal(f->refs[1].id, 1);
	assert_non_null(strstr(f->title, "Refused in the host namespace"));
	assert_non_null(
		strstr(f->title, "container `docker:3f2a9c1b7e4d` (namespace `netns:4026532002`)"));
	assert_non_null(strstr(f->title, "`srv` pid 777"));
	assert_null(find(&h, "refused"));
	assert_null(find(&h, "refused-before-listening"));
	h_free(&h);
}

/* Not a namespace matter: the refused namespace itself answered on that
 * address during the run, or (lotrace's namespace) a listener takes it. */
static void test_netns_same_namespace_no_finding(void **state)
{
	struct h h;
	struct listener l;
	struct diag_context c;
	(void)state;
	h_init(&h);
	h.ns = &ns_cli;
	refused(&h, 4, 40001, 0);     /* #1 */
	clean(&h, 4, 40002, 1 * SEC); /* #2: answered in lt-cli later */
	h.ns = &ns_host;
	clean(&h, 4, 40003, 2 * SEC); /* #3: and in the host */
	lo_listener(&l);
	ns_ctx(&c, &l, 1);
	findings(&h, &c);
	assert_null(find(&h, "refused-other-netns"));
	assert_non_null(find(&h, "refused-before-listening"));
	h_free(&h);

	/* the host's client refused while the host listener takes it, a
	 * container answering the same address changes nothing */
	h_init(&h);
	h.ns = &ns_box;
	clean(&h, 4, 40001, 0);
	h.ns = &ns_host;
	refused(&h, 4, 40002, 10 * MS);
	findings(&h, &c);
	assert_null(find(&h, "refused-other-netns"));
	assert_non_null(find(&h, "refused-while-listening"));
	h_free(&h);
}

/* A capture has no namespaces: the same connections (answered and
 * refused on one address) are one loopback's story, never this finding. */
static void test_netns_capture_no_finding(void **state)
{
	struct h h;
	(void)state;
	h_init(&h);
	clean(&h, 4, 40001, 0);
	refused(&h, 4, 40002, 10 * MS);
	findings(&h, NULL);
	assert_null(find(&h, "refused-other-netns"));
	assert_non_null(find(&h, "refused-after-listening"));
	h_free(&h);
}


/* The host's client refused; nothing answered in the host namespace and
 * no connection reached the container, but the timeline saw its server
 * call listen() there before: the container's loopback is the cause. A
 * listen() in the refused namespace itself is the timeline rules' case. */
static void test_netns_listen_in_container(void **state)
{
	struct h h;
	struct listen_ev ev[2];
	struct diag_context c;
	(void)state;
	h_init(&h);
	h.ns = &ns_host;
	refused(&h, 4, 40001, 2 * SEC); /* #1 */
	lev(&ev[0], LT_LISTEN_BEGAN, SPORT, 1 * SEC, 777);
	ev[0].netns = ns_box.ino;
	ev[0].ns = &ns_box;
	ns_ctx(&c, NULL, 0);
	c.lev = ev;
	c.nlev = 1;
	findings(&h, &c);
	const struct diag_finding *f = find(&h, "refused-other-netns");
	assert_non_null(f);
	assert_true(title_has(f,
			      "Refused in the host namespace: `127.0.0.1:61900` is served in "
			      "container `docker:3f2a9c1b7e4d` (namespace `netns:4026532002`) by "
			      "`mcp-server` pid 777"));
	assert_non_null(strstr(f->text, "began listening for it before the refusals: `mcp-server` "
					"(pid 777"));
	assert_int_equal(f->nprimary, 1);
	h_free(&h);

	/* it stopped before the refusal: not served there then */
	h_init(&h);
	h.ns = &ns_host;
	refused(&h, 4, 40001, 2 * SEC);
	lev(&ev[1], LT_LISTEN_STOPPED, SPORT, 1500 * MS, 777);
	ev[1].netns = ns_box.ino;
	c.nlev = 2;
	findings(&h, &c);
	assert_null(find(&h, "refused-other-netns"));
	h_free(&h);

	/* the listen() was in the host namespace itself, after the refusal */
	h_init(&h);
	h.ns = &ns_host;
	refused(&h, 4, 40001, 2 * SEC);
	lev(&ev[0], LT_LISTEN_BEGAN, SPORT, 3 * SEC, 777);
	ev[0].netns = ns_host.ino;
	c.nlev = 1;
	findings(&h, &c);
	assert_null(find(&h, "refused-other-netns"));
	assert_non_null(find(&h, "refused-before-listening"));
	h_free(&h);
}

static void test_syn_schedule(void **state)
{
	(void)state;
	struct diag_syn_schedule s;
	static const uint64_t r2[] = { 1000, 2000, 3000, 4000, 5000 };
	static const uint64_t r4[] = { 1000, 2000, 3000, 4000, 5000, 7000, 11000, 19000 };
	static const uint64_t r6[] = { 1000, 3000, 7000, 15000, 31000, 63000 };

	diag_syn_schedule(2, 4, &s);
	assert_int_equal(s.n, 5);
	assert_memory_equal(s.resend_ms, r2, sizeof(r2));
	assert_int_equal(s.give_up_ms, 7000);
	diag_syn_schedule(4, 4, &s);
	assert_int_equal(s.n, 8);
	assert_memory_equal(s.resend_ms, r4, sizeof(r4));
	assert_int_equal(s.give_up_ms, 35000);
	diag_syn_schedule(6, -1, &s);
	assert_int_equal(s.n, 6);
	assert_memory_equal(s.resend_ms, r6, sizeof(r6));
	assert_int_equal(s.give_up_ms, 127000);
	/* this machine's defaults (6, 4): 10 re-sent SYNs, ETIMEDOUT at 131 s */
	diag_syn_schedule(6, 4, &s);
	assert_int_equal(s.n, 10);
	assert_int_equal(s.resend_ms[9], 67000);
	assert_int_equal(s.give_up_ms, 131000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syn_schedule),
		cmocka_unit_test(test_refused_fires_with_its_connections),
		cmocka_unit_test(test_refused_cross_family),
		cmocka_unit_test(test_refused_live_listener_other_family),
		cmocka_unit_test(test_unanswered_and_half_open),
		cmocka_unit_test(test_resets_by_side),
		cmocka_unit_test(test_clean_only),
		cmocka_unit_test(test_midstream_is_info),
		cmocka_unit_test(test_evicted_rest_not_midstream),
		cmocka_unit_test(test_refused_before_and_between),
		cmocka_unit_test(test_refused_no_socket),
		cmocka_unit_test(test_reset_after_request),
		cmocka_unit_test(test_retransmissions_then_fine),
		cmocka_unit_test(test_still_open),
		cmocka_unit_test(test_run_findings),
		cmocka_unit_test(test_loss_is_no_diagnosis),
		cmocka_unit_test(test_loss_first_above_errors),
		cmocka_unit_test(test_unattributed_loss_doubt),
		cmocka_unit_test(test_no_loss_no_finding),
		cmocka_unit_test(test_fact_refused_live_cites_listener),
		cmocka_unit_test(test_timeline_refused_before_listening),
		cmocka_unit_test(test_timeline_refused_while_restarting),
		cmocka_unit_test(test_timeline_stopped_listening),
		cmocka_unit_test(test_no_timeline_capture_style),
		cmocka_unit_test(test_fact_unanswered_causes),
		cmocka_unit_test(test_fact_resets_and_silence),
		cmocka_unit_test(test_fact_more_addresses),
		cmocka_unit_test(test_listener_takes),
		cmocka_unit_test(test_listener_format),
		cmocka_unit_test(test_netns_client_in_namespace),
		cmocka_unit_test(test_netns_server_in_container),
		cmocka_unit_test(test_netns_same_namespace_no_finding),
		cmocka_unit_test(test_netns_capture_no_finding),
		cmocka_unit_test(test_netns_listen_in_container),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
