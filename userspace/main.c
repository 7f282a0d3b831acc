/* SPDX-License-Identifier: MIT */
/*
 * main.c - lotrace: what happens to TCP connections on loopback.
 *
 * Wires a source (capture file, libpcap live, eBPF) to the engine and its
 * outputs (text, JSON, report, TUI), runs the loop, and maps failures to
 * one-line messages and exit codes: 0 done, 1 runtime or input error,
 * 2 bad usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "opts.h"
#include "source.h"
#include "frontends.h"
#include "listen_note.h"
#include "pcapw.h"
#include "report.h"


#ifndef LT_VERSION
#define LT_VERSION "0.0.0"
#endif

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

static struct lt_sink *make_sink(const struct lt_opts *o)
{
	if (o->format == LT_FMT_JSON)
		return sink_json_new(stdout);
	return sink_text_new(stdout);
}

static int run_headless(const struct lt_opts *o)
{
	struct lt_source *src;
	struct engine eng;
	struct flow_config cfg;
	struct lt_run_info ri;
	struct lt_source_stats ss;
	char err[LT_ERR_LEN], note[LT_ERR_LEN];
	int status = 0;

	if (lt_open_source(o, &src, note, sizeof(note), err) < 0) {
		fprintf(stderr, "lotrace: %s\n", err);
		return EXIT_RUNTIME;
	}
	int live = lt_source_is_live(src);
	if (note[0])
		fprintf(stderr, "lotrace: %s\n", note);
	lt_flow_config(&cfg, o, live);
	if (engine_init(&eng, &cfg) < 0) {
		fprintf(stderr, "lotrace: out of memory for %u flows; lower --max-flows\n",
			cfg.max_flows ? cfg.max_flows : LT_FLOWS_DEFAULT);
		src->ops->close(src);
		return EXIT_RUNTIME;
	}
	eng.max_conns = o->count;
	for (int i = 0; i < o->ports.n; i++)
		stats_watch(eng.stats, o->ports.list[i]);
	engine_add_sink(&eng, make_sink(o));
	if (o->write_file) {
		eng.writer = pcapw_open(o->write_file, err);
		if (!eng.writer) {
			fprintf(stderr, "lotrace: %s\n", err);
			engine_release(&eng);
			src->ops->close(src);
			return EXIT_RUNTIME;
		}
	}
	struct listen_note *notes = NULL;
	if (live && (notes = malloc(sizeof(*notes)))) {
		listen_note_attach(notes, &eng, stdout, o->format == LT_FMT_JSON);
		for (int i = 0; i < o->ports.n; i++)
			listen_note_print(notes, o->ports.list[i], "start", NULL);
	}
	struct report *rep = o->report_file ? report_attach(&eng, o, live) : NULL;
	lt_run_info_fill(&ri, o, src, note);
	if (live && o->verbose)
		fprintf(stderr, "lotrace: capturing with %s on %s\n", src->ops->name,
			src->desc);
	engine_begin(&eng, &ri);

	int rc = lt_pump(src, &eng, o->duration_ns, 100);
	engine_finish(&eng);
	src->ops->stats(src, &ss);
	/* A file that yields not one frame gets an error, not an empty summary. */
	if (!(ss.read_error[0] && !live && ss.dec.frames == 0))
		engine_end(&eng, &ri, &ss);

	if (eng.writer) {
		uint64_t n = pcapw_count(eng.writer);
		if (pcapw_close(eng.writer) < 0) {
			fprintf(stderr, "lotrace: writing '%s' failed: %s\n",
				o->write_file, strerror(errno));
			status = EXIT_RUNTIME;
		} else if (o->verbose || live) {
			fprintf(stderr, "lotrace: wrote %llu segments to '%s' (header snapshots, snaplen %d)\n",
				(unsigned long long)n, o->write_file, PCAPW_SNAPLEN);
		}
		eng.writer = NULL;
	}
	if (rep) {
		FILE *rf = fopen(o->report_file, "w");
		if (!rf || report_write(rep, rf, report_format_for(o->report_file),
					&ri, &ss, 0) < 0) {
			fprintf(stderr, "lotrace: cannot write report '%s': %s\n",
				o->report_file, strerror(errno));
			status = EXIT_RUNTIME;
		}
		if (rf && fclose(rf) != 0 && !status) {
			fprintf(stderr, "lotrace: cannot write report '%s': %s\n",
				o->report_file, strerror(errno));
			status = EXIT_RUNTIME;
		}
		report_free(rep);
	}
	if (rc < 0 && rc != -EPIPE) {
		fprintf(stderr, "lotrace: capture failed: %s\n",
			ss.read_error[0] ? ss.read_error : strerror(-rc));
		status = EXIT_RUNTIME;
	}
	if (ss.read_error[0] && !live && ss.dec.frames == 0) {
		fprintf(stderr, "lotrace: cannot read capture '%s': %s\n", src->desc,
			ss.read_error);
		status = EXIT_RUNTIME;
	} else if (ss.read_error[0] && !live) {
		fprintf(stderr,
			"lotrace: capture '%s' ends early: %s; the connections above are what it held\n",
			src->desc, ss.read_error);
		status = EXIT_RUNTIME;
	}
	if (ss.lost)
		fprintf(stderr, "lotrace: %llu events were lost\n",
			(unsigned long long)ss.lost);
	src->ops->close(src);
	engine_release(&eng);
	free(notes);
	return status;
}

int main(int argc, char **argv)
{
	struct lt_opts o;

	if (opts_parse(&o, argc, argv) < 0) {
		fprintf(stderr, "lotrace: %s\n", o.err);
		return EXIT_USAGE;
	}
	if (o.help) {
		opts_usage(stdout);
		return 0;
	}
	if (o.version) {
		printf("lotrace %s\n", LT_VERSION);
		return 0;
	}
	lt_install_signals();
	if (o.report_cmd)
		return lt_report_main(&o);
	if (lt_want_tui(&o))
		return lt_tui_main(&o);
	return run_headless(&o);
}
