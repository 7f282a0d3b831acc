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
 * What the kernel sends: per connection on a watched port, ONE record
 * (struct lt_conn, bpf/lotrace.h) with everything it counted, when the
 * connection ends; live connections are read from the kernel's map every
 * 100 ms (the sweep). No record per segment, no wakeup per record
 * (BPF_RB_NO_WAKEUP; the reader polls on its own timer, the kernel forces a
 * wakeup past a quarter full ring). src_bpf expands each record, minus what
 * it already delivered of that connection, into the observations it stands
 * for, and hands them over record by record, each record's in time order
 * (ring order is the kernel's order of ends: a reused 4-tuple's old
 * connection comes before the new one, from the ring or the sweep); the
 * last observation of a connection nothing more can come about carries
 * lt_obs.over. Its times are a steady clock's (lt_source.steady_clock):
 * a record read after a stall is late, never a time jump:
 *  - LT_OBS_SEGMENT for each SYN and SYN-ACK (retransmissions at their own
 *    times), the first pure ACK of each side, the first data segment of
 *    each side (carrying the side's data totals in agg_pkts/agg_bytes/
 *    agg_first_ns, and its first up to 64 payload bytes in payload/
 *    payload_cap, copied by the kernel unless no_payload), each FIN and
 *    RST. Segments carry LT_KCTX_PROC with the
 *    pid/comm of the side's owner when known: the client's recorded at
 *    connect() (inet_sock_set_state -> SYN_SENT, process context), the
 *    server's from its listener (listen(), or /proc at open for older
 *    listeners), or accept() where fexit/kretprobe attach.
 *  - LT_OBS_KERNEL with LT_KCTX_RESET_REASON (src = the side sending the
 *    RST), LT_KCTX_DROP_REASON (src = sender of the dropped segment),
 *    LT_KCTX_ERRNO (src = the socket that got the error),
 *    LT_KCTX_SYN_RETRANS / LT_KCTX_SYNACK_RETRANS (one per kernel
 *    retransmit), LT_KCTX_LISTEN_OVERFLOW (src = the SYN's sender,
 *    reason_code = the listener's backlog), LT_KCTX_EVENTS_LOST (the
 *    source lost events while the connection lived). Reason names come
 *    from kreason.h, "UNKNOWN_<code>" when the kernel does not name them.
 *  pid is -1 when LT_KCTX_PROC is not set. A retransmitted SYN that
 *  meets its own half-open request is freed as a NOT_SPECIFIED drop: the
 *  kernel answers it with a SYN-ACK retransmit, it is not a loss.
 *
 * Loss: stats() lists every counter of both sides by name (kernel:
 * segments, connections, end records sent and deferred, context records
 * sent and lost, map full, late segments, reused tuples lost, truncated
 * headers, wakeups; here: records read, bad records, ends from the sweep,
 * evictions, ...). lost = what no record or sweep will bring: context
 * records the ring could not take, connections the map could not hold,
 * connections evicted from a crowded map. An end record the ring cannot
 * take is not lost: the connection stays in the map and the sweep sends it.
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
	SRC_BPF_TCX = 1,    /* tcx link (fd-owned) */
	SRC_BPF_CLSACT = 2, /* clsact qdisc + cls_bpf filter */
};

struct src_bpf_opts {
	const char *ifname;    /* NULL: "lo" */
	const uint16_t *ports; /* watched ports */
	int nports;	       /* 0: every port */
	size_t ringbuf_bytes;  /* 0: 16 MiB; rounded up to a power of two */
	uint32_t max_flows;    /* connections the kernel tracks; 0: 65536 */
	const char *netns;     /* NULL: lo of every network namespace (tcx);
				   * else only this one: an `ip netns` name, a
				   * path (/proc/PID/ns/net) or "host" */
	int attach;	       /* 0: tcx, falling back to clsact;
				   * SRC_BPF_TCX/SRC_BPF_CLSACT: only that */
	int no_payload;	       /* --no-payload: the kernel copies no payload byte */
	/* libbpf messages (verifier log...): NULL and !verbose drops them. */
	void (*log)(void *ctx, const char *line);
	void *log_ctx;
	int verbose; /* no log callback: libbpf messages to stderr */
};

struct src_bpf_info {
	enum src_bpf_attach attach;
	int ifindex;
	int qdisc_created; /* clsact: we created the qdisc */
	int stale_removed; /* filters of killed earlier runs removed */
	/* optional hooks this kernel lacks or refused, e.g.
	 * "tcp_send_reset (reset reasons)", comma separated; "" if none */
	char missing[256];
	char reasons_from[32];	 /* where reason names came from, "btf" */
	uint32_t netns_attached; /* other namespaces' lo attached (now) */
	uint32_t netns_failed;	 /* ... that could not be (so far) */
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
