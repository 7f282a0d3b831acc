/* SPDX-License-Identifier: MIT */
/*
 * src_bpf.h - the eBPF source: bpf/lotrace.bpf.c on lo, read through its
 * ring buffer and turned into struct lt_obs (obs.h).
 *
 * Owns: the skeleton (programs, maps, links), the tc attachment on lo and
 * the ring buffer reader. Built only with BACKEND=bpf (LT_HAVE_BPF).
 *
 * Attachment: tcx (Linux 6.6+) on lo egress, a link that the kernel drops
 * when the process dies, even on SIGKILL. Older kernels: a clsact qdisc
 * (created only if absent) and a cls_bpf filter named "lotrace_tc:[ID]";
 * close() removes exactly that filter, and the qdisc only if we created it
 * and nothing else uses it. At open, lotrace filters left behind by a
 * killed earlier run (their program held by no process) are removed.
 *
 * What the observations look like:
 *  - LT_OBS_SEGMENT for every SYN, SYN-ACK, FIN, RST, the first pure ACK
 *    of each direction (the handshake-completing ACK) and the first data
 *    segment of each direction. Later data segments are only counted: the
 *    next segment sent carries the running totals in agg_pkts/agg_bytes/
 *    agg_first_ns (opts.every_segment turns this off). Segments carry
 *    LT_KCTX_PROC with pid/comm of the sending socket's owner when known:
 *    recorded in process context at connect(), listen(), accept() (when
 *    fexit or kprobes work) and the first send()/recv() on a socket;
 *    listeners older than lotrace come from /proc at open. Before accept()
 *    a server's segments are attributed to the listener's owner.
 *  - LT_OBS_KERNEL with: LT_KCTX_RESET_REASON (src = the side sending the
 *    RST), LT_KCTX_DROP_REASON (src = sender of the dropped segment),
 *    LT_KCTX_ERRNO (src = the socket that got the error),
 *    LT_KCTX_SYN_RETRANS / LT_KCTX_SYNACK_RETRANS (src = the retransmitting
 *    socket), LT_KCTX_LISTEN_OVERFLOW (src = the SYN's sender,
 *    reason_code = the listener's backlog; judged from the listener's
 *    accept queue as the SYN leaves, since the kernel drops such SYNs
 *    without a drop reason). Reason names come from
 *    kreason.h, "UNKNOWN_<code>" when the kernel does not name them.
 *  pid is -1 when LT_KCTX_PROC is not set. A retransmitted SYN that
 *  meets its own half-open request is freed as a NOT_SPECIFIED drop: the
 *  kernel answers it with a SYN-ACK retransmit, it is not a loss.
 *
 * Process-wide side effects: src_bpf_open() installs libbpf's (global)
 * print hook and calls kreason_load(); kreason_free() at exit is the
 * caller's.
 */
#ifndef LT_SRC_BPF_H
#define LT_SRC_BPF_H

#include <stddef.h>
#include <stdint.h>

#include "source.h"

enum src_bpf_attach {
	SRC_BPF_TCX = 1,      /* tcx link (fd-owned) */
	SRC_BPF_CLSACT = 2,   /* clsact qdisc + cls_bpf filter */
};

struct src_bpf_opts {
	const char *ifname;       /* NULL: "lo" */
	const uint16_t *ports;    /* watched ports */
	int nports;               /* 0: every port */
	size_t ringbuf_bytes;     /* 0: 16 MiB; rounded up to a power of two */
	uint32_t max_flows;       /* connections the kernel tracks; 0: 65536 */
	int attach;               /* 0: tcx, falling back to clsact;
				   * SRC_BPF_TCX/SRC_BPF_CLSACT: only that */
	/* libbpf messages (verifier log...): NULL and !verbose drops them. */
	void (*log)(void *ctx, const char *line);
	void *log_ctx;
	int verbose;              /* no log callback: libbpf messages to stderr */
};

struct src_bpf_info {
	enum src_bpf_attach attach;
	int ifindex;
	int qdisc_created;        /* clsact: we created the qdisc */
	int stale_removed;        /* filters of killed earlier runs removed */
	/* optional hooks this kernel lacks or refused, e.g.
	 * "tcp_send_reset (reset reasons)", comma separated; "" if none */
	char missing[256];
	char reasons_from[32];    /* where reason names came from, "btf" */
};

/*
 * Load and attach the eBPF program. Returns NULL with a one-line message in
 * err (e.g. "cannot load the eBPF program: Operation not permitted; run as
 * root or use --backend pcap") so the caller can fall back to libpcap.
 * The source's ops->name is "ebpf", desc e.g. "eBPF tcx on lo".
 */
struct lt_source *src_bpf_open(const struct src_bpf_opts *o, char err[LT_ERR_LEN]);

/* Replace the watched ports (n 0: every port) without reloading. Returns 0
 * or a negative errno. s must come from src_bpf_open. */
int src_bpf_set_ports(struct lt_source *s, const uint16_t *ports, int n);

/* How the source attached and what it lacks. */
void src_bpf_get_info(struct lt_source *s, struct src_bpf_info *out);

/* Kernel-side counters, summed over CPUs (indices: enum lt_counter in
 * bpf/lotrace.h). Returns 0 or a negative errno. */
int src_bpf_counters(struct lt_source *s, uint64_t *out, int n);

#endif
