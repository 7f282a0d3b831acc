/* SPDX-License-Identifier: MIT */
/* tui_pcap.c - connections' timelines as a header-only pcap (via pcapw). */
#include "tui_pcap.h"

#include "pcapw.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One packet to be: what it needs to be built, and when. */
struct syn_pkt {
	uint64_t t_ns;
	const struct flow *f;
	uint32_t order; /* creation order, for a stable sort */
	uint32_t seq, ack;
	uint32_t payload;
	uint8_t dir;
	uint8_t flags;
};

struct pkt_vec {
	struct syn_pkt *p;
	size_t n, alloc;
};

static int push(struct pkt_vec *v, const struct syn_pkt *p)
{
	if (v->n == v->alloc) {
		size_t a = v->alloc ? v->alloc * 2 : 1024;
		struct syn_pkt *np = realloc(v->p, a * sizeof(*np));
		if (!np)
			return -1;
		v->p = np;
		v->alloc = a;
	}
	v->p[v->n] = *p;
	v->p[v->n].order = (uint32_t)v->n;
	v->n++;
	return 0;
}

/* An ISN for a side whose SYN was not seen: any fixed value will do. */
static uint32_t made_up_isn(const struct flow *f, int dir)
{
	return (uint32_t)(f->id * 2654435761u) ^ (dir ? 0x5a5a0000u : 0x1000u);
}

/* Turn one flow's timeline into packets. */
static int flow_packets(struct pkt_vec *v, const struct flow *f)
{
	uint32_t next[2];
	int have_isn[2];

	for (int d = 0; d < 2; d++) {
		have_isn[d] = f->side[d].syn_count > 0;
		next[d] = have_isn[d] ? f->side[d].isn + 1 : made_up_isn(f, d);
	}
	for (unsigned i = 0; i < f->tl_len; i++) {
		const struct lt_tl_entry *e = &f->tl[i];
		int d = e->dir & 1, o = !d;
		uint32_t count = e->count ? e->count : 1;
		struct syn_pkt p = {
			.t_ns = e->t_ns, .f = f, .dir = (uint8_t)d, .flags = e->flags
		};

		if (count > 10000)
			count = 10000; /* a long transfer: enough to show it */
		switch ((enum lt_tl_kind)e->kind) {
		case LT_TL_SYN:
		case LT_TL_SYNACK: {
			const struct flow_side *s = &f->side[d];
			p.seq = have_isn[d] ? s->isn : next[d] - 1;
			p.ack = (e->flags & LT_TCP_ACK) ? next[o] : 0;
			for (uint32_t k = 0; k < count; k++) {
				/* retransmissions: spread between the first and last seen */
				if (count > 1 && s->t_syn_last > s->t_syn_first)
					p.t_ns = s->t_syn_first +
						 (s->t_syn_last - s->t_syn_first) * k / (count - 1);
				if (push(v, &p) < 0)
					return -1;
			}
			next[d] = p.seq + 1;
			break;
		}
		case LT_TL_ACK:
			p.seq = next[d];
			p.ack = next[o];
			if (push(v, &p) < 0)
				return -1;
			break;
		case LT_TL_DATA: {
			uint64_t left = e->bytes;
			for (uint32_t k = 0; k < count; k++) {
				uint64_t len = left / (count - k);
				if (len > 65000)
					len = 65000;
				p.t_ns = e->t_ns + k; /* unknown: keep them in order */
				p.seq = next[d];
				p.ack = next[o];
				p.payload = (uint32_t)len;
				if (push(v, &p) < 0)
					return -1;
				next[d] += (uint32_t)len;
				left -= len;
			}
			break;
		}
		case LT_TL_FIN:
			p.seq = next[d];
			p.ack = next[o];
			for (uint32_t k = 0; k < count; k++) {
				p.t_ns = e->t_ns + k;
				if (push(v, &p) < 0)
					return -1;
			}
			next[d]++;
			break;
		case LT_TL_RST:
			/* a RST answering a SYN carries seq 0 and acks the SYN */
			p.seq = (d == LT_DIR_S2C && !have_isn[d]) ? 0 : next[d];
			p.ack = (e->flags & LT_TCP_ACK) ? next[o] : 0;
			if (push(v, &p) < 0)
				return -1;
			break;
		case LT_TL_DROP:
		case LT_TL_KIND_COUNT:
			break; /* a kernel event, not a segment */
		}
	}
	return 0;
}

static int cmp_pkt(const void *a, const void *b)
{
	const struct syn_pkt *x = a, *y = b;
	if (x->t_ns != y->t_ns)
		return x->t_ns < y->t_ns ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

long tui_pcap_write(const char *path, const struct flow *const *flows, size_t n, char *err,
		    size_t errlen)
{
	struct pkt_vec v = { 0 };
	struct pcapw *w = NULL;
	char perr[LT_ERR_LEN];
	long written = -1;

	for (size_t i = 0; i < n; i++)
		if (flow_packets(&v, flows[i]) < 0) {
			snprintf(err, errlen, "cannot write '%s': out of memory", path);
			goto out;
		}
	qsort(v.p, v.n, sizeof(*v.p), cmp_pkt);

	w = pcapw_open(path, perr);
	if (!w) {
		snprintf(err, errlen, "%s", perr);
		goto out;
	}
	for (size_t i = 0; i < v.n; i++) {
		const struct syn_pkt *k = &v.p[i];
		const struct flow *f = k->f;
		const struct lt_endpoint *src = k->dir ? &f->server : &f->client;
		const struct lt_endpoint *dst = k->dir ? &f->client : &f->server;
		pcapw_segment(w, k->t_ns, f->family, src, dst, k->flags, k->seq, k->ack,
			      k->payload);
	}
	int rc = pcapw_close(w);
	w = NULL;
	if (rc < 0) {
		snprintf(err, errlen, "cannot write '%s': %s", path, strerror(-rc));
		remove(path);
		goto out;
	}
	written = (long)v.n;
out:
	if (w)
		pcapw_close(w);
	free(v.p);
	return written;
}
