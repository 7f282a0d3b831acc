/* SPDX-License-Identifier: MIT */
/* tui_play.c - paced replay of a capture file: the replay clock. */
#include "tui_play.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static uint64_t mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void tui_play_init(struct tui_play *p, struct lt_source *src,
		   struct engine *eng, double speed)
{
	memset(p, 0, sizeof(*p));
	p->src = src;
	p->eng = eng;
	p->speed = speed > 0 ? speed : 0;
}

/* dispatch() callback: hold the observation until it is due. */
static void grab(void *ctx, const struct lt_obs *o)
{
	struct tui_play *p = ctx;
	p->pending = *o;
	p->have_pending = 1;
}

static void finish(struct tui_play *p)
{
	if (p->have_pending) {
		engine_obs(p->eng, &p->pending);
		p->have_pending = 0;
	}
	p->eof = 1;
	engine_finish(p->eng);
}

/* Instant: whole batches straight into the engine. */
static int step_instant(struct tui_play *p, uint64_t deadline)
{
	do {
		int r = p->src->ops->dispatch(p->src, 2048, engine_obs, p->eng);
		if (r == LT_SRC_EOF || (r < 0 && r != -EAGAIN && r != -EINTR)) {
			finish(p);
			return -1;
		}
		if (r > 0)
			p->delivered += (uint64_t)r;
	} while (mono() < deadline);
	p->cap_now = p->src->ops->now(p->src);
	return 0;
}

int tui_play_step(struct tui_play *p, uint64_t mono_ns, uint64_t budget_ns)
{
	uint64_t deadline = mono_ns + budget_ns;

	if (p->eof)
		return -1;
	if (p->have_pending && p->speed <= 0) {
		engine_obs(p->eng, &p->pending);
		p->have_pending = 0;
	}
	if (p->speed <= 0)
		return step_instant(p, deadline);

	for (int n = 0;; n++) {
		if (!p->have_pending) {
			int r = p->src->ops->dispatch(p->src, 1, grab, p);
			if (r == LT_SRC_EOF || (r < 0 && r != -EAGAIN && r != -EINTR)) {
				finish(p);
				return -1;
			}
			if (!p->have_pending) { /* a frame that decoded to nothing */
				if ((n & 63) == 63 && mono() >= deadline)
					return 0;
				continue;
			}
		}
		if (!p->anchored) {
			p->anchored = 1;
			p->cap_anchor = p->pending.ts_ns;
			p->mono_anchor = mono_ns;
		}
		uint64_t now = mono();
		uint64_t due = p->cap_anchor +
			       (uint64_t)((double)(now - p->mono_anchor) * p->speed);
		if (p->pending.ts_ns > due) {
			/* Not yet: let time-driven verdicts move with the clock. */
			if (due > p->cap_now) {
				p->cap_now = due;
				engine_tick(p->eng, due);
			}
			double wait = (double)(p->pending.ts_ns - due) / p->speed / 1e6;
			return wait > 1000 ? 1000 : (int)wait + 1;
		}
		if (p->pending.ts_ns > p->cap_now)
			p->cap_now = p->pending.ts_ns;
		engine_obs(p->eng, &p->pending);
		p->have_pending = 0;
		p->delivered++;
		if ((n & 63) == 63 && mono() >= deadline)
			return 0;
	}
}

void tui_play_set_speed(struct tui_play *p, double speed, uint64_t mono_ns)
{
	p->speed = speed > 0 ? speed : 0;
	/* Re-anchor at the current capture time so playback does not jump. */
	p->anchored = p->cap_now != 0;
	p->cap_anchor = p->cap_now;
	p->mono_anchor = mono_ns;
}

static const double presets[] = { 1, 10, 100, 0 /* instant */ };
#define NPRESETS (sizeof(presets) / sizeof(presets[0]))

double tui_play_next_speed(double speed, int dir)
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
