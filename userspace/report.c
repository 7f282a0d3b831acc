/* SPDX-License-Identifier: MIT */
/* report.c - placeholder until the bug-report summary lands (issue 5). */
#include <stdio.h>

#include "frontends.h"

int lt_report_main(const struct lt_opts *o)
{
	(void)o;
	fprintf(stderr, "lotrace: 'report' is not available in this build yet\n");
	return 1;
}
