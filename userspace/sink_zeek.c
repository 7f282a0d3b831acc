/* SPDX-License-Identifier: MIT */
/*
 * sink_zeek.c - connections as Zeek conn.log JSON lines (--format zeek).
 *
 * Zeek's field names and units (ts and duration in epoch seconds with
 * microseconds, bytes of payload, conn_state and history as Zeek writes
 * them), so tooling made for Zeek logs (jq over conn.log, zeek-cut style
 * scripts, Filebeat's Zeek module) reads them; what Zeek has no field for
 * (lotrace's verdict, the stream index, handshake latencies, anomalies,
 * kernel context, processes) follows under "lotrace.*" names. As in
 * Zeek's JSON logs, a field without a value is left out. No summary:
 * conn.log has none (the run's counters are in --json's summary).
 * Owns the mapping of a flow to conn.log fields; not the verdict rules
 * (verdict.h), not the JSON syntax (json.h).
 */
#include "sink.h"

#include <stdlib.h>

#include "fmt.h"
#include "hash.h"
#include "json.h"
#include "sbuf.h"
#include "sink_sort.h"

struct zeek_sink {
	struct lt_sink base;
	struct lt_sink_cfg cfg;
	struct sbuf rec;
	struct sink_sort sorted; /* --sort start */
};

/* A Zeek-style uid ("C" and 17 base62 characters), the same for the same
 * connection of the same capture every run. */
static void zeek_uid(struct sbuf *b, const struct flow *f)
{
	static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	uint64_t a, c;
	memcpy(&a, f->client.addr, 8);
	memcpy(&c, f->server.addr + 8, 8);
	uint64_t h1 = mix64(f->t_first ^ mix64(f->id));
	uint64_t h2 = mix64(a ^ mix64(c ^ ((uint64_t)f->client.port << 16 | f->server.port)) ^ h1);
	char u[18];
	u[0] = 'C';
	for (int i = 1; i < 18; i++) {
		uint64_t *h = i < 10 ? &h1 : &h2;
		u[i] = b62[*h % 62];
		*h /= 62;
	}
	sbuf_add(b, u, sizeof(u));
}

static void quoted_addr(struct json *j, const char *k, const struct flow *f,
			const struct lt_endpoint *e)
{
	json_key(j, k);
	json_value_begin(j);
	sbuf_putc(j->b, '"');
	sbuf_addr(j->b, f->family, e->addr);
	sbuf_putc(j->b, '"');
}

/* ns as seconds with microseconds, when measured (>= 0) */
static void secs(struct json *j, const char *k, int64_t ns)
{
	if (ns < 0)
		return;
	json_key(j, k);
	json_fixed(j, (uint64_t)ns, 9, 6);
}

static void zeek_record(struct json *j, const struct flow *f, enum lt_verdict v)
{
	const struct flow_side *c = &f->side[LT_DIR_C2S], *s = &f->side[LT_DIR_S2C];

	json_obj_open(j);
	json_key(j, "ts");
	json_fixed(j, f->t_first, 9, 6);
	json_key(j, "uid");
	json_value_begin(j);
	sbuf_putc(j->b, '"');
	zeek_uid(j->b, f);
	sbuf_putc(j->b, '"');
	quoted_addr(j, "id.orig_h", f, &f->client);
	json_kv_u64(j, "id.orig_p", f->client.port);
	quoted_addr(j, "id.resp_h", f, &f->server);
	json_kv_u64(j, "id.resp_p", f->server.port);
	json_kv_safe(j, "proto", "tcp");
	secs(j, "duration", (int64_t)(f->t_last - f->t_first));
	json_kv_u64(j, "orig_bytes", c->bytes);
	json_kv_u64(j, "resp_bytes", s->bytes);
	json_kv_safe(j, "conn_state", flow_zeek_state(f));
	json_kv_str(j, "history", f->history);
	json_kv_u64(j, "orig_pkts", c->pkts);
	json_kv_u64(j, "resp_pkts", s->pkts);

	json_kv_u64(j, "lotrace.stream", sink_stream_index(f));
	json_kv_safe(j, "lotrace.verdict", lt_verdict_name(v));
	if (v == LT_V_MIDSTREAM)
		json_kv_safe(j, "lotrace.outcome", lt_verdict_name(flow_outcome(f)));
	if (c->rst_count + s->rst_count) {
		json_kv_safe(j, "lotrace.rst_by", f->rst_dir == LT_DIR_C2S ? "client" : "server");
		json_kv_safe(j, "lotrace.rst_phase", lt_rst_phase_name(f->rst_phase));
	}
	if (c->syn_count > 1)
		json_kv_u64(j, "lotrace.syn_retransmissions", c->syn_count - 1);
	if (s->syn_count > 1)
		json_kv_u64(j, "lotrace.synack_retransmissions", s->syn_count - 1);
	secs(j, "lotrace.syn_to_synack", flow_syn_to_synack(f));
	secs(j, "lotrace.synack_to_ack", flow_synack_to_ack(f));
	secs(j, "lotrace.syn_to_rst", flow_syn_to_rst(f));
	if (f->anomalies)
		sink_json_anomalies(j, "lotrace.anomalies", f->anomalies);
	if (c->pid >= 0) {
		json_kv_i64(j, "lotrace.client_pid", c->pid);
		json_kv_str(j, "lotrace.client_comm", c->comm);
	}
	if (s->pid >= 0) {
		json_kv_i64(j, "lotrace.server_pid", s->pid);
		json_kv_str(j, "lotrace.server_comm", s->comm);
	}
	if (f->reset_reason[0])
		json_kv_str(j, "lotrace.kernel_reset_reason", f->reset_reason);
	if (f->drop_reason[0]) {
		json_kv_str(j, "lotrace.kernel_drop_reason", f->drop_reason);
		json_kv_u64(j, "lotrace.kernel_drops", f->drops);
	}
	if (f->sk_errno)
		json_kv_i64(j, "lotrace.errno", f->sk_errno);
	json_obj_close(j);
}

static void zeek_begin(struct lt_sink *s, const struct lt_run_info *ri)
{
	(void)s;
	(void)ri;
}

static void zeek_conn(struct lt_sink *s, const struct flow *f, enum lt_verdict v)
{
	struct zeek_sink *zs = (struct zeek_sink *)s;
	struct json j;

	if (zs->cfg.quiet)
		return;
	sbuf_reset(&zs->rec);
	json_init(&j, &zs->rec);
	zeek_record(&j, f, v);
	sbuf_putc(&zs->rec, '\n');
	if (zs->cfg.sort_start) {
		const struct sbuf *const pieces[SINK_SORT_PIECES] = { &zs->rec, NULL, NULL };
		sink_sort_add(&zs->sorted, f->t_first, f->id, pieces);
		return;
	}
	fwrite(sbuf_str(&zs->rec), 1, zs->rec.len, s->out);
}

static void zeek_end(struct lt_sink *s, const struct lt_run_info *ri, const struct lt_run_end *re)
{
	struct zeek_sink *zs = (struct zeek_sink *)s;
	struct sink_sort *so = &zs->sorted;

	(void)ri;
	(void)re;
	if (zs->cfg.sort_start)
		sink_sort_flush(so, s->out);
	fflush(s->out);
}

static void zeek_free(struct lt_sink *s)
{
	struct zeek_sink *zs = (struct zeek_sink *)s;
	sbuf_release(&zs->rec);
	sink_sort_release(&zs->sorted);
	free(zs);
}

static const struct lt_sink_ops zeek_ops = {
	.begin = zeek_begin,
	.conn = zeek_conn,
	.end = zeek_end,
	.free = zeek_free,
};

struct lt_sink *sink_zeek_open(FILE *out, const struct lt_sink_cfg *cfg)
{
	struct zeek_sink *zs = calloc(1, sizeof(*zs));
	if (!zs)
		return NULL;
	zs->base.ops = &zeek_ops;
	zs->base.out = out;
	if (cfg)
		zs->cfg = *cfg;
	sbuf_init(&zs->rec, 1u << 20);
	sink_sort_init(&zs->sorted);
	sink_buffer_output(out);
	return &zs->base;
}
