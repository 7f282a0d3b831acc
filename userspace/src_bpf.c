/* SPDX-License-Identifier: MIT */
/*
 * src_bpf.c - load bpf/lotrace.bpf.c, attach it to lo, read its ring
 * buffer and sweep its connection map into observations (src_bpf.h says
 * what they look like). Owns the delivered-state table that makes a
 * connection's records and sweeps add up to each segment once.
 */
#include "src_bpf.h"
#include "inline.h"
#include "src_bpf_netns.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>


#include <linux/capability.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "hash.h"
#include "kreason.h"
#include "listeners.h"
#include "lotrace.h"
#include "lotrace.skel.h"
#include "proto.h"
#include "src_bpf_tc.h"
#include "src_bpf_verifier.h"
#include "zero.h"

_Static_assert(sizeof(struct lt_conn) == 576, "struct lt_conn layout changed");
_Static_assert(LT_CONN_BASE_LEN == 448, "struct lt_conn head[] is not last");
_Static_assert(sizeof(struct lt_conn_short) == 312, "struct lt_conn_short layout changed");
_Static_assert(LT_HEAD_MAX == PROTO_HEAD_MAX, "the kernel copies what the flow keeps");
_Static_assert(sizeof(struct lt_ctx_rec) == 56, "struct lt_ctx_rec layout changed");
_Static_assert(sizeof(struct lt_listen_rec) == 72, "struct lt_listen_rec layout changed");
_Static_assert(sizeof(struct lt_owner) == 20, "struct lt_owner layout changed");
_Static_assert(sizeof(struct lt_listener) == 32, "struct lt_listener layout changed");
_Static_assert(sizeof(struct lt_listen_key) == 24, "struct lt_listen_key layout changed");
_Static_assert(sizeof(struct lt_ports) == 65536 / 8, "one bit per port");

/* BPF_TCX_EGRESS (Linux 6.6); Debian 12's uapi headers predate it, and
 * libbpf 1.1 passes unknown attach types through to the kernel. */
#define LT_BPF_TCX_EGRESS 47
#define LT_RINGBUF_DEFAULT (16u << 20)
#define LT_CONNS_DEFAULT 65536u
#define LT_TOMBS_MIN 65536u /* 2 MiB of sets: ~1.5 s of the fastest flood */
/* Records one dispatch reads at most (the rest wait for the next one). */
#define LT_DISPATCH_RECORDS 16384
#define LT_RB_STOP (-ECANCELED)
#define DMAX_SLOTS 64 /* a power of two up to 1 << 16: id % DMAX_SLOTS is CPU % DMAX_SLOTS */

struct dent;

struct src_bpf {
	struct lt_source base; /* first: the ops see a struct lt_source * */
	struct lotrace_bpf *skel;
	struct ring_buffer *rb;
	struct netns_set *nsset; /* the other namespaces' lo, their names */
	uint64_t last_ns_scan;
	int ifindex;
	int tcx_fd;	       /* tcx link, -1 when none */
	struct tc_clsact tc;   /* the clsact fallback */
	uint64_t mono_to_real; /* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	uint32_t max_flows;    /* conns map size */
	struct src_bpf_info info;
	/* counters of this side */
	uint64_t received;	  /* ring records read */
	uint64_t bad_records;	  /* ... of an unknown kind or size */
	uint64_t conns_ended;	  /* connections delivered to their end */
	uint64_t ends_from_sweep; /* ... by the sweep, the ring being full */
	uint64_t evicted;	  /* live connections dropped from a crowded map */
	uint64_t dtab_full;	  /* alive connections the sweep could not follow */
	uint64_t expand_cut;	  /* observations beyond LT_EXP_MAX per record */
	uint64_t sweeps, sweep_errors, last_live;
	/* delivered state of connections the sweep saw alive */
	struct dent *dtab;
	size_t dmask, dcount, dended;
	size_t dmask_max; /* it grows from 1024 slots up to this + 1 */
	/* the highest id ever entered of each CPU slot (the kernel's id ends
	 * in its CPU: new_conn_id), none above is in it: a CPU's ids grow */
	uint64_t dmax_id[DMAX_SLOTS];
	/* the sweep's batch buffers */
	uint32_t sweep_batch;
	struct lt_mkey *sweep_keys; /* the conns map's keys */
	struct lt_conn *sweep_vals;
	uint64_t last_sweep, now_mono;
	/* the dispatch in progress */
	lt_obs_fn fn;
	void *fn_ctx;
	int delivered;
	struct exp *exp; /* one record's observations */
	uint64_t records_this_dispatch;
};

/* ---- libbpf messages ---------------------------------------------------- */

/* libbpf has one global print hook and no context pointer. */
static void (*log_fn)(void *ctx, const char *line);
static void *log_ctx;
static int log_verbose;
static char last_warn[200];

/* A line where libbpf's go: the caller's log, else stderr. */
static void say(const char *line)
{
	if (log_fn)
		log_fn(log_ctx, line);
	else
		fprintf(stderr, "%s\n", line);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024];
	size_t n;

	if (level == LIBBPF_DEBUG && !log_verbose)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == ' '))
		line[--n] = 0;
	if (level == LIBBPF_WARN)
		snprintf(last_warn, sizeof(last_warn), "%s", line);
	if (log_fn || log_verbose)
		say(line);
	return 0;
}

static int libbpf_silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

/* ---- small helpers ------------------------------------------------------ */

static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* REALTIME - MONOTONIC, from the tightest of a few samples. */
static uint64_t mono_to_real_offset(void)
{
	uint64_t best = 0, best_gap = UINT64_MAX;

	for (int i = 0; i < 5; i++) {
		uint64_t r1 = clock_ns(CLOCK_REALTIME);
		uint64_t m = clock_ns(CLOCK_MONOTONIC);
		uint64_t r2 = clock_ns(CLOCK_REALTIME);

		if (r2 - r1 < best_gap) {
			best_gap = r2 - r1;
			best = r1 + (r2 - r1) / 2 - m;
		}
	}
	return best;
}

static size_t ringbuf_size(size_t want)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), sz = page;

	if (!want)
		want = LT_RINGBUF_DEFAULT;
	while (sz < want && sz < ((size_t)1 << 30))
		sz <<= 1;
	return sz;
}

static void append_missing(struct src_bpf_info *info, const char *what)
{
	size_t n = strlen(info->missing);

	snprintf(info->missing + n, sizeof(info->missing) - n, "%s%s", n ? ", " : "", what);
}

/* ---- kernel feature detection ------------------------------------------- */

/* Parameters of tracepoint `tp` as BPF sees it (btf_trace_<tp> typedef,
 * the first one being the context pointer), or -1 when absent. */
static int tp_nparams(const struct btf *btf, const char *tp)
{
	char name[128];
	const struct btf_type *t;
	int id;

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return -1;
	t = btf__type_by_id(btf, id);
	t = btf__type_by_id(btf, t->type); /* pointer */
	if (!t || !btf_is_ptr(t))
		return -1;
	t = btf__type_by_id(btf, t->type); /* function prototype */
	if (!t || !btf_is_func_proto(t))
		return -1;
	return btf_vlen(t);
}

struct hook {
	struct bpf_program *prog;
	struct bpf_link **link;
	const char *tp;	  /* tracepoint name, or NULL */
	const char *func; /* kernel function (fentry/kprobe), or NULL */
	int nargs;	  /* tracepoint arguments the program reads */
	const char *what; /* for src_bpf_info.missing */
	/* the same hook as a kprobe, tried when fentry/fexit cannot attach */
	struct bpf_program *alt;
	struct bpf_link **alt_link;
};

static int hooks_of(struct lotrace_bpf *k, struct hook *h)
{
	struct hook all[] = {
		{ k->progs.lt_fexit_accept, &k->links.lt_fexit_accept, NULL, "inet_csk_accept", 0,
		  "inet_csk_accept (pid at accept)", k->progs.lt_kretprobe_accept,
		  &k->links.lt_kretprobe_accept },
		{ k->progs.lt_set_state, &k->links.lt_set_state, "inet_sock_set_state", NULL, 3,
		  "inet_sock_set_state (client and listener pids)", NULL, NULL },
		{ k->progs.lt_send_reset, &k->links.lt_send_reset, "tcp_send_reset", NULL, 3,
		  "tcp_send_reset (reset reasons)", NULL, NULL },
		{ k->progs.lt_kfree_skb, &k->links.lt_kfree_skb, "kfree_skb", NULL, 3,
		  "kfree_skb (drop reasons)", NULL, NULL },
		{ k->progs.lt_sk_error, &k->links.lt_sk_error, "inet_sk_error_report", NULL, 1,
		  "inet_sk_error_report (errno)", NULL, NULL },
		{ k->progs.lt_retransmit_skb, &k->links.lt_retransmit_skb, "tcp_retransmit_skb",
		  NULL, 2, "tcp_retransmit_skb (SYN retransmits)", NULL, NULL },
		{ k->progs.lt_retransmit_synack, &k->links.lt_retransmit_synack,
		  "tcp_retransmit_synack", NULL, 2, "tcp_retransmit_synack", NULL, NULL },
	};
	int n = (int)(sizeof(all) / sizeof(all[0]));

	memcpy(h, all, sizeof(all));
	return n;
}

#define LT_MAX_HOOKS 16

/* The kernel has bpf_get_func_ret (5.17+), which lt_fexit_accept needs. */
static int has_helper(const struct btf *btf, const char *name)
{
	int id = btf__find_by_name_kind(btf, "bpf_func_id", BTF_KIND_ENUM);
	const struct btf_type *t;
	const struct btf_enum *e;

	if (id < 0)
		return 0;
	t = btf__type_by_id(btf, id);
	e = btf_enum(t);
	for (int i = 0; i < btf_vlen(t); i++, e++)
		if (!strcmp(btf__name_by_offset(btf, e->name_off), name))
			return 1;
	return 0;
}

/*
 * Can this kernel load a fentry program on `func`? Some kernels have BTF
 * and ftrace but refuse trampolines (EPERM here on a locked-down 6.18).
 * A two-instruction program answers without loading ours twice.
 */
static int can_fentry(const struct btf *btf, const char *func)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FENTRY);
	int id = btf__find_by_name_kind(btf, func, BTF_KIND_FUNC);
	int fd;

	if (id < 0)
		return 0;
	opts.attach_btf_id = (__u32)id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "lt_probe", "Dual MIT/GPL", insns, 2, &opts);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/*
 * Turn off the programs whose hook this kernel lacks: tracepoints with
 * fewer arguments than we read, functions not in BTF (inlined, renamed),
 * kprobes when there is no kprobe PMU. Of a fentry/kprobe pair both stay
 * loaded when possible; attach_tracing keeps the one that attaches.
 */
static void disable_missing(struct src_bpf *s)
{
	struct hook h[LT_MAX_HOOKS];
	int n = hooks_of(s->skel, h);
	struct btf *btf = btf__load_vmlinux_btf();
	int kprobes = !access("/sys/bus/event_source/devices/kprobe/type", R_OK);
	int func_ret, fentry;

	if (!btf)
		return; /* the load will fail and say why */
	func_ret = has_helper(btf, "BPF_FUNC_get_func_ret");
	fentry = can_fentry(btf, "inet_csk_accept");
	for (int i = 0; i < n; i++) {
		int ok;

		if (h[i].tp)
			ok = tp_nparams(btf, h[i].tp) >= h[i].nargs + 1;
		else
			ok = btf__find_by_name_kind(btf, h[i].func, BTF_KIND_FUNC) >= 0;
		if (ok && h[i].func && !fentry)
			bpf_program__set_autoload(h[i].prog, false);
		if (ok && h[i].prog == s->skel->progs.lt_fexit_accept && !func_ret)
			bpf_program__set_autoload(h[i].prog, false);
		if (h[i].alt && (!ok || !kprobes))
			bpf_program__set_autoload(h[i].alt, false);
		if (!ok)
			bpf_program__set_autoload(h[i].prog, false);
		if (!bpf_program__autoload(h[i].prog) &&
		    !(h[i].alt && bpf_program__autoload(h[i].alt)))
			append_missing(&s->info, h[i].what);
	}
	btf__free(btf);
}

/* Attach each tracing program on its own: one failure costs one feature. */
static void attach_tracing(struct src_bpf *s)
{
	struct hook h[LT_MAX_HOOKS];
	int n = hooks_of(s->skel, h);

	for (int i = 0; i < n; i++) {
		struct bpf_link *l = NULL;

		if (bpf_program__autoload(h[i].prog)) {
			l = bpf_program__attach(h[i].prog);
			if (l)
				*h[i].link = l; /* destroyed with the skeleton */
		}
		if (!l && h[i].alt && bpf_program__autoload(h[i].alt)) {
			l = bpf_program__attach(h[i].alt);
			if (l)
				*h[i].alt_link = l;
		}
		if (!l && (bpf_program__autoload(h[i].prog) ||
			   (h[i].alt && bpf_program__autoload(h[i].alt))))
			append_missing(&s->info, h[i].what);
	}
}

/* ---- the watched ports and known listeners ------------------------------ */

static void seed_listeners(struct src_bpf *s, const uint16_t *ports, int n)
{
	struct listener ls[256];
	int fd = bpf_map__fd(s->skel->maps.listeners);
	int cnt = listeners_query(ports, n, ls, 256);

	for (int i = 0; i < cnt && i < 256; i++) {
		struct lt_listen_key k;
		struct lt_listener o;
		static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

		if (ls[i].pid < 0)
			continue;
		memset(&k, 0, sizeof(k));
		k.netns = netns_self(s->nsset); /* sock_diag answers for ours */
		k.family = ls[i].family;
		k.port = ls[i].port;
		memcpy(k.addr, ls[i].addr, 16);
		if (k.family == 6 && !memcmp(k.addr, mapped, 12)) {
			memmove(k.addr, k.addr + 12, 4);
			memset(k.addr + 4, 0, 12);
			k.family = 4;
		}
		memset(&o, 0, sizeof(o));
		o.owner.pid = ls[i].pid;
		memcpy(o.owner.comm, ls[i].comm, sizeof(o.owner.comm));
		bpf_map_update_elem(fd, &k, &o, BPF_NOEXIST);
	}
}

int src_bpf_set_ports(struct lt_source *src, const uint16_t *ports, int n)
{
	struct src_bpf *s = (struct src_bpf *)src;
	struct lt_ports *bits;
	uint32_t zero = 0;
	int err = 0;

	if (n < 0 || (n > 0 && !ports))
		return -EINVAL;
	bits = calloc(1, sizeof(*bits));
	if (!bits)
		return -ENOMEM;
	if (n == 0)
		memset(bits->bits, 0xff, sizeof(bits->bits));
	for (int i = 0; i < n; i++)
		bits->bits[ports[i] >> 3] |= (uint8_t)(1u << (ports[i] & 7));
	if (bpf_map_update_elem(bpf_map__fd(s->skel->maps.ports), &zero, bits, BPF_ANY))
		err = -errno;
	free(bits);
	if (!err)
		seed_listeners(s, ports, n);
	return err;
}

/* ---- tc: tcx, or clsact + cls_bpf (src_bpf_tc.c) ----------------------- */

static int attach_tc(struct src_bpf *s, int mode)
{
	int prog_fd = bpf_program__fd(s->skel->progs.lotrace_tc);
	int err;

	s->info.stale_removed = tc_clsact_sweep_stale(s->ifindex);

	/* tcx: held by our fd only, gone when we are, even after SIGKILL. */
	if (mode != SRC_BPF_CLSACT) {
		err = bpf_link_create(prog_fd, s->ifindex, LT_BPF_TCX_EGRESS, NULL);
		if (err >= 0) {
			s->tcx_fd = err;
			s->info.attach = SRC_BPF_TCX;
			return 0;
		}
		if (mode == SRC_BPF_TCX)
			return err; /* EINVAL: a kernel before 6.6 */
	}

	/* Before 6.6: clsact + cls_bpf, undone by close() or by its guard. */
	err = tc_clsact_attach(&s->tc, s->ifindex, prog_fd, s->info.stale_removed);
	if (err)
		return err;
	s->info.qdisc_created = s->tc.qdisc_created;
	s->info.attach = SRC_BPF_CLSACT;
	return 0;
}

static void detach_tc(struct src_bpf *s)
{
	if (s->tcx_fd >= 0) {
		close(s->tcx_fd);
		s->tcx_fd = -1;
	}
	tc_clsact_detach(&s->tc);
}

/* ---- records to observations -------------------------------------------- */

/*
 * What was delivered of a connection the sweep saw alive: its last
 * delivered state, so the next record or sweep delivers only what is new.
 * Open addressing on the kernel's connection id, deletion by backward
 * shift; as large as its entries need (every end record looks in it, so
 * a few entries stay in a few cache lines). Connections delivered in one
 * piece (their end record) never enter it.
 */
struct dent {
	uint64_t id;	  /* 0: empty slot */
	uint64_t t_deliv; /* monotonic ns of the last delivery */
	uint64_t t_ended; /* ended (delivered to the end) at; 0 alive */
	struct lt_conn *prev;
};

static struct dent *dtab_find(struct src_bpf *s, uint64_t id)
{
	/* id 0 is no connection's (it marks an empty slot); most end records
	 * are of connections made after the last sweep, never entered */
	if (!id || id > s->dmax_id[id % DMAX_SLOTS])
		return NULL;
	for (size_t i = mix64(id) & s->dmask;; i = (i + 1) & s->dmask) {
		if (s->dtab[i].id == id)
			return &s->dtab[i];
		if (!s->dtab[i].id)
			return NULL;
	}
}

static struct dent *dtab_add(struct src_bpf *s, const struct lt_conn *c, uint64_t id, uint64_t now)
{
	size_t i;
	struct lt_conn *copy;

	if (s->dcount * 2 >= s->dmask + 1 && s->dmask < s->dmask_max) {
		/* half full: double it */
		size_t n = (s->dmask + 1) * 2;
		struct dent *t = calloc(n, sizeof(*t));

		if (t) {
			for (size_t k = 0; k <= s->dmask; k++) {
				if (!s->dtab[k].id)
					continue;
				for (i = mix64(s->dtab[k].id) & (n - 1); t[i].id;
				     i = (i + 1) & (n - 1))
					;
				t[i] = s->dtab[k];
			}
			free(s->dtab);
			s->dtab = t;
			s->dmask = n - 1;
		}
	}
	if (s->dcount * 4 >= (s->dmask + 1) * 3)
		return NULL;
	copy = malloc(sizeof(*copy));
	if (!copy)
		return NULL;
	*copy = *c;
	for (i = mix64(id) & s->dmask; s->dtab[i].id; i = (i + 1) & s->dmask)
		;
	s->dtab[i].id = id;
	if (id > s->dmax_id[id % DMAX_SLOTS])
		s->dmax_id[id % DMAX_SLOTS] = id;
	s->dtab[i].t_deliv = now;
	s->dtab[i].t_ended = 0;
	s->dtab[i].prev = copy;
	s->dcount++;
	return &s->dtab[i];
}

static void dtab_del(struct src_bpf *s, struct dent *e)
{
	size_t i = (size_t)(e - s->dtab), j = i;

	free(e->prev);
	memset(e, 0, sizeof(*e));
	s->dcount--;
	for (;;) {
		size_t home;

		j = (j + 1) & s->dmask;
		if (!s->dtab[j].id)
			return;
		home = mix64(s->dtab[j].id) & s->dmask;
		/* move j back into the hole at i unless home lies in (i, j] */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			s->dtab[i] = s->dtab[j];
			memset(&s->dtab[j], 0, sizeof(s->dtab[j]));
			i = j;
		}
	}
}

#define LT_EXP_MAX 64

struct exp {
	struct lt_obs o[LT_EXP_MAX];
	int n;
	int dropped;
	/* what every observation of the record being expanded shares, made
	 * once per record: side d's sender view (tuple, namespace, owner) */
	struct lt_obs base[2];
};

/* Hand one observation to the engine. */
static void emit(struct src_bpf *s, const struct lt_obs *o)
{
	s->delivered++;
	s->fn(s->fn_ctx, o);
}

static void set_reason(struct lt_obs *o, int code, const char *name)
{
	o->reason_code = code;
	if (name)
		snprintf(o->reason_name, sizeof(o->reason_name), "%s", name);
	else
		snprintf(o->reason_name, sizeof(o->reason_name), "UNKNOWN_%d", code);
}

/* The shared part of c's observations from each side (exp_new copies
 * it): one namespace lookup per record, not one per observation. Only
 * the fields set here ever change in x->base (zeroed when allocated), so
 * they are set, not the whole of it cleared: a 208-byte memset is a rep
 * stos, tens of cycles to start, twice per record. */
static void exp_begin(struct exp *x, const struct src_bpf *s, const struct lt_conn *c)
{
	const struct lt_key *k = &c->key;
	size_t alen = k->family == 6 ? 16 : 4;
	const struct lt_netns *ns = netns_lookup(
		s->nsset, k->netns, c->side[0].pid > 0 ? c->side[0].pid : c->side[1].pid);

	x->n = 0;
	for (int d = 0; d < 2; d++) {
		struct lt_obs *o = &x->base[d];
		const struct lt_side *sd = &c->side[d];
		int src_a = (d == 0) == !!(c->flags & LT_CF_CLIENT_IS_A);

		o->family = k->family;
		o->src = (struct lt_endpoint){ .port = src_a ? k->a_port : k->b_port };
		o->dst = (struct lt_endpoint){ .port = src_a ? k->b_port : k->a_port };
		memcpy(o->src.addr, src_a ? k->a_addr : k->b_addr, alen);
		memcpy(o->dst.addr, src_a ? k->b_addr : k->a_addr, alen);
		o->netns = k->netns;
		o->ns = ns;
		if (sd->pid > 0) {
			o->kctx = LT_KCTX_PROC;
			o->pid = sd->pid;
			memcpy(o->comm, sd->comm, sizeof(o->comm));
			o->comm[sizeof(o->comm) - 1] = 0;
		} else {
			o->kctx = 0;
			o->pid = -1;
			memset(o->comm, 0, sizeof(o->comm));
		}
	}
}

/* A new observation from side d at kernel time ts (0: skipped). */
static struct lt_obs *exp_new(struct exp *x, const struct src_bpf *s, int d, uint64_t ts,
			      uint8_t kind)
{
	struct lt_obs *o;

	if (!ts)
		return NULL;
	if (x->n >= LT_EXP_MAX) {
		x->dropped++;
		return NULL;
	}
	o = &x->o[x->n++];
	*o = x->base[d];
	o->ts_ns = ts + s->mono_to_real;
	o->kind = kind;
	return o;
}

/* inlined: its three call sites pass eight arguments, and the calls were
 * a third of its cost */
LT_INLINE void exp_seg(struct exp *x, const struct src_bpf *s, const struct lt_conn *c, int d,
		       uint64_t ts, uint8_t flags, uint32_t seq, uint32_t payload)
{
	const struct lt_side *sd = &c->side[d], *peer = &c->side[d ^ 1];
	struct lt_obs *o = exp_new(x, s, d, ts, LT_OBS_SEGMENT);

	if (!o)
		return;
	o->tcp_flags = flags;
	o->seq = seq;
	if ((flags & LT_TCP_ACK) && peer->syns)
		o->ack = peer->isn + 1;
	if (flags & LT_TCP_SYN) {
		o->mss = sd->mss;
		o->window = sd->window;
	}
	o->payload_len = payload;
}

/* When the k-th kernel retransmit (from 0) left: the (k+1)-th SYN. */
static uint64_t retrans_ts(const struct lt_conn *c, const struct lt_side *sd, unsigned k)
{
	uint64_t t = sd->t_syn[k + 1 < LT_SYN_SLOTS ? k + 1 : LT_SYN_SLOTS - 1];

	return t ? t : c->t_last;
}

/*
 * Expand what c holds beyond prev (an all-zero prev: everything) into the
 * observations it stands for, in time order, and feed them to the engine;
 * the last one carries over (lt_obs.over; 0: more may come).
 */
static void deliver(struct src_bpf *s, const struct lt_conn *c, const struct lt_conn *prev,
		    int lossy, uint8_t over)
{
	struct exp *x = s->exp;

	exp_begin(x, s, c);
	for (int d = 0; d < 2; d++) {
		const struct lt_side *sd = &c->side[d], *pd = &prev->side[d];
		uint8_t synfl = sd->syn_flags
					? sd->syn_flags
					: (uint8_t)(d == 0 ? LT_TCP_SYN : LT_TCP_SYN | LT_TCP_ACK);
		int first = x->n;
		struct lt_obs *o;

		for (unsigned k = pd->syns; k < sd->syns; k++)
			exp_seg(x, s, c, d, sd->t_syn[k < LT_SYN_SLOTS ? k : LT_SYN_SLOTS - 1],
				synfl, sd->isn, 0);
		if (sd->t_ack && !pd->t_ack)
			exp_seg(x, s, c, d, sd->t_ack, LT_TCP_ACK, sd->isn + 1, 0);
		if (sd->data_pkts && !pd->data_pkts) {
			int at = x->n;

			exp_seg(x, s, c, d, sd->t_data,
				sd->data_flags ? sd->data_flags : LT_TCP_ACK, sd->isn + 1,
				sd->first_data_len);
			if (x->n > at &&
			    c->head_len[d]) { /* its first bytes (c outlives delivery) */
				x->o[at].payload = c->head[d];
				x->o[at].payload_cap = c->head_len[d];
			}
		}
		for (unsigned k = pd->fins; k < sd->fins; k++)
			exp_seg(x, s, c, d, sd->t_fin, sd->fin_flags, sd->fin_seq, 0);
		for (unsigned k = pd->rsts; k < sd->rsts; k++)
			exp_seg(x, s, c, d, sd->t_rst, sd->rst_flags, sd->rst_seq, 0);
		/* Data totals ride on this side's segments after its first data
		 * segment; without one, on an ACK at the connection's last time. */
		if (sd->data_pkts && (sd->data_pkts != pd->data_pkts || sd->bytes != pd->bytes)) {
			int carried = 0;

			for (int i = first; i < x->n; i++)
				if (x->o[i].ts_ns >= sd->t_data + s->mono_to_real) {
					x->o[i].agg_pkts = sd->data_pkts;
					x->o[i].agg_bytes = sd->bytes;
					x->o[i].agg_first_ns = sd->t_data + s->mono_to_real;
					carried = 1;
				}
			if (!carried) {
				exp_seg(x, s, c, d, c->t_last, LT_TCP_ACK, sd->isn + 1, 0);
				if (x->n > first) {
					o = &x->o[x->n - 1];
					o->agg_pkts = sd->data_pkts;
					o->agg_bytes = sd->bytes;
					o->agg_first_ns = sd->t_data + s->mono_to_real;
				}
			}
		}
		/* kernel context about this side */
		for (unsigned k = pd->retrans; k < sd->retrans; k++)
			if ((o = exp_new(x, s, d, retrans_ts(c, sd, k), LT_OBS_KERNEL)))
				o->kctx |= d == 0 ? LT_KCTX_SYN_RETRANS : LT_KCTX_SYNACK_RETRANS;
		for (unsigned k = pd->drops; k < sd->drops; k++)
			if ((o = exp_new(x, s, d, k ? sd->t_drop_last : sd->t_drop,
					 LT_OBS_KERNEL))) {
				o->kctx |= LT_KCTX_DROP_REASON;
				set_reason(o, sd->drop_reason, kreason_drop_name(sd->drop_reason));
			}
		if (sd->reset_reason >= 0 && pd->reset_reason < 0 &&
		    (o = exp_new(x, s, d, sd->t_rst ? sd->t_rst : c->t_last, LT_OBS_KERNEL))) {
			o->kctx |= LT_KCTX_RESET_REASON;
			set_reason(o, sd->reset_reason, kreason_reset_name(sd->reset_reason));
		}
		if (sd->sk_errno && !pd->sk_errno &&
		    (o = exp_new(x, s, d, c->t_last, LT_OBS_KERNEL))) {
			o->kctx |= LT_KCTX_ERRNO;
			o->sk_errno = sd->sk_errno;
		}
		if (sd->pid > 0 && sd->pid != pd->pid && x->n == first)
			exp_new(x, s, d, c->t_last, LT_OBS_KERNEL); /* the owner, learnt late */
	}
	if ((c->flags & LT_CF_OVERFLOW) && !(prev->flags & LT_CF_OVERFLOW)) {
		struct lt_obs *o =
			exp_new(x, s, 0, c->side[0].t_syn[0] ? c->side[0].t_syn[0] : c->t_first,
				LT_OBS_KERNEL);
		if (o) {
			o->kctx |= LT_KCTX_LISTEN_OVERFLOW;
			o->reason_code = (int32_t)c->backlog;
			o->listen_backlog = c->backlog;
			o->listen_queued = c->qlen;
		}
	}
	if (lossy && !(prev->flags & LT_CF_LOSS)) {
		struct lt_obs *o = exp_new(x, s, 0, c->t_last, LT_OBS_KERNEL);
		if (o)
			o->kctx |= LT_KCTX_EVENTS_LOST;
	}
	s->expand_cut += (uint64_t)x->dropped;
	x->dropped = 0;
	/* In time order; at the same time, in the order made here (a side's
	 * segments before what the kernel said of them): a stable insertion
	 * sort of a few entries, mostly in order already. */
	const int n = x->n;
	uint8_t ord[LT_EXP_MAX];
	uint64_t ts[LT_EXP_MAX]; /* ord's times, beside it: no 208-byte stride */
	for (int i = 0; i < n; i++) {
		const uint64_t t = x->o[i].ts_ns;
		int j = i;
		for (; j > 0 && ts[j - 1] > t; j--) {
			ord[j] = ord[j - 1];
			ts[j] = ts[j - 1];
		}
		ord[j] = (uint8_t)i;
		ts[j] = t;
	}
	/* over is LT_OVER_NO in every observation made (x->base's) but the
	 * last handed on */
	for (int i = 0; i < n - 1; i++)
		emit(s, &x->o[ord[i]]);
	if (n) {
		x->o[ord[n - 1]].over = over;
		emit(s, &x->o[ord[n - 1]]);
	}
}

static const struct lt_conn zero_conn = {
	.side = { { .drop_reason = -1, .reset_reason = -1 },
		  { .drop_reason = -1, .reset_reason = -1 } },
};

static int conn_lossy(const struct src_bpf *s, const struct lt_conn *c)
{
	return (c->flags & LT_CF_LOSS) || c->t_first <= s->skel->bss->last_loss_ns;
}

/*
 * Can nothing more come about c? The kernel ended it (a socket closed, a
 * connect() gave up, a new SYN took its 4-tuple); every side that reset
 * has its reason (tcp_send_reset fires after the reset left, and on lo the
 * connection may have ended in between: then the reason comes on its own);
 * and a close by FINs had its last FIN acknowledged (else that FIN comes
 * again, and the kernel's tomb for late segments may be gone by then).
 * Then its flow retires with this record (LT_OVER_*) instead of lingering
 * for segments that cannot come.
 */
static uint8_t conn_over(const struct lt_conn *c)
{
	const struct lt_side *a = &c->side[0], *b = &c->side[1];

	if (!(c->flags & LT_CF_END))
		return LT_OVER_NO;
	if ((a->rsts && a->reset_reason < 0) || (b->rsts && b->reset_reason < 0))
		return LT_OVER_NO;
	if (c->flags & LT_CF_REUSED)
		return LT_OVER_REUSED;
	if (!a->rsts && !b->rsts && (a->fins || b->fins)) {
		const struct lt_side *last = a->t_fin > b->t_fin ? a : b;
		const struct lt_side *peer = last == a ? b : a;

		if (!a->fins || !b->fins || peer->t_ack < last->t_fin)
			return LT_OVER_NO;
	}
	return LT_OVER_YES;
}

/* A connection's end record (from the ring, or the sweep): the caller's
 * copy, marked lossy here if it is. */
static void conn_final(struct src_bpf *s, struct lt_conn *c, uint64_t now)
{
	struct dent *e = dtab_find(s, c->id);

	if (e && e->t_ended)
		return; /* the sweep ended it already */
	if (conn_lossy(s, c))
		c->flags |= LT_CF_LOSS;
	deliver(s, c, e ? e->prev : &zero_conn, !!(c->flags & LT_CF_LOSS), conn_over(c));
	s->conns_ended++;
	if (e) {
		*e->prev = *c;
		e->t_ended = now;
		s->dended++;
	}
}

static void ctx_record(struct src_bpf *s, const struct lt_ctx_rec *r)
{
	struct lt_obs o;
	size_t alen = r->family == 6 ? 16 : 4;

	memset(&o, 0, sizeof(o));
	o.kind = LT_OBS_KERNEL;
	o.ts_ns = r->ts_ns + s->mono_to_real;
	o.family = r->family;
	memcpy(o.src.addr, r->saddr, alen);
	memcpy(o.dst.addr, r->daddr, alen);
	o.src.port = r->sport;
	o.dst.port = r->dport;
	o.pid = -1;
	o.netns = r->netns;
	o.ns = netns_lookup(s->nsset, r->netns, 0);
	switch ((enum lt_ctx_what)r->what) {
	case LT_CTX_RESET:
		o.kctx |= LT_KCTX_RESET_REASON;
		set_reason(&o, r->value, kreason_reset_name(r->value));
		break;
	case LT_CTX_DROP:
		o.kctx |= LT_KCTX_DROP_REASON;
		set_reason(&o, r->value, kreason_drop_name(r->value));
		break;
	case LT_CTX_ERROR:
		o.kctx |= LT_KCTX_ERRNO;
		o.sk_errno = r->value;
		break;
	case LT_CTX_SYN_RETRANS:
		o.kctx |= LT_KCTX_SYN_RETRANS;
		break;
	case LT_CTX_SYNACK_RETRANS:
		o.kctx |= LT_KCTX_SYNACK_RETRANS;
		break;
	}
	emit(s, &o);
}

/* A socket on a watched port began or stopped listening. */
static void listen_record(struct src_bpf *s, const struct lt_listen_rec *r)
{
	struct lt_obs o;

	memset(&o, 0, sizeof(o));
	o.kind = LT_OBS_LISTEN;
	o.ts_ns = r->ts_ns + s->mono_to_real;
	o.family = r->family;
	memcpy(o.src.addr, r->addr, r->family == 6 ? 16 : 4);
	o.src.port = r->port;
	o.listen_what = r->what == LT_LISTEN_UP ? LT_LISTEN_BEGAN : LT_LISTEN_STOPPED;
	o.listen_backlog = r->backlog;
	o.pid = r->pid;
	memcpy(o.comm, r->comm, sizeof(o.comm));
	o.comm[sizeof(o.comm) - 1] = 0;
	o.kctx = LT_KCTX_PROC;
	o.proc_start_ns = r->proc_start_ns ? r->proc_start_ns + s->mono_to_real : 0;
	o.netns = r->netns;
	o.ns = netns_lookup(s->nsset, r->netns, r->pid);
	emit(s, &o);
}

static int on_sample(void *ctx, void *data, size_t len)
{
	struct src_bpf *s = ctx;
	int stop = 0;
	uint8_t kind;

	if (len < 1) {
		s->bad_records++;
		return 0;
	}
	memcpy(&kind, data, 1);
	s->received++;
	if (++s->records_this_dispatch >= LT_DISPATCH_RECORDS)
		stop = LT_RB_STOP; /* this record is consumed; the rest next time */
	if (kind == LT_REC_CONN && len >= LT_CONN_BASE_LEN) {
		struct lt_conn c;

		/* Copy out: alignment in the ring buffer is not ours to assume.
		 * The head bytes come only as far as there are some. */
		memset(c.head, 0, sizeof(c.head));
		memcpy(&c, data, len < sizeof(c) ? len : sizeof(c));
		for (int d = 0; d < 2; d++)
			if (c.head_len[d] > LT_HEAD_MAX ||
			    len < LT_CONN_BASE_LEN + (d + 1) * LT_HEAD_MAX)
				c.head_len[d] = 0;
		if (c.key.family == 4 || c.key.family == 6) {
			conn_final(s, &c, s->now_mono);
			return stop;
		}
	} else if (kind == LT_REC_CONN_SHORT && len >= sizeof(struct lt_conn_short)) {
		struct lt_conn_short r;
		const struct lt_conn_short *in = data;
		struct lt_conn c;

		/* The ring's records start 8-byte aligned (after its 8-byte
		 * header, lengths rounded up to 8): read in place, a 312-byte
		 * copy less; copied out where that does not hold. */
		if ((uintptr_t)data % _Alignof(struct lt_conn_short)) {
			memcpy(&r, data, sizeof(r));
			in = &r;
		}
		zero_block(&c, sizeof(c));
		lt_conn_short_expand(&c, in);
		if (c.key.family == 4 || c.key.family == 6) {
			conn_final(s, &c, s->now_mono);
			return stop;
		}
	} else if (kind == LT_REC_CTX && len >= sizeof(struct lt_ctx_rec)) {
		struct lt_ctx_rec r;

		memcpy(&r, data, sizeof(r));
		if ((r.family == 4 || r.family == 6) && r.what >= LT_CTX_RESET &&
		    r.what <= LT_CTX_SYNACK_RETRANS) {
			ctx_record(s, &r);
			return stop;
		}
	} else if (kind == LT_REC_LISTEN && len >= sizeof(struct lt_listen_rec)) {
		struct lt_listen_rec r;

		memcpy(&r, data, sizeof(r));
		if ((r.family == 4 || r.family == 6) &&
		    (r.what == LT_LISTEN_UP || r.what == LT_LISTEN_DOWN)) {
			listen_record(s, &r);
			return stop;
		}
	}
	s->bad_records++;
	return stop;
}

/* ---- the map sweep ------------------------------------------------------ */

#define LT_SWEEP_NS (100 * 1000000ull)
#define LT_NETNS_SCAN_NS (1000 * 1000000ull)  /* look for new namespaces */
#define LT_DATA_REPORT_NS (1000 * 1000000ull) /* data-only changes: at most 1/s */
#define LT_TERM_GRACE_NS (500 * 1000000ull)   /* ended, no socket closed: sweep ends it */
#define LT_ENDED_KEEP_NS (2000 * 1000000ull)
#define LT_SEC 1000000000ull

/* Anything a verdict, the timeline or the kernel context depends on. */
static int conn_changed(const struct lt_conn *a, const struct lt_conn *b)
{
	if ((a->flags ^ b->flags) & (LT_CF_OVERFLOW | LT_CF_LOSS))
		return 1;
	for (int d = 0; d < 2; d++) {
		const struct lt_side *x = &a->side[d], *y = &b->side[d];

		if (x->syns != y->syns || x->fins != y->fins || x->rsts != y->rsts ||
		    !x->t_ack != !y->t_ack || !x->data_pkts != !y->data_pkts ||
		    x->drops != y->drops || x->retrans != y->retrans ||
		    x->sk_errno != y->sk_errno || x->reset_reason != y->reset_reason ||
		    x->pid != y->pid)
			return 1;
	}
	return 0;
}

static int conn_data_changed(const struct lt_conn *a, const struct lt_conn *b)
{
	return a->side[0].bytes != b->side[0].bytes || a->side[1].bytes != b->side[1].bytes;
}

/* Does the sweep end c (rather than follow it alive)? */
static int sweep_ends(const struct lt_conn *c, uint64_t now, int crowded)
{
	uint64_t idle = now > c->t_last ? now - c->t_last : 0;
	int est = c->side[0].t_ack || c->side[0].data_pkts || (c->flags & LT_CF_MIDSTREAM);
	uint64_t limit = crowded ? (est ? 60 : 5) * LT_SEC : (est ? 600 : 130) * LT_SEC;

	return (c->flags & LT_CF_END_PENDING) ||
	       ((c->flags & LT_CF_TERM) && now - c->t_term >= LT_TERM_GRACE_NS) || idle >= limit;
}

/*
 * Take connection `id` out of the map at k, its latest state in *out: 1,
 * or 0 when the map no longer holds it (the kernel ended it since the
 * sweep's read: its end record is in the ring). Atomic where the kernel
 * can (5.14+); a newer connection on the 4-tuple found there instead is
 * put back, or, when its next segment made yet another in between, ended
 * as an eviction.
 */
static int sweep_take(struct src_bpf *s, const struct lt_mkey *k, uint64_t id, struct lt_conn *out,
		      uint64_t now)
{
	int fd = bpf_map__fd(s->skel->maps.conns);

	if (bpf_map_lookup_and_delete_elem(fd, k, out)) {
		if (errno == ENOENT)
			return 0;
		/* no atomic take: look, then delete (a race of microseconds) */
		if (bpf_map_lookup_elem(fd, k, out) || out->id != id)
			return 0;
		bpf_map_delete_elem(fd, k);
		return 1;
	}
	if (out->id == id)
		return 1;
	if (bpf_map_update_elem(fd, k, out, BPF_NOEXIST)) {
		s->evicted++;
		s->skel->bss->last_loss_ns = now;
		out->flags |= LT_CF_LOSS;
		conn_final(s, out, now);
	}
	return 0;
}

static void sweep_one(struct src_bpf *s, const struct lt_mkey *k, const struct lt_conn *c,
		      uint64_t now, int crowded)
{
	struct dent *e = dtab_find(s, c->id);
	struct lt_conn cur;

	if (e && e->t_ended)
		return; /* its end record came first */
	if (sweep_ends(c, now, crowded)) {
		/* ended: the ring had no room, or no socket closed it; or idle
		 * past the engine's own timeouts (crowded: an eviction) */
		if (!sweep_take(s, k, c->id, &cur, now))
			return;
		/* Remember it ended, followed or not: its socket's CLOSE may
		 * have claimed the end in the kernel just before the take, and
		 * that end record, read later, must not deliver it again (one
		 * connection twice in a 210,000-connection flood.sh run on a
		 * loaded machine). */
		if (!e)
			dtab_add(s, &zero_conn, c->id, now);
		if (cur.flags & LT_CF_END_PENDING) {
			s->ends_from_sweep++;
		} else if (!(cur.flags & LT_CF_TERM) && crowded) {
			s->evicted++;
			s->skel->bss->last_loss_ns = now;
			cur.flags |= LT_CF_LOSS;
		}
		conn_final(s, &cur, now);
		return;
	}
	cur = *c;
	if (conn_lossy(s, c))
		cur.flags |= LT_CF_LOSS;
	if (!e) {
		s->dtab_full++;
		return; /* its end record will carry everything */
	}
	if (conn_changed(&cur, e->prev) ||
	    (conn_data_changed(&cur, e->prev) && now - e->t_deliv >= LT_DATA_REPORT_NS)) {
		deliver(s, &cur, e->prev,
			(cur.flags & LT_CF_LOSS) && !(e->prev->flags & LT_CF_LOSS), 0);
		*e->prev = cur;
		e->t_deliv = now;
	}
}

/*
 * Read the map a batch at a time and bring userspace up to date with it.
 * A connection in the map may have reused the 4-tuple of one whose end
 * record was in the ring when the batch was read: so the ring is drained
 * after each read and before its connections are delivered, and those
 * seen alive for the first time are entered in the delivered-state table
 * (as delivered: nothing) before that drain, so an end record it brings
 * finds them and the sweep's older copy is not delivered again. Returns
 * 0, or -1 when the drain stopped at the dispatch's limit (the rest of
 * the sweep waits for the next dispatch).
 */
static int sweep(struct src_bpf *s, uint64_t now)
{
	int fd = bpf_map__fd(s->skel->maps.conns);
	uint32_t batch = s->sweep_batch, count;
	uint64_t live = 0;
	int crowded = s->last_live * 10 >= (uint64_t)s->max_flows * 9;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	char in[64], out[64]; /* opaque batch cursors (hash maps: 4 bytes) */
	int first = 1, err, rc;

	s->sweeps++;
	do {
		count = batch;
		err = bpf_map_lookup_batch(fd, first ? NULL : in, out, s->sweep_keys, s->sweep_vals,
					   &count, &opts);
		if (err && errno != ENOENT) {
			s->sweep_errors++; /* ENOSPC: a bucket bigger than the batch */
			break;
		}
		for (uint32_t i = 0; i < count; i++) {
			const struct lt_conn *c = &s->sweep_vals[i];

			if (c->id && !dtab_find(s, c->id) && !sweep_ends(c, now, crowded))
				dtab_add(s, &zero_conn, c->id, now);
		}
		rc = ring_buffer__consume(s->rb);
		if (rc == LT_RB_STOP)
			return -1;
		/* id 0: the kernel is filling that entry in as it was read (it
		 * creates it from zeros, then writes it): the next sweep has it */
		for (uint32_t i = 0; i < count; i++)
			if (s->sweep_vals[i].id)
				sweep_one(s, &s->sweep_keys[i], &s->sweep_vals[i], now, crowded);
		live += count;
		memcpy(in, out, sizeof(in));
		first = 0;
	} while (!err);
	s->last_live = live;
	if (s->dended) {
		/* forget connections that ended a while ago */
		for (size_t i = 0; i <= s->dmask; i++) {
			struct dent *e = &s->dtab[i];

			while (e->id && e->t_ended && now - e->t_ended >= LT_ENDED_KEEP_NS) {
				dtab_del(s, e); /* shifts a later entry into e */
				s->dended--;
			}
		}
	}
	return 0;
}

/* ---- what a run keeps after -Z (privdrop.h) ------------------------------ */

/* Kernels before 6.5 refuse every bpf() command (the map reads of the
 * counters and the port and listener maps) without CAP_BPF when
 * unprivileged BPF is disabled. */
static int bpf_needs_cap(void)
{
	struct utsname u;
	int maj = 0, min = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%d.%d", &maj, &min) != 2)
		return 1;
	return maj < 6 || (maj == 6 && min < 5);
}

/* Watching every namespace attaches to namespaces made later: finding
 * them in /proc/PID/ns/net of others' processes (CAP_SYS_PTRACE) and
 * entering them (setns: CAP_SYS_ADMIN). The tcx link itself needs no
 * capability: the loaded program's fd is the permission (BPF_LINK_CREATE
 * checks none for tcx). One namespace, or the clsact hook (never attached
 * elsewhere), needs none of them. */
static uint64_t keep_caps(const struct src_bpf *s)
{
	uint64_t k = 0;

	if (!netns_only(s->nsset) && s->info.attach == SRC_BPF_TCX)
		k |= 1ull << CAP_SYS_ADMIN | 1ull << CAP_SYS_PTRACE;
	if (bpf_needs_cap())
		k |= 1ull << CAP_BPF;
	return k;
}

/* ---- lt_source_ops ------------------------------------------------------ */

static int bpf_fd(struct lt_source *src)
{
	struct src_bpf *s = (struct src_bpf *)src;

	return ring_buffer__epoll_fd(s->rb);
}

/* Attach in the namespace the calling (short-lived) thread entered. */
static int attach_here(void *ctx, int ifindex)
{
	struct src_bpf *s = ctx;
	int fd;

	/* Narrowed (--netns), this is the one namespace's lo: tc keys its
	 * segments with it. Else tc is no longer on one namespace's lo alone:
	 * from now on it reads each segment's namespace (stored before the
	 * link exists, so its first run there sees it). */
	s->skel->bss->tc_one_netns = netns_only(s->nsset);
	fd = bpf_link_create(bpf_program__fd(s->skel->progs.lotrace_tc), ifindex, LT_BPF_TCX_EGRESS,
			     NULL);

	return fd < 0 ? -errno : fd;
}

/* New namespaces (created since the last look): attach to their lo. */
static void scan_netns(struct src_bpf *s)
{
	int failed = 0;

	s->last_ns_scan = clock_ns(CLOCK_MONOTONIC);
	if (!s->nsset || (s->info.attach != SRC_BPF_TCX && !netns_only(s->nsset)))
		return; /* clsact in other namespaces would need its own cleanup */
	netns_scan(s->nsset, attach_here, s, &failed);
	s->info.netns_failed += (uint32_t)failed;
	s->info.netns_attached = (uint32_t)netns_attached(s->nsset);
}

static int bpf_dispatch(struct lt_source *src, int budget, lt_obs_fn fn, void *ctx)
{
	struct src_bpf *s = (struct src_bpf *)src;
	int err;

	(void)budget; /* records are drained whole: each is one connection */
	s->fn = fn;
	s->fn_ctx = ctx;
	s->delivered = 0;
	s->records_this_dispatch = 0;
	s->now_mono = clock_ns(CLOCK_MONOTONIC);
	err = ring_buffer__consume(s->rb);
	if (err < 0 && err != -EINTR && err != LT_RB_STOP)
		return err;
	/* Sweep only with the ring drained: a connection the map shows may
	 * reuse the 4-tuple of one whose end record is still in the ring. */
	if (err != LT_RB_STOP && s->now_mono - s->last_sweep >= LT_SWEEP_NS) {
		s->last_sweep = s->now_mono;
		sweep(s, s->now_mono);
	}
	if (s->now_mono - s->last_ns_scan >= LT_NETNS_SCAN_NS)
		scan_netns(s);
	return s->delivered;
}

static uint64_t bpf_now(struct lt_source *src)
{
	(void)src;
	return clock_ns(CLOCK_REALTIME);
}

int src_bpf_counters(struct lt_source *src, uint64_t *out, int n)
{
	struct src_bpf *s = (struct src_bpf *)src;
	int ncpu = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(s->skel->maps.counters);
	uint64_t *vals;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		uint32_t key = (uint32_t)i;

		out[i] = 0;
		if (i >= LT_CNT_MAX || bpf_map_lookup_elem(fd, &key, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			out[i] += vals[c];
	}
	free(vals);
	return 0;
}

/* The counters whose non-zero value means some evidence was cut or lost
 * (the TUI header, the report and the metrics name them). */
static int counter_is_problem(const char *name)
{
	static const char *const problems[] = {
		"context_records_lost", "map_full", "reused_tuple_lost", "truncated",
		"bad_records",		"evicted",  "untracked_alive",	 "observations_cut",
		"sweep_errors",
	};
	for (size_t i = 0; i < sizeof(problems) / sizeof(problems[0]); i++)
		if (!strcmp(name, problems[i]))
			return 1;
	return 0;
}

static void add_counter(struct lt_source_stats *st, const char *name, uint64_t v)
{
	if (st->ncounters < LT_SRC_COUNTERS_MAX)
		st->counters[st->ncounters++] =
			(struct lt_src_counter){ name, v, counter_is_problem(name) };
}

static void bpf_stats(struct lt_source *src, struct lt_source_stats *st)
{
	static const char *const knames[LT_CNT_MAX] = {
		[LT_CNT_PKTS] = "segments",
		[LT_CNT_CONNS] = "connections",
		[LT_CNT_ENDS] = "end_records",
		[LT_CNT_END_DEFERRED] = "end_records_deferred",
		[LT_CNT_CTX] = "context_records",
		[LT_CNT_CTX_LOST] = "context_records_lost",
		[LT_CNT_MAP_FULL] = "map_full",
		[LT_CNT_LATE] = "late_segments",
		[LT_CNT_REUSE_LOST] = "reused_tuple_lost",
		[LT_CNT_TRUNCATED] = "truncated",
		[LT_CNT_WAKEUPS] = "wakeups",
		[LT_CNT_HEADS] = "payload_heads",
	};
	struct src_bpf *s = (struct src_bpf *)src;
	uint64_t c[LT_CNT_MAX];

	memset(st, 0, sizeof(*st));
	st->received = s->received;
	if (src_bpf_counters(src, c, LT_CNT_MAX))
		memset(c, 0, sizeof(c));
	for (int i = 0; i < LT_CNT_MAX; i++)
		add_counter(st, knames[i], c[i]);
	add_counter(st, "records_read", s->received);
	add_counter(st, "bad_records", s->bad_records);
	add_counter(st, "ends_from_sweep", s->ends_from_sweep);
	add_counter(st, "evicted", s->evicted);
	add_counter(st, "untracked_alive", s->dtab_full);
	add_counter(st, "observations_cut", s->expand_cut);
	add_counter(st, "sweeps", s->sweeps);
	add_counter(st, "sweep_errors", s->sweep_errors);
	/* Lost: what no record or sweep will ever bring. A deferred end
	 * record is not lost (the sweep sends it). */
	st->lost_kernel = c[LT_CNT_CTX_LOST] + c[LT_CNT_MAP_FULL] + c[LT_CNT_REUSE_LOST];
	st->lost = st->lost_kernel + s->evicted + s->bad_records + s->expand_cut;
}

static void bpf_close(struct lt_source *src)
{
	struct src_bpf *s = (struct src_bpf *)src;

	if (!s)
		return;
	ring_buffer__free(s->rb);
	detach_tc(s);
	netns_set_free(s->nsset);
	if (s->dtab)
		for (size_t i = 0; i <= s->dmask; i++)
			free(s->dtab[i].prev);
	free(s->dtab);
	free(s->exp);
	free(s->sweep_keys);
	free(s->sweep_vals);
	lotrace_bpf__destroy(s->skel);
	libbpf_set_print(libbpf_silent);
	log_fn = NULL;
	log_ctx = NULL;
	free(s);
}

static const struct lt_source_ops bpf_ops = {
	.name = "ebpf",
	.fd = bpf_fd,
	.dispatch = bpf_dispatch,
	.now = bpf_now,
	.stats = bpf_stats,
	.close = bpf_close,
};

void src_bpf_get_info(struct lt_source *src, struct src_bpf_info *out)
{
	*out = ((struct src_bpf *)src)->info;
}

/* ---- open ---------------------------------------------------------------- */

static void load_error(char err[LT_ERR_LEN], int e)
{
	if (e == EPERM || e == EACCES)
		snprintf(err, LT_ERR_LEN,
			 "cannot load the eBPF program: %s; run as root or use --backend pcap",
			 strerror(e));
	else if (last_warn[0])
		snprintf(err, LT_ERR_LEN,
			 "cannot load the eBPF program: %s (%s); use --backend pcap", strerror(e),
			 last_warn);
	else
		snprintf(err, LT_ERR_LEN, "cannot load the eBPF program: %s; use --backend pcap",
			 strerror(e));
}

/* The delivered-state table (a quarter of the connections at most can be
 * followed alive before the rest wait for their end record), the sweep's
 * batch buffers and the expansion buffer. */
static int alloc_tables(struct src_bpf *s)
{
	size_t n = 1024;

	while (n < s->max_flows / 2 && n < ((size_t)1 << 24))
		n <<= 1;
	s->dmask_max = n - 1;
	s->dtab = calloc(1024, sizeof(*s->dtab));
	s->dmask = 1024 - 1;
	s->sweep_batch = s->max_flows < 4096 ? s->max_flows : 4096;
	s->sweep_keys = calloc(s->sweep_batch, sizeof(*s->sweep_keys));
	s->sweep_vals = calloc(s->sweep_batch, sizeof(*s->sweep_vals));
	s->exp = calloc(1, sizeof(*s->exp));
	return s->dtab && s->sweep_keys && s->sweep_vals && s->exp ? 0 : -1;
}

struct lt_source *src_bpf_open(const struct src_bpf_opts *o, char err[LT_ERR_LEN])
{
	size_t rb_bytes;
	uint32_t tomb_sets;
	const char *ifname = o && o->ifname ? o->ifname : "lo";
	struct src_bpf *s;
	struct verifier_logs *vlogs;
	int e;

	err[0] = 0;
	last_warn[0] = 0;
	log_fn = o ? o->log : NULL;
	log_ctx = o ? o->log_ctx : NULL;
	log_verbose = o ? o->verbose : 0;
	libbpf_set_print(libbpf_print);

	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, LT_ERR_LEN, "cannot load the eBPF program: out of memory");
		return NULL;
	}
	s->base.ops = &bpf_ops;
	s->base.link_type = -1;
	s->tcx_fd = -1;
	s->tc.guard_fd = -1;

	s->nsset = netns_set_new(o ? o->netns : NULL, err, LT_ERR_LEN);
	if (!s->nsset)
		goto fail;
	s->ifindex = (int)if_nametoindex(ifname);
	if (!s->ifindex) {
		snprintf(err, LT_ERR_LEN, "no such interface '%s'", ifname);
		goto fail;
	}
	s->info.ifindex = s->ifindex;
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(err, LT_ERR_LEN,
			 "cannot load the eBPF program: the kernel has no BTF "
			 "(/sys/kernel/btf/vmlinux); use --backend pcap");
		goto fail;
	}

	/* open */
	s->skel = lotrace_bpf__open();
	if (!s->skel) {
		load_error(err, errno);
		goto fail;
	}

	/* rodata and map sizes; tracepoints: every namespace, or the one */
	s->skel->rodata->netns_ino = netns_only(s->nsset);
	rb_bytes = ringbuf_size(o ? o->ringbuf_bytes : 0);
	s->skel->rodata->wake_bytes = rb_bytes / 4;
	s->skel->rodata->copy_head = o && o->no_payload ? 0 : 1;
	s->max_flows = o && o->max_flows ? o->max_flows : LT_CONNS_DEFAULT;
	e = bpf_map__set_max_entries(s->skel->maps.events, (uint32_t)rb_bytes);
	if (!e)
		e = bpf_map__set_max_entries(s->skel->maps.conns, s->max_flows);
	/* preallocated up to the default size (~670 bytes an entry) */
	if (!e && s->max_flows > LT_CONNS_DEFAULT)
		e = bpf_map__set_map_flags(s->skel->maps.conns, BPF_F_NO_PREALLOC);
	/* tombs: sets of LT_TOMB_WAYS, a power of two of them, max_flows ends
	 * and never fewer than LT_TOMBS_MIN: a tomb must outlive its end by
	 * the late segments' time (TOMB_NS, 2 s) at any connection rate, not
	 * by the size of the table (--max-flows 2048 held ~70 ms of a flood) */
	for (tomb_sets = 64;
	     (tomb_sets * LT_TOMB_WAYS < s->max_flows || tomb_sets * LT_TOMB_WAYS < LT_TOMBS_MIN) &&
	     tomb_sets < (1u << 24);)
		tomb_sets *= 2;
	s->skel->rodata->tomb_mask = tomb_sets - 1;
	if (!e)
		e = bpf_map__set_max_entries(s->skel->maps.tombs, tomb_sets);
	if (e) {
		load_error(err, -e);
		goto fail;
	}
	if (alloc_tables(s)) {
		snprintf(err, LT_ERR_LEN, "cannot load the eBPF program: out of memory");
		goto fail;
	}
	disable_missing(s);

	/* load (-v: with the verifier's figures for each program) */
	vlogs = log_verbose ? verifier_logs_arm(s->skel->obj) : NULL;
	e = lotrace_bpf__load(s->skel);
	verifier_logs_report(vlogs, say);
	if (e) {
		load_error(err, -e);
		goto fail;
	}
	e = src_bpf_set_ports(&s->base, o ? o->ports : NULL, o ? o->nports : 0);
	if (e) {
		snprintf(err, LT_ERR_LEN, "cannot set the watched ports: %s", strerror(-e));
		goto fail;
	}
	if (kreason_load() == 0)
		snprintf(s->info.reasons_from, sizeof(s->info.reasons_from), "%s",
			 kreason_drop_source());
	else
		snprintf(s->info.reasons_from, sizeof(s->info.reasons_from), "none");

	/* attach: process-context hooks first, so owners are known early */
	attach_tracing(s);
	if (!netns_only(s->nsset) || netns_only(s->nsset) == netns_self(s->nsset)) {
		/* our lo, so far alone: tc keys its segments with our namespace */
		if (s->nsset)
			s->skel->bss->tc_one_netns = netns_self(s->nsset);
		e = attach_tc(s, o ? o->attach : 0);
		if (e) {
			snprintf(err, LT_ERR_LEN,
				 "cannot attach the eBPF program to '%s': %s; use --backend pcap",
				 ifname, strerror(-e));
			goto fail;
		}
	} else {
		/* narrowed to another namespace: its lo only, tcx only */
		s->info.attach = SRC_BPF_TCX;
		scan_netns(s);
		if (!s->info.netns_attached) {
			snprintf(err, LT_ERR_LEN,
				 "cannot attach the eBPF program to lo in network namespace "
				 "'%s' (tcx needs Linux 6.6); use --backend pcap",
				 o->netns);
			goto fail;
		}
	}
	scan_netns(s);

	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.events), on_sample, s, NULL);
	if (!s->rb) {
		snprintf(err, LT_ERR_LEN, "cannot read the eBPF ring buffer: %s", strerror(errno));
		goto fail;
	}
	s->base.keep_caps = keep_caps(s);
	s->base.steady_clock = 1;
	s->mono_to_real = mono_to_real_offset();
	snprintf(s->base.desc, sizeof(s->base.desc), "eBPF %s on %s",
		 s->info.attach == SRC_BPF_TCX ? "tcx" : "tc clsact", ifname);
	if (!netns_only(s->nsset) && s->info.attach == SRC_BPF_TCX)
		snprintf(s->base.desc + strlen(s->base.desc),
			 sizeof(s->base.desc) - strlen(s->base.desc), " (every namespace)");
	else if (netns_only(s->nsset) && netns_only(s->nsset) != netns_self(s->nsset))
		snprintf(s->base.desc + strlen(s->base.desc),
			 sizeof(s->base.desc) - strlen(s->base.desc), " (namespace %s)", o->netns);
	snprintf(s->base.link_name, sizeof(s->base.link_name), "ebpf");
	return &s->base;

fail:
	bpf_close(&s->base);
	return NULL;
}
