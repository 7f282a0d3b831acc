/* SPDX-License-Identifier: MIT */
/*
 * diagnose.h - findings: what the connections show, and what to check next.
 *
 * Owns: the evidence a report needs, collected one retired connection at a
 * time (diag_add) in bounded memory: connections grouped by what they
 * have in common (refused by one server address, unanswered SYNs to one
 * address, reset after the request...), with counts, the kernel context
 * they carried and the smallest connection ids as references. At the end
 * the rules (diag_decide, diagnose.c) turn the groups, plus what the run
 * knows besides the connections (listeners of a live run, lost events,
 * decode problems), into findings as data: an id, a severity and the
 * facts. Wording them is a separate step (diag_words, diagnose_words.c);
 * diag_findings does both, with the connections each one rests on.
 *
 * Honesty rules the findings keep: each one names the connections it
 * rests on; a connection that was live while the source lost events
 * (LT_A_EVENTS_LOST) is the basis of no finding but events-lost, and
 * when the source cannot say which connections its loss hit, nothing a
 * loss could make up is a finding; a kernel reason is only mentioned
 * when a connection carried one (the eBPF backend); what a packet
 * capture cannot tell apart is said to be so. Finding ids are stable (docs/report-schema.md); the text may
 * use markdown `code` spans, which plain-text outputs strip.
 * Does not own: output formats (report.c), listener queries and the
 * listener rules (listeners.h), verdicts (verdict.h).
 */
#ifndef LT_DIAGNOSE_H
#define LT_DIAGNOSE_H

#include <stdbool.h>
#include <stdint.h>

#include "flow.h"
#include "listen_tl.h"
#include "listeners.h"
#include "ports.h"
#include "source.h"

struct sbuf;

/* Server addresses kept apart per run; connections to more go uncounted
 * in the findings (the findings-cut finding says how many). */
#define DIAG_GROUPS_MAX 1024

/* Connection ids a finding keeps (the smallest ones). */
#define DIAG_REFS_MAX 50

/* One connection a finding rests on. */
struct diag_ref {
	uint64_t id;
	uint8_t family;
	struct lt_endpoint client, server;
	const struct lt_netns *ns; /* its network namespace (eBPF), NULL unknown */
};

enum diag_severity {
	DIAG_ERROR = 0, /* connections failed */
	DIAG_WARNING,	/* something went wrong, or the evidence is incomplete */
	DIAG_INFO,	/* worth knowing, nothing failed */
};

struct diag_finding {
	char id[32]; /* stable key, e.g. "refused", "unanswered" */
	enum diag_severity severity;
	char title[200];
	char *text;	 /* what the evidence shows; owned */
	char *next_step; /* what to check next; owned, may be "" */
	/* The connections it rests on: refs[0..nprimary) are the ones the
	 * finding is about (ascending ids), the rest (ascending too) those it
	 * compares them with, e.g. the answered side of "refused on IPv4,
	 * answered on IPv6". */
	struct diag_ref refs[DIAG_REFS_MAX];
	int nrefs, nprimary;
	uint64_t total; /* connections it rests on (>= nrefs) */
};

/* What the run knows besides the connections. */
struct diag_context {
	int live;    /* a live capture (listeners were queried) */
	int partial; /* written mid-run: flows still active */
	int kernel;  /* the backend reports kernel context (eBPF) */
	/* Listeners at the start and the end of a live run; n < 0: the
	 * query failed (then nothing is said about listeners). */
	const struct listener *start;
	int nstart;
	const struct listener *end;
	int nend;
	struct listen_counters c_start, c_end; /* -1: unknown */
	uint64_t t_end;			       /* newest observation, 0 unknown */
	uint64_t t_stop;		       /* live: when the run stopped (wall
						* clock, ns); 0: use t_end */
	const struct lt_source_stats *src;     /* may be NULL */
	const struct flow_counters *flows;     /* may be NULL */
	const struct ports *watched;	       /* may be NULL */
	/* Live eBPF: the sockets that began or stopped listening during the
	 * run, in time order (listen_tl.h); NULL, 0 otherwise. */
	const struct listen_ev *lev;
	int nlev;
	/* Live: this machine's SYN retry sysctls, for the timeout anatomy
	 * of unanswered SYNs; NULL for a capture (the gaps seen instead). */
	const struct tcp_syn_sysctls *sys;
	/* Live eBPF: lotrace's network namespace (inode), whose listeners
	 * the lists above are, and whether it is the host's (pid 1's); 0:
	 * unknown (then no namespace finding rests on the lists). */
	uint32_t netns_self;
	bool netns_self_host;
};

/* What a group of connections has in common; kept as they are added. */
enum diag_group_kind {
	DG_REFUSED = 0,
	DG_UNANSWERED,
	DG_HALF_OPEN,
	DG_RESET_REQUEST,  /* server RST right after the client's request */
	DG_SYNACK_RETRANS, /* established, but the SYN-ACK was re-sent */
	DG_SYN_RETRANS,	   /* answered only after SYN retransmissions */
	DG_RESET_SERVER,   /* other server resets */
	DG_RESET_CLIENT,
	DG_HALF_CLOSED,
	DG_OPEN,
	DG_MIDSTREAM,
	DG_CONNECTING,
	DG_PROTO_CLASH, /* the two sides' first bytes are different protocols */
	DG_HTTP_STATUS, /* an HTTP request answered 4xx/5xx */
	DG_ANSWERED,	/* not a finding: the server sent a SYN-ACK */
	DG_OTHER,	/* the run's own groups: completed handshakes, lost events */
	DG_KIND_COUNT,
};

/*
 * A group: the connections of one kind to one server address. Only
 * counts, ranges and the smallest connection ids are kept, so memory
 * stays bounded however long the run.
 */
struct diag_group {
	uint8_t kind; /* enum diag_group_kind */
	uint8_t family;
	struct lt_endpoint server;
	/* the network namespace of its connections (eBPF), part of the key:
	 * the same address in two namespaces is two loopbacks; NULL unknown */
	const struct lt_netns *ns;
	int32_t srv_pid; /* answered: the server's process, -1 unknown */
	char srv_comm[LT_COMM_LEN];
	uint64_t n;
	uint64_t t_min, t_max; /* earliest and latest connection start */
	uint64_t t_answer;     /* answered: the earliest SYN-ACK */
	uint32_t netns;	       /* the connections' namespace; 0: unknown or several */
	struct diag_ref refs[DIAG_REFS_MAX];
	int nrefs;
	uint64_t phase[LT_RST_PHASE_COUNT]; /* resets by enum lt_rst_phase */
	uint32_t syn_max;		    /* most SYNs (client) or SYN-ACKs (server) */
	uint64_t span_max;		    /* longest first-to-last SYN (SYN-ACK), or life */
	uint64_t lat_min, lat_max;	    /* per kind: SYN->RST, request->RST, SYN->SYN-ACK */
	uint64_t req_min, req_max;	    /* reset-after-request: request bytes */
	uint64_t established;		    /* answered: the handshake completed */
	uint64_t silent;		    /* ... and the server never sent data, FIN or RST */
	uint64_t after_ack;		    /* synack-retrans: re-sent after the client's ACK */
	uint64_t client_fin, server_fin;    /* half-closed: who closed */
	uint64_t gave_up;		    /* unanswered: the client sent RST or FIN */
	uint64_t outcome[LT_V_COUNT];	    /* mid-stream: how they stood at the end */
	/* kernel context (eBPF) */
	uint64_t with_kctx;
	uint64_t nf;			      /* drop reason NETFILTER_DROP */
	uint64_t ovf;			      /* accept queue of the listener full */
	uint32_t ovf_backlog, ovf_queued_max; /* ... the listener then (eBPF) */
	int32_t ovf_pid;		      /* ... its owner, 0 unknown */
	char ovf_comm[LT_COMM_LEN];
	uint64_t drop_other;
	char drop_name[LT_REASON_LEN];
	uint64_t rst_n, rst_other; /* reset reason rst_name / a different one */
	char rst_name[LT_REASON_LEN];
	uint64_t err_n;
	int32_t err;
	/* protocols (proto-clash, http-status): the first connection's first
	 * bytes as classified, and how many others differ from it */
	struct proto_id pc, ps;
	/* unanswered: the attempt with the most SYNs, for the timeout
	 * anatomy: the gaps between its SYNs (from its timeline), its first
	 * and last SYN, whether its client closed it (RST/FIN) and its errno */
	uint32_t rep_gap_ms[LT_TIMELINE_MAX];
	uint8_t rep_ngaps;
	uint8_t rep_closed;
	int32_t rep_errno;
	uint64_t rep_first_syn, rep_last_syn;
	uint64_t timed_out;    /* unanswered: errno 110 (ETIMEDOUT) from the kernel */
	uint8_t clash;	       /* enum proto_clash of pc/ps */
	uint8_t server_closed; /* ... and the server then closed (1 FIN, 2 RST) */
	uint64_t differ;
};

/* Every finding there is; diag_id_name gives the stable key. */
enum diag_id {
	DIAG_REFUSED = 0,
	DIAG_REFUSED_OTHER_FAMILY,
	DIAG_REFUSED_OTHER_ADDRESS,
	DIAG_REFUSED_BEFORE_LISTENING,
	DIAG_REFUSED_AFTER_LISTENING,
	DIAG_REFUSED_INTERMITTENT,
	DIAG_REFUSED_WHILE_LISTENING,
	DIAG_REFUSED_WHILE_RESTARTING,
	DIAG_UNANSWERED,
	DIAG_HALF_OPEN,
	DIAG_RESET_AFTER_REQUEST,
	DIAG_SYNACK_RETRANSMITTED,
	DIAG_SYN_RETRANSMITTED,
	DIAG_RESET_BY_SERVER,
	DIAG_RESET_BY_CLIENT,
	DIAG_SERVER_SILENT,
	DIAG_HALF_CLOSED,
	DIAG_STILL_OPEN,
	DIAG_MID_STREAM,
	DIAG_CONNECTING,
	DIAG_INPUT_ENDED_EARLY,
	DIAG_EVENTS_LOST,
	DIAG_DECODE_PROBLEMS,
	DIAG_FLOWS_EVICTED,
	DIAG_FINDINGS_CUT,
	DIAG_NO_CONNECTIONS,
	DIAG_NO_PROBLEM,
	DIAG_PROTOCOL_MISMATCH,
	DIAG_HTTP_ERROR,
	DIAG_REFUSED_OTHER_NETNS,
	DIAG_ID_COUNT,
};

/* What the evidence points at, where a rule can tell. */
enum diag_cause {
	DIAG_CAUSE_UNKNOWN = 0,
	DIAG_CAUSE_FIREWALL,   /* the kernel said NETFILTER_DROP for every one */
	DIAG_CAUSE_QUEUE_FULL, /* the kernel, or the listener list, says the accept queue was full */
};

/*
 * One finding as data: what a rule decided, and the facts its wording
 * rests on. Pointers point into the diag and the context it was decided
 * from, and live as long as they do.
 */
struct diag_fact {
	enum diag_id id;
	enum diag_severity severity;
	/* Evidence: the connections it is about (NULL: the run's counters),
	 * and those it compares them with (NULL: none). */
	const struct diag_group *g;
	const struct diag_group *other;
	/* Another group the words mention without resting on it, e.g. the
	 * answered connections to the same address of an unanswered group. */
	const struct diag_group *also;
	/* The "same on N more addresses" form: g NULL, these instead. */
	const struct diag_group *const *more;
	int nmore;
	/* Live runs: decided from the listener lists rather than the capture;
	 * the listener that takes these SYNs at the start / end of the run,
	 * and the one the finding cites (e.g. on the other family). */
	bool by_listeners;
	const struct listener *l_start, *l_end, *listener;
	/* Live eBPF: decided from the listener timeline; the change of a
	 * listener for this address just before the refusals (a close) and
	 * just after them (a listen), NULL: none in the run. */
	bool by_timeline;
	const struct listen_ev *ev_before, *ev_after;
	bool cross_family; /* other is the other family's loopback address */
	/* refused-other-netns: the server is in another network namespace;
	 * other: connections it answered there, listener: a listener of
	 * lotrace's own namespace (diag_context.netns_self) that takes them,
	 * or ev_before: a listen() there (the timeline) before the refusals */
	bool other_netns;
	bool no_socket;	 /* every reset carried the kernel reason NO_SOCKET */
	bool queue_full; /* a listener list shows more waiting than its backlog */
	enum diag_cause cause;
	int phase; /* resets: the phase most of them came in */
	/* The run as a whole (no-problem, events-lost, findings-cut). */
	bool delays;	  /* no-problem: some handshakes needed retries */
	bool input_doubt; /* no-problem: the input has warnings */
	uint64_t conns, closed, client_rst_after_fin, ungrouped;
	uint64_t lost_conns;	    /* no-problem: connections set aside for lost events */
	const uint64_t *by_verdict; /* events-lost: the lost ones by verdict */
	/* events-lost, when the source could not say which connections the
	 * loss belonged to: the groups a loss alone could make look like
	 * this (unanswered, half-open...), which are no findings then. */
	const struct diag_group *const *doubtful;
	int ndoubtful;
};

/*
 * The Linux SYN schedule (measured on 6.18: docs/verdicts.md): with the
 * 1 s initial RTO, the first tcp_syn_linear_timeouts + 1 timeouts are 1 s,
 * then each doubles (capped at 120 s); at each timeout the kernel re-sends
 * the SYN unless the time since the first SYN has reached its budget,
 * (2^(tcp_syn_retries + 1) - 1) s (beyond 6 retries, 127 s + 120 s
 * each), in which case connect() fails with ETIMEDOUT (110).
 * linear < 0: the sysctl does not exist (0).
 */
#define DIAG_SYN_SCHED_MAX 64
struct diag_syn_schedule {
	int n;					/* SYNs re-sent */
	uint64_t resend_ms[DIAG_SYN_SCHED_MAX]; /* when, after the first SYN */
	uint64_t give_up_ms;			/* ETIMEDOUT, after the first SYN */
};
void diag_syn_schedule(int retries, int linear, struct diag_syn_schedule *s);

struct diag;

/* NULL on no memory. */
struct diag *diag_new(void);
/* A deep copy (to add active flows for a mid-run report); NULL on no memory. */
struct diag *diag_copy(const struct diag *d);
void diag_free(struct diag *d);

/* Count one connection with its verdict (final, or current for mid-run). */
void diag_add(struct diag *d, const struct flow *f, enum lt_verdict v);
/* Connections added so far. */
uint64_t diag_conns(const struct diag *d);

/*
 * The rules: what d and c show, as facts, in the order the findings are
 * listed. Returns how many were stored in *out (free() it), or -ENOMEM.
 * There is always at least one: no connections, or nothing wrong, are
 * findings too.
 */
int diag_decide(const struct diag *d, const struct diag_context *c, struct diag_fact **out);

/* The words for one fact (diagnose_words.c): title, text and next step,
 * which may use markdown `code` spans. */
void diag_words(const struct diag_fact *x, const struct diag_context *c, struct sbuf *title,
		struct sbuf *text, struct sbuf *next);

/*
 * The findings: events-lost first (it says what the others may miss),
 * then most severe first. Returns how many were stored in *out
 * (free with diag_findings_free), or -ENOMEM. There is always at least
 * one finding: no connections, or nothing wrong, are findings too.
 */
int diag_findings(const struct diag *d, const struct diag_context *c, struct diag_finding **out);
void diag_findings_free(struct diag_finding *f, int n);

const char *diag_severity_name(enum diag_severity s); /* "error" ... */
const char *diag_id_name(enum diag_id id);	      /* "refused-other-family" */

#endif
