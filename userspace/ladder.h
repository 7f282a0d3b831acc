/* SPDX-License-Identifier: MIT */
/*
 * ladder.h - one connection as an ASCII ladder (sequence) diagram.
 *
 * The client is the left column, the server the right one; every
 * timeline entry of the flow (flow.h) becomes one arrow line naming the
 * segment, its count and bytes, with the time since the connection's
 * first segment at the right:
 *
 *   client 127.0.0.1:55188                         server 127.0.0.1:61905
 *   |------------------------- SYN ------------------------->|  0
 *   |<----------------------- SYN-ACK -----------------------|  +16us
 *   |------------------------ DATA 64B --------------------->|  +97us
 *
 * Segments the kernel dropped (eBPF) end in an X short of the other
 * column. Plain ASCII, no trailing spaces, every line at most `width`
 * columns; no state, no allocation beyond the sbuf. Used by the report
 * and free for the TUI to reuse.
 */
#ifndef LT_LADDER_H
#define LT_LADDER_H

#include "flow.h"
#include "sbuf.h"

#define LADDER_WIDTH_MIN 48
#define LADDER_WIDTH_MAX 100
#define LADDER_WIDTH_DEFAULT 76

/* Append f's ladder to b, each line ending in '\n'. width is clamped to
 * LADDER_WIDTH_MIN..LADDER_WIDTH_MAX. */
void ladder_render(struct sbuf *b, const struct flow *f, int width);

/* The label of one timeline entry as the ladder shows it, e.g. "SYN",
 * "SYN (2nd)", "DATA 3 segments, 1.2kB". nth: 1 for the first entry of
 * this kind and direction, 2 for the next... */
void ladder_label(struct sbuf *b, const struct lt_tl_entry *e, unsigned nth);

#endif
