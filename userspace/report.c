/* SPDX-License-Identifier: MIT */
/* report.c - placeholder until the bug-report summary lands (issue 5). */
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frontends.h"

struct report {
	int unused;
};

struct report *report_attach(struct engine *e, const struct lt_opts *o, int live)
{
	(void)e;
	(void)o;
	(void)live;
	return calloc(1, sizeof(struct report));
}

int report_write(struct report *r, FILE *out, enum lt_format fmt,
		 const struct lt_run_info *ri, const struct lt_source_stats *ss,
		 int partial)
{
	(void)r; (void)out; (void)fmt; (void)ri; (void)ss; (void)partial;
	return -ENOSYS;
}

enum lt_format report_format_for(const char *path)
{
	size_t n = strlen(path);
	if (n >= 3 && !strcmp(path + n - 3, ".md"))
		return LT_FMT_MARKDOWN;
	if (n >= 5 && !strcmp(path + n - 5, ".json"))
		return LT_FMT_JSON;
	return LT_FMT_TEXT;
}

void report_free(struct report *r)
{
	free(r);
}

int lt_report_main(const struct lt_opts *o)
{
	(void)o;
	fprintf(stderr, "lotrace: 'report' is not available in this build yet\n");
	return 1;
}
