/* SPDX-License-Identifier: MIT */
/*
 * src_filter.h - a source whose frameless observations (eBPF) pass a
 * pcap-filter expression first, so the expression means the same on every
 * backend. Observations with a frame were filtered by libpcap already and
 * pass untouched. The kernel still filters by --port (its port map).
 */
#ifndef LT_SRC_FILTER_H
#define LT_SRC_FILTER_H

#include "source.h"

/* Wraps inner (taken over: closed with it, and on failure). NULL + err. */
struct lt_source *src_filter_wrap(struct lt_source *inner, const char *expr, char err[LT_ERR_LEN]);

#endif
