/* SPDX-License-Identifier: MIT */
/*
 * obs.h - the one event model every source emits and the engine consumes.
 *
 * A source (pcap file replay, live libpcap, the eBPF ring buffer) turns
 * whatever it sees into a stream of struct lt_obs. The flow engine
 * (flow.h) sees nothing else: no libpcap or libbpf type crosses this line.
 *
 * Two kinds of observation exist:
 *  - LT_OBS_SEGMENT: one TCP segment, as seen on the wire. Sources that
 *    aggregate data in the kernel (eBPF) may set agg_pkts/agg_bytes to the
 *    running totals of data segments in this direction, so bulk transfers
 *    need not be sent one by one.
 *  - LT_OBS_KERNEL: context only the kernel knows (reset reason, drop
 *    reason, errno reported to the socket, owning process). It refers to a
 *    connection by its 4-tuple and never creates one.
 *  - LT_OBS_LISTEN: a socket began or stopped listening (eBPF only): src is
 *    the listening endpoint, listen_what says which, pid/comm the process
 *    that called listen() or close(), proc_start_ns when it started. It is
 *    no packet: the engine keeps it in its listener timeline, not a flow.
 */
#ifndef LT_OBS_H
#define LT_OBS_H

#include <stdint.h>

/* TCP header flag bits (RFC 9293 section 3.1). */
enum {
	LT_TCP_FIN = 0x01,
	LT_TCP_SYN = 0x02,
	LT_TCP_RST = 0x04,
	LT_TCP_PSH = 0x08,
	LT_TCP_ACK = 0x10,
	LT_TCP_URG = 0x20,
	LT_TCP_ECE = 0x40,
	LT_TCP_CWR = 0x80,
};

enum lt_obs_kind {
	LT_OBS_SEGMENT = 1,
	LT_OBS_KERNEL = 2,
	LT_OBS_LISTEN = 3,
};

/* lt_obs.listen_what (LT_OBS_LISTEN) */
enum lt_listen_change {
	LT_LISTEN_BEGAN = 1,   /* listen() */
	LT_LISTEN_STOPPED = 2, /* the listening socket closed */
};

/* What a LT_OBS_KERNEL observation says; several may be set at once. */
enum {
	LT_KCTX_RESET_REASON = 1 << 0,	  /* reset_reason/reason_name valid */
	LT_KCTX_DROP_REASON = 1 << 1,	  /* drop_reason/reason_name valid */
	LT_KCTX_ERRNO = 1 << 2,		  /* sk_errno valid */
	LT_KCTX_PROC = 1 << 3,		  /* pid/comm valid for the sender side */
	LT_KCTX_SYN_RETRANS = 1 << 4,	  /* the kernel retransmitted a SYN */
	LT_KCTX_SYNACK_RETRANS = 1 << 5,  /* ... or a SYN-ACK */
	LT_KCTX_LISTEN_OVERFLOW = 1 << 6, /* accept queue of dst was full */
	LT_KCTX_EVENTS_LOST = 1 << 7,	  /* the source lost events while this
					* connection lived: its evidence may be
					* incomplete (flow anomaly events-lost) */
};

#define LT_COMM_LEN 16
#define LT_REASON_LEN 32

/*
 * The captured frame an observation was decoded from, when the source has
 * one (capture files, live libpcap); the eBPF source has none. Lets -w
 * write the packets as they were. Valid until the source reads again (a
 * wrapper holding an observation must deliver it before that, or copy).
 */
struct lt_frame {
	const uint8_t *data;
	uint32_t caplen;   /* bytes in data */
	uint32_t len;	   /* length on the wire */
	uint32_t snaplen;  /* the capture's snap length */
	int32_t link_type; /* DLT_* of the capture */
	uint64_t number;   /* 1, 2, ... in the capture (0: unknown) */
};

/* One address/port endpoint; IPv4 uses the first 4 bytes of addr. */
struct lt_endpoint {
	uint8_t addr[16];
	uint16_t port;
};

/*
 * A network namespace, as the eBPF source names it (other sources have
 * none). Owned by the source; valid until it closes.
 */
struct lt_netns {
	uint32_t ino;	    /* inode of /proc/PID/ns/net */
	char name[32];	    /* `ip netns` name, "host" for the initial
				  * namespace, "" when it has none */
	char container[48]; /* e.g. "docker:3f2a9c1b7e4d", "" unknown */
};

/* lt_obs.over: the source knows nothing more comes about this connection
 * (eBPF: its end record, every reset's reason known, the last FIN acked),
 * so its flow retires after this observation. Sources that cannot know
 * leave it 0. */
enum lt_over {
	LT_OVER_NO = 0,	    /* more may come */
	LT_OVER_YES = 1,    /* nothing more comes */
	LT_OVER_REUSED = 2, /* ... a new connection took its 4-tuple */
};

struct lt_obs {
	uint64_t ts_ns;		/* capture time, ns since the Unix epoch */
	uint8_t kind;		/* enum lt_obs_kind */
	uint8_t family;		/* 4 or 6 */
	uint8_t tcp_flags;	/* LT_TCP_* (segments only) */
	uint8_t over;		/* enum lt_over */
	struct lt_endpoint src; /* sender of the segment */
	struct lt_endpoint dst;
	uint32_t seq, ack;
	uint16_t window;
	uint16_t mss;	       /* MSS option of a SYN, 0 when absent */
	uint32_t payload_len;  /* TCP payload bytes, from the IP length */
	uint32_t agg_pkts;     /* if non-zero: data segments so far, this direction */
	uint64_t agg_bytes;    /* ... and their payload bytes */
	uint64_t agg_first_ns; /* ... and when the first one was seen */
	uint32_t encap;	       /* the VLAN tag stack the frame came in, as a
	                          * key: 0 untagged; equal keys, equal stacks */

	/* Kernel context (LT_OBS_KERNEL, or attached to a segment by eBPF). */
	uint32_t kctx; /* LT_KCTX_* bits */
	int32_t pid;   /* process behind the sender's socket */
	char comm[LT_COMM_LEN];
	int32_t sk_errno;		 /* errno the application will see (111, 104...) */
	int32_t reason_code;		 /* raw kernel enum value, for the record */
	char reason_name[LT_REASON_LEN]; /* resolved at run time, e.g. NO_SOCKET */
	/* LT_KCTX_LISTEN_OVERFLOW: the listener then (eBPF): its backlog and
	 * accept queue length (its owner is the server side's process) */
	uint32_t listen_backlog, listen_queued;
	/* LT_OBS_LISTEN: enum lt_listen_change, and when the process started
	 * (ns since the epoch, 0 unknown) */
	uint8_t listen_what;
	uint64_t proc_start_ns;

	const struct lt_frame *frame; /* the frame behind a segment, or NULL */
	/* The captured start of the TCP payload: at most payload_len bytes,
	 * fewer when the snap length cut them (a frame) or past the 64 the
	 * kernel copies (eBPF: each side's first data segment only); NULL
	 * and 0 when nothing was captured (--no-payload). Valid during the
	 * call that delivers the observation (frames: as long as the frame). The flow
	 * keeps the first PROTO_HEAD_MAX bytes of each direction (proto.h). */
	const uint8_t *payload;
	uint32_t payload_cap;

	/* Network namespace (eBPF): the same 4-tuple in two namespaces is two
	 * connections. 0 = unknown (captures, libpcap): one namespace. */
	uint32_t netns;		   /* inode of the namespace */
	const struct lt_netns *ns; /* its name and container, or NULL */
};

#endif
