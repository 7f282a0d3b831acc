/* SPDX-License-Identifier: MIT */
/*
 * test_verdict.c - verdict.h on flows built by the real table: the
 * outcome of a mid-stream connection, the verdict column, the plain
 * explanation, and anomaly names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "flow.h"
#include "sbuf.h"
#include "verdict.h"

#define US 1000ull
#define SEC 1000000000ull
#define T0 (1700000000ull * SEC)

enum { C2S, S2C };

struct rec {
	int n;
	struct flow f[8];
};

static void on_retire(void *ctx, const struct flow *f, enum lt_retire_why why)
{
	struct rec *r = ctx;
	(void)why;
	if (r->n < 8)
		r->f[r->n++] = *f;
}

static struct flow_tab *new_tab(struct rec *r)
{
	struct flow_config cfg = { .max_flows = 16 };
	struct flow_hooks hooks = { .on_retire = on_retire, .ctx = r };
	memset(r, 0, sizeof(*r));
	return flow_tab_new(&cfg, &hooks);
}

static void seg(struct flow_tab *t, int dir, uint8_t flags, uint32_t seq, uint32_t len, uint64_t ts)
{
	struct lt_obs o;
	struct lt_endpoint c = { { 127, 0, 0, 1 }, 40000 };
	struct lt_endpoint s = { { 127, 0, 0, 1 }, 61900 };

	memset(&o, 0, sizeof(o));
	o.kind = LT_OBS_SEGMENT;
	o.family = 4;
	o.ts_ns = T0 + ts;
	o.tcp_flags = flags;
	o.seq = seq;
	o.payload_len = len;
	o.pid = -1;
	o.src = dir == C2S ? c : s;
	o.dst = dir == C2S ? s : c;
	flow_input(t, &o);
}

/* A connection seen from its middle: mid-stream, and how it ended. */
static void test_midstream_outcome(void **state)
{
	struct rec r;
	struct flow_tab *t = new_tab(&r);
	struct sbuf b;
	(void)state;

	seg(t, C2S, LT_TCP_ACK | LT_TCP_PSH, 1000, 10, 0);
	seg(t, S2C, LT_TCP_FIN | LT_TCP_ACK, 2000, 0, 10 * US);
	seg(t, C2S, LT_TCP_FIN | LT_TCP_ACK, 1010, 0, 20 * US);
	flow_flush(t);
	assert_int_equal(r.n, 1);
	enum lt_verdict v = flow_verdict(&r.f[0], r.f[0].t_last, true, SEC);
	assert_int_equal(v, LT_V_MIDSTREAM);
	assert_int_equal(flow_outcome(&r.f[0]), LT_V_CLOSED);
	sbuf_init(&b, 1024);
	verdict_text(&b, &r.f[0], v);
	assert_string_equal(sbuf_str(&b), "mid-stream, closed");
	sbuf_reset(&b);
	verdict_explain(&b, &r.f[0], v, NULL);
	assert_non_null(strstr(sbuf_str(&b), "what followed: closed."));
	sbuf_release(&b);
	flow_tab_free(t);
}

static void test_refused_explained(void **state)
{
	struct rec r;
	struct flow_tab *t = new_tab(&r);
	struct verdict_explain_ctx x;
	struct sbuf b;
	(void)state;

	seg(t, C2S, LT_TCP_SYN, 100, 0, 0);
	seg(t, S2C, LT_TCP_RST | LT_TCP_ACK, 0, 0, 15 * US);
	flow_flush(t);
	struct flow *f = &r.f[0];
	assert_int_equal(flow_verdict(f, f->t_last, true, SEC), LT_V_REFUSED);
	sbuf_init(&b, 4096);
	verdict_explain(&b, f, LT_V_REFUSED, NULL);
	assert_non_null(strstr(sbuf_str(&b), "nothing listens on 127.0.0.1:61900"));
	assert_null(strstr(sbuf_str(&b), "Yet connections"));

	memset(&x, 0, sizeof(x));
	x.other_id = 7;
	x.other_family = 6;
	x.other_server.addr[15] = 1;
	x.other_server.port = 61900;
	sbuf_reset(&b);
	verdict_explain(&b, f, LT_V_REFUSED, &x);
	assert_non_null(strstr(sbuf_str(&b), "Yet connections to [::1]:61900 succeed (connection "
					     "#7): the server listens on IPv6 only"));

	/* lost events: the explanation says the verdict may be wrong */
	f->anomalies |= LT_A_EVENTS_LOST;
	sbuf_reset(&b);
	verdict_explain(&b, f, LT_V_REFUSED, NULL);
	assert_non_null(strstr(sbuf_str(&b), "lost events while this connection was live"));
	sbuf_release(&b);
	flow_tab_free(t);
}

static void test_anomaly_names(void **state)
{
	(void)state;
	assert_string_equal(lt_anomaly_name(LT_A_EVENTS_LOST), "events-lost");
	assert_string_equal(lt_anomaly_name(LT_A_LISTEN_OVERFLOW), "accept-queue-overflow");
	assert_string_equal(lt_anomaly_name(LT_A_SYN_NOT_SEEN), "syn-not-seen");
	assert_null(lt_anomaly_name(0));
	assert_null(lt_anomaly_name(LT_A_SYN_NOT_SEEN | LT_A_EVICTED));
	/* every bit that has a name has a distinct one */
	for (int i = 0; i < 32; i++)
		for (int j = i + 1; j < 32; j++) {
			const char *a = lt_anomaly_name(1u << i), *b = lt_anomaly_name(1u << j);
			if (a && b)
				assert_string_not_equal(a, b);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_midstream_outcome),
		cmocka_unit_test(test_refused_explained),
		cmocka_unit_test(test_anomaly_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
