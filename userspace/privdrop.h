/* SPDX-License-Identifier: MIT */
/*
 * privdrop.h - giving up root once everything privileged is open (-Z).
 *
 * A run started as root opens its source (eBPF hooks and ring, or the
 * pcap handle, or a capture file), its output files and its metrics
 * socket, and then becomes the -Z user (default nobody, as tcpdump -Z):
 * supplementary groups, gid, uid, in that order, checked with
 * getresuid/getresgid; every capability outside the run's keep set is
 * cleared from the effective, permitted, inheritable, ambient and bounding
 * sets; no_new_privs is set. "-Z root" keeps root and every capability.
 * A run started without root keeps its uid and only clears capabilities.
 * Does not own which capabilities a run keeps (run.c decides, from its
 * source).
 */
#ifndef LT_PRIVDROP_H
#define LT_PRIVDROP_H

#include <stdint.h>
#include <sys/types.h>

#define PRIVDROP_DEFAULT_USER "nobody"

struct privdrop {
	int resolved;	 /* privdrop_resolve ran (main.c); else nothing is dropped */
	int switch_user; /* become user/uid/gid (started as root, -Z not root) */
	int keep_all;	 /* -Z root: nothing is dropped */
	uid_t uid;
	gid_t gid;
	char user[64];
};

/* Resolve -Z (NULL: the default) before anything is opened. Returns 0,
 * or -1 with a one-line message in err (a usage error: exit 2). */
int privdrop_resolve(const char *user, int user_given, struct privdrop *pd, char *err, int errlen);

/* Switch user (if planned), keep only the capabilities in keep (bit n =
 * capability n; those not held are not gained), set no_new_privs, and
 * check the result. Returns 0, or -1 with a one-line message in err: the
 * caller must stop (a runtime error, exit 1), never go on as root. */
int privdrop_apply(const struct privdrop *pd, uint64_t keep, char *err, int errlen);

/* The effective capabilities of the calling thread (bit n = capability n). */
uint64_t privdrop_effective(void);

/* "cap_sys_ptrace,cap_dac_read_search" for a mask; "none" for 0. */
const char *privdrop_cap_names(uint64_t caps, char *out, int outlen);

#endif
