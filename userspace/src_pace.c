/* SPDX-License-Identifier: MIT */
/*
 * src_pace.c - paced replay: the replay clock around a file source.
 *
 * Owns: the mapping of capture time onto the monotonic clock, and the one
 * observation read ahead of it. Does not own: reading or decoding (the
 * wrapped source), what is done with observations (the caller's callback).
 */
#include "src_pace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pace {
	struct lt_source base;
	struct lt_source_ops ops; /* the wrapped source's name, our calls */
	struct lt_source *inner;
	double speed; /* 0: instant; 1: real time; 10: ten times */
	int have_pending;
	struct lt_obs pending; /* read, not yet due */
	int anchored;
	uint64_t cap_anchor;  /* capture time ... */
	uint64_t mono_anchor; /* ... at this monotonic time */
	uint64_t cap_now;     /* the replay clock */
	int end;	      /* what the inner source last ended with, 0 */
};

static uint64_t mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct pace *pace_of(struct lt_source *s)
{
	return (struct pace *)s;
}

static int pace_fd(struct lt_source *s)
{
	(void)s;
	return -1;
}

/* dispatch() callback: hold the observation until it is due. */
static void grab(void *ctx, const struct lt_obs *o)
{
	struct pace *p = ctx;
	p->pending = *o;
	p->have_pending = 1;
}

/* The capture time due at monotonic time now. */
static uint64_t due_at(const struct pace *p, uint64_t now)
{
	return p->cap_anchor + (uint64_t)((double)(now - p->mono_anchor) * p->speed);
}

static int pace_dispatch(struct lt_source *s, int budget, lt_obs_fn fn, void *ctx)
{
	struct pace *p = pace_of(s);
	int n = 0;

	if (p->speed <= 0) {
		if (p->have_pending) {
			p->have_pending = 0;
			fn(ctx, &p->pending);
			n++;
		}
		int r = p->inner->ops->dispatch(p->inner, budget, fn, ctx);
		p->cap_now = p->inner->ops->now(p->inner);
		if (r < 0)
			return n ? n : r;
		return n + r;
	}
	for (int i = 0; i < budget; i++) {
		if (!p->have_pending) {
			if (p->end)
				return n ? n : p->end;
			int r = p->inner->ops->dispatch(p->inner, 1, grab, p);
			if (r < 0 && r != -EAGAIN && r != -EINTR) {
				p->end = r;
				return n ? n : r;
			}
			if (!p->have_pending)
				continue; /* a frame that decoded to nothing */
		}
		uint64_t now = mono();
		if (!p->anchored) {
			p->anchored = 1;
			p->cap_anchor = p->pending.ts_ns;
			p->mono_anchor = now;
		}
		uint64_t due = due_at(p, now);
		if (p->pending.ts_ns > due) {
			/* not yet: the clock still moves on */
			if (due > p->cap_now)
				p->cap_now = due;
			return n;
		}
		if (p->pending.ts_ns > p->cap_now)
			p->cap_now = p->pending.ts_ns;
		p->have_pending = 0;
		fn(ctx, &p->pending);
		n++;
	}
	return n;
}

static uint64_t pace_now(struct lt_source *s)
{
	struct pace *p = pace_of(s);
	return p->speed > 0 ? p->cap_now : p->inner->ops->now(p->inner);
}

static void pace_stats(struct lt_source *s, struct lt_source_stats *st)
{
	struct pace *p = pace_of(s);
	p->inner->ops->stats(p->inner, st);
}

static void pace_close(struct lt_source *s)
{
	struct pace *p = pace_of(s);
	p->inner->ops->close(p->inner);
	free(p);
}

struct lt_source *src_pace_wrap(struct lt_source *inner, double speed)
{
	struct pace *p = calloc(1, sizeof(*p));
	if (!p) {
		inner->ops->close(inner);
		return NULL;
	}
	p->ops = (struct lt_source_ops){
		.name = inner->ops->name,
		.fd = pace_fd,
		.dispatch = pace_dispatch,
		.now = pace_now,
		.stats = pace_stats,
		.close = pace_close,
	};
	p->base = *inner;
	p->base.ops = &p->ops;
	p->inner = inner;
	p->speed = speed > 0 ? speed : 0;
	return &p->base;
}

int src_pace_is(const struct lt_source *s)
{
	return s->ops->dispatch == pace_dispatch;
}

void src_pace_set_speed(struct lt_source *s, double speed)
{
	struct pace *p = pace_of(s);
	if (p->speed <= 0)
		p->cap_now = p->inner->ops->now(p->inner);
	p->speed = speed > 0 ? speed : 0;
	/* Re-anchor at the current capture time so playback does not jump. */
	p->anchored = p->cap_now != 0;
	p->cap_anchor = p->cap_now;
	p->mono_anchor = mono();
}

double src_pace_speed(const struct lt_source *s)
{
	return ((const struct pace *)s)->speed;
}

int src_pace_wait_ms(const struct lt_source *s)
{
	const struct pace *p = (const struct pace *)s;
	if (p->speed <= 0 || !p->have_pending || !p->anchored)
		return 0;
	uint64_t due = due_at(p, mono());
	if (p->pending.ts_ns <= due)
		return 0;
	double wait = (double)(p->pending.ts_ns - due) / p->speed / 1e6;
	return wait > 1000 ? 1000 : (int)wait + 1;
}

static const double presets[] = { 1, 10, 100, 0 /* instant */ };
#define NPRESETS (sizeof(presets) / sizeof(presets[0]))

double src_pace_next_speed(double speed, int dir)
{
	/* instant ranks above every factor */
	double rank = speed <= 0 ? 1e18 : speed;
	if (dir > 0) {
		for (size_t i = 0; i < NPRESETS; i++) {
			double r = presets[i] <= 0 ? 1e18 : presets[i];
			if (r > rank)
				return presets[i];
		}
		return speed;
	}
	for (size_t i = NPRESETS; i-- > 0;) {
		double r = presets[i] <= 0 ? 1e18 : presets[i];
		if (r < rank)
			return presets[i];
	}
	return speed;
}
