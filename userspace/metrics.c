/* SPDX-License-Identifier: MIT */
/*
 * metrics.c - Prometheus counters of retired connections, bounded label
 * sets, and the text exposition (format 0.0.4).
 *
 * Owns: the counters, their label bounds and how they are written.
 * Does not own: where the text goes (metrics_serve.c), when gauges are
 * read (run.c), what a verdict is (verdict.c).
 */
#include "metrics.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"
#include "verdict.h"

/* Histogram bounds: loopback handshakes take tens of microseconds; a
 * retransmitted SYN adds 1 s, 3 s, 7 s... */
static const uint64_t bound_ns[] = {
	10000,	   25000,      50000,	      100000,	     250000,	     500000,	1000000,
	2500000,   5000000,    10000000,      25000000,	     50000000,	     100000000, 250000000,
	500000000, 1000000000, 2500000000ull, 5000000000ull, 10000000000ull,
};
static const char *const bound_text[] = {
	"1e-05",  "2.5e-05", "5e-05", "0.0001", "0.00025", "0.0005", "0.001",
	"0.0025", "0.005",   "0.01",  "0.025",	"0.05",	   "0.1",    "0.25",
	"0.5",	  "1",	     "2.5",   "5",	"10",
};
#define NBOUNDS (sizeof(bound_ns) / sizeof(bound_ns[0]))

struct mhist {
	uint64_t bucket[NBOUNDS + 1]; /* not cumulative; the last is > 10 s */
	uint64_t count;
	uint64_t sum_ns;
};

struct reason_count {
	char name[LT_REASON_LEN];
	uint64_t n;
};

struct reason_set {
	int n;
	struct reason_count r[METRICS_MAX_REASONS];
	uint64_t other;
};

enum { SIDE_CLIENT = 0, SIDE_SERVER = 1 };

struct mport {
	uint16_t port;
	uint64_t conns[2][LT_V_COUNT]; /* [ipv6?][verdict] */
	struct mhist handshake, refused;
	uint64_t syn_retrans;
	uint64_t overflows;
	struct reason_set drops;
	struct reason_set resets[2]; /* [SIDE_*] */
};

struct mlisten {
	uint16_t port;
	uint8_t family;
	uint8_t addr[16];
	uint32_t n;
};

struct metrics {
	int watched; /* the port set is the --port list */
	int nports;
	struct mport port[LT_MAX_PORTS > METRICS_MAX_PORTS ? LT_MAX_PORTS : METRICS_MAX_PORTS];
	struct mport other; /* port label "other" */
	int other_used;
	uint8_t slot[65536]; /* port -> index + 1, 0: none */
	struct metrics_gauges g;
	int nlisten; /* -1: unknown */
	struct mlisten listen[METRICS_MAX_LISTENERS];
	char version[32];
	char backend[32];
};

#define PORT_CAP(m) ((m)->watched ? LT_MAX_PORTS : METRICS_MAX_PORTS)

static struct mport *add_port(struct metrics *m, uint16_t port)
{
	if (m->slot[port])
		return &m->port[m->slot[port] - 1];
	if (m->nports >= PORT_CAP(m))
		return NULL;
	struct mport *p = &m->port[m->nports++];
	p->port = port;
	m->slot[port] = (uint8_t)m->nports;
	return p;
}

struct metrics *metrics_new(const struct ports *watched, const char *version, const char *backend)
{
	struct metrics *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->watched = watched && watched->n > 0;
	for (int i = 0; m->watched && i < watched->n; i++)
		add_port(m, watched->list[i]);
	m->nlisten = -1;
	snprintf(m->version, sizeof(m->version), "%s", version ? version : "");
	snprintf(m->backend, sizeof(m->backend), "%s", backend ? backend : "");
	return m;
}

void metrics_free(struct metrics *m)
{
	free(m);
}

static void tap_retire(void *ctx, const struct flow *f, enum lt_verdict v)
{
	metrics_retire(ctx, f, v);
}

struct lt_tap metrics_tap(struct metrics *m)
{
	struct lt_tap t = { .on_retire = tap_retire, .ctx = m };
	return t;
}

static void hist_count(struct mhist *h, int64_t ns)
{
	size_t i = 0;

	if (ns < 0)
		return;
	while (i < NBOUNDS && (uint64_t)ns > bound_ns[i])
		i++;
	h->bucket[i]++;
	h->count++;
	h->sum_ns += (uint64_t)ns;
}

static void reason_count(struct reason_set *s, const char *name, uint64_t n)
{
	const char *nm = name && name[0] ? name : "unknown";

	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->r[i].name, nm)) {
			s->r[i].n += n;
			return;
		}
	if (s->n < METRICS_MAX_REASONS) {
		snprintf(s->r[s->n].name, sizeof(s->r[s->n].name), "%s", nm);
		s->r[s->n++].n = n;
		return;
	}
	s->other += n;
}

void metrics_retire(struct metrics *m, const struct flow *f, enum lt_verdict v)
{
	struct mport *p = add_port(m, f->server.port);
	const struct flow_side *c = &f->side[LT_DIR_C2S];

	if (!p) {
		p = &m->other;
		m->other_used = 1;
	}
	if ((unsigned)v < LT_V_COUNT)
		p->conns[f->family == 6][v]++;
	hist_count(&p->handshake, flow_syn_to_synack(f));
	hist_count(&p->refused, flow_syn_to_rst(f));
	if (c->syn_count > 1)
		p->syn_retrans += c->syn_count - 1;
	if (f->drops)
		reason_count(&p->drops, f->drop_reason, f->drops);
	if (v == LT_V_RESET_CLIENT)
		reason_count(&p->resets[SIDE_CLIENT], f->reset_reason, 1);
	else if (v == LT_V_RESET_SERVER)
		reason_count(&p->resets[SIDE_SERVER], f->reset_reason, 1);
	if (f->anomalies & LT_A_LISTEN_OVERFLOW)
		p->overflows++;
}

void metrics_set_gauges(struct metrics *m, const struct metrics_gauges *g)
{
	m->g = *g;
}

void metrics_set_listeners(struct metrics *m, const struct listener *l, int n)
{
	m->nlisten = n < 0 ? -1 : 0;
	for (int i = 0; i < n && i < METRICS_MAX_LISTENERS; i++) {
		int j;
		for (j = 0; j < m->nlisten; j++)
			if (m->listen[j].port == l[i].port && m->listen[j].family == l[i].family &&
			    !memcmp(m->listen[j].addr, l[i].addr, 16))
				break;
		if (j == m->nlisten) {
			m->listen[j].port = l[i].port;
			m->listen[j].family = l[i].family;
			memcpy(m->listen[j].addr, l[i].addr, 16);
			m->listen[j].n = 0;
			m->nlisten++;
		}
		m->listen[j].n++;
	}
}

int metrics_ports(const struct metrics *m, uint16_t *out, int max)
{
	int n = 0;
	for (int i = 0; i < m->nports && n < max; i++)
		out[n++] = m->port[i].port;
	return n;
}

/* ---- the exposition ------------------------------------------------------ */

static void head(struct sbuf *b, const char *name, const char *type, const char *help)
{
	sbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static void label_value(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			sbuf_putc(b, '\\');
		if (*s == '\n') {
			sbuf_lit(b, "\\n");
			continue;
		}
		sbuf_putc(b, *s);
	}
}

static void port_label(struct sbuf *b, const struct metrics *m, const struct mport *p)
{
	sbuf_lit(b, "port=\"");
	if (p == &m->other)
		sbuf_lit(b, "other");
	else
		sbuf_u64(b, p->port);
	sbuf_putc(b, '"');
}

/* Each labelled port, then "other" when it was used. */
#define FOR_PORTS(m, p)                                                \
	for (const struct mport *p = (m)->nports       ? &(m)->port[0] \
				     : (m)->other_used ? &(m)->other   \
						       : NULL;         \
	     p; p = p == &(m)->other		      ? NULL           \
		    : p + 1 < &(m)->port[(m)->nports] ? p + 1          \
		    : (m)->other_used		      ? &(m)->other    \
						      : NULL)

static void write_conns(const struct metrics *m, struct sbuf *b)
{
	static const char *const fam[2] = { "ipv4", "ipv6" };

	head(b, "lotrace_connections_total", "counter",
	     "Connections that ended or left the table, by server port, IP family and final "
	     "verdict.");
	FOR_PORTS(m, p)
	for (int f = 0; f < 2; f++)
		for (int v = 0; v < LT_V_COUNT; v++) {
			if (v == LT_V_CONNECTING && !p->conns[f][v])
				continue; /* never final, unless cut short */
			sbuf_lit(b, "lotrace_connections_total{");
			port_label(b, m, p);
			sbuf_printf(b, ",family=\"%s\",verdict=\"%s\"} ", fam[f],
				    lt_verdict_name((enum lt_verdict)v));
			sbuf_u64(b, p->conns[f][v]);
			sbuf_putc(b, '\n');
		}
}

static void write_hist(const struct metrics *m, struct sbuf *b, const char *name, const char *help,
		       size_t off)
{
	head(b, name, "histogram", help);
	FOR_PORTS(m, p)
	{
		const struct mhist *h = (const struct mhist *)((const char *)p + off);
		uint64_t cum = 0;
		for (size_t i = 0; i <= NBOUNDS; i++) {
			cum += h->bucket[i];
			sbuf_printf(b, "%s_bucket{", name);
			port_label(b, m, p);
			sbuf_printf(b, ",le=\"%s\"} ", i < NBOUNDS ? bound_text[i] : "+Inf");
			sbuf_u64(b, cum);
			sbuf_putc(b, '\n');
		}
		sbuf_printf(b, "%s_sum{", name);
		port_label(b, m, p);
		sbuf_lit(b, "} ");
		sbuf_fixed(b, h->sum_ns, 9, 9);
		sbuf_printf(b, "\n%s_count{", name);
		port_label(b, m, p);
		sbuf_lit(b, "} ");
		sbuf_u64(b, h->count);
		sbuf_putc(b, '\n');
	}
}

static void write_port_counter(const struct metrics *m, struct sbuf *b, const char *name,
			       const char *help, size_t off)
{
	head(b, name, "counter", help);
	FOR_PORTS(m, p)
	{
		sbuf_printf(b, "%s{", name);
		port_label(b, m, p);
		sbuf_lit(b, "} ");
		sbuf_u64(b, *(const uint64_t *)((const char *)p + off));
		sbuf_putc(b, '\n');
	}
}

static void write_reasons(const struct metrics *m, const struct mport *p, struct sbuf *b,
			  const char *name, const char *side, const struct reason_set *s)
{
	for (int i = 0; i <= s->n; i++) {
		uint64_t n = i < s->n ? s->r[i].n : s->other;
		if (i == s->n && !n)
			break;
		sbuf_printf(b, "%s{", name);
		port_label(b, m, p);
		if (side)
			sbuf_printf(b, ",side=\"%s\"", side);
		sbuf_lit(b, ",reason=\"");
		label_value(b, i < s->n ? s->r[i].name : "other");
		sbuf_lit(b, "\"} ");
		sbuf_u64(b, n);
		sbuf_putc(b, '\n');
	}
}

static void write_listening(const struct metrics *m, struct sbuf *b)
{
	if (m->nlisten < 0)
		return;
	head(b, "lotrace_listening", "gauge",
	     "Listening TCP sockets on a labelled port, by bound address (0: nothing listens).");
	for (int i = 0; i < m->nports; i++) {
		int any = 0;
		for (int j = 0; j < m->nlisten; j++) {
			const struct mlisten *l = &m->listen[j];
			if (l->port != m->port[i].port)
				continue;
			any = 1;
			sbuf_printf(b, "lotrace_listening{port=\"%u\",address=\"", l->port);
			sbuf_addr(b, l->family, l->addr);
			sbuf_lit(b, "\"} ");
			sbuf_u64(b, l->n);
			sbuf_putc(b, '\n');
		}
		if (!any)
			sbuf_printf(b, "lotrace_listening{port=\"%u\",address=\"\"} 0\n",
				    m->port[i].port);
	}
}

void metrics_text(const struct metrics *m, struct sbuf *b)
{
	write_conns(m, b);
	write_hist(m, b, "lotrace_handshake_duration_seconds",
		   "Time from a connection's first SYN to the first SYN-ACK, by server port.",
		   offsetof(struct mport, handshake));
	write_hist(m, b, "lotrace_refused_duration_seconds",
		   "Time from a refused connection's first SYN to the RST that refused it, by "
		   "server port.",
		   offsetof(struct mport, refused));
	write_port_counter(
		m, b, "lotrace_syn_retransmits_total",
		"SYNs sent again by clients (beyond each connection's first), by server port.",
		offsetof(struct mport, syn_retrans));
	head(b, "lotrace_kernel_drops_total", "counter",
	     "Segments the kernel dropped, by server port and the kernel's drop reason (eBPF "
	     "backend).");
	FOR_PORTS(m, p)
	write_reasons(m, p, b, "lotrace_kernel_drops_total", NULL, &p->drops);
	head(b, "lotrace_resets_total", "counter",
	     "Connections reset after or during the handshake, by server port, the side that reset "
	     "and the kernel's reset reason.");
	FOR_PORTS(m, p)
	{
		write_reasons(m, p, b, "lotrace_resets_total", "client", &p->resets[SIDE_CLIENT]);
		write_reasons(m, p, b, "lotrace_resets_total", "server", &p->resets[SIDE_SERVER]);
	}
	write_port_counter(
		m, b, "lotrace_accept_queue_overflows_total",
		"Connections that met a full accept queue (the kernel said so), by server port.",
		offsetof(struct mport, overflows));
	write_listening(m, b);
	head(b, "lotrace_events_lost_total", "counter",
	     "Events the capture lost before lotrace could read them (ring buffer full, libpcap "
	     "drops).");
	sbuf_lit(b, "lotrace_events_lost_total ");
	sbuf_u64(b, m->g.events_lost);
	sbuf_putc(b, '\n');
	head(b, "lotrace_source_total", "counter",
	     "The capture source's own counters, by name (eBPF backend: the kernel program's "
	     "and the ring reader's; problem=\"1\" marks those that count cut or lost "
	     "evidence).");
	for (int i = 0; i < m->g.ncounters; i++) {
		sbuf_lit(b, "lotrace_source_total{name=\"");
		label_value(b, m->g.counters[i].name);
		sbuf_puts(b,
			  m->g.counters[i].problem ? "\",problem=\"1\"} " : "\",problem=\"0\"} ");
		sbuf_u64(b, m->g.counters[i].value);
		sbuf_putc(b, '\n');
	}
	head(b, "lotrace_flows_evicted_total", "counter",
	     "Connections retired early because the flow table was full (--max-flows).");
	sbuf_lit(b, "lotrace_flows_evicted_total ");
	sbuf_u64(b, m->g.flows_evicted);
	sbuf_putc(b, '\n');
	head(b, "lotrace_flows_active", "gauge", "Connections in the flow table now.");
	sbuf_lit(b, "lotrace_flows_active ");
	sbuf_u64(b, m->g.flows_active);
	sbuf_putc(b, '\n');
	head(b, "lotrace_build_info", "gauge",
	     "Always 1: the lotrace version and the capture backend.");
	sbuf_lit(b, "lotrace_build_info{version=\"");
	label_value(b, m->version);
	sbuf_lit(b, "\",backend=\"");
	label_value(b, m->backend);
	sbuf_lit(b, "\"} 1\n");
}
