/* SPDX-License-Identifier: MIT */
/* sink_json.c - newline-delimited JSON, fixed key order (docs/json-schema.md). */
#include "sink.h"

#include <inttypes.h>
#include <stdlib.h>

#include "fmt.h"
#include "json.h"
#include "sbuf.h"
#include "sink_sort.h"

struct json_sink {
	struct lt_sink base;
	struct lt_sink_cfg cfg;
	struct sbuf rec;
	struct fmt_clock clock;
	struct sink_sort sorted; /* --sort start */
};

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

/* What one side's first bytes were (proto.h): never more than a line. */
static void proto_side(struct json *j, const char *k, const struct proto_id *p)
{
	json_key(j, k);
	if (p->kind == PROTO_NONE) {
		json_null(j);
		return;
	}
	json_obj_open(j);
	json_kv_safe(j, "kind", proto_kind_name(p->kind));
	json_kv_str_or_null(j, "protocol", proto_family(p->kind));
	json_kv_str_or_null(j, "line", p->line);
	if (p->kind == PROTO_HTTP_RESPONSE)
		json_kv_u64(j, "status", p->status);
	else
		json_kv_null(j, "status");
	json_kv_str_or_null(j, "tls_version", proto_tls_version_name(p->tls_version));
	json_kv_str_or_null(j, "sni", p->sni);
	if (p->kind == PROTO_TLS_ALERT)
		json_kv_str(j, "tls_alert", proto_tls_alert_name(p->alert_desc));
	else
		json_kv_null(j, "tls_alert");
	json_obj_close(j);
}

/* "protocol": null when no payload byte was kept (eBPF, --no-payload,
 * no data), else what each side spoke and the mismatch. */
static void protocol_obj(struct json *j, const struct flow *f)
{
	json_key(j, "protocol");
	if (!f->side[LT_DIR_C2S].head_len && !f->side[LT_DIR_S2C].head_len) {
		json_null(j);
		return;
	}
	struct proto_id c, s;
	flow_protocols(f, &c, &s);
	json_obj_open(j);
	proto_side(j, "client", &c);
	proto_side(j, "server", &s);
	json_kv_safe(j, "mismatch", proto_clash_name(proto_clash(&c, &s)));
	json_obj_close(j);
}

static void side_obj(struct json *j, const char *k, const struct flow_side *sd)
{
	json_key(j, k);
	json_obj_open(j);
	json_kv_u64(j, "packets", sd->pkts);
	json_kv_u64(j, "data_packets", sd->data_pkts);
	json_kv_u64(j, "bytes", sd->bytes);
	json_kv_u64(j, "syn", sd->syn_count);
	json_kv_u64(j, "fin", sd->fin_count);
	json_kv_u64(j, "rst", sd->rst_count);
	json_key(j, "copies"); /* not in the counts above (flow.h) */
	json_obj_open(j);
	json_kv_u64(j, "packets", sd->copies.pkts);
	json_kv_u64(j, "syn", sd->copies.syn);
	json_kv_u64(j, "fin", sd->copies.fin);
	json_kv_u64(j, "rst", sd->copies.rst);
	json_kv_u64(j, "data_packets", sd->copies.data_pkts);
	json_kv_u64(j, "bytes", sd->copies.bytes);
	json_obj_close(j);
	if (sd->pid >= 0) {
		json_kv_i64(j, "pid", sd->pid);
		json_kv_str(j, "comm", sd->comm);
	} else {
		json_kv_null(j, "pid");
		json_kv_null(j, "comm");
	}
	json_obj_close(j);
}

static void addr_fields(struct json *j, const char *k_ep, const char *k_addr, const char *k_port,
			const struct flow *f, const struct lt_endpoint *e)
{
	struct sbuf *b = j->b;
	json_key(j, k_ep);
	json_value_begin(j);
	sbuf_putc(b, '"');
	sbuf_addr_port(b, f->family, e->addr, e->port);
	sbuf_putc(b, '"');
	json_key(j, k_addr);
	json_value_begin(j);
	sbuf_putc(b, '"');
	sbuf_addr(b, f->family, e->addr);
	sbuf_putc(b, '"');
	json_kv_u64(j, k_port, e->port);
}

void sink_json_anomalies(struct json *j, const char *k, uint32_t a)
{
	json_key(j, k);
	json_arr_open(j);
	for (int i = 0; i < 32; i++) {
		const char *name = lt_anomaly_name(1u << i);
		if ((a & (1u << i)) && name)
			json_str_safe(j, name);
	}
	json_arr_close(j);
}

static void conn_obj(struct json *j, struct fmt_clock *clk, const struct flow *f, enum lt_verdict v)
{
	struct sbuf *b = j->b;

	json_obj_open(j);
	json_kv_safe(j, "type", "connection");
	json_kv_u64(j, "schema_version", LT_JSON_SCHEMA_VERSION);
	json_kv_u64(j, "id", f->id);
	json_kv_u64(j, "stream", sink_stream_index(f));
	json_key(j, "start");
	json_value_begin(j);
	sbuf_putc(b, '"');
	fmt_time_iso_sb(b, clk, f->t_first);
	sbuf_putc(b, '"');
	json_kv_u64(j, "start_ns", f->t_first);
	json_kv_u64(j, "duration_ns", f->t_last - f->t_first);
	json_kv_u64(j, "ip_version", f->family);
	addr_fields(j, "client", "client_addr", "client_port", f, &f->client);
	addr_fields(j, "server", "server_addr", "server_port", f, &f->server);
	if (f->ns) { /* eBPF only: captures know no namespaces */
		json_key(j, "netns");
		json_obj_open(j);
		json_kv_u64(j, "inode", f->ns->ino);
		json_kv_str_or_null(j, "name", f->ns->name[0] ? f->ns->name : NULL);
		json_kv_str_or_null(j, "container", f->ns->container[0] ? f->ns->container : NULL);
		json_obj_close(j);
	}
	json_kv_safe(j, "role_basis", role_name(f->role_basis));
	json_kv_safe(j, "verdict", lt_verdict_name(v));
	json_kv_safe(j, "outcome", lt_verdict_name(flow_outcome(f)));
	json_kv_safe(j, "zeek_state", flow_zeek_state(f));
	json_kv_str(j, "history", f->history);
	if (f->side[0].rst_count + f->side[1].rst_count)
		json_kv_safe(j, "rst_by", f->rst_dir == LT_DIR_C2S ? "client" : "server");
	else
		json_kv_null(j, "rst_by");
	json_kv_safe(j, "rst_phase", lt_rst_phase_name(f->rst_phase));
	json_kv_u64(j, "syn_retransmissions",
		    f->side[0].syn_count > 1 ? f->side[0].syn_count - 1 : 0);
	json_kv_u64(j, "synack_retransmissions",
		    f->side[1].syn_count > 1 ? f->side[1].syn_count - 1 : 0);
	json_kv_nonneg_or_null(j, "syn_to_synack_ns", flow_syn_to_synack(f));
	json_kv_nonneg_or_null(j, "synack_to_ack_ns", flow_synack_to_ack(f));
	json_kv_nonneg_or_null(j, "syn_to_rst_ns", flow_syn_to_rst(f));
	side_obj(j, "c2s", &f->side[LT_DIR_C2S]);
	side_obj(j, "s2c", &f->side[LT_DIR_S2C]);
	json_key(j, "kernel");
	if (f->kctx) {
		json_obj_open(j);
		json_kv_str_or_null(j, "reset_reason", f->reset_reason);
		json_kv_str_or_null(j, "drop_reason", f->drop_reason);
		json_kv_u64(j, "drops", f->drops);
		if (f->sk_errno)
			json_kv_i64(j, "errno", f->sk_errno);
		else
			json_kv_null(j, "errno");
		json_kv_u64(j, "kernel_syn_retransmits", f->kernel_syn_retrans);
		/* the listener when its accept queue was full */
		json_key(j, "listen_overflow");
		if (f->anomalies & LT_A_LISTEN_OVERFLOW) {
			json_obj_open(j);
			json_kv_u64(j, "backlog", f->ovf_backlog);
			json_kv_u64(j, "queued", f->ovf_queued);
			if (f->side[LT_DIR_S2C].pid > 0) {
				json_kv_i64(j, "pid", f->side[LT_DIR_S2C].pid);
				json_kv_str_or_null(j, "comm", f->side[LT_DIR_S2C].comm);
			} else {
				json_kv_null(j, "pid");
				json_kv_null(j, "comm");
			}
			json_obj_close(j);
		} else {
			json_null(j);
		}
		json_obj_close(j);
	} else {
		json_null(j);
	}
	sink_json_anomalies(j, "anomalies", f->anomalies);
	protocol_obj(j, f);
	json_key(j, "timeline");
	json_arr_open(j);
	for (unsigned i = 0; i < f->tl_len; i++) {
		/* the bulk of a record: written as fixed pieces between numbers */
		const struct lt_tl_entry *e = &f->tl[i];
		json_value_begin(j);
		sbuf_lit(b, "{\"t_ns\":");
		sbuf_u64(b, e->t_ns - f->t_first);
		if (e->dir == LT_DIR_C2S)
			sbuf_lit(b, ",\"dir\":\"c2s\",\"kind\":\"");
		else
			sbuf_lit(b, ",\"dir\":\"s2c\",\"kind\":\"");
		sbuf_puts(b, lt_tl_kind_name(e->kind));
		sbuf_lit(b, "\",\"count\":");
		sbuf_u64(b, e->count);
		sbuf_lit(b, ",\"bytes\":");
		sbuf_u64(b, e->bytes);
		sbuf_putc(b, '}');
	}
	json_arr_close(j);
	json_kv_u64(j, "timeline_omitted", f->tl_omitted);
	json_obj_close(j);
}

void sink_json_conn_obj(struct sbuf *b, const struct flow *f, enum lt_verdict v)
{
	struct json j;
	struct fmt_clock clk;

	fmt_clock_init(&clk);
	json_init(&j, b);
	conn_obj(&j, &clk, f, v);
}

static void json_begin(struct lt_sink *s, const struct lt_run_info *ri)
{
	(void)s;
	(void)ri;
}

static void json_conn(struct lt_sink *s, const struct flow *f, enum lt_verdict v)
{
	struct json_sink *js = (struct json_sink *)s;
	struct json j;

	if (js->cfg.quiet)
		return;
	sbuf_reset(&js->rec);
	json_init(&j, &js->rec);
	conn_obj(&j, &js->clock, f, v);
	sbuf_putc(&js->rec, '\n');
	if (js->cfg.sort_start) {
		const struct sbuf *const pieces[SINK_SORT_PIECES] = { &js->rec, NULL, NULL };
		sink_sort_add(&js->sorted, f->t_first, f->id, pieces); /* nomem: said at the end */
		return;
	}
	fwrite(sbuf_str(&js->rec), 1, js->rec.len, s->out);
}

void sink_json_hist(struct json *j, const char *k, const struct hist *h)
{
	json_key(j, k);
	if (!h->count) {
		json_null(j);
		return;
	}
	json_obj_open(j);
	json_kv_u64(j, "count", h->count);
	json_kv_u64(j, "p50", hist_percentile(h, 50));
	json_kv_u64(j, "p99", hist_percentile(h, 99));
	json_kv_u64(j, "max", h->max);
	json_obj_close(j);
}

void sink_json_port(struct json *j, const struct port_stats *p, int with_port)
{
	json_obj_open(j);
	if (with_port)
		json_kv_u64(j, "port", p->port);
	json_kv_u64(j, "connections", p->conns);
	json_kv_u64(j, "attempts", p->attempts);
	json_kv_u64(j, "established", p->established);
	json_key(j, "verdicts");
	json_obj_open(j);
	for (int v = 0; v < LT_V_COUNT; v++)
		json_kv_u64(j, lt_verdict_name(v), p->verdict[v]);
	json_obj_close(j);
	json_kv_u64(j, "resets", p->resets);
	json_kv_u64(j, "syn_retransmissions", p->syn_retrans);
	json_kv_u64(j, "synack_retransmissions", p->synack_retrans);
	json_kv_u64(j, "kernel_drops", p->kernel_drops);
	json_kv_u64(j, "bytes_c2s", p->bytes_c2s);
	json_kv_u64(j, "bytes_s2c", p->bytes_s2c);
	sink_json_hist(j, "syn_to_synack_ns", &p->syn_synack);
	sink_json_hist(j, "syn_to_rst_ns", &p->syn_rst);
	json_obj_close(j);
}

static void json_end(struct lt_sink *s, const struct lt_run_info *ri, const struct lt_run_end *re)
{
	struct json_sink *js = (struct json_sink *)s;
	struct sbuf *b = &js->rec;
	const struct dec_stats *d = &re->src->dec;
	uint16_t ports[1024];
	int n = stats_ports(re->stats, ports, 1024);
	struct json j;

	if (js->cfg.sort_start) {
		struct sink_sort *so = &js->sorted;
		if (so->nomem)
			fprintf(stderr, "lotrace: out of memory holding records for --sort start; "
					"some connections are missing, use --sort end\n");
		sink_sort_done(so);
		for (size_t i = 0; i < so->n; i++)
			fwrite(sink_sort_piece(so, &so->v[i], 0), 1, so->v[i].len[0], s->out);
		sink_sort_release(so);
		sink_sort_init(so);
	}
	sbuf_reset(b);
	json_init(&j, b);
	json_obj_open(&j);
	json_kv_str(&j, "type", "summary");
	json_kv_u64(&j, "schema_version", LT_JSON_SCHEMA_VERSION);
	json_kv_str(&j, "lotrace_version", ri->version);
	json_kv_str(&j, "backend", ri->backend);
	json_kv_str(&j, "input", ri->input ? ri->input : "");
	json_kv_str_or_null(&j, "link_type", ri->link_name);
	json_key(&j, "watched_ports");
	json_arr_open(&j);
	for (int i = 0; ri->ports && i < ri->ports->n; i++)
		json_u64(&j, ri->ports->list[i]);
	json_arr_close(&j);
	json_key(&j, "ports");
	json_arr_open(&j);
	for (int i = 0; i < n; i++)
		sink_json_port(&j, re->stats->port[ports[i]], 1);
	json_arr_close(&j);
	json_key(&j, "total");
	sink_json_port(&j, &re->stats->total, 0);
	json_key(&j, "decode");
	json_obj_open(&j);
	json_kv_u64(&j, "frames", d->frames);
	json_kv_u64(&j, "tcp", d->tcp);
	json_kv_u64(&j, "other", d->not_tcp);
	json_kv_u64(&j, "problems", dec_stats_problems(d));
	json_kv_u64(&j, "bad_ipv4_checksum", d->bad_ipv4_csum);
	for (int r = DEC_TRUNCATED; r <= DEC_UNSUPPORTED; r++) {
		json_key(&j, dec_result_name(r));
		json_obj_open(&j);
		for (int l = 0; l < DEC_LAYER_COUNT; l++)
			json_kv_u64(&j, dec_layer_name(l), d->problems[r][l]);
		json_obj_close(&j);
	}
	json_obj_close(&j);
	json_key(&j, "flows");
	json_obj_open(&j);
	json_kv_u64(&j, "tracked", re->flows->created);
	json_kv_u64(&j, "capacity", re->flows->capacity);
	json_kv_u64(&j, "evicted", re->flows->evicted);
	json_kv_u64(&j, "expired", re->flows->expired);
	json_kv_u64(&j, "port_reuses", re->flows->reused);
	json_kv_u64(&j, "segments", re->flows->segments);
	json_kv_u64(&j, "segments_other_ports", re->flows->filtered);
	json_kv_u64(&j, "kernel_events", re->flows->kernel_events);
	json_kv_u64(&j, "kernel_unmatched", re->flows->kernel_unmatched);
	json_kv_u64(&j, "timestamps_backwards", re->flows->ts_backwards);
	json_kv_u64(&j, "time_jumps", re->flows->time_jumps);
	json_key(&j, "time_jump_first");
	if (re->flows->time_jumps) {
		json_obj_open(&j);
		json_kv_i64(&j, "by_ns", re->flows->jump_first_ns);
		if (re->flows->jump_first_frame)
			json_kv_u64(&j, "frame", re->flows->jump_first_frame);
		else
			json_kv_null(&j, "frame");
		json_obj_close(&j);
	} else {
		json_null(&j);
	}
	json_obj_close(&j);
	json_kv_u64(&j, "lost_events", re->src->lost);
	if (re->src->ncounters) { /* the source's own counters, all of them */
		json_key(&j, "source_counters");
		json_obj_open(&j);
		for (int i = 0; i < re->src->ncounters; i++)
			json_kv_u64(&j, re->src->counters[i].name, re->src->counters[i].value);
		json_obj_close(&j);
	}
	json_kv_str_or_null(&j, "input_error", re->src->read_error);
	if (ri->cut) /* only when reading stopped before the input did */
		json_kv_str(&j, "cut", ri->cut);
	json_obj_close(&j);
	sbuf_putc(b, '\n');
	fwrite(sbuf_str(b), 1, b->len, s->out);
	fflush(s->out);
}

static void json_free(struct lt_sink *s)
{
	struct json_sink *js = (struct json_sink *)s;
	sbuf_release(&js->rec);
	sink_sort_release(&js->sorted);
	free(js);
}

static const struct lt_sink_ops json_ops = {
	.begin = json_begin,
	.conn = json_conn,
	.end = json_end,
	.free = json_free,
};

struct lt_sink *sink_json_open(FILE *out, const struct lt_sink_cfg *cfg)
{
	struct json_sink *js = calloc(1, sizeof(*js));
	if (!js)
		return NULL;
	js->base.ops = &json_ops;
	js->base.out = out;
	if (cfg)
		js->cfg = *cfg;
	sbuf_init(&js->rec, 1u << 20);
	sink_sort_init(&js->sorted);
	fmt_clock_init(&js->clock);
	sink_buffer_output(out);
	return &js->base;
}

struct lt_sink *sink_json_new(FILE *out)
{
	return sink_json_open(out, NULL);
}
