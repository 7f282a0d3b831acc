// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * lotrace.bpf.c - the kernel side: each TCP connection on a watched port
 * of lo, summed up in the kernel, with the kernel's reasons.
 *
 * Owns: the conns map (one struct lt_conn per connection, lotrace.h), the
 * tombs map (connections that ended lately), the process owners of
 * sockets, and what goes into the ring buffer. Does not own: verdicts
 * (userspace's flow engine decides them from what this program counted).
 *
 * Programs:
 *  - lotrace_tc, on lo *egress* only (a loopback packet passes egress and
 *    then ingress, so one hook sees each segment once). Every segment on a
 *    watched port updates its connection in place: SYN and SYN-ACK times
 *    (retransmissions included), the first pure ACK, the first data
 *    segment (and its first LT_HEAD_MAX payload bytes, unless userspace
 *    said --no-payload), FIN and RST of each side, data totals. Nothing is
 *    sent per segment. A SYN meeting a full accept queue is noted on its connection
 *    (the kernel drops such SYNs without a drop reason).
 *  - tracing programs (tp_btf, no kprobes or fentry needed): the reset
 *    reason, drop reason, errno and SYN / SYN-ACK retransmits land on the
 *    connection; the owner of each socket is learnt in process context:
 *    listen() (inet_sock_set_state) and connect() (tc, on the first SYN,
 *    which leaves inside the connect() call); a server's connections
 *    take the owner of their listener (and of accept(), where this kernel
 *    lets fexit or kretprobe attach).
 *
 * What goes to userspace: ONE record per connection, sent when the last
 * socket of an ended connection closes (inet_sock_set_state -> CLOSE,
 * where the socket's errno is already set), or when a connect() gives up
 * (SYN_SENT -> CLOSE), or when its 4-tuple is reused. Connections still
 * alive, and ended ones no socket closes for, are read by userspace from
 * the conns map (src_bpf.c sweeps it every 100 ms), so nothing is sent
 * for them here. Kernel context for a 4-tuple without a connection goes
 * as a small struct lt_ctx_rec. Records are submitted without waking the
 * reader (BPF_RB_NO_WAKEUP) unless the ring is filling up.
 *
 * Loss: a full ring (ctx records) and a full conns map are counted per
 * CPU and stamped in last_loss_ns; every connection alive at a loss, and
 * every one first seen mid-stream after a loss (its start may be what was
 * lost), is sent with LT_CF_LOSS. An end record that does not fit in the ring is
 * not lost: the connection stays in the map (LT_CF_END_PENDING) and the
 * sweep sends it.
 *
 * Process attribution: on lo the receive path runs in the *sender's*
 * softirq, so `current` in rx-side hooks is the wrong process. Owners are
 * recorded in process context only.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "lotrace.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Not in BTF: preprocessor constants. */
#define TC_ACT_UNSPEC (-1) /* also TCX_NEXT: let other programs run */
#define ETH_P_IP 0x0800
#define LT_EEXIST 17 /* errno.h's EEXIST (no libc headers here) */
#define ETH_P_IPV6 0x86DD
#define AF_INET 2
#define AF_INET6 10
#define NEXTHDR_HOP 0
#define NEXTHDR_ROUTING 43
#define NEXTHDR_FRAGMENT 44
#define NEXTHDR_DEST 60
#define IP_OFFSET_MASK 0x1fff
#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10
#define TOMB_NS 2000000000ull /* late segments of an ended connection */

/* Set by userspace before load. */
const volatile __u32 netns_ino = 0;	   /* our netns; 0 = do not filter */
const volatile __u64 wake_bytes = 1 << 20; /* wake the reader past this fill */
const volatile __u8 copy_head = 1;	   /* 0 (--no-payload): copy no payload byte */
const volatile __u32 tomb_mask = 16383;	   /* tombs sets - 1 (a power of two) */

/* Written here, read (mmapped) by userspace; plain stores, races harmless. */
__u64 last_loss_ns = 0;

/* Written by userspace: the namespace of every lo tc is attached to, while
 * that is one namespace's (lotrace's own, or the one --netns names), 0 from
 * just before it attaches to a second namespace's lo on (src_bpf.c). Then
 * tc keys a segment with it instead of reading its socket's namespace (a
 * helper call and two loads, three bpf_probe_read_kernel for a SYN-ACK:
 * ~60 ns of a run). */
__u32 tc_one_netns = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* resized by userspace */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lt_ports);
} ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LT_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/*
 * Connections, sized from --max-flows by userspace. Preallocated: an
 * element is taken from and returned to a per-CPU free list, where
 * BPF_F_NO_PREALLOC allocated one per connection and freed it through
 * RCU (~300 ns per connection). That costs max_entries x ~670 bytes up
 * front (44 MiB at the default 65536); above that size userspace asks
 * for BPF_F_NO_PREALLOC again.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct lt_mkey);
	__type(value, struct lt_conn);
} conns SEC(".maps");

/* An all-zero struct lt_conn to create entries from (never written). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lt_conn);
} zero_conn SEC(".maps");

/*
 * Connections that ended lately: their late segments are not new ones.
 * Sets of LT_TOMB_WAYS by a hash of the key (tomb_mask + 1 of them, sized
 * by userspace): writing one is a few stores, where an LRU hash update
 * took ~250 ns per connection. A set forgets its oldest end first.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct lt_tomb_set);
} tombs SEC(".maps");

/* Listening sockets: endpoint -> owner and socket (userspace seeds old
 * listeners, without their socket). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct lt_listen_key);
	__type(value, struct lt_listener);
} listeners SEC(".maps");

/* A directed 4-tuple: src is the sender (or the socket's local end). */
struct tuple {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u8 family; /* 4 or 6 */
	__u8 pad[3];
	__u32 netns; /* inode of its network namespace */
};

static __always_inline void count(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);

	if (c)
		*c += 1; /* per-CPU slot: no atomics needed */
}

/*
 * A new connection's id, unique in the run and never 0: this CPU's count
 * of new connections (LT_CNT_CONNS, counted here), and the CPU. Not one
 * counter for all: an atomic add on a line both CPUs write, each new
 * connection.
 */
static __always_inline __u64 new_conn_id(void)
{
	__u32 idx = LT_CNT_CONNS;
	__u64 *n = bpf_map_lookup_elem(&counters, &idx);

	if (!n)
		return 1ull << 63; /* (an array's slot: never) */
	*n += 1;
	return *n << 16 | (bpf_get_smp_processor_id() & 0xffff);
}

static __always_inline void note_loss(__u32 idx)
{
	count(idx);
	last_loss_ns = bpf_ktime_get_ns();
}

static __always_inline bool port_watched(__u16 port)
{
	__u32 zero = 0;
	struct lt_ports *p = bpf_map_lookup_elem(&ports, &zero);

	if (!p)
		return false;
	return p->bits[(port >> 3) & 8191] & (1 << (port & 7));
}

static __always_inline bool tuple_watched(const struct tuple *t)
{
	return port_watched(t->sport) || port_watched(t->dport);
}

/* Is (addr x, port xp) before (addr y, port yp) in key order? */
static __always_inline bool ep_before(const __u8 *x, __u16 xp, const __u8 *y, __u16 yp)
{
	int i;

	if (xp != yp)
		return xp < yp;
	for (i = 0; i < 16; i++)
		if (x[i] != y[i])
			return x[i] < y[i];
	return true;
}

/* A connection's key: the whole one (its record's) and the map's. */
struct conn_key {
	struct lt_key k;
	struct lt_mkey m;
};

/* A 64-bit hash of n 32-bit words (FNV-1a, then mixed). */
static __always_inline __u64 words_hash(const __u32 *w, int n)
{
	__u64 h = 14695981039346656037ull;
	int i;

	for (i = 0; i < n; i++)
		h = (h ^ w[i]) * 1099511628211ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

/* A hash of k's two addresses (IPv6 map keys carry it instead). A global
 * function, as key_hash. */
__noinline __u64 addrs_hash(const struct lt_key *k)
{
	return k ? words_hash((const __u32 *)k->a_addr, 8) : 0; /* a_addr, b_addr */
}

/* The key of t's connection; returns true when t's sender is endpoint a. */
static __always_inline bool make_key(const struct tuple *t, struct conn_key *ck)
{
	bool src_a = ep_before(t->saddr, t->sport, t->daddr, t->dport);
	struct lt_key *k = &ck->k;
	__u64 h;

	__builtin_memset(k, 0, sizeof(*k));
	if (src_a) {
		__builtin_memcpy(k->a_addr, t->saddr, 16);
		__builtin_memcpy(k->b_addr, t->daddr, 16);
		k->a_port = t->sport;
		k->b_port = t->dport;
	} else {
		__builtin_memcpy(k->a_addr, t->daddr, 16);
		__builtin_memcpy(k->b_addr, t->saddr, 16);
		k->a_port = t->dport;
		k->b_port = t->sport;
	}
	k->family = t->family;
	k->netns = t->netns;
	if (t->family == 4) {
		ck->m.x = *(__u32 *)k->a_addr;
		ck->m.y = *(__u32 *)k->b_addr;
	} else {
		h = addrs_hash(k);
		ck->m.x = (__u32)h;
		ck->m.y = h >> 32;
	}
	ck->m.a_port = k->a_port;
	ck->m.b_port = k->b_port;
	ck->m.netns = k->netns;
	ck->m.family = k->family;
	return src_a;
}

/* Do two whole keys differ (1) or not (0)? A global function, checked by
 * the verifier once: inlined, its loop was checked once per path through
 * each conn_get (a sixth of the verifier's walk of lotrace_tc). */
__noinline int keys_differ(const struct lt_key *x, const struct lt_key *y)
{
	const __u32 *a = (const __u32 *)x, *b = (const __u32 *)y;
	__u32 diff = 0;
	int i;

	if (!x || !y)
		return 1;
	for (i = 0; i < sizeof(*x) / 4; i++)
		diff |= a[i] ^ b[i];
	return diff != 0;
}

/* ck's connection in the map, or NULL. An IPv6 map key is a hash: the
 * entry's whole key must be ck's too. */
static __always_inline struct lt_conn *conn_get(const struct conn_key *ck)
{
	struct lt_conn *c = bpf_map_lookup_elem(&conns, &ck->m);

	if (c && ck->k.family != 4 && keys_differ(&c->key, &ck->k))
		return NULL;
	return c;
}

/* Which side (0 client, 1 server) t's sender is on in c. */
static __always_inline int side_of(const struct lt_conn *c, bool src_a)
{
	return src_a == !!(c->flags & LT_CF_CLIENT_IS_A) ? 0 : 1;
}

static __always_inline void current_owner(struct lt_owner *o)
{
	o->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(o->comm, sizeof(o->comm));
}

static __always_inline void set_owner(struct lt_side *s, const struct lt_owner *o)
{
	s->pid = o->pid;
	__builtin_memcpy(s->comm, o->comm, sizeof(s->comm));
}

/* The listener on addr:port (exact, wildcard, dual-stack). */
static __always_inline struct lt_listener *listener_of(const __u8 *addr, __u16 port, __u8 family,
						       __u32 netns)
{
	struct lt_listen_key k = {};
	struct lt_listener *o;

	__builtin_memcpy(k.addr, addr, 16);
	k.port = port;
	k.family = family;
	k.netns = netns;
	o = bpf_map_lookup_elem(&listeners, &k);
	if (o)
		return o;
	__builtin_memset(k.addr, 0, 16);
	o = bpf_map_lookup_elem(&listeners, &k);
	if (o || family != 4)
		return o;
	k.family = 6; /* a dual-stack listener on :: takes IPv4 too */
	return bpf_map_lookup_elem(&listeners, &k);
}

/* ---- tombs ----------------------------------------------------------- */

/* A 64-bit hash of ck (its map key's words): the tag of its tomb, its low
 * bits the set. Two keys of one set with the same tag: 2^-64. */
static __always_inline __u64 key_hash(const struct conn_key *ck)
{
	__u64 h = words_hash((const __u32 *)&ck->m, sizeof(ck->m) / 4);

	return h ? h : 1; /* 0 marks an empty way */
}

static __always_inline struct lt_tomb_set *tomb_set(__u64 h)
{
	__u32 i = (__u32)h & tomb_mask;

	return bpf_map_lookup_elem(&tombs, &i);
}

/* The way of the tomb whose tag is h in set, or -1. */
static __always_inline int tomb_way(const struct lt_tomb_set *set, __u64 h)
{
	int i;

	for (i = 0; i < LT_TOMB_WAYS; i++)
		if (set->tag[i] == h)
			return i;
	return -1;
}

/* Remember that the key whose hash is h ended at t_end: its own way,
 * else the oldest one. */
static __always_inline void tomb_put(__u64 h, __u64 t_end, __u32 client_isn)
{
	struct lt_tomb_set *set = tomb_set(h);
	int i, pick;

	if (!set)
		return;
	pick = tomb_way(set, h);
	if (pick < 0) {
		pick = 0;
		for (i = 1; i < LT_TOMB_WAYS; i++)
			if (set->t_end[i] < set->t_end[pick])
				pick = i;
	}
	pick &= LT_TOMB_WAYS - 1;
	set->tag[pick] = h;
	set->t_end[pick] = t_end;
	set->client_isn[pick] = client_isn;
}

/* Did k end lately (is there a tomb)? */
static __always_inline bool tomb_exists(const struct conn_key *ck)
{
	__u64 h = key_hash(ck);
	struct lt_tomb_set *set = tomb_set(h);

	return set && tomb_way(set, h) >= 0;
}

/* The tomb of c, whose key's hash is h. Ended by both FINs or a RST: its
 * sockets close at its last segment (a clock read saved); else (a
 * connect() given up, a reused tuple) now. */
static __always_inline void conn_tomb(__u64 h, const struct lt_conn *c)
{
	tomb_put(h, c->flags & LT_CF_TERM ? c->t_last : bpf_ktime_get_ns(), c->side[0].isn);
}

static __always_inline __u64 rb_flags(void)
{
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wake_bytes) {
		count(LT_CNT_WAKEUPS);
		return BPF_RB_FORCE_WAKEUP;
	}
	return BPF_RB_NO_WAKEUP;
}

/*
 * Set flags in c->flags atomically; returns whether LT_CF_END was set
 * before. (As a 64-bit or on the record's first 8 bytes, kind to flags:
 * clang before 15 has no 32-bit atomics for BPF without -mcpu=v3.)
 */
static __always_inline bool end_claimed(struct lt_conn *c, __u32 flags)
{
	_Static_assert(__builtin_offsetof(struct lt_conn, flags) == 4, "flags in bytes 4-7");
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const int shift = 32;
#else
	const int shift = 0;
#endif
	__u64 old = __sync_fetch_and_or((__u64 *)c, (__u64)flags << shift);

	return (old >> shift) & LT_CF_END;
}

/*
 * Send c's final record and forget it (a tomb remembers it briefly). If
 * the ring is full it stays in the map, marked, for the sweep to send.
 * Returns 0.
 */
static __always_inline int conn_end(const struct conn_key *ck, struct lt_conn *c, __u32 why)
{
	__u64 h;

	/* The first to end it sends it: its two sockets' CLOSEs can come at
	 * once on two CPUs (a thread preempted between its last ACK and its
	 * TIME_WAIT while ksoftirqd runs its peer's CLOSE): one connection
	 * in 900,000 came out twice in tests/live/flood.sh. */
	if (end_claimed(c, LT_CF_END | why))
		return 0;
	h = key_hash(ck);
	if (c->t_first <= last_loss_ns)
		c->flags |= LT_CF_LOSS;
	if (lt_conn_short_ok(c)) {
		struct lt_conn_short *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
		struct lt_tomb_set *set;

		if (!r)
			goto pending;
		/* Load the tomb's set (a cold line: one set per connection)
		 * before the copy, so that its miss overlaps the copy's own
		 * instead of starting after the commit, whose xchg waits for
		 * every load before it. (The full record is copied in one
		 * helper call, after the reserve's lock: no gap to fill.) */
		set = tomb_set(h);
		if (set)
			(void)*(volatile __u64 *)&set->t_end[0];
		lt_conn_short_fill(r, c);
		bpf_ringbuf_submit(r, rb_flags());
	} else if (bpf_ringbuf_output(&events, c, LT_CONN_LEN(c), rb_flags())) {
pending:
		c->flags |= LT_CF_END_PENDING;
		count(LT_CNT_END_DEFERRED);
		/* Its tomb now: the sweep takes the entry out of the map
		 * without one, and a late segment after that would start a
		 * connection of its own (an extra record; once in a 20,000-
		 * connection flood through a 4 KiB ring, tests/live/flood.sh). */
		conn_tomb(h, c);
		return 0;
	}
	count(LT_CNT_ENDS);
	conn_tomb(h, c);
	bpf_map_delete_elem(&conns, &ck->m);
	return 0;
}

/*
 * conn_end for lotrace_tc (a SYN that reuses an ended connection's
 * 4-tuple): a global function, so the verifier checks conn_end there once
 * on its own, not once per path through lotrace_tc that reaches it (most
 * of them: the reuse test comes after the parse and the lookup). The
 * set_state CLOSE, once per connection, keeps it inline: no call.
 */
__noinline int conn_end_reused(const struct conn_key *ck, struct lt_conn *c)
{
	if (!ck || !c)
		return 0;
	return conn_end(ck, c, LT_CF_REUSED);
}

/* A context record for a tuple without a connection. */
static __always_inline void emit_ctx(__u8 what, const struct tuple *t, __s32 value)
{
	struct lt_ctx_rec r = {};

	r.kind = LT_REC_CTX;
	r.what = what;
	r.family = t->family;
	r.value = value;
	r.ts_ns = bpf_ktime_get_ns();
	__builtin_memcpy(r.saddr, t->saddr, 16);
	__builtin_memcpy(r.daddr, t->daddr, 16);
	r.sport = t->sport;
	r.dport = t->dport;
	r.netns = t->netns;
	if (bpf_ringbuf_output(&events, &r, sizeof(r), rb_flags()))
		note_loss(LT_CNT_CTX_LOST);
	else
		count(LT_CNT_CTX);
}

/*
 * The connection t belongs to, for kernel context: the live one (and t's
 * side of it in *side), NULL with *ended set when it ended lately, else
 * NULL (a context record should go out). ended NULL: the caller does not
 * ask (no tomb lookup).
 */
static __always_inline struct lt_conn *conn_for(const struct tuple *t, struct conn_key *ck,
						int *side, bool *ended)
{
	bool src_a = make_key(t, ck);
	struct lt_conn *c = conn_get(ck);

	if (ended)
		*ended = false;
	*side = 0;
	if (c) {
		*side = side_of(c, src_a);
		return c;
	}
	if (ended)
		*ended = tomb_exists(ck);
	return NULL;
}

/* ---- tc: segments ------------------------------------------------------ */

/*
 * A SYN to a listener whose accept queue is full is dropped without a
 * drop reason (tcp_conn_request: sk_acceptq_is_full, then the consume
 * path). Look the listener up as the SYN leaves and read its queue: the
 * answer is the kernel's own unless accept() runs in the microseconds
 * before the SYN is processed. Returns true when full.
 */
static __always_inline bool listen_queue_full(struct __sk_buff *skb, const struct tuple *t,
					      __u16 sport_be, __u16 dport_be, __u32 *backlog,
					      __u32 *qlen)
{
	struct bpf_sock_tuple bt = {};
	struct bpf_sock *sk;
	struct tcp_sock *tp;
	bool full = false;
	__u32 sz;

	if (t->family == 4) {
		__builtin_memcpy(&bt.ipv4.saddr, t->saddr, 4);
		__builtin_memcpy(&bt.ipv4.daddr, t->daddr, 4);
		bt.ipv4.sport = sport_be;
		bt.ipv4.dport = dport_be;
		sz = sizeof(bt.ipv4);
	} else {
		__builtin_memcpy(bt.ipv6.saddr, t->saddr, 16);
		__builtin_memcpy(bt.ipv6.daddr, t->daddr, 16);
		bt.ipv6.sport = sport_be;
		bt.ipv6.dport = dport_be;
		sz = sizeof(bt.ipv6);
	}
	sk = bpf_sk_lookup_tcp(skb, &bt, sz, BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return false;
	if (sk->state == BPF_TCP_LISTEN) {
		tp = bpf_skc_to_tcp_sock(sk);
		if (tp && tp->inet_conn.icsk_inet.sk.sk_ack_backlog >
				  tp->inet_conn.icsk_inet.sk.sk_max_ack_backlog) {
			full = true;
			*backlog = tp->inet_conn.icsk_inet.sk.sk_max_ack_backlog;
			*qlen = tp->inet_conn.icsk_inet.sk.sk_ack_backlog;
		}
	}
	bpf_sk_release(sk);
	return full;
}

/*
 * listen_queue_full for a listener whose socket set_state recorded: its
 * queue read straight from the socket (three reads), where the lookup by
 * tuple cost ~400 ns per SYN (a miss in the established hash first). The
 * socket is the one the kernel's lookup picks: recorded only when it alone
 * takes its key's SYNs, and forgotten when it stops listening (listeners
 * are freed after an RCU grace period; tc runs inside one).
 */
static __always_inline bool listener_queue_full(__u64 lsk, __u32 *backlog, __u32 *qlen)
{
	const struct sock *sk = (const struct sock *)lsk;
	__u32 q, max, qm[2];
	__u32 off = bpf_core_field_offset(struct sock, sk_ack_backlog);

	/* (bpf_probe_read_kernel: a kfunc cast would need 6.2 and a newer libbpf) */
	if (BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_LISTEN)
		return false;
	if (bpf_core_field_offset(struct sock, sk_max_ack_backlog) == off + 4) {
		/* side by side (every kernel so far): one read for both */
		if (bpf_probe_read_kernel(qm, sizeof(qm), (const void *)sk + off))
			return false;
		q = qm[0];
		max = qm[1];
	} else {
		q = BPF_CORE_READ(sk, sk_ack_backlog);
		max = BPF_CORE_READ(sk, sk_max_ack_backlog);
	}
	if (q <= max)
		return false;
	*backlog = max;
	*qlen = q;
	return true;
}

/* The sender's TCP socket of a segment on lo (a full one), or NULL. */
static __always_inline struct tcp_sock *tc_tcp_sock(struct __sk_buff *skb)
{
	struct bpf_sock *bsk = skb->sk;

	return bsk ? bpf_skc_to_tcp_sock(bsk) : NULL;
}

/*
 * The namespace of a segment on lo: its sender's socket's (lo carries a
 * socket's segments in the socket's own namespace). A full TCP socket's
 * (tp: tc_tcp_sock, 5.9+) is two plain loads; other segments (SYN-ACKs
 * of request sockets, the kernel's RSTs, time-wait ACKs) read their
 * device's with bpf_probe_read_kernel, one per pointer, as every segment
 * did before (~50 ns of a run).
 */
static __always_inline __u32 tc_netns(struct __sk_buff *skb, const struct tcp_sock *tp)
{
	struct net *net;

	if (tp) {
		net = tp->inet_conn.icsk_inet.sk.__sk_common.skc_net.net;
		if (net)
			return net->ns.inum;
	}
	return BPF_CORE_READ((struct sk_buff *)skb, dev, nd_net.net, ns.inum);
}

/*
 * Does TCP stamp segments like this one with their departure time
 * (skb->tstamp, "EDT") read from the clock as their send began? A SYN in
 * connect(), a SYN-ACK as its request socket makes it, data and FINs in
 * tcp_write_xmit: yes. A pure ACK's stamp may be its socket's last
 * refresh (ms old: delayed ACKs), and a RST or time-wait ACK of the
 * kernel's own has none.
 */
static __always_inline bool tcp_stamps(__u8 fl, __u32 payload)
{
	return (fl & (TH_SYN | TH_FIN)) || payload;
}

/*
 * When a segment TCP stamps (tcp_stamps) left, in CLOCK_MONOTONIC ns: its
 * stamp, which saves a clock read (~40 ns of a run); measured on a
 * 20,000-connection flood, it is 0.3-0.5 us before the clock read here
 * on average. A stamp of another clock, or of a socket that is not TCP's
 * (a raw socket's SO_TXTIME), is no departure time: the clock then.
 * tp: the sender's full TCP socket, or NULL.
 */
static __always_inline __u64 departure_time(struct __sk_buff *skb, const struct tcp_sock *tp)
{
	struct bpf_sock *bsk;
	__u64 ts;

	/* (no tstamp_type before 5.18: the stamp's clock unknown) */
	if (!bpf_core_field_exists(skb->tstamp_type))
		return bpf_ktime_get_ns();
	if (!tp) { /* a SYN-ACK's request socket is TCP's by its state */
		bsk = skb->sk;
		if (!bsk || bsk->state != BPF_TCP_NEW_SYN_RECV)
			return bpf_ktime_get_ns();
	}
	ts = skb->tstamp;
	if (!ts || skb->tstamp_type != BPF_SKB_CLOCK_MONOTONIC)
		return bpf_ktime_get_ns();
	return ts;
}

/* Where head_load copies to: one side's head[] in a struct lt_conn. */
struct lt_head_buf {
	__u8 b[LT_HEAD_MAX];
};

/*
 * The first payload bytes of a first data segment (len bytes at off): at
 * most LT_HEAD_MAX, into dst. Returns how many (0: none). A global
 * function, so the verifier checks it once on its own instead of once
 * per path through lotrace_tc (inlined, its branches doubled the states
 * of the whole program). The length it passes is one the verifier can
 * bound: the whole head, or 1..LT_HEAD_MAX-1 bytes.
 */
__noinline int head_load(struct __sk_buff *skb, __u32 off, __u32 len, struct lt_head_buf *dst)
{
	if (!skb || !dst)
		return 0;
	if (len >= LT_HEAD_MAX) {
		if (bpf_skb_load_bytes(skb, off, dst->b, LT_HEAD_MAX))
			return 0;
		len = LT_HEAD_MAX;
	} else {
		/* hide len < LT_HEAD_MAX from the compiler: the mask must stay,
		 * it is what bounds the length for the verifier */
		asm volatile("" : "+r"(len));
		len &= LT_HEAD_MAX - 1;
		if (!len || bpf_skb_load_bytes(skb, off, dst->b, len))
			return 0;
	}
	count(LT_CNT_HEADS);
	return len;
}

/*
 * The process that sends the first SYN of a connect(): tc on lo egress
 * runs inside the connect() call that transmits it (tcp_connect, in the
 * caller's context), so `current` is the connecting process, as it is in
 * inet_sock_set_state -> SYN_SENT a moment before. Only the first
 * transmission: a retransmitted SYN leaves from the timer, in whatever
 * context (the timer counts icsk_retransmits before it resends).
 */
static __always_inline bool syn_owner(struct __sk_buff *skb, const struct tcp_sock *tp,
				      struct lt_owner *o)
{
	struct bpf_sock *sk = skb->sk;
	const struct task_struct *task;

	if (!sk || !tp || sk->state != BPF_TCP_SYN_SENT || tp->inet_conn.icsk_retransmits)
		return false;
	task = bpf_get_current_task_btf();
	o->pid = task->tgid;
	__builtin_memcpy(o->comm, task->comm, sizeof(o->comm));
	return true;
}

/* What conn_fill needs besides the entry, the key and the tuple (a global
 * function takes at most five arguments). */
struct conn_args {
	__u64 now;
	__u64 lsk; /* out: the listener's socket (conn_new) */
	struct lt_owner owner;
	__u8 fl;
	__u8 src_a;
	__u8 have_owner;
	__u8 pad[5];
};

/*
 * The fields of a new entry c for segment t (flags a->fl) of ck: its
 * identity, roles, and owners (a->owner: the sender's process, a
 * connect()'s first SYN, when a->have_owner); a->lsk: the socket of the
 * listener a client's SYN goes to, where it is known. A global function,
 * so the verifier checks it once on its own: inlined, it was checked
 * once per path through lotrace_tc that creates a connection (826,036 ->
 * 515,000 of the instructions the verifier walked for the program, 2.6 s
 * of its load on a slow machine; tests/live/verifier.sh). Returns 0.
 */
__noinline int conn_fill(struct lt_conn *c, const struct conn_key *ck, const struct tuple *t,
			 struct conn_args *a)
{
	struct lt_listener *o;
	bool sender_is_client, dst_first;
	__u8 fl;

	if (!c || !ck || !t || !a)
		return 0;
	fl = a->fl;
	c->kind = LT_REC_CONN;
	c->key = ck->k;
	c->id = new_conn_id();
	c->t_first = a->now;
	c->side[0].drop_reason = c->side[1].drop_reason = -1;
	c->side[0].reset_reason = c->side[1].reset_reason = -1;
	/* The client sends the SYN, receives the SYN-ACK; mid-stream, the
	 * sender of the first segment seen stands in (userspace decides). */
	sender_is_client = !((fl & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK));
	if (sender_is_client == !!a->src_a)
		c->flags |= LT_CF_CLIENT_IS_A;
	if (!(fl & TH_SYN))
		c->flags |= LT_CF_MIDSTREAM;
	/* Begun by anything but the client's SYN (mid-stream, or a SYN-ACK
	 * whose SYN found the map full): after a loss, its start may be what
	 * was lost. */
	if (last_loss_ns && (fl & (TH_SYN | TH_ACK)) != TH_SYN)
		c->flags |= LT_CF_LOSS;
	if (a->have_owner)
		set_owner(&c->side[sender_is_client ? 0 : 1], &a->owner);
	/* The receiver of a SYN, the sender of a SYN-ACK: a listener's. */
	/* Mid-stream: the receiver first, then the sender (userspace swaps
	 * roles by port). One call site per lookup keeps the stack small. */
	dst_first = !(fl & TH_SYN) || sender_is_client;
	o = listener_of(dst_first ? t->daddr : t->saddr, dst_first ? t->dport : t->sport, t->family,
			t->netns);
	if (!o && !(fl & TH_SYN))
		o = listener_of(t->saddr, t->sport, t->family, t->netns);
	if (o) {
		set_owner(&c->side[1], &o->owner);
		if ((fl & TH_SYN) && sender_is_client)
			a->lsk = o->sk;
	}
	return 0;
}

/* A new connection for segment t (a->fl), filled by conn_fill, or NULL
 * when the map is full. */
static __always_inline struct lt_conn *conn_new(const struct conn_key *ck, const struct tuple *t,
						struct conn_args *a)
{
	__u32 zero = 0;
	struct lt_conn *z = bpf_map_lookup_elem(&zero_conn, &zero);
	struct lt_conn *c;
	long err;

	if (!z)
		return NULL;
	/* Never over another's: two segments of one 4-tuple may both find no
	 * entry on two CPUs (a late segment of the tuple's last connection
	 * and its next SYN); the second then takes the first's entry. */
	err = bpf_map_update_elem(&conns, &ck->m, z, BPF_NOEXIST);
	if (err == -LT_EEXIST) {
		c = conn_get(ck);
		if (!c) /* another IPv6 connection's, its map key the same */
			note_loss(LT_CNT_MAP_FULL);
		return c;
	}
	if (err) {
		note_loss(LT_CNT_MAP_FULL);
		return NULL;
	}
	c = bpf_map_lookup_elem(&conns, &ck->m);
	if (c)
		conn_fill(c, ck, t, a);
	return c;
}

/*
 * The MSS option of a SYN whose TCP header (doff bytes) starts at l4off
 * (RFC 9293 3.2; Linux puts it first), or 0. A global function, so the
 * verifier checks its loop once: inlined, each way out of the loop was a
 * path of its own through the rest of lotrace_tc.
 */
__noinline int syn_mss(struct __sk_buff *skb, __u32 l4off, __u32 doff)
{
	void *data, *data_end;
	__u8 *opt, *opt_end;
	int i;

	if (!skb)
		return 0;
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	l4off &= 0x7ff;
	opt = data + l4off + sizeof(struct tcphdr);
	opt_end = data + l4off + (doff & 0x3f);
	for (i = 0; i < 8; i++) {
		__u8 kind, len;

		if ((void *)(opt + 2) > data_end || (void *)opt >= (void *)opt_end)
			break;
		kind = opt[0];
		if (kind == 0)
			break;
		if (kind == 1) {
			opt++;
			continue;
		}
		len = opt[1];
		if (kind == 2 && len == 4) {
			if ((void *)(opt + 4) > data_end)
				break;
			return (__u16)opt[2] << 8 | opt[3];
		}
		if (len < 2)
			break;
		opt += len;
	}
	return 0;
}

SEC("tc")
int lotrace_tc(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = NULL;
	struct ipv6hdr *ip6 = NULL;
	struct tuple t; /* zeroed once its ports are watched */
	struct conn_key k;
	struct lt_conn *c;
	struct lt_side *s;
	struct lt_tomb_set *tombs_set;
	__u64 th_hash;
	int way;
	struct tcphdr *th;
	__u32 l4off, ip_end, doff, payload = 0, seq;
	__u8 fl, nexthdr;
	__u16 mss = 0;
	__u64 now, lsk = 0;
	bool src_a, bare_syn, stamped;
	struct conn_args ca;
	struct tcp_sock *tp;
	int d;

	if ((void *)(eth + 1) > data_end)
		return TC_ACT_UNSPEC;

	/* Only as far as the ports first: most segments are not watched. */
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		__u32 ihl, tot;

		ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end)
			goto truncated;
		if (ip->protocol != IPPROTO_TCP)
			return TC_ACT_UNSPEC;
		if (ip->frag_off & bpf_htons(IP_OFFSET_MASK))
			return TC_ACT_UNSPEC; /* not the first fragment */
		ihl = ip->ihl * 4;
		if (ihl < sizeof(*ip))
			return TC_ACT_UNSPEC;
		tot = bpf_ntohs(ip->tot_len);
		l4off = sizeof(*eth) + ihl;
		ip_end = tot ? sizeof(*eth) + tot : skb->len;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		__u32 plen;
		int i;

		ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > data_end)
			goto truncated;
		plen = bpf_ntohs(ip6->payload_len);
		l4off = sizeof(*eth) + sizeof(*ip6);
		ip_end = plen ? l4off + plen : skb->len; /* 0: jumbo/BIG TCP */
		nexthdr = ip6->nexthdr;
		/* Skip the extension headers a TCP segment may carry. */
		for (i = 0; i < 4; i++) {
			struct ipv6_opt_hdr *oh = data + l4off;

			if (nexthdr == IPPROTO_TCP)
				break;
			if (nexthdr != NEXTHDR_HOP && nexthdr != NEXTHDR_ROUTING &&
			    nexthdr != NEXTHDR_DEST && nexthdr != NEXTHDR_FRAGMENT)
				return TC_ACT_UNSPEC;
			if ((void *)(oh + 1) > data_end)
				goto truncated;
			if (nexthdr == NEXTHDR_FRAGMENT) {
				struct frag_hdr *fh = (void *)oh;

				if ((void *)(fh + 1) > data_end)
					goto truncated;
				if (fh->frag_off & bpf_htons(0xfff8))
					return TC_ACT_UNSPEC;
				l4off += sizeof(*fh);
			} else {
				l4off += (oh->hdrlen + 1) * 8;
			}
			nexthdr = oh->nexthdr;
			if (l4off > 1024)
				return TC_ACT_UNSPEC;
		}
		if (nexthdr != IPPROTO_TCP)
			return TC_ACT_UNSPEC;
	} else {
		return TC_ACT_UNSPEC;
	}

	l4off &= 0x7ff; /* bounded for the verifier; checked above */
	th = data + l4off;
	if ((void *)(th + 1) > data_end)
		goto truncated;
	t.sport = bpf_ntohs(th->source);
	t.dport = bpf_ntohs(th->dest);
	if (!tuple_watched(&t))
		return TC_ACT_UNSPEC;
	__builtin_memset(t.saddr, 0, sizeof(t.saddr));
	__builtin_memset(t.daddr, 0, sizeof(t.daddr));
	t.pad[0] = t.pad[1] = t.pad[2] = 0;
	t.netns = 0;
	if (ip) {
		t.family = 4;
		__builtin_memcpy(t.saddr, &ip->saddr, 4);
		__builtin_memcpy(t.daddr, &ip->daddr, 4);
	} else if (ip6) {
		t.family = 6;
		__builtin_memcpy(t.saddr, &ip6->saddr, 16);
		__builtin_memcpy(t.daddr, &ip6->daddr, 16);
	}
	count(LT_CNT_PKTS);

	doff = th->doff * 4;
	if (doff < sizeof(*th))
		return TC_ACT_UNSPEC;
	if (ip_end > l4off + doff)
		payload = ip_end - l4off - doff;
	fl = ((__u8 *)th)[13];
	seq = bpf_ntohl(th->seq);
	stamped = tcp_stamps(fl, payload);
	/* the socket, where its time, its namespace or its owner needs it */
	tp = stamped || !tc_one_netns ? tc_tcp_sock(skb) : NULL;
	now = stamped ? departure_time(skb, tp) : bpf_ktime_get_ns();
	bare_syn = (fl & (TH_SYN | TH_ACK)) == TH_SYN;

	if (fl & TH_SYN)
		mss = syn_mss(skb, l4off, doff);

	t.netns = tc_one_netns ? tc_one_netns : tc_netns(skb, tp);
	src_a = make_key(&t, &k);
	c = conn_get(&k);
	if (c && bare_syn && !(c->flags & LT_CF_END_PENDING) &&
	    (side_of(c, src_a) != 0 || !c->side[0].syns || c->side[0].isn != seq)) {
		conn_end_reused(&k, c); /* a new connection on the old 4-tuple */
		c = conn_get(&k);
		if (c) {
			/* not sent (the ring is full: the old one waits for the
			 * sweep) or being sent by another CPU: this new
			 * connection cannot be tracked */
			note_loss(LT_CNT_REUSE_LOST);
			return TC_ACT_UNSPEC;
		}
	}
	if (c && bare_syn && (c->flags & LT_CF_END_PENDING) &&
	    (side_of(c, src_a) != 0 || c->side[0].isn != seq)) {
		/* a new connection while the old one on this 4-tuple still
		 * waits for room in the ring: it cannot be tracked */
		note_loss(LT_CNT_REUSE_LOST);
		return TC_ACT_UNSPEC;
	}
	if (!c) {
		th_hash = key_hash(&k);
		tombs_set = tomb_set(th_hash);
		way = tombs_set ? tomb_way(tombs_set, th_hash) & 7 : -1;
		if (way >= 0 && way < LT_TOMB_WAYS &&
		    (__s64)(now - tombs_set->t_end[way]) < (__s64)TOMB_NS &&
		    !(bare_syn && seq != tombs_set->client_isn[way])) {
			count(LT_CNT_LATE); /* e.g. the last ACK after both FINs */
			return TC_ACT_UNSPEC;
		}
		__builtin_memset(&ca, 0, sizeof(ca));
		ca.now = now;
		ca.fl = fl;
		ca.src_a = src_a;
		ca.have_owner = bare_syn && syn_owner(skb, tp, &ca.owner);
		c = conn_new(&k, &t, &ca);
		if (!c)
			return TC_ACT_UNSPEC;
		lsk = ca.lsk;
		if (way >= 0 && way < LT_TOMB_WAYS && tombs_set)
			tombs_set->tag[way] = 0; /* a new connection took the tuple over */
	} else if (c->flags & LT_CF_END_PENDING) {
		count(LT_CNT_LATE);
		return TC_ACT_UNSPEC;
	}

	d = side_of(c, src_a) & 1;
	s = &c->side[d];
	c->t_last = now;
	s->pkts++;
	if (fl & TH_SYN) {
		__u16 n = s->syns;

		if (n == 0) {
			s->isn = seq;
			s->mss = mss;
			s->window = bpf_ntohs(th->window);
			s->syn_flags = fl;
		}
		s->t_syn[n < LT_SYN_SLOTS ? n : LT_SYN_SLOTS - 1] = now;
		s->syns = n + 1;
		if (bare_syn && d == 0 &&
		    (lsk ? listener_queue_full(lsk, &c->backlog, &c->qlen)
			 : listen_queue_full(skb, &t, th->source, th->dest, &c->backlog, &c->qlen)))
			c->flags |= LT_CF_OVERFLOW;
	}
	if (payload) {
		if (!s->data_pkts) {
			s->t_data = now;
			s->first_data_len = payload;
			s->data_flags = fl;
			if (copy_head)
				c->head_len[d] = head_load(skb, l4off + doff, payload,
							   (struct lt_head_buf *)c->head[d]);
		}
		__sync_fetch_and_add(&s->data_pkts, 1);
		__sync_fetch_and_add(&s->bytes, payload);
	} else if ((fl & TH_ACK) && !(fl & (TH_SYN | TH_FIN | TH_RST)) && !s->t_ack) {
		s->t_ack = now; /* e.g. the ACK completing the handshake */
	}
	if (fl & TH_FIN) {
		if (!s->fins) {
			s->t_fin = now;
			s->fin_seq = seq;
			s->fin_flags = fl;
		}
		if (s->fins < 255)
			s->fins++;
		if (c->side[d ^ 1].fins && !(c->flags & LT_CF_TERM)) {
			c->flags |= LT_CF_TERM;
			c->t_term = now;
		}
	}
	if (fl & TH_RST) {
		if (!s->rsts) {
			s->t_rst = now;
			s->rst_seq = seq;
			s->rst_flags = fl;
		}
		if (s->rsts < 255)
			s->rsts++;
		if (!(c->flags & LT_CF_TERM)) {
			c->flags |= LT_CF_TERM;
			c->t_term = now;
		}
	}
	return TC_ACT_UNSPEC;

truncated:
	count(LT_CNT_TRUNCATED);
	return TC_ACT_UNSPEC;
}

static __always_inline void tuple_reverse(const struct tuple *in, struct tuple *out)
{
	__builtin_memcpy(out->saddr, in->daddr, 16);
	__builtin_memcpy(out->daddr, in->saddr, 16);
	out->sport = in->dport;
	out->dport = in->sport;
	out->family = in->family;
	out->pad[0] = out->pad[1] = out->pad[2] = 0;
	out->netns = in->netns;
}

/* ---- helpers for tracing programs ------------------------------------- */

static __always_inline bool net_ok(const struct net *net)
{
	if (!netns_ino)
		return true;
	if (!net)
		return true; /* unknown: keep */
	return BPF_CORE_READ(net, ns.inum) == netns_ino;
}

static __always_inline __u32 net_ino(const struct net *net)
{
	return net ? BPF_CORE_READ(net, ns.inum) : 0;
}

/* Is t in our network namespace (netns_ino 0: any)? */
static __always_inline bool tuple_net_ok(const struct tuple *t)
{
	return !netns_ino || !t->netns || t->netns == netns_ino;
}

/* The network namespace of a segment: its socket's, else its device's
 * (skb: a tp_btf argument, read with plain loads). */
static __always_inline __u32 skb_netns(const struct sk_buff *skb)
{
	const struct sock *sk = skb->sk;
	const struct net_device *dev;
	const struct net *net = NULL;

	if (sk) {
		net = sk->__sk_common.skc_net.net;
	} else {
		dev = skb->dev;
		if (dev)
			net = dev->nd_net.net;
	}
	return net ? net->ns.inum : 0;
}

static __always_inline bool sk_net_ok(const struct sock *sk)
{
	return net_ok(BPF_CORE_READ(sk, __sk_common.skc_net.net));
}

static __always_inline bool is_v4mapped(const __u8 *a)
{
	return !a[0] && !a[1] && !a[2] && !a[3] && !a[4] && !a[5] && !a[6] && !a[7] && !a[8] &&
	       !a[9] && a[10] == 0xff && a[11] == 0xff;
}

/*
 * The tuple of a socket, local end as src. Works on full, request and
 * timewait sockets alike (all start with struct sock_common). IPv4
 * peers of a dual-stack socket come out as family 4, as on the wire.
 */
/* An IPv6 socket talking to an IPv4 peer (::ffff:a.b.c.d on both ends):
 * the tuple as IPv4, as the wire carries it. */
static __always_inline void unmap_v4(struct tuple *t)
{
	__u32 s, d;

	if (!is_v4mapped(t->saddr) && !is_v4mapped(t->daddr))
		return;
	__builtin_memcpy(&s, t->saddr + 12, 4);
	__builtin_memcpy(&d, t->daddr + 12, 4);
	__builtin_memset(t->saddr, 0, 16);
	__builtin_memset(t->daddr, 0, 16);
	__builtin_memcpy(t->saddr, &s, 4);
	__builtin_memcpy(t->daddr, &d, 4);
	t->family = 4;
}

static __always_inline int sk_tuple(const struct sock *sk, struct tuple *t)
{
	__u16 fam = BPF_CORE_READ(sk, __sk_common.skc_family);

	__builtin_memset(t, 0, sizeof(*t));
	t->netns = net_ino(BPF_CORE_READ(sk, __sk_common.skc_net.net));
	t->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	t->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (fam == AF_INET) {
		__u32 s = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__u32 d = BPF_CORE_READ(sk, __sk_common.skc_daddr);

		t->family = 4;
		__builtin_memcpy(t->saddr, &s, 4);
		__builtin_memcpy(t->daddr, &d, 4);
		return 0;
	}
	if (fam != AF_INET6)
		return -1;
	BPF_CORE_READ_INTO(&t->saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
	BPF_CORE_READ_INTO(&t->daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	t->family = 6;
	unmap_v4(t);
	return 0;
}

/*
 * The tuple of a TCP segment in a kernel skb (network header must be set)
 * when one of its ports is watched and it is in our namespace, else -1.
 * skb is a tp_btf argument: its fields are plain loads; the packet bytes
 * need bpf_probe_read_kernel, so the ports are tested before anything
 * else is read (most segments of a busy machine are not watched).
 */
static __noinline int skb_tuple_watched(const struct sk_buff *skb, struct tuple *t)
{
	unsigned char *head = skb->head;
	__u16 nh = skb->network_header;
	__u16 proto = skb->protocol;
	__u32 l4off;
	__u16 ports[2];
	struct iphdr ip;
	__u8 ver;

	__builtin_memset(t, 0, sizeof(*t));
	if (!head || nh == (__u16)~0U)
		return -1;
	if (bpf_probe_read_kernel(&ip, sizeof(ip), head + nh))
		return -1;
	ver = ip.version;
	if (proto == bpf_htons(ETH_P_IP) || (!proto && ver == 4)) {
		if (ip.version != 4 || ip.protocol != IPPROTO_TCP ||
		    (ip.frag_off & bpf_htons(IP_OFFSET_MASK)) || ip.ihl < 5)
			return -1;
		t->family = 4;
		__builtin_memcpy(t->saddr, &ip.saddr, 4);
		__builtin_memcpy(t->daddr, &ip.daddr, 4);
		l4off = nh + ip.ihl * 4;
	} else if (proto == bpf_htons(ETH_P_IPV6) || (!proto && ver == 6)) {
		struct ipv6hdr ip6;
		__u8 nexthdr;
		int i;

		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), head + nh))
			return -1;
		if (ip6.version != 6)
			return -1;
		t->family = 6;
		__builtin_memcpy(t->saddr, &ip6.saddr, 16);
		__builtin_memcpy(t->daddr, &ip6.daddr, 16);
		l4off = nh + sizeof(ip6);
		nexthdr = ip6.nexthdr;
		for (i = 0; i < 4; i++) {
			struct ipv6_opt_hdr oh;

			if (nexthdr == IPPROTO_TCP)
				break;
			if (nexthdr != NEXTHDR_HOP && nexthdr != NEXTHDR_ROUTING &&
			    nexthdr != NEXTHDR_DEST && nexthdr != NEXTHDR_FRAGMENT)
				return -1;
			if (bpf_probe_read_kernel(&oh, sizeof(oh), head + l4off))
				return -1;
			l4off += nexthdr == NEXTHDR_FRAGMENT ? 8 : (oh.hdrlen + 1) * 8;
			nexthdr = oh.nexthdr;
		}
		if (nexthdr != IPPROTO_TCP)
			return -1;
	} else {
		return -1;
	}
	if (bpf_probe_read_kernel(ports, sizeof(ports), head + l4off))
		return -1;
	t->sport = bpf_ntohs(ports[0]);
	t->dport = bpf_ntohs(ports[1]);
	if (!tuple_watched(t))
		return -1;
	t->netns = skb_netns(skb);
	return tuple_net_ok(t) ? 0 : -1;
}

/*
 * Is sk a TCP socket? sk is a tp_btf program's argument (a trusted
 * pointer), so this and the *_arg helpers below read its fields with
 * plain loads, not one bpf_probe_read_kernel call per field:
 * inet_sock_set_state runs ten times per connection, so this matters.
 */
static __always_inline bool sk_is_tcp_arg(const struct sock *sk)
{
	return BPF_CORE_READ_BITFIELD(sk, sk_protocol) == IPPROTO_TCP;
}

/*
 * sk's local port, also after it closed: tcp_set_state(CLOSE) releases
 * the port (inet_num = 0) before the state change is traced, but
 * inet_sport, the port its segments carried, stays.
 */
static __always_inline __u16 sk_local_port_arg(const struct sock *sk)
{
	__u16 port = sk->__sk_common.skc_num;

	if (!port)
		port = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	return port;
}

/* Is one of sk's ports watched? Two plain loads and two bit tests. */
static __always_inline bool sk_watched_arg(const struct sock *sk)
{
	return port_watched(bpf_ntohs(sk->__sk_common.skc_dport)) ||
	       port_watched(sk_local_port_arg(sk));
}

/* sk_tuple from plain loads, with the local port of a closed socket. */
static __always_inline int sk_tuple_arg(const struct sock *sk, struct tuple *t)
{
	__u16 fam = sk->__sk_common.skc_family;
	const struct net *net = sk->__sk_common.skc_net.net;

	__builtin_memset(t, 0, sizeof(*t));
	t->netns = net ? net->ns.inum : 0;
	t->sport = sk_local_port_arg(sk);
	t->dport = bpf_ntohs(sk->__sk_common.skc_dport);
	if (fam == AF_INET) {
		__u32 s = sk->__sk_common.skc_rcv_saddr;
		__u32 d = sk->__sk_common.skc_daddr;

		t->family = 4;
		__builtin_memcpy(t->saddr, &s, 4);
		__builtin_memcpy(t->daddr, &d, 4);
		return 0;
	}
	if (fam != AF_INET6)
		return -1;
	/* (plain loads of the two arrays blow clang's stack estimate) */
	BPF_CORE_READ_INTO(&t->saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
	BPF_CORE_READ_INTO(&t->daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	t->family = 6;
	unmap_v4(t);
	return 0;
}


/* ---- process context: who owns which socket --------------------------- */

/*
 * accept() returns the child socket in the accepting process: the owner of
 * the server side (better than the listener's when several processes share
 * it). fexit and kretprobe variants; this kernel may refuse both, then the
 * listener's owner stands.
 */
static __always_inline int on_accept(const struct sock *newsk)
{
	struct tuple t;
	struct lt_owner o;
	struct lt_conn *c;
	struct conn_key k;
	int d;

	if (!newsk || sk_tuple(newsk, &t) || !tuple_watched(&t) || !sk_net_ok(newsk))
		return 0;
	c = conn_for(&t, &k, &d, NULL);
	if (!c)
		return 0;
	current_owner(&o);
	set_owner(&c->side[d & 1], &o);
	return 0;
}

/* The return value whatever the arguments (they changed in 6.10). */
SEC("fexit/inet_csk_accept")
int lt_fexit_accept(unsigned long long *ctx)
{
	__u64 ret = 0;

	if (bpf_get_func_ret(ctx, &ret))
		return 0;
	return on_accept((const struct sock *)ret);
}

SEC("kretprobe/inet_csk_accept")
int BPF_KRETPROBE(lt_kretprobe_accept, struct sock *newsk)
{
	return on_accept(newsk);
}

/*
 * State changes. Entering LISTEN happens inside listen(), in the owning
 * process: record the owner (a connect()'s owner is taken by tc when its
 * first SYN leaves, inside the same call). Leaving LISTEN forgets the
 * listener. Entering CLOSE ends the connection when it is over (RST or
 * both FINs seen) or the socket was still connecting; the socket's errno
 * is already set then (tcp_done_with_error); its port is released, so
 * the tuple comes from inet_sport.
 */
/*
 * A listener record: the socket t (its local end) began or stopped
 * listening, in the process context of listen() or close(). Watched
 * ports only; a full ring is a lost context record.
 */
static __always_inline void emit_listen(__u8 what, const struct sock *sk, const struct tuple *t)
{
	struct lt_listen_rec r = {};
	struct task_struct *task;

	if (!port_watched(t->sport))
		return;
	r.kind = LT_REC_LISTEN;
	r.what = what;
	r.family = t->family;
	r.netns = t->netns;
	r.ts_ns = bpf_ktime_get_ns();
	__builtin_memcpy(r.addr, t->saddr, 16);
	r.port = t->sport;
	r.backlog = BPF_CORE_READ(sk, sk_max_ack_backlog);
	r.pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(r.comm, sizeof(r.comm));
	task = (struct task_struct *)bpf_get_current_task();
	r.proc_start_ns = BPF_CORE_READ(task, group_leader, start_time);
	if (bpf_ringbuf_output(&events, &r, sizeof(r), rb_flags()))
		note_loss(LT_CNT_CTX_LOST);
	else
		count(LT_CNT_CTX);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(lt_set_state, struct sock *sk, const int oldstate, const int newstate)
{
	struct tuple t;
	struct lt_listen_key lk;
	struct lt_listener l;
	struct lt_conn *c;
	struct conn_key k;
	int d, err;

	/* Nothing is zeroed before these tests: 8 runs in 10 end at the first.
	 * (A child socket is born LISTEN -> SYN_RECV: not the listener's end.
	 * A connect()'s owner is taken by tc from its first SYN.) */
	if (newstate != TCP_LISTEN && newstate != TCP_CLOSE)
		return 0;
	/* A connection's socket (not a listener's): first of all, is one of
	 * its ports watched? Plain loads, before anything else. */
	if (newstate != TCP_LISTEN && oldstate != TCP_LISTEN && !sk_watched_arg(sk))
		return 0;
	if (!sk_is_tcp_arg(sk) || sk_tuple_arg(sk, &t) || !tuple_net_ok(&t))
		return 0;
	if (newstate == TCP_CLOSE && oldstate != TCP_LISTEN) {
		if (!t.sport)
			return 0;
		c = conn_for(&t, &k, &d, NULL);
		if (!c)
			return 0;
		err = sk->sk_err;
		if (err && !c->side[d & 1].sk_errno)
			c->side[d & 1].sk_errno = err;
		if ((c->flags & LT_CF_TERM) || oldstate == TCP_SYN_SENT) {
			if (!(c->flags & LT_CF_END_PENDING))
				conn_end(&k, c, 0);
		}
		return 0;
	}
	__builtin_memset(&lk, 0, sizeof(lk));
	__builtin_memcpy(lk.addr, t.saddr, 16);
	lk.port = t.sport;
	lk.family = t.family;
	lk.netns = t.netns;
	if (newstate == TCP_LISTEN) {
		if (!lk.port) /* autobind happens after the state change */
			return 0;
		__builtin_memset(&l, 0, sizeof(l));
		current_owner(&l.owner);
		/* its socket, where it alone takes its key's SYNs (tc reads
		 * its accept queue); else tc asks the kernel's lookup */
		if (!BPF_CORE_READ_BITFIELD(sk, __sk_common.skc_reuseport) &&
		    !BPF_CORE_READ_BITFIELD(sk, __sk_common.skc_ipv6only) &&
		    !sk->__sk_common.skc_bound_dev_if)
			l.sk = (__u64)sk;
		bpf_map_update_elem(&listeners, &lk, &l, BPF_ANY);
		emit_listen(LT_LISTEN_UP, sk, &t);
	} else {
		bpf_map_delete_elem(&listeners, &lk);
		emit_listen(LT_LISTEN_DOWN, sk, &t);
	}
	return 0;
}

/* ---- kernel context ----------------------------------------------------- */

/*
 * tcp_send_reset (6.10+ with the reason). The skb, when there is one, is
 * the segment being answered: its reversed tuple is the RST's. Without an
 * skb (an active reset: abort, linger 0) the socket tells.
 */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(lt_send_reset, struct sock *sk, const struct sk_buff *skb,
	     const enum sk_rst_reason reason)
{
	struct tuple in, t;
	struct lt_conn *c;
	struct conn_key k;
	bool ended;
	int d;

	if (skb) {
		if (skb_tuple_watched(skb, &in))
			return 0;
		tuple_reverse(&in, &t);
	} else if (sk) {
		if (!sk_watched_arg(sk) || sk_tuple_arg(sk, &t) || !tuple_net_ok(&t))
			return 0;
	} else {
		return 0;
	}
	/* An active reset is traced after it was sent, and on lo the peer may
	 * have closed (and ended the connection) in between: then the reason
	 * goes on its own, to the connection userspace still holds. */
	c = conn_for(&t, &k, &d, &ended);
	if (c) {
		if (c->side[d & 1].reset_reason < 0)
			c->side[d & 1].reset_reason = reason;
	} else {
		emit_ctx(LT_CTX_RESET, &t, reason);
	}
	return 0;
}

static __always_inline bool drop_reason_ignored(enum skb_drop_reason r)
{
	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_NOT_DROPPED_YET) &&
	    r == bpf_core_enum_value(enum skb_drop_reason, SKB_NOT_DROPPED_YET))
		return true;
	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_CONSUMED) &&
	    r == bpf_core_enum_value(enum skb_drop_reason, SKB_CONSUMED))
		return true;
	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_QUEUE_PURGE) &&
	    r == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_QUEUE_PURGE))
		return true; /* socket teardown frees its queues */
	return false;
}

/* kfree_skb (5.17+ with the reason): TCP segments on watched ports. */
SEC("tp_btf/kfree_skb")
int BPF_PROG(lt_kfree_skb, struct sk_buff *skb, void *location, enum skb_drop_reason reason)
{
	struct tuple t;
	struct lt_conn *c;
	struct lt_side *s;
	struct conn_key k;
	bool ended;
	__u64 now;
	int d;

	if (drop_reason_ignored(reason))
		return 0;
	if (skb_tuple_watched(skb, &t))
		return 0;
	c = conn_for(&t, &k, &d, &ended);
	if (!c) {
		if (!ended)
			emit_ctx(LT_CTX_DROP, &t, reason);
		return 0;
	}
	s = &c->side[d & 1];
	now = bpf_ktime_get_ns();
	if (!s->drops) {
		s->t_drop = now;
		s->drop_reason = reason;
	}
	s->t_drop_last = now;
	if (s->drops < 65535)
		s->drops++;
	return 0;
}

/* The errno the application will read: 111 refused, 104 reset, 110 ... */
SEC("tp_btf/inet_sk_error_report")
int BPF_PROG(lt_sk_error, struct sock *sk)
{
	struct tuple t;
	struct lt_conn *c;
	struct conn_key k;
	bool ended;
	int err, d;

	if (!sk_watched_arg(sk) || !sk_is_tcp_arg(sk) || sk_tuple_arg(sk, &t) || !tuple_net_ok(&t))
		return 0;
	err = sk->sk_err;
	if (!err) /* a second report after the error was read: nothing new */
		return 0;
	c = conn_for(&t, &k, &d, &ended);
	if (c) {
		if (!c->side[d & 1].sk_errno)
			c->side[d & 1].sk_errno = err;
	} else if (!ended) {
		emit_ctx(LT_CTX_ERROR, &t, err);
	}
	return 0;
}

static __always_inline void on_retrans(const struct tuple *t, __u8 what)
{
	struct lt_conn *c;
	struct conn_key k;
	bool ended;
	int d;

	c = conn_for(t, &k, &d, &ended);
	if (c) {
		if (c->side[d & 1].retrans < 65535)
			c->side[d & 1].retrans++;
	} else if (!ended) {
		emit_ctx(what, t, 0);
	}
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(lt_retransmit_skb, const struct sock *sk, const struct sk_buff *skb)
{
	struct tuple t;

	if (sk->__sk_common.skc_state != TCP_SYN_SENT)
		return 0;
	if (!sk_watched_arg(sk) || sk_tuple_arg(sk, &t) || !tuple_net_ok(&t))
		return 0;
	on_retrans(&t, LT_CTX_SYN_RETRANS);
	return 0;
}

SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(lt_retransmit_synack, const struct sock *sk, const struct request_sock *req)
{
	struct tuple t;

	if (sk_tuple((const struct sock *)req, &t) || !tuple_watched(&t) || !sk_net_ok(sk))
		return 0;
	on_retrans(&t, LT_CTX_SYNACK_RETRANS);
	return 0;
}
