/* SPDX-License-Identifier: MIT */
/* hist.c - log-linear histogram (HDR-style, 5 sub-bucket bits). */
#include "hist.h"

#include <string.h>

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
}

static unsigned bucket_of(uint64_t v)
{
	if (v < 64)
		return (unsigned)v;
	unsigned e = 63u - (unsigned)__builtin_clzll(v); /* 6..63 */
	return 64u + (e - 6u) * 32u + (unsigned)((v >> (e - 5u)) & 31u);
}

/* Midpoint of a bucket's value range. */
static uint64_t bucket_value(unsigned i)
{
	if (i < 64)
		return i;
	unsigned e = (i - 64u) / 32u + 6u;
	uint64_t sub = (i - 64u) % 32u;
	uint64_t lo = (32u + sub) << (e - 5u);
	return lo + ((1ull << (e - 5u)) >> 1);
}

void hist_add(struct hist *h, uint64_t v)
{
	if (h->count == 0 || v < h->min)
		h->min = v;
	if (h->count == 0 || v > h->max)
		h->max = v;
	h->count++;
	h->bucket[bucket_of(v)]++;
}

uint64_t hist_percentile(const struct hist *h, double p)
{
	if (h->count == 0)
		return 0;
	uint64_t rank = (uint64_t)(p / 100.0 * (double)h->count + 0.999999);
	if (rank < 1)
		rank = 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			uint64_t v = bucket_value(i);
			if (v < h->min)
				v = h->min;
			if (v > h->max)
				v = h->max;
			return v;
		}
	}
	return h->max;
}
