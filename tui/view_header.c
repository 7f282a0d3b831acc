/* SPDX-License-Identifier: MIT */
/*
 * view_header.c - the header: what is watched and how, who listens, the
 * counters and the handshake latency, read at a glance.
 *
 *   line 0  title bar: version, backend and why, ports, paused/speed
 *   line 1  listeners on the watched ports (live) or the replayed file
 *   line 2  conns/s, total, established, refused, unanswered, half-open,
 *           resets, lost events (always, even 0), decode problems
 *   line 3  handshake latency p50/p99 and a histogram per port
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fmt.h"
#include "listeners.h"
#include "sbuf.h"
#include "tui_draw.h"

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

static const char *backend_name(const struct tui *t)
{
	const char *b = t->ri.backend ? t->ri.backend : "";
	if (!strcmp(b, "ebpf"))
		return "eBPF";
	if (!strcmp(b, "pcap"))
		return "libpcap";
	if (!strcmp(b, "pcap-file"))
		return "replay";
	return b;
}

static void ports_text(const struct tui *t, char *buf, size_t len)
{
	const struct ports *p = &t->o->ports;
	size_t n = 0;
	if (!p->n) {
		snprintf(buf, len, "all ports");
		return;
	}
	n += (size_t)snprintf(buf, len, "port%s ", p->n > 1 ? "s" : "");
	for (int i = 0; i < p->n && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%u", i ? "," : "", p->list[i]);
}

static void draw_title(struct tui *t, int y, int w)
{
	struct line ln = { y, 0, w };
	char ports[160], sp[24], right[200];
	attr_t a = tui_attr(t, TC_TITLE);

	attrset(a);
	tui_put_pad(y, 0, w, "", 0);
	putf(&ln, a, " lotrace %s ", t->ri.version ? t->ri.version : "");
	if (t->bench)
		putf(&ln, a, "| benchmark: %llu synthetic connections ",
		     (unsigned long long)t->log.max_id);
	else if (t->live && !strcmp(backend_name(t), "eBPF"))
		putf(&ln, a, "| %s%s%s%s ", t->ri.input ? t->ri.input : "eBPF",
		     t->ri.backend_note ? " (" : "",
		     t->ri.backend_note ? t->ri.backend_note : "",
		     t->ri.backend_note ? ")" : "");
	else if (t->live)
		putf(&ln, a, "| %s on %s%s%s%s ", backend_name(t),
		     t->ri.input ? t->ri.input : "?",
		     t->ri.backend_note ? " (" : "",
		     t->ri.backend_note ? t->ri.backend_note : "",
		     t->ri.backend_note ? ")" : "");
	else
		putf(&ln, a, "| replay %s%s%s%s ", t->ri.input ? t->ri.input : "?",
		     t->ri.link_name ? " (" : "",
		     t->ri.link_name ? t->ri.link_name : "",
		     t->ri.link_name ? ")" : "");

	ports_text(t, ports, sizeof(ports));
	if (t->live || t->bench)
		snprintf(right, sizeof(right), "%s%s ", t->paused ? "PAUSED | " : "", ports);
	else
		snprintf(right, sizeof(right), "%s%s | %s%s ",
			 t->paused ? "PAUSED | " : "", ports,
			 t->play.eof ? "done" : "playing ",
			 t->play.eof ? "" : tui_play_speed_name(t->play.speed, sp));
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

static void draw_listeners(struct tui *t, int y, int w)
{
	struct line ln = { y, 0, w };
	const struct ports *p = &t->o->ports;
	int shown = t->nlis < TUI_MAX_LISTENERS ? t->nlis : TUI_MAX_LISTENERS;
	struct sbuf buf;

	if (!t->lis_queried) {
		put(&ln, tui_attr(t, TC_DIM), " listeners: looking...");
		return;
	}
	if (t->lis_err < 0) {
		putf(&ln, tui_attr(t, TC_WARN), " listeners: cannot query (%s)",
		     strerror(-t->lis_err));
		return;
	}
	if (!p->n) {
		putf(&ln, A_NORMAL, " watching every port: %d listening socket%s on this host",
		     t->nlis, t->nlis == 1 ? "" : "s");
		return;
	}
	/* the alarms first, so a narrow terminal still shows them */
	int said = 0;
	for (int i = 0; i < p->n; i++) {
		int v4 = 0, v6 = 0;
		for (int k = 0; k < shown; k++)
			if (t->lis[k].port == p->list[i]) {
				v4 |= takes_v4(&t->lis[k]);
				v6 |= takes_v6(&t->lis[k]);
			}
		if (v4)
			continue;
		put(&ln, A_NORMAL, " ");
		putf(&ln, tui_attr(t, TC_ALERT), " nothing listening on 127.0.0.1:%u ",
		     p->list[i]);
		if (v6)
			putf(&ln, tui_attr(t, TC_WARN), " (IPv6 only)");
		said = 1;
	}
	int first = 1;
	for (int k = 0; k < shown; k++) {
		if (!ports_bit(p->bitmap, t->lis[k].port))
			continue;
		if (first)
			put(&ln, tui_attr(t, TC_OK), said ? "  listening:" : " listening:");
		sbuf_init(&buf, 160);
		listener_format(&buf, &t->lis[k], LISTENER_BRIEF, false);
		putf(&ln, A_NORMAL, "%s %s", first ? "" : ",", sbuf_str(&buf));
		sbuf_release(&buf);
		first = 0;
	}
	attrset(A_NORMAL);
}

static void draw_replay_info(struct tui *t, int y, int w)
{
	struct line ln = { y, 0, w };
	char tm[FMT_TIME_LEN];
	if (t->bench) {
		put(&ln, tui_attr(t, TC_DIM), " no source: rows made up to time the view");
		return;
	}
	putf(&ln, A_NORMAL, " replay, not live: %llu frames",
	     (unsigned long long)t->ss.dec.frames);
	if (t->play.cap_now)
		putf(&ln, A_NORMAL, " up to %s", fmt_time(tm, t->play.cap_now, 1));
	if (t->play.eof)
		put(&ln, tui_attr(t, TC_INFO), "  end of capture (q quits)");
	else
		put(&ln, tui_attr(t, TC_DIM), "  (+/- change the speed)");
}

static double conn_rate(const struct tui *t)
{
	const struct stats *st = t->eng.stats;
	/* a finished replay: the average over the capture */
	if (!t->live && !t->bench && t->play.eof) {
		/* averaged over a second at least: 2 connections 1 ms apart
		 * are not "2000 per second" */
		double secs = st->last_ts > st->first_ts
				      ? (double)(st->last_ts - st->first_ts) / 1e9
				      : 0;
		return (double)st->total.conns / (secs > 1 ? secs : 1);
	}
	if (t->nrate < 2)
		return 0;
	int newest = (t->rate_pos + TUI_RATE_SAMPLES - 1) % TUI_RATE_SAMPLES;
	int oldest = t->nrate < TUI_RATE_SAMPLES ? 0 : t->rate_pos;
	const struct tui_rate_sample *a = &t->rate[oldest], *b = &t->rate[newest];
	if (b->t_ns <= a->t_ns)
		return 0;
	return (double)(b->created - a->created) / ((double)(b->t_ns - a->t_ns) / 1e9);
}

static void counter(struct line *ln, const struct tui *t, const char *name,
		    uint64_t n, enum tui_color bad)
{
	putf(ln, A_NORMAL, "  %s ", name);
	putf(ln, n ? tui_attr(t, bad) | A_BOLD : A_BOLD, "%llu", (unsigned long long)n);
}

/* The counters, with short names when the long ones would not fit. */
static void counters(struct line *ln, struct tui *t, int tiny)
{
	const struct conn_log *l = &t->log;
	const struct flow_counters *fc = flow_tab_counters(t->eng.flows);
	uint64_t probs = dec_stats_problems(&t->ss.dec);

	putf(ln, A_NORMAL, tiny ? " " : " conns/s ");
	putf(ln, A_BOLD, "%.1f", conn_rate(t));
	if (tiny)
		put(ln, A_NORMAL, "/s");
	counter(ln, t, "total", conn_log_total(l), TC_NORMAL);
	counter(ln, t, tiny ? "est" : "established", conn_log_established(l), TC_OK);
	counter(ln, t, "refused", conn_log_count(l, LT_V_REFUSED), TC_BAD);
	counter(ln, t, tiny ? "unans" : "unanswered", conn_log_count(l, LT_V_UNANSWERED),
		TC_WARN);
	counter(ln, t, tiny ? "half" : "half-open", conn_log_count(l, LT_V_HALF_OPEN),
		TC_WARN);
	counter(ln, t, tiny ? "rst" : "resets",
		conn_log_count(l, LT_V_RESET_CLIENT) + conn_log_count(l, LT_V_RESET_SERVER),
		TC_BAD);
	counter(ln, t, "lost", t->ss.lost, TC_ALERT);
	if (probs)
		counter(ln, t, tiny ? "bad" : "undecodable", probs, TC_WARN);
	if (fc && fc->evicted)
		counter(ln, t, tiny ? "evict" : "evicted", fc->evicted, TC_WARN);
}

static void draw_counters(struct tui *t, int y, int w)
{
	struct line probe = { -1, 0, 1 << 20 }; /* measures only */
	struct line ln = { y, 0, w };

	counters(&probe, t, 0);
	counters(&ln, t, probe.x > w);
	attrset(A_NORMAL);
}

/* " 1us[ ▂█▁      ]32ms": one cell per power of two of microseconds. */
static void spark(const struct tui *t, const struct conn_lat *c, char *buf, size_t len)
{
	uint32_t max = 0;
	size_t n = 0;
	for (int i = 0; i < CONN_LOG_SPARK; i++)
		if (c->spark[i] > max)
			max = c->spark[i];
	n += (size_t)snprintf(buf, len, "1us[");
	for (int i = 0; i < CONN_LOG_SPARK && n < len; i++) {
		const char *g = " ";
		if (c->spark[i]) {
			int lvl = (int)((uint64_t)c->spark[i] * 7 / (max ? max : 1));
			g = t->g->spark[lvl];
		}
		n += (size_t)snprintf(buf + n, len - n, "%s", g);
	}
	if (n < len)
		snprintf(buf + n, len - n, "]32ms");
}

static void lat_text(const struct conn_lat *c, char *buf, size_t len)
{
	char a[24], b[24];
	if (!c->h.count) {
		snprintf(buf, len, "p50 - p99 -");
		return;
	}
	snprintf(buf, len, "p50 %s p99 %s", fmt_dur(a, (int64_t)hist_percentile(&c->h, 50)),
		 fmt_dur(b, (int64_t)hist_percentile(&c->h, 99)));
}

static int draw_latency(struct tui *t, int y, int w, int max_lines)
{
	const struct conn_log *l = &t->log;
	char txt[64], sp[200];
	struct line ln = { y, 0, w };

	lat_text(&l->lat_all, txt, sizeof(txt));
	spark(t, &l->lat_all, sp, sizeof(sp));
	put(&ln, A_NORMAL, " handshake SYN");
	put(&ln, A_NORMAL, t->g->utf8 ? t->g->to : "->");
	putf(&ln, A_NORMAL, "SYN-ACK ");
	put(&ln, A_BOLD, txt);
	if (ln.x + 2 + tui_width(sp) <= w) {
		put(&ln, A_NORMAL, "  ");
		put(&ln, tui_attr(t, TC_INFO), sp);
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
		spark(t, &l->lat_port[i], sp, sizeof(sp));
		putf(&pl, A_NORMAL, "   port %-5u ", l->lat_port[i].port);
		put(&pl, A_NORMAL, txt);
		put(&pl, A_NORMAL, "  ");
		put(&pl, tui_attr(t, TC_INFO), sp);
		used++;
	}
out:
	attrset(A_NORMAL);
	return used;
}

int tui_draw_header(struct tui *t, int y0, int w, int max_lines)
{
	int y = y0;
	if (max_lines < 1)
		return 0;
	draw_title(t, y++, w);
	if (y - y0 < max_lines) {
		if (t->live)
			draw_listeners(t, y++, w);
		else
			draw_replay_info(t, y++, w);
	}
	if (y - y0 < max_lines)
		draw_counters(t, y++, w);
	if (y - y0 < max_lines)
		y += draw_latency(t, y, w, max_lines - (y - y0));
	return y - y0;
}
