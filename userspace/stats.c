/* SPDX-License-Identifier: MIT */
/* stats.c - per-port counts and latencies of retired flows. */
#include "stats.h"

#include <stdlib.h>
#include <string.h>

struct stats *stats_new(void)
{
	struct stats *s = calloc(1, sizeof(*s));
	if (s) {
		hist_init(&s->total.syn_synack);
		hist_init(&s->total.syn_rst);
	}
	return s;
}

void stats_free(struct stats *s)
{
	if (!s)
		return;
	for (size_t i = 0, n = 0; i < 65536 && n < s->nports; i++)
		if (s->port[i]) {
			free(s->port[i]);
			n++;
		}
	free(s);
}

static struct port_stats *row(struct stats *s, uint16_t port)
{
	if (!s->port[port]) {
		struct port_stats *p = calloc(1, sizeof(*p));
		if (!p)
			return NULL;
		p->port = port;
		hist_init(&p->syn_synack);
		hist_init(&p->syn_rst);
		s->port[port] = p;
		s->nports++;
	}
	return s->port[port];
}

void stats_watch(struct stats *s, uint16_t port)
{
	row(s, port);
}

static void count(struct port_stats *p, const struct flow *f, enum lt_verdict v)
{
	const struct flow_side *c = &f->side[LT_DIR_C2S];
	const struct flow_side *sv = &f->side[LT_DIR_S2C];

	p->conns++;
	if (c->syn_count)
		p->attempts++;
	if (flow_established(f))
		p->established++;
	p->verdict[v]++;
	if (v == LT_V_RESET_CLIENT || v == LT_V_RESET_SERVER)
		p->resets++;
	if (c->syn_count > 1)
		p->syn_retrans += c->syn_count - 1;
	if (sv->syn_count > 1)
		p->synack_retrans += sv->syn_count - 1;
	p->kernel_drops += f->drops;
	p->bytes_c2s += c->bytes;
	p->bytes_s2c += sv->bytes;
	int64_t lat = flow_syn_to_synack(f);
	if (lat >= 0)
		hist_add(&p->syn_synack, (uint64_t)lat);
	lat = flow_syn_to_rst(f);
	if (lat >= 0)
		hist_add(&p->syn_rst, (uint64_t)lat);
}

void stats_add(struct stats *s, const struct flow *f, enum lt_verdict v)
{
	struct port_stats *p = row(s, f->server.port);
	if (p)
		count(p, f, v);
	count(&s->total, f, v);
	if (!s->first_ts || f->t_first < s->first_ts)
		s->first_ts = f->t_first;
	if (f->t_last > s->last_ts)
		s->last_ts = f->t_last;
}

int stats_ports(const struct stats *s, uint16_t *out, int max)
{
	int n = 0;
	/* stop at the last row: most runs see a handful of ports */
	for (uint32_t p = 0; p < 65536 && n < max && (uint32_t)n < s->nports; p++)
		if (s->port[p])
			out[n++] = (uint16_t)p;
	return n;
}
