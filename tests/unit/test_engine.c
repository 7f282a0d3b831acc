/* SPDX-License-Identifier: MIT */
/*
 * test_engine.c - the engine's API over a real capture
 * (captures/busy-mixed.pcap: 60 connections, 395 frames): taps are added
 * and removed through it and see every observation and retirement; with a
 * limit of N it is done once N connections finished, exactly N go to the
 * stats and the taps (ended ones first) and the rest are counted; the
 * replay pacer (src_pace.c) hands on the same observations as the file; a
 * tap that names the verdicts it acts on gets those changes and no others.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "engine.h"
#include "fmt.h"
#include "source.h"
#include "src_pace.h"

#define CAPTURE LT_DATADIR "/captures/busy-mixed.pcap"

struct counts {
	uint64_t obs, retired, ended;
	uint64_t last_ts;
};

static void count_obs(void *ctx, const struct lt_obs *o)
{
	struct counts *c = ctx;
	c->obs++;
	c->last_ts = o->ts_ns;
}

static void count_retire(void *ctx, const struct flow *f, enum lt_verdict v)
{
	struct counts *c = ctx;
	c->retired++;
	c->ended += lt_verdict_ended(v);
}

static struct engine *new_engine(void)
{
	struct flow_config cfg = { .linger_ns = 5000000000ull };
	struct engine *e = engine_init(&cfg);
	assert_non_null(e);
	return e;
}

static struct lt_source *open_capture(void)
{
	char err[LT_ERR_LEN];
	struct lt_source *src = src_pcap_file_open(CAPTURE, NULL, err);
	assert_non_null(src);
	return src;
}

/* Feed src into e one observation at a time until the end or engine_done. */
static void feed(struct engine *e, struct lt_source *src)
{
	while (!engine_done(e)) {
		int r = src->ops->dispatch(src, 1, engine_obs, e);
		if (r == LT_SRC_EOF || r < 0)
			break;
	}
	engine_finish(e);
}

static void test_taps(void **state)
{
	struct engine *e = new_engine();
	struct lt_source *src = open_capture();
	struct counts a = { 0 }, b = { 0 };
	struct lt_tap ta = { .on_obs = count_obs, .on_retire = count_retire, .ctx = &a };
	struct lt_tap tb = { .on_obs = count_obs, .on_retire = count_retire, .ctx = &b };

	assert_int_equal(engine_add_tap(e, &ta), 0);
	assert_int_equal(engine_add_tap(e, &tb), 0);
	for (int i = 0; i < 40; i++) /* b leaves after 40 dispatches */
		src->ops->dispatch(src, 1, engine_obs, e);
	engine_remove_tap(e, &b);
	engine_remove_tap(e, &b); /* twice: a no-op */
	feed(e, src);
	assert_int_equal(a.obs, 395);
	assert_true(b.obs > 0 && b.obs < 395);
	assert_int_equal(a.retired, 60);
	assert_int_equal(engine_stats(e)->total.conns, 60);
	assert_int_equal(engine_reported(e), 60);
	assert_int_equal(engine_unreported(e), 0);
	assert_int_equal(flow_tab_counters(engine_flows(e))->created, 60);
	src->ops->close(src);
	engine_release(e);
}

static void test_limit(void **state)
{
	struct engine *e = new_engine();
	struct lt_source *src = open_capture();
	struct counts c = { 0 };
	struct lt_tap t = { .on_obs = count_obs, .on_retire = count_retire, .ctx = &c };
	struct lt_source_stats ss;

	engine_set_limit(e, 3);
	assert_int_equal(engine_add_tap(e, &t), 0);
	feed(e, src);
	src->ops->stats(src, &ss);
	/* done long before the end: the third connection ended, not retired */
	assert_true(ss.dec.frames < 395);
	assert_int_equal(c.obs, ss.dec.frames);
	assert_int_equal(c.retired, 3);
	assert_int_equal(c.ended, 3);
	assert_int_equal(engine_stats(e)->total.conns, 3);
	assert_int_equal(engine_reported(e), 3);
	assert_int_equal(engine_unreported(e), flow_tab_counters(engine_flows(e))->created - 3);
	src->ops->close(src);
	engine_release(e);
}

struct changes {
	uint64_t per[LT_V_COUNT];
	uint64_t calls;
};

static void count_change(void *ctx, const struct flow *f, enum lt_verdict v)
{
	struct changes *c = ctx;
	(void)f;
	c->calls++;
	c->per[v]++;
}

/* A tap that names the verdicts it acts on (change_verdicts) is called
 * for those: as often as a tap that takes every change sees them, and,
 * alone on the engine, for no other (the flow table does not call the
 * engine for a verdict no tap wants). */
static void test_change_verdicts(void **state)
{
	struct changes all = { 0 }, refused = { 0 };
	struct lt_tap ta = { .on_change = count_change, .ctx = &all };
	struct lt_tap tr = { .on_change = count_change,
			     .change_verdicts = 1u << LT_V_REFUSED,
			     .ctx = &refused };
	struct engine *e = new_engine();
	struct lt_source *src = open_capture();

	assert_int_equal(engine_add_tap(e, &ta), 0);
	feed(e, src);
	src->ops->close(src);
	engine_release(e);

	e = new_engine();
	src = open_capture();
	assert_int_equal(engine_add_tap(e, &tr), 0);
	feed(e, src);
	src->ops->close(src);
	engine_release(e);

	assert_true(all.per[LT_V_REFUSED] > 0);
	assert_true(all.calls > all.per[LT_V_REFUSED]);
	assert_int_equal(refused.per[LT_V_REFUSED], all.per[LT_V_REFUSED]);
	assert_int_equal(refused.calls, refused.per[LT_V_REFUSED]);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The pacer hands on what the file holds, in order, at the pace asked. */
static void test_pace(void **state)
{
	struct counts plain = { 0 }, paced = { 0 };
	struct lt_source *src = open_capture();
	while (src->ops->dispatch(src, 4096, count_obs, &plain) >= 0)
		;
	src->ops->close(src);

	/* busy-mixed spans 2.5 s of capture: 1000x takes 2.5 ms or more */
	src = src_pace_wrap(open_capture(), 1000);
	assert_non_null(src);
	assert_true(src_pace_is(src));
	assert_int_equal(src->ops->fd(src), -1);
	uint64_t t0 = mono_ns();
	for (;;) {
		int r = src->ops->dispatch(src, 4096, count_obs, &paced);
		if (r == LT_SRC_EOF)
			break;
		assert_true(r >= 0);
		int ms = src_pace_wait_ms(src);
		assert_true(ms >= 0 && ms <= 1000);
		if (r == 0 && ms > 0) {
			struct timespec d = { 0, 200000 };
			nanosleep(&d, NULL);
		}
	}
	uint64_t took = mono_ns() - t0;
	assert_int_equal(paced.obs, plain.obs);
	assert_int_equal(paced.last_ts, plain.last_ts);
	assert_true(took >= 2000000ull);
	assert_true(src->ops->now(src) == plain.last_ts);
	src_pace_set_speed(src, 0);
	assert_true(src_pace_speed(src) == 0);
	src->ops->close(src);

	char name[24];
	assert_string_equal(fmt_speed(name, 0), "instant");
	assert_string_equal(fmt_speed(name, 10), "10x");
	assert_true(src_pace_next_speed(1, 1) == 10);
	assert_true(src_pace_next_speed(100, 1) == 0);
	assert_true(src_pace_next_speed(0, -1) == 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_taps),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_change_verdicts),
		cmocka_unit_test(test_pace),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
