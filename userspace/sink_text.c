/* SPDX-License-Identifier: MIT */
/* sink_text.c - one line per connection and a per-port summary table. */
#include "sink.h"

#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

#include "fmt.h"
#include "sbuf.h"

struct text_sink {
	struct lt_sink base;
	struct sbuf line;
	struct fmt_clock clock;
};

void sink_buffer_output(FILE *out)
{
	if (!isatty(fileno(out)))
		setvbuf(out, NULL, _IOFBF, 1u << 18);
}

static void text_begin(struct lt_sink *s, const struct lt_run_info *ri)
{
	(void)s;
	(void)ri;
}

static void text_conn(struct lt_sink *s, const struct flow *f, enum lt_verdict v)
{
	struct text_sink *ts = (struct text_sink *)s;
	struct sbuf *b = &ts->line;
	size_t col;

	sbuf_reset(b);
	fmt_time_sb(b, &ts->clock, f->t_first, 0);
	sbuf_lit(b, "  ");
	sbuf_addr_port(b, f->family, f->client.addr, f->client.port);
	sbuf_lit(b, " -> ");
	sbuf_addr_port(b, f->family, f->server.addr, f->server.port);
	sbuf_lit(b, "  ");
	col = b->len;
	verdict_text(b, f, v);
	sbuf_pad(b, col, 28);
	col = b->len;
	sbuf_putc(b, ' ');
	sbuf_puts(b, flow_zeek_state(f));
	sbuf_putc(b, ' ');
	sbuf_puts(b, f->history);
	sbuf_pad(b, col, 16);
	sbuf_lit(b, "  ");
	fmt_timeline(b, f);
	int64_t l1 = flow_syn_to_synack(f), l2 = flow_synack_to_ack(f);
	if (l1 >= 0) {
		sbuf_lit(b, "  hs=");
		fmt_dur_sb(b, l1);
		sbuf_putc(b, '/');
		fmt_dur_sb(b, l2);
	}
	for (int d = LT_DIR_C2S; d <= LT_DIR_S2C; d++) {
		const struct flow_side *sd = &f->side[d];
		if (sd->pid < 0)
			continue;
		if (d == LT_DIR_C2S)
			sbuf_lit(b, "  client=");
		else
			sbuf_lit(b, "  server=");
		sbuf_puts(b, sd->comm);
		sbuf_putc(b, '[');
		sbuf_i64(b, sd->pid);
		sbuf_putc(b, ']');
	}
	if (f->reset_reason[0]) {
		sbuf_lit(b, "  rst_reason=");
		sbuf_puts(b, f->reset_reason);
	}
	if (f->drop_reason[0]) {
		sbuf_lit(b, "  drop_reason=");
		sbuf_puts(b, f->drop_reason);
		sbuf_lit(b, "(x");
		sbuf_u64(b, f->drops);
		sbuf_putc(b, ')');
	}
	if (f->anomalies & LT_A_LISTEN_OVERFLOW)
		sbuf_lit(b, "  accept-queue-overflow");
	if (f->anomalies & LT_A_EVICTED)
		sbuf_lit(b, "  [evicted]");
	if (f->anomalies & LT_A_TIME_BACKWARDS)
		sbuf_lit(b, "  [timestamps out of order]");
	if (f->anomalies & LT_A_EVENTS_LOST)
		sbuf_lit(b, "  [events lost]");
	sbuf_putc(b, '\n');
	fwrite(sbuf_str(b), 1, b->len, s->out);
}

static void port_row(struct sbuf *b, const char *name, const struct port_stats *p)
{
	sbuf_printf(b, "%-7s %6" PRIu64 " %8" PRIu64 " %6" PRIu64 " %7" PRIu64
		       " %6" PRIu64 " %9" PRIu64 " %6" PRIu64 " %7" PRIu64 "  ",
		    name, p->conns, p->attempts, p->established,
		    p->verdict[LT_V_REFUSED], p->verdict[LT_V_UNANSWERED],
		    p->verdict[LT_V_HALF_OPEN], p->resets,
		    p->syn_retrans + p->synack_retrans);
	fmt_lat3(b, &p->syn_synack, "/");
	sbuf_putc(b, '\n');
}

static void decode_line(struct sbuf *b, const struct lt_source_stats *ss)
{
	const struct dec_stats *d = &ss->dec;
	uint64_t probs = dec_stats_problems(d);

	sbuf_printf(b, "decode: %" PRIu64 " frames, %" PRIu64 " tcp, %" PRIu64
		       " other, %" PRIu64 " problems",
		    d->frames, d->tcp, d->not_tcp, probs);
	if (probs) {
		const char *sep = " (";
		for (int r = DEC_TRUNCATED; r <= DEC_UNSUPPORTED; r++)
			for (int l = 0; l < DEC_LAYER_COUNT; l++)
				if (d->problems[r][l]) {
					sbuf_printf(b, "%s%s %s %" PRIu64, sep,
						    dec_result_name(r),
						    dec_layer_name(l),
						    d->problems[r][l]);
					if (r == DEC_MALFORMED && l == DEC_L_IPV4 &&
					    d->bad_ipv4_csum)
						sbuf_printf(b, " [bad header checksum %" PRIu64 "]",
							    d->bad_ipv4_csum);
					sep = ", ";
				}
		sbuf_putc(b, ')');
	}
	sbuf_putc(b, '\n');
}

static void text_end(struct lt_sink *s, const struct lt_run_info *ri,
		     const struct lt_run_end *re)
{
	struct text_sink *ts = (struct text_sink *)s;
	struct sbuf *b = &ts->line;
	uint16_t ports[256];
	int n = stats_ports(re->stats, ports, 256);

	sbuf_reset(b);
	sbuf_puts(b, "\nport     conns attempts  estab refused  unans half-open "
		     "resets retrans  syn->synack p50/p99/max\n");
	for (int i = 0; i < n; i++) {
		char name[8];
		snprintf(name, sizeof(name), "%u", ports[i]);
		port_row(b, name, re->stats->port[ports[i]]);
	}
	if (re->stats->nports > (uint32_t)n)
		sbuf_printf(b, "(%u more ports)\n", re->stats->nports - (uint32_t)n);
	if (n != 1)
		port_row(b, "total", &re->stats->total);
	sbuf_putc(b, '\n');
	if (ri->link_name)
		decode_line(b, re->src);
	sbuf_printf(b, "flows: %" PRIu64 " tracked, %" PRIu64 " evicted (capacity %u), %" PRIu64
		       " port reuses, %" PRIu64 " segments on other ports\n",
		    re->flows->created, re->flows->evicted, re->flows->capacity,
		    re->flows->reused, re->flows->filtered);
	sbuf_printf(b, "lost events: %" PRIu64 "\n", re->src->lost);
	if (re->src->ncounters) {
		sbuf_puts(b, "source counters:");
		for (int i = 0; i < re->src->ncounters; i++)
			sbuf_printf(b, "%s %s %" PRIu64, i ? "," : "",
				    re->src->counters[i].name, re->src->counters[i].value);
		sbuf_putc(b, '\n');
	}
	if (re->src->read_error[0])
		sbuf_printf(b, "input ended early: %s\n", re->src->read_error);
	if (ri->cut)
		sbuf_printf(b, "cut: %s\n", ri->cut);
	fwrite(sbuf_str(b), 1, b->len, s->out);
	fflush(s->out);
}

static void text_free(struct lt_sink *s)
{
	struct text_sink *ts = (struct text_sink *)s;
	sbuf_release(&ts->line);
	free(ts);
}

static const struct lt_sink_ops text_ops = {
	.begin = text_begin,
	.conn = text_conn,
	.end = text_end,
	.free = text_free,
};

struct lt_sink *sink_text_new(FILE *out)
{
	struct text_sink *ts = calloc(1, sizeof(*ts));
	if (!ts)
		return NULL;
	ts->base.ops = &text_ops;
	ts->base.out = out;
	sbuf_init(&ts->line, 1u << 20);
	fmt_clock_init(&ts->clock);
	sink_buffer_output(out);
	return &ts->base;
}
