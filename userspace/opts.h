/* SPDX-License-Identifier: MIT */
/*
 * opts.h - the command line: every option lotrace takes, parsed and
 * validated before anything else runs.
 *
 * opts_parse returns 0, or -1 with a one-line message in o->err (for exit
 * status 2); --help and --version set o->help / o->version.
 */
#ifndef LT_OPTS_H
#define LT_OPTS_H

#include <stdint.h>
#include <stdio.h>

#include "ports.h"
#include "privdrop.h"

enum lt_backend_choice { LT_BACKEND_AUTO = 0, LT_BACKEND_EBPF, LT_BACKEND_PCAP };
enum lt_format { LT_FMT_TEXT = 0, LT_FMT_JSON, LT_FMT_MARKDOWN, LT_FMT_ZEEK };

#define LT_MAX_READ 64 /* -r files (after glob expansion: src_open) */
#define LT_OPTS_FILTER_MAX 1024

struct lt_opts {
	const char *read_file;	 /* -r: the first one (NULL: live) */
	const char *ifname;	 /* -i, NULL = loopback */
	const char *write_file;	 /* -w */
	const char *report_file; /* --report FILE (live or replay) */
	struct ports ports;	 /* -p */
	enum lt_backend_choice backend;
	int attach;	       /* eBPF: 0 auto (tcx, else tc), 1 tcx, 2 tc (clsact) */
	const char *netns;     /* --netns: one network namespace, NULL = every
				     * one (eBPF) or lotrace's own (libpcap) */
	enum lt_format format; /* --json / --format */
	int format_set;
	int no_tui;
	int tui;	      /* --tui: force the TUI */
	uint64_t count;	      /* -c, 0 = unlimited */
	uint64_t duration_ns; /* --duration, 0 = until stopped */
	uint32_t max_flows;
	uint32_t ring_bytes;
	double speed; /* TUI replay: 0 = instant, 1 = real time */
	int demo;     /* --demo: replay the bundled capture */
	int verbose;
	int help, version;
	int report_cmd; /* "lotrace report ..." */
	/* input, selection, output files (tcpdump habits) */
	const char *read_files[LT_MAX_READ]; /* every -r, in order; "-" = stdin */
	int nread;
	char filter[LT_OPTS_FILTER_MAX]; /* trailing pcap-filter expression, "" = none */

	/* how connection lines look (sink.h): -t.. -ttttt, -q, --sort */
	int ts_mode;	/* enum lt_ts_mode: number of -t given */
	int quiet;	/* -q: the summary only */
	int sort_start; /* --sort start: lines by first packet (files) */
	/* metrics and service outputs (metrics.h, metrics_serve.h) */
	const char *metrics_listen;   /* --metrics [ADDR:]PORT, NULL = no HTTP */
	const char *metrics_file;     /* --metrics-file PATH */
	uint64_t metrics_interval_ns; /* --metrics-interval, default 15 s */
	const char *json_file;	      /* --json FILE: records to FILE, reopened on SIGHUP */
	int no_payload;		      /* --no-payload: no first bytes, no protocol */
	/* -Z USER: who the run becomes once everything is open (privdrop.h) */
	const char *run_as;   /* NULL: nobody when root */
	struct privdrop drop; /* run_as resolved (main.c), applied by run.c */
	char err[256];
};

int opts_parse(struct lt_opts *o, int argc, char **argv);
/* "10s", "500ms", "2m", "1h", "3" (seconds) -> ns; -1 on error */
int64_t opts_parse_duration(const char *s);
void opts_usage(FILE *out);

#endif
