/* SPDX-License-Identifier: MIT */
/*
 * conn_log.h - the TUI's bounded log of connections, one row per flow.
 *
 * Owns: a copy of every connection the view may show (active ones,
 * refreshed by conn_log_sync before a frame; retired ones with their
 * final verdict, from the engine observer), the counters of the header
 * (by verdict, since the start or the last clear) and the handshake
 * latency histograms. Does not own the flows themselves: the engine's
 * table does, and is only read.
 *
 * The log is direct-mapped by flow id: row (id % cap) holds connection id
 * when rows[id % cap].f.id == id. Flow ids grow by one per connection, so
 * the log always keeps the newest cap connections, a newer one replacing
 * the one cap ids older, and "newest first" is a walk down from max_id.
 * Rows are calloc'ed at once; the kernel only commits pages as they are
 * written, so memory grows with use up to cap rows.
 */
#ifndef LT_CONN_LOG_H
#define LT_CONN_LOG_H

#include <stdint.h>

#include "engine.h"
#include "flow.h"
#include "hist.h"
#include "ports.h"

#define CONN_LOG_CAP 131072u
#define CONN_LOG_KEY_LEN 112
#define CONN_LOG_SPARK 16      /* latency buckets: 1us, 2us, ... 16ms+ */
#define CONN_LOG_PORTS 8       /* ports with their own latency line */

struct tui_row {
	struct flow f;            /* the copy; f.id == 0: empty */
	uint8_t verdict;          /* enum lt_verdict, as of the last update */
	uint8_t final;            /* retired: the verdict will not change */
	uint8_t lat_counted;      /* its latency is in the histograms */
	uint8_t active_counted;   /* in active_v as counted_v by the last sync */
	uint8_t counted_v;
	uint8_t counted_est;
	int64_t lat_ns;           /* SYN -> SYN-ACK, -1 unknown */
	char key[CONN_LOG_KEY_LEN]; /* lowercase text the filter searches */
};

struct conn_lat {
	uint16_t port;            /* 0: all ports */
	struct hist h;
	uint32_t spark[CONN_LOG_SPARK];
};

struct conn_log {
	struct tui_row *rows;
	uint32_t cap;
	uint64_t max_id;          /* newest id stored */
	uint64_t min_id;          /* ids below were cleared */
	uint64_t gen;             /* bumped whenever a row changes */
	uint64_t dropped;         /* rows pushed out of the window */
	uint64_t connecting_ns;   /* for verdicts of active flows */

	/* counters since start or clear */
	uint64_t retired_v[LT_V_COUNT];
	uint64_t retired_est;
	uint32_t active_v[LT_V_COUNT]; /* recomputed by conn_log_sync */
	uint32_t active_est;

	struct conn_lat lat_all;
	struct conn_lat lat_port[CONN_LOG_PORTS];
	int nlat_port;
};

/* 0, or -ENOMEM. ports: watched ports (their latency is kept apart). */
int conn_log_init(struct conn_log *l, uint32_t cap, const struct ports *p);
void conn_log_release(struct conn_log *l);
/* Register as an observer of e (on_change, on_retire). */
int conn_log_attach(struct conn_log *l, struct engine *e);
/* Refresh the copies of e's active flows; now: the source clock. */
void conn_log_sync(struct conn_log *l, const struct engine *e, uint64_t now);
/* The row of flow id, or NULL when not (or no longer) in the log. */
const struct tui_row *conn_log_get(const struct conn_log *l, uint64_t id);
/* Forget every row and counter; older flows are not listed again. */
void conn_log_clear(struct conn_log *l);
/* Counter helpers: connections by verdict and established, since clear. */
uint64_t conn_log_count(const struct conn_log *l, enum lt_verdict v);
uint64_t conn_log_total(const struct conn_log *l);
uint64_t conn_log_established(const struct conn_log *l);

#endif
