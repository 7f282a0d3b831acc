/* SPDX-License-Identifier: MIT */
/*
 * view_detail.c - one connection in full: a ladder diagram of its
 * timeline, latencies, what each side's first bytes were (proto.h),
 * retransmissions, kernel reasons, and a diagnosis in plain words for
 * its verdict.
 *
 * The pane is built as a list of lines first, then drawn from the scroll
 * offset (Up/Down scroll it), so a tall ladder still fits a short screen.
 * It draws from the model's full copy of the connection; a connection
 * older than the detail window (model.h) shows what its row holds.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fmt.h"
#include "ladder.h"
#include "listeners.h"
#include "proto.h"
#include "sbuf.h"
#include "sink.h"
#include "verdict.h"
#include "views.h"

#define DL_MAX 96
#define DL_LEN 400

struct dline {
	enum tui_color c;
	attr_t extra;
	char s[DL_LEN];
};

struct dpane {
	struct dline l[DL_MAX];
	int n;
};

static void addl(struct dpane *p, enum tui_color c, attr_t extra, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void addl(struct dpane *p, enum tui_color c, attr_t extra, const char *fmt, ...)
{
	va_list ap;
	if (p->n >= DL_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(p->l[p->n].s, DL_LEN, fmt, ap);
	va_end(ap);
	p->l[p->n].c = c;
	p->l[p->n].extra = extra;
	p->n++;
}

/* Word-wrap text into lines of at most w columns, indented by ind. */
static void add_wrapped(struct dpane *p, enum tui_color c, int w, int ind, const char *text)
{
	char line[DL_LEN];
	const char *s = text;
	if (w < 20)
		w = 20;
	while (*s) {
		int n = 0, last_space = -1, cols = 0;
		while (s[n] && cols < w - ind) {
			if (s[n] == ' ')
				last_space = n;
			if (((unsigned char)s[n] & 0xc0) != 0x80)
				cols++;
			n++;
		}
		if (s[n] && last_space > 0)
			n = last_space;
		snprintf(line, sizeof(line), "%*s%.*s", ind, "", n, s);
		addl(p, c, 0, "%s", line);
		s += n;
		while (*s == ' ')
			s++;
	}
}

/* tcpdump's flag letters: "S.", "P.", "R", "F." */
static void flags_str(uint8_t fl, char out[12])
{
	int n = 0;
	if (fl & LT_TCP_SYN)
		out[n++] = 'S';
	if (fl & LT_TCP_FIN)
		out[n++] = 'F';
	if (fl & LT_TCP_RST)
		out[n++] = 'R';
	if (fl & LT_TCP_PSH)
		out[n++] = 'P';
	if (fl & LT_TCP_URG)
		out[n++] = 'U';
	if (fl & LT_TCP_ECE)
		out[n++] = 'E';
	if (fl & LT_TCP_CWR)
		out[n++] = 'W';
	if (fl & LT_TCP_ACK)
		out[n++] = '.';
	out[n] = '\0';
}

static enum tui_color kind_color(uint8_t kind)
{
	static const enum tui_color c[LT_TL_KIND_COUNT] = {
		[LT_TL_SYN] = TC_NORMAL, [LT_TL_SYNACK] = TC_NORMAL, [LT_TL_ACK] = TC_NORMAL,
		[LT_TL_DATA] = TC_OK,	 [LT_TL_FIN] = TC_INFO,	     [LT_TL_RST] = TC_BAD,
		[LT_TL_DROP] = TC_WARN,
	};
	return kind < LT_TL_KIND_COUNT ? c[kind] : TC_NORMAL;
}

/* Repeat glyph g n times into out. */
static size_t rep(char *out, size_t len, const char *g, int n)
{
	size_t k = 0, gl = strlen(g);
	for (int i = 0; i < n && k + gl < len; i++) {
		memcpy(out + k, g, gl);
		k += gl;
	}
	out[k] = '\0';
	return k;
}

/* "|------ SYN [S] ------>|" or "|<---- RST [R.] -------|", aw columns inside. */
static void arrow(const struct tui_glyphs *g, int dir, const char *label, int aw, char *out,
		  size_t len)
{
	char left[DL_LEN], right[DL_LEN];
	int lw = tui_width(label) + 2;
	if (lw > aw - 3)
		lw = aw - 3;
	int dashes = aw - lw - 1; /* one column for the head */
	int l = dashes / 2, r = dashes - l;
	rep(left, sizeof(left), g->hline, l);
	rep(right, sizeof(right), g->hline, r);
	if (dir == LT_DIR_C2S)
		snprintf(out, len, "%s%s %s %s%s%s", g->vline, left, label, right, g->head_r,
			 g->vline);
	else
		snprintf(out, len, "%s%s%s %s %s%s", g->vline, g->head_l, left, label, right,
			 g->vline);
}

/*
 * "client C ... server S" over the ladder's two columns (the ladder starts
 * at LADDER_X and is aw + 2 wide; the pane is width columns). Both
 * endpoints are written whole, the server's ending at its column when
 * there is room; when they do not fit on one line they take two, and an
 * address wider than the pane loses its middle, never its port.
 */
#define LADDER_X 13
static void ladder_head(const struct tui_glyphs *g, struct dpane *p, const char *c, const char *s,
			int aw, int width)
{
	char ce[FMT_EP_LEN + 8], se[FMT_EP_LEN + 8], l[DL_LEN], r[DL_LEN];
	int room = width - LADDER_X - 7; /* "client " */

	snprintf(l, sizeof(l), "client %s", tui_elide_ep(c, room, g->ellipsis, ce, sizeof(ce)));
	snprintf(r, sizeof(r), "server %s", tui_elide_ep(s, room, g->ellipsis, se, sizeof(se)));
	int lw = tui_width(l), rw = tui_width(r);
	int r_end = LADDER_X + aw + 2 > width ? width : LADDER_X + aw + 2;
	if (LADDER_X + lw + 2 + rw <= width) {
		int x = r_end - rw;
		if (x < LADDER_X + lw + 2)
			x = LADDER_X + lw + 2;
		addl(p, TC_NORMAL, A_BOLD, "%*s%s%*s%s", LADDER_X, "", l, x - LADDER_X - lw, "", r);
		return;
	}
	addl(p, TC_NORMAL, A_BOLD, "%*s%s", LADDER_X, "", l);
	int x = r_end - rw < LADDER_X ? LADDER_X : r_end - rw;
	if (x + rw > width)
		x = width - rw > 0 ? width - rw : 0;
	addl(p, TC_NORMAL, A_BOLD, "%*s%s", x, "", r);
}

static void ladder(const struct tui_glyphs *g, struct dpane *p, const struct flow *f, int w)
{
	char c[FMT_EP_LEN], s[FMT_EP_LEN], a[DL_LEN], lab[96], fl[12], d[24];
	unsigned nth[LT_TL_KIND_COUNT][2] = { { 0 } };
	int aw = w - 14 - 22;
	if (aw > 46)
		aw = 46;
	if (aw < 16)
		aw = 16;

	fmt_endpoint(c, f->family, &f->client);
	fmt_endpoint(s, f->family, &f->server);
	ladder_head(g, p, c, s, aw, w - 1);
	for (unsigned i = 0; i < f->tl_len; i++) {
		const struct lt_tl_entry *e = &f->tl[i];
		int64_t off = e->t_ns >= f->t_first ? (int64_t)(e->t_ns - f->t_first) : 0;
		char note[160] = "";

		if (i == LT_TIMELINE_MAX - 1 && f->tl_omitted)
			addl(p, TC_DIM, 0, "%12s %s %u more steps not kept %s", "", g->ellipsis,
			     f->tl_omitted, g->ellipsis);
		flags_str(e->flags, fl);
		if (e->kind == LT_TL_DROP) {
			snprintf(lab, sizeof(lab), "%s dropped by the kernel%s%s", g->times,
				 f->drop_reason[0] ? ": " : "", f->drop_reason);
			snprintf(a, sizeof(a), "%s %s", g->vline, lab);
		} else {
			/* the entry's name as the report's ladder writes it
			 * (ladder.h), then tcpdump's flag letters */
			struct sbuf lb;
			sbuf_init(&lb, sizeof(lab));
			ladder_label(&lb, e,
				     e->kind < LT_TL_KIND_COUNT ? ++nth[e->kind][e->dir & 1] : 1);
			snprintf(lab, sizeof(lab), "%s [%s]", sbuf_str(&lb), fl);
			sbuf_release(&lb);
			if (e->kind != LT_TL_DATA && e->count > 1)
				snprintf(note, sizeof(note), " (%u retransmitted)", e->count - 1);
			arrow(g, e->dir, lab, aw, a, sizeof(a));
		}
		if (e->kind == LT_TL_RST && f->reset_reason[0] && !note[0])
			snprintf(note, sizeof(note), " reason %s", f->reset_reason);
		addl(p, kind_color(e->kind), 0, "%11s  %s%s", off ? fmt_dur(d, off) : "0", a, note);
	}
	if (!f->tl_len)
		addl(p, TC_DIM, 0, "%12s (no segments kept)", "");
}

/* The newest answered connection to the same port over the other IP
 * family (127.0.0.1 vs ::1), as verdict_explain names it. */
static void answered_other(const struct tui_snap *s, const struct flow *f,
			   struct verdict_explain_ctx *x)
{
	const struct tui_row *o = tui_model_answered_other(s->m, f->family, f->server.port);
	if (!o || !lt_cross_family(o->family, o->server.addr, f->family, f->server.addr))
		return;
	x->other_id = o->id;
	x->other_family = o->family;
	x->other_server = o->server;
}

/* What the verdict means for this connection, in plain words (verdict.h). */
static void diagnosis(const struct tui_snap *s, const struct tui_detail *r, char *out, size_t len)
{
	struct verdict_explain_ctx x = {
		.now_ns = s->now,
		.connecting_ns = s->m->connecting_ns,
	};
	struct sbuf b;

	if (r->verdict == LT_V_REFUSED)
		answered_other(s, &r->f, &x);
	sbuf_init(&b, len);
	verdict_explain(&b, &r->f, (enum lt_verdict)r->verdict, &x);
	snprintf(out, len, "%s", sbuf_str(&b));
	sbuf_release(&b);
}

/* What each side's first bytes were (proto.h: never more than a first
 * line), and the mismatch when they disagree; nothing without bytes. */
static void first_bytes(struct dpane *p, const struct flow *f, int w)
{
	struct proto_id c, sv;
	char dc[PROTO_HEAD_MAX + 128], ds[PROTO_HEAD_MAX + 128], line[512];
	enum proto_clash cl;

	if (!f->side[LT_DIR_C2S].head_len && !f->side[LT_DIR_S2C].head_len)
		return;
	flow_protocols(f, &c, &sv);
	cl = proto_clash(&c, &sv);
	proto_describe(&c, dc, sizeof(dc));
	proto_describe(&sv, ds, sizeof(ds));
	snprintf(line, sizeof(line), "first bytes: client sent %s; server sent %s%s%s%s", dc, ds,
		 cl ? " (mismatch: " : "", cl ? proto_clash_name(cl) : "", cl ? ")" : "");
	add_wrapped(p, cl ? TC_WARN : TC_NORMAL, w - 1, 0, line);
}

/* "connection #N  C → S", on two lines when it does not fit on one. */
static void conn_title(const struct tui_glyphs *g, struct dpane *p, uint64_t id, const char *c,
		       const char *s, int width)
{
	char head[32], ce[FMT_EP_LEN + 8], se[FMT_EP_LEN + 8];
	const char *to = g->utf8 ? g->to : "->";

	snprintf(head, sizeof(head), "connection #%llu", (unsigned long long)id);
	if (tui_width(head) + 2 + (int)strlen(c) + 1 + tui_width(to) + 1 + (int)strlen(s) <=
	    width) {
		addl(p, TC_NORMAL, A_BOLD, "%s  %s %s %s", head, c, to, s);
		return;
	}
	addl(p, TC_NORMAL, A_BOLD, "%s  %s", head,
	     tui_elide_ep(c, width - tui_width(head) - 2, g->ellipsis, ce, sizeof(ce)));
	addl(p, TC_NORMAL, A_BOLD, "%*s%s %s", tui_width(head) - 1, "", to,
	     tui_elide_ep(s, width - tui_width(head) - 2, g->ellipsis, se, sizeof(se)));
}

static void build(const struct tui_snap *s, const struct tui_glyphs *g, const struct tui_detail *r,
		  struct dpane *p, int w)
{
	const struct flow *f = &r->f;
	char c[FMT_EP_LEN], sv[FMT_EP_LEN], tm[FMT_TIME_LEN], d1[24], d2[24], b1[24], b2[24],
		diag[1024];
	struct sbuf vb;
	enum lt_verdict v = (enum lt_verdict)r->verdict;

	sbuf_init(&vb, 256);
	verdict_text(&vb, f, v);
	conn_title(g, p, f->id, fmt_endpoint(c, f->family, &f->client),
		   fmt_endpoint(sv, f->family, &f->server), w - 1);
	if (strcmp(sbuf_str(&vb), lt_verdict_name(v)))
		addl(p, tui_verdict_color(v), A_BOLD, "%s  %s%s", lt_verdict_label(v),
		     sbuf_str(&vb), r->final ? "" : "  (so far)");
	else
		addl(p, tui_verdict_color(v), A_BOLD, "%s%s", lt_verdict_label(v),
		     r->final ? "" : "  (so far)");
	sbuf_release(&vb);
	snprintf(diag, sizeof(diag), "started %s, lasted %s, Zeek state %s, history %s",
		 fmt_time(tm, f->t_first, 1),
		 fmt_dur(d1, f->t_last >= f->t_first ? (int64_t)(f->t_last - f->t_first) : -1),
		 flow_zeek_state(f), f->history[0] ? f->history : "-");
	add_wrapped(p, TC_NORMAL, w - 1, 0, diag);
	addl(p, TC_NORMAL, 0, "client sent %llu segment%s, %s; server sent %llu segment%s, %s",
	     (unsigned long long)f->side[0].pkts, f->side[0].pkts == 1 ? "" : "s",
	     fmt_bytes(b1, f->side[0].bytes), (unsigned long long)f->side[1].pkts,
	     f->side[1].pkts == 1 ? "" : "s", fmt_bytes(b2, f->side[1].bytes));
	if (f->side[0].pid >= 0 || f->side[1].pid >= 0) {
		char cp[48] = "?", sp[48] = "?";
		if (f->side[0].pid >= 0)
			snprintf(cp, sizeof(cp), "%s[%d]", f->side[0].comm, f->side[0].pid);
		if (f->side[1].pid >= 0)
			snprintf(sp, sizeof(sp), "%s[%d]", f->side[1].comm, f->side[1].pid);
		addl(p, TC_NORMAL, 0, "process: client %s, server %s", cp, sp);
	}
	if (f->ns) {
		char ns[96];
		sink_netns_label(f, ns, sizeof(ns));
		addl(p, TC_NORMAL, 0, "network namespace: %s (inode %u)", ns, (unsigned)f->ns->ino);
	}
	addl(p, TC_DIM, 0, "stream %llu (tshark -Y 'tcp.stream == %llu')",
	     (unsigned long long)sink_stream_index(f), (unsigned long long)sink_stream_index(f));
	first_bytes(p, f, w);
	int64_t l1 = flow_syn_to_synack(f), l2 = flow_synack_to_ack(f), l3 = flow_syn_to_rst(f);
	if (l1 >= 0)
		addl(p, TC_NORMAL, 0, "handshake: SYN%sSYN-ACK %s, SYN-ACK%sACK %s",
		     g->utf8 ? g->to : "->", fmt_dur(d1, l1), g->utf8 ? g->to : "->",
		     fmt_dur(d2, l2));
	else if (l3 >= 0)
		addl(p, TC_NORMAL, 0, "answer: SYN%sRST %s", g->utf8 ? g->to : "->",
		     fmt_dur(d1, l3));
	addl(p, TC_NORMAL, 0, "%s", "");
	ladder(g, p, f, w);
	addl(p, TC_NORMAL, 0, "%s", "");

	addl(p, TC_NORMAL, A_BOLD, "Diagnosis");
	diagnosis(s, r, diag, sizeof(diag));
	add_wrapped(p, TC_NORMAL, w - 2, 2, diag);
	addl(p, TC_NORMAL, 0, "%s", "");

	/* retransmissions */
	const struct flow_side *cs = &f->side[LT_DIR_C2S], *ss = &f->side[LT_DIR_S2C];
	if (cs->syn_count > 1)
		addl(p, TC_WARN, 0, "  SYN sent %u times, the last %s after the first",
		     cs->syn_count, fmt_dur(d1, (int64_t)(cs->t_syn_last - cs->t_syn_first)));
	if (ss->syn_count > 1)
		addl(p, TC_WARN, 0, "  SYN-ACK sent %u times, the last %s after the first",
		     ss->syn_count, fmt_dur(d1, (int64_t)(ss->t_syn_last - ss->t_syn_first)));
	if (f->kernel_syn_retrans)
		addl(p, TC_WARN, 0, "  the kernel retransmitted the SYN %u times",
		     f->kernel_syn_retrans);
	if (cs->syn_count <= 1 && ss->syn_count <= 1 && !f->kernel_syn_retrans)
		addl(p, TC_DIM, 0, "  no handshake retransmissions");

	/* what the kernel said (eBPF backend) */
	if (f->reset_reason[0])
		addl(p, TC_BAD, 0, "  kernel reset reason: %s", f->reset_reason);
	if (f->drop_reason[0] || f->drops)
		addl(p, TC_WARN, 0, "  kernel dropped %u segment%s: %s", f->drops,
		     f->drops == 1 ? "" : "s", f->drop_reason[0] ? f->drop_reason : "?");
	if (f->kctx & LT_KCTX_ERRNO)
		addl(p, TC_NORMAL, 0, "  the application saw errno %d (%s)", f->sk_errno,
		     strerror(f->sk_errno));
	if (!f->kctx && strcmp(s->backend ? s->backend : "", "ebpf"))
		addl(p, TC_DIM, 0, "  (kernel reasons and processes come with the eBPF backend)");
	if ((f->anomalies & LT_A_LISTEN_OVERFLOW) && f->side[LT_DIR_S2C].pid > 0)
		addl(p, TC_WARN, 0,
		     "  the listener's accept queue was full: %u queued, backlog %u (%s[%d])",
		     f->ovf_queued, f->ovf_backlog, f->side[LT_DIR_S2C].comm,
		     (int)f->side[LT_DIR_S2C].pid);
	else if ((f->anomalies & LT_A_LISTEN_OVERFLOW) && f->kctx)
		addl(p, TC_WARN, 0, "  the listener's accept queue was full: %u queued, backlog %u",
		     f->ovf_queued, f->ovf_backlog);
	else if (f->anomalies & LT_A_LISTEN_OVERFLOW)
		addl(p, TC_WARN, 0, "  the kernel reported the listener's accept queue full");
	if (f->anomalies & LT_A_SYN_NOT_SEEN)
		addl(p, TC_DIM, 0, "  the SYN-ACK was seen but not its SYN");
	if (f->anomalies & LT_A_EVICTED)
		addl(p, TC_WARN, 0, "  retired early: the connection table was full");
	if (f->anomalies & LT_A_REUSED)
		addl(p, TC_DIM, 0, "  its 4-tuple was reused by a later connection");
	if (f->anomalies & LT_A_TIME_BACKWARDS)
		addl(p, TC_WARN, 0, "  timestamps went backwards in the capture");
	if (f->anomalies & LT_A_RST_AFTER_CLOSE)
		addl(p, TC_DIM, 0, "  a RST came after both FINs");
}

/* A connection older than the detail window: what its row holds. */
static void build_from_row(const struct tui_snap *s, const struct tui_glyphs *g,
			   const struct tui_row *r, struct dpane *p, int w)
{
	char c[FMT_EP_LEN], sv[FMT_EP_LEN], tm[FMT_TIME_LEN], d1[24], b1[24], b2[24], tl[256];
	enum lt_verdict v = (enum lt_verdict)r->verdict;

	conn_title(g, p, r->id, fmt_endpoint(c, r->family, &r->client),
		   fmt_endpoint(sv, r->family, &r->server), w - 1);
	addl(p, tui_verdict_color(v), A_BOLD, "%s%s", lt_verdict_label(v),
	     r->final ? "" : "  (so far)");
	addl(p, TC_NORMAL, 0, "started %s, lasted %s", fmt_time(tm, r->t_first, 1),
	     fmt_dur(d1, r->t_last >= r->t_first ? (int64_t)(r->t_last - r->t_first) : -1));
	addl(p, TC_NORMAL, 0, "client sent %s; server sent %s", fmt_bytes(b1, r->bytes[0]),
	     fmt_bytes(b2, r->bytes[1]));
	tui_tl_glyphs(g, r, tl, sizeof(tl), 1);
	addl(p, TC_NORMAL, 0, "timeline: %s", tl);
	addl(p, TC_NORMAL, 0, "%s", "");
	addl(p, TC_DIM, 0,
	     "  the ladder and diagnosis are kept for the newest %u connections "
	     "and the newest %u that ended badly; this one is older",
	     s->m->dcap, s->m->bcap);
}

void tui_draw_detail(const struct tui_snap *s, struct tui_ui *ui, int y0, int h, int w)
{
	static struct dpane p; /* ~40 KiB: not on the stack */
	const struct tui_row *r = tui_view_selected(&ui->view, s->m);
	const struct tui_look *lk = &ui->look;

	p.n = 0;
	if (!r) {
		attrset(tui_attr(lk, TC_DIM));
		tui_put(y0 + 1, 2, w - 2, "no connection selected (Esc: back to the list)");
		attrset(A_NORMAL);
		return;
	}
	const struct tui_detail *d = tui_model_detail(s->m, r->id);
	if (d)
		build(s, lk->g, d, &p, w);
	else
		build_from_row(s, lk->g, r, &p, w);
	if (ui->detail_scroll > p.n - h)
		ui->detail_scroll = p.n - h > 0 ? p.n - h : 0;
	if (ui->detail_scroll < 0)
		ui->detail_scroll = 0;
	for (int i = 0; i < h && ui->detail_scroll + i < p.n; i++) {
		const struct dline *dl = &p.l[ui->detail_scroll + i];
		attrset(tui_attr(lk, dl->c) | dl->extra);
		tui_put(y0 + i, 1, w - 1, dl->s);
	}
	if (p.n > h) {
		char more[64];
		snprintf(more, sizeof(more), " %d/%d ",
			 ui->detail_scroll + h < p.n ? ui->detail_scroll + h : p.n, p.n);
		attrset(tui_attr(lk, TC_DIM));
		tui_put(y0 + h - 1, w - tui_width(more), tui_width(more), more);
	}
	attrset(A_NORMAL);
}
