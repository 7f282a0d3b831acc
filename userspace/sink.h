/* SPDX-License-Identifier: MIT */
/*
 * sink.h - where finished connections and the run summary go.
 *
 * Text and JSON implement the same three calls: begin once,
 * conn for every connection as it is retired (with its final verdict),
 * end once with the summary. Each record is formatted into an sbuf and
 * written with one fwrite, so lines never interleave; the stream is given
 * a large buffer (sink_buffer_output), so a batch of records costs one
 * write(2); the run flushes it often (run.c) and sees write errors there
 * (they stay on the FILE). A sink may instead gather its records in a
 * buffer of its own (struct sink_batch, when nothing else writes to the
 * stream between them, or what does calls sink_flush first: live runs'
 * listener notes) and write(2) it in blocks, saving the copy into stdio;
 * the run then calls sink_flush before it flushes the stream.
 */
#ifndef LT_SINK_H
#define LT_SINK_H

#include <stdio.h>

#include "flow.h"
#include "sbuf.h"
#include "ports.h"
#include "source.h"
#include "stats.h"

/* What every output says about the run. */
struct lt_run_info {
	const char *version;
	const char *backend;	  /* "pcap-file", "pcap", "ebpf" */
	const char *backend_note; /* why this backend, or NULL */
	const char *input;	  /* capture path or interface */
	const char *link_name;	  /* "EN10MB", or NULL for eBPF */
	const struct ports *ports;
	uint32_t max_flows;
	/* Set at the end when reading stopped before the input did (-c,
	 * --duration or a stop during a replay): why, and what was left out. */
	const char *cut;
};

struct lt_run_end {
	const struct stats *stats;
	const struct flow_counters *flows;
	const struct lt_source_stats *src;
};

struct lt_sink;

struct lt_sink_ops {
	void (*begin)(struct lt_sink *s, const struct lt_run_info *ri);
	void (*conn)(struct lt_sink *s, const struct flow *f, enum lt_verdict v);
	void (*end)(struct lt_sink *s, const struct lt_run_info *ri, const struct lt_run_end *re);
	void (*free)(struct lt_sink *s);
	/* optional: write what the sink holds (before the run flushes out) */
	void (*flush)(struct lt_sink *s);
};

struct lt_sink {
	const struct lt_sink_ops *ops;
	FILE *out;
};

/* Timestamps of text lines, as tcpdump's -t options. */
enum lt_ts_mode {
	LT_TS_DEFAULT = 0, /* 12:26:16.715528; with the date when the capture is
			    * not from today or spans more than one day */
	LT_TS_NONE,	   /* -t */
	LT_TS_EPOCH,	   /* -tt: 1795263976.715528 */
	LT_TS_DELTA,	   /* -ttt: since the previous line, 00:00:00.000012 */
	LT_TS_DATE,	   /* -tttt: 2026-11-21 12:26:16.715528 */
	LT_TS_SINCE_FIRST, /* -ttttt: since the first line */
};

/* How the connection records look; all zero is the default. */
struct lt_sink_cfg {
	enum lt_ts_mode ts_mode;
	int quiet;	  /* -q: the summary only (text, JSON) */
	int sort_start;	  /* --sort start: records by first packet, at the end */
	int netns_always; /* --netns: the namespace column even with one */
	int batch;	  /* nothing else writes to the stream between records
			   * without sink_flush first (listener notes flush
			   * it): the sink may hold them (struct sink_batch)
			   * until sink_flush */
};

/* How a connection's network namespace is shown: its `ip netns` name (or
 * "host"), else "netns:INODE", then "/CONTAINER" when one is known; ""
 * when the source knows no namespaces (captures, libpcap). */
void sink_netns_label(const struct flow *f, char *out, size_t len);
/* The same for a namespace (NULL: "") */
void sink_netns_name(const struct lt_netns *ns, char *out, size_t len);

/* One line per connection, then the per-port table. cfg may be NULL. */
struct lt_sink *sink_text_new(FILE *out);
struct lt_sink *sink_text_open(FILE *out, const struct lt_sink_cfg *cfg);
/* Newline-delimited JSON, schema in docs/json-schema.md. */
struct lt_sink *sink_json_new(FILE *out);
struct lt_sink *sink_json_open(FILE *out, const struct lt_sink_cfg *cfg);
/* Zeek conn.log JSON lines (--format zeek), docs/json-schema.md. */
struct lt_sink *sink_zeek_open(FILE *out, const struct lt_sink_cfg *cfg);
struct lt_opts;
/* The sink the options ask for (text, json or zeek) writing to out. */
struct lt_sink *sink_for_opts(FILE *out, const struct lt_opts *o);

/* The JSON schema_version of --json records (docs/json-schema.md). */
#define LT_JSON_SCHEMA_VERSION 1
/* The connection's index as tshark's tcp.stream numbers it: connections in
 * order of first packet, from 0 (equal when lotrace saw every TCP
 * conversation of the capture, i.e. without -p). */
static inline uint64_t sink_stream_index(const struct flow *f)
{
	return f->id ? f->id - 1 : 0;
}

/* One connection as a JSON object, no newline (sink_json.c); shared with
 * the report. */
void sink_json_conn_obj(struct sbuf *b, const struct flow *f, enum lt_verdict v);
struct json;
struct hist;
/* "k": ["syn-not-seen", ...], the anomaly names of docs/json-schema.md */
void sink_json_anomalies(struct json *j, const char *k, uint32_t anomalies);
struct port_stats;
/* One port's (or the total's) counters as a JSON object (--json summary,
 * report) */
void sink_json_port(struct json *j, const struct port_stats *p, int with_port);
/* "k": {"count","p50","p99","max"} or null */
void sink_json_hist(struct json *j, const char *k, const struct hist *h);

/* Give a non-terminal output a large stdio buffer (one write per batch);
 * call before anything is written to it. Terminals keep line buffering. */
void sink_buffer_output(FILE *out);

/* Write what the sink holds to its stream (the run calls it before it
 * flushes the stream, and before the stream changes). */
void sink_flush(struct lt_sink *s);

/*
 * Records gathered in the sink's own buffer and written with write(2) in
 * blocks of about SINK_BATCH_BYTES: a record is formatted in place, never
 * copied into stdio. Whatever stdio holds for the stream goes first. A
 * failed or short write is handed to stdio for the rest, which meets the
 * same error and keeps it on the stream (ferror, errno) as for every other
 * write. Off (a terminal, stderr, or cfg.batch unset), each record is
 * written with one fwrite when it ends, as before.
 */
#define SINK_BATCH_BYTES (1u << 18)
#define SINK_RECORD_CAP (1u << 20) /* most bytes of one record */
struct sink_batch {
	struct sbuf buf;
	bool on;
};
void sink_batch_init(struct sink_batch *sb, FILE *out, bool want);
void sink_batch_release(struct sink_batch *sb);
/* The buffer to append one record to (off: emptied first). */
struct sbuf *sink_batch_begin(struct sink_batch *sb);
/* The record is complete: written now (off), or once enough are held. */
void sink_batch_end(struct sink_batch *sb, FILE *out);
/* Write everything held. */
void sink_batch_flush(struct sink_batch *sb, FILE *out);

/* The verdict column text and a flow's outcome: verdict.h. */

#endif
