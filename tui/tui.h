/* SPDX-License-Identifier: MIT */
/*
 * tui.h - what a frame draws: the snapshot (read-only) and the UI state.
 *
 * The TUI is built as htop is: an application loop (tui_app.c, the only
 * module that knows the run and the source) owns the run (run.h), keeps
 * the model (model.c) up to date as one of the run's taps, and before each
 * frame fills a struct tui_snap: the model plus read-only copies of the
 * counters, listeners and run facts the header shows. Views take that
 * const snapshot and the UI state and draw; keys change only the UI
 * state and ask the loop for the rest through TUI_CMD_* flags.
 *
 * Modules, each owning one thing:
 *   tui_app.c     drives the run (run.h) step by step, the poll() loop, commands
 *   term.c        curses up and down, stderr capture, the clock
 *   model.c       compact rows, detail copies, counters, latency
 *   tui_view.c    filter, search, sort and selection over the model
 *   frame.c       one frame: header, body by mode, status line
 *   view_header.c the header lines; view_conns.c the list;
 *   view_detail.c the detail pane; view_help.c the help screen
 *   keys.c        the key table and its actions
 *   tui_draw.c    colours, glyph sets, column-aware string output
 *   tui_pcap.c    writing connections as a synthetic pcap
 * Includes go one way: tui_app -> frame -> views -> tui.h -> model, tui_draw;
 * tui/ includes userspace/ headers, never the reverse.
 */
#ifndef LT_TUI_H
#define LT_TUI_H

#include <stdint.h>

#include "listeners.h"
#include "model.h"
#include "ports.h"
#include "tui_draw.h"

/* What a key asks of the loop (htop's reaction flags), and commands the
 * loop carries out because they need the run. */
enum {
	TUI_REDRAW = 1 << 0,	  /* draw the screen again */
	TUI_RESORT = 1 << 1,	  /* rebuild the list: filter, sort, selection */
	TUI_QUIT = 1 << 2,	  /* leave the loop */
	TUI_CMD_CLEAR = 1 << 3,	  /* forget the rows and counters */
	TUI_CMD_PCAP = 1 << 4,	  /* write the listed connections to a pcap */
	TUI_CMD_REPORT = 1 << 5,  /* write a report */
	TUI_CMD_FASTER = 1 << 6,  /* replay speed up */
	TUI_CMD_SLOWER = 1 << 7,  /* ... down */
	TUI_CMD_REFRESH = 1 << 8, /* repaint the whole terminal */
};

enum tui_mode {
	TUI_M_LIST = 0,
	TUI_M_DETAIL,
	TUI_M_HELP,
	TUI_M_FILTER, /* typing the filter */
	TUI_M_SEARCH, /* typing a search */
};

enum tui_sort {
	TUI_SORT_TIME = 0, /* newest first */
	TUI_SORT_VERDICT,  /* worst first, then newest */
	TUI_SORT_LATENCY,  /* slowest handshake first */
	TUI_SORT_PORT,	   /* server port, then newest */
	TUI_SORT_COUNT,
};

#define TUI_FILTER_LEN 96
#define TUI_MAX_LISTENERS 32
#define TUI_WHY_LEN 256

/* The list as shown: flow ids in display order, and the selection. */
struct tui_view {
	uint64_t *id; /* flow ids of the rows, in display order */
	uint32_t n, alloc;
	uint64_t model_gen; /* model generation it was built from */
	uint64_t sel_id;    /* flow id of the selected row, 0 none */
	uint32_t sel;	    /* its index in id[] */
	uint32_t top;	    /* first index shown */
	int follow;	    /* selection sticks to the newest row */
	int rows;	    /* rows of the list area, as last drawn */
	enum tui_sort sort;
	char filter[TUI_FILTER_LEN]; /* as typed */
	/* what the list was last built from */
	int built;
	enum tui_sort built_sort;
	char built_filter[TUI_FILTER_LEN];
};

/* What a frame shows, filled by the loop; views only read it. */
#define TUI_MAX_PROBLEMS 8
struct tui_snap {
	const struct tui_model *m;
	/* the run */
	const char *version;
	const char *backend;	  /* "ebpf", "pcap", "pcap-file", "bench" */
	const char *backend_note; /* why this backend, or NULL */
	const char *input;	  /* capture path or interface */
	const char *link_name;	  /* "EN10MB", or NULL */
	const struct ports *ports;
	int live;	   /* a live source */
	int bench;	   /* synthetic rows, no source */
	int capturing;	   /* still reading the source */
	int replay_done;   /* a replay reached the end of its file */
	double speed;	   /* replay speed, 0 instant */
	uint64_t now;	   /* the source's clock, for verdicts */
	uint64_t frame_ts; /* replay: capture time of the newest frame read, 0 none */
	/* copies of the counters, taken for this frame */
	uint64_t frames;       /* frames the source read */
	uint64_t lost;	       /* events lost by the source */
	uint64_t dec_problems; /* frames that did not decode */
	uint64_t evicted;      /* flows retired early: table full */
	uint64_t time_jumps;   /* capture time jumps (flow_counters) */
	/* the source's non-zero problem counters (map_full, truncated, ...) */
	struct tui_problem {
		const char *name; /* static, snake_case */
		uint64_t value;
	} problems[TUI_MAX_PROBLEMS];
	int nproblems;
	double rate; /* connections per second */
	/* who listens (live) */
	struct listener lis[TUI_MAX_LISTENERS];
	int nlis;    /* may exceed TUI_MAX_LISTENERS */
	int lis_err; /* negative errno of the last query */
	int lis_queried;
	const char *stopped_why; /* why capture ended early, or "" */
};

/* What the user has chosen: mode, list, scrolls, messages. */
struct tui_ui {
	struct tui_view view;
	enum tui_mode mode;
	char filter_saved[TUI_FILTER_LEN]; /* to restore on Esc */
	char search[TUI_FILTER_LEN];	   /* the last search, for n */
	int detail_scroll;
	int help_scroll;
	int paused;
	struct tui_look look;
	/* the status line: a message for a few seconds */
	char msg[256];
	int msg_bad;
	uint64_t msg_until_mono;
};

/* term.c */
uint64_t tui_mono_ns(void);
/* Show a message on the status line for a few seconds. */
void tui_message(struct tui_ui *ui, int bad, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* tui_view.c: the list over the model */
int tui_view_rebuild(struct tui_view *v, const struct tui_model *m);
void tui_view_release(struct tui_view *v);
/* Move the selection by delta rows (clamped); keeps it visible. */
void tui_view_move(struct tui_view *v, long delta);
void tui_view_home(struct tui_view *v);
void tui_view_end(struct tui_view *v);
/* Select the next row after the selection (dir 1) or before it (-1)
 * whose text contains every word of q; wraps. 1 found, 0 not. */
int tui_view_search(struct tui_view *v, const struct tui_model *m, const char *q, int dir);
/* The selected row, or NULL. */
const struct tui_row *tui_view_selected(const struct tui_view *v, const struct tui_model *m);
const char *tui_sort_name(enum tui_sort s);
/* Keep view->top so the selection is visible in rows lines. */
void tui_view_scroll(struct tui_view *v, int rows);

#endif
