/* SPDX-License-Identifier: MIT */
/*
 * diagnose.c - evidence from retired connections, and the rules that
 * decide the findings.
 *
 * Collecting: each connection goes into the groups it belongs to (by
 * kind and server address). Deciding: each rule looks at one group (and
 * the groups and listeners it is compared with) and produces a struct
 * diag_fact: which finding, how severe, on which connections, and the
 * facts the wording needs. No rule writes a sentence; diagnose_words.c
 * does, and diag_findings puts the two together.
 */
#include "diagnose.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"

#define FINDINGS_PER_KIND 10 /* more addresses of one kind are listed together */

struct diag {
	struct diag_group *b;
	size_t nb, alloc;
	size_t last[DG_KIND_COUNT]; /* group hit last, per kind (a cache) */
	uint64_t ungrouped;	    /* connections whose group did not fit */
	uint64_t conns;
	uint64_t verdict[LT_V_COUNT];
	uint64_t rst_client_after_fin;
	uint64_t with_kctx;
	struct diag_group good; /* handshake seen and completed */
	/* Connections whose events were partly lost (LT_A_EVENTS_LOST): in
	 * no other group, so no finding rests on them. */
	struct diag_group lost;
	uint64_t lost_verdict[LT_V_COUNT];
};

/* ---- collecting -------------------------------------------------------- */

struct diag *diag_new(void)
{
	struct diag *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	for (int k = 0; k < DG_KIND_COUNT; k++)
		d->last[k] = SIZE_MAX;
	return d;
}

struct diag *diag_copy(const struct diag *d)
{
	struct diag *c = malloc(sizeof(*c));
	if (!c)
		return NULL;
	*c = *d;
	c->b = NULL;
	if (d->nb) {
		c->b = malloc(d->alloc * sizeof(*c->b));
		if (!c->b) {
			free(c);
			return NULL;
		}
		memcpy(c->b, d->b, d->nb * sizeof(*c->b));
	}
	return c;
}

void diag_free(struct diag *d)
{
	if (!d)
		return;
	free(d->b);
	free(d);
}

uint64_t diag_conns(const struct diag *d)
{
	return d->conns;
}

static size_t addr_len(uint8_t family)
{
	return family == 6 ? 16 : 4;
}

static bool same_ep(uint8_t fa, const struct lt_endpoint *a, uint8_t fb,
		    const struct lt_endpoint *b)
{
	return fa == fb && a->port == b->port && !memcmp(a->addr, b->addr, addr_len(fa));
}

/* Groups are kept per network namespace: each has its own loopback. */
static bool same_ns(const struct lt_netns *a, const struct lt_netns *b)
{
	return a == b;
}

static void group_init(struct diag_group *b, int kind, const struct flow *f)
{
	memset(b, 0, sizeof(*b));
	b->kind = (uint8_t)kind;
	b->family = f->family;
	b->server = f->server;
	b->ns = f->ns;
	b->srv_pid = -1;
	b->lat_min = b->req_min = UINT64_MAX;
}

static struct diag_group *group_get(struct diag *d, int kind, const struct flow *f)
{
	size_t i = d->last[kind];

	if (i < d->nb && same_ep(d->b[i].family, &d->b[i].server, f->family, &f->server) &&
	    same_ns(d->b[i].ns, f->ns))
		return &d->b[i];
	for (i = 0; i < d->nb; i++)
		if (d->b[i].kind == kind &&
		    same_ep(d->b[i].family, &d->b[i].server, f->family, &f->server) &&
		    same_ns(d->b[i].ns, f->ns)) {
			d->last[kind] = i;
			return &d->b[i];
		}
	if (d->nb == DIAG_GROUPS_MAX)
		return NULL;
	if (d->nb == d->alloc) {
		size_t na = d->alloc ? d->alloc * 2 : 16;
		struct diag_group *nb = realloc(d->b, na * sizeof(*nb));
		if (!nb)
			return NULL;
		d->b = nb;
		d->alloc = na;
	}
	group_init(&d->b[d->nb], kind, f);
	d->last[kind] = d->nb;
	return &d->b[d->nb++];
}

/* Keep the DIAG_REFS_MAX smallest ids, ascending. */
static void refs_add(struct diag_ref *refs, int *n, const struct diag_ref *r)
{
	int i = *n;

	if (i == DIAG_REFS_MAX) {
		if (r->id >= refs[i - 1].id)
			return;
		i--;
	} else {
		(*n)++;
	}
	while (i > 0 && refs[i - 1].id > r->id) {
		refs[i] = refs[i - 1];
		i--;
	}
	refs[i] = *r;
}

static void ref_of(struct diag_ref *r, const struct flow *f)
{
	memset(r, 0, sizeof(*r));
	r->id = f->id;
	r->family = f->family;
	r->client = f->client;
	r->server = f->server;
	r->ns = f->ns;
}

static void count_common(struct diag_group *b, const struct flow *f)
{
	struct diag_ref r;

	uint32_t ns = f->ns ? f->ns->ino : 0;

	b->n++;
	if (b->n == 1)
		b->netns = ns;
	else if (b->netns != ns)
		b->netns = 0;
	if (b->n == 1 || f->t_first < b->t_min)
		b->t_min = f->t_first;
	if (f->t_first > b->t_max)
		b->t_max = f->t_first;
	ref_of(&r, f);
	refs_add(b->refs, &b->nrefs, &r);

	if (f->kctx)
		b->with_kctx++;
	if (!strcmp(f->drop_reason, "NETFILTER_DROP")) {
		b->nf++;
	} else if ((f->anomalies & LT_A_LISTEN_OVERFLOW) ||
		   !strcmp(f->drop_reason, "TCP_LISTEN_OVERFLOW")) {
		b->ovf++;
		if (f->ovf_backlog || f->ovf_queued) {
			b->ovf_backlog = f->ovf_backlog;
			if (f->ovf_queued > b->ovf_queued_max)
				b->ovf_queued_max = f->ovf_queued;
		}
		if (f->side[LT_DIR_S2C].pid > 0 && !b->ovf_pid) {
			b->ovf_pid = f->side[LT_DIR_S2C].pid;
			memcpy(b->ovf_comm, f->side[LT_DIR_S2C].comm, LT_COMM_LEN);
		}
	} else if (f->drop_reason[0]) {
		b->drop_other++;
		if (!b->drop_name[0])
			memcpy(b->drop_name, f->drop_reason, LT_REASON_LEN);
	}
	if (f->reset_reason[0]) {
		if (!b->rst_name[0])
			memcpy(b->rst_name, f->reset_reason, LT_REASON_LEN);
		if (!strcmp(b->rst_name, f->reset_reason))
			b->rst_n++;
		else
			b->rst_other++;
	}
	if (f->sk_errno) {
		if (!b->err_n)
			b->err = f->sk_errno;
		b->err_n++;
	}
}

static void lat(struct diag_group *b, int64_t ns)
{
	if (ns < 0)
		return;
	if ((uint64_t)ns < b->lat_min)
		b->lat_min = (uint64_t)ns;
	if ((uint64_t)ns > b->lat_max)
		b->lat_max = (uint64_t)ns;
}

static bool server_silent(const struct flow *f)
{
	const struct flow_side *s = &f->side[LT_DIR_S2C];
	return s->bytes == 0 && s->fin_count == 0 && s->rst_count == 0;
}

static struct diag_group *add_to(struct diag *d, int kind, const struct flow *f)
{
	struct diag_group *b = group_get(d, kind, f);
	if (!b) {
		d->ungrouped++;
		return NULL;
	}
	count_common(b, f);
	return b;
}

/* The unanswered attempt with the most SYNs: its SYN gaps and end. */
static void keep_attempt(struct diag_group *b, const struct flow *f)
{
	const struct flow_side *c = &f->side[LT_DIR_C2S];
	uint64_t prev = 0;

	b->rep_ngaps = 0;
	for (unsigned i = 0; i < f->tl_len; i++) {
		const struct lt_tl_entry *e = &f->tl[i];
		if (e->kind != LT_TL_SYN || e->dir != LT_DIR_C2S)
			continue;
		if (prev && b->rep_ngaps < LT_TIMELINE_MAX)
			b->rep_gap_ms[b->rep_ngaps++] = (uint32_t)((e->t_ns - prev) / 1000000u);
		prev = e->t_ns;
	}
	b->rep_first_syn = c->t_syn_first;
	b->rep_last_syn = c->t_syn_last;
	b->rep_closed = c->rst_count || c->fin_count;
	b->rep_errno = f->sk_errno;
}

void diag_syn_schedule(int retries, int linear, struct diag_syn_schedule *s)
{
	const uint64_t rto_max = 120000;
	uint64_t budget, rto = 1000, t = 0;

	memset(s, 0, sizeof(*s));
	if (retries < 0)
		retries = 0;
	if (linear < 0)
		linear = 0;
	budget = retries <= 6 ? ((2ull << retries) - 1) * 1000
			      : 127000 + (uint64_t)(retries - 6) * rto_max;
	for (int k = 0;; k++) {
		if (k > linear)
			rto = rto * 2 > rto_max ? rto_max : rto * 2;
		t += rto;
		if (t >= budget || s->n == DIAG_SYN_SCHED_MAX) {
			s->give_up_ms = t;
			return;
		}
		s->resend_ms[s->n++] = t;
	}
}

/* What the first bytes of each side say (proto.h): a mismatch, or an
 * HTTP request answered with an error status. */
static void add_protocols(struct diag *d, const struct flow *f)
{
	struct proto_id pc, ps;
	struct diag_group *b;
	int kind;

	flow_protocols(f, &pc, &ps);
	enum proto_clash cl = proto_clash(&pc, &ps);
	const struct flow_side *sv = &f->side[LT_DIR_S2C];
	if (cl == PROTO_CLASH_NONE && pc.kind == PROTO_HTTP_REQUEST && !sv->bytes &&
	    (sv->fin_count || sv->rst_count))
		cl = PROTO_CLASH_HTTP_UNANSWERED;
	if (cl != PROTO_CLASH_NONE)
		kind = DG_PROTO_CLASH;
	else if (pc.kind == PROTO_HTTP_REQUEST && ps.kind == PROTO_HTTP_RESPONSE &&
		 ps.status >= 400)
		kind = DG_HTTP_STATUS;
	else
		return;
	if (!(b = add_to(d, kind, f)))
		return;
	if (b->n == 1) {
		b->pc = pc;
		b->ps = ps;
		b->clash = (uint8_t)cl;
		b->server_closed = f->side[LT_DIR_S2C].rst_count   ? 2
				   : f->side[LT_DIR_S2C].fin_count ? 1
								   : 0;
	} else if (b->clash != cl || b->pc.kind != pc.kind || b->ps.kind != ps.kind ||
		   b->ps.status != ps.status) {
		b->differ++;
	}
}

void diag_add(struct diag *d, const struct flow *f, enum lt_verdict v)
{
	const struct flow_side *c = &f->side[LT_DIR_C2S];
	const struct flow_side *s = &f->side[LT_DIR_S2C];
	bool est = flow_established(f) && f->role_basis != LT_ROLE_PORT;
	struct diag_group *b;

	d->conns++;
	if ((unsigned)v < LT_V_COUNT)
		d->verdict[v]++;
	if (f->kctx)
		d->with_kctx++;

	/* The rest of a connection the table evicted (no SYN seen): no
	 * evidence of mid-stream; the flows-evicted finding counts it. */
	if ((f->anomalies & LT_A_EVICTED) && !c->syn_count && !(f->anomalies & LT_A_EVENTS_LOST))
		return;

	/* Lost events may have taken its SYN-ACK, ACK, FIN or RST: what it
	 * looks like is no evidence of anything. */
	if (f->anomalies & LT_A_EVENTS_LOST) {
		if (!d->lost.n)
			group_init(&d->lost, DG_OTHER, f);
		count_common(&d->lost, f);
		if ((unsigned)v < LT_V_COUNT)
			d->lost_verdict[v]++;
		return;
	}

	if (c->head_len || s->head_len)
		add_protocols(d, f);

	if (s->syn_count && (b = add_to(d, DG_ANSWERED, f))) {
		if (s->t_syn_first && (!b->t_answer || s->t_syn_first < b->t_answer))
			b->t_answer = s->t_syn_first;
		if (b->srv_pid < 0 && s->pid > 0) {
			b->srv_pid = s->pid;
			memcpy(b->srv_comm, s->comm, LT_COMM_LEN);
		}
		if (est)
			b->established++;
		if (est && server_silent(f))
			b->silent++;
	}

	switch (v) {
	case LT_V_REFUSED:
		if ((b = add_to(d, DG_REFUSED, f)))
			lat(b, flow_syn_to_rst(f));
		break;
	case LT_V_UNANSWERED:
		if ((b = add_to(d, DG_UNANSWERED, f))) {
			if (f->sk_errno == 110)
				b->timed_out++;
			if (c->syn_count > b->syn_max || b->n == 1)
				keep_attempt(b, f);
			if (c->syn_count > b->syn_max)
				b->syn_max = c->syn_count;
			if (c->t_syn_last - c->t_syn_first > b->span_max)
				b->span_max = c->t_syn_last - c->t_syn_first;
			if (c->rst_count || c->fin_count)
				b->gave_up++;
		}
		break;
	case LT_V_HALF_OPEN:
		if ((b = add_to(d, DG_HALF_OPEN, f))) {
			if (s->syn_count > b->syn_max)
				b->syn_max = s->syn_count;
			if (s->t_syn_last - s->t_syn_first > b->span_max)
				b->span_max = s->t_syn_last - s->t_syn_first;
		}
		break;
	case LT_V_RESET_SERVER:
		if (f->rst_phase == LT_RST_AFTER_DATA && s->bytes == 0 && c->bytes > 0) {
			if ((b = add_to(d, DG_RESET_REQUEST, f))) {
				if (s->t_rst >= c->t_first_data)
					lat(b, (int64_t)(s->t_rst - c->t_first_data));
				if (c->bytes < b->req_min)
					b->req_min = c->bytes;
				if (c->bytes > b->req_max)
					b->req_max = c->bytes;
			}
		} else if ((b = add_to(d, DG_RESET_SERVER, f))) {
			b->phase[f->rst_phase < LT_RST_PHASE_COUNT ? f->rst_phase : 0]++;
		}
		break;
	case LT_V_RESET_CLIENT:
		if (f->rst_phase == LT_RST_AFTER_FIN)
			d->rst_client_after_fin++;
		if ((b = add_to(d, DG_RESET_CLIENT, f)))
			b->phase[f->rst_phase < LT_RST_PHASE_COUNT ? f->rst_phase : 0]++;
		break;
	case LT_V_HALF_CLOSED:
		if ((b = add_to(d, DG_HALF_CLOSED, f))) {
			if (c->fin_count)
				b->client_fin++;
			else
				b->server_fin++;
			if (est && s->bytes == 0 && !s->fin_count && !s->rst_count)
				b->silent++;
		}
		break;
	case LT_V_OPEN:
		if ((b = add_to(d, DG_OPEN, f))) {
			if (f->t_last - f->t_first > b->span_max)
				b->span_max = f->t_last - f->t_first;
			if (est && server_silent(f))
				b->silent++;
		}
		break;
	case LT_V_MIDSTREAM:
		if ((b = add_to(d, DG_MIDSTREAM, f)))
			b->outcome[flow_outcome(f)]++;
		break;
	case LT_V_CONNECTING:
		add_to(d, DG_CONNECTING, f);
		break;
	case LT_V_CLOSED:
	case LT_V_COUNT:
		break;
	}

	if (est && s->syn_count > 1 && (b = add_to(d, DG_SYNACK_RETRANS, f))) {
		if (s->syn_count > b->syn_max)
			b->syn_max = s->syn_count;
		if (s->t_syn_last > f->t_ack)
			b->after_ack++;
	}
	if (s->syn_count && c->syn_count > 1 && c->t_syn_last < s->t_syn_first &&
	    (b = add_to(d, DG_SYN_RETRANS, f))) {
		if (c->syn_count > b->syn_max)
			b->syn_max = c->syn_count;
		lat(b, flow_syn_to_synack(f));
	}
	if (est) {
		if (!d->good.n)
			group_init(&d->good, DG_OTHER, f);
		count_common(&d->good, f);
	}
}

/* ---- rules ------------------------------------------------------------- */

struct facts {
	struct diag_fact *v;
	int n, alloc;
	int oom;
};

static struct diag_fact *fact(struct facts *fs, enum diag_id id, enum diag_severity sev,
			      const struct diag_group *g)
{
	if (fs->n == fs->alloc) {
		int na = fs->alloc ? fs->alloc * 2 : 16;
		struct diag_fact *nv = realloc(fs->v, (size_t)na * sizeof(*nv));
		if (!nv) {
			fs->oom = 1;
			return NULL;
		}
		fs->v = nv;
		fs->alloc = na;
	}
	struct diag_fact *x = &fs->v[fs->n++];
	memset(x, 0, sizeof(*x));
	x->id = id;
	x->severity = sev;
	x->g = g;
	return x;
}

static bool listeners_known(const struct diag_context *c)
{
	return c->live && (c->nstart >= 0 || c->nend >= 0);
}

/* The live lists are lotrace's namespace's listeners: they say nothing
 * of b's address when b's connections were in another namespace. */
static bool lists_apply(const struct diag_context *c, const struct diag_group *b)
{
	return listeners_known(c) && !(b->ns && c->netns_self && b->ns->ino != c->netns_self);
}

static const struct listener *lst_on_port(const struct listener *v, int n, uint16_t port)
{
	for (int i = 0; i < n; i++)
		if (v[i].port == port)
			return &v[i];
	return NULL;
}

/* The group of kind on b's address, in b's namespace. */
static const struct diag_group *find_group(const struct diag *d, int kind,
					   const struct diag_group *b)
{
	for (size_t i = 0; i < d->nb; i++)
		if (d->b[i].kind == kind &&
		    same_ep(d->b[i].family, &d->b[i].server, b->family, &b->server) &&
		    same_ns(d->b[i].ns, b->ns))
			return &d->b[i];
	return NULL;
}

/* An answered group on the same port but another address: preferably
 * the other family on loopback (the 127.0.0.1 vs ::1 mix-up). */
static const struct diag_group *answered_elsewhere(const struct diag *d, const struct diag_group *r,
						   bool *cross)
{
	const struct diag_group *best = NULL;
	*cross = false;
	for (size_t i = 0; i < d->nb; i++) {
		const struct diag_group *a = &d->b[i];
		if (a->kind != DG_ANSWERED || a->server.port != r->server.port ||
		    !same_ns(a->ns, r->ns) || same_ep(a->family, &a->server, r->family, &r->server))
			continue;
		if (lt_cross_family(a->family, a->server.addr, r->family, r->server.addr)) {
			*cross = true;
			return a;
		}
		if (!best)
			best = a;
	}
	return best;
}

/*
 * Live eBPF: the listener timeline around b's refusals. The last change
 * of a listener for b's address before the first refusal and the first
 * one after the last: none before (and none at the start) then a listen:
 * refused before the server started listening; a close before and a
 * listen after: refused while it restarted; a close before and nothing
 * after: it stopped listening. A listener that changed between two
 * refusals, or one that was there at the refusal, is left to the other
 * rules. Returns whether it decided.
 */
static bool r_refused_timeline(struct facts *fs, const struct diag_context *c,
			       const struct diag_group *b, const struct listener *at_start)
{
	const struct listen_ev *before, *after, *b2, *a2;
	struct diag_fact *x;
	enum diag_id id;

	if (!listen_tl_around(c->lev, c->nlev, b->family, b->server.addr, b->server.port, b->netns,
			      b->t_min, &before, &after))
		return false;
	listen_tl_around(c->lev, c->nlev, b->family, b->server.addr, b->server.port, b->netns,
			 b->t_max, &b2, &a2);
	if (b2 != before)
		return false; /* it changed between the refusals */
	if (!before && !at_start && after && after->what == LT_LISTEN_BEGAN)
		id = DIAG_REFUSED_BEFORE_LISTENING;
	else if (before && before->what == LT_LISTEN_STOPPED && after &&
		 after->what == LT_LISTEN_BEGAN)
		id = DIAG_REFUSED_WHILE_RESTARTING;
	else if (before && before->what == LT_LISTEN_STOPPED && !after)
		id = DIAG_REFUSED_AFTER_LISTENING;
	else
		return false;
	if ((x = fact(fs, id, DIAG_ERROR, b))) {
		x->by_timeline = true;
		x->ev_before = before;
		x->ev_after = after;
	}
	return true;
}

/* ---- refused in one network namespace, served in another ---------------- */

/* Does a listener in l[0..n) take SYNs to b's address? */
static const struct listener *taker_in(const struct listener *l, int n, const struct diag_group *b)
{
	return n > 0 ? listener_find_taker(l, n, b->family, b->server.addr, b->server.port) : NULL;
}

/* The answered group on b's address in another namespace than b's. */
static const struct diag_group *answered_other_ns(const struct diag *d, const struct diag_group *b)
{
	for (size_t i = 0; i < d->nb; i++) {
		const struct diag_group *a = &d->b[i];
		if (a->kind == DG_ANSWERED && a->ns && !same_ns(a->ns, b->ns) &&
		    same_ep(a->family, &a->server, b->family, &b->server))
			return a;
	}
	return NULL;
}

/* A listen() in another namespace than b's (the timeline, eBPF) of a
 * listener that takes b's address and still listened at b's first
 * refusal. */
static const struct listen_ev *listening_other_ns(const struct diag_context *c,
						  const struct diag_group *b)
{
	const struct listen_ev *before, *after;

	for (int i = 0; i < c->nlev; i++) {
		const struct listen_ev *e = &c->lev[i];
		if (!e->netns || e->netns == b->ns->ino || e->what != LT_LISTEN_BEGAN ||
		    !listen_ev_takes(e, b->family, b->server.addr, b->server.port, e->netns))
			continue;
		listen_tl_around(c->lev, c->nlev, b->family, b->server.addr, b->server.port,
				 e->netns, b->t_min, &before, &after);
		if (before && before->what == LT_LISTEN_BEGAN)
			return before;
	}
	return NULL;
}

/*
 * Each network namespace has its own loopback: a client in a container
 * or an `ip netns` namespace that dials 127.0.0.1:P reaches its own
 * namespace's, not the host's. b's SYNs were refused in b's namespace
 * while the address is served in another one: by a listener of
 * lotrace's namespace (live lists, when b is elsewhere), by connections
 * answered there in this run, or by a socket that began listening there
 * before the refusals (the timeline). Only when nothing in b's own
 * namespace took that address (no answer there; live, when b is in
 * lotrace's namespace, no listener there either). Without namespaces
 * (a capture, libpcap) it never fires. Returns whether it did.
 */
static bool r_refused_netns(struct facts *fs, const struct diag *d, const struct diag_context *c,
			    const struct diag_group *b)
{
	const struct listener *l = NULL, *ls = NULL, *le = NULL;
	const struct diag_group *a;
	struct diag_fact *x;

	if (!b->ns || find_group(d, DG_ANSWERED, b))
		return false;
	bool here = c->netns_self && b->ns->ino == c->netns_self;
	if (listeners_known(c) && c->netns_self) {
		ls = taker_in(c->start, c->nstart, b);
		le = taker_in(c->end, c->nend, b);
		if (here && (ls || le))
			return false; /* served here: not a namespace matter */
		if (here)
			ls = le = NULL;
		l = le ? le : ls;
	}
	a = answered_other_ns(d, b);
	const struct listen_ev *ev = l || a ? NULL : listening_other_ns(c, b);
	if (!l && !a && !ev)
		return false;
	/* a listen() in b's own namespace, e.g. after the refusals: the
	 * timeline rules say more */
	const struct listen_ev *e1, *e2;
	if (!l && !a &&
	    listen_tl_around(c->lev, c->nlev, b->family, b->server.addr, b->server.port, b->ns->ino,
			     b->t_min, &e1, &e2))
		return false;
	if (!(x = fact(fs, DIAG_REFUSED_OTHER_NETNS, DIAG_ERROR, b)))
		return true;
	x->other_netns = true;
	x->by_listeners = l != NULL;
	x->listener = l;
	x->l_start = ls;
	x->l_end = le;
	x->other = a;
	x->ev_before = ev;
	return true;
}

/* SYNs to b's address were answered with a reset. Live, the listener
 * lists say what was there at the start and the end; when they show
 * nothing but the capture has answers from this port, a listener came
 * and went in between, and the capture's evidence says more. */
static void r_refused(struct facts *fs, const struct diag *d, const struct diag_context *c,
		      const struct diag_group *b)
{
	const uint16_t port = b->server.port;
	if (r_refused_netns(fs, d, c, b))
		return;
	const struct diag_group *same = find_group(d, DG_ANSWERED, b);
	bool cross = false;
	const struct diag_group *other = answered_elsewhere(d, b, &cross);
	const struct listener *cs = NULL, *ce = NULL, *any = NULL;
	struct diag_fact *x;

	if (lists_apply(c, b)) {
		if (c->nstart > 0)
			cs = listener_find_taker(c->start, c->nstart, b->family, b->server.addr,
						 port);
		if (c->nend > 0)
			ce = listener_find_taker(c->end, c->nend, b->family, b->server.addr, port);
		if (c->nend > 0)
			any = lst_on_port(c->end, c->nend, port);
		if (!any && c->nstart > 0)
			any = lst_on_port(c->start, c->nstart, port);
	}
	if (c->nlev > 0 && r_refused_timeline(fs, c, b, cs))
		return;
	/* Nothing listened at the start but the capture has answers from
	 * that address (libpcap, or the timeline said nothing): what the
	 * capture shows, and when, says more than the two samples. */
	if (lists_apply(c, b) && (any || (!same && !other)) && !(same && !cs)) {
		enum diag_id id;
		const struct listener *cite = NULL;
		if (!cs && !ce && any && any->family != b->family) {
			id = DIAG_REFUSED_OTHER_FAMILY;
			cite = any;
		} else if (!cs && !ce && any) {
			id = DIAG_REFUSED_OTHER_ADDRESS;
			cite = any;
		} else if (!cs && !ce) {
			id = DIAG_REFUSED;
		} else if (!cs) {
			id = DIAG_REFUSED_BEFORE_LISTENING;
			cite = ce;
		} else {
			id = DIAG_REFUSED_WHILE_LISTENING;
			cite = cs;
		}
		if (!(x = fact(fs, id, DIAG_ERROR, b)))
			return;
		x->by_listeners = true;
		x->l_start = cs;
		x->l_end = ce;
		x->listener = cite;
		return;
	}

	/* A capture: what answered on that port, and when. */
	if (cross && !same) {
		if ((x = fact(fs, DIAG_REFUSED_OTHER_FAMILY, DIAG_ERROR, b))) {
			x->other = other;
			x->cross_family = true;
		}
		return;
	}
	if (same) {
		enum diag_id id = DIAG_REFUSED_INTERMITTENT;
		if (b->t_max < same->t_min)
			id = DIAG_REFUSED_BEFORE_LISTENING;
		else if (b->t_min > same->t_max)
			id = DIAG_REFUSED_AFTER_LISTENING;
		if ((x = fact(fs, id, DIAG_ERROR, b)))
			x->other = same;
		return;
	}
	if ((x = fact(fs, DIAG_REFUSED, DIAG_ERROR, b))) {
		x->also = other;
		x->no_socket = b->rst_n == b->n && !strcmp(b->rst_name, "NO_SOCKET");
	}
}

static void r_unanswered(struct facts *fs, const struct diag *d, const struct diag_context *c,
			 const struct diag_group *b)
{
	const uint16_t port = b->server.port;
	uint64_t known = b->nf + b->ovf + b->drop_other;
	struct diag_fact *x;

	if (!(x = fact(fs, DIAG_UNANSWERED, DIAG_ERROR, b)))
		return;
	x->also = find_group(d, DG_ANSWERED, b);
	if (lists_apply(c, b)) {
		x->by_listeners = true;
		if (c->nstart > 0)
			x->l_start = listener_find_taker(c->start, c->nstart, b->family,
							 b->server.addr, port);
		if (c->nend > 0)
			x->l_end = listener_find_taker(c->end, c->nend, b->family, b->server.addr,
						       port);
		x->queue_full = (x->l_start && x->l_start->queued > x->l_start->backlog) ||
				(x->l_end && x->l_end->queued > x->l_end->backlog);
	}
	if (b->nf == b->n)
		x->cause = DIAG_CAUSE_FIREWALL;
	else if (b->ovf == b->n || (!known && x->queue_full))
		x->cause = DIAG_CAUSE_QUEUE_FULL;
}

static int main_phase(const struct diag_group *b)
{
	int best = 0;
	for (int p = 1; p < LT_RST_PHASE_COUNT; p++)
		if (b->phase[p] > b->phase[best])
			best = p;
	return best;
}

/* Resets by one side: the same rule for both; after a FIN only, harmless. */
static void r_reset(struct facts *fs, enum diag_id id, const struct diag_group *b)
{
	bool harmless = b->phase[LT_RST_AFTER_FIN] == b->n;
	struct diag_fact *x = fact(fs, id, harmless ? DIAG_INFO : DIAG_WARNING, b);
	if (x)
		x->phase = main_phase(b);
}

static enum diag_id kind_id(int kind)
{
	switch ((enum diag_group_kind)kind) {
	case DG_REFUSED:
		return DIAG_REFUSED;
	case DG_UNANSWERED:
		return DIAG_UNANSWERED;
	case DG_HALF_OPEN:
		return DIAG_HALF_OPEN;
	case DG_RESET_REQUEST:
		return DIAG_RESET_AFTER_REQUEST;
	case DG_SYNACK_RETRANS:
		return DIAG_SYNACK_RETRANSMITTED;
	case DG_SYN_RETRANS:
		return DIAG_SYN_RETRANSMITTED;
	case DG_RESET_SERVER:
		return DIAG_RESET_BY_SERVER;
	case DG_RESET_CLIENT:
		return DIAG_RESET_BY_CLIENT;
	case DG_HALF_CLOSED:
		return DIAG_HALF_CLOSED;
	case DG_OPEN:
		return DIAG_STILL_OPEN;
	case DG_MIDSTREAM:
		return DIAG_MID_STREAM;
	case DG_CONNECTING:
		return DIAG_CONNECTING;
	case DG_PROTO_CLASH:
		return DIAG_PROTOCOL_MISMATCH;
	case DG_HTTP_STATUS:
		return DIAG_HTTP_ERROR;
	case DG_ANSWERED:
	case DG_OTHER:
	case DG_KIND_COUNT:
		break;
	}
	return DIAG_ID_COUNT;
}

static enum diag_severity kind_severity(int kind)
{
	switch ((enum diag_group_kind)kind) {
	case DG_REFUSED:
	case DG_UNANSWERED:
	case DG_HALF_OPEN:
	case DG_RESET_REQUEST:
	case DG_PROTO_CLASH:
		return DIAG_ERROR;
	case DG_HTTP_STATUS:
	case DG_SYNACK_RETRANS:
	case DG_SYN_RETRANS:
	case DG_RESET_SERVER:
	case DG_RESET_CLIENT:
		return DIAG_WARNING;
	case DG_HALF_CLOSED:
	case DG_OPEN:
	case DG_MIDSTREAM:
	case DG_CONNECTING:
	case DG_ANSWERED:
	case DG_OTHER:
	case DG_KIND_COUNT:
		break;
	}
	return DIAG_INFO;
}

/* One group's finding. Answered groups make none of their own: the
 * refused and unanswered findings cite them. */
static void r_group(struct facts *fs, const struct diag *d, const struct diag_context *c,
		    const struct diag_group *b)
{
	struct diag_fact *x;

	switch ((enum diag_group_kind)b->kind) {
	case DG_REFUSED:
		r_refused(fs, d, c, b);
		break;
	case DG_UNANSWERED:
		r_unanswered(fs, d, c, b);
		break;
	case DG_HALF_OPEN:
		if ((x = fact(fs, DIAG_HALF_OPEN, DIAG_ERROR, b)) && b->ovf == b->n)
			x->cause = DIAG_CAUSE_QUEUE_FULL;
		break;
	case DG_RESET_SERVER:
		r_reset(fs, DIAG_RESET_BY_SERVER, b);
		break;
	case DG_RESET_CLIENT:
		r_reset(fs, DIAG_RESET_BY_CLIENT, b);
		break;
	case DG_HALF_CLOSED:
		/* every client-closed one never heard a word from the server */
		if (b->silent && b->silent == b->client_fin)
			fact(fs, DIAG_SERVER_SILENT, DIAG_WARNING, b);
		else
			fact(fs, DIAG_HALF_CLOSED, DIAG_INFO, b);
		break;
	case DG_PROTO_CLASH:
		/* a refused SSLRequest is the server's choice, often fine */
		fact(fs, DIAG_PROTOCOL_MISMATCH,
		     b->clash == PROTO_CLASH_SSL_REFUSED ? DIAG_WARNING : DIAG_ERROR, b);
		break;
	case DG_RESET_REQUEST:
	case DG_SYNACK_RETRANS:
	case DG_SYN_RETRANS:
	case DG_OPEN:
	case DG_MIDSTREAM:
	case DG_CONNECTING:
	case DG_HTTP_STATUS:
		fact(fs, kind_id(b->kind), kind_severity(b->kind), b);
		break;
	case DG_ANSWERED:
	case DG_OTHER:
	case DG_KIND_COUNT:
		break;
	}
}

/* Could lost events alone make a connection look like this kind? A lost
 * SYN-ACK, ACK, FIN or RST can; a RST that was seen cannot be made up. */
static bool loss_can_fake(int kind)
{
	switch ((enum diag_group_kind)kind) {
	case DG_UNANSWERED:
	case DG_HALF_OPEN:
	case DG_SYNACK_RETRANS:
	case DG_SYN_RETRANS:
	case DG_HALF_CLOSED:
	case DG_OPEN:
	case DG_MIDSTREAM:
	case DG_CONNECTING:
		return true;
	case DG_REFUSED:
	case DG_RESET_REQUEST:
	case DG_RESET_SERVER:
	case DG_RESET_CLIENT:
	case DG_PROTO_CLASH: /* bytes seen are never made up by a loss */
	case DG_HTTP_STATUS:
	case DG_ANSWERED:
	case DG_OTHER:
	case DG_KIND_COUNT:
		break;
	}
	return false;
}

static int cmp_group(const void *a, const void *b)
{
	const struct diag_group *x = *(const struct diag_group *const *)a;
	const struct diag_group *y = *(const struct diag_group *const *)b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->server.port != y->server.port)
		return x->server.port < y->server.port ? -1 : 1;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	int c = memcmp(x->server.addr, y->server.addr, 16);
	if (c)
		return c;
	uint32_t nx = x->ns ? x->ns->ino : 0, ny = y->ns ? y->ns->ino : 0;
	return nx < ny ? -1 : nx > ny;
}

/* What the run knows besides the connections. doubt[0..ndoubt): groups
 * the loss may have made up (see diag_decide). */
static void r_run(struct facts *fs, const struct diag *d, const struct diag_context *c,
		  const struct diag_group *const *doubt, int ndoubt)
{
	const struct lt_source_stats *ss = c->src;
	struct diag_fact *x;

	if (ss && ss->read_error[0])
		fact(fs, DIAG_INPUT_ENDED_EARLY, DIAG_WARNING, NULL);
	if (((ss && ss->lost) || d->lost.n) &&
	    (x = fact(fs, DIAG_EVENTS_LOST, DIAG_WARNING, d->lost.n ? &d->lost : NULL))) {
		x->by_verdict = d->lost_verdict;
		x->doubtful = doubt;
		x->ndoubtful = ndoubt;
	}
	if (ss && dec_stats_problems(&ss->dec))
		fact(fs, DIAG_DECODE_PROBLEMS, DIAG_WARNING, NULL);
	if (c->flows && c->flows->evicted)
		fact(fs, DIAG_FLOWS_EVICTED, DIAG_WARNING, NULL);
	if (d->ungrouped && (x = fact(fs, DIAG_FINDINGS_CUT, DIAG_WARNING, NULL)))
		x->ungrouped = d->ungrouped;
	if (!d->conns)
		fact(fs, DIAG_NO_CONNECTIONS, DIAG_WARNING, NULL);
}

/* "Nothing wrong": every handshake seen completed, and nothing failed.
 * Warnings about delays that ended well, or about the input, do not
 * stand against it (the words say so). */
static void r_clean(struct facts *fs, const struct diag *d)
{
	bool delays = false, input = false;
	struct diag_fact *x;

	for (int i = 0; i < fs->n; i++) {
		const struct diag_fact *f = &fs->v[i];
		if (f->severity == DIAG_ERROR)
			return;
		if (f->severity != DIAG_WARNING)
			continue;
		if (f->id == DIAG_SYN_RETRANSMITTED || f->id == DIAG_SYNACK_RETRANSMITTED)
			delays = true;
		else if (f->id == DIAG_EVENTS_LOST || f->id == DIAG_DECODE_PROBLEMS ||
			 f->id == DIAG_FLOWS_EVICTED || f->id == DIAG_INPUT_ENDED_EARLY ||
			 f->id == DIAG_FINDINGS_CUT)
			input = true;
		else
			return;
	}
	if (!d->good.n || !(x = fact(fs, DIAG_NO_PROBLEM, DIAG_INFO, &d->good)))
		return;
	x->delays = delays;
	x->input_doubt = input;
	/* the connections set aside for lost events are not among them */
	x->conns = d->conns - d->lost.n;
	x->closed = d->verdict[LT_V_CLOSED] - d->lost_verdict[LT_V_CLOSED];
	x->lost_conns = d->lost.n;
	x->client_rst_after_fin = d->rst_client_after_fin;
}

int diag_decide(const struct diag *d, const struct diag_context *c, struct diag_fact **out)
{
	struct facts fs;
	const struct diag_group **v = NULL;
	size_t nv = 0;

	memset(&fs, 0, sizeof(fs));
	*out = NULL;
	if (d->nb) {
		v = malloc(2 * d->nb * sizeof(*v));
		if (!v)
			return -ENOMEM;
	}
	for (size_t i = 0; i < d->nb; i++)
		if (d->b[i].kind != DG_ANSWERED)
			v[nv++] = &d->b[i];
	if (nv)
		qsort(v, nv, sizeof(*v), cmp_group);

	/* The source lost events but could not say which connections they
	 * belonged to (none carries LT_A_EVENTS_LOST): no group a loss could
	 * make up is a finding; they go, in order, to the end of v, and the
	 * events-lost finding names them. */
	size_t nkeep = nv;
	if (c->src && c->src->lost && !d->lost.n) {
		const struct diag_group **doubt = v + d->nb;
		size_t nd = 0;
		nkeep = 0;
		for (size_t i = 0; i < nv; i++) {
			if (loss_can_fake(v[i]->kind))
				doubt[nd++] = v[i];
			else
				v[nkeep++] = v[i];
		}
		memmove(v + nkeep, doubt, nd * sizeof(*v));
	}

	/* At most FINDINGS_PER_KIND addresses per kind get a finding each;
	 * the rest share one, which points into v (kept with the facts). */
	for (size_t i = 0; i < nkeep && !fs.oom;) {
		size_t j = i;
		while (j < nkeep && v[j]->kind == v[i]->kind)
			j++;
		size_t shown = j - i > FINDINGS_PER_KIND + 1 ? FINDINGS_PER_KIND : j - i;
		for (size_t k = i; k < i + shown; k++)
			r_group(&fs, d, c, v[k]);
		struct diag_fact *x;
		if (shown < j - i &&
		    (x = fact(&fs, kind_id(v[i]->kind), kind_severity(v[i]->kind), NULL))) {
			x->more = v + i + shown;
			x->nmore = (int)(j - i - shown);
		}
		i = j;
	}
	if (!fs.oom)
		r_run(&fs, d, c, nv > nkeep ? v + nkeep : NULL, (int)(nv - nkeep));
	if (!fs.oom)
		r_clean(&fs, d);

	/* Lost events first (they say what every other finding may miss),
	 * then most severe first, otherwise in the order made (qsort would
	 * not keep that order). */
	struct diag_fact *sorted = NULL;
	if (!fs.oom && !(sorted = malloc((size_t)(fs.n ? fs.n : 1) * sizeof(*sorted))))
		fs.oom = 1;
	if (fs.oom) {
		free(fs.v);
		free(v);
		free(sorted);
		return -ENOMEM;
	}
	int k = 0;
	for (int i = 0; i < fs.n; i++)
		if (fs.v[i].id == DIAG_EVENTS_LOST)
			sorted[k++] = fs.v[i];
	for (int s = DIAG_ERROR; s <= DIAG_INFO; s++)
		for (int i = 0; i < fs.n; i++)
			if ((int)fs.v[i].severity == s && fs.v[i].id != DIAG_EVENTS_LOST)
				sorted[k++] = fs.v[i];
	free(fs.v);
	/* the "more" and doubtful groups are listed in v: it lives as long
	 * as the facts, as their allocation's tail */
	if (nv) {
		struct diag_fact *grown =
			realloc(sorted, (size_t)k * sizeof(*sorted) + nv * sizeof(*v));
		if (!grown) {
			free(sorted);
			free(v);
			return -ENOMEM;
		}
		sorted = grown;
		const struct diag_group **tail = (const struct diag_group **)(sorted + k);
		memcpy(tail, v, nv * sizeof(*v));
		for (int i = 0; i < k; i++) {
			if (sorted[i].more)
				sorted[i].more = tail + (sorted[i].more - v);
			if (sorted[i].doubtful)
				sorted[i].doubtful = tail + (sorted[i].doubtful - v);
		}
	}
	free(v);
	*out = sorted;
	return k;
}

/* ---- findings: the facts, worded, with their evidence ------------------- */

/* The connections of b are what f is about (several b: merged by id). */
static void refs_from(struct diag_finding *f, const struct diag_group *b)
{
	for (int i = 0; i < b->nrefs; i++)
		refs_add(f->refs, &f->nrefs, &b->refs[i]);
	f->nprimary = f->nrefs;
	f->total += b->n;
}

#define ALSO_REFS 10 /* room kept for the connections a finding compares with */

/* The connections of b are what f compares its own with: after them. */
static void refs_also(struct diag_finding *f, const struct diag_group *b)
{
	int room = DIAG_REFS_MAX - f->nrefs;
	int want = b->nrefs < ALSO_REFS ? b->nrefs : ALSO_REFS;
	if (room < want) {
		f->nrefs = DIAG_REFS_MAX - want;
		f->nprimary = f->nrefs;
		room = want;
	}
	for (int i = 0; i < b->nrefs && i < room; i++)
		f->refs[f->nrefs++] = b->refs[i];
	f->total += b->n;
}

int diag_findings(const struct diag *d, const struct diag_context *c, struct diag_finding **out)
{
	struct diag_fact *fx;
	struct diag_finding *v;
	struct sbuf title, text, next;
	int n = diag_decide(d, c, &fx), k = 0;

	*out = NULL;
	if (n < 0)
		return n;
	v = calloc((size_t)(n ? n : 1), sizeof(*v));
	if (!v) {
		free(fx);
		return -ENOMEM;
	}
	sbuf_init(&title, 1u << 12);
	sbuf_init(&text, 1u << 16);
	sbuf_init(&next, 1u << 14);
	for (; k < n; k++) {
		const struct diag_fact *x = &fx[k];
		struct diag_finding *f = &v[k];

		sbuf_reset(&title);
		sbuf_reset(&text);
		sbuf_reset(&next);
		diag_words(x, c, &title, &text, &next);
		snprintf(f->id, sizeof(f->id), "%s", diag_id_name(x->id));
		f->severity = x->severity;
		snprintf(f->title, sizeof(f->title), "%s", sbuf_str(&title));
		f->text = strdup(sbuf_str(&text));
		f->next_step = strdup(sbuf_str(&next));
		if (!f->text || !f->next_step) {
			k++;
			break;
		}
		if (x->g)
			refs_from(f, x->g);
		for (int i = 0; i < x->nmore; i++)
			refs_from(f, x->more[i]);
		for (int i = 0; i < x->ndoubtful; i++)
			refs_from(f, x->doubtful[i]);
		if (x->other)
			refs_also(f, x->other);
	}
	sbuf_release(&title);
	sbuf_release(&text);
	sbuf_release(&next);
	free(fx);
	if (k < n || (n && (!v[n - 1].text || !v[n - 1].next_step))) {
		diag_findings_free(v, k);
		return -ENOMEM;
	}
	*out = v;
	return n;
}

void diag_findings_free(struct diag_finding *f, int n)
{
	if (!f)
		return;
	for (int i = 0; i < n; i++) {
		free(f[i].text);
		free(f[i].next_step);
	}
	free(f);
}

const char *diag_severity_name(enum diag_severity s)
{
	switch (s) {
	case DIAG_ERROR:
		return "error";
	case DIAG_WARNING:
		return "warning";
	case DIAG_INFO:
		return "info";
	}
	return "?";
}

const char *diag_id_name(enum diag_id id)
{
	static const char *const names[DIAG_ID_COUNT] = {
		[DIAG_REFUSED] = "refused",
		[DIAG_REFUSED_OTHER_FAMILY] = "refused-other-family",
		[DIAG_REFUSED_OTHER_ADDRESS] = "refused-other-address",
		[DIAG_REFUSED_BEFORE_LISTENING] = "refused-before-listening",
		[DIAG_REFUSED_AFTER_LISTENING] = "refused-after-listening",
		[DIAG_REFUSED_INTERMITTENT] = "refused-intermittent",
		[DIAG_REFUSED_WHILE_LISTENING] = "refused-while-listening",
		[DIAG_REFUSED_WHILE_RESTARTING] = "refused-while-restarting",
		[DIAG_UNANSWERED] = "unanswered",
		[DIAG_HALF_OPEN] = "half-open",
		[DIAG_RESET_AFTER_REQUEST] = "reset-after-request",
		[DIAG_SYNACK_RETRANSMITTED] = "synack-retransmitted",
		[DIAG_SYN_RETRANSMITTED] = "syn-retransmitted",
		[DIAG_RESET_BY_SERVER] = "reset-by-server",
		[DIAG_RESET_BY_CLIENT] = "reset-by-client",
		[DIAG_SERVER_SILENT] = "server-silent",
		[DIAG_HALF_CLOSED] = "half-closed",
		[DIAG_STILL_OPEN] = "still-open",
		[DIAG_MID_STREAM] = "mid-stream",
		[DIAG_CONNECTING] = "connecting",
		[DIAG_INPUT_ENDED_EARLY] = "input-ended-early",
		[DIAG_EVENTS_LOST] = "events-lost",
		[DIAG_DECODE_PROBLEMS] = "decode-problems",
		[DIAG_FLOWS_EVICTED] = "flows-evicted",
		[DIAG_FINDINGS_CUT] = "findings-cut",
		[DIAG_NO_CONNECTIONS] = "no-connections",
		[DIAG_NO_PROBLEM] = "no-problem",
		[DIAG_PROTOCOL_MISMATCH] = "protocol-mismatch",
		[DIAG_HTTP_ERROR] = "http-error",
		[DIAG_REFUSED_OTHER_NETNS] = "refused-other-netns",
	};
	return (unsigned)id < DIAG_ID_COUNT && names[id] ? names[id] : "other";
}
