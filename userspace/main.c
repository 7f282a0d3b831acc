/* SPDX-License-Identifier: MIT */
/*
 * main.c - lotrace: what happens to TCP connections on loopback.
 *
 * Parses the options and dispatches to one front end: headless (lines
 * and a summary), the report subcommand (both run by run.c) or the TUI
 * (tui/, which drives a run itself). Exit status: 0 done, 1 runtime or
 * input error, 2 bad usage.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "frontends.h"
#include "opts.h"
#include "pfilter.h"
#include "privdrop.h"
#include "run.h"
#include "source.h"
#include "version.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

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
		if (lt_version_print(stdout) == 0)
			return 0;
		fprintf(stderr, "lotrace: cannot write the version to stdout: %s\n",
			strerror(errno));
		return EXIT_RUNTIME;
	}
	/* a filter expression libpcap cannot compile is a usage error */
	char ferr[LT_ERR_LEN];
	if (o.filter[0] && pfilter_check(o.filter, ferr, sizeof(ferr)) < 0) {
		fprintf(stderr, "lotrace: %s\n", ferr);
		return EXIT_USAGE;
	}
	/* -Z: an unknown user is a usage error, found before anything opens */
	if (privdrop_resolve(o.run_as, o.run_as != NULL, &o.drop, ferr, sizeof(ferr)) < 0) {
		fprintf(stderr, "lotrace: %s\n", ferr);
		return EXIT_USAGE;
	}
	lt_install_signals();
	if (o.report_cmd)
		return run_main(&o, RUN_REPORT);
	if (lt_want_tui(&o))
		return lt_tui_main(&o);
	return run_main(&o, RUN_HEADLESS);
}
