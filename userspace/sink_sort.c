/* SPDX-License-Identifier: MIT */
/*
 * sink_sort.c - records kept in one growing buffer, indexed, sorted by
 * (start, id) at the end of the input (--sort start).
 */
#include "sink_sort.h"

#include <stdlib.h>
#include <string.h>

void sink_sort_init(struct sink_sort *s)
{
	memset(s, 0, sizeof(*s));
	sbuf_init(&s->data, (size_t)1 << 40); /* bounded by memory, not a cap */
}

void sink_sort_release(struct sink_sort *s)
{
	sbuf_release(&s->data);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

bool sink_sort_add(struct sink_sort *s, uint64_t t_ns, uint64_t id,
		   const struct sbuf *const piece[SINK_SORT_PIECES])
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		struct sink_sort_ent *v = realloc(s->v, cap * sizeof(*v));
		if (!v) {
			s->nomem = true;
			return false;
		}
		s->v = v;
		s->cap = cap;
	}
	struct sink_sort_ent *e = &s->v[s->n];
	e->t_ns = t_ns;
	e->id = id;
	e->off = s->data.len;
	for (int k = 0; k < SINK_SORT_PIECES; k++) {
		size_t n = piece[k] ? piece[k]->len : 0;
		if (n)
			sbuf_add(&s->data, piece[k]->buf, n);
		e->len[k] = (uint32_t)n;
	}
	if (s->data.toobig) {
		s->nomem = true;
		return false;
	}
	s->n++;
	return true;
}

static int by_start(const void *a, const void *b)
{
	const struct sink_sort_ent *x = a, *y = b;
	if (x->t_ns != y->t_ns)
		return x->t_ns < y->t_ns ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

void sink_sort_done(struct sink_sort *s)
{
	if (s->nomem)
		fprintf(stderr, "lotrace: out of memory holding records for --sort start; "
				"some connections are missing, use --sort end\n");
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), by_start);
}

void sink_sort_flush(struct sink_sort *s, FILE *out)
{
	sink_sort_done(s);
	for (size_t i = 0; i < s->n; i++)
		fwrite(sink_sort_piece(s, &s->v[i], 0), 1, s->v[i].len[0], out);
	sink_sort_release(s);
	sink_sort_init(s);
}
