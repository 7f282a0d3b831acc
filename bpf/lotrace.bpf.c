// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * lotrace.bpf.c - the kernel side: TCP segments on lo and the kernel's
 * reasons for what happened to them.
 *
 * Two kinds of program feed one ring buffer of struct lt_event (lotrace.h):
 *  - lotrace_tc, on lo *egress* only. A loopback packet passes egress and
 *    then ingress, so one hook sees each segment exactly once. Control
 *    segments (SYN, SYN-ACK, FIN, RST, the first pure ACK per direction)
 *    are sent one by one; data segments are summed per direction and only
 *    the first one is sent, later control segments carry the totals.
 *    A SYN meeting a full accept queue is reported too (no drop reason
 *    exists for it).
 *  - tracing programs: reset and drop reasons, the errno a socket gets,
 *    SYN and SYN-ACK retransmits.
 *
 * Process attribution: on lo the receive path runs in the *sender's*
 * softirq, so `current` in rx-side hooks is the wrong process (and tc
 * egress runs in whichever context sent). Owners are recorded in process
 * context instead: connect() (the SYN_SENT state change), listen() (the
 * LISTEN one), accept() (inet_csk_accept's return) and the first send or
 * recv on a socket, keyed by socket cookie and 4-tuple; every event looks
 * its sender up by cookie (tc), tuple, or listening address.
 *
 * Every ring buffer reservation that fails is counted (counters map);
 * userspace reports the sum, so loss is never silent.
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

/* Set by userspace before load. */
const volatile __u32 netns_ino = 0;      /* our netns; 0 = do not filter */
const volatile bool every_segment = false; /* no aggregation (debugging) */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20); /* resized by userspace */
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

/* A directed 4-tuple: src is the sender (or the socket's local end). */
struct tuple {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u8 family; /* 4 or 6 */
	__u8 pad[3];
};

/* Per direction of a connection: data totals, first pure ACK seen. */
struct dirstate {
	__u64 pkts;
	__u64 bytes;
	__u64 first_ns;
	__u32 acked;
	__u32 pad;
};

/* Connected sockets: tuple (local = src) -> owner. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct tuple);
	__type(value, struct lt_owner);
} owners SEC(".maps");

/* Listening sockets: endpoint -> owner (userspace seeds old listeners). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct lt_listen_key);
	__type(value, struct lt_owner);
} listeners SEC(".maps");

/* Sockets on watched ports, by socket cookie: their owner, recorded in
 * process context (connect, send/recv), and their tuple (remember_sk). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct lt_owner);
} cookies SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct tuple);
} socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct tuple);
	__type(value, struct dirstate);
} dirs SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);

	if (c)
		*c += 1; /* per-CPU slot: no atomics needed */
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

static __always_inline void tuple_reverse(const struct tuple *in, struct tuple *out)
{
	__builtin_memcpy(out->saddr, in->daddr, 16);
	__builtin_memcpy(out->daddr, in->saddr, 16);
	out->sport = in->dport;
	out->dport = in->sport;
	out->family = in->family;
	out->pad[0] = out->pad[1] = out->pad[2] = 0;
}

/*
 * The owner of the socket that sends from t->saddr:t->sport to t->daddr:
 * by socket cookie (tc knows the sending socket), else by tuple, else the
 * listener on the source address/port (a SYN-ACK, a child not accepted
 * yet). A cookie hit is copied to the tuple map for the tracepoints.
 */
static __always_inline bool find_owner(const struct tuple *t, __u64 cookie,
				       struct lt_owner *out)
{
	struct lt_owner *o = NULL;
	struct lt_listen_key k = {};

	if (cookie) {
		o = bpf_map_lookup_elem(&cookies, &cookie);
		if (o && t->sport && t->dport)
			bpf_map_update_elem(&owners, t, o, BPF_ANY);
	}
	if (!o)
		o = bpf_map_lookup_elem(&owners, t);
	if (!o) {
		__builtin_memcpy(k.addr, t->saddr, 16);
		k.port = t->sport;
		k.family = t->family;
		o = bpf_map_lookup_elem(&listeners, &k);
	}
	if (!o) {
		__builtin_memset(k.addr, 0, 16);
		o = bpf_map_lookup_elem(&listeners, &k);
	}
	if (!o && t->family == 4) {
		k.family = 6; /* a dual-stack listener on :: takes IPv4 too */
		o = bpf_map_lookup_elem(&listeners, &k);
	}
	if (!o)
		return false;
	*out = *o;
	return true;
}

static __always_inline void current_owner(struct lt_owner *o)
{
	o->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(o->comm, sizeof(o->comm));
}

static __always_inline struct lt_event *ev_reserve(void)
{
	struct lt_event *e;

	count(LT_CNT_EMIT);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(LT_CNT_RESERVE_FAILED);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	return e;
}

static __always_inline void ev_submit(struct lt_event *e)
{
	bpf_ringbuf_submit(e, 0);
	count(LT_CNT_SUBMITTED);
}

static __always_inline void ev_set_tuple(struct lt_event *e, const struct tuple *t)
{
	__builtin_memcpy(e->saddr, t->saddr, 16);
	__builtin_memcpy(e->daddr, t->daddr, 16);
	e->sport = t->sport;
	e->dport = t->dport;
	e->family = t->family;
}

static __always_inline void ev_set_owner(struct lt_event *e, const struct tuple *t,
					 __u64 cookie)
{
	struct lt_owner o;

	if (find_owner(t, cookie, &o)) {
		e->pid = o.pid;
		__builtin_memcpy(e->comm, o.comm, sizeof(e->comm));
		e->flags |= LT_EVF_PROC;
	}
}

/* ---- tc: segments ------------------------------------------------------ */

/*
 * A SYN to a listener whose accept queue is full is dropped without a
 * drop reason (tcp_conn_request: sk_acceptq_is_full, then the consume
 * path). Look the listener up as the SYN leaves and read its queue: the
 * answer is the kernel's own unless accept() runs in the microseconds
 * before the SYN is processed. Returns the backlog when full, else -1.
 */
static __always_inline int listen_queue_full(struct __sk_buff *skb, const struct tuple *t,
					     __u16 sport_be, __u16 dport_be)
{
	struct bpf_sock_tuple bt = {};
	struct bpf_sock *sk;
	struct tcp_sock *tp;
	int full = -1;
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
		return -1;
	if (sk->state == BPF_TCP_LISTEN) {
		tp = bpf_skc_to_tcp_sock(sk);
		if (tp && tp->inet_conn.icsk_inet.sk.sk_ack_backlog >
			      tp->inet_conn.icsk_inet.sk.sk_max_ack_backlog)
			full = tp->inet_conn.icsk_inet.sk.sk_max_ack_backlog;
	}
	bpf_sk_release(sk);
	return full;
}

SEC("tc")
int lotrace_tc(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct tuple t = {};
	struct tcphdr *th;
	struct dirstate *ds, zero = {};
	struct lt_event *e;
	__u32 l4off, ip_end, doff, payload = 0;
	__u8 flags, nexthdr;
	__u16 mss = 0;
	__u64 now, cookie;
	bool emit;

	if ((void *)(eth + 1) > data_end)
		return TC_ACT_UNSPEC;

	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		__u32 ihl, tot;

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
		t.family = 4;
		__builtin_memcpy(t.saddr, &ip->saddr, 4);
		__builtin_memcpy(t.daddr, &ip->daddr, 4);
		l4off = sizeof(*eth) + ihl;
		ip_end = tot ? sizeof(*eth) + tot : skb->len;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		__u32 plen;
		int i;

		if ((void *)(ip6 + 1) > data_end)
			goto truncated;
		t.family = 6;
		__builtin_memcpy(t.saddr, &ip6->saddr, 16);
		__builtin_memcpy(t.daddr, &ip6->daddr, 16);
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
	count(LT_CNT_PKTS);

	doff = th->doff * 4;
	if (doff < sizeof(*th))
		return TC_ACT_UNSPEC;
	if (ip_end > l4off + doff)
		payload = ip_end - l4off - doff;
	flags = ((__u8 *)th)[13];
	now = bpf_ktime_get_ns();

	/* The MSS option of a SYN (RFC 9293 3.2); Linux puts it first. */
	if (flags & TH_SYN) {
		__u8 *opt = (__u8 *)(th + 1);
		__u8 *opt_end = (__u8 *)th + (doff & 0x3f);
		int i;

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
				mss = (__u16)opt[2] << 8 | opt[3];
				break;
			}
			if (len < 2)
				break;
			opt += len;
		}
	}

	cookie = bpf_get_socket_cookie(skb); /* 0: no socket (a kernel RST) */
	if ((flags & (TH_SYN | TH_ACK)) == TH_SYN && cookie)
		bpf_map_update_elem(&socks, &cookie, &t, BPF_ANY); /* connect() */

	/* Per-direction totals; a SYN starts the direction anew. */
	if (flags & TH_SYN)
		bpf_map_update_elem(&dirs, &t, &zero, BPF_ANY);
	ds = bpf_map_lookup_elem(&dirs, &t);
	if (!ds) {
		bpf_map_update_elem(&dirs, &t, &zero, BPF_NOEXIST);
		ds = bpf_map_lookup_elem(&dirs, &t);
	}

	emit = every_segment || (flags & (TH_SYN | TH_FIN | TH_RST));
	if (payload) {
		if (ds) {
			if (ds->pkts == 0) {
				ds->first_ns = now;
				emit = true; /* the first data segment this way */
			}
			__sync_fetch_and_add(&ds->pkts, 1);
			__sync_fetch_and_add(&ds->bytes, payload);
		} else {
			emit = true;
		}
	} else if (!(flags & (TH_SYN | TH_FIN | TH_RST))) {
		if (ds && !ds->acked) {
			ds->acked = 1; /* e.g. the ACK completing the handshake */
			emit = true;
		}
	}
	if (!emit) {
		if (payload)
			count(LT_CNT_AGGREGATED);
		return TC_ACT_UNSPEC;
	}

	e = ev_reserve();
	if (!e)
		return TC_ACT_UNSPEC;
	e->ts_ns = now;
	e->type = LT_EV_SEGMENT;
	ev_set_tuple(e, &t);
	e->tcp_flags = flags;
	e->seq = bpf_ntohl(th->seq);
	e->ack = bpf_ntohl(th->ack_seq);
	e->window = bpf_ntohs(th->window);
	e->mss = mss;
	e->payload_len = payload;
	if (ds && ds->pkts) {
		e->flags |= LT_EVF_AGG;
		e->agg_pkts = ds->pkts;
		e->agg_bytes = ds->bytes;
		e->agg_first_ns = ds->first_ns;
	}
	ev_set_owner(e, &t, cookie);
	ev_submit(e);

	if ((flags & (TH_SYN | TH_ACK)) == TH_SYN) {
		int backlog = listen_queue_full(skb, &t, th->source, th->dest);

		if (backlog >= 0) {
			e = ev_reserve();
			if (!e)
				return TC_ACT_UNSPEC;
			e->ts_ns = now;
			e->type = LT_EV_LISTEN_OVERFLOW;
			e->value = backlog;
			ev_set_tuple(e, &t);
			ev_set_owner(e, &t, cookie);
			ev_submit(e);
		}
	}
	return TC_ACT_UNSPEC;

truncated:
	count(LT_CNT_TRUNCATED);
	return TC_ACT_UNSPEC;
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

static __always_inline bool sk_net_ok(const struct sock *sk)
{
	return net_ok(BPF_CORE_READ(sk, __sk_common.skc_net.net));
}

static __always_inline bool skb_net_ok(const struct sk_buff *skb)
{
	struct sock *sk;
	struct net_device *dev;

	if (!netns_ino)
		return true;
	sk = BPF_CORE_READ(skb, sk);
	if (sk)
		return sk_net_ok(sk);
	dev = BPF_CORE_READ(skb, dev);
	if (dev)
		return net_ok(BPF_CORE_READ(dev, nd_net.net));
	return true;
}

static __always_inline bool is_v4mapped(const __u8 *a)
{
	return !a[0] && !a[1] && !a[2] && !a[3] && !a[4] && !a[5] && !a[6] &&
	       !a[7] && !a[8] && !a[9] && a[10] == 0xff && a[11] == 0xff;
}

/*
 * The tuple of a socket, local end as src. Works on full, request and
 * timewait sockets alike (all start with struct sock_common). IPv4
 * peers of a dual-stack socket come out as family 4, as on the wire.
 */
static __always_inline int sk_tuple(const struct sock *sk, struct tuple *t)
{
	__u16 fam = BPF_CORE_READ(sk, __sk_common.skc_family);

	__builtin_memset(t, 0, sizeof(*t));
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
	if (is_v4mapped(t->saddr) || is_v4mapped(t->daddr)) {
		__u32 s, d;

		__builtin_memcpy(&s, t->saddr + 12, 4);
		__builtin_memcpy(&d, t->daddr + 12, 4);
		__builtin_memset(t->saddr, 0, 16);
		__builtin_memset(t->daddr, 0, 16);
		__builtin_memcpy(t->saddr, &s, 4);
		__builtin_memcpy(t->daddr, &d, 4);
		t->family = 4;
	}
	return 0;
}

/* The tuple of a TCP segment in a kernel skb (network header must be set). */
static __always_inline int skb_tuple(const struct sk_buff *skb, struct tuple *t)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	__u16 proto = BPF_CORE_READ(skb, protocol);
	__u32 l4off;
	struct tcphdr th;
	__u8 ver;

	__builtin_memset(t, 0, sizeof(*t));
	if (!head || nh == (__u16)~0U)
		return -1;
	if (bpf_probe_read_kernel(&ver, 1, head + nh))
		return -1;
	ver >>= 4;
	if (proto == bpf_htons(ETH_P_IP) || (!proto && ver == 4)) {
		struct iphdr ip;

		if (bpf_probe_read_kernel(&ip, sizeof(ip), head + nh))
			return -1;
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
	if (bpf_probe_read_kernel(&th, sizeof(th), head + l4off))
		return -1;
	t->sport = bpf_ntohs(th.source);
	t->dport = bpf_ntohs(th.dest);
	return 0;
}

/* A kernel-context event about t, from t's sender's point of view. */
static __always_inline void emit_kernel(__u8 type, const struct tuple *t, __s32 value)
{
	struct lt_event *e = ev_reserve();

	if (!e)
		return;
	e->ts_ns = bpf_ktime_get_ns();
	e->type = type;
	e->value = value;
	ev_set_tuple(e, t);
	ev_set_owner(e, t, 0);
	ev_submit(e);
}

static __always_inline bool sk_is_tcp(const struct sock *sk)
{
	return BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol) == IPPROTO_TCP;
}

/* ---- process context: who owns which socket --------------------------- */

/*
 * Function hooks come twice, fexit/fentry (BPF trampolines) and kprobe:
 * kernels may lack either (CONFIG_KPROBES is off on some, trampolines are
 * refused on others). Userspace attaches the first that works.
 */

/*
 * Remember the tuple of sk by its cookie: once closed, a socket forgets its
 * local port (inet_put_port), and the errno report comes after that.
 * Tracing programs only (the cookie helper wants a BTF socket pointer).
 */
static __always_inline void remember_sk(struct sock *sk, const struct tuple *t)
{
	__u64 cookie = bpf_get_socket_cookie(sk);

	bpf_map_update_elem(&socks, &cookie, t, BPF_ANY);
}

/* sk_tuple, completed from what we remembered when the port is gone. */
static __always_inline int sk_tuple_known(struct sock *sk, struct tuple *t)
{
	__u64 cookie;
	struct tuple *old;

	if (sk_tuple(sk, t))
		return -1;
	if (t->sport)
		return 0;
	cookie = bpf_get_socket_cookie(sk);
	old = bpf_map_lookup_elem(&socks, &cookie);
	if (old)
		*t = *old;
	return 0;
}

/* accept() returns the child socket in the accepting process. */
static __always_inline int on_accept(const struct sock *newsk)
{
	struct tuple t;
	struct lt_owner o;

	if (!newsk || sk_tuple(newsk, &t) || !tuple_watched(&t) || !sk_net_ok(newsk))
		return 0;
	current_owner(&o);
	bpf_map_update_elem(&owners, &t, &o, BPF_ANY);
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
 * State changes. Entering SYN_SENT happens inside connect() and entering
 * LISTEN inside listen(), both in the owning process: record the owner
 * (a connecting socket has no local port yet, so by cookie; tc copies it
 * to the tuple when the SYN leaves). Leaving LISTEN forgets the listener;
 * reaching SYN_RECV/ESTABLISHED (softirq: no process) records the tuple.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(lt_set_state, struct sock *sk, const int oldstate, const int newstate)
{
	struct tuple t;
	struct lt_listen_key k = {};
	struct lt_owner o;
	__u64 cookie;

	if (newstate != TCP_LISTEN && oldstate != TCP_LISTEN && newstate != TCP_SYN_SENT &&
	    newstate != TCP_ESTABLISHED && newstate != TCP_SYN_RECV)
		return 0;
	if (!sk_is_tcp(sk) || sk_tuple(sk, &t) || !sk_net_ok(sk))
		return 0;
	if (newstate == TCP_SYN_SENT) {
		if (!tuple_watched(&t))
			return 0;
		cookie = bpf_get_socket_cookie(sk);
		current_owner(&o);
		bpf_map_update_elem(&cookies, &cookie, &o, BPF_ANY);
		return 0;
	}
	if (newstate == TCP_ESTABLISHED || newstate == TCP_SYN_RECV) {
		if (t.sport && tuple_watched(&t))
			remember_sk(sk, &t);
		return 0;
	}
	__builtin_memcpy(k.addr, t.saddr, 16);
	k.port = t.sport;
	k.family = t.family;
	if (newstate == TCP_LISTEN) {
		if (!k.port) /* autobind happens after the state change */
			return 0;
		current_owner(&o);
		bpf_map_update_elem(&listeners, &k, &o, BPF_ANY);
	} else {
		bpf_map_delete_elem(&listeners, &k);
	}
	return 0;
}

/*
 * send()/recv() on a socket, in the calling process: the owner of
 * sockets whose connect() or accept() we did not see (an accepted child,
 * a connection older than lotrace). The first process to use it wins.
 */
static __always_inline int on_sock_io(struct sock *sk)
{
	struct lt_owner o;
	struct tuple t;
	__u64 cookie;

	if (!sk || !sk_is_tcp(sk))
		return 0;
	cookie = bpf_get_socket_cookie(sk);
	if (bpf_map_lookup_elem(&cookies, &cookie))
		return 0;
	if (sk_tuple(sk, &t) || !t.sport || !tuple_watched(&t) || !sk_net_ok(sk))
		return 0;
	current_owner(&o);
	bpf_map_update_elem(&cookies, &cookie, &o, BPF_NOEXIST);
	bpf_map_update_elem(&owners, &t, &o, BPF_NOEXIST);
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(lt_sock_send, struct sock *sk, int ret, int flags)
{
	return on_sock_io(sk);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(lt_sock_recv, struct sock *sk, int ret, int flags)
{
	return on_sock_io(sk);
}

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(lt_destroy_sock, struct sock *sk)
{
	__u64 cookie;
	struct tuple t;

	if (!sk_is_tcp(sk))
		return 0;
	if (!sk_tuple_known(sk, &t) && t.sport && t.dport)
		bpf_map_delete_elem(&owners, &t);
	cookie = bpf_get_socket_cookie(sk);
	bpf_map_delete_elem(&socks, &cookie);
	bpf_map_delete_elem(&cookies, &cookie);
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

	if (skb) {
		if (skb_tuple(skb, &in))
			return 0;
		tuple_reverse(&in, &t);
		if (!skb_net_ok(skb))
			return 0;
	} else if (sk) {
		if (sk_tuple_known(sk, &t) || !sk_net_ok(sk))
			return 0;
	} else {
		return 0;
	}
	if (!tuple_watched(&t))
		return 0;
	emit_kernel(LT_EV_RESET, &t, reason);
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

	if (drop_reason_ignored(reason))
		return 0;
	if (skb_tuple(skb, &t) || !tuple_watched(&t) || !skb_net_ok(skb))
		return 0;
	emit_kernel(LT_EV_DROP, &t, reason);
	return 0;
}

/* The errno the application will read: 111 refused, 104 reset, 110 ... */
SEC("tp_btf/inet_sk_error_report")
int BPF_PROG(lt_sk_error, struct sock *sk)
{
	struct tuple t;
	int err;

	if (!sk_is_tcp(sk) || sk_tuple_known(sk, &t) || !tuple_watched(&t) ||
	    !sk_net_ok(sk))
		return 0;
	err = BPF_CORE_READ(sk, sk_err);
	if (!err) /* a second report after the error was read: nothing new */
		return 0;
	emit_kernel(LT_EV_ERROR, &t, err);
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(lt_retransmit_skb, const struct sock *sk, const struct sk_buff *skb)
{
	struct tuple t;

	if (BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_SYN_SENT)
		return 0;
	if (sk_tuple(sk, &t) || !tuple_watched(&t) || !sk_net_ok(sk))
		return 0;
	emit_kernel(LT_EV_SYN_RETRANS, &t, 0);
	return 0;
}

SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(lt_retransmit_synack, const struct sock *sk, const struct request_sock *req)
{
	struct tuple t;

	if (sk_tuple((const struct sock *)req, &t) || !tuple_watched(&t) || !sk_net_ok(sk))
		return 0;
	emit_kernel(LT_EV_SYNACK_RETRANS, &t, 0);
	return 0;
}
