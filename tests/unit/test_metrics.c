/* SPDX-License-Identifier: MIT */
/*
 * test_metrics.c - metrics.h: the label bounds (32 server ports and then
 * "other"; the watched ports only; 16 reason names and then "other"),
 * label escaping, the histogram's cumulative buckets, and that every
 * line of the exposition is a comment or `name{labels} value`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "metrics.h"
#include "sbuf.h"

#define US 1000ull
#define T0 (1700000000ull * 1000000000ull)

/* A connection to port answered after synack_us (0: refused by RST). */
static struct flow conn(uint16_t port, uint64_t synack_us)
{
	struct flow f;
	memset(&f, 0, sizeof(f));
	f.family = 4;
	f.server.port = port;
	f.client.port = 40000;
	f.side[LT_DIR_C2S].syn_count = 1;
	f.side[LT_DIR_C2S].t_syn_first = T0;
	if (synack_us) {
		f.side[LT_DIR_S2C].syn_count = 1;
		f.side[LT_DIR_S2C].t_syn_first = T0 + synack_us * US;
	}
	return f;
}

static void text(const struct metrics *m, struct sbuf *b)
{
	sbuf_init(b, 1u << 22);
	metrics_text(m, b);
	assert_false(b->toobig);
}

static int has(const struct sbuf *b, const char *line)
{
	char want[512];
	snprintf(want, sizeof(want), "\n%s\n", line);
	return strstr(sbuf_str(b), want) != NULL;
}

static void test_port_bound_and_other(void **state)
{
	struct metrics *m = metrics_new(NULL, "1.2.3", "pcap");
	struct sbuf b;
	(void)state;
	for (int p = 0; p < 40; p++) {
		struct flow f = conn((uint16_t)(50000 + p), 30);
		metrics_retire(m, &f, LT_V_CLOSED);
	}
	text(m, &b);
	assert_true(has(
		&b,
		"lotrace_connections_total{port=\"50031\",family=\"ipv4\",verdict=\"closed\"} 1"));
	assert_false(strstr(sbuf_str(&b), "port=\"50032\""));
	assert_true(has(
		&b,
		"lotrace_connections_total{port=\"other\",family=\"ipv4\",verdict=\"closed\"} 8"));
	/* 30 us: not in the 25 us bucket, in the 50 us one; +Inf is the count */
	assert_true(has(
		&b, "lotrace_handshake_duration_seconds_bucket{port=\"other\",le=\"2.5e-05\"} 0"));
	assert_true(has(
		&b, "lotrace_handshake_duration_seconds_bucket{port=\"other\",le=\"5e-05\"} 8"));
	assert_true(
		has(&b, "lotrace_handshake_duration_seconds_bucket{port=\"other\",le=\"+Inf\"} 8"));
	assert_true(has(&b, "lotrace_handshake_duration_seconds_sum{port=\"other\"} 0.000240000"));
	assert_true(has(&b, "lotrace_build_info{version=\"1.2.3\",backend=\"pcap\"} 1"));
	sbuf_release(&b);
	metrics_free(m);
}

static void test_watched_ports_only(void **state)
{
	struct ports w = { 0 };
	char err[128];
	struct sbuf b;
	(void)state;
	assert_int_equal(ports_add(&w, "61900,61901", err, sizeof(err)), 0);
	struct metrics *m = metrics_new(&w, "1", "ebpf");
	struct flow f = conn(61901, 0);
	metrics_retire(m, &f, LT_V_REFUSED);
	text(m, &b);
	/* a watched port with no traffic has its zero series */
	assert_true(has(
		&b,
		"lotrace_connections_total{port=\"61900\",family=\"ipv6\",verdict=\"refused\"} 0"));
	assert_true(has(
		&b,
		"lotrace_connections_total{port=\"61901\",family=\"ipv4\",verdict=\"refused\"} 1"));
	assert_false(strstr(sbuf_str(&b), "verdict=\"connecting\""));
	assert_false(strstr(sbuf_str(&b), "port=\"other\""));
	uint16_t ports[8];
	assert_int_equal(metrics_ports(m, ports, 8), 2);
	sbuf_release(&b);
	metrics_free(m);
}

static void test_reasons_bounded_and_escaped(void **state)
{
	struct metrics *m = metrics_new(NULL, "1", "ebpf");
	struct sbuf b;
	(void)state;
	for (int i = 0; i < 20; i++) {
		struct flow f = conn(61900, 20);
		snprintf(f.reset_reason, sizeof(f.reset_reason), "R%d", i);
		metrics_retire(m, &f, LT_V_RESET_SERVER);
	}
	struct flow f = conn(61900, 20);
	snprintf(f.drop_reason, sizeof(f.drop_reason), "A\"B\\C");
	f.drops = 3;
	metrics_retire(m, &f, LT_V_CLOSED);
	text(m, &b);
	assert_true(
		has(&b, "lotrace_resets_total{port=\"61900\",side=\"server\",reason=\"R15\"} 1"));
	assert_false(strstr(sbuf_str(&b), "reason=\"R16\""));
	assert_true(
		has(&b, "lotrace_resets_total{port=\"61900\",side=\"server\",reason=\"other\"} 4"));
	assert_true(has(&b, "lotrace_kernel_drops_total{port=\"61900\",reason=\"A\\\"B\\\\C\"} 3"));
	sbuf_release(&b);
	metrics_free(m);
}

static void test_every_line_well_formed(void **state)
{
	struct metrics *m = metrics_new(NULL, "1", "ebpf");
	struct metrics_gauges g = { .events_lost = 7, .flows_evicted = 2, .flows_active = 5 };
	struct listener l[2];
	struct sbuf b;
	(void)state;
	struct flow f = conn(61900, 20);
	metrics_retire(m, &f, LT_V_CLOSED);
	memset(l, 0, sizeof(l));
	l[0].family = 4, l[0].port = 61900, l[0].addr[0] = 127, l[0].addr[3] = 1;
	l[1] = l[0]; /* SO_REUSEPORT: two sockets, one series */
	metrics_set_gauges(m, &g);
	metrics_set_listeners(m, l, 2);
	text(m, &b);
	assert_true(has(&b, "lotrace_listening{port=\"61900\",address=\"127.0.0.1\"} 2"));
	assert_true(has(&b, "lotrace_events_lost_total 7"));
	assert_true(has(&b, "lotrace_flows_evicted_total 2"));
	assert_true(has(&b, "lotrace_flows_active 5"));
	const char *s = sbuf_str(&b);
	assert_true(strncmp(s, "# HELP ", 7) == 0);
	assert_true(b.len > 0 && s[b.len - 1] == '\n');
	for (const char *p = s; *p;) {
		const char *nl = strchr(p, '\n');
		assert_non_null(nl);
		if (*p != '#') {
			const char *sp = memchr(p, ' ', (size_t)(nl - p));
			assert_non_null(sp);
			assert_true(strncmp(p, "lotrace_", 8) == 0);
			assert_true(sp[1] >= '0' && sp[1] <= '9');
		}
		p = nl + 1;
	}
	sbuf_release(&b);
	metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_bound_and_other),
		cmocka_unit_test(test_watched_ports_only),
		cmocka_unit_test(test_reasons_bounded_and_escaped),
		cmocka_unit_test(test_every_line_well_formed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
