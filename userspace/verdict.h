/* SPDX-License-Identifier: MIT */
/*
 * verdict.h - what happened to one connection, read from its flow record.
 *
 * Owns: the verdict vocabulary (docs/verdicts.md) and the one rule that
 * decides it (flow_verdict); the outcome of a connection's established
 * part (flow_outcome: how a mid-stream connection ended); Zeek's
 * conn_state; the handshake latencies; the names of verdicts, reset
 * phases and anomalies; the verdict column text ("reset-by-server
 * (after-data)") and the plain-language explanation of a verdict (TUI
 * detail, docs). Every consumer (sinks, report, diagnosis, TUI) asks
 * here; nothing else decides a verdict.
 * Does not own: the connection table and the per-segment update that
 * fills struct flow (flow.c), output formats (sinks, report), findings
 * about many connections (diagnose.h).
 */
#ifndef LT_VERDICT_H
#define LT_VERDICT_H

#include <stdbool.h>
#include <stdint.h>

#include "obs.h"

struct flow;
struct sbuf;

/* Verdicts: the fixed vocabulary documented in docs/verdicts.md. */
enum lt_verdict {
	LT_V_CONNECTING = 0, /* SYN sent moments ago; live only */
	LT_V_REFUSED,	     /* RST answered the SYN */
	LT_V_UNANSWERED,     /* SYN(s), no answer */
	LT_V_HALF_OPEN,	     /* SYN-ACK sent, never acknowledged */
	LT_V_OPEN,	     /* established, still open */
	LT_V_HALF_CLOSED,    /* established, FIN from one side only */
	LT_V_CLOSED,	     /* established, FIN from both sides */
	LT_V_RESET_CLIENT,   /* established (or in handshake), client RST */
	LT_V_RESET_SERVER,   /* established (or in handshake), server RST */
	LT_V_MIDSTREAM,	     /* no handshake seen: capture started late */
	LT_V_COUNT,
};

/* When the first RST of a connection came. */
enum lt_rst_phase {
	LT_RST_NONE = 0,
	LT_RST_HANDSHAKE,   /* before the handshake completed */
	LT_RST_BEFORE_DATA, /* established, no payload yet */
	LT_RST_AFTER_DATA,  /* established, payload seen */
	LT_RST_AFTER_FIN,   /* after a FIN from the RST's sender or peer */
};
#define LT_RST_PHASE_COUNT 5

/*
 * The verdict of f at time now_ns. final: no more packets will come (end
 * of a capture), so a SYN without answer is "unanswered" however young.
 * connecting_ns: how long a fresh SYN (or SYN-ACK) counts as "connecting".
 */
enum lt_verdict flow_verdict(const struct flow *f, uint64_t now_ns, bool final,
			     uint64_t connecting_ns);
/*
 * How the established part of f stands: open, half-closed, closed or
 * reset by one side. For a mid-stream connection this is what it came
 * to (JSON "outcome"); for any other, its fate judged as if the
 * handshake had completed.
 */
enum lt_verdict flow_outcome(const struct flow *f);
/* "connected", i.e. the handshake completed (final ACK or later traffic) */
bool flow_established(const struct flow *f);
/* The verdict ends the connection (refused, closed, reset). */
bool lt_verdict_ended(enum lt_verdict v);

/* Zeek's conn_state for f, e.g. "REJ", "S0", "SF". */
const char *flow_zeek_state(const struct flow *f);

/* Handshake latencies in ns; -1 when not measurable. */
int64_t flow_syn_to_synack(const struct flow *f);
int64_t flow_synack_to_ack(const struct flow *f);
int64_t flow_syn_to_rst(const struct flow *f);

const char *lt_verdict_name(enum lt_verdict v);	    /* "refused" */
const char *lt_verdict_label(enum lt_verdict v);    /* "REFUSED" */
const char *lt_rst_phase_name(enum lt_rst_phase p); /* "after-data" */
/* The name of one anomaly bit (LT_A_*), e.g. "events-lost"; NULL if none. */
const char *lt_anomaly_name(uint32_t bit);

/* The verdict column: "reset-by-server (after-data)", "mid-stream, closed",
 * "unanswered (3 SYNs)". */
void verdict_text(struct sbuf *b, const struct flow *f, enum lt_verdict v);

/* What verdict_explain may say besides the flow itself. */
struct verdict_explain_ctx {
	uint64_t now_ns;	/* to say how long ago a SYN went out */
	uint64_t connecting_ns; /* the "connecting" window */
	/* Another connection to the same port that was answered over the
	 * other IP family (see lt_cross_family, listeners.h): its id (0:
	 * none), family and server address. */
	uint64_t other_id;
	uint8_t other_family;
	struct lt_endpoint other_server;
};

/* The verdict of f said in plain words, one paragraph, no markup. */
void verdict_explain(struct sbuf *b, const struct flow *f, enum lt_verdict v,
		     const struct verdict_explain_ctx *x);

#endif
