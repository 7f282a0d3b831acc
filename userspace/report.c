/* SPDX-License-Identifier: MIT */
/*
 * report.c - handshake summaries for bug reports: markdown, text, JSON.
 *
 * The report is a tap of the engine (added and removed through its API),
 * run by run.c: each retired connection
 * goes to the diagnosis (diagnose.h) and may become the example of its
 * verdict. report_write then lays out, in this order: when and where
 * (traffic window, input, backend, kernel, version), the diagnosis (one
 * bullet per finding), the per-port table, listeners (live runs), input
 * health (decode problems, lost events), and one example connection per
 * verdict with its ladder diagram (ladder.h) and timeline. The JSON form
 * is documented in docs/report-schema.md.
 */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>

#include "diagnose.h"
#include "fmt.h"
#include "json.h"
#include "ladder.h"
#include "listen_note.h"
#include "listeners.h"
#include "sbuf.h"

#define MAX_LISTENERS 512
#define MAX_PORT_ROWS 256
#define TEXT_WIDTH 78
#define REPORT_CAP (16u << 20)
#define SCHEMA_VERSION 1
#define MAX_ANSWERERS 64

/* A server endpoint that answered connections (SYN-ACK seen), live runs:
 * a listener that came and went between the start and end samples still
 * shows through the connections it took. */
struct answerer {
	uint8_t family;
	uint8_t addr[16];
	uint16_t port;
	int32_t pid; /* -1 unknown */
	char comm[LT_COMM_LEN];
	uint64_t first_ns, last_ns, n;
};

struct report {
	struct engine *e;
	struct diag *diag;
	int live;
	struct ports ports; /* watched ports (copy) */
	bool has_ex[LT_V_COUNT];
	struct flow ex[LT_V_COUNT]; /* the first connection of each verdict */
	/* live runs: what the kernel said when the run started */
	struct listener *lst;
	int nlst; /* < 0: the query failed (-errno) */
	struct listen_counters c_start;
	int oom;
	int attached; /* a tap of e */
	struct answerer ans[MAX_ANSWERERS];
	int nans;
	uint64_t ans_more; /* answered on endpoints beyond the table */
};

/* ---- collecting -------------------------------------------------------- */

static int cmp_listener(const void *a, const void *b)
{
	const struct listener *x = a, *y = b;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->addr, y->addr, 16);
}

/* Listening sockets on the watched ports (all ports: every one), sorted;
 * returns how many, or -errno. */
static int query_listeners(const struct ports *p, struct listener *v)
{
	int n = listeners_query(p->list, p->n, v, MAX_LISTENERS);
	if (n > MAX_LISTENERS)
		n = MAX_LISTENERS;
	if (n > 0)
		qsort(v, (size_t)n, sizeof(*v), cmp_listener);
	return n;
}

static void keep_example(bool *has, struct flow *ex, const struct flow *f, enum lt_verdict v)
{
	if ((unsigned)v >= LT_V_COUNT)
		return;
	if (!has[v] || f->id < ex[v].id) {
		ex[v] = *f;
		has[v] = true;
	}
}

static void note_answerer(struct report *r, const struct flow *f)
{
	const struct flow_side *s = &f->side[LT_DIR_S2C];
	struct answerer *a = NULL;

	if (!r->live || !s->syn_count)
		return;
	for (int i = 0; i < r->nans && !a; i++)
		if (r->ans[i].port == f->server.port && r->ans[i].family == f->family &&
		    !memcmp(r->ans[i].addr, f->server.addr, 16))
			a = &r->ans[i];
	if (!a) {
		if (r->nans >= MAX_ANSWERERS) {
			r->ans_more++;
			return;
		}
		a = &r->ans[r->nans++];
		memset(a, 0, sizeof(*a));
		a->family = f->family;
		memcpy(a->addr, f->server.addr, 16);
		a->port = f->server.port;
		a->pid = -1;
		a->first_ns = f->t_first;
	}
	if (a->pid < 0 && s->pid >= 0) {
		a->pid = s->pid;
		memcpy(a->comm, s->comm, LT_COMM_LEN);
		a->comm[LT_COMM_LEN - 1] = '\0';
	}
	if (f->t_first < a->first_ns)
		a->first_ns = f->t_first;
	if (f->t_last > a->last_ns)
		a->last_ns = f->t_last;
	a->n++;
}

static void on_retire(void *ctx, const struct flow *f, enum lt_verdict v)
{
	struct report *r = ctx;
	diag_add(r->diag, f, v);
	keep_example(r->has_ex, r->ex, f, v);
	note_answerer(r, f);
}

struct report *report_attach(struct engine *e, const struct lt_opts *o, int live)
{
	struct report *r = calloc(1, sizeof(*r));
	struct lt_tap tap = { .on_retire = on_retire };

	if (!r)
		return NULL;
	r->e = e;
	r->live = live;
	r->ports = o->ports;
	r->c_start.overflows = r->c_start.drops = -1;
	r->diag = diag_new();
	if (!r->diag)
		goto fail;
	if (live) {
		r->lst = calloc(MAX_LISTENERS, sizeof(*r->lst));
		if (!r->lst)
			goto fail;
		r->nlst = query_listeners(&r->ports, r->lst);
		listeners_netstat(&r->c_start);
	}
	/* Last: once the engine holds r, nothing may fail. */
	tap.ctx = r;
	if (engine_add_tap(e, &tap) < 0)
		goto fail;
	r->attached = 1;
	return r;
fail:
	report_free(r);
	return NULL;
}

/* Call before the engine is released: r leaves the engine's observers, so
 * a report can go while its engine runs on (the TUI's report key). */
void report_free(struct report *r)
{
	if (!r)
		return;
	if (r->attached)
		engine_remove_tap(r->e, r);
	diag_free(r->diag);
	free(r->lst);
	free(r);
}

enum lt_format report_format_for(const char *path)
{
	size_t n = strlen(path);
	if (n >= 3 && !strcmp(path + n - 3, ".md"))
		return LT_FMT_MARKDOWN;
	if (n >= 5 && !strcmp(path + n - 5, ".json"))
		return LT_FMT_JSON;
	return LT_FMT_TEXT;
}

/* ---- the view a report is written from --------------------------------- */

struct view {
	const struct report *r;
	const struct lt_run_info *ri;
	const struct lt_source_stats *ss;
	const struct diag *d;
	const struct stats *st;
	const bool *has_ex;
	const struct flow *ex;
	int partial;
	char kernel[160];
	struct diag_finding *fnd;
	int nfnd;
	/* live */
	struct listener *lend;
	int nlend;
	struct listen_counters c_end;
	struct tcp_syn_sysctls sys;
};

/* A copy of s that active flows can be added to (mid-run reports). */
static struct stats *stats_dup(const struct stats *s)
{
	struct stats *c = stats_new();
	if (!c)
		return NULL;
	for (uint32_t p = 0; p < 65536; p++) {
		if (!s->port[p])
			continue;
		c->port[p] = malloc(sizeof(*c->port[p]));
		if (!c->port[p]) {
			stats_free(c);
			return NULL;
		}
		*c->port[p] = *s->port[p];
	}
	c->nports = s->nports;
	c->total = s->total;
	c->first_ts = s->first_ts;
	c->last_ts = s->last_ts;
	return c;
}

struct partial_ctx {
	const struct engine *e;
	struct diag *d;
	struct stats *st;
	bool *has_ex;
	struct flow *ex;
};

static void add_active(void *ctx, const struct flow *f)
{
	struct partial_ctx *p = ctx;
	enum lt_verdict v = flow_verdict(f, flow_tab_now(engine_flows(p->e)), false,
					 engine_config(p->e)->connecting_ns);
	diag_add(p->d, f, v);
	stats_add(p->st, f, v);
	keep_example(p->has_ex, p->ex, f, v);
}

/* ---- small writers ----------------------------------------------------- */

/* s without markdown code marks, for text and JSON. */
static void put_plain(struct sbuf *b, const char *s)
{
	for (; *s; s++)
		if (*s != '`')
			sbuf_putc(b, *s);
}

static char *plain_dup(const char *s)
{
	struct sbuf b;
	char *out;
	sbuf_init(&b, 1u << 16);
	put_plain(&b, s);
	out = strdup(sbuf_str(&b));
	sbuf_release(&b);
	return out;
}

/* A markdown code span that survives any content. */
static void md_code(struct sbuf *b, const char *s)
{
	sbuf_putc(b, '`');
	for (; *s; s++)
		sbuf_putc(b, *s == '`' ? '\'' : *s == '|' ? '/' : *s);
	sbuf_putc(b, '`');
}

/* Word-wrap s into b at TEXT_WIDTH, every line after the first indented;
 * markdown code marks are dropped. */
static void wrap(struct sbuf *b, const char *s, int first_col, int indent)
{
	int col = first_col;
	while (*s) {
		while (*s == ' ')
			s++;
		int n = 0, vis = 0;
		while (s[n] && s[n] != ' ')
			vis += s[n++] != '`';
		if (!n)
			break;
		if (col > indent && col + 1 + vis > TEXT_WIDTH) {
			sbuf_putc(b, '\n');
			for (int i = 0; i < indent; i++)
				sbuf_putc(b, ' ');
			col = indent;
		} else if (col > indent) {
			sbuf_putc(b, ' ');
			col++;
		}
		for (int i = 0; i < n; i++)
			if (s[i] != '`')
				sbuf_putc(b, s[i]);
		col += vis;
		s += n;
	}
}

static void verdict_counts(struct sbuf *b, const struct port_stats *p)
{
	const char *sep = "";
	for (int v = 0; v < LT_V_COUNT; v++)
		if (p->verdict[v]) {
			sbuf_printf(b, "%s%" PRIu64 " %s", sep, p->verdict[v],
				    lt_verdict_name((enum lt_verdict)v));
			sep = ", ";
		}
}

static void headline(struct sbuf *b, const struct view *w)
{
	uint16_t ports[6];
	int n = stats_ports(w->st, ports, 6), seen = 0;
	uint64_t conns = w->st->total.conns;

	sbuf_printf(b, "%" PRIu64 " connection%s", conns, conns == 1 ? "" : "s");
	if (!conns)
		return;
	for (int i = 0; i < n; i++)
		seen += w->st->port[ports[i]]->conns > 0;
	sbuf_puts(b, seen > 1 ? " to ports " : " to port ");
	for (int i = 0, k = 0; i < n && k < 5; i++)
		if (w->st->port[ports[i]]->conns)
			sbuf_printf(b, "%s%u", k++ ? ", " : "", ports[i]);
	if (w->st->nports > (uint32_t)n)
		sbuf_puts(b, "...");
	sbuf_puts(b, ": ");
	verdict_counts(b, &w->st->total);
}

/* ---- tables (markdown pipes, or aligned text) -------------------------- */

#define TBL_COLS 16

struct table {
	int ncol;
	char align[TBL_COLS]; /* 'l' or 'r' */
	char **cell;	      /* row-major, row 0 the header */
	size_t n, alloc;
	int oom;
};

static void tbl_init(struct table *t, const char *align)
{
	memset(t, 0, sizeof(*t));
	t->ncol = (int)strlen(align);
	memcpy(t->align, align, (size_t)t->ncol);
}

static void tbl_cell(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tbl_cell(struct table *t, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	if (t->n == t->alloc) {
		size_t na = t->alloc ? t->alloc * 2 : 64;
		char **nc = realloc(t->cell, na * sizeof(*nc));
		if (!nc) {
			t->oom = 1;
			return;
		}
		t->cell = nc;
		t->alloc = na;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s) {
		t->oom = 1;
		return;
	}
	t->cell[t->n++] = s;
}

static void tbl_release(struct table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->cell[i]);
	free(t->cell);
	memset(t, 0, sizeof(*t));
}

static size_t plain_len(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s != '`';
	return n;
}

static void tbl_render(struct sbuf *b, const struct table *t, int md)
{
	size_t rows = t->ncol ? t->n / (size_t)t->ncol : 0;
	size_t width[TBL_COLS] = { 0 };

	if (md) {
		for (size_t r = 0; r < rows; r++) {
			sbuf_puts(b, "|");
			for (int c = 0; c < t->ncol; c++)
				sbuf_printf(b, " %s |", t->cell[r * (size_t)t->ncol + (size_t)c]);
			sbuf_putc(b, '\n');
			if (r == 0) {
				sbuf_puts(b, "|");
				for (int c = 0; c < t->ncol; c++)
					sbuf_puts(b, t->align[c] == 'r' ? "---:|" : "---|");
				sbuf_putc(b, '\n');
			}
		}
		return;
	}
	for (size_t r = 0; r < rows; r++)
		for (int c = 0; c < t->ncol; c++) {
			size_t l = plain_len(t->cell[r * (size_t)t->ncol + (size_t)c]);
			if (l > width[c])
				width[c] = l;
		}
	for (size_t r = 0; r < rows; r++) {
		struct sbuf line;
		sbuf_init(&line, 4096);
		for (int c = 0; c < t->ncol; c++) {
			const char *s = t->cell[r * (size_t)t->ncol + (size_t)c];
			size_t pad = width[c] - plain_len(s);
			if (c)
				sbuf_puts(&line, "  ");
			if (t->align[c] == 'r')
				for (size_t i = 0; i < pad; i++)
					sbuf_putc(&line, ' ');
			put_plain(&line, s);
			if (t->align[c] != 'r' && c + 1 < t->ncol)
				for (size_t i = 0; i < pad; i++)
					sbuf_putc(&line, ' ');
		}
		while (line.len && line.buf[line.len - 1] == ' ')
			line.buf[--line.len] = '\0';
		sbuf_puts(b, sbuf_str(&line));
		sbuf_putc(b, '\n');
		sbuf_release(&line);
		if (r == 0) {
			size_t total = 0;
			for (int c = 0; c < t->ncol; c++)
				total += width[c] + (c ? 2 : 0);
			for (size_t i = 0; i < total; i++)
				sbuf_putc(b, '-');
			sbuf_putc(b, '\n');
		}
	}
}

/* ---- sections, shared by markdown and text ----------------------------- */

static void heading(struct sbuf *b, int md, int level, const char *s)
{
	if (md) {
		sbuf_printf(b, "%s %s\n\n", level == 1 ? "#" : level == 2 ? "##" : "###", s);
		return;
	}
	size_t n = plain_len(s);
	if (level == 3) {
		put_plain(b, s);
		sbuf_puts(b, "\n\n");
		return;
	}
	put_plain(b, s);
	sbuf_putc(b, '\n');
	for (size_t i = 0; i < n; i++)
		sbuf_putc(b, level == 1 ? '=' : '-');
	sbuf_puts(b, "\n\n");
}

static void para(struct sbuf *b, int md, const char *s)
{
	if (md)
		sbuf_puts(b, s);
	else
		wrap(b, s, 0, 0);
	sbuf_puts(b, "\n\n");
}

/* A paragraph formatted by printf rules. */
__attribute__((format(printf, 3, 4))) static void paraf(struct sbuf *b, int md, const char *fmt,
							...)
{
	struct sbuf s;
	va_list ap;

	sbuf_init(&s, 512);
	va_start(ap, fmt);
	sbuf_vprintf(&s, fmt, ap);
	va_end(ap);
	para(b, md, sbuf_str(&s));
	sbuf_release(&s);
}

static bool listener_relevant(const struct view *w, const struct listener *l)
{
	const struct port_stats *p = w->st->port[l->port];
	return p != NULL; /* watched, or seen in the traffic */
}

static void run_table(struct sbuf *b, const struct view *w, int md)
{
	const struct lt_run_info *ri = w->ri;
	struct table t;
	struct sbuf s;
	char t1[FMT_TIME_LEN], t2[FMT_TIME_LEN], d[24];

	sbuf_init(&s, 4096);
	tbl_init(&t, "ll");
	tbl_cell(&t, "What");
	tbl_cell(&t, "Value");

	tbl_cell(&t, "Traffic");
	if (w->st->total.conns)
		tbl_cell(&t, "%s to %s (%s)", fmt_time_iso(t1, w->st->first_ts),
			 fmt_time_iso(t2, w->st->last_ts),
			 fmt_dur(d, (int64_t)(w->st->last_ts - w->st->first_ts)));
	else
		tbl_cell(&t, "no connections");

	tbl_cell(&t, "Input");
	sbuf_reset(&s);
	if (w->r->live && ri->link_name) {
		sbuf_puts(&s, "live capture on ");
		md_code(&s, ri->input ? ri->input : "?");
	} else if (w->r->live) {
		sbuf_printf(&s, "live, %s", ri->input ? ri->input : "?");
	} else {
		sbuf_puts(&s, "capture file ");
		md_code(&s, ri->input ? ri->input : "?");
	}
	if (ri->link_name)
		sbuf_printf(&s, ", link type %s", ri->link_name);
	tbl_cell(&t, "%s", sbuf_str(&s));

	tbl_cell(&t, "Backend");
	if (ri->backend_note)
		tbl_cell(&t, "%s (%s)", ri->backend, ri->backend_note);
	else
		tbl_cell(&t, "%s", ri->backend);

	tbl_cell(&t, "Ports watched");
	sbuf_reset(&s);
	if (ri->ports && ri->ports->n)
		for (int i = 0; i < ri->ports->n; i++)
			sbuf_printf(&s, "%s%u", i ? ", " : "", ri->ports->list[i]);
	else
		sbuf_puts(&s, "all");
	tbl_cell(&t, "%s", sbuf_str(&s));

	tbl_cell(&t, "Host kernel");
	tbl_cell(&t, "%s%s", w->kernel,
		 w->r->live ? "" : " (where lotrace ran; the capture may come from elsewhere)");
	tbl_cell(&t, "lotrace");
	tbl_cell(&t, "%s", ri->version);
	if (w->partial) {
		tbl_cell(&t, "Written");
		tbl_cell(&t, "mid-run: connections still active are included as they stood");
	}
	tbl_render(b, &t, md);
	sbuf_putc(b, '\n');
	tbl_release(&t);
	sbuf_release(&s);
}

/* with_ns: the finding's connections are in more than one network
 * namespace, each is named ("in `lt-cli`") */
static void put_ref(struct sbuf *b, const struct diag_ref *r, bool with_ns)
{
	char c[FMT_EP_LEN], s[FMT_EP_LEN], ns[96];
	sbuf_printf(b, "#%" PRIu64 " `%s` -> `%s`", r->id, fmt_endpoint(c, r->family, &r->client),
		    fmt_endpoint(s, r->family, &r->server));
	if (with_ns && r->ns) {
		sink_netns_name(r->ns, ns, sizeof(ns));
		sbuf_printf(b, " in `%s`", ns);
	}
}

#define PROSE_REFS 3

/* A few connections by name, the rest counted: the finding's own first,
 * then one of those it compares them with. */
static void evidence(struct sbuf *b, const struct diag_finding *f)
{
	int pick[PROSE_REFS], n = 0;

	if (!f->total) {
		sbuf_puts(b, "the run's counters (no single connection)");
		return;
	}
	int own = f->nprimary < f->nrefs ? PROSE_REFS - 1 : PROSE_REFS;
	for (int i = 0; i < f->nprimary && n < own; i++)
		pick[n++] = i;
	for (int i = f->nprimary; i < f->nrefs && n < PROSE_REFS; i++)
		pick[n++] = i;
	bool with_ns = false;
	for (int i = 1; i < f->nrefs; i++)
		with_ns |= f->refs[i].ns != f->refs[0].ns;
	for (int i = 0; i < n; i++) {
		if (i)
			sbuf_puts(b, ", ");
		put_ref(b, &f->refs[pick[i]], with_ns);
	}
	if (f->total > (uint64_t)n)
		sbuf_printf(b, " and %" PRIu64 " more", f->total - (uint64_t)n);
}

static void diagnosis(struct sbuf *b, const struct view *w, int md)
{
	struct sbuf s;

	sbuf_init(&s, 1u << 16);
	heading(b, md, 2, "Diagnosis");
	for (int i = 0; i < w->nfnd; i++) {
		const struct diag_finding *f = &w->fnd[i];
		if (md) {
			sbuf_printf(b, "- **%s** (%s)\n\n", f->title,
				    diag_severity_name(f->severity));
			sbuf_printf(b, "  %s\n\n", f->text);
			if (f->next_step[0])
				sbuf_printf(b, "  Next step: %s\n\n", f->next_step);
			sbuf_puts(b, "  Evidence: ");
			evidence(b, f);
			sbuf_puts(b, "\n\n");
		} else {
			sbuf_reset(&s);
			sbuf_printf(&s, "[%s] %s", diag_severity_name(f->severity), f->title);
			sbuf_puts(b, "* ");
			wrap(b, sbuf_str(&s), 2, 4);
			sbuf_puts(b, "\n    ");
			wrap(b, f->text, 4, 4);
			if (f->next_step[0]) {
				sbuf_reset(&s);
				sbuf_printf(&s, "Next step: %s", f->next_step);
				sbuf_puts(b, "\n    ");
				wrap(b, sbuf_str(&s), 4, 4);
			}
			sbuf_reset(&s);
			sbuf_puts(&s, "Evidence: ");
			evidence(&s, f);
			sbuf_puts(b, "\n    ");
			wrap(b, sbuf_str(&s), 4, 4);
			sbuf_puts(b, "\n\n");
		}
	}
	sbuf_release(&s);
}

static void ports_section(struct sbuf *b, const struct view *w, int md)
{
	uint16_t *ports = malloc(MAX_PORT_ROWS * sizeof(*ports));
	int n = ports ? stats_ports(w->st, ports, MAX_PORT_ROWS) : 0;
	const struct port_stats *tot = &w->st->total;
	bool col[LT_V_COUNT] = { false };
	bool rst = tot->syn_rst.count > 0;
	bool retr = tot->syn_retrans + tot->synack_retrans > 0;
	char align[TBL_COLS + 1];
	int na = 0;
	struct table t;
	struct sbuf s;

	heading(b, md, 2, "Ports");
	align[na++] = 'r';
	align[na++] = 'r';
	for (int v = 0; v < LT_V_COUNT; v++)
		if (tot->verdict[v]) {
			col[v] = true;
			align[na++] = 'r';
		}
	if (retr)
		align[na++] = 'r';
	align[na++] = 'r';
	if (rst)
		align[na++] = 'r';
	align[na] = '\0';

	sbuf_init(&s, 256);
	tbl_init(&t, align);
	tbl_cell(&t, "Port");
	tbl_cell(&t, "Connections");
	for (int v = 0; v < LT_V_COUNT; v++)
		if (col[v])
			tbl_cell(&t, "%s", lt_verdict_name((enum lt_verdict)v));
	if (retr)
		tbl_cell(&t, "SYN / SYN-ACK re-sent");
	tbl_cell(&t, "SYN->SYN-ACK p50 / p99 / max");
	if (rst)
		tbl_cell(&t, "SYN->RST p50 / p99 / max");
	for (int i = 0; i <= n; i++) {
		const struct port_stats *p;
		if (i == n) {
			if (n == 1)
				break;
			p = tot;
			tbl_cell(&t, "total");
		} else {
			p = w->st->port[ports[i]];
			tbl_cell(&t, "%u", p->port);
		}
		tbl_cell(&t, "%" PRIu64, p->conns);
		for (int v = 0; v < LT_V_COUNT; v++)
			if (col[v])
				tbl_cell(&t, "%" PRIu64, p->verdict[v]);
		if (retr)
			tbl_cell(&t, "%" PRIu64 " / %" PRIu64, p->syn_retrans, p->synack_retrans);
		sbuf_reset(&s);
		fmt_lat3(&s, &p->syn_synack, " / ");
		tbl_cell(&t, "%s", sbuf_str(&s));
		if (rst) {
			sbuf_reset(&s);
			fmt_lat3(&s, &p->syn_rst, " / ");
			tbl_cell(&t, "%s", sbuf_str(&s));
		}
	}
	tbl_render(b, &t, md);
	sbuf_putc(b, '\n');
	if (w->st->nports > (uint32_t)n)
		para(b, md, "(more ports than the table shows; the total covers them all)");
	para(b, md,
	     "Latencies are handshake times measured in the capture: SYN to SYN-ACK for answered "
	     "attempts, SYN to RST for refused ones.");
	tbl_release(&t);
	sbuf_release(&s);
	free(ports);
}

static bool same_listener(const struct listener *a, const struct listener *b)
{
	return a->family == b->family && a->port == b->port && !memcmp(a->addr, b->addr, 16) &&
	       (a->inode == b->inode || !a->inode || !b->inode);
}

/* The end-of-run snapshot of listener l, or NULL if it was gone by then. */
static const struct listener *listener_at_end(const struct view *w, const struct listener *l)
{
	const struct listener *end = NULL;
	for (int j = 0; j < w->nlend; j++)
		if (same_listener(l, &w->lend[j]))
			end = &w->lend[j];
	return end;
}

static void listener_row(struct table *t, const struct listener *l, const struct listener *start,
			 const struct listener *end)
{
	struct sbuf c;

	sbuf_init(&c, 256);
	listener_format(&c, l, LISTENER_CELL, true);
	tbl_cell(t, "%s", sbuf_str(&c));
	sbuf_release(&c);
	if (l->pid >= 0)
		tbl_cell(t, "`%s` (pid %d)", l->comm, l->pid);
	else
		tbl_cell(t, "unknown");
	tbl_cell(t, "%u", l->backlog);
	if (start)
		tbl_cell(t, "%u", start->queued);
	else
		tbl_cell(t, "not listening");
	if (end)
		tbl_cell(t, "%u", end->queued);
	else
		tbl_cell(t, "not listening");
}

/* Listened on port at the start or the end (any address)? */
static bool listened_on(const struct view *w, uint16_t port)
{
	for (int i = 0; i < w->r->nlst; i++)
		if (w->r->lst[i].port == port)
			return true;
	for (int j = 0; j < w->nlend; j++)
		if (w->lend[j].port == port)
			return true;
	return false;
}

/* Servers that answered connections on ports where nothing listened at
 * the start or at the end: listeners that came and went. Returns how many
 * were named. */
static int came_and_went(struct sbuf *b, const struct view *w, int md)
{
	const struct report *r = w->r;
	int named = 0;

	for (int i = 0; i < r->nans; i++) {
		const struct answerer *a = &r->ans[i];
		char ep[FMT_EP_LEN], t1[FMT_TIME_LEN], t2[FMT_TIME_LEN];
		struct lt_endpoint e = { .port = a->port };
		struct sbuf s;

		if (listened_on(w, a->port))
			continue;
		memcpy(e.addr, a->addr, 16);
		sbuf_init(&s, 512);
		sbuf_printf(&s,
			    "Listened during the run only (not at the start, not at the end): `%s`",
			    fmt_endpoint(ep, a->family, &e));
		if (a->pid >= 0)
			sbuf_printf(&s, " by `%s` (pid %d)", a->comm, (int)a->pid);
		sbuf_printf(&s, ", answered %" PRIu64 " connection%s from %s to %s.", a->n,
			    a->n == 1 ? "" : "s", fmt_time(t1, a->first_ns, 0),
			    fmt_time(t2, a->last_ns, 0));
		para(b, md, sbuf_str(&s));
		sbuf_release(&s);
		named++;
	}
	if (r->ans_more)
		paraf(b, md,
		      "(%" PRIu64
		      " answered connections on more server endpoints than the report follows)",
		      r->ans_more);
	return named;
}

/* A listener's change kept in the report: on a port the report covers. */
static bool event_relevant(const struct view *w, const struct listen_ev *e)
{
	return listener_relevant(w, &e->l);
}

/* Sockets that began or stopped listening during the run (eBPF), one row
 * each in time order. Returns how many rows. */
static int listener_changes(struct sbuf *b, const struct view *w, int md)
{
	const struct listen_tl *tl = engine_listen_tl(w->r->e);
	struct table t;
	int rows = 0;

	tbl_init(&t, "lllll");
	tbl_cell(&t, "Time");
	tbl_cell(&t, "Change");
	tbl_cell(&t, "Listening on");
	tbl_cell(&t, "Process");
	tbl_cell(&t, "Process started");
	for (uint32_t i = 0; i < tl->n; i++) {
		const struct listen_ev *e = &tl->v[i];
		char t1[FMT_TIME_LEN];
		struct sbuf c;

		if (!event_relevant(w, e))
			continue;
		tbl_cell(&t, "%s", fmt_time(t1, e->ts_ns, 0));
		if (e->what == LT_LISTEN_BEGAN && e->l.backlog)
			tbl_cell(&t, "began listening (backlog %u)", e->l.backlog);
		else
			tbl_cell(&t, "%s",
				 e->what == LT_LISTEN_BEGAN ? "began listening"
							    : "stopped listening");
		sbuf_init(&c, 128);
		listener_format(&c, &e->l, LISTENER_ENDPOINT, true);
		tbl_cell(&t, "%s", sbuf_str(&c));
		sbuf_release(&c);
		if (e->l.pid > 0)
			tbl_cell(&t, "`%s` (pid %d)", e->l.comm, (int)e->l.pid);
		else
			tbl_cell(&t, "unknown");
		if (e->proc_start_ns)
			tbl_cell(&t, "%s", fmt_time(t1, e->proc_start_ns, 0));
		else
			tbl_cell(&t, "unknown");
		rows++;
	}
	if (rows) {
		para(b, md, "Sockets that began or stopped listening during the run (eBPF):");
		tbl_render(b, &t, md);
		sbuf_putc(b, '\n');
	}
	tbl_release(&t);
	if (tl->dropped)
		paraf(b, md,
		      "(%" PRIu64 " more listener changes than the report keeps were not listed)",
		      tl->dropped);
	return rows;
}

static void listeners_section(struct sbuf *b, const struct view *w, int md)
{
	const struct report *r = w->r;
	struct table t;
	struct sbuf s;
	int rows = 0;

	heading(b, md, 2, "Listeners");
	if (!r->live) {
		para(b, md,
		     "Not checked: this report comes from a capture file, which holds no listening "
		     "sockets. Run lotrace live to see them.");
		return;
	}
	if (r->nlst < 0 && w->nlend < 0) {
		paraf(b, md, "Could not list the listening sockets: %s.", strerror(-r->nlst));
		return;
	}
	tbl_init(&t, "llrrr");
	tbl_cell(&t, "Listening on");
	tbl_cell(&t, "Process");
	tbl_cell(&t, "Backlog");
	tbl_cell(&t, "Waiting for accept() at start");
	tbl_cell(&t, "at end");
	for (int i = 0; i < r->nlst; i++) {
		const struct listener *l = &r->lst[i];
		if (!listener_relevant(w, l))
			continue;
		const struct listener *end = listener_at_end(w, l);
		listener_row(&t, end ? end : l, l, end);
		rows++;
	}
	for (int j = 0; j < w->nlend; j++) {
		const struct listener *l = &w->lend[j];
		bool seen = false;
		if (!listener_relevant(w, l))
			continue;
		for (int i = 0; i < r->nlst && !seen; i++)
			seen = same_listener(&r->lst[i], l);
		if (!seen) {
			listener_row(&t, l, NULL, l);
			rows++;
		}
	}
	if (rows) {
		tbl_render(b, &t, md);
		sbuf_putc(b, '\n');
	}
	tbl_release(&t);
	rows += listener_changes(b, w, md);
	if (came_and_went(b, w, md) == 0 && !rows)
		para(b, md,
		     "No socket listened on the watched ports or on the ports seen in the traffic, "
		     "at the start or at the end of the run.");

	sbuf_init(&s, 1024);
	if (r->c_start.overflows >= 0 && w->c_end.overflows >= 0)
		sbuf_printf(&s,
			    "Kernel counters during the run (all listeners on this machine): "
			    "ListenOverflows +%" PRId64 ", ListenDrops +%" PRId64 ". ",
			    w->c_end.overflows - r->c_start.overflows,
			    w->c_end.drops - r->c_start.drops);
	if (w->sys.syn_retries >= 0) {
		sbuf_printf(&s, "SYN retry settings: tcp_syn_retries=%d, tcp_synack_retries=%d",
			    w->sys.syn_retries, w->sys.synack_retries);
		if (w->sys.syn_linear_timeouts >= 0)
			sbuf_printf(&s, ", tcp_syn_linear_timeouts=%d", w->sys.syn_linear_timeouts);
		sbuf_puts(&s, ".");
	}
	if (s.len)
		para(b, md, sbuf_str(&s));
	sbuf_release(&s);
}

/* The source's counters of cut or lost evidence that are not zero, on
 * one line (nothing when all are zero). */
static void problem_counters(struct sbuf *b, const struct lt_source_stats *ss, const char *bullet)
{
	int n = 0;
	for (int i = 0; i < ss->ncounters; i++) {
		const struct lt_src_counter *c = &ss->counters[i];
		if (!c->problem || !c->value)
			continue;
		if (!n++)
			sbuf_printf(b, "%sSource counters of cut or lost evidence:", bullet);
		sbuf_printf(b, "%s %s %" PRIu64, n > 1 ? "," : "", c->name, c->value);
	}
	if (n)
		sbuf_putc(b, '\n');
}

static void input_section(struct sbuf *b, const struct view *w, int md)
{
	const struct lt_source_stats *ss = w->ss;
	const struct flow_counters *fc = flow_tab_counters(engine_flows(w->r->e));
	const char *bullet = md ? "- " : "  ";

	heading(b, md, 2, "Input");
	if (ss && w->ri->link_name)
		sbuf_printf(b,
			    "%sFrames: %" PRIu64 " read, %" PRIu64 " TCP, %" PRIu64
			    " other, %" PRIu64 " could not be decoded\n",
			    bullet, ss->dec.frames, ss->dec.tcp, ss->dec.not_tcp,
			    dec_stats_problems(&ss->dec));
	else if (ss)
		sbuf_printf(b, "%sEvents received: %" PRIu64 "\n", bullet, ss->received);
	if (ss)
		sbuf_printf(b, "%sLost events: %" PRIu64 "\n", bullet, ss->lost);
	if (ss)
		problem_counters(b, ss, bullet);
	sbuf_printf(b,
		    "%sConnections tracked: %" PRIu64 " (table capacity %u, %" PRIu64
		    " evicted), %" PRIu64 " reuses of a 4-tuple\n",
		    bullet, fc->created, fc->capacity, fc->evicted, fc->reused);
	if (fc->time_jumps) {
		struct sbuf j;
		sbuf_init(&j, 256);
		fmt_time_jump(&j, fc);
		if (fc->jumps_sustained)
			sbuf_printf(
				b,
				"%sTime: %s; it lasted, so the times after it are the capture's, "
				"the connections before it ended there, and those after it carry "
				"the `after-time-jump` anomaly\n",
				bullet, sbuf_str(&j));
		else
			sbuf_printf(b,
				    "%sTime: %s; nothing expired for it, and the connections after "
				    "it carry the `after-time-jump` anomaly (their times count on "
				    "from before the jump)\n",
				    bullet, sbuf_str(&j));
		sbuf_release(&j);
	}
	if (ss && ss->read_error[0]) {
		sbuf_printf(b, "%sInput ended early: ", bullet);
		put_plain(b, ss->read_error);
		sbuf_putc(b, '\n');
	}
	if (w->ri->cut) {
		sbuf_printf(b, "%sRun cut: ", bullet);
		put_plain(b, w->ri->cut);
		sbuf_putc(b, '\n');
	}
	sbuf_putc(b, '\n');
}

static void example(struct sbuf *b, const struct flow *f, enum lt_verdict v, int md)
{
	char c[FMT_EP_LEN], s[FMT_EP_LEN], t[FMT_TIME_LEN], d1[24], d2[24];
	const char *li = md ? "- " : "  ";
	struct sbuf h;
	int64_t l;

	sbuf_init(&h, 512);
	verdict_text(&h, f, v);
	sbuf_printf(&h, ": #%" PRIu64 " `%s` -> `%s`", f->id,
		    fmt_endpoint(c, f->family, &f->client), fmt_endpoint(s, f->family, &f->server));
	heading(b, md, 3, sbuf_str(&h));
	sbuf_release(&h);

	sbuf_printf(b, "%sStarted %s, lasted %s\n", li, fmt_time_iso(t, f->t_first),
		    fmt_dur(d1, (int64_t)(f->t_last - f->t_first)));
	sbuf_printf(b,
		    md ? "%sZeek conn_state `%s`, history `%s`\n"
		       : "%sZeek conn_state %s, history %s\n",
		    li, flow_zeek_state(f), f->history);
	if ((l = flow_syn_to_synack(f)) >= 0) {
		sbuf_printf(b, "%sHandshake: SYN->SYN-ACK %s", li, fmt_dur(d1, l));
		if ((l = flow_synack_to_ack(f)) >= 0)
			sbuf_printf(b, ", SYN-ACK->ACK %s", fmt_dur(d2, l));
		sbuf_putc(b, '\n');
	} else if ((l = flow_syn_to_rst(f)) >= 0) {
		sbuf_printf(b, "%sHandshake: SYN->RST %s\n", li, fmt_dur(d1, l));
	}
	sbuf_printf(b,
		    "%sPayload: %" PRIu64 " bytes client->server, %" PRIu64
		    " bytes server->client\n",
		    li, f->side[LT_DIR_C2S].bytes, f->side[LT_DIR_S2C].bytes);
	if (f->side[LT_DIR_C2S].pid >= 0 || f->side[LT_DIR_S2C].pid >= 0) {
		sbuf_printf(b, "%sProcesses:", li);
		if (f->side[LT_DIR_C2S].pid >= 0)
			sbuf_printf(b, " client %s[%d]", f->side[LT_DIR_C2S].comm,
				    f->side[LT_DIR_C2S].pid);
		if (f->side[LT_DIR_S2C].pid >= 0)
			sbuf_printf(b, " server %s[%d]", f->side[LT_DIR_S2C].comm,
				    f->side[LT_DIR_S2C].pid);
		sbuf_putc(b, '\n');
	}
	if (f->kctx) {
		sbuf_printf(b, "%sKernel:", li);
		const char *sep = " ";
		if (f->reset_reason[0]) {
			sbuf_printf(b, "%sreset reason %s", sep, f->reset_reason);
			sep = ", ";
		}
		if (f->drop_reason[0]) {
			sbuf_printf(b, "%sdrop reason %s (%u dropped)", sep, f->drop_reason,
				    f->drops);
			sep = ", ";
		}
		if (f->anomalies & LT_A_LISTEN_OVERFLOW) {
			sbuf_printf(b, "%saccept queue full (%u queued, backlog %u", sep,
				    f->ovf_queued, f->ovf_backlog);
			if (f->side[LT_DIR_S2C].pid > 0)
				sbuf_printf(b, ", listener %s[%d]", f->side[LT_DIR_S2C].comm,
					    (int)f->side[LT_DIR_S2C].pid);
			sbuf_putc(b, ')');
			sep = ", ";
		}
		if (f->sk_errno) {
			sbuf_printf(b, "%serror %d (%s)", sep, f->sk_errno, strerror(f->sk_errno));
			sep = ", ";
		}
		if (sep[0] == ' ')
			sbuf_puts(b, " nothing unusual");
		sbuf_putc(b, '\n');
	}
	sbuf_putc(b, '\n');

	sbuf_puts(b, md ? "```text\n" : "");
	{
		struct sbuf lad;
		sbuf_init(&lad, 1u << 16);
		ladder_render(&lad, f, LADDER_WIDTH_DEFAULT);
		if (md) {
			sbuf_puts(b, sbuf_str(&lad));
		} else {
			/* indent the diagram as a block */
			const char *p = sbuf_str(&lad);
			while (*p) {
				const char *nl = strchr(p, '\n');
				size_t n = nl ? (size_t)(nl - p) : strlen(p);
				sbuf_puts(b, "  ");
				sbuf_add(b, p, n);
				sbuf_putc(b, '\n');
				p += n + (nl ? 1 : 0);
			}
		}
		sbuf_release(&lad);
	}
	sbuf_puts(b, md ? "```\n\n" : "\n");
	sbuf_puts(b, md ? "Timeline: `" : "  Timeline: ");
	fmt_timeline(b, f);
	sbuf_puts(b, md ? "`\n\n" : "\n\n");
}

static void examples_section(struct sbuf *b, const struct view *w, int md)
{
	int any = 0;
	heading(b, md, 2, "Examples");
	for (int v = 0; v < LT_V_COUNT; v++)
		any |= w->has_ex[v];
	if (!any) {
		para(b, md, "No connection to show.");
		return;
	}
	para(b, md,
	     "One connection per verdict, the first one seen. In the diagrams the client is on the "
	     "left, the server on the right, and times count from the connection's first segment.");
	for (int v = 0; v < LT_V_COUNT; v++)
		if (w->has_ex[v])
			example(b, &w->ex[v], (enum lt_verdict)v, md);
}

static void write_doc(struct sbuf *b, const struct view *w, int md)
{
	struct sbuf h;

	sbuf_init(&h, 1024);
	sbuf_puts(&h, "lotrace report: ");
	headline(&h, w);
	heading(b, md, 1, sbuf_str(&h));
	sbuf_release(&h);
	run_table(b, w, md);
	diagnosis(b, w, md);
	ports_section(b, w, md);
	listeners_section(b, w, md);
	input_section(b, w, md);
	examples_section(b, w, md);
	/* one trailing newline, not two */
	if (b->len >= 2 && b->buf[b->len - 1] == '\n' && b->buf[b->len - 2] == '\n')
		b->buf[--b->len] = '\0';
}

/* ---- JSON (json.h, the writer every JSON output uses) ----------------- */

static void jplain(struct json *j, const char *k, const char *v)
{
	char *p = plain_dup(v);
	json_kv_str(j, k, p ? p : "");
	free(p);
}

/* v, or null when NULL (an empty string stays a string) */
static void jstr(struct json *j, const char *k, const char *v)
{
	if (v)
		json_kv_str(j, k, v);
	else
		json_kv_null(j, k);
}

static void jtime(struct json *j, const char *k, bool have, uint64_t ts)
{
	char t[FMT_TIME_LEN];
	if (have)
		json_kv_str(j, k, fmt_time_iso(t, ts));
	else
		json_kv_null(j, k);
}

static void jlistener(struct json *j, const struct listener *l, const struct listener *start,
		      const struct listener *end)
{
	char a[FMT_ADDR_LEN];
	json_obj_open(j);
	json_kv_u64(j, "ip_version", l->family);
	json_kv_str(j, "address", fmt_addr(a, l->family, l->addr));
	json_kv_u64(j, "port", l->port);
	json_kv_bool(j, "v6only", l->v6only);
	if (l->pid >= 0) {
		json_kv_i64(j, "pid", l->pid);
		json_kv_str(j, "comm", l->comm);
	} else {
		json_kv_null(j, "pid");
		json_kv_null(j, "comm");
	}
	json_kv_u64(j, "backlog", l->backlog);
	if (start)
		json_kv_u64(j, "waiting_start", start->queued);
	else
		json_kv_null(j, "waiting_start");
	if (end)
		json_kv_u64(j, "waiting_end", end->queued);
	else
		json_kv_null(j, "waiting_end");
	json_obj_close(j);
}

static void jlisteners(struct json *j, const struct view *w)
{
	const struct report *r = w->r;

	json_key(j, "listeners");
	if (!r->live || (r->nlst < 0 && w->nlend < 0)) {
		json_null(j);
		return;
	}
	json_arr_open(j);
	for (int i = 0; i < r->nlst; i++) {
		const struct listener *l = &r->lst[i];
		if (!listener_relevant(w, l))
			continue;
		const struct listener *end = listener_at_end(w, l);
		jlistener(j, end ? end : l, l, end);
	}
	for (int k = 0; k < w->nlend; k++) {
		const struct listener *l = &w->lend[k];
		bool seen = false;
		if (!listener_relevant(w, l))
			continue;
		for (int i = 0; i < r->nlst && !seen; i++)
			seen = same_listener(&r->lst[i], l);
		if (seen)
			continue;
		jlistener(j, l, NULL, l);
	}
	json_arr_close(j);
}

static void jlistener_events(struct json *j, const struct view *w)
{
	const struct listen_tl *tl = engine_listen_tl(w->r->e);

	json_key(j, "listener_events");
	if (!w->r->live || !w->ri->backend || strcmp(w->ri->backend, "ebpf")) {
		json_null(j);
		return;
	}
	json_arr_open(j);
	for (uint32_t i = 0; i < tl->n; i++) {
		const struct listen_ev *e = &tl->v[i];
		char a[FMT_ADDR_LEN], t[FMT_TIME_LEN];

		if (!event_relevant(w, e))
			continue;
		json_obj_open(j);
		json_kv_str(j, "event", e->what == LT_LISTEN_BEGAN ? "listen" : "close");
		json_kv_str(j, "time", fmt_time_iso(t, e->ts_ns));
		json_kv_u64(j, "time_ns", e->ts_ns);
		json_kv_u64(j, "ip_version", e->l.family);
		json_kv_str(j, "address", fmt_addr(a, e->l.family, e->l.addr));
		json_kv_u64(j, "port", e->l.port);
		if (e->l.pid > 0) {
			json_kv_i64(j, "pid", e->l.pid);
			json_kv_str(j, "comm", e->l.comm);
		} else {
			json_kv_null(j, "pid");
			json_kv_null(j, "comm");
		}
		if (e->proc_start_ns) {
			json_kv_str(j, "process_start", fmt_time_iso(t, e->proc_start_ns));
			json_kv_u64(j, "process_start_ns", e->proc_start_ns);
		} else {
			json_kv_null(j, "process_start");
			json_kv_null(j, "process_start_ns");
		}
		if (e->l.backlog)
			json_kv_u64(j, "backlog", e->l.backlog);
		else
			json_kv_null(j, "backlog");
		listen_note_json_netns(j, e);
		json_obj_close(j);
	}
	json_arr_close(j);
}

static void write_json(struct sbuf *b, const struct view *w)
{
	const struct lt_run_info *ri = w->ri;
	const struct lt_source_stats *ss = w->ss;
	const struct flow_counters *fc = flow_tab_counters(engine_flows(w->r->e));
	uint16_t *ports = malloc(MAX_PORT_ROWS * sizeof(*ports));
	int n = ports ? stats_ports(w->st, ports, MAX_PORT_ROWS) : 0;
	bool any = w->st->total.conns > 0;
	struct json jw, *j = &jw;

	json_init(j, b);
	json_obj_open(j);
	json_kv_str(j, "type", "report");
	json_kv_u64(j, "schema_version", SCHEMA_VERSION);

	json_key(j, "run");
	json_obj_open(j);
	json_kv_str(j, "lotrace_version", ri->version);
	json_kv_str(j, "backend", ri->backend);
	jstr(j, "backend_note", ri->backend_note);
	jstr(j, "input", ri->input);
	jstr(j, "link_type", ri->link_name);
	json_kv_bool(j, "live", w->r->live);
	json_kv_bool(j, "partial", w->partial);
	json_kv_str(j, "host_kernel", w->kernel);
	json_key(j, "watched_ports");
	json_arr_open(j);
	for (int i = 0; ri->ports && i < ri->ports->n; i++)
		json_u64(j, ri->ports->list[i]);
	json_arr_close(j);
	jtime(j, "first", any, w->st->first_ts);
	jtime(j, "last", any, w->st->last_ts);
	if (any) {
		json_kv_u64(j, "first_ns", w->st->first_ts);
		json_kv_u64(j, "last_ns", w->st->last_ts);
	} else {
		json_kv_null(j, "first_ns");
		json_kv_null(j, "last_ns");
	}
	json_kv_u64(j, "connections", w->st->total.conns);
	json_kv_u64(j, "frames", ss ? ss->dec.frames : 0);
	json_kv_u64(j, "tcp_frames", ss ? ss->dec.tcp : 0);
	json_kv_u64(j, "other_frames", ss ? ss->dec.not_tcp : 0);
	json_kv_u64(j, "decode_problems", ss ? dec_stats_problems(&ss->dec) : 0);
	json_kv_u64(j, "events_received", ss ? ss->received : 0);
	json_kv_u64(j, "lost_events", ss ? ss->lost : 0);
	json_key(j, "source_counters"); /* all of them, by name */
	json_obj_open(j);
	for (int i = 0; ss && i < ss->ncounters; i++)
		json_kv_u64(j, ss->counters[i].name, ss->counters[i].value);
	json_obj_close(j);
	json_kv_u64(j, "flows_tracked", fc->created);
	json_kv_u64(j, "flows_evicted", fc->evicted);
	json_kv_u64(j, "flow_capacity", fc->capacity);
	json_kv_u64(j, "port_reuses", fc->reused);
	json_kv_u64(j, "time_jumps", fc->time_jumps);
	if (fc->time_jumps) { /* the first, as the text says it */
		struct sbuf tj;
		sbuf_init(&tj, 256);
		fmt_time_jump(&tj, fc);
		json_kv_str(j, "time_jump", sbuf_str(&tj));
		sbuf_release(&tj);
	}
	json_kv_str_or_null(j, "input_error", ss ? ss->read_error : NULL);
	if (w->ri->cut) /* only when reading stopped before the input did */
		json_kv_str(j, "cut", w->ri->cut);
	jlisteners(j, w);
	jlistener_events(j, w);
	json_key(j, "listen_counters");
	if (w->r->live && w->r->c_start.overflows >= 0 && w->c_end.overflows >= 0) {
		json_obj_open(j);
		json_kv_u64(j, "overflows_delta",
			    (uint64_t)(w->c_end.overflows - w->r->c_start.overflows));
		json_kv_u64(j, "drops_delta", (uint64_t)(w->c_end.drops - w->r->c_start.drops));
		json_obj_close(j);
	} else {
		json_null(j);
	}
	json_key(j, "syn_sysctls");
	if (w->r->live && w->sys.syn_retries >= 0) {
		json_obj_open(j);
		json_kv_i64(j, "tcp_syn_retries", w->sys.syn_retries);
		json_kv_i64(j, "tcp_synack_retries", w->sys.synack_retries);
		if (w->sys.syn_linear_timeouts >= 0)
			json_kv_i64(j, "tcp_syn_linear_timeouts", w->sys.syn_linear_timeouts);
		else
			json_kv_null(j, "tcp_syn_linear_timeouts");
		json_obj_close(j);
	} else {
		json_null(j);
	}
	json_obj_close(j);

	json_key(j, "ports");
	json_arr_open(j);
	for (int i = 0; i < n; i++)
		sink_json_port(j, w->st->port[ports[i]], 1);
	json_arr_close(j);
	json_key(j, "total");
	sink_json_port(j, &w->st->total, 0);

	json_key(j, "findings");
	json_arr_open(j);
	for (int i = 0; i < w->nfnd; i++) {
		const struct diag_finding *f = &w->fnd[i];
		json_obj_open(j);
		jstr(j, "id", f->id);
		json_kv_str(j, "severity", diag_severity_name(f->severity));
		jplain(j, "title", f->title);
		jplain(j, "text", f->text);
		jplain(j, "next_step", f->next_step);
		json_key(j, "evidence");
		json_arr_open(j);
		for (int k = 0; k < f->nrefs; k++)
			json_u64(j, f->refs[k].id);
		json_arr_close(j);
		json_kv_u64(j, "evidence_total", f->total);
		json_obj_close(j);
	}
	json_arr_close(j);

	json_key(j, "examples");
	json_arr_open(j);
	for (int v = 0; v < LT_V_COUNT; v++) {
		if (!w->has_ex[v])
			continue;
		json_value_begin(j);
		sink_json_conn_obj(b, &w->ex[v], (enum lt_verdict)v);
	}
	json_arr_close(j);
	json_obj_close(j);
	sbuf_putc(b, '\n');
	free(ports);
}

/* ---- report_write ------------------------------------------------------ */

/* Live: lotrace's network namespace, whose listeners the lists are (a
 * refusal in another namespace is judged against them, diagnose.c). */
static void self_netns(struct diag_context *c)
{
	struct stat self, init;

	if (stat("/proc/self/ns/net", &self))
		return;
	c->netns_self = (uint32_t)self.st_ino;
	/* no view of pid 1's namespace: ours is the host's (as src_bpf_netns.c) */
	c->netns_self_host = stat("/proc/1/ns/net", &init) != 0 || init.st_ino == self.st_ino;
}

int report_write(struct report *r, FILE *out, enum lt_format fmt, const struct lt_run_info *ri,
		 const struct lt_source_stats *ss, int partial)
{
	struct view w;
	struct diag *dcopy = NULL;
	struct stats *scopy = NULL;
	bool *has = NULL;
	struct flow *ex = NULL;
	struct diag_context ctx;
	struct utsname u;
	struct sbuf b;
	int rc = 0;

	memset(&w, 0, sizeof(w));
	memset(&ctx, 0, sizeof(ctx));
	sbuf_init(&b, REPORT_CAP);
	w.r = r;
	w.ri = ri;
	w.ss = ss;
	w.partial = partial;
	w.d = r->diag;
	w.st = engine_stats(r->e);
	w.has_ex = r->has_ex;
	w.ex = r->ex;
	w.nlend = -ENOSYS;
	w.c_end.overflows = w.c_end.drops = -1;
	w.sys.syn_retries = w.sys.synack_retries = w.sys.syn_linear_timeouts = -1;
	if (uname(&u) == 0)
		snprintf(w.kernel, sizeof(w.kernel), "%s %s", u.sysname, u.release);
	else
		snprintf(w.kernel, sizeof(w.kernel), "unknown");

	if (partial) {
		struct partial_ctx pc;
		dcopy = diag_copy(r->diag);
		scopy = stats_dup(engine_stats(r->e));
		has = malloc(sizeof(r->has_ex));
		ex = malloc(sizeof(r->ex));
		if (!dcopy || !scopy || !has || !ex) {
			rc = -ENOMEM;
			goto out;
		}
		memcpy(has, r->has_ex, sizeof(r->has_ex));
		memcpy(ex, r->ex, sizeof(r->ex));
		pc = (struct partial_ctx){
			.e = r->e, .d = dcopy, .st = scopy, .has_ex = has, .ex = ex
		};
		flow_foreach(engine_flows(r->e), add_active, &pc);
		w.d = dcopy;
		w.st = scopy;
		w.has_ex = has;
		w.ex = ex;
	}
	if (r->live) {
		w.lend = calloc(MAX_LISTENERS, sizeof(*w.lend));
		if (!w.lend) {
			rc = -ENOMEM;
			goto out;
		}
		w.nlend = query_listeners(&r->ports, w.lend);
		listeners_netstat(&w.c_end);
		listeners_sysctls(&w.sys);
	}

	ctx.live = r->live;
	ctx.partial = partial;
	ctx.kernel = ri->backend && !strcmp(ri->backend, "ebpf");
	ctx.start = r->lst;
	ctx.nstart = r->live ? r->nlst : -1;
	ctx.end = w.lend;
	ctx.nend = r->live ? w.nlend : -1;
	ctx.c_start = r->c_start;
	ctx.c_end = w.c_end;
	ctx.src = ss;
	ctx.flows = flow_tab_counters(engine_flows(r->e));
	ctx.watched = &r->ports;
	ctx.t_end = flow_tab_now(engine_flows(r->e));
	ctx.sys = r->live && w.sys.syn_retries >= 0 ? &w.sys : NULL;
	ctx.lev = engine_listen_tl(r->e)->v;
	ctx.nlev = (int)engine_listen_tl(r->e)->n;
	if (r->live)
		self_netns(&ctx);
	if (r->live) {
		struct timespec now;
		if (clock_gettime(CLOCK_REALTIME, &now) == 0)
			ctx.t_stop = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	}
	w.nfnd = diag_findings(w.d, &ctx, &w.fnd);
	if (w.nfnd < 0) {
		rc = w.nfnd;
		w.nfnd = 0;
		goto out;
	}

	if (fmt == LT_FMT_JSON)
		write_json(&b, &w);
	else
		write_doc(&b, &w, fmt == LT_FMT_MARKDOWN);
	if (b.toobig) {
		rc = -ENOMEM;
		goto out;
	}
	if (fwrite(sbuf_str(&b), 1, b.len, out) != b.len || fflush(out) != 0)
		rc = errno ? -errno : -EIO;
out:
	diag_findings_free(w.fnd, w.nfnd);
	diag_free(dcopy);
	stats_free(scopy);
	free(has);
	free(ex);
	free(w.lend);
	sbuf_release(&b);
	if (rc < 0)
		errno = -rc;
	return rc;
}
