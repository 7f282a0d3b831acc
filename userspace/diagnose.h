/* SPDX-License-Identifier: MIT */
/*
 * diagnose.h - findings: what the connections show, and what to check next.
 *
 * Owns: the evidence a report needs, collected one retired connection at a
 * time (diag_add) in bounded memory: connections grouped by what they
 * have in common (refused by one server address, unanswered SYNs to one
 * address, reset after the request...), with counts, the kernel context
 * they carried and the smallest connection ids as references. At the end
 * diag_findings turns the groups, plus what the run knows besides the
 * connections (listeners of a live run, lost events, decode problems),
 * into findings in plain words.
 *
 * Honesty rules the findings keep: each one names the connections it
 * rests on; a connection that was live while the source lost events
 * (LT_A_EVENTS_LOST) is the basis of no finding but events-lost; a kernel reason is only mentioned when a connection carried
 * one (the eBPF backend); what a packet capture cannot tell apart is said
 * to be so. Finding ids are stable (docs/report-schema.md); the text may
 * use markdown `code` spans, which plain-text outputs strip.
 * Does not own: output formats (report.c), listener queries (listeners.h).
 */
#ifndef LT_DIAGNOSE_H
#define LT_DIAGNOSE_H

#include <stdint.h>

#include "flow.h"
#include "listeners.h"
#include "ports.h"
#include "source.h"

/* Connection ids a finding keeps (the smallest ones). */
#define DIAG_REFS_MAX 50

/* One connection a finding rests on. */
struct diag_ref {
	uint64_t id;
	uint8_t family;
	struct lt_endpoint client, server;
};

enum diag_severity {
	DIAG_ERROR = 0, /* connections failed */
	DIAG_WARNING,   /* something went wrong, or the evidence is incomplete */
	DIAG_INFO,      /* worth knowing, nothing failed */
};

struct diag_finding {
	char id[32];             /* stable key, e.g. "refused", "unanswered" */
	enum diag_severity severity;
	char title[200];
	char *text;              /* what the evidence shows; owned */
	char *next_step;         /* what to check next; owned, may be "" */
	/* The connections it rests on: refs[0..nprimary) are the ones the
	 * finding is about (ascending ids), the rest (ascending too) those it
	 * compares them with, e.g. the answered side of "refused on IPv4,
	 * answered on IPv6". */
	struct diag_ref refs[DIAG_REFS_MAX];
	int nrefs, nprimary;
	uint64_t total;          /* connections it rests on (>= nrefs) */
};

/* What the run knows besides the connections. */
struct diag_context {
	int live;                      /* a live capture (listeners were queried) */
	int partial;                   /* written mid-run: flows still active */
	int kernel;                    /* the backend reports kernel context (eBPF) */
	/* Listeners at the start and the end of a live run; n < 0: the
	 * query failed (then nothing is said about listeners). */
	const struct listener *start;
	int nstart;
	const struct listener *end;
	int nend;
	struct listen_counters c_start, c_end; /* -1: unknown */
	uint64_t t_end;                        /* newest observation, 0 unknown */
	const struct lt_source_stats *src;     /* may be NULL */
	const struct flow_counters *flows;     /* may be NULL */
	const struct ports *watched;           /* may be NULL */
};

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
 * The findings: events-lost first (it says what the others may miss),
 * then most severe first. Returns how many were stored in *out
 * (free with diag_findings_free), or -ENOMEM. There is always at least
 * one finding: no connections, or nothing wrong, are findings too.
 */
int diag_findings(const struct diag *d, const struct diag_context *c,
		  struct diag_finding **out);
void diag_findings_free(struct diag_finding *f, int n);

const char *diag_severity_name(enum diag_severity s); /* "error" ... */

#endif
