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
#include <string.h>
#include <cmocka.h>

#include "diagnose.h"
#include "flow.h"
#include "listeners.h"
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

static void seg(struct h *h, uint8_t family, uint16_t cport, int dir, uint8_t flags,
		uint32_t seq, uint32_t len, uint64_t ts)
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
	clean(&h, 4, 40000, 0);                 /* #1: unrelated, answered */
	refused(&h, 4, 40001, 10 * MS);         /* #2 */
	refused(&h, 4, 40002, 20 * MS);         /* #3 */
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
	refused(&h, 4, 40001, 0);               /* #1: 127.0.0.1 refused */
	clean(&h, 6, 40002, 10 * MS);           /* #2: ::1 answered */
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
	unanswered(&h, 4, 40001, 0, 3);         /* #1 */
	half_open(&h, 4, 40002, 10 * SEC);      /* #2 */
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
	reset_by(&h, 40001, S2C, 0, 0);         /* #1: server, after data */
	reset_by(&h, 40002, C2S, 1, 10 * MS);   /* #2: client, after its FIN */
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
	assert_non_null(strstr(ok->text, "warnings about the input"));
	h_free(&h);
}

/* Loss comes first even above real errors, which still fire. */
static void test_loss_first_above_errors(void **state)
{
	struct h h;
	struct lt_source_stats ss;
	struct diag_context c;
	(void)state;
	h_init(&h);
	unanswered(&h, 4, 40001, 0, 3);         /* a real one, evidence intact */
	memset(&ss, 0, sizeof(ss));
	ss.lost = 7;
	memset(&c, 0, sizeof(c));
	c.src = &ss;
	findings(&h, &c);
	assert_string_equal(h.fnd[0].id, "events-lost");
	assert_int_equal(h.fnd[0].severity, DIAG_WARNING);
	assert_int_equal(h.fnd[0].total, 0);
	assert_string_equal(h.fnd[1].id, "unanswered");
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused_fires_with_its_connections),
		cmocka_unit_test(test_refused_cross_family),
		cmocka_unit_test(test_refused_live_listener_other_family),
		cmocka_unit_test(test_unanswered_and_half_open),
		cmocka_unit_test(test_resets_by_side),
		cmocka_unit_test(test_clean_only),
		cmocka_unit_test(test_midstream_is_info),
		cmocka_unit_test(test_loss_is_no_diagnosis),
		cmocka_unit_test(test_loss_first_above_errors),
		cmocka_unit_test(test_no_loss_no_finding),
		cmocka_unit_test(test_listener_takes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
