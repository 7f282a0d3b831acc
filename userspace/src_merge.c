/* SPDX-License-Identifier: MIT */
/*
 * src_merge.c - several sources read as one, merged by timestamp (like
 * mergecap): lotrace -r a.pcap -r b.pcap.
 *
 * A decorator: it owns its sub-sources, pulls one packet at a time from
 * each, keeps the observations each produced (with a copy of the frame,
 * so -w still writes the packets as they were) and hands out the oldest
 * first; on equal times the earlier file goes first. Its frames carry the
 * largest snap length of the files, as mergecap's header does, so the
 * header -w writes holds every packet. Memory: one pending packet per
 * file. A sub-source that fails mid-read ends there; the error names it
 * and the others are read to the end.
 * Does not own: decoding or filtering (the sub-sources do that).
 */
#include "src_merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pending {
	struct lt_obs o;
	struct lt_frame fr;
	uint8_t *buf; /* copy of fr.data */
	size_t cap;
};

struct slot {
	struct lt_source *src;
	struct pending *q; /* observations of its current packet */
	int n, head, cap;
	int eof;
};

struct merge_src {
	struct lt_source base;
	struct slot *slots;
	int nslots;
	uint64_t last_ts;
	char read_error[LT_ERR_LEN];
};

static void capture(void *ctx, const struct lt_obs *o)
{
	struct slot *sl = ctx;
	if (sl->n == sl->cap) {
		int ncap = sl->cap ? sl->cap * 2 : 2;
		struct pending *q = realloc(sl->q, (size_t)ncap * sizeof(*q));
		if (!q)
			return; /* counted nowhere: only under memory exhaustion */
		memset(q + sl->cap, 0, (size_t)(ncap - sl->cap) * sizeof(*q));
		sl->q = q;
		sl->cap = ncap;
	}
	struct pending *p = &sl->q[sl->n];
	p->o = *o;
	p->o.frame = NULL;
	if (o->frame) {
		if (p->cap < o->frame->caplen) {
			uint8_t *b = realloc(p->buf, o->frame->caplen);
			if (!b)
				goto done;
			p->buf = b;
			p->cap = o->frame->caplen;
		}
		memcpy(p->buf, o->frame->data, o->frame->caplen);
		p->fr = *o->frame;
		p->fr.data = p->buf;
		p->o.frame = &p->fr;
	}
done:
	sl->n++;
}

/* Make sure a slot has an observation queued, unless its input ended. */
static void fill(struct slot *sl)
{
	while (sl->head >= sl->n && !sl->eof) {
		sl->head = sl->n = 0;
		int r = sl->src->ops->dispatch(sl->src, 1, capture, sl);
		if (r == LT_SRC_EOF || r < 0)
			sl->eof = 1;
	}
}

static int merge_dispatch(struct lt_source *base, int budget, lt_obs_fn fn, void *ctx)
{
	struct merge_src *m = (struct merge_src *)base;
	int delivered = 0;

	while (delivered < budget) {
		struct slot *best = NULL;
		for (int i = 0; i < m->nslots; i++) {
			struct slot *sl = &m->slots[i];
			fill(sl);
			if (sl->head < sl->n &&
			    (!best || sl->q[sl->head].o.ts_ns < best->q[best->head].o.ts_ns))
				best = sl;
		}
		if (!best)
			return delivered ? delivered : LT_SRC_EOF;
		struct pending *p = &best->q[best->head++];
		if (p->o.frame) {
			p->o.frame = &p->fr; /* the queue may have moved */
			p->fr.snaplen = base->snaplen;
		}
		m->last_ts = p->o.ts_ns;
		fn(ctx, &p->o);
		delivered++;
	}
	return delivered;
}

static int merge_fd(struct lt_source *base)
{
	(void)base;
	return -1;
}

static uint64_t merge_now(struct lt_source *base)
{
	return ((struct merge_src *)base)->last_ts;
}

static void add_dec(struct dec_stats *a, const struct dec_stats *b)
{
	a->frames += b->frames;
	a->tcp += b->tcp;
	a->not_tcp += b->not_tcp;
	for (int r = 0; r < DEC_RESULT_COUNT; r++)
		for (int l = 0; l < DEC_LAYER_COUNT; l++)
			a->problems[r][l] += b->problems[r][l];
}

static void merge_stats(struct lt_source *base, struct lt_source_stats *st)
{
	struct merge_src *m = (struct merge_src *)base;
	memset(st, 0, sizeof(*st));
	for (int i = 0; i < m->nslots; i++) {
		struct lt_source_stats s;
		m->slots[i].src->ops->stats(m->slots[i].src, &s);
		st->received += s.received;
		st->lost += s.lost;
		st->lost_kernel += s.lost_kernel;
		st->lost_iface += s.lost_iface;
		add_dec(&st->dec, &s.dec);
		st->truncated_file |= s.truncated_file;
		if (s.read_error[0] && !st->read_error[0])
			snprintf(st->read_error, sizeof(st->read_error), "'%s': %s",
				 m->slots[i].src->desc, s.read_error);
	}
}

static void merge_close(struct lt_source *base)
{
	struct merge_src *m = (struct merge_src *)base;
	for (int i = 0; i < m->nslots; i++) {
		struct slot *sl = &m->slots[i];
		for (int j = 0; j < sl->cap; j++)
			free(sl->q[j].buf);
		free(sl->q);
		if (sl->src)
			sl->src->ops->close(sl->src);
	}
	free(m->slots);
	free(m);
}

static const struct lt_source_ops merge_ops = {
	.name = "pcap-file",
	.fd = merge_fd,
	.dispatch = merge_dispatch,
	.now = merge_now,
	.stats = merge_stats,
	.close = merge_close,
};

struct lt_source *src_merge_open(struct lt_source **subs, int n, char err[LT_ERR_LEN])
{
	struct merge_src *m = calloc(1, sizeof(*m));
	if (m)
		m->slots = calloc((size_t)n, sizeof(*m->slots));
	if (!m || !m->slots) {
		free(m);
		for (int i = 0; i < n; i++)
			subs[i]->ops->close(subs[i]);
		snprintf(err, LT_ERR_LEN, "out of memory");
		return NULL;
	}
	m->base.ops = &merge_ops;
	m->nslots = n;
	m->base.link_type = subs[0]->link_type;
	snprintf(m->base.link_name, sizeof(m->base.link_name), "%s", subs[0]->link_name);
	size_t used = 0;
	for (int i = 0; i < n; i++) {
		m->slots[i].src = subs[i];
		if (subs[i]->snaplen > m->base.snaplen)
			m->base.snaplen = subs[i]->snaplen;
		if (subs[i]->link_type != m->base.link_type)
			snprintf(m->base.link_name, sizeof(m->base.link_name), "mixed");
		if (used < sizeof(m->base.desc))
			used += (size_t)snprintf(m->base.desc + used, sizeof(m->base.desc) - used,
						 "%s%s", i ? " + " : "", subs[i]->desc);
	}
	return &m->base;
}
