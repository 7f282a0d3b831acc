/* SPDX-License-Identifier: MIT */
/*
 * tui_play.h - replaying a capture file into the engine at a chosen speed.
 *
 * Owns: the replay clock (capture time mapped onto the monotonic clock,
 * scaled by the speed) and the one observation read ahead of it. Speed 0
 * is "instant": as fast as the loop's budget allows. Changing the speed
 * re-anchors the clock at the current capture time, so playback never
 * jumps. Does not own the source or the engine.
 */
#ifndef LT_TUI_PLAY_H
#define LT_TUI_PLAY_H

#include <stdint.h>

#include "engine.h"
#include "obs.h"
#include "source.h"

struct tui_play {
	struct lt_source *src;
	struct engine *eng;
	double speed;          /* 0: instant; 1: real time; 10: ten times */
	int eof;               /* the file is done (engine_finish was called) */
	int have_pending;
	struct lt_obs pending; /* read, not yet due */
	int anchored;
	uint64_t cap_anchor;   /* capture time ... */
	uint64_t mono_anchor;  /* ... at this monotonic time */
	uint64_t cap_now;      /* the replay clock: capture time now */
	uint64_t delivered;
};

void tui_play_init(struct tui_play *p, struct lt_source *src,
		   struct engine *eng, double speed);
/*
 * Deliver what is due at monotonic time mono_ns, spending at most
 * budget_ns. Returns ms until the next observation is due (0: more work
 * now), or -1 when the file is done. At the end it calls engine_finish.
 */
int tui_play_step(struct tui_play *p, uint64_t mono_ns, uint64_t budget_ns);
void tui_play_set_speed(struct tui_play *p, double speed, uint64_t mono_ns);
/* The next preset speed up (dir 1) or down (-1): 1x, 10x, 100x, instant. */
double tui_play_next_speed(double speed, int dir);

#endif
