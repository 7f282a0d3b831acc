/* SPDX-License-Identifier: MIT */
/*
 * sink_json.c - newline-delimited JSON, fixed key order (docs/json-schema.md):
 * the connection records (written as fixed-shape records, json.h) and the
 * summary. Owns: what the JSON lines contain. Does not own: JSON syntax
 * and escaping (json.c, sbuf.c), the verdicts (verdict.c).
 */
#include "sink.h"

#include <inttypes.h>
#include <stdlib.h>

#include "fmt.h"
#include "json.h"
#include "sbuf.h"
#include "sink_sort.h"

/*
 * The connection record is the hot path (one per connection, ~1.8 kB):
 * it is written as constant fragments between values (json.h, "fixed-shape
 * records"), so each gap between two values is one copy of a literal, and
 * null or all-zero parts are literals too. Key order: docs/json-schema.md.
 */

/* `,"dir":"c2s","kind":"SYN","count":` for each direction and timeline
 * kind, made once: a timeline entry is then three numbers and four copies. */
struct tl_frag {
	char s[48]; /* copied whole (a fixed-size copy is a few moves) */
	uint8_t len;
};

struct conn_writer {
	struct fmt_clock clock;
	struct tl_frag tl[2][LT_TL_KIND_COUNT];
};

static void conn_writer_init(struct conn_writer *w)
{
	fmt_clock_init(&w->clock);
	for (int d = 0; d < 2; d++) {
		for (int k = 0; k < LT_TL_KIND_COUNT; k++) {
			struct tl_frag *t = &w->tl[d][k];
			const char *name = lt_tl_kind_name((enum lt_tl_kind)k);
			int n = snprintf(t->s, sizeof(t->s),
					 ",\"dir\":\"%s\",\"kind\":\"%s\",\"count\":",
					 d == LT_DIR_C2S ? "c2s" : "s2c", name);
			t->len = n > 0 && (size_t)n < sizeof(t->s) ? (uint8_t)n : 0;
		}
	}
}

/* What one side's first bytes were (proto.h): never more than a line. */
static void proto_side(struct json *j, const struct proto_id *p)
{
	if (p->kind == PROTO_NONE) {
		json_raw_null(j);
		return;
	}
	json_frag(j, "{\"kind\":");
	json_raw_safe(j, proto_kind_name(p->kind));
	json_frag(j, JSON_K("protocol"));
	json_raw_str_or_null(j, proto_family(p->kind));
	json_frag(j, JSON_K("line"));
	json_raw_str_or_null(j, p->line);
	if (p->kind == PROTO_HTTP_RESPONSE) {
		json_frag(j, JSON_K("status"));
		json_raw_u64(j, p->status);
	} else {
		json_frag(j, JSON_K("status") "null");
	}
	json_frag(j, JSON_K("tls_version"));
	json_raw_str_or_null(j, proto_tls_version_name(p->tls_version));
	json_frag(j, JSON_K("sni"));
	json_raw_str_or_null(j, p->sni);
	if (p->kind == PROTO_TLS_ALERT) {
		json_frag(j, JSON_K("tls_alert"));
		json_raw_str(j, proto_tls_alert_name(p->alert_desc));
		json_frag(j, "}");
	} else {
		json_frag(j, JSON_K("tls_alert") "null}");
	}
}

/* "protocol": null when no payload byte was kept (eBPF, --no-payload,
 * no data), else what each side spoke and the mismatch. */
static void protocol_obj(struct json *j, const struct flow *f)
{
	if (!f->side[LT_DIR_C2S].head_len && !f->side[LT_DIR_S2C].head_len) {
		json_frag(j, JSON_K("protocol") "null");
		return;
	}
	struct proto_id c, s;
	flow_protocols(f, &c, &s);
	json_frag(j, JSON_K("protocol") "{\"client\":");
	proto_side(j, &c);
	json_frag(j, ",\"server\":");
	proto_side(j, &s);
	json_frag(j, JSON_K("mismatch"));
	json_raw_safe(j, proto_clash_name(proto_clash(&c, &s)));
	json_frag(j, "}");
}

/* One side's counts and owner; its key is written by the caller. */
static void side_obj(struct json *j, const struct flow_side *sd)
{
	json_frag(j, "{\"packets\":");
	json_raw_u64(j, sd->pkts);
	json_frag(j, JSON_K("data_packets"));
	json_raw_u64(j, sd->data_pkts);
	json_frag(j, JSON_K("bytes"));
	json_raw_u64(j, sd->bytes);
	json_frag(j, JSON_K("syn"));
	json_raw_u64(j, sd->syn_count);
	json_frag(j, JSON_K("fin"));
	json_raw_u64(j, sd->fin_count);
	json_frag(j, JSON_K("rst"));
	json_raw_u64(j, sd->rst_count);
	/* copies: not in the counts above (flow.h); nearly always none */
	if (!(sd->copies.pkts | sd->copies.syn | sd->copies.fin | sd->copies.rst |
	      sd->copies.data_pkts | sd->copies.bytes)) {
		json_frag(j, JSON_K("copies") "{\"packets\":0,\"syn\":0,\"fin\":0,\"rst\":0,"
					      "\"data_packets\":0,\"bytes\":0}");
	} else {
		json_frag(j, JSON_K("copies") "{\"packets\":");
		json_raw_u64(j, sd->copies.pkts);
		json_frag(j, JSON_K("syn"));
		json_raw_u64(j, sd->copies.syn);
		json_frag(j, JSON_K("fin"));
		json_raw_u64(j, sd->copies.fin);
		json_frag(j, JSON_K("rst"));
		json_raw_u64(j, sd->copies.rst);
		json_frag(j, JSON_K("data_packets"));
		json_raw_u64(j, sd->copies.data_pkts);
		json_frag(j, JSON_K("bytes"));
		json_raw_u64(j, sd->copies.bytes);
		json_frag(j, "}");
	}
	if (sd->pid >= 0) {
		json_frag(j, JSON_K("pid"));
		json_raw_i64(j, sd->pid);
		json_frag(j, JSON_K("comm"));
		json_raw_str(j, sd->comm);
		json_frag(j, "}");
	} else {
		json_frag(j, JSON_K("pid") "null" JSON_K("comm") "null}");
	}
}

/* "client":"127.0.0.1:32768","client_addr":"127.0.0.1","client_port":32768
 * (or the server's): the address is formatted once and copied, the keys
 * are fragments. */
#define ENDPOINT(j, f, e, k_ep, k_addr, k_port)                                               \
	do {                                                                                  \
		json_frag(j, JSON_K(k_ep) "\"");                                              \
		endpoint_value(j, f, e, "\"" JSON_K(k_addr) "\"", sizeof(JSON_K(k_addr)) + 1, \
			       "\"" JSON_K(k_port), sizeof(JSON_K(k_port)));                  \
	} while (0)

static void endpoint_value(struct json *j, const struct flow *f, const struct lt_endpoint *e,
			   const char *k_addr, size_t n_addr, const char *k_port, size_t n_port)
{
	struct sbuf *b = j->b;
	char a[48]; /* INET6_ADDRSTRLEN fits */
	size_t at;

	if (f->family == 6)
		sbuf_putc(b, '[');
	at = b->len;
	size_t n = 0;
	if (sbuf_room(b, sizeof(a))) { /* then a whole a[] can be read back */
		sbuf_addr(b, f->family, e->addr);
		n = b->len - at;
		memcpy(a, b->buf + at, sizeof(a));
	}
	if (f->family == 6)
		sbuf_lit(b, "]:");
	else
		sbuf_putc(b, ':');
	sbuf_u64(b, e->port);
	sbuf_add(b, k_addr, n_addr);
	char *p = sbuf_room(b, sizeof(a)); /* a fixed-size copy: a few moves */
	if (p) {
		memcpy(p, a, sizeof(a));
		sbuf_commit(b, n);
	}
	sbuf_add(b, k_port, n_port);
	sbuf_u64(b, e->port);
}

void sink_json_anomalies(struct json *j, const char *k, uint32_t a)
{
	json_key(j, k);
	json_arr_open(j);
	for (uint32_t left = a; left; left &= left - 1) { /* set bits, lowest first */
		const char *name = lt_anomaly_name(left & -left);
		if (name)
			json_str_safe(j, name);
	}
	json_arr_close(j);
}

/* The role basis's name, as a fragment's tail. */
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

static void kernel_obj(struct json *j, const struct flow *f)
{
	if (!f->kctx) {
		json_frag(j, JSON_K("kernel") "null");
		return;
	}
	json_frag(j, JSON_K("kernel") "{\"reset_reason\":");
	json_raw_str_or_null(j, f->reset_reason);
	json_frag(j, JSON_K("drop_reason"));
	json_raw_str_or_null(j, f->drop_reason);
	json_frag(j, JSON_K("drops"));
	json_raw_u64(j, f->drops);
	if (f->sk_errno) {
		json_frag(j, JSON_K("errno"));
		json_raw_i64(j, f->sk_errno);
	} else {
		json_frag(j, JSON_K("errno") "null");
	}
	json_frag(j, JSON_K("kernel_syn_retransmits"));
	json_raw_u64(j, f->kernel_syn_retrans);
	/* the listener when its accept queue was full */
	if (f->anomalies & LT_A_LISTEN_OVERFLOW) {
		json_frag(j, JSON_K("listen_overflow") "{\"backlog\":");
		json_raw_u64(j, f->ovf_backlog);
		json_frag(j, JSON_K("queued"));
		json_raw_u64(j, f->ovf_queued);
		if (f->side[LT_DIR_S2C].pid > 0) {
			json_frag(j, JSON_K("pid"));
			json_raw_i64(j, f->side[LT_DIR_S2C].pid);
			json_frag(j, JSON_K("comm"));
			json_raw_str_or_null(j, f->side[LT_DIR_S2C].comm);
			json_frag(j, "}}");
		} else {
			json_frag(j, JSON_K("pid") "null" JSON_K("comm") "null}}");
		}
	} else {
		json_frag(j, JSON_K("listen_overflow") "null}");
	}
}

static void timeline_arr(struct json *j, const struct conn_writer *w, const struct flow *f)
{
	struct sbuf *b = j->b;

	json_frag(j, JSON_K("timeline") "[");
	for (unsigned i = 0; i < f->tl_len; i++) {
		const struct lt_tl_entry *e = &f->tl[i];
		const struct tl_frag *t =
			e->kind < LT_TL_KIND_COUNT && e->dir < 2 ? &w->tl[e->dir][e->kind] : NULL;
		if (i)
			sbuf_lit(b, ",{\"t_ns\":");
		else
			sbuf_lit(b, "{\"t_ns\":");
		sbuf_u64(b, e->t_ns - f->t_first);
		char *p;
		if (t && t->len && (p = sbuf_room(b, sizeof(t->s)))) {
			memcpy(p, t->s, sizeof(t->s));
			sbuf_commit(b, t->len);
		} else { /* a kind the table does not know (none today) */
			if (e->dir == LT_DIR_C2S)
				sbuf_lit(b, ",\"dir\":\"c2s\",\"kind\":\"");
			else
				sbuf_lit(b, ",\"dir\":\"s2c\",\"kind\":\"");
			sbuf_puts(b, lt_tl_kind_name(e->kind));
			sbuf_lit(b, "\",\"count\":");
		}
		sbuf_u64(b, e->count);
		sbuf_lit(b, ",\"bytes\":");
		sbuf_u64(b, e->bytes);
		sbuf_putc(b, '}');
	}
	json_frag(j, "]" JSON_K("timeline_omitted"));
	json_raw_u64(j, f->tl_omitted);
}

#define LT_STR_(x) #x
#define LT_STR(x) LT_STR_(x)

static void conn_obj(struct json *j, struct conn_writer *w, const struct flow *f, enum lt_verdict v)
{
	const struct flow_side *c = &f->side[LT_DIR_C2S], *s = &f->side[LT_DIR_S2C];

	json_obj_open(j);
	json_frag(j, "\"type\":\"connection\"" JSON_K("schema_version")
			     LT_STR(LT_JSON_SCHEMA_VERSION) JSON_K("id"));
	json_raw_u64(j, f->id);
	json_frag(j, JSON_K("stream"));
	json_raw_u64(j, sink_stream_index(f));
	json_frag(j, JSON_K("start") "\"");
	fmt_time_iso_sb(j->b, &w->clock, f->t_first);
	json_frag(j, "\"" JSON_K("start_ns"));
	json_raw_u64(j, f->t_first);
	json_frag(j, JSON_K("duration_ns"));
	json_raw_u64(j, f->t_last - f->t_first);
	json_frag(j, JSON_K("ip_version"));
	json_raw_u64(j, f->family);
	ENDPOINT(j, f, &f->client, "client", "client_addr", "client_port");
	ENDPOINT(j, f, &f->server, "server", "server_addr", "server_port");
	if (f->ns) { /* eBPF only: captures know no namespaces */
		json_frag(j, JSON_K("netns") "{\"inode\":");
		json_raw_u64(j, f->ns->ino);
		json_frag(j, JSON_K("name"));
		json_raw_str_or_null(j, f->ns->name);
		json_frag(j, JSON_K("container"));
		json_raw_str_or_null(j, f->ns->container);
		json_frag(j, "}");
	}
	json_frag(j, JSON_K("role_basis"));
	json_raw_safe(j, role_name(f->role_basis));
	json_frag(j, JSON_K("verdict"));
	json_raw_safe(j, lt_verdict_name(v));
	json_frag(j, JSON_K("outcome"));
	json_raw_safe(j, lt_verdict_name(flow_outcome(f)));
	json_frag(j, JSON_K("zeek_state"));
	json_raw_safe(j, flow_zeek_state(f));
	json_frag(j, JSON_K("history"));
	json_raw_str(j, f->history);
	if (!(c->rst_count + s->rst_count))
		json_frag(j, JSON_K("rst_by") "null");
	else if (f->rst_dir == LT_DIR_C2S)
		json_frag(j, JSON_K("rst_by") "\"client\"");
	else
		json_frag(j, JSON_K("rst_by") "\"server\"");
	json_frag(j, JSON_K("rst_phase"));
	json_raw_safe(j, lt_rst_phase_name(f->rst_phase));
	json_frag(j, JSON_K("syn_retransmissions"));
	json_raw_u64(j, c->syn_count > 1 ? c->syn_count - 1 : 0);
	json_frag(j, JSON_K("synack_retransmissions"));
	json_raw_u64(j, s->syn_count > 1 ? s->syn_count - 1 : 0);
	json_frag(j, JSON_K("syn_to_synack_ns"));
	json_raw_nonneg_or_null(j, flow_syn_to_synack(f));
	json_frag(j, JSON_K("synack_to_ack_ns"));
	json_raw_nonneg_or_null(j, flow_synack_to_ack(f));
	json_frag(j, JSON_K("syn_to_rst_ns"));
	json_raw_nonneg_or_null(j, flow_syn_to_rst(f));
	json_frag(j, JSON_K("c2s"));
	side_obj(j, c);
	json_frag(j, JSON_K("s2c"));
	side_obj(j, s);
	kernel_obj(j, f);
	sink_json_anomalies(j, "anomalies", f->anomalies);
	protocol_obj(j, f);
	timeline_arr(j, w, f);
	json_obj_close(j);
}

void sink_json_conn_obj(struct sbuf *b, const struct flow *f, enum lt_verdict v)
{
	struct json j;
	struct conn_writer w;

	conn_writer_init(&w);
	json_init(&j, b);
	conn_obj(&j, &w, f, v);
}

struct json_sink {
	struct lt_sink base;
	struct lt_sink_cfg cfg;
	struct sbuf rec;
	struct conn_writer w;	 /* the record's fragments and clock */
	struct sink_sort sorted; /* --sort start */
};

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
	conn_obj(&j, &js->w, f, v);
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
	conn_writer_init(&js->w);
	sink_buffer_output(out);
	return &js->base;
}

struct lt_sink *sink_json_new(FILE *out)
{
	return sink_json_open(out, NULL);
}
