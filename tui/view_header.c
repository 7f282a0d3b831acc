/* SPDX-License-Identifier: MIT */
/*
 * view_header.c - the header: what is watched and how, who listens, the
 * counters and the handshake latency, read at a glance.
 *
 *   line 0  title bar: version, backend and why, ports, paused/speed
 *   line 1  listeners on the watched ports (live) or the replayed file
 *   line 2  conns/s, total, established, refused, unanswered, half-open,
 *           resets, lost events (always, even 0), decode problems, the
 *           source's problem counters when not zero (map_full, truncated)
 *   line 3  handshake latency p50/p99 and a histogram per port
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fmt.h"
#include "listeners.h"
#include "sbuf.h"
#include "views.h"

/* Text written left to right on one line, each piece with its attribute. */
struct line {
	int y, x, w;
};

/* y < 0: only measure. */
static void put(struct line *ln, attr_t a, const char *s)
{
	if (ln->y < 0) {
		ln->x += tui_width(s);
		return;
	}
	if (ln->x >= ln->w)
		return;
	attrset(a);
	ln->x += tui_put(ln->y, ln->x, ln->w - ln->x, s);
}

static void putf(struct line *ln, attr_t a, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void putf(struct line *ln, attr_t a, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	put(ln, a, buf);
}

static const char *backend_name(const struct tui_snap *s)
{
	const char *b = s->backend ? s->backend : "";
	if (!strcmp(b, "ebpf"))
		return "eBPF";
	if (!strcmp(b, "pcap"))
		return "libpcap";
	if (!strcmp(b, "pcap-file"))
		return "replay";
	return b;
}

static void ports_text(const struct tui_snap *s, char *buf, size_t len)
{
	const struct ports *p = s->ports;
	size_t n = 0;
	if (!p->n) {
		snprintf(buf, len, "all ports");
		return;
	}
	n += (size_t)snprintf(buf, len, "port%s ", p->n > 1 ? "s" : "");
	for (int i = 0; i < p->n && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%u", i ? "," : "", p->list[i]);
}

static void draw_title(const struct tui_snap *s, const struct tui_ui *ui, int y, int w)
{
	struct line ln = { y, 0, w };
	char ports[160], sp[24], right[200];
	attr_t a = tui_attr(&ui->look, TC_TITLE);
	const char *note = s->backend_note;

	attrset(a);
	tui_put_pad(y, 0, w, "", 0);
	putf(&ln, a, " lotrace %s ", s->version ? s->version : "");
	if (s->bench)
		putf(&ln, a, "| benchmark: %llu synthetic connections ",
		     (unsigned long long)s->m->max_id);
	else if (s->live && !strcmp(backend_name(s), "eBPF"))
		putf(&ln, a, "| %s%s%s%s ", s->input ? s->input : "eBPF", note ? " (" : "",
		     note ? note : "", note ? ")" : "");
	else if (s->live)
		putf(&ln, a, "| %s on %s%s%s%s ", backend_name(s), s->input ? s->input : "?",
		     note ? " (" : "", note ? note : "", note ? ")" : "");
	else
		putf(&ln, a, "| replay %s%s%s%s ", s->input ? s->input : "?",
		     s->link_name ? " (" : "", s->link_name ? s->link_name : "",
		     s->link_name ? ")" : "");

	ports_text(s, ports, sizeof(ports));
	if (s->live || s->bench)
		snprintf(right, sizeof(right), "%s%s ", ui->paused ? "PAUSED | " : "", ports);
	else
		snprintf(right, sizeof(right), "%s%s | %s%s ", ui->paused ? "PAUSED | " : "", ports,
			 s->replay_done ? "done" : "playing ",
			 s->replay_done ? "" : fmt_speed(sp, s->speed));
	int rw = tui_width(right);
	if (ln.x + rw <= w)
		tui_put(y, w - rw, rw, right);
	attrset(A_NORMAL);
}

/* Would l take a SYN to 127.0.0.1 / ::1 on its port (listeners.h)? */
static int takes_v4(const struct listener *l)
{
	static const uint8_t lo4[16] = { 127, 0, 0, 1 };
	return listener_takes(l, 4, lo4, l->port);
}

static int takes_v6(const struct listener *l)
{
	static const uint8_t lo6[16] = { [15] = 1 };
	return listener_takes(l, 6, lo6, l->port);
}

/* Does some socket take IPv4 loopback connections to port? v6: one
 * takes IPv6 ones. */
static int port_taken(const struct tui_snap *s, int shown, uint16_t port, int *v6)
{
	int v4 = 0;
	for (int k = 0; k < shown; k++)
		if (s->lis[k].port == port) {
			v4 |= takes_v4(&s->lis[k]);
			if (v6)
				*v6 |= takes_v6(&s->lis[k]);
		}
	return v4;
}

/* An item of width iw fits whole, leaving room for " +N more" when it is
 * not the last one. */
static int fits(const struct line *ln, int iw, int left)
{
	int more = left > 1 ? 9 : 0;
	return ln->x + iw + more <= ln->w;
}

static void draw_listeners(const struct tui_snap *s, const struct tui_ui *ui, int y, int w)
{
	struct line ln = { y, 0, w };
	const struct ports *p = s->ports;
	const struct tui_look *lk = &ui->look;
	int shown = s->nlis < TUI_MAX_LISTENERS ? s->nlis : TUI_MAX_LISTENERS;
	struct sbuf buf;

	if (!s->lis_queried) {
		put(&ln, tui_attr(lk, TC_DIM), " listeners: looking...");
		return;
	}
	if (s->lis_err < 0) {
		putf(&ln, tui_attr(lk, TC_WARN), " listeners: cannot query (%s)",
		     strerror(-s->lis_err));
		return;
	}
	if (!p->n) {
		putf(&ln, A_NORMAL, " watching every port: %d listening socket%s on this host",
		     s->nlis, s->nlis == 1 ? "" : "s");
		return;
	}
	/* The alarms first, so a narrow terminal still shows them; an item
	 * that does not fit whole is not cut (an address would lose its
	 * port): the line says how many more there are instead. */
	int left = 0, said = 0, first = 1;
	char item[200];
	for (int i = 0; i < p->n; i++)
		left += !port_taken(s, shown, p->list[i], NULL);
	for (int k = 0; k < shown; k++)
		left += ports_bit(p->bitmap, s->lis[k].port) != 0;
	for (int i = 0; i < p->n; i++) {
		int v6 = 0;
		if (port_taken(s, shown, p->list[i], &v6))
			continue;
		snprintf(item, sizeof(item), " nothing listening on 127.0.0.1:%u ", p->list[i]);
		if (!fits(&ln, 1 + tui_width(item) + (v6 ? 12 : 0), left))
			break;
		put(&ln, A_NORMAL, " ");
		put(&ln, tui_attr(lk, TC_ALERT), item);
		if (v6)
			putf(&ln, tui_attr(lk, TC_WARN), " (IPv6 only)");
		said = 1;
		left--;
	}
	for (int k = 0; k < shown && left; k++) {
		if (!ports_bit(p->bitmap, s->lis[k].port))
			continue;
		const char *head = !first ? "," : said ? "  listening:" : " listening:";
		sbuf_init(&buf, 160);
		listener_format(&buf, &s->lis[k], LISTENER_BRIEF, false);
		snprintf(item, sizeof(item), " %s", sbuf_str(&buf));
		sbuf_release(&buf);
		if (!fits(&ln, tui_width(head) + tui_width(item), left))
			break;
		put(&ln, first ? tui_attr(lk, TC_OK) : A_NORMAL, head);
		put(&ln, A_NORMAL, item);
		first = 0;
		left--;
	}
	if (left)
		putf(&ln, tui_attr(lk, TC_DIM), " +%d more", left);
	attrset(A_NORMAL);
}

static void draw_replay_info(const struct tui_snap *s, const struct tui_ui *ui, int y, int w)
{
	struct line ln = { y, 0, w };
	char tm[FMT_TIME_LEN];
	if (s->bench) {
		put(&ln, tui_attr(&ui->look, TC_DIM), " no source: rows made up to time the view");
		return;
	}
	putf(&ln, A_NORMAL, " replay, not live: %llu frames", (unsigned long long)s->frames);
	if (s->frame_ts)
		putf(&ln, A_NORMAL, ", frame time %s", fmt_time(tm, s->frame_ts, 1));
	if (s->replay_done)
		put(&ln, tui_attr(&ui->look, TC_INFO), "  end of capture (q quits)");
	else
		put(&ln, tui_attr(&ui->look, TC_DIM), "  (+/- change the speed)");
}

static void counter(struct line *ln, const struct tui_look *lk, const char *name, uint64_t n,
		    enum tui_color bad)
{
	putf(ln, A_NORMAL, "  %s ", name);
	putf(ln, n ? tui_attr(lk, bad) | A_BOLD : A_BOLD, "%llu", (unsigned long long)n);
}

/* The counters, with short names when the long ones would not fit; the
 * source's problem counters (map_full, truncated, ...) by their own names
 * when not zero. */
static void counters(struct line *ln, const struct tui_snap *s, const struct tui_look *lk, int tiny)
{
	const struct tui_model *m = s->m;

	putf(ln, A_NORMAL, tiny ? " " : " conns/s ");
	putf(ln, A_BOLD, "%.1f", s->rate);
	if (tiny)
		put(ln, A_NORMAL, "/s");
	counter(ln, lk, "total", tui_model_total(m), TC_NORMAL);
	counter(ln, lk, tiny ? "est" : "established", tui_model_established(m), TC_OK);
	counter(ln, lk, "refused", tui_model_count(m, LT_V_REFUSED), TC_BAD);
	counter(ln, lk, tiny ? "unans" : "unanswered", tui_model_count(m, LT_V_UNANSWERED),
		TC_WARN);
	counter(ln, lk, tiny ? "half" : "half-open", tui_model_count(m, LT_V_HALF_OPEN), TC_WARN);
	counter(ln, lk, tiny ? "rst" : "resets",
		tui_model_count(m, LT_V_RESET_CLIENT) + tui_model_count(m, LT_V_RESET_SERVER),
		TC_BAD);
	counter(ln, lk, "lost", s->lost, TC_ALERT);
	if (s->dec_problems)
		counter(ln, lk, tiny ? "bad" : "undecodable", s->dec_problems, TC_WARN);
	if (s->evicted)
		counter(ln, lk, tiny ? "evict" : "evicted", s->evicted, TC_WARN);
	if (s->time_jumps)
		counter(ln, lk, tiny ? "tjump" : "time jumps", s->time_jumps, TC_WARN);
	for (int i = 0; i < s->nproblems; i++)
		counter(ln, lk, s->problems[i].name, s->problems[i].value, TC_ALERT);
}

static void draw_counters(const struct tui_snap *s, const struct tui_ui *ui, int y, int w)
{
	struct line probe = { -1, 0, 1 << 20 }; /* measures only */
	struct line ln = { y, 0, w };

	counters(&probe, s, &ui->look, 0);
	counters(&ln, s, &ui->look, probe.x > w);
	attrset(A_NORMAL);
}

/* " 1us[ ▂█▁      ]32ms": one cell per power of two of microseconds. */
static void spark(const struct tui_glyphs *g, const struct tui_lat *c, char *buf, size_t len)
{
	uint32_t max = 0;
	size_t n = 0;
	for (int i = 0; i < TUI_SPARK; i++)
		if (c->spark[i] > max)
			max = c->spark[i];
	n += (size_t)snprintf(buf, len, "1us[");
	for (int i = 0; i < TUI_SPARK && n < len; i++) {
		const char *cell = " ";
		if (c->spark[i]) {
			int lvl = (int)((uint64_t)c->spark[i] * 7 / (max ? max : 1));
			cell = g->spark[lvl];
		}
		n += (size_t)snprintf(buf + n, len - n, "%s", cell);
	}
	if (n < len)
		snprintf(buf + n, len - n, "]32ms");
}

static void lat_text(const struct tui_lat *c, char *buf, size_t len)
{
	char a[24], b[24];
	if (!c->h.count) {
		snprintf(buf, len, "p50 - p99 -");
		return;
	}
	snprintf(buf, len, "p50 %s p99 %s", fmt_dur(a, (int64_t)hist_percentile(&c->h, 50)),
		 fmt_dur(b, (int64_t)hist_percentile(&c->h, 99)));
}

static int draw_latency(const struct tui_snap *s, const struct tui_ui *ui, int y, int w,
			int max_lines)
{
	const struct tui_model *l = s->m;
	const struct tui_glyphs *g = ui->look.g;
	char txt[64], sp[200];
	struct line ln = { y, 0, w };

	lat_text(&l->lat_all, txt, sizeof(txt));
	spark(g, &l->lat_all, sp, sizeof(sp));
	put(&ln, A_NORMAL, " handshake SYN");
	put(&ln, A_NORMAL, g->utf8 ? g->to : "->");
	putf(&ln, A_NORMAL, "SYN-ACK ");
	put(&ln, A_BOLD, txt);
	if (ln.x + 2 + tui_width(sp) <= w) {
		put(&ln, A_NORMAL, "  ");
		put(&ln, tui_attr(&ui->look, TC_INFO), sp);
	}
	int used = 1;
	/* one line per watched port when there is more than one and room */
	if (l->nlat_port < 2)
		goto out;
	for (int i = 0; i < l->nlat_port && used < max_lines; i++) {
		if (!l->lat_port[i].h.count)
			continue;
		struct line pl = { y + used, 0, w };
		lat_text(&l->lat_port[i], txt, sizeof(txt));
		spark(g, &l->lat_port[i], sp, sizeof(sp));
		putf(&pl, A_NORMAL, "   port %-5u ", l->lat_port[i].port);
		put(&pl, A_NORMAL, txt);
		put(&pl, A_NORMAL, "  ");
		put(&pl, tui_attr(&ui->look, TC_INFO), sp);
		used++;
	}
out:
	attrset(A_NORMAL);
	return used;
}

int tui_draw_header(const struct tui_snap *s, const struct tui_ui *ui, int y0, int w, int max_lines)
{
	int y = y0;
	if (max_lines < 1)
		return 0;
	draw_title(s, ui, y++, w);
	if (y - y0 < max_lines) {
		if (s->live)
			draw_listeners(s, ui, y++, w);
		else
			draw_replay_info(s, ui, y++, w);
	}
	if (y - y0 < max_lines)
		draw_counters(s, ui, y++, w);
	if (y - y0 < max_lines)
		y += draw_latency(s, ui, y, w, max_lines - (y - y0));
	return y - y0;
}
