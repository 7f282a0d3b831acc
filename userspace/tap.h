/* SPDX-License-Identifier: MIT */
/*
 * tap.h - what a consumer of a run receives.
 *
 * A tap is a set of callbacks and a context: every observation as it is
 * read (the -w pcap writer), every change of an active connection (the
 * TUI) and every connection as it is retired with its final verdict (the
 * text and JSON sinks, the report, listener notes, the TUI), and every
 * change of a listener the source saw (eBPF). Any callback
 * may be NULL. Taps are added to and removed from the engine through its
 * API (engine_add_tap, engine_remove_tap); the engine never knows what is
 * behind one.
 */
#ifndef LT_TAP_H
#define LT_TAP_H

#include "flow.h"
#include "listen_tl.h"
#include "obs.h"

struct lt_tap {
	/* Each observation, before the engine sees it. */
	void (*on_obs)(void *ctx, const struct lt_obs *o);
	/* Each observation after the engine took it, with the connection it
	 * belongs to now (NULL: kernel context, or on no watched port): the
	 * -w writer, which writes a connection's packets and comments. */
	void (*on_flow_obs)(void *ctx, const struct lt_obs *o, const struct flow *f);
	/* An active connection changed (its verdict as of now). */
	void (*on_change)(void *ctx, const struct flow *f, enum lt_verdict v);
	/* The verdicts on_change acts on, a bit (1u << v) each, 0: all. It
	 * may still be called for others (another tap wants them); without
	 * a tap that wants a verdict, the flow table does not call the
	 * engine for it (a live flood's 4 changes per connection). */
	uint32_t change_verdicts;
	/* A connection left the table: final verdict. */
	void (*on_retire)(void *ctx, const struct flow *f, enum lt_verdict v);
	/* A socket began or stopped listening (eBPF), as the engine's
	 * listener timeline keeps it (listen_tl.h). */
	void (*on_listen)(void *ctx, const struct listen_ev *ev);
	void *ctx;
};

#endif
