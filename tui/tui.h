/* SPDX-License-Identifier: MIT */
/*
 * tui.h - the state of the full-screen view, shared by the tui/ modules.
 *
 * The TUI is a pure view over the engine (STYLE items 11-13): it registers
 * an observer (conn_log.c) that copies connections as they change and
 * retire, syncs the copies of active flows from flow_foreach before each
 * frame, and draws only from those copies. It never modifies a flow.
 *
 * Modules, each owning one thing:
 *   tui.c         curses up and down, stderr capture, the poll() loop
 *   tui_play.c    paced replay of a capture file (--speed, + and -)
 *   conn_log.c    the bounded log of rows, keyed by flow id; counters
 *   tui_view.c    filter, sort and selection over the log (the list model)
 *   tui_draw.c    colours, glyph sets, column-aware string output
 *   view_header.c the header lines; view_conns.c the list;
 *   view_detail.c the detail pane; view_help.c the help screen
 *   keys.c        the key table and its actions
 *   tui_pcap.c    writing connections as a synthetic pcap
 *   tui_bench.c   LOTRACE_TUI_BENCH: keypress-to-redraw timing
 * tui/ includes userspace/ headers, never the reverse.
 */
#ifndef LT_TUI_H
#define LT_TUI_H

#include <stdint.h>

#include "conn_log.h"
#include "engine.h"
#include "listeners.h"
#include "opts.h"
#include "sink.h"
#include "source.h"
#include "tui_play.h"

/* What a key action asks of the loop (htop's reaction flags). */
enum {
	TUI_REDRAW = 1 << 0, /* draw the screen again */
	TUI_RESORT = 1 << 1, /* rebuild the list: filter, sort, selection */
	TUI_QUIT = 1 << 2,   /* leave the loop */
};

enum tui_mode {
	TUI_M_LIST = 0,
	TUI_M_DETAIL,
	TUI_M_HELP,
	TUI_M_FILTER,
};

enum tui_sort {
	TUI_SORT_TIME = 0, /* newest first */
	TUI_SORT_VERDICT,  /* worst first, then newest */
	TUI_SORT_LATENCY,  /* slowest handshake first */
	TUI_SORT_PORT,     /* server port, then newest */
	TUI_SORT_COUNT,
};

#define TUI_FILTER_LEN 96
#define TUI_MAX_LISTENERS 32
#define TUI_RATE_SAMPLES 16

/* The list as shown: log slots in display order, and the selection. */
struct tui_view {
	uint64_t *id;        /* flow ids of the rows, in display order */
	uint32_t n, alloc;
	uint64_t log_gen;    /* conn_log generation it was built from */
	uint64_t sel_id;     /* flow id of the selected row, 0 none */
	uint32_t sel;        /* its index in slot[] */
	uint32_t top;        /* first index shown */
	int follow;          /* selection sticks to the newest row */
	int rows;            /* rows of the list area, as last drawn */
	enum tui_sort sort;
	char filter[TUI_FILTER_LEN]; /* as typed */
};

/* Glyphs: UTF-8 when the locale has it, ASCII otherwise. */
struct tui_glyphs {
	int utf8;
	const char *sep;        /* between timeline steps: "▸" */
	const char *to;         /* client to server: "→" */
	const char *head_r;     /* arrow heads in the ladder */
	const char *head_l;
	const char *hline, *vline;
	const char *times;      /* "×" */
	const char *ellipsis;
	const char *spark[8];   /* lowest to highest */
};

struct tui_rate_sample {
	uint64_t t_ns;
	uint64_t created;
};

struct tui {
	const struct lt_opts *o;
	struct engine eng;
	struct lt_source *src;
	struct lt_run_info ri;
	char note[LT_ERR_LEN];
	int live;                /* a live source (fd to poll) */
	int capturing;           /* still reading the source */
	int bench;               /* synthetic data, no source */
	int keys_tty;            /* stdin is a terminal: read keys from it */
	struct tui_play play;    /* replays only */
	struct report *rep;
	uint64_t start_mono;
	uint64_t now;            /* the source's clock, for verdicts */
	uint64_t last_sync_mono; /* when conn_log_sync last ran */

	struct conn_log log;
	struct tui_view view;
	enum tui_mode mode;
	char filter_saved[TUI_FILTER_LEN]; /* to restore on Esc */
	int detail_scroll;
	int help_scroll;
	int paused;

	int color;               /* colours on (not NO_COLOR, has_colors) */
	const struct tui_glyphs *g;

	/* header data */
	struct listener lis[TUI_MAX_LISTENERS];
	int nlis;                /* may exceed TUI_MAX_LISTENERS */
	int lis_err;             /* negative errno of the last query */
	int lis_queried;
	uint64_t lis_next_mono;
	struct lt_source_stats ss;
	struct tui_rate_sample rate[TUI_RATE_SAMPLES];
	int nrate, rate_pos;
	uint64_t rate_next;

	/* the status line: a message for a few seconds */
	char msg[256];
	int msg_bad;
	uint64_t msg_until_mono;
	char stopped_why[LT_ERR_LEN]; /* why capture ended early, "" */
	int exit_status;
};

/* tui.c */
uint64_t tui_mono_ns(void);
/* Show a message on the status line for a few seconds. */
void tui_message(struct tui *t, int bad, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Curses up (output to outfp, keys from infp; NULL: the terminal). */
int tui_curses_init(struct tui *t, FILE *outfp, FILE *infp);
/* Restore the terminal and replay captured stderr; safe to call twice. */
void tui_done(void);
/* Sync, rebuild what flags ask for, draw everything, doupdate. */
void tui_frame(struct tui *t, int flags);

/* tui_view.c */
int tui_view_rebuild(struct tui *t);
void tui_view_release(struct tui_view *v);
/* Move the selection by delta rows (clamped); keeps it visible. */
void tui_view_move(struct tui *t, long delta);
void tui_view_home(struct tui *t);
void tui_view_end(struct tui *t);
/* The selected row, or NULL. */
const struct tui_row *tui_view_selected(const struct tui *t);
const char *tui_sort_name(enum tui_sort s);
/* Keep view->top so the selection is visible in rows lines. */
void tui_view_scroll(struct tui_view *v, int rows);

/* keys.c */
/* Handle one key (a curses key code); returns TUI_* flags. */
int tui_key(struct tui *t, int ch);
/* The help text lines, NULL-terminated (view_help.c draws them). */
int tui_keys_help(char lines[][96], int max);

/* view_*.c: each draws its part of stdscr; y0/h are rows given to it. */
int tui_draw_header(struct tui *t, int y0, int w, int max_lines);
void tui_draw_conns(struct tui *t, int y0, int h, int w);
void tui_draw_detail(struct tui *t, int y0, int h, int w);
void tui_draw_help(struct tui *t, int y0, int h, int w);
/* The compact timeline of a row ("S▸SA▸A▸data▸F/F"). */
void tui_tl_glyphs(const struct tui *t, const struct flow *f, char *out,
		   size_t len, int spaced);
/* One or two sentences on what a verdict means for this connection. */
void tui_diagnosis(const struct tui *t, const struct tui_row *r, char *out,
		   size_t len);

/* tui_bench.c: LOTRACE_TUI_BENCH=N; returns the exit status. */
int tui_bench_main(const struct lt_opts *o, long n);

#endif
