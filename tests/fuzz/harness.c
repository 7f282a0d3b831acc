/* SPDX-License-Identifier: MIT */
/*
 * harness.c - the set-up and tear-down both libFuzzer targets share (see
 * harness.h): options from input bits, the engine with the text and JSON
 * sinks as taps and the report, every output to /dev/null. Does not own
 * any input format or the feeding of the engine.
 */
#include "harness.h"

#include <string.h>

/* The sinks as taps of the engine, as run.c adds them. */
static void sink_conn(void *ctx, const struct flow *f, enum lt_verdict v)
{
	struct lt_sink *s = ctx;
	s->ops->conn(s, f, v);
}

void fuzz_opts(struct lt_opts *o, uint8_t bits)
{
	char err[LT_ERR_LEN];

	memset(o, 0, sizeof(*o));
	o->max_flows = (bits & 1) ? 16 : 1024;
	o->count = (bits & 2) ? 3 : 0;
	if (bits & 4)
		ports_add(&o->ports, "61900", err, sizeof(err));
}

int fuzz_start(struct fuzz_run *fr, const struct lt_opts *o, int live)
{
	struct flow_config cfg;

	memset(fr, 0, sizeof(*fr));
	if (!(fr->null = fopen("/dev/null", "w")))
		return -1;
	lt_flow_config(&cfg, o, live);
	if (!(fr->eng = engine_init(&cfg))) {
		fclose(fr->null);
		return -1;
	}
	engine_set_limit(fr->eng, o->count);
	for (int i = 0; i < o->ports.n; i++)
		engine_watch(fr->eng, o->ports.list[i]);
	fr->sk[0] = sink_text_new(fr->null);
	fr->sk[1] = sink_json_new(fr->null);
	for (int i = 0; i < 2; i++) {
		struct lt_tap t = { .on_retire = sink_conn, .ctx = fr->sk[i] };
		if (fr->sk[i])
			engine_add_tap(fr->eng, &t);
	}
	fr->rep = report_attach(fr->eng, o, live);
	return 0;
}

void fuzz_begin(struct fuzz_run *fr, const struct lt_run_info *ri)
{
	for (int i = 0; i < 2; i++)
		if (fr->sk[i])
			fr->sk[i]->ops->begin(fr->sk[i], ri);
}

void fuzz_end(struct fuzz_run *fr, const struct lt_run_info *ri, const struct lt_source_stats *ss)
{
	engine_finish(fr->eng);
	struct lt_run_end re = { .stats = engine_stats(fr->eng),
				 .flows = flow_tab_counters(engine_flows(fr->eng)),
				 .src = ss };
	for (int i = 0; i < 2; i++)
		if (fr->sk[i]) {
			fr->sk[i]->ops->end(fr->sk[i], ri, &re);
			fr->sk[i]->ops->free(fr->sk[i]);
		}
	if (fr->rep) {
		report_write(fr->rep, fr->null, LT_FMT_MARKDOWN, ri, ss, 0);
		report_write(fr->rep, fr->null, LT_FMT_TEXT, ri, ss, 0);
		report_write(fr->rep, fr->null, LT_FMT_JSON, ri, ss, 0);
		report_free(fr->rep);
	}
	engine_release(fr->eng);
	fclose(fr->null);
}
