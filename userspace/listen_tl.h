/* SPDX-License-Identifier: MIT */
/*
 * listen_tl.h - the listener timeline: sockets that began or stopped
 * listening during a run, in the order they did.
 *
 * Fed by the engine with each LT_OBS_LISTEN observation (eBPF: listen()
 * and the close of a listening socket on a watched port, with the
 * process and when it started). Bounded: past LISTEN_TL_MAX events the
 * rest are counted, not kept. A capture has no such events: there the
 * first SYN-ACK is the only evidence of a listener (diagnose.c says so).
 * Owns no output: the report, the listener notes, the diagnosis and the
 * TUI read it.
 */
#ifndef LT_LISTEN_TL_H
#define LT_LISTEN_TL_H

#include <stdbool.h>
#include <stdint.h>

#include "listeners.h"
#include "obs.h"

#define LISTEN_TL_MAX 4096

/* One change of a listener. */
struct listen_ev {
	uint64_t ts_ns;		   /* ns since the epoch */
	uint8_t what;		   /* enum lt_listen_change */
	struct listener l;	   /* endpoint, backlog, pid, comm (queued 0, inode 0) */
	uint32_t netns;		   /* namespace inode, 0 unknown */
	const struct lt_netns *ns; /* its names (the source's, valid until it
				    * closes), or NULL */
	uint64_t proc_start_ns;	   /* when the process started, 0 unknown */
};

struct listen_tl {
	struct listen_ev *v; /* in arrival (= time) order */
	uint32_t n, cap;
	uint64_t dropped; /* events past LISTEN_TL_MAX, not kept */
};

/* Take o (LT_OBS_LISTEN) into the timeline; returns the event kept, or
 * NULL (full, no memory: counted in dropped). */
const struct listen_ev *listen_tl_add(struct listen_tl *t, const struct lt_obs *o);
void listen_tl_free(struct listen_tl *t);

/* Does the listener of e take a SYN to family/addr/port in namespace
 * netns (0: any)? The kernel's rule, listener_takes (listeners.h). */
bool listen_ev_takes(const struct listen_ev *e, uint8_t family, const uint8_t addr[16],
		     uint16_t port, uint32_t netns);

/*
 * Around a refusal at ts of a SYN to family/addr/port (netns 0: any):
 * the last event at or before ts of a listener that takes it (*before,
 * NULL: none) and the first one after ts (*after, NULL: none). Returns
 * how many events there are for that address at all.
 */
int listen_tl_around(const struct listen_ev *v, int n, uint8_t family, const uint8_t addr[16],
		     uint16_t port, uint32_t netns, uint64_t ts, const struct listen_ev **before,
		     const struct listen_ev **after);

#endif
