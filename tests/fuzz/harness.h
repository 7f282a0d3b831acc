/* SPDX-License-Identifier: MIT */
/*
 * harness.h - what both libFuzzer targets share: the options the input's
 * bits pick, and an engine with the text and JSON sinks and the report
 * attached, as run.c sets them up, all writing to /dev/null.
 *
 * Owns the set-up and tear-down only; the targets own their input format
 * and feed the engine themselves.
 */
#ifndef LT_FUZZ_HARNESS_H
#define LT_FUZZ_HARNESS_H

#include <stdint.h>
#include <stdio.h>

#include "engine.h"
#include "frontends.h"
#include "report.h"
#include "sink.h"

struct fuzz_run {
	struct engine *eng;
	struct lt_sink *sk[2]; /* text, JSON */
	struct report *rep;
	FILE *null;
};

/* Options from three bits: bit 0 a 16-flow table (eviction paths; else
 * 1024, as the default 65536 costs ms per run), bit 1 stop after 3
 * connections (--count 3), bit 2 watch only port 61900 (--port 61900). */
void fuzz_opts(struct lt_opts *o, uint8_t bits);
/* The engine for o with the sinks and the report; -1 if it could not be
 * made (nothing is then left open). */
int fuzz_start(struct fuzz_run *fr, const struct lt_opts *o, int live);
/* The sinks' begin, once ri is filled. */
void fuzz_begin(struct fuzz_run *fr, const struct lt_run_info *ri);
/* Finish the engine, end the sinks, write the report in every format and
 * free it all. */
void fuzz_end(struct fuzz_run *fr, const struct lt_run_info *ri, const struct lt_source_stats *ss);

#endif
