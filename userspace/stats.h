/* SPDX-License-Identifier: MIT */
/*
 * stats.h - per-port summary of finished connections.
 *
 * Owns: counts by verdict and handshake latency histograms, for every
 * server port seen or watched. Fed with
 * each flow as it is retired (final verdict); read by the text/JSON
 * summary, the report and the TUI header.
 */
#ifndef LT_STATS_H
#define LT_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "flow.h"
#include "hist.h"

struct port_stats {
	uint16_t port;
	uint64_t conns;	      /* connections (all verdicts) */
	uint64_t attempts;    /* connections whose SYN was seen */
	uint64_t established; /* handshake completed (or mid-stream) */
	uint64_t verdict[LT_V_COUNT];
	uint64_t resets;	 /* reset by client + by server */
	uint64_t syn_retrans;	 /* SYNs beyond the first */
	uint64_t synack_retrans; /* SYN-ACKs beyond the first */
	uint64_t kernel_drops;	 /* segments the kernel dropped (eBPF) */
	uint64_t bytes_c2s, bytes_s2c;
	struct hist syn_synack; /* SYN -> SYN-ACK, ns */
	struct hist syn_rst;	/* SYN -> RST of refused attempts, ns */
};

struct stats {
	struct port_stats *port[65536]; /* NULL until seen */
	uint32_t nports;
	struct port_stats total;    /* port field unused */
	uint64_t first_ts, last_ts; /* of the connections added */
};

/* Allocates; NULL on no memory. Free with stats_free. */
struct stats *stats_new(void);
void stats_free(struct stats *s);

/* Make sure a row exists for a watched port, even with no traffic. */
void stats_watch(struct stats *s, uint16_t port);
/* Count one retired flow with its final verdict. */
void stats_add(struct stats *s, const struct flow *f, enum lt_verdict v);
/* Ports with a row, ascending; returns how many were written (<= max). */
int stats_ports(const struct stats *s, uint16_t *out, int max);

#endif
