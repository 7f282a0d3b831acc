/* SPDX-License-Identifier: MIT */
/* sink_json.c - newline-delimited JSON, fixed key order (docs/json-schema.md). */
#include "sink.h"

#include <inttypes.h>
#include <stdlib.h>

#include "fmt.h"
#include "sbuf.h"

struct json_sink {
	struct lt_sink base;
	struct sbuf rec;
};

static void key(struct sbuf *b, const char *k, int *first)
{
	if (!*first)
		sbuf_putc(b, ',');
	*first = 0;
	sbuf_json_str(b, k);
	sbuf_putc(b, ':');
}

static void kv_str(struct sbuf *b, const char *k, const char *v, int *first)
{
	key(b, k, first);
	sbuf_json_str(b, v);
}

static void kv_u64(struct sbuf *b, const char *k, uint64_t v, int *first)
{
	key(b, k, first);
	sbuf_printf(b, "%" PRIu64, v);
}

static void kv_i64_or_null(struct sbuf *b, const char *k, int64_t v, int *first)
{
	key(b, k, first);
	if (v < 0)
		sbuf_puts(b, "null");
	else
		sbuf_printf(b, "%" PRId64, v);
}

static void side_obj(struct sbuf *b, const struct flow_side *sd)
{
	int first = 1;
	sbuf_putc(b, '{');
	kv_u64(b, "packets", sd->pkts, &first);
	kv_u64(b, "data_packets", sd->data_pkts, &first);
	kv_u64(b, "bytes", sd->bytes, &first);
	kv_u64(b, "syn", sd->syn_count, &first);
	kv_u64(b, "fin", sd->fin_count, &first);
	kv_u64(b, "rst", sd->rst_count, &first);
	key(b, "pid", &first);
	if (sd->pid >= 0)
		sbuf_printf(b, "%d", sd->pid);
	else
		sbuf_puts(b, "null");
	key(b, "comm", &first);
	if (sd->pid >= 0)
		sbuf_json_str(b, sd->comm);
	else
		sbuf_puts(b, "null");
	sbuf_putc(b, '}');
}

static void addr_fields(struct sbuf *b, const char *prefix, const struct flow *f,
			const struct lt_endpoint *e, int *first)
{
	char ep[FMT_EP_LEN], a[FMT_ADDR_LEN], k[32];
	kv_str(b, prefix, fmt_endpoint(ep, f->family, e), first);
	snprintf(k, sizeof(k), "%s_addr", prefix);
	kv_str(b, k, fmt_addr(a, f->family, e->addr), first);
	snprintf(k, sizeof(k), "%s_port", prefix);
	kv_u64(b, k, e->port, first);
}

static const char *role_name(uint8_t r)
{
	switch ((enum lt_role_basis)r) {
	case LT_ROLE_SYN:
		return "syn";
	case LT_ROLE_SYNACK:
		return "synack";
	case LT_ROLE_PORT:
		return "port";
	}
	return "?";
}

static void anomalies(struct sbuf *b, uint32_t a, int *first)
{
	int f2 = 1;
	key(b, "anomalies", first);
	sbuf_putc(b, '[');
	for (int i = 0; i < 32; i++) {
		const char *name = lt_anomaly_name(1u << i);
		if ((a & (1u << i)) && name) {
			if (!f2)
				sbuf_putc(b, ',');
			f2 = 0;
			sbuf_json_str(b, name);
		}
	}
	sbuf_putc(b, ']');
}

void sink_json_conn_obj(struct sbuf *b, const struct flow *f, enum lt_verdict v)
{
	char t[FMT_TIME_LEN];
	int first = 1;

	sbuf_putc(b, '{');
	kv_str(b, "type", "connection", &first);
	kv_u64(b, "id", f->id, &first);
	kv_str(b, "start", fmt_time_iso(t, f->t_first), &first);
	kv_u64(b, "start_ns", f->t_first, &first);
	kv_u64(b, "duration_ns", f->t_last - f->t_first, &first);
	kv_u64(b, "ip_version", f->family, &first);
	addr_fields(b, "client", f, &f->client, &first);
	addr_fields(b, "server", f, &f->server, &first);
	kv_str(b, "role_basis", role_name(f->role_basis), &first);
	kv_str(b, "verdict", lt_verdict_name(v), &first);
	kv_str(b, "outcome", lt_verdict_name(flow_outcome(f)), &first);
	kv_str(b, "zeek_state", flow_zeek_state(f), &first);
	kv_str(b, "history", f->history, &first);
	key(b, "rst_by", &first);
	if (f->side[0].rst_count + f->side[1].rst_count)
		sbuf_json_str(b, f->rst_dir == LT_DIR_C2S ? "client" : "server");
	else
		sbuf_puts(b, "null");
	kv_str(b, "rst_phase", lt_rst_phase_name(f->rst_phase), &first);
	kv_u64(b, "syn_retransmissions",
	       f->side[0].syn_count > 1 ? f->side[0].syn_count - 1 : 0, &first);
	kv_u64(b, "synack_retransmissions",
	       f->side[1].syn_count > 1 ? f->side[1].syn_count - 1 : 0, &first);
	kv_i64_or_null(b, "syn_to_synack_ns", flow_syn_to_synack(f), &first);
	kv_i64_or_null(b, "synack_to_ack_ns", flow_synack_to_ack(f), &first);
	kv_i64_or_null(b, "syn_to_rst_ns", flow_syn_to_rst(f), &first);
	key(b, "c2s", &first);
	side_obj(b, &f->side[LT_DIR_C2S]);
	key(b, "s2c", &first);
	side_obj(b, &f->side[LT_DIR_S2C]);
	key(b, "kernel", &first);
	if (f->kctx) {
		int k1 = 1;
		sbuf_putc(b, '{');
		key(b, "reset_reason", &k1);
		f->reset_reason[0] ? sbuf_json_str(b, f->reset_reason)
				   : sbuf_puts(b, "null");
		key(b, "drop_reason", &k1);
		f->drop_reason[0] ? sbuf_json_str(b, f->drop_reason)
				  : sbuf_puts(b, "null");
		kv_u64(b, "drops", f->drops, &k1);
		key(b, "errno", &k1);
		f->sk_errno ? sbuf_printf(b, "%d", f->sk_errno)
			    : sbuf_puts(b, "null");
		kv_u64(b, "kernel_syn_retransmits", f->kernel_syn_retrans, &k1);
		sbuf_putc(b, '}');
	} else {
		sbuf_puts(b, "null");
	}
	anomalies(b, f->anomalies, &first);
	key(b, "timeline", &first);
	sbuf_putc(b, '[');
	for (unsigned i = 0; i < f->tl_len; i++) {
		const struct lt_tl_entry *e = &f->tl[i];
		int k2 = 1;
		if (i)
			sbuf_putc(b, ',');
		sbuf_putc(b, '{');
		kv_u64(b, "t_ns", e->t_ns - f->t_first, &k2);
		kv_str(b, "dir", e->dir == LT_DIR_C2S ? "c2s" : "s2c", &k2);
		kv_str(b, "kind", lt_tl_kind_name(e->kind), &k2);
		kv_u64(b, "count", e->count, &k2);
		kv_u64(b, "bytes", e->bytes, &k2);
		sbuf_putc(b, '}');
	}
	sbuf_putc(b, ']');
	kv_u64(b, "timeline_omitted", f->tl_omitted, &first);
	sbuf_putc(b, '}');
}

static void json_begin(struct lt_sink *s, const struct lt_run_info *ri)
{
	(void)s;
	(void)ri;
}

static void json_conn(struct lt_sink *s, const struct flow *f, enum lt_verdict v)
{
	struct json_sink *js = (struct json_sink *)s;
	sbuf_reset(&js->rec);
	sink_json_conn_obj(&js->rec, f, v);
	sbuf_putc(&js->rec, '\n');
	fwrite(sbuf_str(&js->rec), 1, js->rec.len, s->out);
}

static void hist_obj(struct sbuf *b, const char *k, const struct hist *h,
		     int *first)
{
	int f2 = 1;
	key(b, k, first);
	if (!h->count) {
		sbuf_puts(b, "null");
		return;
	}
	sbuf_putc(b, '{');
	kv_u64(b, "count", h->count, &f2);
	kv_u64(b, "p50", hist_percentile(h, 50), &f2);
	kv_u64(b, "p99", hist_percentile(h, 99), &f2);
	kv_u64(b, "max", h->max, &f2);
	sbuf_putc(b, '}');
}

static void port_obj(struct sbuf *b, const struct port_stats *p, int with_port)
{
	int first = 1;
	sbuf_putc(b, '{');
	if (with_port)
		kv_u64(b, "port", p->port, &first);
	kv_u64(b, "connections", p->conns, &first);
	kv_u64(b, "attempts", p->attempts, &first);
	kv_u64(b, "established", p->established, &first);
	key(b, "verdicts", &first);
	int f2 = 1;
	sbuf_putc(b, '{');
	for (int v = 0; v < LT_V_COUNT; v++)
		kv_u64(b, lt_verdict_name(v), p->verdict[v], &f2);
	sbuf_putc(b, '}');
	kv_u64(b, "resets", p->resets, &first);
	kv_u64(b, "syn_retransmissions", p->syn_retrans, &first);
	kv_u64(b, "synack_retransmissions", p->synack_retrans, &first);
	kv_u64(b, "kernel_drops", p->kernel_drops, &first);
	kv_u64(b, "bytes_c2s", p->bytes_c2s, &first);
	kv_u64(b, "bytes_s2c", p->bytes_s2c, &first);
	hist_obj(b, "syn_to_synack_ns", &p->syn_synack, &first);
	hist_obj(b, "syn_to_rst_ns", &p->syn_rst, &first);
	sbuf_putc(b, '}');
}

static void json_end(struct lt_sink *s, const struct lt_run_info *ri,
		     const struct lt_run_end *re)
{
	struct json_sink *js = (struct json_sink *)s;
	struct sbuf *b = &js->rec;
	const struct dec_stats *d = &re->src->dec;
	uint16_t ports[1024];
	int n = stats_ports(re->stats, ports, 1024);
	int first = 1;

	sbuf_reset(b);
	sbuf_putc(b, '{');
	kv_str(b, "type", "summary", &first);
	kv_str(b, "lotrace_version", ri->version, &first);
	kv_str(b, "backend", ri->backend, &first);
	kv_str(b, "input", ri->input ? ri->input : "", &first);
	key(b, "link_type", &first);
	ri->link_name ? sbuf_json_str(b, ri->link_name) : sbuf_puts(b, "null");
	key(b, "watched_ports", &first);
	sbuf_putc(b, '[');
	for (int i = 0; ri->ports && i < ri->ports->n; i++)
		sbuf_printf(b, "%s%u", i ? "," : "", ri->ports->list[i]);
	sbuf_putc(b, ']');
	key(b, "ports", &first);
	sbuf_putc(b, '[');
	for (int i = 0; i < n; i++) {
		if (i)
			sbuf_putc(b, ',');
		port_obj(b, re->stats->port[ports[i]], 1);
	}
	sbuf_putc(b, ']');
	key(b, "total", &first);
	port_obj(b, &re->stats->total, 0);
	key(b, "decode", &first);
	{
		int f2 = 1;
		sbuf_putc(b, '{');
		kv_u64(b, "frames", d->frames, &f2);
		kv_u64(b, "tcp", d->tcp, &f2);
		kv_u64(b, "other", d->not_tcp, &f2);
		kv_u64(b, "problems", dec_stats_problems(d), &f2);
		for (int r = DEC_TRUNCATED; r <= DEC_UNSUPPORTED; r++) {
			int f3 = 1;
			key(b, dec_result_name(r), &f2);
			sbuf_putc(b, '{');
			for (int l = 0; l < DEC_LAYER_COUNT; l++)
				kv_u64(b, dec_layer_name(l), d->problems[r][l], &f3);
			sbuf_putc(b, '}');
		}
		sbuf_putc(b, '}');
	}
	key(b, "flows", &first);
	{
		int f2 = 1;
		sbuf_putc(b, '{');
		kv_u64(b, "tracked", re->flows->created, &f2);
		kv_u64(b, "capacity", re->flows->capacity, &f2);
		kv_u64(b, "evicted", re->flows->evicted, &f2);
		kv_u64(b, "expired", re->flows->expired, &f2);
		kv_u64(b, "port_reuses", re->flows->reused, &f2);
		kv_u64(b, "segments", re->flows->segments, &f2);
		kv_u64(b, "segments_other_ports", re->flows->filtered, &f2);
		kv_u64(b, "kernel_events", re->flows->kernel_events, &f2);
		kv_u64(b, "kernel_unmatched", re->flows->kernel_unmatched, &f2);
		kv_u64(b, "timestamps_backwards", re->flows->ts_backwards, &f2);
		sbuf_putc(b, '}');
	}
	kv_u64(b, "lost_events", re->src->lost, &first);
	key(b, "input_error", &first);
	re->src->read_error[0] ? sbuf_json_str(b, re->src->read_error)
			       : sbuf_puts(b, "null");
	if (ri->cut) { /* only when reading stopped before the input did */
		key(b, "cut", &first);
		sbuf_json_str(b, ri->cut);
	}
	sbuf_puts(b, "}\n");
	fwrite(sbuf_str(b), 1, b->len, s->out);
	fflush(s->out);
}

static void json_free(struct lt_sink *s)
{
	struct json_sink *js = (struct json_sink *)s;
	sbuf_release(&js->rec);
	free(js);
}

static const struct lt_sink_ops json_ops = {
	.begin = json_begin,
	.conn = json_conn,
	.end = json_end,
	.free = json_free,
};

struct lt_sink *sink_json_new(FILE *out)
{
	struct json_sink *js = calloc(1, sizeof(*js));
	if (!js)
		return NULL;
	js->base.ops = &json_ops;
	js->base.out = out;
	sbuf_init(&js->rec, 1u << 20);
	return &js->base;
}
