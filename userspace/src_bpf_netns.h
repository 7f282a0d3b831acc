/* SPDX-License-Identifier: MIT */
/*
 * src_bpf_netns.h - the network namespaces the eBPF source watches.
 *
 * The tracepoints see every namespace; the tc hook is per namespace. This
 * module finds the namespaces (the `ip netns` bind mounts in /run/netns
 * and every process's /proc/PID/ns/net, deduplicated by inode), enters
 * each new one in a short-lived thread (lotrace's own thread never leaves
 * its namespace) to find its `lo` and let the caller attach there, holds
 * what the caller returns (a tcx link fd: gone with the process, even
 * after SIGKILL), and names namespaces for the output: the `ip netns`
 * name, "host" for the initial namespace, and the container the owner's
 * cgroup names (docker, podman/libpod, containerd, systemd-nspawn).
 * Does not own the attach itself (src_bpf.c) nor the kernel-side
 * namespace filter.
 */
#ifndef LT_SRC_BPF_NETNS_H
#define LT_SRC_BPF_NETNS_H

#include <stdint.h>

#include "obs.h"

struct netns_set;

/* Attach in the namespace the calling thread is in (ifindex: its lo).
 * Returns a file descriptor to hold, or a negative errno. */
typedef int (*netns_attach_fn)(void *ctx, int ifindex);

/*
 * A set watching every namespace (only NULL) or one (only: an `ip netns`
 * name, a path such as /proc/PID/ns/net, or "host" for lotrace's own).
 * Returns NULL with a one-line message in err (size 200).
 */
struct netns_set *netns_set_new(const char *only, char *err, int errlen);

/* Inode of lotrace's own namespace, and of the one watched when narrowed
 * (0: all). */
uint32_t netns_self(const struct netns_set *ns);
uint32_t netns_only(const struct netns_set *ns);

/*
 * Find namespaces not seen before (not lotrace's own: the caller attached
 * there already) and call fn inside each. Returns how many were attached;
 * *failed (may be NULL) gets how many could not be.
 */
int netns_scan(struct netns_set *ns, netns_attach_fn fn, void *ctx, int *failed);

/* How many namespaces are attached besides lotrace's own. */
int netns_attached(const struct netns_set *ns);

/*
 * The names of namespace ino (stable until netns_set_free); pid, when > 0,
 * is a process using it, whose cgroup may name the container. NULL when
 * ino is 0.
 */
const struct lt_netns *netns_lookup(struct netns_set *ns, uint32_t ino, int32_t pid);

/* Closes every held descriptor (detaching the links). */
void netns_set_free(struct netns_set *ns);

/* The container a cgroup line names, e.g. "docker:3f2a9c1b7e4d" for
 * "0::/system.slice/docker-3f2a9c1b7e4d....scope"; "" when none. Pure:
 * unit-tested. */
void netns_container_of_cgroup(const char *cgroup, char *out, int outlen);

#endif
