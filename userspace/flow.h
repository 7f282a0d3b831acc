/* SPDX-License-Identifier: MIT */
/*
 * flow.h - the connection table and the handshake machine.
 *
 * Owns: every tracked TCP connection (struct flow), keyed by 4-tuple, from
 * a preallocated pool; the per-connection timeline and Zeek history
 * letters, filled in segment by segment; expiry and eviction.
 * Does not own: what the fields mean for a verdict (verdict.h), time
 * (callers pass now_ns, so replay is deterministic), output (retired and
 * changed flows go to the hooks), decoding.
 *
 * Lifecycle of a flow: created by its first segment on a watched port,
 * updated by later segments and kernel context, and finally *retired*:
 * handed to hooks.on_retire exactly once, at expiry, at eviction, when
 * its 4-tuple is reused by a new connection, or at flow_flush(). A
 * retired flow pointer is valid only during the callback.
 *
 * Eviction policy (the table is full and a new connection arrives): among
 * the 32 least recently active flows, the least recently active one that
 * has ended (closed, reset, refused) is evicted; if none has ended, the
 * least recently active flow is. Evicted flows are still retired through
 * the hooks (so they are reported, flagged "evicted") and counted.
 */
#ifndef LT_FLOW_H
#define LT_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "obs.h"
#include "proto.h"
#include "verdict.h"

/* Direction of a segment relative to the connection. */
enum lt_dir { LT_DIR_C2S = 0, LT_DIR_S2C = 1 };

/* How the client was chosen. */
enum lt_role_basis {
	LT_ROLE_SYN = 0, /* sender of the first SYN */
	LT_ROLE_SYNACK,	 /* receiver of the first SYN-ACK */
	LT_ROLE_PORT,	 /* no handshake: watched, non-ephemeral or lower port is the server */
};

/* Timeline entry kinds, in the order a healthy connection shows them. */
enum lt_tl_kind {
	LT_TL_SYN = 0,
	LT_TL_SYNACK,
	LT_TL_ACK,  /* the ACK that completes the handshake */
	LT_TL_DATA, /* consecutive payload segments one way, collapsed */
		    /* (every other kind gets one entry per segment) */
	LT_TL_FIN,
	LT_TL_RST,
	LT_TL_DROP, /* kernel dropped a segment (reason in flow) */
	LT_TL_KIND_COUNT,
};

struct lt_tl_entry {
	uint64_t t_ns;
	uint64_t bytes; /* DATA: payload bytes of the collapsed segments */
	uint32_t count; /* DATA: segments collapsed; others 1 */
	uint8_t kind;	/* enum lt_tl_kind */
	uint8_t dir;	/* enum lt_dir */
	uint8_t flags;	/* TCP flags of the first segment */
	uint8_t pad;
};

#define LT_TIMELINE_MAX 16
#define LT_HISTORY_MAX 24

/* Anomaly bits. */
enum {
	LT_A_SYN_NOT_SEEN = 1 << 0,    /* SYN-ACK seen, its SYN not */
	LT_A_TIME_BACKWARDS = 1 << 1,  /* a timestamp earlier than the last one */
	LT_A_EVICTED = 1 << 2,	       /* retired early: table full */
	LT_A_REUSED = 1 << 3,	       /* retired: its 4-tuple started anew */
	LT_A_TIMELINE_CUT = 1 << 4,    /* more events than the timeline holds */
	LT_A_RST_AFTER_CLOSE = 1 << 5, /* RST after both FINs */
	LT_A_LISTEN_OVERFLOW = 1 << 6, /* the kernel reported a full accept queue */
	LT_A_DUP_COPIES = 1 << 8,      /* segments seen again in another VLAN */
	LT_A_TIME_JUMP = 1 << 9,       /* began after a capture time jump, or
	                               * carried the jumped timestamp */
	LT_A_EVENTS_LOST = 1 << 7,     /* the source lost events while this flow
				       * was live: its evidence may be incomplete,
				       * so it is never the basis of a finding */
};

struct flow_side {
	uint64_t pkts;	    /* every segment this side sent */
	uint64_t data_pkts; /* segments with payload */
	uint64_t bytes;	    /* payload bytes (from IP lengths) */
	uint64_t t_first_data;
	uint32_t syn_count; /* SYNs (client) or SYN-ACKs (server), retransmissions included */
	uint32_t isn;	    /* sequence number of the first SYN / SYN-ACK */
	uint64_t t_syn_first, t_syn_last;
	uint32_t fin_count;
	uint32_t rst_count;
	uint64_t t_fin, t_rst; /* first of each */
	uint16_t mss;
	int32_t pid; /* owning process (eBPF only), -1 unknown */
	/* Duplicate copies: the same segment (sequence, ack, flags, length,
	 * window) again within 1 ms in another encapsulation (another VLAN),
	 * as a mirror port sees it once per leg. Counted here and left out
	 * of every count above, the timeline and the history: they are not
	 * retransmissions. */
	struct {
		uint32_t pkts, syn, fin, rst, data_pkts;
		uint64_t bytes;
	} copies;
	/* the last segment that was not a copy, to recognise the copies */
	uint64_t last_ts;
	uint32_t last_seq, last_ack, last_len, last_encap;
	uint16_t last_window;
	uint8_t last_flags;
	bool has_last;
	char comm[LT_COMM_LEN];
	/* The first payload bytes this side sent (sources with payload, not
	 * --no-payload): the first data segment's, at most PROTO_HEAD_MAX.
	 * Only proto.c reads them; no output prints them. */
	uint8_t head_len;
	uint8_t head[PROTO_HEAD_MAX];
};

struct flow {
	/* identity */
	uint64_t id;	    /* 1, 2, ... in order of creation */
	uint8_t family;	    /* 4 or 6 */
	uint8_t role_basis; /* enum lt_role_basis */
	struct lt_endpoint client, server;
	const struct lt_netns *ns; /* its network namespace (inode, names),
			       * part of the identity: one entry per namespace,
			       * owned by the source, which outlives every flow;
			       * NULL unknown (captures, libpcap) */

	/* timing */
	uint64_t t_first, t_last;
	uint64_t t_ack; /* handshake-completing ACK, 0 if not seen */

	struct flow_side side[2]; /* [LT_DIR_C2S] = client, [LT_DIR_S2C] = server */

	uint8_t rst_dir;    /* sender of the first RST (enum lt_dir) */
	uint8_t rst_phase;  /* enum lt_rst_phase */
	uint32_t anomalies; /* LT_A_* */

	/* kernel context (eBPF backend) */
	uint32_t kctx; /* LT_KCTX_* bits seen */
	int32_t sk_errno;
	char reset_reason[LT_REASON_LEN];
	char drop_reason[LT_REASON_LEN];
	uint32_t drops; /* segments the kernel dropped */
	uint32_t kernel_syn_retrans;
	/* LT_A_LISTEN_OVERFLOW with eBPF: the listener at the first full
	 * queue: backlog, queue length (its owner: side[LT_DIR_S2C].pid) */
	uint32_t ovf_backlog, ovf_queued;

	/* history */
	char history[LT_HISTORY_MAX + 1]; /* Zeek-style letters */
	uint8_t tl_len;
	uint32_t tl_omitted;
	struct lt_tl_entry tl[LT_TIMELINE_MAX];

	/* bookkeeping, private to flow.c */
	uint8_t verdict_seen;	      /* last verdict reported to on_change */
	uint32_t hash;		      /* tuple hash: its slot's tag */
	uint32_t free_next;	      /* free list */
	uint32_t hist_last_seq[2][4]; /* Zeek repeat rules: s/h, f, r per side */
	uint8_t hist_once[2];	      /* a/d once per side bits */
	uint8_t hist_len;	      /* strlen(history) */
};

enum lt_retire_why {
	LT_RETIRE_EXPIRED = 0, /* idle past its timeout */
	LT_RETIRE_EVICTED,     /* table full */
	LT_RETIRE_REUSED,      /* the 4-tuple started a new connection */
	LT_RETIRE_END,	       /* end of input (flow_flush) */
	LT_RETIRE_OVER,	       /* the source said it is over (lt_obs.over) */
};

struct flow_hooks {
	/* The flow's verdict changed (also called once for each new flow). */
	void (*on_change)(void *ctx, const struct flow *f, enum lt_verdict v);
	/* The flow leaves the table; called exactly once per flow. */
	void (*on_retire)(void *ctx, const struct flow *f, enum lt_retire_why why);
	void *ctx;
};

struct flow_config {
	uint32_t max_flows;	    /* capacity; 0 means the default */
	const uint8_t *port_filter; /* 8192-byte bitmap of watched ports, NULL = all */
	uint64_t linger_ns;	    /* ended flows stay this long after their last packet */
	uint64_t syn_timeout_ns;    /* connecting/unanswered/half-open idle timeout */
	uint64_t idle_timeout_ns;   /* established idle timeout */
	uint64_t connecting_ns;	    /* how long a fresh SYN counts as "connecting" */
	bool no_payload;	    /* --no-payload: keep no payload bytes */
	bool steady_clock;	    /* times never jump (lt_source.steady_clock):
				     * one far behind is late, taken as it is */
};

#define LT_FLOWS_DEFAULT 65536u

struct flow_counters {
	uint64_t segments; /* segments given to flow_input */
	uint64_t filtered; /* ... on no watched port */
	uint64_t created;
	uint64_t retired;
	uint64_t evicted;
	uint64_t expired;
	uint64_t reused; /* port reuse: a new connection on an old 4-tuple */
	uint64_t kernel_events;
	uint64_t kernel_unmatched; /* kernel context for no tracked flow */
	uint64_t ts_backwards;	   /* observations older than the previous one */
	/* Capture time jumps: a timestamp more than a second behind the
	 * newest, or ahead of it by more than the longest timeout. The
	 * table's clock does not follow (nothing expires for it); later
	 * times count from where it stood. See flow_input. */
	uint64_t time_jumps;
	int64_t jump_first_ns;	   /* the first jump: by how much (signed) */
	uint64_t jump_first_frame; /* ... at which frame (0: unknown) */
	uint64_t jumps_sustained;  /* jumps that lasted: the table followed them */
	uint32_t active;
	uint32_t capacity;
};

struct flow_tab;

/* Returns NULL when memory for cfg->max_flows flows cannot be had. */
struct flow_tab *flow_tab_new(const struct flow_config *cfg, const struct flow_hooks *hooks);
/* Frees the table without retiring anything (call flow_flush first). */
void flow_tab_free(struct flow_tab *t);
/* The verdicts hooks.on_change is called for, a bit (1u << v) each;
 * every verdict until this is called. verdict_seen follows every change
 * either way. */
void flow_tab_change_mask(struct flow_tab *t, uint32_t mask);

/* Feed one observation. Returns the flow a segment now belongs to (a
 * reused 4-tuple: the new one), as flow_find would, or NULL. */
const struct flow *flow_input(struct flow_tab *t, const struct lt_obs *o);
/* The flow segment o belongs to (call after flow_input), or NULL: kernel
 * context, or a segment on no watched port. */
const struct flow *flow_find(struct flow_tab *t, const struct lt_obs *o);
/* Retire the flow of o (a segment or kernel context) now: the source
 * said nothing more comes about it (o->over). f: what flow_input
 * returned for o (NULL: looked up). */
void flow_over(struct flow_tab *t, const struct lt_obs *o, const struct flow *f);
/* Retire flows idle past their timeout and report time-driven verdict
 * changes (connecting -> unanswered). Call with the source's clock. */
void flow_expire(struct flow_tab *t, uint64_t now_ns);
/* Retire every flow (end of input). */
void flow_flush(struct flow_tab *t);

const struct flow_counters *flow_tab_counters(const struct flow_tab *t);
/* The time of the newest observation, 0 before the first. */
uint64_t flow_tab_now(const struct flow_tab *t);

/* Call fn for each active flow, most recently active first. */
void flow_foreach(const struct flow_tab *t, void (*fn)(void *ctx, const struct flow *f), void *ctx);

/* What each side's first payload bytes say (proto.h): kind PROTO_NONE
 * for a side with none kept. The server's is read knowing the client's. */
void flow_protocols(const struct flow *f, struct proto_id *client, struct proto_id *server);

/* Verdicts, Zeek state and latencies of a flow: verdict.h. */
const char *lt_tl_kind_name(enum lt_tl_kind k); /* "SYN", "SYN-ACK"... */

#endif
