/* SPDX-License-Identifier: MIT */
/* tui.c - placeholder until the ncurses view lands (issue 4). */
#include <stdio.h>

#include "frontends.h"

int lt_want_tui(const struct lt_opts *o)
{
	return o->tui;
}

int lt_tui_main(const struct lt_opts *o)
{
	(void)o;
	fprintf(stderr, "lotrace: the full-screen view is not available in this build yet; use --no-tui\n");
	return 1;
}
