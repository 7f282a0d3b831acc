/* SPDX-License-Identifier: MIT */
/*
 * model.h - the TUI's snapshot model: compact rows, one per connection.
 *
 * Owns: what the view may show of every connection, copied as it changes
 * and when it retires: a compact row per connection (endpoints, times,
 * verdict, bytes, processes, timeline steps; at most TUI_ROW_MAX bytes,
 * so the newest 131072 connections fit in about 22 MiB), a full copy of
 * the newest TUI_DETAIL_CAP connections for the detail view (ladder,
 * reasons, retransmissions) and of the newest TUI_BAD_CAP that ended
 * badly (refused, unanswered, half-open, reset: the ones a user opens
 * to find out why), the counters of the header (by verdict,
 * since the start or the last clear) and the handshake latency
 * histograms. Does not own the flows: the engine's table does, and is
 * only read (flow.h); nothing here knows the engine, the source or
 * curses.
 *
 * Rows are direct-mapped by flow id: row (id % cap) holds connection id
 * when rows[id % cap].id == id. Flow ids grow by one per connection, so
 * the model keeps the newest cap connections, a newer one replacing the
 * one cap ids older, and "newest first" is a walk down from max_id. The
 * detail copies are mapped the same way with a smaller capacity.
 */
#ifndef LT_TUI_MODEL_H
#define LT_TUI_MODEL_H

#include <stdint.h>

#include "flow.h"
#include "hist.h"
#include "ports.h"

#define TUI_MODEL_CAP 131072u /* rows */
#define TUI_DETAIL_CAP 6144u  /* full copies of the newest connections */
#define TUI_BAD_CAP 2048u     /* ... and of the newest that ended badly */
#define TUI_ROW_STEPS LT_TIMELINE_MAX
#define TUI_ROW_MAX 200 /* bytes a row may take */
#define TUI_SPARK 16	/* latency buckets: 1us, 2us, ... 16ms+ */
#define TUI_LAT_PORTS 8 /* ports with their own latency line */
#define TUI_NS_MAX 1024 /* network namespaces the rows name; more: "?" */

/* One connection as the list and the detail header show it. */
struct tui_row {
	uint64_t id; /* 0: empty */
	uint64_t t_first, t_last;
	uint64_t bytes[2]; /* payload, [LT_DIR_C2S] client, [LT_DIR_S2C] server */
	int64_t lat_ns;	   /* SYN -> SYN-ACK, -1 unknown */
	uint32_t kctx;	   /* LT_KCTX_* seen: kernel context changed */
	int32_t pid[2];	   /* -1 unknown */
	char comm[2][LT_COMM_LEN];
	struct lt_endpoint client, server;
	uint8_t step[TUI_ROW_STEPS];  /* timeline: kind | dir << 4 */
	uint8_t count[TUI_ROW_STEPS]; /* segments of the step, 255 at most */
	uint8_t steps;		      /* entries in step[] */
	uint8_t steps_cut;	      /* the flow's timeline left steps out */
	uint8_t family;		      /* 4 or 6 */
	uint8_t verdict;	      /* enum lt_verdict, as of the last update */
	uint8_t final;		      /* retired: the verdict will not change */
	uint8_t est;		      /* the handshake completed */
	uint8_t lat_counted;	      /* its latency is in the histograms */
	uint8_t active_counted;	      /* in active_v as counted_v by the last sync */
	uint8_t counted_v;
	uint8_t counted_est;
	uint16_t ns; /* network namespace: 1 + index in tui_model.ns, 0 unknown,
		      * TUI_NS_MAX + 1 one beyond the table */
};

_Static_assert(sizeof(struct tui_row) <= TUI_ROW_MAX,
	       "a TUI row must stay compact: 131072 rows in less than 32 MiB");

/* The full record of a recent connection, for the detail view. */
struct tui_detail {
	struct flow f; /* f.id == 0: empty */
	uint8_t verdict;
	uint8_t final;
};

struct tui_lat {
	uint16_t port; /* 0: all ports */
	struct hist h;
	uint32_t spark[TUI_SPARK];
};

struct tui_model {
	struct tui_row *rows;
	uint32_t cap;
	struct tui_detail *det;
	uint32_t dcap;
	struct tui_detail *bad; /* ring of bad endings, in retire order */
	uint32_t bcap;
	uint64_t bseq;	       /* bad endings stored so far */
	uint32_t *bidx;	       /* [id % (4 * bcap)]: 1 + its slot in bad[] */
	uint64_t *answered[2]; /* [v4, v6][server port]: newest established id */
	uint64_t pin_id;       /* keep this one's full record too (the selection) */
	struct tui_detail pin;
	uint64_t max_id;	/* newest id stored */
	uint64_t min_id;	/* ids below were cleared */
	uint64_t gen;		/* bumped whenever a row changes */
	uint64_t dropped;	/* rows pushed out of the window */
	uint64_t connecting_ns; /* for verdicts of active flows */
	uint64_t last_ts;	/* newest segment time of any row */

	/* counters since start or clear */
	uint64_t retired_v[LT_V_COUNT];
	uint64_t retired_est;
	uint32_t active_v[LT_V_COUNT]; /* recomputed by tui_model_sync */
	uint32_t active_est;

	struct tui_lat lat_all;
	struct tui_lat lat_port[TUI_LAT_PORTS];
	int nlat_port;

	/* The network namespaces the rows were in (eBPF), in order of first
	 * sight; owned by the source, which outlives the model. Not cleared. */
	const struct lt_netns *ns[TUI_NS_MAX];
	uint16_t nns;
	uint8_t ns_over; /* a row's namespace did not fit in the table */
};

/* 0, or -ENOMEM. cap/dcap/bcap 0: the defaults. ports: watched ports
 * (their latency is kept apart). */
int tui_model_init(struct tui_model *m, uint32_t cap, uint32_t dcap, uint32_t bcap,
		   const struct ports *p, uint64_t connecting_ns);
void tui_model_release(struct tui_model *m);
/* The two calls of the run's tap (ctx is the model). */
void tui_model_on_change(void *ctx, const struct flow *f, enum lt_verdict v);
void tui_model_on_retire(void *ctx, const struct flow *f, enum lt_verdict v);
/* Refresh the rows of the table's active flows; now: the source clock. */
void tui_model_sync(struct tui_model *m, const struct flow_tab *ft, uint64_t now);
/* The row of flow id, or NULL when not (or no longer) kept. */
const struct tui_row *tui_model_row(const struct tui_model *m, uint64_t id);
/* Keep the full record of connection id (the selection) even when it is
 * older than the detail window; 0: none. Returns 1 when it has no full
 * record yet (the next sync copies it if it is still active). */
int tui_model_pin(struct tui_model *m, uint64_t id);
/* The full copy of flow id, or NULL when it is older than the detail
 * window, not among the bad endings kept, and not pinned. */
const struct tui_detail *tui_model_detail(const struct tui_model *m, uint64_t id);
/* The newest connection to port over the other IP family than family that
 * completed its handshake, or NULL. */
const struct tui_row *tui_model_answered_other(const struct tui_model *m, uint8_t family,
					       uint16_t port);
/* Forget every row and counter; older flows are not listed again. */
void tui_model_clear(struct tui_model *m);
/* Counters: connections by verdict and established, since clear. */
uint64_t tui_model_count(const struct tui_model *m, enum lt_verdict v);
uint64_t tui_model_total(const struct tui_model *m);
uint64_t tui_model_established(const struct tui_model *m);
/* Network namespaces seen so far (a row's namespace joins at its first
 * copy); 0 without namespaces (captures, libpcap). */
int tui_model_nns(const struct tui_model *m);
/* The namespace of row r, NULL unknown (or one beyond the table). */
const struct lt_netns *tui_model_row_ns(const struct tui_model *m, const struct tui_row *r);
/* The lowercase text the filter and search look in: endpoints, verdict,
 * processes, and the namespace's name (m may be NULL: none). Returns its
 * length. */
size_t tui_row_key(const struct tui_model *m, const struct tui_row *r, char *out, size_t len);

#endif
