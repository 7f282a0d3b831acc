/* SPDX-License-Identifier: MIT */
/*
 * src_filter.c - the filter-expression decorator for frameless sources:
 * each observation the inner source delivers without a frame is matched
 * with pfilter (a rebuilt header through libpcap's compiled filter) and
 * dropped from the run when it does not match, as tcpdump would never
 * have captured it. Owns the inner source; adds nothing else.
 */
#include "src_filter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pfilter.h"

struct filter_src {
	struct lt_source base;
	struct lt_source_ops ops; /* the inner's, with our dispatch and close */
	struct lt_source *inner;
	struct pfilter *pf;
	lt_obs_fn fn;
	void *ctx;
	int passed;
};

static void on_obs(void *ctx, const struct lt_obs *o)
{
	struct filter_src *f = ctx;
	/* a listener's change is no packet: no filter expression is about it */
	if (!o->frame && o->kind != LT_OBS_LISTEN && !pfilter_match(f->pf, o))
		return;
	f->passed++;
	f->fn(f->ctx, o);
}

static int filter_dispatch(struct lt_source *base, int budget, lt_obs_fn fn, void *ctx)
{
	struct filter_src *f = (struct filter_src *)base;
	f->fn = fn;
	f->ctx = ctx;
	f->passed = 0;
	int r = f->inner->ops->dispatch(f->inner, budget, on_obs, f);
	return r < 0 ? r : f->passed;
}

static int filter_fd(struct lt_source *base)
{
	struct filter_src *f = (struct filter_src *)base;
	return f->inner->ops->fd(f->inner);
}

static uint64_t filter_now(struct lt_source *base)
{
	struct filter_src *f = (struct filter_src *)base;
	return f->inner->ops->now(f->inner);
}

static void filter_stats(struct lt_source *base, struct lt_source_stats *st)
{
	struct filter_src *f = (struct filter_src *)base;
	f->inner->ops->stats(f->inner, st);
}

static void filter_close(struct lt_source *base)
{
	struct filter_src *f = (struct filter_src *)base;
	f->inner->ops->close(f->inner);
	pfilter_free(f->pf);
	free(f);
}

struct lt_source *src_filter_wrap(struct lt_source *inner, const char *expr, char err[LT_ERR_LEN])
{
	struct filter_src *f = calloc(1, sizeof(*f));
	if (!f || !(f->pf = pfilter_new(expr, err, LT_ERR_LEN))) {
		if (!f)
			snprintf(err, LT_ERR_LEN, "out of memory");
		free(f);
		inner->ops->close(inner);
		return NULL;
	}
	f->inner = inner;
	f->ops = *inner->ops;
	f->ops.dispatch = filter_dispatch;
	f->ops.fd = filter_fd;
	f->ops.now = filter_now;
	f->ops.stats = filter_stats;
	f->ops.close = filter_close;
	f->base = *inner;
	f->base.ops = &f->ops;
	return &f->base;
}
