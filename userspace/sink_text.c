/* SPDX-License-Identifier: MIT */
/*
 * sink_text.c - one line per connection and a per-port summary table.
 * In a replay the lines gather in the sink's own buffer, written with
 * write(2) in blocks (struct sink_batch, sink.c); otherwise each goes to
 * the stream with one fwrite.
 */
#include "sink.h"

#include <inttypes.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"
#include "sbuf.h"
#include "sink_sort.h"
#include "stdio_nolock.h"

/* The narrowest endpoint column: the widest IPv4 endpoint. */
#define EP_MIN_WIDTH 21 /* 255.255.255.255:65535 */

/* An address as the lines show it, "127.0.0.1:" or "[::1]:" (the port
 * follows), remembered for the last address of a role: a run's lines
 * mostly repeat their server's and their clients' addresses. */
struct addr_memo {
	uint8_t family; /* 0: nothing remembered */
	uint8_t addr[16];
	uint8_t len;
	char text[SBUF_ADDR_MAX + 3];
};

/* A process as the lines show it, "lt_peer[4969]", the last one of a
 * role: most lines name the same client and server. */
struct owner_memo {
	int32_t pid;
	char comm[LT_COMM_LEN];
	uint8_t len; /* 0: nothing remembered */
	char text[LT_COMM_LEN + SBUF_I64_MAX + 2];
};

struct text_sink {
	struct lt_sink base;
	struct lt_sink_cfg cfg;
	struct sbuf line;	       /* a --sort start line, the summary */
	struct sink_batch batch;       /* the connection lines */
	struct sbuf cl, sv, rest;      /* the pieces of one connection line */
	struct addr_memo addr_memo[2]; /* client, server */
	struct owner_memo owner_memo[2];
	struct fmt_clock clock;
	size_t ep_w;   /* endpoint column width: grows, never shrinks */
	int today;     /* local date key of the run's start */
	int first_day; /* ... of the first line, -1 before it */
	bool dated;    /* the date is shown from now on */
	bool have_prev;
	uint64_t first_ts, prev_ts; /* start of the first / previous line */
	struct sink_sort sorted;    /* --sort start */
	uint32_t first_netns;	    /* the first namespace seen (eBPF) ... */
	bool multi_netns;	    /* ... and another one since: the column */
};

/* glibc takes no size without a buffer (it gives st_blksize, 4 KiB for a
 * pipe or /dev/null: a --json replay made a write(2) every two records).
 * stdout gets a buffer of lotrace's own: it is never freed, as stdout is
 * flushed at exit after everything else, and stays reachable through it.
 * Files lotrace opens and closes keep what stdio gives them. */
#define SINK_OUT_BUF (1u << 18)
void sink_buffer_output(FILE *out)
{
	if (out == stderr || isatty(fileno(out)))
		return;
	if (out == stdout && __fbufsize(out) < SINK_OUT_BUF) {
		char *buf = malloc(SINK_OUT_BUF);
		if (buf && setvbuf(out, buf, _IOFBF, SINK_OUT_BUF) == 0)
			return;
		free(buf);
	}
	setvbuf(out, NULL, _IOFBF, SINK_OUT_BUF);
}

static void text_begin(struct lt_sink *s, const struct lt_run_info *ri)
{
	(void)s;
	(void)ri;
}

/* "HH:MM:SS.uuuuuu" of a span (hours may pass 24), "-" before if negative */
static void span_hms(struct sbuf *b, int64_t ns)
{
	uint64_t u = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
	uint64_t sec = u / 1000000000ull;
	if (ns < 0)
		sbuf_putc(b, '-');
	sbuf_u64_zpad(b, sec / 3600, 2);
	sbuf_putc(b, ':');
	sbuf_u64_zpad(b, sec / 60 % 60, 2);
	sbuf_putc(b, ':');
	sbuf_u64_zpad(b, sec % 60, 2);
	sbuf_putc(b, '.');
	sbuf_u64_zpad(b, u % 1000000000ull / 1000u, 6);
}

/* The time column of a line starting at ts; false when there is none. */
static bool time_column(struct text_sink *ts, struct sbuf *b, uint64_t t)
{
	if (!ts->have_prev) {
		ts->first_ts = ts->prev_ts = t;
		ts->have_prev = true;
	}
	int64_t since_prev = (int64_t)(t - ts->prev_ts);
	ts->prev_ts = t;
	switch (ts->cfg.ts_mode) {
	case LT_TS_NONE:
		return false;
	case LT_TS_EPOCH:
		sbuf_u64(b, t / 1000000000ull);
		sbuf_putc(b, '.');
		sbuf_u64_zpad(b, t % 1000000000ull / 1000u, 6);
		return true;
	case LT_TS_DELTA:
		span_hms(b, since_prev);
		return true;
	case LT_TS_SINCE_FIRST:
		span_hms(b, (int64_t)(t - ts->first_ts));
		return true;
	case LT_TS_DATE:
		fmt_time_sb(b, &ts->clock, t, 1);
		return true;
	case LT_TS_DEFAULT:
		break;
	}
	if (!ts->dated) {
		/* HH:MM:SS alone would be ambiguous: another day than today,
		 * or a capture that runs past midnight. Once dated, always. */
		int day = fmt_clock_day(&ts->clock, t);
		if (ts->first_day < 0)
			ts->first_day = day;
		ts->dated = day != ts->today || day != ts->first_day;
	}
	fmt_time_sb(b, &ts->clock, t, ts->dated);
	return true;
}

/* Spaces up to column `width` of the stretch that began at from, as
 * sbuf_pad writes them: a run of up to 32 by a copy of a constant size
 * (sbuf_pad's memset of a variable one is a call, four per line). */
LT_INLINE void pad_col(struct sbuf *b, size_t from, size_t width)
{
	static const char spaces[33] = "                                ";
	size_t have = b->len - from;

	if (have >= width || b->toobig)
		return;
	if (width - have <= 32) {
		char *p = sbuf_room_try(b, 32);

		if (p) {
			memcpy(p, spaces, 32);
			sbuf_commit(b, width - have);
			return;
		}
		/* near the cap: maybe fewer fit */
	}
	sbuf_pad(b, from, width);
}

static void pad_to(struct sbuf *b, const char *s, size_t n, size_t width)
{
	size_t from = b->len;
	sbuf_add(b, s, n);
	pad_col(b, from, width);
}

/* A line's start, appended to b: time, endpoints padded to the column
 * width. */
static void line_head(struct text_sink *ts, struct sbuf *b, uint64_t t, const char *cl, size_t ncl,
		      const char *sv, size_t nsv)
{
	if (time_column(ts, b, t))
		sbuf_lit(b, "  ");
	pad_to(b, cl, ncl, ts->ep_w);
	sbuf_lit(b, " -> ");
	pad_to(b, sv, nsv, ts->ep_w);
}

static void line_write(struct text_sink *ts, const struct sbuf *b)
{
	/* unlocked: only this thread writes lotrace's outputs, and once any
	 * thread was made (src_bpf_netns.c) fwrite's lock is two atomic
	 * operations per line, each draining the stores of the line */
	stdio_write_nolock(sbuf_str(b), b->len, ts->base.out);
}

/* One line: its start, the rest, written. */
static void emit(struct text_sink *ts, uint64_t t, const char *cl, size_t ncl, const char *sv,
		 size_t nsv, const char *rest, size_t nrest)
{
	struct sbuf *b = &ts->line;

	sbuf_reset(b);
	line_head(ts, b, t, cl, ncl, sv, nsv);
	sbuf_add(b, rest, nrest);
	line_write(ts, b);
}

/*
 * The first n bytes of array s of `size` bytes (a constant): the whole
 * array is copied into reserved room and n bytes of it kept. A copy of a
 * length the compiler only knows to be small (a uint8_t) becomes a rep
 * movs, which costs tens of cycles to start for a few bytes (perf: most
 * of the memos' and the history's time).
 */
LT_INLINE void add_fixed(struct sbuf *b, const char *s, size_t n, size_t size)
{
	char *p = sbuf_room_try(b, size);

	if (p) {
		memcpy(p, s, size);
		sbuf_commit(b, n);
		return;
	}
	sbuf_add(b, s, n); /* near the cap: maybe n bytes fit */
}

/* "127.0.0.1:61900" or "[::1]:61900", as sbuf_addr_port writes it. */
static void endpoint_text(struct sbuf *b, struct addr_memo *m, uint8_t family,
			  const struct lt_endpoint *e)
{
	if (m->family != family || memcmp(m->addr, e->addr, sizeof(m->addr))) {
		char *p = m->text;

		if (family == 6)
			*p++ = '[';
		p = sbuf_put_addr(p, family, e->addr);
		if (family == 6)
			*p++ = ']';
		*p++ = ':';
		m->len = (uint8_t)(p - m->text);
		m->family = family;
		memcpy(m->addr, e->addr, sizeof(m->addr));
	}
	char *start = sbuf_room_try(b, sizeof(m->text) + SBUF_U64_MAX), *p = start;
	if (p) { /* the usual case: one reservation for all of it */
		memcpy(p, m->text, sizeof(m->text));
		p = sbuf_put_u64(p + m->len, e->port);
		sbuf_commit(b, (size_t)(p - start));
		return;
	}
	/* near the cap: maybe the pieces fit */
	sbuf_add(b, m->text, m->len);
	sbuf_u64(b, e->port);
}

/* "lt_peer[4969]": a side's process. */
static void owner_text(struct sbuf *b, struct owner_memo *m, const struct flow_side *sd)
{
	if (!m->len || m->pid != sd->pid || memcmp(m->comm, sd->comm, sizeof(m->comm))) {
		size_t n = strnlen(sd->comm, sizeof(sd->comm));
		char *p = m->text;

		p = sbuf_put(p, sd->comm, n);
		*p++ = '[';
		p = sbuf_put_i64(p, sd->pid);
		*p++ = ']';
		m->len = (uint8_t)(p - m->text);
		m->pid = sd->pid;
		memcpy(m->comm, sd->comm, sizeof(m->comm));
	}
	add_fixed(b, m->text, m->len, sizeof(m->text));
}

/* Everything after the server endpoint, newline included. */
static void line_rest(struct text_sink *ts, struct sbuf *b, const struct flow *f, enum lt_verdict v,
		      bool show_ns)
{
	char ns[96];

	size_t col;

	sbuf_lit(b, "  ");
	col = b->len;
	verdict_text(b, f, v);
	pad_col(b, col, 28);
	col = b->len;
	sbuf_putc(b, ' ');
	sbuf_puts(b, flow_zeek_state(f));
	sbuf_putc(b, ' ');
	add_fixed(b, f->history, f->hist_len, sizeof(f->history));
	pad_col(b, col, 16);
	sbuf_lit(b, "  ");
	fmt_timeline(b, f);
	int64_t l1 = flow_syn_to_synack(f), l2 = flow_synack_to_ack(f);
	if (l1 >= 0) {
		sbuf_lit(b, "  hs=");
		fmt_dur_sb(b, l1);
		sbuf_putc(b, '/');
		fmt_dur_sb(b, l2);
	}
	if (show_ns) {
		sink_netns_label(f, ns, sizeof(ns));
		if (ns[0]) {
			sbuf_lit(b, "  netns=");
			sbuf_puts(b, ns);
		}
	}
	for (int d = LT_DIR_C2S; d <= LT_DIR_S2C; d++) {
		const struct flow_side *sd = &f->side[d];
		if (sd->pid < 0)
			continue;
		if (d == LT_DIR_C2S)
			sbuf_lit(b, "  client=");
		else
			sbuf_lit(b, "  server=");
		owner_text(b, &ts->owner_memo[d], sd);
	}
	if (f->reset_reason[0]) {
		sbuf_lit(b, "  rst_reason=");
		sbuf_puts(b, f->reset_reason);
	}
	if (f->drop_reason[0]) {
		sbuf_lit(b, "  drop_reason=");
		sbuf_puts(b, f->drop_reason);
		sbuf_lit(b, "(x");
		sbuf_u64(b, f->drops);
		sbuf_putc(b, ')');
	}
	if (f->anomalies & LT_A_LISTEN_OVERFLOW) {
		sbuf_lit(b, "  accept-queue-overflow");
		if (f->kctx) { /* eBPF: the listener then */
			sbuf_printf(b, "(queue %u/%u", f->ovf_queued, f->ovf_backlog);
			if (f->side[LT_DIR_S2C].pid > 0)
				sbuf_printf(b, " listener=%s[%d]", f->side[LT_DIR_S2C].comm,
					    (int)f->side[LT_DIR_S2C].pid);
			sbuf_putc(b, ')');
		}
	}
	if (f->anomalies & LT_A_EVICTED)
		sbuf_lit(b, "  [evicted]");
	if (f->anomalies & LT_A_TIME_BACKWARDS)
		sbuf_lit(b, "  [timestamps out of order]");
	if (f->anomalies & LT_A_EVENTS_LOST)
		sbuf_lit(b, "  [events lost]");
	if (f->anomalies & LT_A_TIME_JUMP)
		sbuf_lit(b, "  [after time jump]");
	if (f->anomalies & LT_A_DUP_COPIES) {
		sbuf_lit(b, "  [");
		sbuf_u64(b, (uint64_t)f->side[0].copies.pkts + f->side[1].copies.pkts);
		sbuf_lit(b, " duplicate copies: same segment, another VLAN]");
	}
	/* the line's end in one reservation (stream numbers of a live run
	 * have five digits soon: sbuf_u64's call) */
	static const char tag[] = "  stream=";
	char *start = sbuf_room_try(b, sizeof(tag) - 1 + SBUF_U64_MAX + 1);
	if (start) {
		memcpy(start, tag, sizeof(tag) - 1);
		char *p = sbuf_put_u64(start + sizeof(tag) - 1, sink_stream_index(f));
		*p++ = '\n';
		sbuf_commit(b, (size_t)(p - start));
		return;
	}
	sbuf_lit(b, "  stream=");
	sbuf_u64(b, sink_stream_index(f));
	sbuf_putc(b, '\n');
}

static void text_conn(struct lt_sink *s, const struct flow *f, enum lt_verdict v)
{
	struct text_sink *ts = (struct text_sink *)s;

	if (ts->cfg.quiet)
		return;
	sbuf_reset(&ts->cl);
	sbuf_reset(&ts->sv);
	endpoint_text(&ts->cl, &ts->addr_memo[0], f->family, &f->client);
	endpoint_text(&ts->sv, &ts->addr_memo[1], f->family, &f->server);
	if (f->ns && !ts->first_netns)
		ts->first_netns = f->ns->ino;
	else if (f->ns && f->ns->ino != ts->first_netns)
		ts->multi_netns = true;
	bool show_ns = ts->multi_netns || ts->cfg.netns_always;
	if (ts->cl.len > ts->ep_w)
		ts->ep_w = ts->cl.len;
	if (ts->sv.len > ts->ep_w)
		ts->ep_w = ts->sv.len;
	if (ts->cfg.sort_start) {
		sbuf_reset(&ts->rest);
		line_rest(ts, &ts->rest, f, v, show_ns);
		const struct sbuf *const pieces[SINK_SORT_PIECES] = { &ts->cl, &ts->sv, &ts->rest };
		sink_sort_add(&ts->sorted, f->t_first, f->id, pieces); /* nomem: said at the end */
		return;
	}
	/* the rest goes straight after the start, not through ts->rest */
	struct sbuf *b = sink_batch_begin(&ts->batch);
	line_head(ts, b, f->t_first, ts->cl.buf, ts->cl.len, ts->sv.buf, ts->sv.len);
	line_rest(ts, b, f, v, show_ns);
	sink_batch_end(&ts->batch, ts->base.out);
}

static void text_flush(struct lt_sink *s)
{
	struct text_sink *ts = (struct text_sink *)s;
	sink_batch_flush(&ts->batch, s->out);
}

/* --sort start: every line, in order of first packet, before the summary */
static void flush_sorted(struct text_sink *ts)
{
	struct sink_sort *so = &ts->sorted;
	sink_sort_done(so);
	for (size_t i = 0; i < so->n; i++) {
		const struct sink_sort_ent *e = &so->v[i];
		emit(ts, e->t_ns, sink_sort_piece(so, e, 0), e->len[0], sink_sort_piece(so, e, 1),
		     e->len[1], sink_sort_piece(so, e, 2), e->len[2]);
	}
	sink_sort_release(so);
	sink_sort_init(so);
}

static void port_row(struct sbuf *b, const char *name, const struct port_stats *p)
{
	sbuf_printf(b,
		    "%-7s %6" PRIu64 " %8" PRIu64 " %6" PRIu64 " %7" PRIu64 " %6" PRIu64
		    " %9" PRIu64 " %6" PRIu64 " %7" PRIu64 "  ",
		    name, p->conns, p->attempts, p->established, p->verdict[LT_V_REFUSED],
		    p->verdict[LT_V_UNANSWERED], p->verdict[LT_V_HALF_OPEN], p->resets,
		    p->syn_retrans + p->synack_retrans);
	fmt_lat3(b, &p->syn_synack, "/");
	sbuf_putc(b, '\n');
}

static void decode_line(struct sbuf *b, const struct lt_source_stats *ss)
{
	const struct dec_stats *d = &ss->dec;
	uint64_t probs = dec_stats_problems(d);

	sbuf_printf(b,
		    "decode: %" PRIu64 " frames, %" PRIu64 " tcp, %" PRIu64 " other, %" PRIu64
		    " problems",
		    d->frames, d->tcp, d->not_tcp, probs);
	if (probs) {
		const char *sep = " (";
		for (int r = DEC_TRUNCATED; r <= DEC_UNSUPPORTED; r++)
			for (int l = 0; l < DEC_LAYER_COUNT; l++)
				if (d->problems[r][l]) {
					sbuf_printf(b, "%s%s %s %" PRIu64, sep, dec_result_name(r),
						    dec_layer_name(l), d->problems[r][l]);
					if (r == DEC_MALFORMED && l == DEC_L_IPV4 &&
					    d->bad_ipv4_csum)
						sbuf_printf(b, " [bad header checksum %" PRIu64 "]",
							    d->bad_ipv4_csum);
					sep = ", ";
				}
		sbuf_putc(b, ')');
	}
	sbuf_putc(b, '\n');
}

static void text_end(struct lt_sink *s, const struct lt_run_info *ri, const struct lt_run_end *re)
{
	struct text_sink *ts = (struct text_sink *)s;
	struct sbuf *b = &ts->line;
	uint16_t ports[256];

	sink_batch_flush(&ts->batch, s->out);
	if (ts->cfg.sort_start)
		flush_sorted(ts);
	int n = stats_ports(re->stats, ports, 256);

	sbuf_reset(b);
	if (!ts->cfg.quiet)
		sbuf_putc(b, '\n');
	sbuf_puts(b, "port     conns attempts  estab refused  unans half-open "
		     "resets retrans  syn->synack p50/p99/max\n");
	for (int i = 0; i < n; i++) {
		char name[8];
		snprintf(name, sizeof(name), "%u", ports[i]);
		port_row(b, name, re->stats->port[ports[i]]);
	}
	if (re->stats->nports > (uint32_t)n)
		sbuf_printf(b, "(%u more ports)\n", re->stats->nports - (uint32_t)n);
	if (n != 1)
		port_row(b, "total", &re->stats->total);
	sbuf_putc(b, '\n');
	if (ri->link_name)
		decode_line(b, re->src);
	sbuf_printf(b,
		    "flows: %" PRIu64 " tracked, %" PRIu64 " evicted (capacity %u), %" PRIu64
		    " port reuses, %" PRIu64 " segments on other ports\n",
		    re->flows->created, re->flows->evicted, re->flows->capacity, re->flows->reused,
		    re->flows->filtered);
	if (re->flows->time_jumps) {
		fmt_time_jump(b, re->flows);
		if (re->flows->jumps_sustained)
			sbuf_puts(b, ": it lasted, so the times after it are the capture's and the "
				     "connections before it ended there; connections after it are "
				     "marked [after time jump]\n");
		else
			sbuf_puts(b, ": nothing expired for it; connections after it are marked "
				     "[after time jump]\n");
	}
	sbuf_printf(b, "lost events: %" PRIu64 "\n", re->src->lost);
	if (re->src->ncounters) {
		sbuf_puts(b, "source counters:");
		for (int i = 0; i < re->src->ncounters; i++)
			sbuf_printf(b, "%s %s %" PRIu64, i ? "," : "", re->src->counters[i].name,
				    re->src->counters[i].value);
		sbuf_putc(b, '\n');
	}
	if (re->src->read_error[0])
		sbuf_printf(b, "input ended early: %s\n", re->src->read_error);
	if (ri->cut)
		sbuf_printf(b, "cut: %s\n", ri->cut);
	fwrite(sbuf_str(b), 1, b->len, s->out);
	fflush(s->out);
}

static void text_free(struct lt_sink *s)
{
	struct text_sink *ts = (struct text_sink *)s;
	sbuf_release(&ts->line);
	sink_batch_release(&ts->batch);
	sbuf_release(&ts->cl);
	sbuf_release(&ts->sv);
	sbuf_release(&ts->rest);
	sink_sort_release(&ts->sorted);
	free(ts);
}

static const struct lt_sink_ops text_ops = {
	.begin = text_begin,
	.conn = text_conn,
	.end = text_end,
	.free = text_free,
	.flush = text_flush,
};

struct lt_sink *sink_text_open(FILE *out, const struct lt_sink_cfg *cfg)
{
	struct text_sink *ts = calloc(1, sizeof(*ts));
	if (!ts)
		return NULL;
	ts->base.ops = &text_ops;
	ts->base.out = out;
	if (cfg)
		ts->cfg = *cfg;
	sbuf_init(&ts->line, 1u << 20);
	sink_batch_init(&ts->batch, out, ts->cfg.batch);
	sbuf_init(&ts->cl, 1u << 10);
	sbuf_init(&ts->sv, 1u << 10);
	sbuf_init(&ts->rest, 1u << 20);
	sink_sort_init(&ts->sorted);
	fmt_clock_init(&ts->clock);
	ts->ep_w = EP_MIN_WIDTH;
	ts->first_day = -1;
	time_t now = time(NULL);
	struct tm tm;
	ts->today = localtime_r(&now, &tm) ? fmt_tm_day(&tm) : -1;
	sink_buffer_output(out);
	return &ts->base;
}

struct lt_sink *sink_text_new(FILE *out)
{
	return sink_text_open(out, NULL);
}
