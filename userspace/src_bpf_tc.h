/* SPDX-License-Identifier: MIT */
/*
 * src_bpf_tc.h - the clsact + cls_bpf fallback hook on lo, and its guard.
 *
 * Before Linux 6.6 (no tcx) lotrace's tc program hangs on lo as a classic
 * cls_bpf filter on the egress side of a clsact qdisc. Unlike a tcx link
 * such a filter is held by the device, not by a descriptor, so it would
 * outlive a killed lotrace. This module owns that hook: finding filters
 * of earlier killed runs and removing them, attaching ours (creating the
 * qdisc if there was none), detaching exactly what we added, and the
 * guard: a small process forked before the attach that keeps only
 * CAP_NET_ADMIN and one pipe, and removes our filter (and the qdisc if we
 * created it and it is empty) when the pipe closes without a word from
 * lotrace, that is when lotrace died. On a normal exit lotrace detaches
 * itself, then says "done", and the guard exits touching nothing; a
 * lotrace that gave up CAP_NET_ADMIN (-Z) closes the pipe instead, and the
 * guard removes them.
 * It does not own the tcx link (src_bpf.c: an fd, gone with the process).
 */
#ifndef LT_SRC_BPF_TC_H
#define LT_SRC_BPF_TC_H

#include <stdint.h>
#include <sys/types.h>

struct tc_clsact {
	int ifindex;
	int attached;	   /* our filter is on egress */
	int qdisc_created; /* we created the clsact qdisc */
	uint32_t handle, prio, prog_id;
	pid_t guard_pid; /* 0: no guard */
	int guard_fd;	 /* write end of the guard's pipe, -1 none */
};

/* Remove lotrace filters on ifindex's egress whose program no process
 * holds (a killed run's); returns how many. Others' filters stay. */
int tc_clsact_sweep_stale(int ifindex);
/* Attach prog_fd as our filter (clsact created if missing), guarded;
 * stale_removed: the sweep just removed filters (an empty clsact left is
 * then taken as ours). 0 or -errno, with nothing left on failure. */
int tc_clsact_attach(struct tc_clsact *t, int ifindex, int prog_fd, int stale_removed);
/* Remove what attach added, then release the guard. Idempotent. */
void tc_clsact_detach(struct tc_clsact *t);

#endif
