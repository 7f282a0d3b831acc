/* SPDX-License-Identifier: MIT */
/*
 * listeners.h - who listens on a port, and the kernel's listen counters.
 *
 * Linux only, no privileges needed for what the kernel shows everyone:
 * listening TCP sockets come from NETLINK_SOCK_DIAG (inet_diag, state
 * LISTEN, IPv4 and IPv6) of the caller's network namespace; their owning
 * process from /proc/PID/fd links of the form socket:[INODE]. Without
 * root, sockets of other users' processes keep pid -1 and an empty comm.
 * Also reads TcpExt ListenOverflows/ListenDrops from /proc/net/netstat and
 * the SYN retry sysctls. Owns no state between calls; uses no libbpf.
 */
#ifndef LT_LISTENERS_H
#define LT_LISTENERS_H

#include <stdint.h>

#include "obs.h"

struct listener {
	uint8_t family;      /* 4 or 6 */
	uint8_t addr[16];    /* network order; IPv4 in the first 4 bytes; zero = any */
	uint16_t port;
	uint32_t backlog;    /* configured backlog (inet_diag idiag_wqueue) */
	uint32_t queued;     /* connections waiting for accept() (idiag_rqueue) */
	int32_t pid;         /* owning process, -1 unknown */
	char comm[LT_COMM_LEN];
	int v6only;          /* IPv6 socket with IPV6_V6ONLY: takes no IPv4 */
	uint32_t inode;      /* socket inode, 0 unknown */
};

/*
 * Fill out[0..max) with the listening sockets on any of ports[0..nports)
 * (nports 0: every port). Returns how many were found, which may exceed
 * max (only max are written), or a negative errno.
 */
int listeners_query(const uint16_t *ports, int nports, struct listener *out, int max);

/* TcpExt counters since boot; -1 when unavailable. */
struct listen_counters {
	int64_t overflows;   /* ListenOverflows: SYN or ACK met a full accept queue */
	int64_t drops;       /* ListenDrops: every SYN dropped by a listener */
};

/* Returns 0, or a negative errno when /proc/net/netstat cannot be read. */
int listeners_netstat(struct listen_counters *c);

/* net.ipv4 SYN retry settings; -1 when the sysctl does not exist. */
struct tcp_syn_sysctls {
	int syn_retries;          /* tcp_syn_retries */
	int synack_retries;       /* tcp_synack_retries */
	int syn_linear_timeouts;  /* tcp_syn_linear_timeouts (recent kernels) */
};

void listeners_sysctls(struct tcp_syn_sysctls *s);

#endif
