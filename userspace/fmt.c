/* SPDX-License-Identifier: MIT */
/* fmt.c - addresses, times, durations and compact timelines as text. */
#include "fmt.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <time.h>

char *fmt_addr(char out[FMT_ADDR_LEN], uint8_t family, const uint8_t addr[16])
{
	if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, out, FMT_ADDR_LEN))
		snprintf(out, FMT_ADDR_LEN, "?");
	return out;
}

char *fmt_endpoint(char out[FMT_EP_LEN], uint8_t family,
		   const struct lt_endpoint *e)
{
	char a[FMT_ADDR_LEN];
	fmt_addr(a, family, e->addr);
	if (family == 6)
		snprintf(out, FMT_EP_LEN, "[%s]:%u", a, e->port);
	else
		snprintf(out, FMT_EP_LEN, "%s:%u", a, e->port);
	return out;
}

/* ts_ns as strftime(pattern) plus ".uuuuuu" and suffix, local or UTC. */
static char *fmt_stamp(char out[FMT_TIME_LEN], uint64_t ts_ns, const char *pattern,
		       int utc, const char *suffix)
{
	time_t sec = (time_t)(ts_ns / 1000000000ull);
	unsigned usec = (unsigned)(ts_ns % 1000000000ull / 1000u);
	struct tm tm;
	char head[32];

	if (!(utc ? gmtime_r(&sec, &tm) : localtime_r(&sec, &tm))) {
		snprintf(out, FMT_TIME_LEN, "?");
		return out;
	}
	strftime(head, sizeof(head), pattern, &tm);
	snprintf(out, FMT_TIME_LEN, "%s.%06u%s", head, usec, suffix);
	return out;
}

char *fmt_time(char out[FMT_TIME_LEN], uint64_t ts_ns, int with_date)
{
	return fmt_stamp(out, ts_ns, with_date ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S",
			 0, "");
}

char *fmt_time_iso(char out[FMT_TIME_LEN], uint64_t ts_ns)
{
	return fmt_stamp(out, ts_ns, "%Y-%m-%dT%H:%M:%S", 1, "Z");
}

char *fmt_dur(char out[24], int64_t ns)
{
	if (ns < 0)
		snprintf(out, 24, "-");
	else if (ns < 1000)
		snprintf(out, 24, "%lldns", (long long)ns);
	else if (ns < 1000000)
		snprintf(out, 24, "%lldus", (long long)(ns / 1000));
	else if (ns < 1000000000)
		snprintf(out, 24, "%.2fms", (double)ns / 1e6);
	else if (ns < 100000000000ll)
		snprintf(out, 24, "%.2fs", (double)ns / 1e9);
	else
		snprintf(out, 24, "%.0fs", (double)ns / 1e9);
	return out;
}

char *fmt_bytes(char out[24], uint64_t n)
{
	if (n < 10000)
		snprintf(out, 24, "%lluB", (unsigned long long)n);
	else if (n < 10000000)
		snprintf(out, 24, "%.1fkB", (double)n / 1e3);
	else if (n < 10000000000ull)
		snprintf(out, 24, "%.1fMB", (double)n / 1e6);
	else
		snprintf(out, 24, "%.1fGB", (double)n / 1e9);
	return out;
}

void fmt_tl_label(struct sbuf *b, const struct lt_tl_entry *e)
{
	static const char *const short_name[LT_TL_KIND_COUNT] = {
		[LT_TL_SYN] = "S", [LT_TL_SYNACK] = "SA", [LT_TL_ACK] = "A",
		[LT_TL_DATA] = "D", [LT_TL_FIN] = "F", [LT_TL_RST] = "R",
		[LT_TL_DROP] = "X",
	};
	const char *name = e->kind < LT_TL_KIND_COUNT ? short_name[e->kind] : "?";

	sbuf_puts(b, name);
	sbuf_putc(b, e->dir == LT_DIR_C2S ? '>' : '<');
	if (e->kind == LT_TL_DATA) {
		char by[24];
		if (e->count > 1)
			sbuf_printf(b, "%ux", e->count);
		sbuf_puts(b, fmt_bytes(by, e->bytes));
	} else if (e->count > 1) {
		sbuf_printf(b, "x%u", e->count);
	}
}

void fmt_timeline(struct sbuf *b, const struct flow *f)
{
	for (unsigned i = 0; i < f->tl_len; i++) {
		const struct lt_tl_entry *e = &f->tl[i];
		char d[24];
		if (i)
			sbuf_putc(b, ' ');
		if (i == LT_TIMELINE_MAX - 1 && f->tl_omitted)
			sbuf_printf(b, "..%u.. ", f->tl_omitted);
		fmt_tl_label(b, e);
		if (e->t_ns > f->t_first)
			sbuf_printf(b, "@%s", fmt_dur(d, (int64_t)(e->t_ns - f->t_first)));
	}
}

void fmt_lat3(struct sbuf *b, const struct hist *h, const char *sep)
{
	char a[24], c[24], d[24];
	if (!h->count) {
		sbuf_puts(b, "-");
		return;
	}
	sbuf_printf(b, "%s%s%s%s%s", fmt_dur(a, (int64_t)hist_percentile(h, 50)), sep,
		    fmt_dur(c, (int64_t)hist_percentile(h, 99)), sep,
		    fmt_dur(d, (int64_t)h->max));
}
