/* SPDX-License-Identifier: MIT */
/* src_bpf_verifier.c - the verifier's figures for each program, under -v
 * (src_bpf_verifier.h). */
#include "src_bpf_verifier.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

/* The statistics (level 4) take a few lines. (Not level 1 as well: on
 * success the kernel still formats every state it prints into its log
 * ring, and lotrace_tc's walk took 1.4 s instead of 0.3.) */
#define LOG_BYTES 4096

struct verifier_logs {
	int n;
	struct {
		const struct bpf_program *prog;
		char *buf;
	} v[];
};

struct verifier_logs *verifier_logs_arm(struct bpf_object *obj)
{
	struct bpf_program *p;
	struct verifier_logs *v;
	int n = 0;

	bpf_object__for_each_program(p, obj) n += bpf_program__autoload(p);
	v = calloc(1, sizeof(*v) + (size_t)n * sizeof(v->v[0]));
	if (!v)
		return NULL;
	bpf_object__for_each_program(p, obj)
	{
		char *buf;

		if (!bpf_program__autoload(p) || v->n == n || !(buf = calloc(1, LOG_BYTES)))
			continue;
		if (bpf_program__set_log_buf(p, buf, LOG_BYTES) ||
		    bpf_program__set_log_level(p, 4)) {
			bpf_program__set_log_buf(p, NULL, 0);
			free(buf);
			continue;
		}
		v->v[v->n].prog = p;
		v->v[v->n++].buf = buf;
	}
	return v;
}

void verifier_logs_report(struct verifier_logs *v, void (*say)(const char *line))
{
	if (!v)
		return;
	for (int i = 0; i < v->n; i++) {
		const char *buf = v->v[i].buf, *p = strstr(buf, "processed ");
		const char *t = strstr(buf, "verification time ");
		unsigned insns, limit;
		unsigned long us = 0;
		char line[200];

		if (t)
			sscanf(t, "verification time %lu usec", &us);
		if (p && sscanf(p, "processed %u insns (limit %u)", &insns, &limit) == 2)
			snprintf(line, sizeof(line),
				 "lotrace: verifier: %s walked %u of %u instructions in %lu ms",
				 bpf_program__name(v->v[i].prog), insns, limit, us / 1000);
		else
			snprintf(line, sizeof(line),
				 "lotrace: verifier: %s: no figures (not loaded)",
				 bpf_program__name(v->v[i].prog));
		say(line);
		free(v->v[i].buf);
	}
	free(v);
}
