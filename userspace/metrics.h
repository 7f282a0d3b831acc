/* SPDX-License-Identifier: MIT */
/*
 * metrics.h - Prometheus counters kept from a run, and their text
 * exposition.
 *
 * A metrics set is a tap (tap.h): every retired connection is counted by
 * server port, IP family and final verdict, with its SYN->SYN-ACK and
 * SYN->RST times in fixed histograms, its SYN retransmissions, kernel
 * drops (by the kernel's reason name), resets (by side and the kernel's
 * reason name) and accept-queue overflows. Gauges (active flows, events
 * lost, flows evicted, who listens) are set from the run before each
 * exposition. Label values are bounded: the watched ports, or the first
 * METRICS_MAX_PORTS server ports seen and then "other"; at most
 * METRICS_MAX_REASONS reason names per port and then "other".
 * Counters only grow (the run never forgets a connection), so the
 * memory is fixed after the label sets fill: nothing grows per
 * connection.
 * Owns: the counters and the exposition format (Prometheus text format
 * 0.0.4). Does not own: serving or writing it (metrics_serve.h), the
 * run's loop (run.c).
 */
#ifndef LT_METRICS_H
#define LT_METRICS_H

#include <stdint.h>

#include "flow.h"
#include "listeners.h"
#include "ports.h"
#include "source.h"
#include "tap.h"

struct sbuf;

#define METRICS_MAX_PORTS 32	 /* labelled ports when none is watched */
#define METRICS_MAX_REASONS 16	 /* reason names per port and metric */
#define METRICS_MAX_LISTENERS 64 /* lotrace_listening series */

struct metrics;

/* watched: the --port list (bounds the port label), may have n == 0. */
struct metrics *metrics_new(const struct ports *watched, const char *version, const char *backend);
void metrics_free(struct metrics *m);

/* The tap that feeds m (on_retire only). */
struct lt_tap metrics_tap(struct metrics *m);
/* Count one retired connection (what the tap calls). */
void metrics_retire(struct metrics *m, const struct flow *f, enum lt_verdict v);

/* Gauges and source counters, as of now. */
struct metrics_gauges {
	uint64_t events_lost;	/* lt_source_stats.lost */
	uint64_t flows_evicted; /* flow_counters.evicted */
	uint64_t flows_active;	/* flow_counters.active */
	/* the source's own counters (lt_source_stats.counters), all of them */
	int ncounters;
	struct lt_src_counter counters[LT_SRC_COUNTERS_MAX];
};
void metrics_set_gauges(struct metrics *m, const struct metrics_gauges *g);
/* The listening sockets on the labelled ports (n may exceed what is
 * kept); n < 0: unknown, the gauge is left out. */
void metrics_set_listeners(struct metrics *m, const struct listener *l, int n);
/* The ports the listener gauge should ask about; returns how many. */
int metrics_ports(const struct metrics *m, uint16_t *out, int max);

/* The whole exposition, appended to b. */
void metrics_text(const struct metrics *m, struct sbuf *b);

#endif
