/* SPDX-License-Identifier: MIT */
/*
 * hist.h - a log-linear histogram of durations in nanoseconds.
 *
 * 32 buckets per power of two, so a percentile is within ~1.6% of the
 * true value; values under 64 ns are exact, and min/max are exact.
 * Fixed size (about 8 KiB), no allocation.
 */
#ifndef LT_HIST_H
#define LT_HIST_H

#include <stdint.h>

#define HIST_BUCKETS 1952

struct hist {
	uint64_t count;
	uint64_t min, max;
	uint32_t bucket[HIST_BUCKETS];
};

void hist_init(struct hist *h);
void hist_add(struct hist *h, uint64_t v);
/* The p-th percentile (0 < p <= 100), clamped to [min, max]; 0 if empty. */
uint64_t hist_percentile(const struct hist *h, double p);

#endif
