/* SPDX-License-Identifier: MIT */
/*
 * fmt.h - how lotrace writes addresses, times, durations and timelines.
 *
 * Shared by every output (text, JSON, report, TUI) so a connection reads
 * the same everywhere. Times are local time as tcpdump prints them (set
 * TZ=UTC for UTC); durations pick a unit: 15us, 1.20ms, 2.03s.
 */
#ifndef LT_FMT_H
#define LT_FMT_H

#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "hist.h"
#include "sbuf.h"

#define FMT_ADDR_LEN 48
#define FMT_EP_LEN 56
#define FMT_TIME_LEN 40

/* "127.0.0.1" or "::1" */
char *fmt_addr(char out[FMT_ADDR_LEN], uint8_t family, const uint8_t addr[16]);
/* "127.0.0.1:61900" or "[::1]:61900" */
char *fmt_endpoint(char out[FMT_EP_LEN], uint8_t family, const struct lt_endpoint *e);
/* "12:00:00.123456" (with_date: "2024-05-01 12:00:00.123456") */
char *fmt_time(char out[FMT_TIME_LEN], uint64_t ts_ns, int with_date);
/* "2024-05-01T12:00:00.123456Z" */
char *fmt_time_iso(char out[FMT_TIME_LEN], uint64_t ts_ns);
/* "15us", "1.20ms", "2.03s"; negative: "-" */
char *fmt_dur(char out[24], int64_t ns);
/* A replay speed: "instant" (0), "1x", "10x", "0.5x" */
char *fmt_speed(char out[24], double speed);

/* Compact timeline: "S> SA<@42us A>@55us D>27B@60us F>@1.20ms F<@1.30ms" */
void fmt_timeline(struct sbuf *b, const struct flow *f);
/* One short label per timeline entry kind and direction: "SA<" */
void fmt_tl_label(struct sbuf *b, const struct lt_tl_entry *e);
/* A latency histogram as "p50<sep>p99<sep>max", e.g. "15us/40us/1.20ms"
 * (sep "/") or "15us / 40us / 1.20ms"; empty: "-". */
void fmt_lat3(struct sbuf *b, const struct hist *h, const char *sep);
/* "1.2kB" style byte counts */
char *fmt_bytes(char out[24], uint64_t n);

/*
 * The same, appended to an sbuf without printf (the per-connection hot
 * path). Times go through a per-output cache: the calendar part is
 * recomputed only when the second changes.
 */
struct fmt_clock {
	int64_t sec; /* the second head[] holds, or INT64_MIN */
	int kind;    /* which pattern head[] holds */
	int day;     /* that second's calendar day (fmt_tm_day), -1 unknown */
	size_t len;
	char head[40];
};
void fmt_clock_init(struct fmt_clock *c);
/* fmt_time into b; with_date as fmt_time */
void fmt_time_sb(struct sbuf *b, struct fmt_clock *c, uint64_t ts_ns, int with_date);
/* The local calendar day of ts (a key: equal days, equal keys). */
int fmt_clock_day(struct fmt_clock *c, uint64_t ts_ns);
struct tm;
int fmt_tm_day(const struct tm *tm);
/* fmt_time_iso into b */
void fmt_time_iso_sb(struct sbuf *b, struct fmt_clock *c, uint64_t ts_ns);
/* The same into reserved room (sbuf.h's put appenders): stores at most
 * FMT_TIME_ISO_MAX bytes past p, returns the end of what it wrote. */
#define FMT_TIME_ISO_MAX (sizeof(((struct fmt_clock *)0)->head) + 8)
char *fmt_put_time_iso(char *p, struct fmt_clock *c, uint64_t ts_ns);
/* fmt_dur / fmt_bytes into b */
void fmt_dur_sb(struct sbuf *b, int64_t ns);
/* "capture time jumped by +78.4 years at frame 120 (2 jumps)"; nothing
 * when c->time_jumps is 0 */
void fmt_time_jump(struct sbuf *b, const struct flow_counters *c);
void fmt_bytes_sb(struct sbuf *b, uint64_t n);

#endif
