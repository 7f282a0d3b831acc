/* SPDX-License-Identifier: MIT */
/*
 * test_tui_model.c - the TUI's snapshot model over a real capture: every
 * connection of captures/busy-mixed.pcap becomes one compact row with the
 * verdict the engine gave it, the detail window keeps the full record,
 * the filter text names what the list shows, and a row stays small
 * enough that 131072 of them (plus the detail copies) fit in 32 MiB.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "engine.h"
#include "model.h"
#include "source.h"

#define CAPTURE LT_DATADIR "/captures/busy-mixed.pcap"

static struct engine *e;

/* Replay a capture into an engine with the model as its tap; finish:
 * retire every flow at the end (else the engine keeps the active ones). */
static void replay_into(struct tui_model *m, uint32_t cap, uint32_t dcap, uint32_t bcap, int finish)
{
	struct flow_config cfg = { .linger_ns = 5000000000ull };
	char err[LT_ERR_LEN];
	struct lt_source *src = src_pcap_file_open(CAPTURE, NULL, err);

	assert_non_null(src);
	e = engine_init(&cfg);
	assert_non_null(e);
	assert_int_equal(tui_model_init(m, cap, dcap, bcap, NULL, 0), 0);
	struct lt_tap tap = { .on_change = tui_model_on_change,
			      .on_retire = tui_model_on_retire,
			      .ctx = m };
	assert_int_equal(engine_add_tap(e, &tap), 0);
	while (src->ops->dispatch(src, 256, engine_obs, e) > 0)
		;
	src->ops->close(src);
	if (finish) {
		engine_finish(e);
		engine_release(e);
	}
}

static void replay(struct tui_model *m, uint32_t cap, uint32_t dcap, uint32_t bcap)
{
	replay_into(m, cap, dcap, bcap, 1);
}

struct oldest {
	uint64_t id;
};

static void find_oldest(void *ctx, const struct flow *f)
{
	struct oldest *o = ctx;
	if (!o->id || f->id < o->id)
		o->id = f->id;
}

/* The selection's full record is kept even when it is older than the
 * detail window, while its connection is still in the table. */
static void test_pin(void **state)
{
	struct tui_model m;
	struct oldest o = { 0 };

	replay_into(&m, 0, 2, 1, 0);
	flow_foreach(engine_flows(e), find_oldest, &o);
	assert_true(o.id > 0 && o.id + 2 <= m.max_id); /* outside the window of 2 */
	assert_null(tui_model_detail(&m, o.id));
	assert_int_equal(tui_model_pin(&m, o.id), 1);
	tui_model_sync(&m, engine_flows(e), flow_tab_now(engine_flows(e)));
	const struct tui_detail *d = tui_model_detail(&m, o.id);
	assert_non_null(d);
	assert_int_equal(d->f.id, o.id);
	assert_int_equal(tui_model_pin(&m, o.id), 0);
	/* another selection: the old one is not kept any more */
	tui_model_pin(&m, 0);
	assert_null(tui_model_detail(&m, o.id));
	engine_finish(e);
	engine_release(e);
	tui_model_release(&m);
}

static void test_row_size(void **state)
{
	size_t rows = (size_t)TUI_MODEL_CAP * sizeof(struct tui_row);
	size_t details = ((size_t)TUI_DETAIL_CAP + TUI_BAD_CAP) * sizeof(struct tui_detail) +
			 4 * TUI_BAD_CAP * sizeof(uint32_t);
	size_t answered = 2 * 65536 * sizeof(uint64_t);

	assert_true(sizeof(struct tui_row) <= TUI_ROW_MAX);
	/* the whole model at its default capacity */
	assert_true(rows + details + answered < 32u << 20);
	print_message("row %zu B; %u rows %.1f MiB + %u+%u details %.1f MiB\n",
		      sizeof(struct tui_row), TUI_MODEL_CAP, rows / 1048576.0, TUI_DETAIL_CAP,
		      TUI_BAD_CAP, details / 1048576.0);
}

static void test_rows_of_a_capture(void **state)
{
	struct tui_model m;
	char key[192];

	replay(&m, 0, 0, 0);
	/* busy-mixed.pcap: 60 connections (tshark's truth file) */
	assert_int_equal(m.max_id, 60);
	assert_int_equal(tui_model_total(&m), 60);
	assert_int_equal(tui_model_established(&m), 40);
	assert_int_equal(tui_model_count(&m, LT_V_REFUSED), 16);
	assert_int_equal(tui_model_count(&m, LT_V_UNANSWERED), 4);
	for (uint64_t id = 1; id <= 60; id++) {
		const struct tui_row *r = tui_model_row(&m, id);
		const struct tui_detail *d = tui_model_detail(&m, id);
		assert_non_null(r);
		assert_non_null(d);
		assert_true(r->final);
		/* the row agrees with the full record */
		assert_int_equal(r->verdict, d->verdict);
		assert_int_equal(r->bytes[0], d->f.side[0].bytes);
		assert_int_equal(r->server.port, d->f.server.port);
		assert_int_equal(r->steps, d->f.tl_len);
		tui_row_key(&m, r, key, sizeof(key));
		assert_non_null(strstr(key, lt_verdict_name((enum lt_verdict)r->verdict)));
	}
	/* an IPv6 refusal on 61910 next to answered IPv4 connections */
	const struct tui_row *v6 = NULL;
	for (uint64_t id = 1; id <= 60 && !v6; id++) {
		const struct tui_row *r = tui_model_row(&m, id);
		if (r->family == 6 && r->verdict == LT_V_REFUSED)
			v6 = r;
	}
	assert_non_null(v6);
	tui_row_key(&m, v6, key, sizeof(key));
	assert_non_null(strstr(key, "[::1]:61910 refused"));
	const struct tui_row *o = tui_model_answered_other(&m, 6, 61910);
	assert_non_null(o);
	assert_int_equal(o->family, 4);
	assert_true(o->est);
	tui_model_release(&m);
}


/* Rows keep a namespace as a small index into the model's table; the
 * list shows its name, the filter finds it. */
static void test_netns_rows(void **state)
{
	static const struct lt_netns host = { .ino = 4026531840u, .name = "host" };
	static const struct lt_netns box = { .ino = 4026532002u,
					     .name = "lt-cli",
					     .container = "docker:3f2a9c1b7e4d" };
	struct tui_model m;
	struct flow f;
	char key[256];
	(void)state;

	assert_int_equal(tui_model_init(&m, 64, 8, 8, NULL, 0), 0);
	memset(&f, 0, sizeof(f));
	f.family = 4;
	f.side[0].pid = f.side[1].pid = -1;
	f.id = 1;
	tui_model_on_retire(&m, &f, LT_V_CLOSED); /* no namespace (a capture) */
	assert_int_equal(tui_model_nns(&m), 0);
	assert_null(tui_model_row_ns(&m, tui_model_row(&m, 1)));
	const struct lt_netns *seq[] = { &host, &box, &host, &box };
	for (int i = 0; i < 4; i++) {
		f.id = (uint64_t)i + 2;
		f.ns = seq[i];
		tui_model_on_retire(&m, &f, LT_V_REFUSED);
	}
	assert_int_equal(tui_model_nns(&m), 2);
	for (int i = 0; i < 4; i++)
		assert_ptr_equal(tui_model_row_ns(&m, tui_model_row(&m, (uint64_t)i + 2)), seq[i]);
	assert_int_equal(tui_model_row(&m, 3)->ns, tui_model_row(&m, 5)->ns);
	tui_row_key(&m, tui_model_row(&m, 3), key, sizeof(key));
	assert_non_null(strstr(key, " refused lt-cli docker:3f2a9c1b7e4d"));
	tui_model_clear(&m); /* the names stay: older pointers stay valid */
	assert_int_equal(tui_model_nns(&m), 2);
	tui_model_release(&m);
}

static void test_windows(void **state)
{
	struct tui_model m;

	/* 16 rows, 4 full records and 2 bad endings: the newest stay, the
	 * two newest that ended badly too, older ones are gone */
	replay(&m, 16, 4, 2);
	assert_int_equal(m.max_id, 60);
	assert_null(tui_model_row(&m, 44));
	assert_non_null(tui_model_row(&m, 45));
	for (uint64_t id = 57; id <= 60; id++)
		assert_non_null(tui_model_detail(&m, id));
	int kept_bad = 0, kept_other = 0;
	for (uint64_t id = 1; id < 57; id++) {
		const struct tui_detail *d = tui_model_detail(&m, id);
		if (!d)
			continue;
		assert_int_equal(d->f.id, id);
		if (d->verdict == LT_V_REFUSED || d->verdict == LT_V_UNANSWERED ||
		    d->verdict == LT_V_RESET_CLIENT || d->verdict == LT_V_RESET_SERVER ||
		    d->verdict == LT_V_HALF_OPEN)
			kept_bad++;
		else
			kept_other++;
	}
	assert_int_equal(kept_other, 0);
	assert_true(kept_bad >= 1 && kept_bad <= 2);
	assert_true(m.dropped > 0);
	/* counters count every connection, not only the rows kept */
	assert_int_equal(tui_model_total(&m), 60);
	tui_model_clear(&m);
	assert_int_equal(tui_model_total(&m), 0);
	assert_null(tui_model_row(&m, 60));
	assert_null(tui_model_detail(&m, 60));
	tui_model_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_row_size),   cmocka_unit_test(test_rows_of_a_capture),
		cmocka_unit_test(test_windows),	   cmocka_unit_test(test_pin),
		cmocka_unit_test(test_netns_rows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
