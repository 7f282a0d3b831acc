/* SPDX-License-Identifier: MIT */
/*
 * lotrace.h - the wire format between bpf/lotrace.bpf.c and src_bpf.c.
 *
 * Owns: struct lt_event (one ring buffer record), its type and flag enums,
 * the values of the maps userspace writes (watched ports, listener owners)
 * and the per-CPU counter indices. Includes
 * nothing: the kernel side gets __u8..__u64 from vmlinux.h, userspace from
 * the typedef block below. Every field has a fixed width and the padding
 * is explicit, so both compilers agree; src_bpf.c asserts the size.
 */
#ifndef LT_LOTRACE_H
#define LT_LOTRACE_H

#if !defined(__VMLINUX_H__) && !defined(_LINUX_TYPES_H)
/* The same types as <linux/types.h>; C11 allows the repeat if both come. */
typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef int __s32;
#endif

/* What an lt_event reports. */
enum lt_ev_type {
	LT_EV_SEGMENT = 1,  /* a TCP segment leaving through lo (tc egress) */
	LT_EV_RESET,        /* tcp:tcp_send_reset; value = enum sk_rst_reason */
	LT_EV_DROP,         /* skb:kfree_skb; value = enum skb_drop_reason */
	LT_EV_ERROR,        /* sock:inet_sk_error_report; value = errno */
	LT_EV_SYN_RETRANS,  /* tcp:tcp_retransmit_skb in SYN_SENT */
	LT_EV_SYNACK_RETRANS, /* tcp:tcp_retransmit_synack */
	LT_EV_LISTEN_OVERFLOW, /* a SYN met a full accept queue; value = backlog */
};

/* lt_event.flags */
enum {
	LT_EVF_PROC = 1 << 0,  /* pid/comm are the sender socket's owner */
	LT_EVF_AGG = 1 << 1,   /* agg_* hold the running data totals */
};

/*
 * One record. Orientation: src is the sender of the segment (LT_EV_SEGMENT,
 * LT_EV_DROP, LT_EV_LISTEN_OVERFLOW: the SYN's sender), or the local end
 * of the socket the context belongs to (LT_EV_RESET: the side sending the
 * RST; LT_EV_ERROR and the retransmits: the socket's own address).
 * Addresses are in network order (IPv4 in the first 4 bytes), ports and
 * seq/ack in host order. ts_ns is bpf_ktime_get_ns() (CLOCK_MONOTONIC).
 */
struct lt_event {
	__u64 ts_ns;
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u8 type;        /* enum lt_ev_type */
	__u8 family;      /* 4 or 6 */
	__u8 tcp_flags;   /* segments: FIN 0x01 ... CWR 0x80 */
	__u8 flags;       /* LT_EVF_* */
	__u32 seq;
	__u32 ack;
	__u16 window;     /* raw, unscaled */
	__u16 mss;        /* MSS option of a SYN, 0 when absent */
	__u32 payload_len;
	__u32 agg_pkts;   /* LT_EVF_AGG: data segments so far, this direction */
	__u32 pad1;
	__u64 agg_bytes;  /* ... their payload bytes */
	__u64 agg_first_ns; /* ... and when the first one left (ktime) */
	__s32 pid;        /* LT_EVF_PROC: tgid of the socket owner */
	__s32 value;      /* reason code, errno or backlog (see the type) */
	char comm[16];
};

/* The watched-ports map (an ARRAY of one value): one bit per port. */
struct lt_ports {
	__u8 bits[8192];
};

/* The owner of a socket, as the owners and listeners maps store it. */
struct lt_owner {
	__s32 pid;        /* tgid */
	char comm[16];
};

/* Key of the listeners map; an all-zero addr is the wildcard. */
struct lt_listen_key {
	__u8 addr[16];
	__u16 port;       /* host order */
	__u8 family;      /* 4 or 6 */
	__u8 pad;
};

/* Indices of the per-CPU counter array. */
enum lt_counter {
	LT_CNT_PKTS = 0,      /* TCP segments on a watched port seen by tc */
	LT_CNT_AGGREGATED,    /* data segments folded into the totals */
	LT_CNT_EMIT,          /* records we tried to send */
	LT_CNT_SUBMITTED,     /* ... and sent */
	LT_CNT_RESERVE_FAILED, /* ... and lost: the ring buffer was full */
	LT_CNT_TRUNCATED,     /* headers not in the linear skb area */
	LT_CNT_MAX,
};

#endif
