/* SPDX-License-Identifier: MIT */
/*
 * src_pace.h - replay a capture at a chosen speed: a source decorator.
 *
 * Wraps a file source (lt_source) and hands its observations on when they
 * are due: capture time mapped onto the monotonic clock, scaled by the
 * speed. Speed 0 is "instant" (no pacing at all). Changing the speed
 * re-anchors the clock at the current capture time, so playback never
 * jumps. The wrapper's clock (ops->now) is the replay clock: the capture
 * time that is "now", which moves on between packets, so time-driven
 * verdicts (connecting -> unanswered) move with it.
 */
#ifndef LT_SRC_PACE_H
#define LT_SRC_PACE_H

#include "source.h"

/* Takes ownership of inner (closing the wrapper closes it); NULL on no
 * memory (inner is then closed too). */
struct lt_source *src_pace_wrap(struct lt_source *inner, double speed);
/* s is a src_pace wrapper. */
int src_pace_is(const struct lt_source *s);
void src_pace_set_speed(struct lt_source *s, double speed);
double src_pace_speed(const struct lt_source *s);
/* Milliseconds until the next observation is due; 0: read on now. */
int src_pace_wait_ms(const struct lt_source *s);
/* The next preset speed up (dir 1) or down (-1): 1x, 10x, 100x, instant. */
double src_pace_next_speed(double speed, int dir);

#endif
