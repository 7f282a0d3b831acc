/* SPDX-License-Identifier: MIT */
/*
 * test_pcapw.c - the -w writer: pcapng blocks read back by hand (every
 * block's two lengths agree, EPB comments where they belong), packet order
 * kept while packets wait for their connection, thousands of connections
 * through the holding table, and the bounded buffer writing early (with a
 * "still open" comment) instead of growing past PCAPW_HOLD_MAX.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "pcapw.h"

struct epb {
	uint32_t ts_low, caplen;
	char comment[1024];
};

/* Read a pcapng written by pcapw: every EPB in order, with its comment. */
static int read_epbs(const char *path, struct epb *out, int max)
{
	FILE *f = fopen(path, "rb");
	uint32_t h[2];
	int n = 0;
	assert_non_null(f);
	while (fread(h, 4, 2, f) == 2) {
		assert_true(h[1] >= 12 && h[1] % 4 == 0);
		uint8_t *b = malloc(h[1] - 8);
		assert_int_equal(fread(b, 1, h[1] - 8, f), h[1] - 8);
		uint32_t trailer;
		memcpy(&trailer, b + h[1] - 12, 4);
		assert_int_equal(trailer, h[1]); /* both lengths agree */
		if (h[0] == 6) {
			assert_true(n < max);
			struct epb *e = &out[n++];
			uint32_t caplen;
			memcpy(&e->ts_low, b + 8, 4);
			memcpy(&caplen, b + 12, 4);
			e->caplen = caplen;
			e->comment[0] = '\0';
			size_t off = 20 + ((caplen + 3) & ~3u);
			while (off + 4 <= h[1] - 12) {
				uint16_t code, len;
				memcpy(&code, b + off, 2);
				memcpy(&len, b + off + 2, 2);
				if (code == 0)
					break;
				if (code == 1)
					snprintf(e->comment, sizeof(e->comment), "%.*s", len,
						 (const char *)b + off + 4);
				off += 4 + ((len + 3u) & ~3u);
			}
		}
		free(b);
	}
	fclose(f);
	return n;
}

static struct lt_obs seg(uint64_t ts, uint16_t cport, uint32_t caplen, struct lt_frame *fr,
			 const uint8_t *data)
{
	struct lt_obs o;
	memset(&o, 0, sizeof(o));
	o.kind = LT_OBS_SEGMENT;
	o.family = 4;
	o.ts_ns = ts;
	o.src.port = cport;
	o.dst.port = 80;
	*fr = (struct lt_frame){
		.data = data, .caplen = caplen, .len = caplen, .snaplen = 262144, .link_type = 1
	};
	o.frame = fr;
	return o;
}

static struct flow fake_flow(uint64_t id)
{
	struct flow f;
	memset(&f, 0, sizeof(f));
	f.id = id;
	f.family = 4;
	f.client.port = (uint16_t)(1000 + id);
	f.server.port = 80;
	f.side[0].pid = f.side[1].pid = -1;
	return f;
}

static char path[64];

static int setup(void **state)
{
	snprintf(path, sizeof(path), "/tmp/test_pcapw.%d.pcapng", (int)getpid());
	return 0;
}

static int teardown(void **state)
{
	unlink(path);
	return 0;
}

/* Three interleaved connections retiring out of order: the packets keep
 * their order, each connection's first and last packet get its comment. */
static void test_order_and_comments(void **state)
{
	char err[LT_ERR_LEN];
	uint8_t data[60] = { 0 };
	struct lt_frame fr;
	struct pcapw *w = pcapw_open(path, err);
	assert_non_null(w);
	assert_true(pcapw_is_pcapng(w));
	uint64_t ids[] = { 1, 2, 1, 3, 2, 1, 3 };
	for (int i = 0; i < 7; i++) {
		struct lt_obs o = seg((uint64_t)i, (uint16_t)(1000 + ids[i]), 60, &fr, data);
		assert_int_equal(pcapw_obs(w, &o, ids[i]), 0);
	}
	struct flow f3 = fake_flow(3), f1 = fake_flow(1), f2 = fake_flow(2);
	pcapw_retired(w, &f3, LT_V_REFUSED);
	pcapw_retired(w, &f1, LT_V_CLOSED);
	pcapw_retired(w, &f2, LT_V_UNANSWERED);
	assert_int_equal(pcapw_close(w), 0);

	struct epb e[16];
	assert_int_equal(read_epbs(path, e, 16), 7);
	for (uint32_t i = 0; i < 7; i++)
		assert_int_equal(e[i].ts_low, i);
	assert_non_null(strstr(e[0].comment, "conn #1 first packet: verdict closed"));
	assert_non_null(strstr(e[1].comment, "conn #2 first packet: verdict unanswered"));
	assert_string_equal(e[2].comment, "");
	assert_non_null(strstr(e[3].comment, "conn #3 first packet: verdict refused"));
	assert_non_null(strstr(e[4].comment, "conn #2 last packet"));
	assert_non_null(strstr(e[5].comment, "conn #1 last packet"));
	assert_non_null(strstr(e[6].comment, "conn #3 last packet"));
}

/* 5000 connections, two packets each, retired in a scrambled order: the
 * holding table grows and shrinks; every packet comes out once. */
static void test_many_connections(void **state)
{
	char err[LT_ERR_LEN];
	uint8_t data[60] = { 0 };
	struct lt_frame fr;
	enum { N = 5000 };
	struct pcapw *w = pcapw_open(path, err);
	assert_non_null(w);
	for (int pass = 0; pass < 2; pass++)
		for (uint64_t id = 1; id <= N; id++) {
			struct lt_obs o = seg(id + (uint64_t)pass * N, (uint16_t)id, 60, &fr, data);
			pcapw_obs(w, &o, id);
		}
	for (uint64_t k = 0; k < N; k++) {
		uint64_t id = (k * 7919) % N + 1; /* 7919 is prime: a permutation */
		struct flow f = fake_flow(id);
		pcapw_retired(w, &f, LT_V_CLOSED);
	}
	assert_int_equal(pcapw_forced(w), 0);
	assert_int_equal(pcapw_close(w), 0);
	struct epb *e = calloc(2 * N, sizeof(*e));
	assert_int_equal(read_epbs(path, e, 2 * N), 2 * N);
	int firsts = 0, lasts = 0;
	for (int i = 0; i < 2 * N; i++) {
		assert_int_equal(e[i].ts_low, (uint32_t)i + 1);
		firsts += strstr(e[i].comment, "first packet") != NULL;
		lasts += strstr(e[i].comment, "last packet") != NULL;
	}
	assert_int_equal(firsts, N);
	assert_int_equal(lasts, N);
	free(e);
}

/* One connection that never ends and more than PCAPW_HOLD_MAX of packets:
 * the oldest go out early, the first one saying the connection was open. */
static void test_bounded(void **state)
{
	char err[LT_ERR_LEN];
	enum { CAP = 262144 };
	uint32_t n = PCAPW_HOLD_MAX / CAP + 20;
	uint8_t *data = calloc(1, CAP);
	struct lt_frame fr;
	struct pcapw *w = pcapw_open(path, err);
	assert_non_null(w);
	for (uint32_t i = 0; i < n; i++) {
		struct lt_obs o = seg(i, 2000, CAP, &fr, data);
		assert_int_equal(pcapw_obs(w, &o, 9), 0);
	}
	assert_true(pcapw_forced(w) > 0);
	struct flow f = fake_flow(9);
	pcapw_retired(w, &f, LT_V_OPEN);
	assert_int_equal(pcapw_close(w), 0);
	struct epb *e = calloc(n, sizeof(*e));
	assert_int_equal(read_epbs(path, e, (int)n), (int)n);
	assert_non_null(strstr(e[0].comment, "still open when written"));
	assert_non_null(strstr(e[n - 1].comment, "conn #9 last packet: verdict open"));
	free(e);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_and_comments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_connections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounded, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
