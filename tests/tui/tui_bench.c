/* SPDX-License-Identifier: MIT */
/*
 * tui_bench.c - how long the TUI takes from a keypress to a finished
 * redraw with many connections: build/tests/tui_bench [N] (a test
 * program, not part of lotrace; tests/tui/bench-tui.sh runs it).
 *
 * Drives the TUI's own application (tui_app.h) without a source: a real
 * engine holding N synthetic connections (all still in the flow table:
 * closed, refused, unanswered and reset ones), curses on /dev/null at
 * LOTRACE_TUI_BENCH_SIZE (default 120x40), then a fixed mix of keys
 * (moves, pages, sorts, details, help, a typed filter, a search), each
 * followed by the same frame the loop draws: sync of the active flows,
 * rebuild when asked, draw, doupdate. Prints one line:
 *   tui: N conns, keypress->redraw p50=.. p99=.. max=.. ms (K keys, WxH)
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curses.h>

#include "obs.h"
#include "opts.h"
#include "tui_app.h"

#define BENCH_T0 1700000000000000000ull

static void seg(struct tui_app *e, uint64_t ts, const struct lt_endpoint *src,
		const struct lt_endpoint *dst, uint8_t flags, uint32_t seq, uint32_t ack,
		uint32_t len)
{
	struct lt_obs o;
	memset(&o, 0, sizeof(o));
	o.ts_ns = ts;
	o.kind = LT_OBS_SEGMENT;
	o.family = 4;
	o.tcp_flags = flags;
	o.src = *src;
	o.dst = *dst;
	o.seq = seq;
	o.ack = ack;
	o.window = 65483;
	o.mss = (flags & LT_TCP_SYN) ? 65495 : 0;
	o.payload_len = len;
	o.pid = -1;
	tui_app_feed(e, &o);
}

/* One connection of kind i % 10: 6 closed, 2 refused, 1 unanswered, 1 reset. */
static void one_conn(struct tui_app *e, long i, uint16_t port)
{
	struct lt_endpoint c = { .port = (uint16_t)(2000 + i % 60000) };
	struct lt_endpoint s = { .port = port };
	uint64_t t = BENCH_T0 + (uint64_t)i * 10000u;
	uint32_t cs = (uint32_t)i * 7919u, ss = (uint32_t)i * 104729u;
	uint32_t a = htonl(0x7f000001u + (uint32_t)(i / 60000));
	uint32_t b = htonl(0x7f000001u);
	memcpy(c.addr, &a, 4);
	memcpy(s.addr, &b, 4);

	seg(e, t, &c, &s, LT_TCP_SYN, cs, 0, 0);
	switch (i % 10) {
	case 6:
	case 7:
		seg(e, t + 1000, &s, &c, LT_TCP_RST | LT_TCP_ACK, 0, cs + 1, 0);
		return;
	case 8:
		return;
	default:
		break;
	}
	seg(e, t + 1000 + (uint64_t)(i % 37) * 100, &s, &c, LT_TCP_SYN | LT_TCP_ACK, ss, cs + 1, 0);
	seg(e, t + 5000, &c, &s, LT_TCP_ACK, cs + 1, ss + 1, 0);
	seg(e, t + 6000, &c, &s, LT_TCP_PSH | LT_TCP_ACK, cs + 1, ss + 1, 100);
	if (i % 10 == 9) {
		seg(e, t + 7000, &s, &c, LT_TCP_RST | LT_TCP_ACK, ss + 1, cs + 101, 0);
		return;
	}
	seg(e, t + 7000, &s, &c, LT_TCP_PSH | LT_TCP_ACK, ss + 1, cs + 101, 200);
	seg(e, t + 8000, &c, &s, LT_TCP_FIN | LT_TCP_ACK, cs + 101, ss + 201, 0);
	seg(e, t + 9000, &s, &c, LT_TCP_FIN | LT_TCP_ACK, ss + 201, cs + 102, 0);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

#define CTRL_U 21
static const int bench_keys[] = {
	'j',  'j',  'j',  'k',	  KEY_NPAGE, KEY_NPAGE, KEY_PPAGE, KEY_END, KEY_HOME, 's',
	's',  's',  's',  '\r',	  'j',	     'j',	27,	   '\\',    'r',      'e',
	'f',  'u',  's',  'e',	  'd',	     '\r',	'j',	   KEY_END, '\\',     CTRL_U,
	'\r', '?',  '?',  'p',	  'p',	     '\\',	'6',	   '1',	    '9',      '0',
	'1',  '\r', '\\', CTRL_U, '\r',	     KEY_HOME,	'/',	   'r',	    'e',      's',
	'e',  't',  '\r', 'n',	  'n',	     'N',
};

int main(int argc, char **argv)
{
	static struct lt_opts o; /* defaults: every port */
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
	int rows = 40, cols = 120, nkeys = 460;
	const char *size = getenv("LOTRACE_TUI_BENCH_SIZE");
	uint64_t *lat;

	if (n <= 0)
		n = 100000;
	if (size)
		sscanf(size, "%dx%d", &cols, &rows);
	struct tui_app *a = tui_app_new_bench(&o, (uint32_t)n + 1024, n > 131072 ? (uint32_t)n : 0);
	if (!a) {
		fprintf(stderr, "tui_bench: out of memory for %ld connections\n", n);
		return 1;
	}
	struct tui_app *e = a;
	uint64_t t0 = mono_ns();
	for (long i = 0; i < n; i++)
		one_conn(e, i, (uint16_t)(61900 + i % 3));
	uint64_t load_ns = mono_ns() - t0;
	tui_app_set_now(a, BENCH_T0 + (uint64_t)n * 10000u + 2000000000ull);

	FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
	lat = calloc((size_t)nkeys, sizeof(*lat));
	if (!out || !in || !lat || tui_app_start(a, out, in, cols, rows) < 0) {
		fprintf(stderr, "tui_bench: cannot start curses\n");
		return 1;
	}
	tui_app_frame(a, 1 | 2, 0);

	/* a full data frame: sync every active flow, rebuild, draw */
	uint64_t f0 = mono_ns();
	tui_app_frame(a, 0, 1);
	uint64_t full_ns = mono_ns() - f0;

	for (int k = 0; k < nkeys; k++) {
		int ch = bench_keys[k % (int)(sizeof(bench_keys) / sizeof(bench_keys[0]))];
		uint64_t t = mono_ns();
		int flags = tui_app_key(a, ch);
		tui_app_frame(a, flags | 1, 0);
		lat[k] = mono_ns() - t;
	}
	uint64_t shown = tui_app_rows(a);
	tui_app_free(a);
	fclose(out);
	fclose(in);

	qsort(lat, (size_t)nkeys, sizeof(*lat), cmp_u64);
	printf("tui: %ld conns, keypress->redraw p50=%.2f p99=%.2f max=%.2f ms "
	       "(%d keys, %dx%d; load %.0f ms, full refresh %.2f ms, %llu in the list)\n",
	       n, (double)lat[nkeys / 2] / 1e6, (double)lat[nkeys * 99 / 100] / 1e6,
	       (double)lat[nkeys - 1] / 1e6, nkeys, cols, rows, (double)load_ns / 1e6,
	       (double)full_ns / 1e6, (unsigned long long)shown);
	free(lat);
	return 0;
}
