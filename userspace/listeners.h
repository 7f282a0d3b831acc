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
 *
 * Also owns, portable and pure, the rules about listeners every part of
 * lotrace applies the same way: which listener takes a SYN
 * (listener_takes), the 127.0.0.1-vs-::1 mix-up (lt_cross_family), and
 * how a listener is written (listener_format).
 */
#ifndef LT_LISTENERS_H
#define LT_LISTENERS_H

#include <stdbool.h>
#include <stdint.h>

#include "obs.h"

struct sbuf;

struct listener {
	uint8_t family;	  /* 4 or 6 */
	uint8_t addr[16]; /* network order; IPv4 in the first 4 bytes; zero = any */
	uint16_t port;
	uint32_t backlog; /* configured backlog (inet_diag idiag_wqueue) */
	uint32_t queued;  /* connections waiting for accept() (idiag_rqueue) */
	int32_t pid;	  /* owning process, -1 unknown */
	char comm[LT_COMM_LEN];
	int v6only;	/* IPv6 socket with IPV6_V6ONLY: takes no IPv4 */
	uint32_t inode; /* socket inode, 0 unknown */
};

/*
 * Fill out[0..max) with the listening sockets on any of ports[0..nports)
 * (nports 0: every port). Returns how many were found, which may exceed
 * max (only max are written), or a negative errno.
 */
int listeners_query(const uint16_t *ports, int nports, struct listener *out, int max);

/* TcpExt counters since boot; -1 when unavailable. */
struct listen_counters {
	int64_t overflows; /* ListenOverflows: SYN or ACK met a full accept queue */
	int64_t drops;	   /* ListenDrops: every SYN dropped by a listener */
};

/* Returns 0, or a negative errno when /proc/net/netstat cannot be read. */
int listeners_netstat(struct listen_counters *c);

/* net.ipv4 SYN retry settings; -1 when the sysctl does not exist. */
struct tcp_syn_sysctls {
	int syn_retries;	 /* tcp_syn_retries */
	int synack_retries;	 /* tcp_synack_retries */
	int syn_linear_timeouts; /* tcp_syn_linear_timeouts (recent kernels) */
};

void listeners_sysctls(struct tcp_syn_sysctls *s);

/*
 * Does l take a SYN to family/addr/port? The kernel's rule: the same
 * port, and either the same family with l bound to addr or to the
 * wildcard address, or l the IPv6 wildcard without IPV6_V6ONLY, which
 * takes IPv4 too. The report's diagnosis and the TUI header ask this;
 * bpf/lotrace.bpf.c's find_owner() mirrors it in the kernel (exact
 * address, then wildcard, then the IPv6 wildcard for IPv4; it does not
 * know V6ONLY).
 */
bool listener_takes(const struct listener *l, uint8_t family, const uint8_t addr[16],
		    uint16_t port);
/* The first of v[0..n) that takes that SYN, or NULL. */
const struct listener *listener_find_taker(const struct listener *v, int n, uint8_t family,
					   const uint8_t addr[16], uint16_t port);

/* family/addr is a loopback address: 127.0.0.0/8, ::1 or ::ffff:127.x. */
bool lt_addr_loopback(uint8_t family, const uint8_t addr[16]);
/*
 * a and b are loopback addresses of the two IP families (127.0.0.1 and
 * ::1): a connection to one refused or unanswered while one to the other
 * was answered means the server listens on one family only and the
 * client dialled the other (`localhost` resolving to both).
 */
bool lt_cross_family(uint8_t fa, const uint8_t a[16], uint8_t fb, const uint8_t b[16]);

/* How a listener is written; code: markdown code marks around the
 * endpoint and process name. */
enum listener_style {
	LISTENER_ENDPOINT, /* "[::1]:61903" */
	LISTENER_CELL,	   /* "[::1]:61903 (IPv6 only)" (report table) */
	LISTENER_NOTE,	   /* "[::1]:61903 lt_peer[812] (IPv6 only) backlog 128 queued 0" */
	LISTENER_BRIEF,	   /* "[::1]:61903 lt_peer[812] (3/128 queued)" (TUI header) */
	LISTENER_PROSE,	   /* "[::1]:61903 (IPv6 only, python3 pid 812, 0 waiting
			    * for accept(), backlog 128)" (findings) */
};
void listener_format(struct sbuf *b, const struct listener *l, enum listener_style style,
		     bool code);

#endif
