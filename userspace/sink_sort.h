/* SPDX-License-Identifier: MIT */
/*
 * sink_sort.h - records held back and put in order of first packet, for
 * `--sort start` (a capture file: every record is known by the end).
 *
 * A record is kept as up to three formatted pieces (the text sink keeps
 * the two endpoints apart, to pad them to the widest at the end); the
 * key is (start time, connection id). Owns the copies; does not own
 * formatting or writing.
 */
#ifndef LT_SINK_SORT_H
#define LT_SINK_SORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sbuf.h"

#define SINK_SORT_PIECES 3

struct sink_sort_ent {
	uint64_t t_ns, id;
	size_t off; /* into data */
	uint32_t len[SINK_SORT_PIECES];
};

struct sink_sort {
	struct sbuf data;
	struct sink_sort_ent *v;
	size_t n, cap;
	bool nomem; /* a record could not be kept */
};

void sink_sort_init(struct sink_sort *s);
void sink_sort_release(struct sink_sort *s);
/* Keep one record (pieces may be NULL / 0); false when out of memory. */
bool sink_sort_add(struct sink_sort *s, uint64_t t_ns, uint64_t id,
		   const struct sbuf *const piece[SINK_SORT_PIECES]);
/* Sort by (t_ns, id); first says on stderr when a record could not be kept. */
void sink_sort_done(struct sink_sort *s);
/* Sort, write piece 0 of every record to out in order, and start empty
 * again (the sinks whose record is one piece). */
void sink_sort_flush(struct sink_sort *s, FILE *out);
/* Piece k of entry e. */
static inline const char *sink_sort_piece(const struct sink_sort *s, const struct sink_sort_ent *e,
					  int k)
{
	size_t off = e->off;
	for (int i = 0; i < k; i++)
		off += e->len[i];
	return s->data.buf + off;
}

#endif
