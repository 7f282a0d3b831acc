/* SPDX-License-Identifier: MIT */
/*
 * lotrace.h - the wire format between bpf/lotrace.bpf.c and src_bpf.c.
 *
 * Owns: the per-connection state the kernel keeps (struct lt_conn, the
 * value of the conns map and, copied whole, the ring buffer record that
 * ends a connection), the small context record (struct lt_ctx_rec) for
 * kernel events about connections the kernel does not track, the values
 * of the maps userspace writes (watched ports, listener owners) and the
 * per-CPU counter indices. The first up to LT_HEAD_MAX payload bytes of
 * each direction ride at the end of struct lt_conn and are sent only
 * when there are some (a record is 448, 512 or 576 bytes long: up to
 * head[0], head[1] or all). Includes nothing: the kernel side gets
 * __u8..__u64 from vmlinux.h, userspace from the typedef block below.
 * Every field has a fixed width and the padding is explicit, so both
 * compilers agree; src_bpf.c asserts the sizes.
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

/* What a ring buffer record is (first byte of every record). */
enum lt_rec_kind {
	LT_REC_CONN = 1,       /* struct lt_conn: a connection's state (LT_CF_END: final) */
	LT_REC_CTX = 2,	       /* struct lt_ctx_rec: kernel context, no tracked connection */
	LT_REC_LISTEN = 3,     /* struct lt_listen_rec: a socket began or stopped listening */
	LT_REC_CONN_SHORT = 4, /* struct lt_conn_short: an end record, times as offsets */
};

/* lt_ctx_rec.what */
enum lt_ctx_what {
	LT_CTX_RESET = 1,      /* tcp:tcp_send_reset; value = enum sk_rst_reason */
	LT_CTX_DROP,	       /* skb:kfree_skb; value = enum skb_drop_reason */
	LT_CTX_ERROR,	       /* sock:inet_sk_error_report; value = errno */
	LT_CTX_SYN_RETRANS,    /* tcp:tcp_retransmit_skb in SYN_SENT */
	LT_CTX_SYNACK_RETRANS, /* tcp:tcp_retransmit_synack */
};

/*
 * A connection's key: its two endpoints in a fixed order (lower port
 * first, then lower address), so both directions find the same entry.
 * Addresses in network order (IPv4 in the first 4 bytes), ports in host
 * order.
 */
struct lt_key {
	__u8 a_addr[16];
	__u8 b_addr[16];
	__u16 a_port;
	__u16 b_port;
	__u8 family; /* 4 or 6 */
	__u8 pad[3];
	__u32 netns; /* inode of the network namespace (same 4-tuples in
			   * two namespaces are two connections) */
};

/*
 * The conns map's key for a struct lt_key: 20 bytes for the kernel to
 * hash and compare on every lookup instead of 44. IPv4: the two addresses
 * themselves, so it is the whole key. IPv6: a 64-bit hash of the two
 * addresses (make_key in lotrace.bpf.c), and the BPF side compares the
 * whole key in the entry's record (a collision, 2^-64, is counted as a
 * full map).
 */
struct lt_mkey {
	__u32 x; /* IPv4: a_addr; IPv6: the hash's low half */
	__u32 y; /* IPv4: b_addr; IPv6: the hash's high half */
	__u16 a_port;
	__u16 b_port;
	__u32 netns;
	__u32 family;
};

/* Payload bytes the kernel copies per direction (= PROTO_HEAD_MAX). */
#define LT_HEAD_MAX 64

/* How many SYN (or SYN-ACK) times a side keeps; later ones overwrite the last. */
#define LT_SYN_SLOTS 6

/*
 * What one side of a connection sent, and what the kernel said about it.
 * Times are bpf_ktime_get_ns() (CLOCK_MONOTONIC), 0 = never.
 */
struct lt_side {
	__u64 t_syn[LT_SYN_SLOTS]; /* SYNs (client) or SYN-ACKs (server) */
	__u64 t_ack;		   /* first pure ACK (no SYN/FIN/RST, no payload) */
	__u64 t_data;		   /* first segment with payload */
	__u64 t_fin;		   /* first FIN */
	__u64 t_rst;		   /* first RST */
	__u64 t_drop;		   /* first segment of this side the kernel dropped */
	__u64 t_drop_last;
	__u64 bytes;	 /* payload bytes */
	__u32 pkts;	 /* segments */
	__u32 data_pkts; /* segments with payload */
	__u32 first_data_len;
	__u32 isn; /* sequence number of its first SYN */
	__u32 fin_seq;
	__u32 rst_seq;
	__u16 syns;   /* SYNs or SYN-ACKs, retransmissions included */
	__u16 mss;    /* MSS option of its first SYN */
	__u16 window; /* window of its first SYN */
	__u8 fins;
	__u8 rsts;
	__u8 syn_flags; /* TCP flags of its first SYN, FIN, RST, data */
	__u8 fin_flags;
	__u8 rst_flags;
	__u8 data_flags;
	__u16 retrans;	    /* kernel SYN / SYN-ACK retransmits (tracepoints) */
	__u16 drops;	    /* its segments the kernel dropped */
	__s32 drop_reason;  /* enum skb_drop_reason of the first drop, -1 none */
	__s32 reset_reason; /* enum sk_rst_reason of its first RST, -1 none */
	__s32 sk_errno;	    /* errno its socket got, 0 none */
	__s32 pid;	    /* owner (tgid), 0 unknown */
	char comm[16];
};

/* lt_conn.flags */
enum {
	LT_CF_CLIENT_IS_A = 1 << 0, /* side[0] (client) is the key's a endpoint */
	LT_CF_END = 1 << 1,	    /* the record ends the connection */
	LT_CF_END_PENDING = 1 << 2, /* ended, but the ring was full: the map sweep sends it */
	LT_CF_OVERFLOW = 1 << 3,    /* a SYN met a full accept queue */
	LT_CF_LOSS = 1 << 4,	    /* events were lost while it lived */
	LT_CF_REUSED = 1 << 5,	    /* ended because a new SYN reused the 4-tuple */
	LT_CF_MIDSTREAM = 1 << 6,   /* first seen without SYN or SYN-ACK */
	LT_CF_TERM = 1 << 7,	    /* RST or both FINs seen */
};

/*
 * The value of the conns map, and the record sent when the connection
 * ends. side[0] is the client (sender of the first SYN, receiver of the
 * first SYN-ACK, or for a connection first seen mid-stream the sender of
 * the first segment seen), side[1] the server.
 */
struct lt_conn {
	__u8 kind;	  /* LT_REC_CONN */
	__u8 head_len[2]; /* bytes in head[d]; 0: none copied (--no-payload) */
	__u8 pad0;
	__u32 flags; /* LT_CF_* */
	struct lt_key key;
	__u64 id; /* unique per run, never 0 (new_conn_id) */
	__u64 t_first;
	__u64 t_last;  /* last segment */
	__u64 t_term;  /* when LT_CF_TERM was set */
	__u32 backlog; /* LT_CF_OVERFLOW: the listener's backlog ... */
	__u32 qlen;    /* ... and its accept queue length then */
	struct lt_side side[2];
	/* The first LT_HEAD_MAX bytes of each side's first data segment.
	 * Last, so a record can stop before them (LT_CONN_LEN). */
	__u8 head[2][LT_HEAD_MAX];
};

/* How long a struct lt_conn record is: no head bytes, the client's only,
 * or both sides' (the receiver zero-fills what was not sent). */
#define LT_CONN_BASE_LEN (sizeof(struct lt_conn) - 2 * LT_HEAD_MAX)
#define LT_CONN_LEN(c)                                       \
	((c)->head_len[1]   ? sizeof(struct lt_conn)         \
	 : (c)->head_len[0] ? LT_CONN_BASE_LEN + LT_HEAD_MAX \
			    : LT_CONN_BASE_LEN)

/*
 * The end record of most connections, 312 bytes instead of 448 (writing
 * the record into the ring costs about 1 ns per byte): the same fields,
 * but every time after t_first as a 32-bit offset (t - t_first + 1; 0 =
 * never) and two SYN slots per side. Sent when that loses nothing
 * (lt_conn_short_ok: no payload head, at most two SYN times a side, every
 * time within 4.29 s after t_first); else the full struct lt_conn.
 * lt_conn_short_expand gives back exactly the struct lt_conn it came from.
 */
struct lt_side_short {
	__u32 t_syn[2];
	__u32 t_ack;
	__u32 t_data;
	__u32 t_fin;
	__u32 t_rst;
	__u32 t_drop;
	__u32 t_drop_last;
	__u64 bytes;
	__u32 pkts;
	__u32 data_pkts;
	__u32 first_data_len;
	__u32 isn;
	__u32 fin_seq;
	__u32 rst_seq;
	__u16 syns;
	__u16 mss;
	__u16 window;
	__u8 fins;
	__u8 rsts;
	__u8 syn_flags;
	__u8 fin_flags;
	__u8 rst_flags;
	__u8 data_flags;
	__u16 retrans;
	__u16 drops;
	__s32 drop_reason;
	__s32 reset_reason;
	__s32 sk_errno;
	__s32 pid;
	char comm[16];
};

struct lt_conn_short {
	__u8 kind; /* LT_REC_CONN_SHORT */
	__u8 pad0[3];
	__u32 flags;
	struct lt_key key;
	__u32 t_last; /* offsets from t_first, as in struct lt_side_short */
	__u64 id;
	__u64 t_first;
	__u32 t_term;
	__u32 backlog;
	__u32 qlen;
	__u32 pad1;
	struct lt_side_short side[2];
};

/* t as an offset from t0 (0: never), and back. */
static inline __u32 lt_toff(__u64 t, __u64 t0)
{
	return t ? (__u32)(t - t0 + 1) : 0;
}

static inline __u64 lt_tabs(__u32 off, __u64 t0)
{
	return off ? t0 + off - 1 : 0;
}

/* Is t (0: never) an offset lt_toff can give? */
static inline int lt_tfits(__u64 t, __u64 t0)
{
	return !t || (t >= t0 && t - t0 < 0xffffffffull);
}

static inline int lt_side_short_ok(const struct lt_side *s, __u64 t0)
{
	return !(s->t_syn[2] | s->t_syn[3] | s->t_syn[4] | s->t_syn[5]) &&
	       lt_tfits(s->t_syn[0], t0) && lt_tfits(s->t_syn[1], t0) && lt_tfits(s->t_ack, t0) &&
	       lt_tfits(s->t_data, t0) && lt_tfits(s->t_fin, t0) && lt_tfits(s->t_rst, t0) &&
	       lt_tfits(s->t_drop, t0) && lt_tfits(s->t_drop_last, t0);
}

/* Can c go as a struct lt_conn_short without losing anything? */
static inline int lt_conn_short_ok(const struct lt_conn *c)
{
	return !c->head_len[0] && !c->head_len[1] && lt_tfits(c->t_last, c->t_first) &&
	       lt_tfits(c->t_term, c->t_first) && lt_side_short_ok(&c->side[0], c->t_first) &&
	       lt_side_short_ok(&c->side[1], c->t_first);
}

/* The times of a side that the short form keeps, as offsets (T), and the
 * fields it copies as they are (F): one list for both directions. */
/* clang-format off */
#define LT_SIDE_SHORT_FIELDS(T, F)                                                \
	T(t_syn[0]) T(t_syn[1]) T(t_ack) T(t_data) T(t_fin) T(t_rst) T(t_drop)   \
	T(t_drop_last) F(bytes) F(pkts) F(data_pkts) F(first_data_len) F(isn)    \
	F(fin_seq) F(rst_seq) F(syns) F(mss) F(window) F(fins) F(rsts)           \
	F(syn_flags) F(fin_flags) F(rst_flags) F(data_flags) F(retrans) F(drops) \
	F(drop_reason) F(reset_reason) F(sk_errno) F(pid)
/* clang-format on */

static inline void lt_side_short_fill(struct lt_side_short *r, const struct lt_side *s, __u64 t0)
{
#define LT_TO_OFF(f) r->f = lt_toff(s->f, t0);
#define LT_COPY_TO_SHORT(f) r->f = s->f;
	LT_SIDE_SHORT_FIELDS(LT_TO_OFF, LT_COPY_TO_SHORT)
#undef LT_TO_OFF
#undef LT_COPY_TO_SHORT
	__builtin_memcpy(r->comm, s->comm, sizeof(r->comm));
}

/* Write every byte of r (ring memory is not zeroed) from c. */
static inline void lt_conn_short_fill(struct lt_conn_short *r, const struct lt_conn *c)
{
	r->kind = LT_REC_CONN_SHORT;
	r->pad0[0] = r->pad0[1] = r->pad0[2] = 0;
	r->flags = c->flags;
	__builtin_memcpy(&r->key, &c->key, sizeof(r->key));
	r->t_last = lt_toff(c->t_last, c->t_first);
	r->id = c->id;
	r->t_first = c->t_first;
	r->t_term = lt_toff(c->t_term, c->t_first);
	r->backlog = c->backlog;
	r->qlen = c->qlen;
	r->pad1 = 0;
	lt_side_short_fill(&r->side[0], &c->side[0], c->t_first);
	lt_side_short_fill(&r->side[1], &c->side[1], c->t_first);
}

static inline void lt_side_short_expand(struct lt_side *s, const struct lt_side_short *r, __u64 t0)
{
#define LT_TO_ABS(f) s->f = lt_tabs(r->f, t0);
#define LT_COPY_FROM_SHORT(f) s->f = r->f;
	LT_SIDE_SHORT_FIELDS(LT_TO_ABS, LT_COPY_FROM_SHORT)
#undef LT_TO_ABS
#undef LT_COPY_FROM_SHORT
	__builtin_memcpy(s->comm, r->comm, sizeof(s->comm));
}

/* The struct lt_conn r came from; c must be all zero before. */
static inline void lt_conn_short_expand(struct lt_conn *c, const struct lt_conn_short *r)
{
	c->kind = LT_REC_CONN;
	c->flags = r->flags;
	__builtin_memcpy(&c->key, &r->key, sizeof(c->key));
	c->id = r->id;
	c->t_first = r->t_first;
	c->t_last = lt_tabs(r->t_last, r->t_first);
	c->t_term = lt_tabs(r->t_term, r->t_first);
	c->backlog = r->backlog;
	c->qlen = r->qlen;
	lt_side_short_expand(&c->side[0], &r->side[0], r->t_first);
	lt_side_short_expand(&c->side[1], &r->side[1], r->t_first);
}

/* Kernel context about a 4-tuple the kernel does not track (any more). */
struct lt_ctx_rec {
	__u8 kind; /* LT_REC_CTX */
	__u8 what; /* enum lt_ctx_what */
	__u8 family;
	__u8 pad;
	__s32 value;
	__u64 ts_ns;
	__u8 saddr[16]; /* the side it is about (sender, RST sender, socket) */
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u32 netns; /* inode of the network namespace */
};

/* lt_listen_rec.what */
enum lt_listen_what {
	LT_LISTEN_UP = 1,   /* -> TCP_LISTEN (listen()) */
	LT_LISTEN_DOWN = 2, /* TCP_LISTEN -> TCP_CLOSE (close(), exit) */
};

/*
 * A listening socket on a watched port began or stopped listening
 * (inet_sock_set_state, in the process context of listen() or close()).
 * The process is the one that made the call; proc_start_ns is its
 * thread group leader's start_time (CLOCK_MONOTONIC, like ts_ns).
 */
struct lt_listen_rec {
	__u8 kind; /* LT_REC_LISTEN */
	__u8 what; /* enum lt_listen_what */
	__u8 family;
	__u8 pad;
	__u32 netns; /* inode of the listener's network namespace */
	__u64 ts_ns;
	__u64 proc_start_ns; /* 0: unknown */
	__u8 addr[16];	     /* bound address, all zero: the wildcard */
	__u16 port;
	__u16 pad2;
	__u32 backlog; /* sk_max_ack_backlog then */
	__s32 pid;     /* tgid */
	char comm[16];
	__u32 pad3;
};

/* The watched-ports map (an ARRAY of one value): one bit per port. */
struct lt_ports {
	__u8 bits[8192];
};

/* The owner of a socket, as the cookies and listeners maps store it. */
struct lt_owner {
	__s32 pid; /* tgid */
	char comm[16];
};

/* Value of the listeners map: the owner, and the listening socket (its
 * kernel address, recorded at listen() when it alone takes the SYNs of
 * its key: no SO_REUSEPORT, no bound device, not IPv6-only; 0 = look it
 * up: listeners userspace seeds) whose accept queue tc reads. */
struct lt_listener {
	struct lt_owner owner;
	__u32 pad;
	__u64 sk;
};

/* Key of the listeners map; an all-zero addr is the wildcard. */
struct lt_listen_key {
	__u8 addr[16];
	__u16 port;  /* host order */
	__u8 family; /* 4 or 6 */
	__u8 pad;
	__u32 netns; /* inode of the listener's network namespace */
};

/*
 * Value of the tombs map (an ARRAY of sets, indexed by a hash of the key;
 * only the kernel reads and writes it): connections that ended lately.
 * A way holds a 64-bit hash of the key (0: empty), when it ended and its
 * client's ISN; a new end takes the way of its own key, else the way that
 * ended longest ago. Tags and times share the first cache line, so a
 * lookup that finds nothing (every new connection) reads one line.
 */
#define LT_TOMB_WAYS 4
struct lt_tomb_set {
	__u64 tag[LT_TOMB_WAYS];
	__u64 t_end[LT_TOMB_WAYS];
	__u32 client_isn[LT_TOMB_WAYS];
	__u32 pad[12]; /* 128 bytes: a set starts on a cache line */
};

/* Indices of the per-CPU counter array. */
enum lt_counter {
	LT_CNT_PKTS = 0,     /* TCP segments on a watched port seen by tc */
	LT_CNT_CONNS,	     /* connections tracked */
	LT_CNT_ENDS,	     /* connection records sent */
	LT_CNT_END_DEFERRED, /* ... the ring was full: left to the map sweep */
	LT_CNT_CTX,	     /* context records sent */
	LT_CNT_CTX_LOST,     /* ... the ring was full: lost */
	LT_CNT_MAP_FULL,     /* a connection could not be tracked: map full */
	LT_CNT_LATE,	     /* segments after a connection ended (ignored) */
	LT_CNT_REUSE_LOST,   /* a new connection on a 4-tuple whose end record
			       * still waits for ring room: not tracked */
	LT_CNT_TRUNCATED,    /* headers not in the linear skb area */
	LT_CNT_WAKEUPS,	     /* records that woke the reader (ring filling up) */
	LT_CNT_HEADS,	     /* first data segments whose bytes were copied */
	LT_CNT_MAX,
};

#endif
