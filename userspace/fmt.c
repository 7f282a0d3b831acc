/* SPDX-License-Identifier: MIT */
/* fmt.c - addresses, times, durations and compact timelines as text. */
#include "fmt.h"
#include "inline.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <time.h>

char *fmt_addr(char out[FMT_ADDR_LEN], uint8_t family, const uint8_t addr[16])
{
	if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, out, FMT_ADDR_LEN))
		snprintf(out, FMT_ADDR_LEN, "?");
	return out;
}

char *fmt_endpoint(char out[FMT_EP_LEN], uint8_t family, const struct lt_endpoint *e)
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
static char *fmt_stamp(char out[FMT_TIME_LEN], uint64_t ts_ns, const char *pattern, int utc,
		       const char *suffix)
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
	return fmt_stamp(out, ts_ns, with_date ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S", 0, "");
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

char *fmt_speed(char out[24], double speed)
{
	if (speed <= 0)
		snprintf(out, 24, "instant");
	else if (speed == (double)(long)speed)
		snprintf(out, 24, "%ldx", (long)speed);
	else
		snprintf(out, 24, "%gx", speed);
	return out;
}

/* fmt_dur_sb(ns) for 0 <= ns < 1 s at p (at most 10 bytes, SBUF_U64_MAX of
 * slack for the number's store); NULL for 1 s and more (what was written
 * past p is garbage, not committed). */
LT_INLINE char *put_dur_fast(char *p, uint64_t ns)
{
	if (ns < 1000) {
		p = sbuf_put_u64(p, ns);
		*p++ = 'n';
	} else if (ns < 1000000) {
		p = sbuf_put_u64(p, ns / 1000);
		*p++ = 'u';
	} else if (ns < 1000000000) {
		/* printf's "%.2f" of d = ns / 1e6 rounds d: at a true decimal
		 * tie (ns ends in 5000) up when d lies above it, down below, to
		 * even on it, as sbuf_fixed decides (fma gives d * 1e6 - ns
		 * exactly); a capture's microsecond stamps make one ms-range
		 * duration in ten a tie */
		uint64_t q = ns / 10000, r = ns % 10000;
		if (r == 5000) {
			double d = (double)ns / 1e6, above = fma(d, 1e6, -(double)ns);
			q += above > 0 || (above == 0 && (q & 1));
		} else {
			q += r > 5000;
		}
		p = sbuf_put_u64(p, q / 100);
		*p++ = '.';
		p = sbuf_put(p, sbuf_digit_pairs + 2 * (q % 100), 2);
		*p++ = 'm';
	} else {
		return NULL;
	}
	*p++ = 's';
	return p;
}

void fmt_dur_sb(struct sbuf *b, int64_t ns)
{
	if (ns >= 0 && ns < 1000000000) { /* the usual case: one reservation */
		char *p = sbuf_room_try(b, 10 + SBUF_U64_MAX);
		if (p) {
			sbuf_commit(b, (size_t)(put_dur_fast(p, (uint64_t)ns) - p));
			return;
		}
		/* near the cap: maybe the pieces fit */
	}
	if (ns < 0) {
		sbuf_putc(b, '-');
	} else if (ns < 1000) {
		sbuf_u64(b, (uint64_t)ns);
		sbuf_lit(b, "ns");
	} else if (ns < 1000000) {
		sbuf_u64(b, (uint64_t)ns / 1000u);
		sbuf_lit(b, "us");
	} else if (ns < 1000000000) {
		sbuf_fixed(b, (uint64_t)ns, 6, 2);
		sbuf_lit(b, "ms");
	} else if (ns < 100000000000ll) {
		sbuf_fixed(b, (uint64_t)ns, 9, 2);
		sbuf_putc(b, 's');
	} else {
		sbuf_fixed(b, (uint64_t)ns, 9, 0);
		sbuf_putc(b, 's');
	}
}

void fmt_time_jump(struct sbuf *b, const struct flow_counters *c)
{
	int64_t by = c->jump_first_ns;
	uint64_t a = by < 0 ? (uint64_t)0 - (uint64_t)by : (uint64_t)by;
	const uint64_t day = 86400ull * 1000000000ull;

	if (!c->time_jumps)
		return;
	sbuf_printf(b, "capture time jumped by %c", by < 0 ? '-' : '+');
	if (a >= 365 * day)
		sbuf_printf(b, "%.1f years", (double)a / (365.25 * (double)day));
	else if (a >= 2 * day)
		sbuf_printf(b, "%.1f days", (double)a / (double)day);
	else
		fmt_dur_sb(b, (int64_t)a);
	if (c->jump_first_frame)
		sbuf_printf(b, " at frame %" PRIu64, c->jump_first_frame);
	if (c->time_jumps > 1)
		sbuf_printf(b, " (%" PRIu64 " jumps)", c->time_jumps);
}

void fmt_bytes_sb(struct sbuf *b, uint64_t n)
{
	if (n < 10000) {
		sbuf_u64(b, n);
		sbuf_putc(b, 'B');
	} else if (n < 10000000) {
		sbuf_fixed(b, n, 3, 1);
		sbuf_lit(b, "kB");
	} else if (n < 10000000000ull) {
		sbuf_fixed(b, n, 6, 1);
		sbuf_lit(b, "MB");
	} else {
		sbuf_fixed(b, n, 9, 1);
		sbuf_lit(b, "GB");
	}
}

void fmt_clock_init(struct fmt_clock *c)
{
	c->sec = INT64_MIN;
	c->kind = -1;
	c->len = 0;
	c->day = -1;
	c->head[0] = '\0';
}

int fmt_tm_day(const struct tm *tm)
{
	return tm->tm_year * 400 + tm->tm_yday;
}

/* head = strftime(pattern) of sec (local or UTC), cached per second. */
static void clock_head(struct fmt_clock *c, int64_t sec, int kind, const char *pattern, int utc)
{
	if (c->sec == sec && c->kind == kind)
		return;
	time_t t = (time_t)sec;
	struct tm tm;
	c->sec = sec;
	c->kind = kind;
	if (!(utc ? gmtime_r(&t, &tm) : localtime_r(&t, &tm))) {
		c->len = 0;
		c->kind = -1; /* "?" below, and try again next time */
		c->day = -1;
		return;
	}
	c->day = fmt_tm_day(&tm);
	c->len = strftime(c->head, sizeof(c->head), pattern, &tm);
}

/* The head of c, '.', and us as six digits; stores at most
 * CLOCK_STAMP_MAX bytes past p (the whole head array: a copy of a fixed
 * size is a few moves), returns the end of what it wrote. */
#define CLOCK_STAMP_MAX (sizeof(((struct fmt_clock *)0)->head) + 7)
static inline char *put_stamp(char *p, const struct fmt_clock *c, uint32_t us)
{
	memcpy(p, c->head, sizeof(c->head));
	p += c->len;
	*p++ = '.';
	p = sbuf_put(p, sbuf_digit_pairs + 2 * (us / 10000), 2);
	p = sbuf_put(p, sbuf_digit_pairs + 2 * (us / 100 % 100), 2);
	return sbuf_put(p, sbuf_digit_pairs + 2 * (us % 100), 2);
}

static void clock_stamp(struct sbuf *b, struct fmt_clock *c, uint64_t ts_ns, int kind,
			const char *pattern, int utc)
{
	clock_head(c, (int64_t)(ts_ns / 1000000000ull), kind, pattern, utc);
	if (c->kind < 0) {
		sbuf_putc(b, '?');
		return;
	}
	uint32_t us = (uint32_t)(ts_ns % 1000000000ull / 1000u);
	char *p = sbuf_room_try(b, CLOCK_STAMP_MAX);
	if (p) { /* the usual case: head, '.', three digit pairs in one go */
		sbuf_commit(b, (size_t)(put_stamp(p, c, us) - p));
		return;
	}
	/* near the cap: maybe the pieces fit */
	sbuf_add(b, c->head, c->len);
	sbuf_putc(b, '.');
	sbuf_u64_zpad(b, us, 6);
}

int fmt_clock_day(struct fmt_clock *c, uint64_t ts_ns)
{
	clock_head(c, (int64_t)(ts_ns / 1000000000ull), 0, "%H:%M:%S", 0);
	return c->day;
}

void fmt_time_sb(struct sbuf *b, struct fmt_clock *c, uint64_t ts_ns, int with_date)
{
	clock_stamp(b, c, ts_ns, with_date ? 1 : 0, with_date ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S",
		    0);
}

void fmt_time_iso_sb(struct sbuf *b, struct fmt_clock *c, uint64_t ts_ns)
{
	clock_stamp(b, c, ts_ns, 2, "%Y-%m-%dT%H:%M:%S", 1);
	if (c->kind >= 0)
		sbuf_putc(b, 'Z');
}

char *fmt_put_time_iso(char *p, struct fmt_clock *c, uint64_t ts_ns)
{
	clock_head(c, (int64_t)(ts_ns / 1000000000ull), 2, "%Y-%m-%dT%H:%M:%S", 1);
	if (c->kind < 0) {
		*p = '?';
		return p + 1;
	}
	p = put_stamp(p, c, (uint32_t)(ts_ns % 1000000000ull / 1000u));
	*p++ = 'Z';
	return p;
}

static const char *const tl_short_name[LT_TL_KIND_COUNT] = {
	[LT_TL_SYN] = "S", [LT_TL_SYNACK] = "SA", [LT_TL_ACK] = "A",  [LT_TL_DATA] = "D",
	[LT_TL_FIN] = "F", [LT_TL_RST] = "R",	  [LT_TL_DROP] = "X",
};

void fmt_tl_label(struct sbuf *b, const struct lt_tl_entry *e)
{
	const char *name = e->kind < LT_TL_KIND_COUNT ? tl_short_name[e->kind] : "?";

	sbuf_puts(b, name);
	sbuf_putc(b, e->dir == LT_DIR_C2S ? '>' : '<');
	if (e->kind == LT_TL_DATA) {
		if (e->count > 1) {
			sbuf_u64(b, e->count);
			sbuf_putc(b, 'x');
		}
		fmt_bytes_sb(b, e->bytes);
	} else if (e->count > 1) {
		sbuf_putc(b, 'x');
		sbuf_u64(b, e->count);
	}
}

/* ---- the timeline's fast path -------------------------------------------
 * The timeline is most of a text line (a dozen entries per connection),
 * so its common entries are written through a local pointer into room
 * reserved once for the whole run of them: small counts and byte totals,
 * durations below a second (put_dur_fast). Anything else goes
 * through fmt_tl_label and fmt_dur_sb, which the output of this path
 * equals byte for byte (unit-tested). */

/* The most one entry takes on the fast path, slack of the last number's
 * store included (SBUF_U64_MAX): " SA>" 4, count 7 and 'x', bytes 4 and
 * 'B', "@999.99ms" 9. */
#define TL_ENTRY_ROOM 64

/* One entry (label and, after t0, "@duration") at p; the end, or NULL
 * when it needs the general path. */
static char *tl_entry_fast(char *p, const struct lt_tl_entry *e, uint64_t t0)
{
	if (e->kind >= LT_TL_KIND_COUNT || e->count > 1000000 ||
	    (e->kind == LT_TL_DATA && e->bytes >= 10000))
		return NULL;
	const char *name = tl_short_name[e->kind];
	*p++ = name[0];
	if (name[1])
		*p++ = name[1];
	*p++ = e->dir == LT_DIR_C2S ? '>' : '<';
	if (e->kind == LT_TL_DATA) {
		if (e->count > 1) {
			p = sbuf_put_u64(p, e->count);
			*p++ = 'x';
		}
		p = sbuf_put_u64(p, e->bytes);
		*p++ = 'B';
	} else if (e->count > 1) {
		*p++ = 'x';
		p = sbuf_put_u64(p, e->count);
	}
	if (e->t_ns > t0) {
		*p++ = '@';
		p = put_dur_fast(p, e->t_ns - t0);
	}
	return p;
}

/* Entries i.. written by the fast path while they take it, through one
 * reservation; the index of the first one not written. */
static unsigned tl_run_fast(struct sbuf *b, const struct flow *f, unsigned i)
{
	char *start = sbuf_room_try(b, (size_t)(f->tl_len - i) * TL_ENTRY_ROOM), *p = start;
	if (!p)
		return i; /* near the cap: the general path says */
	for (; i < f->tl_len; i++) {
		if (i == LT_TIMELINE_MAX - 1 && f->tl_omitted)
			break;
		char *q = p;
		if (i)
			*q++ = ' ';
		q = tl_entry_fast(q, &f->tl[i], f->t_first);
		if (!q)
			break;
		p = q;
	}
	sbuf_commit(b, (size_t)(p - start));
	return i;
}

void fmt_timeline(struct sbuf *b, const struct flow *f)
{
	for (unsigned i = tl_run_fast(b, f, 0); i < f->tl_len; i = tl_run_fast(b, f, i + 1)) {
		const struct lt_tl_entry *e = &f->tl[i];
		if (i)
			sbuf_putc(b, ' ');
		if (i == LT_TIMELINE_MAX - 1 && f->tl_omitted) {
			sbuf_lit(b, "..");
			sbuf_u64(b, f->tl_omitted);
			sbuf_lit(b, ".. ");
		}
		fmt_tl_label(b, e);
		if (e->t_ns > f->t_first) {
			sbuf_putc(b, '@');
			fmt_dur_sb(b, (int64_t)(e->t_ns - f->t_first));
		}
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
		    fmt_dur(c, (int64_t)hist_percentile(h, 99)), sep, fmt_dur(d, (int64_t)h->max));
}
