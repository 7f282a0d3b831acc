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
 * The connection record is the hot path (one per connection, ~1.8 kB).
 * It is written in a few stretches: each reserves room for the most it
 * can take (sbuf_room), is written through a local pointer with sbuf's
 * put appenders, constant key fragments (JSON_K) between values and null
 * or all-zero parts as literals, then committed. Key order:
 * docs/json-schema.md. The bounds: every number takes at most 20 bytes,
 * every string its escaped most (SBUF_JSON_STR_MAX of its array's size,
 * or of its length when it is a name); stretch_end checks them.
 */

/* The rest of a timeline entry after its t_ns, for each direction and
 * timeline kind, made once (a fixed-size copy is a few moves): `whole`
 * when its count is 1 and its bytes 0 (every kind but DATA), through the
 * closing brace and the comma after it; else `head`, up to the count. An
 * entry is then one number and one copy, or three numbers and three. */
struct tl_frag {
	char s[63];
	uint8_t len; /* 0: not made (the name did not fit) */
};
struct tl_frags {
	struct tl_frag whole, head;
};

/* The last address written for one role, as text: a run's records share
 * their server's address and often the client's. */
struct addr_memo {
	bool set, port_set;
	uint8_t family, len, port_len;
	uint16_t port;
	uint8_t addr[16];
	char s[SBUF_ADDR_MAX]; /* copied whole */
	char port_s[8];	       /* copied whole */
};

/* Is the memo's address a's (family's bytes of it)? Fixed-size loads. */
static bool addr_memo_has(const struct addr_memo *m, uint8_t family, const uint8_t a[16])
{
	if (!m->set || m->family != family)
		return false;
	uint64_t x[2], y[2];
	if (family != 6) {
		uint32_t u, v;
		memcpy(&u, m->addr, 4);
		memcpy(&v, a, 4);
		return u == v;
	}
	memcpy(x, m->addr, 16);
	memcpy(y, a, 16);
	return !((x[0] ^ y[0]) | (x[1] ^ y[1]));
}

/* The length of the last name (a verdict, a state: static strings) seen
 * in one field: the next record's is mostly the same pointer. */
struct name_memo {
	const char *s;
	size_t n;
};

static size_t name_len(struct name_memo *m, const char *s)
{
	if (s != m->s) {
		m->s = s;
		m->n = strlen(s);
	}
	return m->n;
}

struct conn_writer {
	struct fmt_clock clock;
	struct tl_frags tl[2][LT_TL_KIND_COUNT];
	struct addr_memo addr[2]; /* client, server */
	struct name_memo role, verdict, outcome, zeek, phase;
};

static void tl_frag_set(struct tl_frag *t, int n)
{
	t->len = n > 0 && (size_t)n < sizeof(t->s) ? (uint8_t)n : 0;
}

static void tl_frags_init(struct tl_frags *t, int dir, const char *kind)
{
	const char *d = dir == LT_DIR_C2S ? "c2s" : "s2c";
	memset(t, 0, sizeof(*t));
	tl_frag_set(&t->whole,
		    snprintf(t->whole.s, sizeof(t->whole.s),
			     ",\"dir\":\"%s\",\"kind\":\"%s\",\"count\":1,\"bytes\":0},", d, kind));
	tl_frag_set(&t->head, snprintf(t->head.s, sizeof(t->head.s),
				       ",\"dir\":\"%s\",\"kind\":\"%s\",\"count\":", d, kind));
}

static void conn_writer_init(struct conn_writer *w)
{
	fmt_clock_init(&w->clock);
	memset(w->addr, 0, sizeof(w->addr));
	w->role = w->verdict = w->outcome = w->zeek = w->phase = (struct name_memo){ NULL, 0 };
	for (int d = 0; d < 2; d++)
		for (int k = 0; k < LT_TL_KIND_COUNT; k++)
			tl_frags_init(&w->tl[d][k], d, lt_tl_kind_name((enum lt_tl_kind)k));
}

/* Fragment and value shorthands on the local pointer p. */
#define PUT(s) (p = sbuf_put_lit(p, s))
#define PUT_U64(v) (p = sbuf_put_u64(p, (v)))
#define PUT_I64(v) (p = sbuf_put_i64(p, (v)))
#define PUT_STR(s) (p = sbuf_put_json_str(p, (s)))
/* a string, or null when it is NULL or "" */
#define PUT_STR_OR_NULL(s) (p = str_or_null(p, (s)))
/* a name lotrace gives (no escaping needed), quoted */
#define PUT_NAME(s, n) (*p++ = '"', p = sbuf_put(p, (s), (n)), *p++ = '"')
#define PUT_NONNEG_OR_NULL(v) (p = nonneg_or_null(p, (v)))
/* most bytes a value takes: a number, an escaped string of an array's size */
#define NUM SBUF_U64_MAX
#define STR(arr) SBUF_JSON_STR_MAX(sizeof(arr))

static char *str_or_null(char *p, const char *s)
{
	if (s && *s)
		return sbuf_put_json_str(p, s);
	return sbuf_put_lit(p, "null");
}

static char *nonneg_or_null(char *p, int64_t v)
{
	if (v < 0)
		return sbuf_put_lit(p, "null");
	return sbuf_put_u64(p, (uint64_t)v);
}

static size_t len_or_0(const char *s)
{
	return s ? strlen(s) : 0;
}

/* A stretch of at most `most` bytes begins: where to write, or NULL when
 * the record's cap is reached (toobig is set; the rest is left out). */
static char *stretch_begin(struct sbuf *b, size_t most)
{
	return sbuf_room(b, most);
}

static void stretch_end(struct sbuf *b, const char *p, size_t most)
{
	size_t used = (size_t)(p - (b->buf + b->len));
	if (used > most) { /* a bound below is wrong: memory is already overwritten */
		fprintf(stderr,
			"lotrace: internal error: JSON record stretch of %zu bytes "
			"exceeds its bound %zu\n",
			used, most);
		abort();
	}
	sbuf_commit(b, used);
}

/* A side whose bytes are none of the protocols proto.c knows (the usual
 * case), as proto_side writes it: one copy. */
#define PROTO_UNKNOWN_OBJ                                                        \
	"{\"kind\":\"unknown\",\"protocol\":null,\"line\":null,\"status\":null," \
	"\"tls_version\":null,\"sni\":null,\"tls_alert\":null}"

static bool proto_side_unknown(const struct proto_id *q)
{
	return q->kind == PROTO_UNKNOWN && !q->line[0] && !q->sni[0] && !q->tls_version;
}

/* What one side's first bytes were (proto.h): never more than a line. */
static size_t proto_side_most(const struct proto_id *q)
{
	if (q->kind == PROTO_NONE || proto_side_unknown(q))
		return sizeof(PROTO_UNKNOWN_OBJ);
	return 200 + 2 * NUM + STR(q->line) + STR(q->sni) + len_or_0(proto_kind_name(q->kind)) +
	       len_or_0(proto_family(q->kind)) * 6 +
	       len_or_0(proto_tls_version_name(q->tls_version)) * 6 +
	       (q->kind == PROTO_TLS_ALERT ? 6 * len_or_0(proto_tls_alert_name(q->alert_desc)) : 0);
}

static char *proto_side(char *p, const struct proto_id *q)
{
	if (q->kind == PROTO_NONE)
		return sbuf_put_lit(p, "null");
	if (proto_side_unknown(q))
		return sbuf_put_lit(p, PROTO_UNKNOWN_OBJ);
	const char *kind = proto_kind_name(q->kind);
	PUT("{\"kind\":");
	PUT_NAME(kind, strlen(kind));
	PUT(JSON_K("protocol"));
	PUT_STR_OR_NULL(proto_family(q->kind));
	PUT(JSON_K("line"));
	PUT_STR_OR_NULL(q->line);
	if (q->kind == PROTO_HTTP_RESPONSE) {
		PUT(JSON_K("status"));
		PUT_U64(q->status);
	} else {
		PUT(JSON_K("status") "null");
	}
	PUT(JSON_K("tls_version"));
	PUT_STR_OR_NULL(proto_tls_version_name(q->tls_version));
	PUT(JSON_K("sni"));
	PUT_STR_OR_NULL(q->sni);
	if (q->kind == PROTO_TLS_ALERT) {
		PUT(JSON_K("tls_alert"));
		PUT_STR(proto_tls_alert_name(q->alert_desc));
		PUT("}");
	} else {
		PUT(JSON_K("tls_alert") "null}");
	}
	return p;
}

/* "protocol": null when no payload byte was kept (--no-payload, no
 * data), else what each side spoke and the mismatch. */
static void protocol_obj(struct sbuf *b, const struct flow *f)
{
	char *p;
	if (!f->side[LT_DIR_C2S].head_len && !f->side[LT_DIR_S2C].head_len) {
		sbuf_lit(b, JSON_K("protocol") "null");
		return;
	}
	struct proto_id c, s;
	flow_protocols(f, &c, &s);
	if (proto_side_unknown(&c) && proto_side_unknown(&s)) { /* the usual case */
		sbuf_lit(b, JSON_K("protocol") "{\"client\":" PROTO_UNKNOWN_OBJ
					       ",\"server\":" PROTO_UNKNOWN_OBJ JSON_K(
						       "mismatch") "\"none\"}");
		return;
	}
	const char *clash = proto_clash_name(proto_clash(&c, &s));
	size_t nclash = strlen(clash);
	size_t most = 64 + proto_side_most(&c) + proto_side_most(&s) + nclash;
	if (!(p = stretch_begin(b, most)))
		return;
	PUT(JSON_K("protocol") "{\"client\":");
	p = proto_side(p, &c);
	PUT(",\"server\":");
	p = proto_side(p, &s);
	PUT(JSON_K("mismatch"));
	PUT_NAME(clash, nclash);
	PUT("}");
	stretch_end(b, p, most);
}

/* One side's counts and owner; its key is written by the caller. */
#define SIDE_MOST (256 + 14 * NUM + STR(((struct flow_side *)0)->comm))
static char *side_obj(char *p, const struct flow_side *sd)
{
	PUT("{\"packets\":");
	PUT_U64(sd->pkts);
	PUT(JSON_K("data_packets"));
	PUT_U64(sd->data_pkts);
	PUT(JSON_K("bytes"));
	PUT_U64(sd->bytes);
	PUT(JSON_K("syn"));
	PUT_U64(sd->syn_count);
	PUT(JSON_K("fin"));
	PUT_U64(sd->fin_count);
	PUT(JSON_K("rst"));
	PUT_U64(sd->rst_count);
	/* copies: not in the counts above (flow.h); nearly always none */
	if (!(sd->copies.pkts | sd->copies.syn | sd->copies.fin | sd->copies.rst |
	      sd->copies.data_pkts | sd->copies.bytes)) {
		PUT(JSON_K("copies") "{\"packets\":0,\"syn\":0,\"fin\":0,\"rst\":0,"
				     "\"data_packets\":0,\"bytes\":0}");
	} else {
		PUT(JSON_K("copies") "{\"packets\":");
		PUT_U64(sd->copies.pkts);
		PUT(JSON_K("syn"));
		PUT_U64(sd->copies.syn);
		PUT(JSON_K("fin"));
		PUT_U64(sd->copies.fin);
		PUT(JSON_K("rst"));
		PUT_U64(sd->copies.rst);
		PUT(JSON_K("data_packets"));
		PUT_U64(sd->copies.data_pkts);
		PUT(JSON_K("bytes"));
		PUT_U64(sd->copies.bytes);
		PUT("}");
	}
	if (sd->pid >= 0) {
		PUT(JSON_K("pid"));
		PUT_I64(sd->pid);
		PUT(JSON_K("comm"));
		PUT_STR(sd->comm);
		PUT("}");
	} else {
		PUT(JSON_K("pid") "null" JSON_K("comm") "null}");
	}
	return p;
}

/* "client":"127.0.0.1:32768","client_addr":"127.0.0.1","client_port":32768
 * (or the server's; k_addr and k_port are the fragments after the first
 * two values): the address text comes from the role's memo (made when the
 * address differs from the last one), the port is formatted once; both
 * are copied twice. */
#define ENDPOINT_MOST (64 + 2 * SBUF_ADDR_MAX + 2 * NUM)
#define ENDPOINT(m, f, e, k_ep, k_addr, k_port)                                     \
	do {                                                                        \
		PUT(JSON_K(k_ep) "\"");                                             \
		p = endpoint_value(p, m, f, e, "\"" JSON_K(k_addr) "\"",            \
				   sizeof(JSON_K(k_addr)) + 1, "\"" JSON_K(k_port), \
				   sizeof(JSON_K(k_port)));                         \
	} while (0)

static char *endpoint_value(char *p, struct addr_memo *m, const struct flow *f,
			    const struct lt_endpoint *e, const char *k_addr, size_t n_addr,
			    const char *k_port, size_t n_port)
{
	if (!addr_memo_has(m, f->family, e->addr)) {
		char *end = sbuf_put_addr(m->s, f->family, e->addr);
		m->len = (uint8_t)(end - m->s);
		m->family = f->family;
		memcpy(m->addr, e->addr, 16);
		m->set = true;
	}
	if (!m->port_set || m->port != e->port) {
		char d[SBUF_U64_MAX] = "";
		m->port_len = (uint8_t)(sbuf_put_u64(d, e->port) - d); /* at most 5 */
		memcpy(m->port_s, d, sizeof(m->port_s));
		m->port = e->port;
		m->port_set = true;
	}
	const char *port = m->port_s;
	size_t np = m->port_len;

	if (f->family == 6)
		*p++ = '[';
	memcpy(p, m->s, SBUF_ADDR_MAX); /* fixed size: a few moves; len of them count */
	p += m->len;
	if (f->family == 6)
		*p++ = ']';
	*p++ = ':';
	memcpy(p, port, 8); /* fixed size again; np count */
	p += np;
	p = sbuf_put(p, k_addr, n_addr);
	memcpy(p, m->s, SBUF_ADDR_MAX);
	p += m->len;
	p = sbuf_put(p, k_port, n_port);
	memcpy(p, port, 8);
	return p + np;
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

#define KERNEL_MOST                                                  \
	(400 + 8 * NUM + 2 * STR(((struct flow *)0)->reset_reason) + \
	 STR(((struct flow_side *)0)->comm))
static char *kernel_obj(char *p, const struct flow *f)
{
	if (!f->kctx)
		return sbuf_put_lit(p, JSON_K("kernel") "null");
	PUT(JSON_K("kernel") "{\"reset_reason\":");
	PUT_STR_OR_NULL(f->reset_reason);
	PUT(JSON_K("drop_reason"));
	PUT_STR_OR_NULL(f->drop_reason);
	PUT(JSON_K("drops"));
	PUT_U64(f->drops);
	if (f->sk_errno) {
		PUT(JSON_K("errno"));
		PUT_I64(f->sk_errno);
	} else {
		PUT(JSON_K("errno") "null");
	}
	PUT(JSON_K("kernel_syn_retransmits"));
	PUT_U64(f->kernel_syn_retrans);
	/* the listener when its accept queue was full */
	if (f->anomalies & LT_A_LISTEN_OVERFLOW) {
		PUT(JSON_K("listen_overflow") "{\"backlog\":");
		PUT_U64(f->ovf_backlog);
		PUT(JSON_K("queued"));
		PUT_U64(f->ovf_queued);
		if (f->side[LT_DIR_S2C].pid > 0) {
			PUT(JSON_K("pid"));
			PUT_I64(f->side[LT_DIR_S2C].pid);
			PUT(JSON_K("comm"));
			PUT_STR_OR_NULL(f->side[LT_DIR_S2C].comm);
			PUT("}}");
		} else {
			PUT(JSON_K("pid") "null" JSON_K("comm") "null}}");
		}
	} else {
		PUT(JSON_K("listen_overflow") "null}");
	}
	return p;
}

/* One timeline entry at most: {"t_ns":N, a fragment copied whole, N,"bytes":N},
 * (the put appenders store up to NUM bytes past what they keep). */
#define TL_ENTRY_MOST (16 + sizeof(((struct tl_frag *)0)->s) + 1 + 3 * NUM + 16)

/* An entry whose kind the fragments do not know (none today). */
static char *tl_entry_rest_slow(char *p, const struct lt_tl_entry *e)
{
	const char *name = lt_tl_kind_name(e->kind);
	size_t n = strnlen(name, 16);
	PUT(",\"dir\":");
	p = e->dir == LT_DIR_C2S ? sbuf_put_lit(p, "\"c2s\"") : sbuf_put_lit(p, "\"s2c\"");
	PUT(JSON_K("kind"));
	PUT_NAME(name, n);
	PUT(JSON_K("count"));
	PUT_U64(e->count);
	PUT(JSON_K("bytes"));
	PUT_U64(e->bytes);
	PUT("},");
	return p;
}

/* The timeline and the record's closing brace; false when past the cap
 * (nothing written). */
static bool timeline_arr(struct sbuf *b, const struct conn_writer *w, const struct flow *f)
{
	size_t most = 64 + (size_t)f->tl_len * TL_ENTRY_MOST + NUM;
	char *p = stretch_begin(b, most);
	if (!p)
		return false;
	PUT(JSON_K("timeline") "[");
	/* each entry ends with a comma; the last one's becomes the ']' */
	for (const struct lt_tl_entry *e = f->tl, *end = f->tl + f->tl_len; e < end; e++) {
		PUT("{\"t_ns\":");
		PUT_U64(e->t_ns - f->t_first);
		const struct tl_frags *t =
			e->kind < LT_TL_KIND_COUNT && e->dir < 2 ? &w->tl[e->dir][e->kind] : NULL;
		if (t && e->count == 1 && !e->bytes && t->whole.len) {
			memcpy(p, t->whole.s, sizeof(t->whole.s)); /* fixed size: a few moves */
			p += t->whole.len;
		} else if (t && t->head.len) {
			memcpy(p, t->head.s, sizeof(t->head.s));
			p += t->head.len;
			PUT_U64(e->count);
			PUT(JSON_K("bytes"));
			PUT_U64(e->bytes);
			PUT("},");
		} else {
			p = tl_entry_rest_slow(p, e);
		}
	}
	if (f->tl_len)
		p--;
	PUT("]" JSON_K("timeline_omitted"));
	PUT_U64(f->tl_omitted);
	PUT("}");
	stretch_end(b, p, most);
	return true;
}

#define LT_STR_(x) #x
#define LT_STR(x) LT_STR_(x)

/* `,"anomalies":[...]` of a = f->anomalies (not 0): its most bytes, and
 * the list (names lotrace gives: no escaping). */
static size_t anomalies_most(uint32_t a)
{
	size_t most = 32;
	for (uint32_t left = a; left; left &= left - 1)
		most += 3 + len_or_0(lt_anomaly_name(left & -left));
	return most;
}

static char *anomalies_arr(char *p, uint32_t a)
{
	bool first = true;
	PUT(JSON_K("anomalies") "[");
	for (uint32_t left = a; left; left &= left - 1) { /* set bits, lowest first */
		const char *name = lt_anomaly_name(left & -left);
		if (!name)
			continue;
		if (!first)
			*p++ = ',';
		first = false;
		PUT_NAME(name, strlen(name));
	}
	PUT("]");
	return p;
}

/* One connection record, no newline: a stretch from the opening brace to
 * the anomalies, the protocols, then the timeline and the closing brace. */
static void conn_obj(struct sbuf *b, struct conn_writer *w, const struct flow *f, enum lt_verdict v)
{
	const struct flow_side *c = &f->side[LT_DIR_C2S], *s = &f->side[LT_DIR_S2C];
	const char *role = role_name(f->role_basis), *verdict = lt_verdict_name(v);
	const char *outcome = lt_verdict_name(flow_outcome(f)), *zeek = flow_zeek_state(f);
	const char *phase = lt_rst_phase_name(f->rst_phase);
	size_t n_role = name_len(&w->role, role), n_verdict = name_len(&w->verdict, verdict);
	size_t n_outcome = name_len(&w->outcome, outcome), n_zeek = name_len(&w->zeek, zeek);
	size_t n_phase = name_len(&w->phase, phase);
	size_t most = 800 + 13 * NUM + FMT_TIME_ISO_MAX + 2 * ENDPOINT_MOST + STR(f->history) +
		      2 * SIDE_MOST + KERNEL_MOST + n_role + n_verdict + n_outcome + n_zeek +
		      n_phase + (f->ns ? STR(f->ns->name) + STR(f->ns->container) : 0) +
		      (f->anomalies ? anomalies_most(f->anomalies) : 0);
	char *p = stretch_begin(b, most);
	if (!p) {
		sbuf_lit(b, "{}"); /* past the record's cap: toobig is set */
		return;
	}
	PUT("{\"type\":\"connection\"" JSON_K("schema_version") LT_STR(LT_JSON_SCHEMA_VERSION)
		    JSON_K("id"));
	PUT_U64(f->id);
	PUT(JSON_K("stream"));
	PUT_U64(sink_stream_index(f));
	PUT(JSON_K("start") "\"");
	p = fmt_put_time_iso(p, &w->clock, f->t_first);
	PUT("\"" JSON_K("start_ns"));
	PUT_U64(f->t_first);
	PUT(JSON_K("duration_ns"));
	PUT_U64(f->t_last - f->t_first);
	PUT(JSON_K("ip_version"));
	PUT_U64(f->family);
	ENDPOINT(&w->addr[0], f, &f->client, "client", "client_addr", "client_port");
	ENDPOINT(&w->addr[1], f, &f->server, "server", "server_addr", "server_port");
	if (f->ns) { /* eBPF only: captures know no namespaces */
		PUT(JSON_K("netns") "{\"inode\":");
		PUT_U64(f->ns->ino);
		PUT(JSON_K("name"));
		PUT_STR_OR_NULL(f->ns->name);
		PUT(JSON_K("container"));
		PUT_STR_OR_NULL(f->ns->container);
		PUT("}");
	}
	PUT(JSON_K("role_basis"));
	PUT_NAME(role, n_role);
	PUT(JSON_K("verdict"));
	PUT_NAME(verdict, n_verdict);
	PUT(JSON_K("outcome"));
	PUT_NAME(outcome, n_outcome);
	PUT(JSON_K("zeek_state"));
	PUT_NAME(zeek, n_zeek);
	PUT(JSON_K("history"));
	PUT_STR(f->history);
	if (!(c->rst_count + s->rst_count))
		PUT(JSON_K("rst_by") "null");
	else if (f->rst_dir == LT_DIR_C2S)
		PUT(JSON_K("rst_by") "\"client\"");
	else
		PUT(JSON_K("rst_by") "\"server\"");
	PUT(JSON_K("rst_phase"));
	PUT_NAME(phase, n_phase);
	PUT(JSON_K("syn_retransmissions"));
	PUT_U64(c->syn_count > 1 ? c->syn_count - 1 : 0);
	PUT(JSON_K("synack_retransmissions"));
	PUT_U64(s->syn_count > 1 ? s->syn_count - 1 : 0);
	PUT(JSON_K("syn_to_synack_ns"));
	PUT_NONNEG_OR_NULL(flow_syn_to_synack(f));
	PUT(JSON_K("synack_to_ack_ns"));
	PUT_NONNEG_OR_NULL(flow_synack_to_ack(f));
	PUT(JSON_K("syn_to_rst_ns"));
	PUT_NONNEG_OR_NULL(flow_syn_to_rst(f));
	PUT(JSON_K("c2s"));
	p = side_obj(p, c);
	PUT(JSON_K("s2c"));
	p = side_obj(p, s);
	p = kernel_obj(p, f);
	if (!f->anomalies) /* the usual case: no list to walk */
		PUT(JSON_K("anomalies") "[]");
	else
		p = anomalies_arr(p, f->anomalies);
	stretch_end(b, p, most);
	protocol_obj(b, f);
	if (!timeline_arr(b, w, f)) /* past the record's cap: still closed */
		sbuf_putc(b, '}');
}

void sink_json_conn_obj(struct sbuf *b, const struct flow *f, enum lt_verdict v)
{
	struct conn_writer w;

	conn_writer_init(&w);
	conn_obj(b, &w, f, v);
}

struct json_sink {
	struct lt_sink base;
	struct lt_sink_cfg cfg;
	struct sink_batch batch; /* the records, written in blocks */
	struct sbuf rec;	 /* the summary; a record for --sort start */
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

	if (js->cfg.quiet)
		return;
	if (js->cfg.sort_start) {
		sbuf_reset(&js->rec);
		conn_obj(&js->rec, &js->w, f, v);
		sbuf_putc(&js->rec, '\n');
		const struct sbuf *const pieces[SINK_SORT_PIECES] = { &js->rec, NULL, NULL };
		sink_sort_add(&js->sorted, f->t_first, f->id, pieces); /* nomem: said at the end */
		return;
	}
	struct sbuf *b = sink_batch_begin(&js->batch);
	conn_obj(b, &js->w, f, v);
	sbuf_putc(b, '\n');
	sink_batch_end(&js->batch, s->out);
}

static void json_flush(struct lt_sink *s)
{
	struct json_sink *js = (struct json_sink *)s;
	sink_batch_flush(&js->batch, s->out);
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

	sink_batch_flush(&js->batch, s->out);
	if (js->cfg.sort_start)
		sink_sort_flush(&js->sorted, s->out);
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
	sink_batch_release(&js->batch);
	sink_sort_release(&js->sorted);
	free(js);
}

static const struct lt_sink_ops json_ops = {
	.begin = json_begin,
	.conn = json_conn,
	.end = json_end,
	.free = json_free,
	.flush = json_flush,
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
	sbuf_init(&js->rec, SINK_RECORD_CAP);
	sink_sort_init(&js->sorted);
	conn_writer_init(&js->w);
	sink_buffer_output(out);
	sink_batch_init(&js->batch, out, js->cfg.batch);
	return &js->base;
}

struct lt_sink *sink_json_new(FILE *out)
{
	return sink_json_open(out, NULL);
}
