/* SPDX-License-Identifier: MIT */
/*
 * view_conns.c - the connection list: columns, rows, compact timelines.
 *
 * The endpoint and byte columns are as wide as the visible rows need, so
 * an IPv6 address is never cut: columns drop out by priority as the
 * terminal narrows (duration, bytes, process first), then a long address
 * loses the middle of its text to an ellipsis, always keeping its port,
 * then the latency goes; at 80 columns time (with milliseconds),
 * client -> server, verdict and timeline remain. The timeline takes what
 * is left. Once connections in a second network namespace were seen
 * (eBPF), a NETNS column names each one's (container, `ip netns` name,
 * "host"), as the text output's netns= does. Only the visible rows are formatted, so the cost of a frame
 * does not grow with the number of connections.
 */
#include <stdio.h>
#include <string.h>

#include "fmt.h"
#include "views.h"

enum col_id { C_TIME = 0, C_CONN, C_NS, C_PROC, C_VERDICT, C_TL, C_LAT, C_BYTES, C_DUR, C_N };

struct col {
	const char *title;
	int w;	   /* width in columns */
	int right; /* right-aligned */
};

static const struct col col_def[C_N] = {
	[C_TIME] = { "TIME", 12, 0 },
	[C_CONN] = { "CLIENT", 0, 0 }, /* from the endpoints */
	[C_PROC] = { "PROCESS", 14, 0 },
	[C_VERDICT] = { "VERDICT", 15, 0 },
	[C_TL] = { "TIMELINE", 16, 0 },
	[C_LAT] = { "HS LAT", 6, 1 },
	[C_BYTES] = { "BYTES c/s", 9, 1 }, /* at least; from the values */
	[C_DUR] = { "DUR", 8, 1 },
	[C_NS] = { "NETNS", 5, 0 }, /* at least; from the names */
};

#define TL_MAX_W 44
#define NS_MAX_W 20 /* a longer namespace name loses its end */
#define EP_MIN 15   /* "127.0.0.1:61900": IPv4 loopback is never shortened */
#define EP_TINY 10  /* below 80 columns, at the very least */

struct layout {
	int on[C_N];
	int w[C_N];
	int x[C_N];
	int cw, sw; /* client and server endpoint widths */
	int arrow;  /* " → " or " -> " */
};

static int sum_width(const struct layout *L)
{
	int total = 0, n = 0;
	for (int c = 0; c < C_N; c++)
		if (L->on[c]) {
			total += c == C_CONN ? L->cw + L->arrow + L->sw : L->w[c];
			n++;
		}
	return total + n - 1;
}

/* What the visible rows need: endpoint and byte widths. */
struct wants {
	int cw, sw, bytes, lat, ns;
};

/* Shorten the wider endpoint by one column, not below floor. */
static int shrink_ep(struct layout *L, int floor)
{
	int *p = L->cw >= L->sw ? &L->cw : &L->sw;
	if (*p <= floor)
		return 0;
	(*p)--;
	return 1;
}

/*
 * Which columns fit in width w, and where they go. proc: the backend
 * names processes (eBPF); a column of dashes is not worth its width.
 */
static void layout(struct layout *L, int w, int utf8, int proc, int ns, const struct wants *want)
{
	static const int drop_order[] = { C_DUR, C_BYTES, C_PROC, C_NS };

	for (int c = 0; c < C_N; c++) {
		L->on[c] = 1;
		L->w[c] = col_def[c].w;
	}
	L->on[C_PROC] = proc;
	L->on[C_NS] = ns;
	if (want->ns > L->w[C_NS])
		L->w[C_NS] = want->ns > NS_MAX_W ? NS_MAX_W : want->ns;
	L->arrow = utf8 ? 3 : 4;
	L->cw = want->cw;
	L->sw = want->sw;
	if (want->bytes > L->w[C_BYTES])
		L->w[C_BYTES] = want->bytes;
	if (want->lat > L->w[C_LAT])
		L->w[C_LAT] = want->lat;
	/* the optional columns go first */
	for (size_t i = 0; i < sizeof(drop_order) / sizeof(drop_order[0]); i++)
		if (sum_width(L) > w)
			L->on[drop_order[i]] = 0;
	/* then long addresses lose their middle, keeping the port */
	while (sum_width(L) > w && shrink_ep(L, EP_MIN + 6))
		;
	if (sum_width(L) > w)
		L->on[C_LAT] = 0;
	while (sum_width(L) > w && L->w[C_TL] > 13)
		L->w[C_TL]--;
	while (sum_width(L) > w && shrink_ep(L, EP_MIN))
		;
	/* narrower than 80 columns: squeeze what is left */
	while (sum_width(L) > w && L->w[C_VERDICT] > 8)
		L->w[C_VERDICT]--;
	while (sum_width(L) > w && shrink_ep(L, EP_TINY))
		;
	if (sum_width(L) > w)
		L->w[C_TIME] = 8;
	while (sum_width(L) > w && L->w[C_TL] > 6)
		L->w[C_TL]--;
	/* What is left: endpoints back to their width, then the timeline. */
	while (sum_width(L) < w && (L->cw < want->cw || L->sw < want->sw)) {
		if (L->cw < want->cw)
			L->cw++;
		else
			L->sw++;
	}
	int total = sum_width(L);
	if (total < w && L->on[C_TL]) {
		int extra = w - total;
		if (L->w[C_TL] + extra > TL_MAX_W)
			extra = TL_MAX_W - L->w[C_TL];
		L->w[C_TL] += extra;
	}
	L->w[C_CONN] = L->cw + L->arrow + L->sw;
	int x = 0;
	for (int c = 0; c < C_N; c++) {
		if (!L->on[c])
			continue;
		L->x[c] = x;
		x += L->w[c] + 1;
	}
}

/* ---- compact timeline ---------------------------------------------------- */

void tui_tl_glyphs(const struct tui_glyphs *g, const struct tui_row *r, char *out, size_t len,
		   int spaced)
{
	int tiny = spaced < 0;
	static const char *const tok[LT_TL_KIND_COUNT] = {
		[LT_TL_SYN] = "S", [LT_TL_SYNACK] = "SA", [LT_TL_ACK] = "A",  [LT_TL_DATA] = "data",
		[LT_TL_FIN] = "F", [LT_TL_RST] = "R",	  [LT_TL_DROP] = "X",
	};
	size_t n = 0;
	int first = 1;

	out[0] = '\0';
#define APPEND(...)                                                       \
	do {                                                              \
		if (n < len) {                                            \
			int k_ = snprintf(out + n, len - n, __VA_ARGS__); \
			n += k_ > 0 ? (size_t)k_ : 0;                     \
		}                                                         \
	} while (0)
#define KIND(i) (r->step[i] & 0x0f)
#define DIR(i) (r->step[i] >> 4)
	for (unsigned i = 0; i < r->steps; i++) {
		unsigned kind = KIND(i);
		const char *name = kind < LT_TL_KIND_COUNT ? tok[kind] : "?";
		int prev = i ? (int)KIND(i - 1) : -1;

		if (kind == LT_TL_DATA && prev == LT_TL_DATA)
			continue; /* one "data" for the whole exchange */
		if (i && (int)kind == prev && DIR(i) == DIR(i - 1))
			continue; /* counted with the previous one */
		if (kind == LT_TL_FIN && prev == LT_TL_FIN) {
			APPEND("/F");
			continue;
		}
		if (!first)
			APPEND(spaced > 0 ? " %s " : "%s", g->sep);
		first = 0;
		if (i == TUI_ROW_STEPS - 1 && r->steps_cut)
			APPEND("%s%s", g->ellipsis, spaced > 0 ? " " : "");
		APPEND("%s", tiny && kind == LT_TL_DATA ? "D" : name);
		uint32_t count = r->count[i];
		for (unsigned k = i + 1; k < r->steps && KIND(k) == kind && DIR(k) == DIR(i); k++)
			count += r->count[k];
		if (count > 1 && kind != LT_TL_DATA)
			APPEND("%s%u", g->times, count);
	}
#undef KIND
#undef DIR
#undef APPEND
}

/* ---- rows ----------------------------------------------------------------- */

/* The NETNS cell: the container when its cgroup named one, else the `ip
 * netns` name ("host" for the host's), else the inode; "-" unknown. */
static void ns_text(const struct tui_model *m, const struct tui_row *r, char *buf, size_t len)
{
	const struct lt_netns *ns = tui_model_row_ns(m, r);

	if (!ns)
		snprintf(buf, len, "%s", r->ns ? "?" : "-");
	else if (ns->container[0])
		snprintf(buf, len, "%s", ns->container);
	else if (ns->name[0])
		snprintf(buf, len, "%s", ns->name);
	else
		snprintf(buf, len, "netns:%u", (unsigned)ns->ino);
}

static void row_text(const struct tui_glyphs *g, const struct layout *L, const struct tui_model *m,
		     const struct tui_row *r, int c, char *buf, size_t len)
{
	char a[FMT_EP_LEN], b[FMT_EP_LEN], d1[24], d2[24], tm[FMT_TIME_LEN];

	buf[0] = '\0';
	switch ((enum col_id)c) {
	case C_TIME:
		fmt_time(tm, r->t_first, 0);
		snprintf(buf, len, "%.*s", L->w[C_TIME], tm);
		break;
	case C_CONN: {
		char ce[FMT_EP_LEN + 8], se[FMT_EP_LEN + 8];
		tui_elide_ep(fmt_endpoint(a, r->family, &r->client), L->cw, g->ellipsis, ce,
			     sizeof(ce));
		tui_elide_ep(fmt_endpoint(b, r->family, &r->server), L->sw, g->ellipsis, se,
			     sizeof(se));
		int pad = L->cw - tui_width(ce);
		snprintf(buf, len, "%s%*s %s %s", ce, pad > 0 ? pad : 0, "", g->utf8 ? g->to : "->",
			 se);
		break;
	}
	case C_NS:
		ns_text(m, r, buf, len);
		if ((int)strlen(buf) > L->w[C_NS]) {
			int keep = L->w[C_NS] - 1;
			snprintf(buf + keep, len - (size_t)keep, "%s", g->ellipsis);
		}
		break;
	case C_PROC:
		if (r->pid[LT_DIR_C2S] >= 0)
			snprintf(buf, len, "%s[%d]", r->comm[LT_DIR_C2S], r->pid[LT_DIR_C2S]);
		else if (r->pid[LT_DIR_S2C] >= 0)
			snprintf(buf, len, "%s%s[%d]", g->to, r->comm[LT_DIR_S2C],
				 r->pid[LT_DIR_S2C]);
		else
			snprintf(buf, len, "-");
		break;
	case C_VERDICT:
		snprintf(buf, len, "%s", lt_verdict_name((enum lt_verdict)r->verdict));
		break;
	case C_TL:
		/* spaced when a whole healthy exchange fits, for every row alike */
		tui_tl_glyphs(g, r, buf, len, L->w[C_TL] >= 23 ? 1 : L->w[C_TL] >= 16 ? 0 : -1);
		if (tui_width(buf) > L->w[C_TL]) {
			/* cut, and say so */
			char cut[256];
			snprintf(cut, sizeof(cut), "%s", buf);
			int keep = L->w[C_TL] - 1;
			size_t i = 0;
			int cols = 0;
			while (cut[i] && cols < keep) {
				size_t k = 1;
				while (((unsigned char)cut[i + k] & 0xc0) == 0x80)
					k++;
				i += k;
				cols++;
			}
			snprintf(buf, len, "%.*s%s", (int)i, cut, g->ellipsis);
		}
		break;
	case C_LAT:
		snprintf(buf, len, "%s", r->lat_ns >= 0 ? fmt_dur(d1, r->lat_ns) : "-");
		break;
	case C_BYTES:
		snprintf(buf, len, "%s/%s", fmt_bytes(d1, r->bytes[0]), fmt_bytes(d2, r->bytes[1]));
		break;
	case C_DUR:
		snprintf(buf, len, "%s",
			 fmt_dur(d1,
				 r->t_last >= r->t_first ? (int64_t)(r->t_last - r->t_first) : -1));
		break;
	case C_N:
		break;
	}
}

static void draw_titles(const struct tui_ui *ui, const struct layout *L, int y, int w)
{
	static const int sorted_col[TUI_SORT_COUNT] = {
		[TUI_SORT_TIME] = C_TIME,
		[TUI_SORT_VERDICT] = C_VERDICT,
		[TUI_SORT_LATENCY] = C_LAT,
		[TUI_SORT_PORT] = C_CONN,
	};
	char title[96];
	const struct tui_glyphs *g = ui->look.g;

	attrset(tui_attr(&ui->look, TC_TITLE));
	tui_put_pad(y, 0, w, "", 0);
	for (int c = 0; c < C_N; c++) {
		if (!L->on[c])
			continue;
		const char *name = col_def[c].title;
		char conn[64];
		if (c == C_CONN) {
			snprintf(conn, sizeof(conn), "%-*s %s SERVER", L->cw < 56 ? L->cw : 56,
				 "CLIENT", g->utf8 ? g->to : "->");
			name = conn;
		}
		int marked = sorted_col[ui->view.sort] == c;
		snprintf(title, sizeof(title), "%s%s", name,
			 marked ? (g->utf8 ? "\xe2\x96\xbe" : "*") : "");
		if (c == C_CONN && ui->view.sort == TUI_SORT_PORT)
			snprintf(title, sizeof(title), "%s%s", name,
				 g->utf8 ? ":PORT\xe2\x96\xb4" : ":PORT*");
		tui_put_pad(y, L->x[c], L->w[c], title, col_def[c].right);
	}
	attrset(A_NORMAL);
}

static void draw_empty(const struct tui_snap *s, const struct tui_ui *ui, int y, int w)
{
	const char *ell = ui->look.g->ellipsis;
	char buf[256];
	if (ui->view.filter[0])
		snprintf(buf, sizeof(buf), "no connection matches '%s' (\\ to change the filter)",
			 ui->view.filter);
	else if (s->live && s->ports->n)
		snprintf(buf, sizeof(buf), "waiting for connections on port%s %u%s%s",
			 s->ports->n > 1 ? "s" : "", s->ports->list[0],
			 s->ports->n > 1 ? ", ..." : "", ell);
	else if (s->live)
		snprintf(buf, sizeof(buf), "waiting for connections%s", ell);
	else if (s->capturing)
		snprintf(buf, sizeof(buf), "reading the capture%s", ell);
	else
		snprintf(buf, sizeof(buf), "no TCP connections in this capture%s",
			 s->m->min_id > 1 ? " since the last clear" : "");
	attrset(tui_attr(&ui->look, TC_DIM));
	tui_put(y, 2, w - 2, buf);
	attrset(A_NORMAL);
}

/* The widths the visible rows' endpoints and byte counts need. */
static void visible_wants(const struct tui_snap *s, const struct tui_view *v, int h,
			  struct wants *want)
{
	char a[FMT_EP_LEN], b1[24], b2[24], d[24], ns[96];
	for (int i = 0; i < h && v->top + (uint32_t)i < v->n; i++) {
		const struct tui_row *r = tui_model_row(s->m, v->id[v->top + (uint32_t)i]);
		if (!r)
			continue;
		int cw = (int)strlen(fmt_endpoint(a, r->family, &r->client));
		int sw = (int)strlen(fmt_endpoint(a, r->family, &r->server));
		int bw = (int)strlen(fmt_bytes(b1, r->bytes[0])) + 1 +
			 (int)strlen(fmt_bytes(b2, r->bytes[1]));
		if (cw > want->cw)
			want->cw = cw;
		if (sw > want->sw)
			want->sw = sw;
		if (bw > want->bytes)
			want->bytes = bw;
		int lw = r->lat_ns >= 0 ? (int)strlen(fmt_dur(d, r->lat_ns)) : 1;
		if (lw > want->lat)
			want->lat = lw;
		ns_text(s->m, r, ns, sizeof(ns));
		if ((int)strlen(ns) > want->ns)
			want->ns = (int)strlen(ns);
	}
}

void tui_draw_conns(const struct tui_snap *s, struct tui_ui *ui, int y0, int h, int w)
{
	struct tui_view *v = &ui->view;
	struct layout L;
	char buf[256];

	if (h < 2)
		return;
	v->rows = h - 1;
	tui_view_scroll(v, h - 1);
	struct wants want = { EP_MIN, EP_MIN, 0, 0, 0 };
	visible_wants(s, v, h - 1, &want);
	layout(&L, w, ui->look.g->utf8, s->backend && !strcmp(s->backend, "ebpf"),
	       tui_model_nns(s->m) > 1, &want);
	draw_titles(ui, &L, y0, w);
	y0++;
	h--;
	if (!v->n) {
		draw_empty(s, ui, y0 + 1, w);
		return;
	}
	for (int i = 0; i < h; i++) {
		uint32_t idx = v->top + (uint32_t)i;
		int y = y0 + i;
		if (idx >= v->n)
			break;
		const struct tui_row *r = tui_model_row(s->m, v->id[idx]);
		int sel = idx == v->sel;
		attr_t base = sel ? A_REVERSE : A_NORMAL;
		attrset(base);
		if (!r) { /* pushed out of the log since the list was built */
			tui_put_pad(y, 0, w, "  (no longer in the log)", 0);
			continue;
		}
		tui_put_pad(y, 0, w, "", 0);
		for (int c = 0; c < C_N; c++) {
			if (!L.on[c])
				continue;
			row_text(ui->look.g, &L, s->m, r, c, buf, sizeof(buf));
			attr_t a = base;
			if (c == C_VERDICT)
				a |= tui_attr(&ui->look,
					      tui_verdict_color((enum lt_verdict)r->verdict));
			attrset(a);
			tui_put_pad(y, L.x[c], L.w[c], buf, col_def[c].right);
		}
		attrset(A_NORMAL);
	}
}
