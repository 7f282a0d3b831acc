/* SPDX-License-Identifier: MIT */
/* diagnose.c - evidence from retired connections, and findings in plain words. */
#include "diagnose.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fmt.h"
#include "sbuf.h"
#include "sink.h"

/*
 * A bucket groups the connections one finding is about: its kind, and
 * (for most kinds) the server address they went to. Only counts and the
 * smallest connection ids are kept, so memory stays bounded however long
 * the run.
 */
enum bkind {
	BK_REFUSED = 0,
	BK_UNANSWERED,
	BK_HALF_OPEN,
	BK_RESET_REQUEST,  /* server RST right after the client's request */
	BK_SYNACK_RETRANS, /* established, but the SYN-ACK was re-sent */
	BK_SYN_RETRANS,    /* answered only after SYN retransmissions */
	BK_RESET_SERVER,   /* other server resets */
	BK_RESET_CLIENT,
	BK_HALF_CLOSED,
	BK_OPEN,
	BK_MIDSTREAM,
	BK_CONNECTING,
	BK_ANSWERED,       /* not a finding: the server sent a SYN-ACK */
	BK_COUNT,
};

#define MAX_BUCKETS 1024
#define FINDINGS_PER_KIND 10 /* more addresses of one kind are listed together */
#define RST_PHASES LT_RST_PHASE_COUNT

struct bucket {
	uint8_t kind;            /* enum bkind */
	uint8_t family;
	struct lt_endpoint server;
	uint64_t n;
	uint64_t t_min, t_max;   /* earliest and latest connection start */
	struct diag_ref refs[DIAG_REFS_MAX];
	int nrefs;
	uint64_t phase[RST_PHASES]; /* resets by enum lt_rst_phase */
	uint32_t syn_max;        /* most SYNs (client) or SYN-ACKs (server) */
	uint64_t span_max;       /* longest first-to-last SYN (SYN-ACK), or life */
	uint64_t lat_min, lat_max; /* per kind: SYN->RST, request->RST, SYN->SYN-ACK */
	uint64_t req_min, req_max; /* reset-after-request: request bytes */
	uint64_t established;    /* answered: the handshake completed */
	uint64_t silent;         /* ... and the server never sent data, FIN or RST */
	uint64_t after_ack;      /* synack-retrans: re-sent after the client's ACK */
	uint64_t client_fin, server_fin; /* half-closed: who closed */
	uint64_t gave_up;        /* unanswered: the client sent RST or FIN */
	uint64_t outcome[LT_V_COUNT]; /* mid-stream: how they stood at the end */
	/* kernel context (eBPF) */
	uint64_t with_kctx;
	uint64_t nf;             /* drop reason NETFILTER_DROP */
	uint64_t ovf;            /* accept queue of the listener full */
	uint64_t drop_other;
	char drop_name[LT_REASON_LEN];
	uint64_t rst_n, rst_other; /* reset reason rst_name / a different one */
	char rst_name[LT_REASON_LEN];
	uint64_t err_n;
	int32_t err;
};

struct diag {
	struct bucket *b;
	size_t nb, alloc;
	size_t last[BK_COUNT];   /* bucket hit last, per kind (a cache) */
	uint64_t unbucketed;     /* connections whose group did not fit */
	uint64_t conns;
	uint64_t verdict[LT_V_COUNT];
	uint64_t rst_client_after_fin;
	uint64_t with_kctx;
	struct bucket good;      /* handshake seen and completed */
	/* Connections whose events were partly lost (LT_A_EVENTS_LOST): in
	 * no other group, so no finding rests on them. */
	struct bucket lost;
	uint64_t lost_verdict[LT_V_COUNT];
};

/* ---- collecting -------------------------------------------------------- */

struct diag *diag_new(void)
{
	struct diag *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	for (int k = 0; k < BK_COUNT; k++)
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
	return fa == fb && a->port == b->port &&
	       !memcmp(a->addr, b->addr, addr_len(fa));
}

static void bucket_init(struct bucket *b, int kind, const struct flow *f)
{
	memset(b, 0, sizeof(*b));
	b->kind = (uint8_t)kind;
	b->family = f->family;
	b->server = f->server;
	b->lat_min = b->req_min = UINT64_MAX;
}

static struct bucket *bucket_get(struct diag *d, int kind, const struct flow *f)
{
	size_t i = d->last[kind];

	if (i < d->nb && same_ep(d->b[i].family, &d->b[i].server, f->family,
				 &f->server))
		return &d->b[i];
	for (i = 0; i < d->nb; i++)
		if (d->b[i].kind == kind &&
		    same_ep(d->b[i].family, &d->b[i].server, f->family, &f->server)) {
			d->last[kind] = i;
			return &d->b[i];
		}
	if (d->nb == MAX_BUCKETS)
		return NULL;
	if (d->nb == d->alloc) {
		size_t na = d->alloc ? d->alloc * 2 : 16;
		struct bucket *nb = realloc(d->b, na * sizeof(*nb));
		if (!nb)
			return NULL;
		d->b = nb;
		d->alloc = na;
	}
	bucket_init(&d->b[d->nb], kind, f);
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
}

static void count_common(struct bucket *b, const struct flow *f)
{
	struct diag_ref r;

	b->n++;
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

static void lat(struct bucket *b, int64_t ns)
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

static struct bucket *add_to(struct diag *d, int kind, const struct flow *f)
{
	struct bucket *b = bucket_get(d, kind, f);
	if (!b) {
		d->unbucketed++;
		return NULL;
	}
	count_common(b, f);
	return b;
}

void diag_add(struct diag *d, const struct flow *f, enum lt_verdict v)
{
	const struct flow_side *c = &f->side[LT_DIR_C2S];
	const struct flow_side *s = &f->side[LT_DIR_S2C];
	bool est = flow_established(f) && f->role_basis != LT_ROLE_PORT;
	struct bucket *b;

	d->conns++;
	if ((unsigned)v < LT_V_COUNT)
		d->verdict[v]++;
	if (f->kctx)
		d->with_kctx++;

	/* Lost events may have taken its SYN-ACK, ACK, FIN or RST: what it
	 * looks like is no evidence of anything. */
	if (f->anomalies & LT_A_EVENTS_LOST) {
		if (!d->lost.n)
			bucket_init(&d->lost, BK_COUNT, f);
		count_common(&d->lost, f);
		if ((unsigned)v < LT_V_COUNT)
			d->lost_verdict[v]++;
		return;
	}

	if (s->syn_count && (b = add_to(d, BK_ANSWERED, f))) {
		if (est)
			b->established++;
		if (est && server_silent(f))
			b->silent++;
	}

	switch (v) {
	case LT_V_REFUSED:
		if ((b = add_to(d, BK_REFUSED, f)))
			lat(b, flow_syn_to_rst(f));
		break;
	case LT_V_UNANSWERED:
		if ((b = add_to(d, BK_UNANSWERED, f))) {
			if (c->syn_count > b->syn_max)
				b->syn_max = c->syn_count;
			if (c->t_syn_last - c->t_syn_first > b->span_max)
				b->span_max = c->t_syn_last - c->t_syn_first;
			if (c->rst_count || c->fin_count)
				b->gave_up++;
		}
		break;
	case LT_V_HALF_OPEN:
		if ((b = add_to(d, BK_HALF_OPEN, f))) {
			if (s->syn_count > b->syn_max)
				b->syn_max = s->syn_count;
			if (s->t_syn_last - s->t_syn_first > b->span_max)
				b->span_max = s->t_syn_last - s->t_syn_first;
		}
		break;
	case LT_V_RESET_SERVER:
		if (f->rst_phase == LT_RST_AFTER_DATA && s->bytes == 0 && c->bytes > 0) {
			if ((b = add_to(d, BK_RESET_REQUEST, f))) {
				if (s->t_rst >= c->t_first_data)
					lat(b, (int64_t)(s->t_rst - c->t_first_data));
				if (c->bytes < b->req_min)
					b->req_min = c->bytes;
				if (c->bytes > b->req_max)
					b->req_max = c->bytes;
			}
		} else if ((b = add_to(d, BK_RESET_SERVER, f))) {
			b->phase[f->rst_phase < RST_PHASES ? f->rst_phase : 0]++;
		}
		break;
	case LT_V_RESET_CLIENT:
		if (f->rst_phase == LT_RST_AFTER_FIN)
			d->rst_client_after_fin++;
		if ((b = add_to(d, BK_RESET_CLIENT, f)))
			b->phase[f->rst_phase < RST_PHASES ? f->rst_phase : 0]++;
		break;
	case LT_V_HALF_CLOSED:
		if ((b = add_to(d, BK_HALF_CLOSED, f))) {
			if (c->fin_count)
				b->client_fin++;
			else
				b->server_fin++;
			if (est && s->bytes == 0 && !s->fin_count && !s->rst_count)
				b->silent++;
		}
		break;
	case LT_V_OPEN:
		if ((b = add_to(d, BK_OPEN, f))) {
			if (f->t_last - f->t_first > b->span_max)
				b->span_max = f->t_last - f->t_first;
			if (est && server_silent(f))
				b->silent++;
		}
		break;
	case LT_V_MIDSTREAM:
		if ((b = add_to(d, BK_MIDSTREAM, f)))
			b->outcome[flow_outcome(f)]++;
		break;
	case LT_V_CONNECTING:
		add_to(d, BK_CONNECTING, f);
		break;
	case LT_V_CLOSED:
	case LT_V_COUNT:
		break;
	}

	if (est && s->syn_count > 1 && (b = add_to(d, BK_SYNACK_RETRANS, f))) {
		if (s->syn_count > b->syn_max)
			b->syn_max = s->syn_count;
		if (s->t_syn_last > f->t_ack)
			b->after_ack++;
	}
	if (s->syn_count && c->syn_count > 1 && c->t_syn_last < s->t_syn_first &&
	    (b = add_to(d, BK_SYN_RETRANS, f))) {
		if (c->syn_count > b->syn_max)
			b->syn_max = c->syn_count;
		lat(b, flow_syn_to_synack(f));
	}
	if (est) {
		if (!d->good.n)
			bucket_init(&d->good, BK_COUNT, f);
		count_common(&d->good, f);
	}
}

/* ---- words ------------------------------------------------------------- */

static const char *s_(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/* "`127.0.0.1:61901`" */
static void put_ep(struct sbuf *b, uint8_t family, const struct lt_endpoint *e)
{
	char ep[FMT_EP_LEN];
	sbuf_printf(b, "`%s`", fmt_endpoint(ep, family, e));
}

static const char *ep_str(char out[FMT_EP_LEN], uint8_t family,
			  const struct lt_endpoint *e)
{
	return fmt_endpoint(out, family, e);
}

/* "12:25:00.043053" in UTC, like the report's time window */
static char *hms(char out[FMT_TIME_LEN], uint64_t ns)
{
	time_t sec = (time_t)(ns / 1000000000ull);
	struct tm tm;
	char t[16];

	if (!gmtime_r(&sec, &tm)) {
		snprintf(out, FMT_TIME_LEN, "?");
		return out;
	}
	strftime(t, sizeof(t), "%H:%M:%S", &tm);
	snprintf(out, FMT_TIME_LEN, "%s.%06u", t,
		 (unsigned)(ns % 1000000000ull / 1000u));
	return out;
}

/* "11us" or "11us to 109us" */
static void put_range(struct sbuf *b, uint64_t lo, uint64_t hi)
{
	char a[24], c[24];
	if (lo == UINT64_MAX)
		return;
	if (fmt_dur(a, (int64_t)lo) && strcmp(a, fmt_dur(c, (int64_t)hi)))
		sbuf_printf(b, "%s to %s", a, c);
	else
		sbuf_puts(b, a);
}

static void put_bytes_range(struct sbuf *b, uint64_t lo, uint64_t hi)
{
	char a[24], c[24];
	fmt_bytes(a, lo);
	fmt_bytes(c, hi);
	if (strcmp(a, c))
		sbuf_printf(b, "%s to %s", a, c);
	else
		sbuf_puts(b, a);
}

static const char *family_name(uint8_t f)
{
	return f == 6 ? "IPv6" : "IPv4";
}

/* What the kernel's reset reasons mean, said plainly (kernel-and-peers §5.5). */
static const char *rst_gloss(const char *name)
{
	static const struct { const char *name, *gloss; } g[] = {
		{ "NO_SOCKET", "no socket for this address and port" },
		{ "TCP_ABORT_ON_CLOSE", "the application closed the socket with data still unread" },
		{ "TCP_ABORT_ON_LINGER", "the socket was closed while waiting for the peer's FIN" },
		{ "TCP_ABORT_ON_MEMORY", "the kernel was short of memory for closed sockets" },
		{ "TCP_ABORT_ON_DATA", "data arrived for a socket the application had closed" },
		{ "TCP_STATE", "the application aborted the connection (close with SO_LINGER 0, or disconnect)" },
		{ "TCP_KEEPALIVE_TIMEOUT", "keep-alive probes went unanswered" },
		{ "TCP_TIMEWAIT_SOCKET", "the segment met a socket in TIME_WAIT" },
		{ "TCP_DISCONNECT_WITH_DATA", "the application disconnected with data still queued" },
		{ "TCP_FLAGS", "a segment with flags the kernel did not accept" },
		{ "INVALID_SYN", "a SYN the kernel did not accept" },
	};
	for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++)
		if (!strcmp(name, g[i].name))
			return g[i].gloss;
	return NULL;
}

static const char *drop_gloss(const char *name)
{
	static const struct { const char *name, *gloss; } g[] = {
		{ "NETFILTER_DROP", "a firewall rule (nftables/iptables)" },
		{ "TCP_LISTEN_OVERFLOW", "the listener's accept queue was full" },
		{ "NO_SOCKET", "no socket for this address and port" },
		{ "SOCKET_BACKLOG", "the socket's backlog was full" },
		{ "BPF_CGROUP_INGRESS", "a cgroup BPF program" },
		{ "BPF_CGROUP_EGRESS", "a cgroup BPF program" },
		{ "SECURITY_HOOK", "a security module (SELinux, AppArmor...)" },
		{ "TC_INGRESS", "a tc filter" },
		{ "TC_EGRESS", "a tc filter" },
		{ "TCP_CSUM", "a bad checksum" },
	};
	for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++)
		if (!strcmp(name, g[i].name))
			return g[i].gloss;
	return NULL;
}

/* " For 2 of them the" or " The" (all of them) */
static void lead(struct sbuf *t, uint64_t k, uint64_t n)
{
	if (k == n)
		sbuf_puts(t, " The");
	else
		sbuf_printf(t, " For %" PRIu64 " of them the", k);
}

static const char *all_of(uint64_t k, uint64_t n)
{
	return k == n && n > 1 ? " for all of them" : "";
}

/* Sentences on the kernel context of b; nothing when it carried none. */
static void put_kernel(struct sbuf *t, const struct bucket *b, int drops, int resets)
{
	const char *g;

	if (drops && b->nf) {
		lead(t, b->nf, b->n);
		sbuf_printf(t, " kernel's drop reason was `NETFILTER_DROP`%s: a firewall rule (nftables/iptables) dropped the segment.",
			    all_of(b->nf, b->n));
	}
	if (drops && b->ovf) {
		lead(t, b->ovf, b->n);
		sbuf_printf(t, " kernel reported that the listener's accept queue was full%s.",
			    all_of(b->ovf, b->n));
	}
	if (drops && b->drop_other) {
		lead(t, b->drop_other, b->n);
		sbuf_printf(t, " kernel's drop reason was `%s`%s", b->drop_name,
			    all_of(b->drop_other, b->n));
		if ((g = drop_gloss(b->drop_name)))
			sbuf_printf(t, " (%s)", g);
		sbuf_putc(t, '.');
	}
	if (resets && b->rst_n) {
		lead(t, b->rst_n, b->n);
		sbuf_printf(t, " kernel's reset reason was `%s`%s", b->rst_name,
			    all_of(b->rst_n, b->n));
		if ((g = rst_gloss(b->rst_name)))
			sbuf_printf(t, ": %s", g);
		sbuf_putc(t, '.');
		if (b->rst_other)
			sbuf_printf(t, " %" PRIu64 " had other reset reasons.", b->rst_other);
	}
	if (b->err_n) {
		lead(t, b->err_n, b->n);
		sbuf_printf(t, " application's socket reported error %d (%s)%s.",
			    b->err, strerror(b->err), all_of(b->err_n, b->n));
	}
}

/* ---- listeners (live runs) ------------------------------------------- */

static const struct listener *lst_on_port(const struct listener *v, int n,
					  uint16_t port)
{
	for (int i = 0; i < n; i++)
		if (v[i].port == port)
			return &v[i];
	return NULL;
}

/* "`[::1]:61903`" */
static void put_listener_ep(struct sbuf *b, const struct listener *l)
{
	listener_format(b, l, LISTENER_ENDPOINT, true);
}

/* "`[::1]:61903` (IPv6 only, `python3` pid 812, 0 waiting for accept(), backlog 128)" */
static void put_listener(struct sbuf *b, const struct listener *l)
{
	listener_format(b, l, LISTENER_PROSE, true);
}

static bool listeners_known(const struct diag_context *c)
{
	return c->live && (c->nstart >= 0 || c->nend >= 0);
}

/* ---- building findings ----------------------------------------------- */

struct fb {
	struct diag_finding *v;
	int n, alloc;
	int oom;
	struct sbuf text, next;
};

static struct diag_finding *fb_begin(struct fb *fb, const char *id,
				     enum diag_severity sev)
{
	if (fb->n == fb->alloc) {
		int na = fb->alloc ? fb->alloc * 2 : 16;
		struct diag_finding *nv = realloc(fb->v, (size_t)na * sizeof(*nv));
		if (!nv) {
			fb->oom = 1;
			return NULL;
		}
		fb->v = nv;
		fb->alloc = na;
	}
	struct diag_finding *f = &fb->v[fb->n];
	memset(f, 0, sizeof(*f));
	snprintf(f->id, sizeof(f->id), "%s", id);
	f->severity = sev;
	sbuf_reset(&fb->text);
	sbuf_reset(&fb->next);
	return f;
}

static void fb_end(struct fb *fb, struct diag_finding *f)
{
	f->text = strdup(sbuf_str(&fb->text));
	f->next_step = strdup(sbuf_str(&fb->next));
	if (!f->text || !f->next_step) {
		free(f->text);
		free(f->next_step);
		fb->oom = 1;
		return;
	}
	fb->n++;
}

/* The connections of b are what f is about (several b: merged by id). */
static void refs_from(struct diag_finding *f, const struct bucket *b)
{
	for (int i = 0; i < b->nrefs; i++)
		refs_add(f->refs, &f->nrefs, &b->refs[i]);
	f->nprimary = f->nrefs;
	f->total += b->n;
}

#define ALSO_REFS 10 /* room kept for the connections a finding compares with */

/* The connections of b are what f compares its own with: after them. */
static void refs_also(struct diag_finding *f, const struct bucket *b)
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

static void title(struct diag_finding *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void title(struct diag_finding *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->title, sizeof(f->title), fmt, ap);
	va_end(ap);
}

static const struct bucket *find_bucket(const struct diag *d, int kind,
					uint8_t family, const struct lt_endpoint *e)
{
	for (size_t i = 0; i < d->nb; i++)
		if (d->b[i].kind == kind &&
		    same_ep(d->b[i].family, &d->b[i].server, family, e))
			return &d->b[i];
	return NULL;
}

/* An answered bucket on the same port but another address: preferably
 * the other family on loopback (the 127.0.0.1 vs ::1 mix-up). */
static const struct bucket *answered_elsewhere(const struct diag *d,
					       const struct bucket *r, int *cross)
{
	const struct bucket *best = NULL;
	*cross = 0;
	for (size_t i = 0; i < d->nb; i++) {
		const struct bucket *a = &d->b[i];
		if (a->kind != BK_ANSWERED || a->server.port != r->server.port ||
		    same_ep(a->family, &a->server, r->family, &r->server))
			continue;
		if (lt_cross_family(a->family, a->server.addr, r->family, r->server.addr)) {
			*cross = 1;
			return a;
		}
		if (!best)
			best = a;
	}
	return best;
}

static void f_refused(struct fb *fb, const struct diag *d,
		      const struct diag_context *c, const struct bucket *b)
{
	char e1[FMT_EP_LEN], e2[FMT_EP_LEN];
	char t1[FMT_TIME_LEN], t2[FMT_TIME_LEN], t3[FMT_TIME_LEN];
	const uint16_t port = b->server.port;
	const struct bucket *same = find_bucket(d, BK_ANSWERED, b->family, &b->server);
	int cross = 0;
	const struct bucket *other = answered_elsewhere(d, b, &cross);
	bool no_socket = b->rst_n == b->n && !strcmp(b->rst_name, "NO_SOCKET");
	struct diag_finding *f;
	struct sbuf *t = &fb->text, *x = &fb->next;

	ep_str(e1, b->family, &b->server);

	/* Live: the listener list says what was there, at the start and at
	 * the end. When it shows nothing but the capture has answers from
	 * this port, a listener came and went in between: the capture's
	 * evidence below says more than the lists. */
	const struct listener *cs = NULL, *ce = NULL, *any = NULL;
	if (listeners_known(c)) {
		if (c->nstart > 0)
			cs = listener_find_taker(c->start, c->nstart, b->family, b->server.addr, port);
		if (c->nend > 0)
			ce = listener_find_taker(c->end, c->nend, b->family, b->server.addr, port);
		if (c->nend > 0)
			any = lst_on_port(c->end, c->nend, port);
		if (!any && c->nstart > 0)
			any = lst_on_port(c->start, c->nstart, port);
	}
	if (listeners_known(c) && (any || (!same && !other))) {
		if (!cs && !ce && any && any->family != b->family) {
			if (!(f = fb_begin(fb, "refused-other-family", DIAG_ERROR)))
				return;
			title(f, "Refused on %s `%s`: the server listens on %s only",
			      family_name(b->family), e1, family_name(any->family));
			sbuf_printf(t, "%" PRIu64 " connection attempt%s to `%s` got a reset (RST) in reply to the SYN. Nothing listened on that address, but a socket listens on the same port over %s: ",
				    b->n, s_(b->n), e1, family_name(any->family));
			put_listener(t, any);
			sbuf_puts(t, ".");
		} else if (!cs && !ce && any) {
			if (!(f = fb_begin(fb, "refused-other-address", DIAG_ERROR)))
				return;
			title(f, "Refused on `%s`: port %u listens on another address only",
			      e1, port);
			sbuf_printf(t, "%" PRIu64 " connection attempt%s to `%s` got a reset (RST) in reply to the SYN. Port %u has a listener, but on another address: ",
				    b->n, s_(b->n), e1, port);
			put_listener(t, any);
			sbuf_puts(t, ".");
		} else if (!cs && !ce) {
			if (!(f = fb_begin(fb, "refused", DIAG_ERROR)))
				return;
			title(f, "Refused: nothing listens on `%s`", e1);
			sbuf_printf(t, "%" PRIu64 " connection attempt%s to `%s` got a reset (RST) in reply to the SYN. No socket listened on port %u at the start or at the end of the run, and no connection to it got a SYN-ACK.",
				    b->n, s_(b->n), e1, port);
		} else if (!cs) {
			if (!(f = fb_begin(fb, "refused-before-listening", DIAG_ERROR)))
				return;
			title(f, "Refused until the server listened on `%s`", e1);
			sbuf_printf(t, "%" PRIu64 " connection attempt%s to `%s` got a reset (RST) in reply to the SYN. No socket listened there when the run started; at the end one did: ",
				    b->n, s_(b->n), e1);
			put_listener(t, ce);
			sbuf_puts(t, ". The attempts came before the server was ready.");
		} else {
			if (!(f = fb_begin(fb, "refused-while-listening", DIAG_ERROR)))
				return;
			title(f, "Refused although a socket listens on `%s`", e1);
			sbuf_printf(t, "%" PRIu64 " connection attempt%s to `%s` got a reset (RST) in reply to the SYN, yet a socket listened for it at the start%s of the run: ",
				    b->n, s_(b->n), e1, ce ? " and at the end" : "");
			put_listener(t, cs);
			sbuf_puts(t, ". Either the listener was gone for a moment (a restart), or a firewall rule rejects these SYNs with a reset.");
		}
		put_kernel(t, b, 0, 1);
		refs_from(f, b);
		if (!strcmp(f->id, "refused-other-family")) {
			sbuf_puts(x, "Make the server listen on both families (both 127.0.0.1 and ::1, or :: without IPV6_V6ONLY), or point the client at ");
			put_listener_ep(x, any);
			sbuf_printf(x, "; a client that dials `localhost` may try %s first (see /etc/hosts).",
				    b->family == 4 ? "127.0.0.1" : "::1");
		} else if (!strcmp(f->id, "refused-other-address")) {
			sbuf_printf(x, "Make the server listen on `%s` too (or on the wildcard address), or point the client at ", e1);
			put_listener_ep(x, any);
			sbuf_puts(x, ".");
		} else if (!strcmp(f->id, "refused")) {
			sbuf_printf(x, "Nothing listens on `%s`; is the server running, and is it configured for this port?", e1);
		} else if (!strcmp(f->id, "refused-before-listening")) {
			sbuf_puts(x, "Start the client once the server listens, or make it retry refused connections after a short delay.");
		} else {
			sbuf_printf(x, "Check whether the server restarted around %s, and `nft list ruleset` (or `iptables -S`) for a rule that rejects port %u with a TCP reset.",
				    hms(t1, b->t_min), port);
		}
		fb_end(fb, f);
		return;
	}

	/* A capture: what answered on that port, and when. */
	if (cross && !same) {
		ep_str(e2, other->family, &other->server);
		if (!(f = fb_begin(fb, "refused-other-family", DIAG_ERROR)))
			return;
		title(f, "Refused on %s `%s`, but `%s` answered",
		      family_name(b->family), e1, e2);
		sbuf_printf(t, "%" PRIu64 " connection attempt%s to `%s` got a reset (RST) in reply to the SYN, while %" PRIu64 " connection%s to `%s` on the same port got a SYN-ACK. So a server was running on port %u, but listening on %s only",
			    b->n, s_(b->n), e1, other->n, s_(other->n), e2, port,
			    family_name(other->family));
		if (other->family == 6)
			sbuf_puts(t, " (bound to ::1, or an IPv6 socket with IPV6_V6ONLY), not on 127.0.0.1.");
		else
			sbuf_puts(t, " (bound to 127.0.0.1 or 0.0.0.0), not on ::1.");
		if (other->t_min > b->t_max)
			sbuf_printf(t, " %s after the %s, so a server that started in between (after %s) would look the same; one more attempt to `%s` tells them apart.",
				    other->n == 1 ? "The answer came" : "All the answers came",
				    b->n == 1 ? "refusal" : "refusals", hms(t1, b->t_max), e1);
		put_kernel(t, b, 0, 1);
		refs_from(f, b);
		refs_also(f, other);
		sbuf_printf(x, "Make the server listen on both families (both 127.0.0.1 and ::1, or :: without IPV6_V6ONLY), or make the client connect to `%s`; a client that dials `localhost` may try %s first (see /etc/hosts).",
			    e2, b->family == 4 ? "127.0.0.1" : "::1");
		fb_end(fb, f);
		return;
	}
	if (same) {
		const char *id;
		if (b->t_max < same->t_min)
			id = "refused-before-listening";
		else if (b->t_min > same->t_max)
			id = "refused-after-listening";
		else
			id = "refused-intermittent";
		if (!(f = fb_begin(fb, id, DIAG_ERROR)))
			return;
		if (!strcmp(id, "refused-before-listening")) {
			title(f, "Refused until the server listened on `%s`", e1);
			if (b->n == 1)
				sbuf_printf(t, "The first connection attempt to `%s` (at %s) got a reset (RST) in reply to the SYN",
					    e1, hms(t1, b->t_min));
			else
				sbuf_printf(t, "The first %" PRIu64 " connection attempts to `%s` (%s to %s) got a reset (RST) in reply to the SYN",
					    b->n, e1, hms(t1, b->t_min), hms(t2, b->t_max));
			sbuf_printf(t, "; %" PRIu64 " later connection%s (from %s) got a SYN-ACK. The server was not listening yet when the first %s came.",
				    same->n, s_(same->n), hms(t3, same->t_min),
				    b->n == 1 ? "attempt" : "attempts");
			sbuf_puts(x, "Start the client once the server listens, or make it retry refused connections after a short delay.");
		} else if (!strcmp(id, "refused-after-listening")) {
			title(f, "`%s` stopped listening: refused after earlier connections got in", e1);
			sbuf_printf(t, "%" PRIu64 " connection%s to `%s` got a SYN-ACK until %s; the %" PRIu64 " attempt%s after that (from %s) got a reset (RST) in reply to the SYN. The listener went away: the server stopped, crashed or closed its listening socket.",
				    same->n, s_(same->n), e1, hms(t1, same->t_max), b->n,
				    s_(b->n), hms(t2, b->t_min));
			sbuf_printf(x, "Check whether the server exited or restarted around %s (its log, `journalctl`).",
				    hms(t1, b->t_min));
		} else {
			title(f, "`%s` refused some connections while accepting others", e1);
			sbuf_printf(t, "%" PRIu64 " connection attempt%s to `%s` got a reset (RST) in reply to the SYN, while %" PRIu64 " other%s to the same address, at times in between, got a SYN-ACK. The listener was not there the whole time (restarts), or a firewall rule rejects some of the connections with a reset.",
				    b->n, s_(b->n), e1, same->n, s_(same->n));
			sbuf_printf(x, "Check the server for restarts between %s and %s, and `nft list ruleset` (or `iptables -S`) for a reject rule on port %u.",
				    hms(t1, b->t_min), hms(t2, b->t_max), port);
		}
		put_kernel(t, b, 0, 1);
		refs_from(f, b);
		refs_also(f, same);
		fb_end(fb, f);
		return;
	}

	if (!(f = fb_begin(fb, "refused", DIAG_ERROR)))
		return;
	if (no_socket)
		title(f, "Refused: nothing listens on `%s`", e1);
	else
		title(f, "Refused: nothing answered on `%s`", e1);
	sbuf_printf(t, "%" PRIu64 " connection attempt%s to `%s` got a reset (RST) in reply to the SYN, ",
		    b->n, s_(b->n), e1);
	put_range(t, b->lat_min, b->lat_max);
	sbuf_puts(t, " after it; no connection to this address was accepted in the capture.");
	if (no_socket)
		sbuf_puts(t, " The kernel's reset reason was `NO_SOCKET`: no socket listened on this address and port.");
	else
		sbuf_printf(t, " %s the kernel saying no socket listens on this address and port (a firewall rule that rejects with a TCP reset looks the same).",
			    lt_addr_loopback(b->family, b->server.addr) ? "On loopback that is" : "That is normally");
	if (other) {
		ep_str(e2, other->family, &other->server);
		sbuf_printf(t, " The same port did answer on `%s` (%" PRIu64 " connection%s).",
			    e2, other->n, s_(other->n));
	}
	if (!no_socket)
		put_kernel(t, b, 0, 1);
	refs_from(f, b);
	sbuf_printf(x, "%s `%s`; is the server running, and is it configured for this port? On its machine `ss -ltnp 'sport = :%u'` shows what listens on port %u.",
		    no_socket ? "Nothing listens on" : "Nothing answered on", e1, port, port);
	fb_end(fb, f);
}

static void f_unanswered(struct fb *fb, const struct diag *d,
			 const struct diag_context *c, const struct bucket *b)
{
	char e1[FMT_EP_LEN], dur[24];
	const uint16_t port = b->server.port;
	const struct bucket *same = find_bucket(d, BK_ANSWERED, b->family, &b->server);
	uint64_t known = b->nf + b->ovf + b->drop_other;
	const struct listener *ls = NULL, *le = NULL;
	bool queue_full = false; /* the listener list shows it */
	struct diag_finding *f;
	struct sbuf *t = &fb->text, *x = &fb->next;

	ep_str(e1, b->family, &b->server);
	if (listeners_known(c)) {
		if (c->nstart > 0)
			ls = listener_find_taker(c->start, c->nstart, b->family, b->server.addr, port);
		if (c->nend > 0)
			le = listener_find_taker(c->end, c->nend, b->family, b->server.addr, port);
		queue_full = (ls && ls->queued > ls->backlog) ||
			     (le && le->queued > le->backlog);
	}
	if (!(f = fb_begin(fb, "unanswered", DIAG_ERROR)))
		return;
	if (b->nf == b->n)
		title(f, "SYNs to `%s` dropped by a firewall rule", e1);
	else if (b->ovf == b->n || (!known && queue_full))
		title(f, "SYNs to `%s` dropped: the listener's accept queue is full", e1);
	else
		title(f, "No answer to SYNs on `%s`", e1);

	sbuf_printf(t, "%" PRIu64 " connection attempt%s to `%s` sent SYNs and got no answer at all: no SYN-ACK, no reset. %s %u SYN%s",
		    b->n, s_(b->n), e1, b->n == 1 ? "The client sent" : "The clients sent up to",
		    b->syn_max, s_(b->syn_max));
	if (b->syn_max > 1)
		sbuf_printf(t, " over %s", fmt_dur(dur, (int64_t)b->span_max));
	if (b->gave_up == b->n)
		sbuf_puts(t, ", then gave up.");
	else if (b->gave_up)
		sbuf_printf(t, "; %" PRIu64 " gave up before the capture ended.", b->gave_up);
	else
		sbuf_puts(t, ".");
	if (b->syn_max == 1 && b->gave_up < b->n) {
		if (c->t_end && c->t_end - b->t_max < 1000000000ull)
			sbuf_printf(t, " The capture ended %s after the last SYN, before a client would send it again.",
				    fmt_dur(dur, (int64_t)(c->t_end - b->t_max)));
		else
			sbuf_printf(t, " The client%s did not send the SYN again, as a kernel would after about a second: a client with a very short timeout, or a scanner.",
				    s_(b->n));
	}

	put_kernel(t, b, 1, 0);
	if (known && known < b->n)
		sbuf_printf(t, " For the other %" PRIu64 " the kernel gave no reason.",
			    b->n - known);

	if (!b->with_kctx && c->kernel) {
		sbuf_puts(t, " The kernel gave no drop reason for these SYNs; a full accept queue drops SYNs that way, while a firewall rule would show `NETFILTER_DROP`.");
	} else if (!b->with_kctx && !known) {
		if (listeners_known(c)) {
			if (!ls && !le && same) {
				sbuf_printf(t, " No socket listened on `%s` at the start or the end of the run, but some connections got a SYN-ACK, so one came and went in between; what it did with these SYNs the lists cannot tell.",
					    e1);
			} else if (!ls && !le) {
				sbuf_printf(t, " No socket listened on `%s` at the start or the end of the run, and no connection to it got a SYN-ACK. Without a listener the kernel answers a SYN with a reset; so unless one came and went in between, something dropped the SYNs before TCP saw them, most likely a firewall rule.",
					    e1);
			} else {
				const struct listener *l = le ? le : ls;
				sbuf_puts(t, " A socket listens there: ");
				put_listener(t, l);
				sbuf_puts(t, ".");
				if (queue_full)
					sbuf_puts(t, " More connections waited for accept() than its backlog allows: its accept queue was full, and a full queue drops new SYNs.");
				else
					sbuf_puts(t, " Its accept queue was not full when lotrace looked, which points to a firewall rule, unless the queue filled up only in between.");
			}
			if (c->c_start.overflows >= 0 && c->c_end.overflows > c->c_start.overflows)
				sbuf_printf(t, " The kernel's ListenOverflows counter (all listeners on this machine) rose by %" PRId64 " during the run.",
					    c->c_end.overflows - c->c_start.overflows);
		} else {
			sbuf_puts(t, " A packet capture cannot tell a firewall rule that drops the SYNs from a listener whose accept queue is full: both look exactly like this.");
		}
	}
	if (same && same->established && (ls || le)) {
		if (same->silent == same->established)
			sbuf_printf(t, " The server never sent a byte, a FIN or a reset on the %" PRIu64 " connection%s that did complete the handshake, which fits a server that does not call accept().",
				    same->established, s_(same->established));
	} else if (same && same->established) {
		sbuf_printf(t, " %" PRIu64 " other connection%s to `%s` did complete the handshake, so something listens there",
			    same->established, s_(same->established), e1);
		if (same->silent == same->established)
			sbuf_printf(t, "; the server never sent a byte, a FIN or a reset on %s, which fits a server that does not call accept(): its queue fills up and further SYNs are dropped.",
				    same->established == 1 ? "it" : "any of them");
		else
			sbuf_puts(t, "; a rule that matches only some connections (by source port, for example) or a queue that was full only for a while would both fit.");
	}
	refs_from(f, b);

	if (b->nf == b->n) {
		sbuf_printf(x, "Find the rule: `nft list ruleset` (or `iptables -S`), and look for a drop on port %u.", port);
	} else if (b->ovf == b->n || (!known && queue_full)) {
		sbuf_printf(x, "The server must accept() faster or listen with a larger backlog (listen(fd, N), capped by net.core.somaxconn); `ss -ltn 'sport = :%u'` shows Recv-Q (waiting) against Send-Q (backlog).",
			    port);
	} else {
		sbuf_printf(x, "Check both: `nft list ruleset` (or `iptables -S`) for a rule dropping port %u, and `ss -ltn 'sport = :%u'`, where a Recv-Q above Send-Q means the accept queue is full; `nstat -az TcpExtListenOverflows` counts overflows.",
			    port, port);
		if (!c->kernel)
			sbuf_printf(x, " Live, `sudo lotrace --backend ebpf --port %u` tells the two apart.", port);
	}
	fb_end(fb, f);
}

static void f_half_open(struct fb *fb, const struct diag_context *c,
			const struct bucket *b)
{
	char e1[FMT_EP_LEN], dur[24];
	const uint16_t port = b->server.port;
	struct diag_finding *f;
	struct sbuf *t = &fb->text, *x = &fb->next;

	(void)c;
	ep_str(e1, b->family, &b->server);
	if (!(f = fb_begin(fb, "half-open", DIAG_ERROR)))
		return;
	title(f, "Handshake never completed on `%s`: SYN-ACK sent, final ACK never seen", e1);
	sbuf_printf(t, "In %" PRIu64 " connection%s to `%s` the server answered the SYN with a SYN-ACK",
		    b->n, s_(b->n), e1);
	if (b->syn_max > 1)
		sbuf_printf(t, " and re-sent it %s%u time%s over %s",
			    b->n == 1 ? "" : "up to ", b->syn_max - 1, s_(b->syn_max - 1),
			    fmt_dur(dur, (int64_t)b->span_max));
	sbuf_puts(t, ", but the client's final ACK never appeared.");
	put_kernel(t, b, 1, 1);
	if (!b->nf && !b->ovf && !b->drop_other)
		sbuf_puts(t, " Either the ACK was lost before it reached the capture (a firewall rule on the client's side dropping non-SYN segments, for example), or the client never sent it (it gave up, or died). A full accept queue looks different: the ACK is in the capture and the server re-sends its SYN-ACK anyway.");
	refs_from(f, b);
	if (b->ovf == b->n)
		sbuf_printf(x, "The server must accept() faster or listen with a larger backlog; `ss -ltn 'sport = :%u'` shows Recv-Q (waiting) against Send-Q (backlog).", port);
	else
		sbuf_printf(x, "Look for rules that drop ACKs or `ct state invalid` on port %u, on the client's side too: `nft list ruleset` (or `iptables -S`); check that the client process is still alive.",
			    port);
	fb_end(fb, f);
}

static void f_synack_retrans(struct fb *fb, const struct bucket *b)
{
	char e1[FMT_EP_LEN];
	const uint16_t port = b->server.port;
	struct diag_finding *f;
	struct sbuf *t = &fb->text, *x = &fb->next;
	uint64_t before = b->n - b->after_ack;

	ep_str(e1, b->family, &b->server);
	if (!(f = fb_begin(fb, "synack-retransmitted", DIAG_WARNING)))
		return;
	title(f, "SYN-ACK re-sent on `%s`", e1);
	sbuf_printf(t, "In %" PRIu64 " connection%s to `%s` the server sent its SYN-ACK more than once (%s%u times) before the connection got going.",
		    b->n, s_(b->n), e1, b->n == 1 ? "" : "up to ", b->syn_max);
	if (b->after_ack)
		sbuf_printf(t, " In %" PRIu64 " of them it re-sent it after the client's ACK was already in the capture: the listener discarded that ACK, which is what Linux does when the listener's accept queue is full (it counts ListenOverflows); the handshake completes only once a slot frees up.",
			    b->after_ack);
	if (before)
		sbuf_printf(t, " In %" PRIu64 " of them the client's ACK came only after the re-sent SYN-ACK: the first SYN-ACK or ACK was lost or late.",
			    before);
	put_kernel(t, b, 1, 0);
	refs_from(f, b);
	sbuf_printf(x, "`ss -ltn 'sport = :%u'` (a Recv-Q above Send-Q means the accept queue is full) and `nstat -az TcpExtListenOverflows`; the server must accept() faster or use a larger backlog.",
		    port);
	fb_end(fb, f);
}

static void f_syn_retrans(struct fb *fb, const struct bucket *b)
{
	char e1[FMT_EP_LEN];
	const uint16_t port = b->server.port;
	struct diag_finding *f;
	struct sbuf *t = &fb->text, *x = &fb->next;

	ep_str(e1, b->family, &b->server);
	if (!(f = fb_begin(fb, "syn-retransmitted", DIAG_WARNING)))
		return;
	title(f, "SYNs re-sent before `%s` answered", e1);
	sbuf_printf(t, "%" PRIu64 " connection%s to `%s` got an answer only after the client re-sent its SYN (%s%u SYNs; the SYN-ACK came ",
		    b->n, s_(b->n), e1, b->n == 1 ? "" : "up to ", b->syn_max);
	put_range(t, b->lat_min, b->lat_max);
	sbuf_puts(t, " after the first SYN). The first SYN got no answer: a listener whose accept queue was full for a moment, a firewall rule that drops or rate-limits some SYNs, or a busy server.");
	put_kernel(t, b, 1, 0);
	refs_from(f, b);
	sbuf_printf(x, "`nstat -az TcpExtListenOverflows TcpExtListenDrops` shows whether accept queues overflowed; `nft list ruleset` for rate limits on port %u.",
		    port);
	fb_end(fb, f);
}

static void f_reset_request(struct fb *fb, const struct bucket *b)
{
	char e1[FMT_EP_LEN], t1[FMT_TIME_LEN];
	struct diag_finding *f;
	struct sbuf *t = &fb->text, *x = &fb->next;

	ep_str(e1, b->family, &b->server);
	if (!(f = fb_begin(fb, "reset-after-request", DIAG_ERROR)))
		return;
	title(f, "Server reset the connection right after the request on `%s`", e1);
	sbuf_printf(t, "In %" PRIu64 " connection%s to `%s` the handshake completed and the client sent its request (",
		    b->n, s_(b->n), e1);
	put_bytes_range(t, b->req_min, b->req_max);
	sbuf_puts(t, "); the server answered with a reset instead of data, ");
	put_range(t, b->lat_min, b->lat_max);
	sbuf_puts(t, " after the request.");
	if (b->lat_max < 1000000000ull)
		sbuf_puts(t, " A reset that fast is the server rejecting what it got: the wrong protocol (TLS to a plain-text port or the reverse, another protocol or version) or bad credentials; or it failed while handling the request.");
	else
		sbuf_puts(t, " A reset that late looks more like a server-side timeout than an outright rejection.");
	put_kernel(t, b, 1, 1);
	refs_from(f, b);
	sbuf_printf(x, "The server's log %s%s should say why it dropped the request; check that the client speaks what the server expects (TLS or not, protocol version, credentials).",
		    b->n == 1 ? "at " : "from ", hms(t1, b->t_min));
	fb_end(fb, f);
}

static void put_phases(struct sbuf *t, const struct bucket *b)
{
	static const char *const words[RST_PHASES] = {
		[LT_RST_NONE] = "at an unknown point",
		[LT_RST_HANDSHAKE] = "during the handshake",
		[LT_RST_BEFORE_DATA] = "after the handshake, before any data",
		[LT_RST_AFTER_DATA] = "after data was exchanged",
		[LT_RST_AFTER_FIN] = "after a FIN",
	};
	const char *sep = ": ";
	int kinds = 0;
	for (int p = 0; p < RST_PHASES; p++)
		kinds += b->phase[p] > 0;
	for (int p = 0; p < RST_PHASES; p++) {
		if (!b->phase[p])
			continue;
		if (kinds == 1)
			sbuf_printf(t, " %s", words[p]);
		else
			sbuf_printf(t, "%s%" PRIu64 " %s", sep, b->phase[p], words[p]);
		sep = ", ";
	}
	sbuf_putc(t, '.');
}

static int main_phase(const struct bucket *b)
{
	int best = 0;
	for (int p = 1; p < RST_PHASES; p++)
		if (b->phase[p] > b->phase[best])
			best = p;
	return best;
}

/* What a reset by one side says; the rule is the same for both sides. */
struct reset_words {
	const char *id, *title, *lead, *tail; /* "... on N connections to `X`" */
	const char *phase[LT_RST_PHASE_COUNT]; /* by main phase; NULL: nothing */
	const char *next_harmless;             /* NULL: the usual next step */
	const char *next;                      /* printf: "around "/"from ", time */
};

static const struct reset_words reset_server_words = {
	.id = "reset-by-server",
	.title = "Server reset connections on `%s`",
	.lead = "The server sent a reset on",
	.tail = "",
	.phase = {
		[LT_RST_HANDSHAKE] = " A reset after the server's own SYN-ACK usually means the listener was closed while the connection waited in its accept queue.",
		[LT_RST_BEFORE_DATA] = " The server accepted and aborted at once (a connection limit or access rule, close() with SO_LINGER 0), or its listener closed with the connection still waiting in the accept queue.",
		[LT_RST_AFTER_DATA] = " It aborted in the middle of the exchange: an application error, a timeout, or a close() with unread data.",
		[LT_RST_AFTER_FIN] = " A reset after a FIN is usually data arriving at a socket that was already closed; often harmless.",
	},
	.next_harmless = NULL,
	.next = "The server's log %s%s should say why it aborted.",
};

static const struct reset_words reset_client_words = {
	.id = "reset-by-client",
	.title = "Client reset connections to `%s`",
	.lead = "The client aborted",
	.tail = " with a reset",
	.phase = {
		[LT_RST_HANDSHAKE] = " A client that resets during the handshake gave up waiting, or its connect() was interrupted.",
		[LT_RST_BEFORE_DATA] = " The client ended these connections abruptly: a client-side timeout, a process that exited or was killed, or a close() with SO_LINGER 0 or with unread data.",
		[LT_RST_AFTER_DATA] = " The client ended these connections abruptly: a client-side timeout, a process that exited or was killed, or a close() with SO_LINGER 0 or with unread data.",
		[LT_RST_AFTER_FIN] = " A reset after a FIN is usually data arriving at a socket the client had already closed; often harmless.",
	},
	.next_harmless = "Nothing to do unless the client reports an error.",
	.next = "Check the client's timeouts and its log %s%s; a connection the client aborted itself does not point at the server.",
};

/* Resets by one side (server or client): the same rule, its own words. */
static void f_reset_side(struct fb *fb, const struct bucket *b,
			 const struct reset_words *rw)
{
	char e1[FMT_EP_LEN], t1[FMT_TIME_LEN];
	struct diag_finding *f;
	struct sbuf *t = &fb->text, *x = &fb->next;
	bool harmless = b->phase[LT_RST_AFTER_FIN] == b->n;
	int phase = main_phase(b);

	ep_str(e1, b->family, &b->server);
	if (!(f = fb_begin(fb, rw->id, harmless ? DIAG_INFO : DIAG_WARNING)))
		return;
	title(f, rw->title, e1);
	sbuf_printf(t, "%s %" PRIu64 " connection%s to `%s`%s", rw->lead, b->n, s_(b->n),
		    e1, rw->tail);
	put_phases(t, b);
	if (phase != LT_RST_NONE && rw->phase[phase])
		sbuf_puts(t, rw->phase[phase]);
	put_kernel(t, b, 1, 1);
	refs_from(f, b);
	if (harmless && rw->next_harmless)
		sbuf_puts(x, rw->next_harmless);
	else
		sbuf_printf(x, rw->next, b->n == 1 ? "around " : "from ", hms(t1, b->t_min));
	fb_end(fb, f);
}

static void f_half_closed(struct fb *fb, const struct diag_context *c,
			  const struct bucket *b)
{
	char e1[FMT_EP_LEN];
	const uint16_t port = b->server.port;
	struct diag_finding *f;
	struct sbuf *t = &fb->text, *x = &fb->next;
	bool silent = b->silent && b->silent == b->client_fin;

	ep_str(e1, b->family, &b->server);
	if (!(f = fb_begin(fb, silent ? "server-silent" : "half-closed",
			   silent ? DIAG_WARNING : DIAG_INFO)))
		return;
	if (silent)
		title(f, "Server never answered or closed connections on `%s`", e1);
	else
		title(f, "Connections to `%s` half-closed at the end", e1);
	sbuf_printf(t, "%" PRIu64 " connection%s to `%s` %s half-closed when the %s:",
		    b->n, s_(b->n), e1, b->n == 1 ? "was" : "were",
		    c->partial ? "report was written" : c->live ? "run ended" : "capture ended");
	if (b->client_fin == b->n)
		sbuf_puts(t, " the client had closed its side (FIN), the server had not.");
	else if (b->server_fin == b->n)
		sbuf_puts(t, " the server had closed its side (FIN), the client had not.");
	else
		sbuf_printf(t, " on %" PRIu64 " the client had closed its side (FIN) and the server had not, on %" PRIu64 " the other way round.",
			    b->client_fin, b->server_fin);
	if (b->silent)
		sbuf_printf(t, " %s the server never sent a byte, a FIN or a reset after the handshake, which fits a server that never accepted %s (not calling accept(), or stuck).",
			    b->silent == b->n ? (b->n == 1 ? "On it" : "On all of them") : "On some of them",
			    b->n == 1 ? "it" : "them");
	refs_from(f, b);
	if (silent)
		sbuf_printf(x, "Check that the server calls accept() and is not stuck: `ss -ltn 'sport = :%u'` (a Recv-Q above 0 means connections wait to be accepted), and a stack dump of the server.",
			    port);
	else
		sbuf_puts(x, "Nothing to fix if the other side closes later; capture for longer to see it.");
	fb_end(fb, f);
}

static void f_open(struct fb *fb, const struct diag_context *c,
		   const struct bucket *b)
{
	char e1[FMT_EP_LEN], dur[24];
	struct diag_finding *f;
	struct sbuf *t = &fb->text, *x = &fb->next;

	ep_str(e1, b->family, &b->server);
	if (!(f = fb_begin(fb, "still-open", DIAG_INFO)))
		return;
	title(f, "Connections to `%s` still open at the end", e1);
	sbuf_printf(t, "%" PRIu64 " connection%s to `%s` completed the handshake and %s still open when the %s (%s %s). Nothing is wrong with that by itself: pooled, keep-alive and streaming connections look like this.",
		    b->n, s_(b->n), e1, b->n == 1 ? "was" : "were",
		    c->partial ? "report was written" : c->live ? "run ended" : "capture ended",
		    b->n == 1 ? "after" : "the longest after", fmt_dur(dur, (int64_t)b->span_max));
	if (b->silent == b->n)
		sbuf_printf(t, " The server had not sent a byte on %s yet.", b->n == 1 ? "it" : "any of them");
	else if (b->silent)
		sbuf_printf(t, " On %" PRIu64 " of them the server had not sent a byte yet.", b->silent);
	refs_from(f, b);
	sbuf_puts(x, "If they should have ended, capture for longer to see how they close, and check idle timeouts and keep-alive on both sides.");
	fb_end(fb, f);
}

static void f_midstream(struct fb *fb, const struct bucket *b)
{
	char e1[FMT_EP_LEN];
	struct diag_finding *f;
	struct sbuf *t = &fb->text, *x = &fb->next;
	const char *sep = " At the end: ";

	ep_str(e1, b->family, &b->server);
	if (!(f = fb_begin(fb, "mid-stream", DIAG_INFO)))
		return;
	title(f, "Connections to `%s` started before the capture", e1);
	sbuf_printf(t, "%" PRIu64 " connection%s to `%s` %s already established when the capture started (no SYN seen), so %s cannot be judged; which side is the server was guessed from the port numbers.",
		    b->n, s_(b->n), e1, b->n == 1 ? "was" : "were",
		    b->n == 1 ? "its handshake" : "their handshakes");
	for (int v = 0; v < LT_V_COUNT; v++)
		if (b->outcome[v]) {
			if (b->n == 1)
				sbuf_printf(t, " At the end it was %s",
					    lt_verdict_name((enum lt_verdict)v));
			else
				sbuf_printf(t, "%s%" PRIu64 " %s", sep, b->outcome[v],
					    lt_verdict_name((enum lt_verdict)v));
			sep = ", ";
		}
	if (sep[0] == ',')
		sbuf_puts(t, ".");
	refs_from(f, b);
	sbuf_puts(x, "To see the handshakes, start the capture before the client connects.");
	fb_end(fb, f);
}

static void f_connecting(struct fb *fb, const struct bucket *b)
{
	char e1[FMT_EP_LEN];
	struct diag_finding *f;

	ep_str(e1, b->family, &b->server);
	if (!(f = fb_begin(fb, "connecting", DIAG_INFO)))
		return;
	title(f, "Attempts to `%s` still waiting for an answer", e1);
	sbuf_printf(&fb->text, "%" PRIu64 " connection attempt%s to `%s` had sent a SYN less than a second before this report and %s still waiting for an answer.",
		    b->n, s_(b->n), e1, b->n == 1 ? "was" : "were");
	refs_from(f, b);
	sbuf_puts(&fb->next, "Look again in a moment: an attempt that stays unanswered becomes a finding of its own.");
	fb_end(fb, f);
}

static const char *kind_label(int kind)
{
	switch ((enum bkind)kind) {
	case BK_REFUSED: return "Refused connections";
	case BK_UNANSWERED: return "Unanswered SYNs";
	case BK_HALF_OPEN: return "Half-open handshakes";
	case BK_RESET_REQUEST: return "Resets right after the request";
	case BK_SYNACK_RETRANS: return "Re-sent SYN-ACKs";
	case BK_SYN_RETRANS: return "Re-sent SYNs";
	case BK_RESET_SERVER: return "Server resets";
	case BK_RESET_CLIENT: return "Client resets";
	case BK_HALF_CLOSED: return "Half-closed connections";
	case BK_OPEN: return "Open connections";
	case BK_MIDSTREAM: return "Connections started before the capture";
	case BK_CONNECTING: return "Pending attempts";
	case BK_ANSWERED:
	case BK_COUNT:
		break;
	}
	return "Findings";
}

static enum diag_severity kind_severity(int kind)
{
	switch ((enum bkind)kind) {
	case BK_REFUSED:
	case BK_UNANSWERED:
	case BK_HALF_OPEN:
	case BK_RESET_REQUEST:
		return DIAG_ERROR;
	case BK_SYNACK_RETRANS:
	case BK_SYN_RETRANS:
	case BK_RESET_SERVER:
	case BK_RESET_CLIENT:
		return DIAG_WARNING;
	case BK_HALF_CLOSED:
	case BK_OPEN:
	case BK_MIDSTREAM:
	case BK_CONNECTING:
	case BK_ANSWERED:
	case BK_COUNT:
		break;
	}
	return DIAG_INFO;
}

static const char *kind_id(int kind)
{
	switch ((enum bkind)kind) {
	case BK_REFUSED: return "refused";
	case BK_UNANSWERED: return "unanswered";
	case BK_HALF_OPEN: return "half-open";
	case BK_RESET_REQUEST: return "reset-after-request";
	case BK_SYNACK_RETRANS: return "synack-retransmitted";
	case BK_SYN_RETRANS: return "syn-retransmitted";
	case BK_RESET_SERVER: return "reset-by-server";
	case BK_RESET_CLIENT: return "reset-by-client";
	case BK_HALF_CLOSED: return "half-closed";
	case BK_OPEN: return "still-open";
	case BK_MIDSTREAM: return "mid-stream";
	case BK_CONNECTING: return "connecting";
	case BK_ANSWERED:
	case BK_COUNT:
		break;
	}
	return "other";
}

/* Addresses beyond FINDINGS_PER_KIND of one kind: one finding lists them. */
static void f_more(struct fb *fb, int kind, const struct bucket *const *v, int n)
{
	struct diag_finding *f;
	uint64_t total = 0;

	if (!(f = fb_begin(fb, kind_id(kind), kind_severity(kind))))
		return;
	for (int i = 0; i < n; i++)
		total += v[i]->n;
	title(f, "%s on %d more address%s", kind_label(kind), n, n == 1 ? "" : "es");
	sbuf_printf(&fb->text, "The same as above for %" PRIu64 " connection%s to ", total, s_(total));
	for (int i = 0; i < n && i < 20; i++) {
		if (i)
			sbuf_puts(&fb->text, ", ");
		put_ep(&fb->text, v[i]->family, &v[i]->server);
	}
	if (n > 20)
		sbuf_printf(&fb->text, " and %d more", n - 20);
	sbuf_puts(&fb->text, ".");
	for (int i = 0; i < n; i++)
		refs_from(f, v[i]);
	sbuf_puts(&fb->next, "As above, for each address.");
	fb_end(fb, f);
}

static int cmp_bucket(const void *a, const void *b)
{
	const struct bucket *x = *(const struct bucket *const *)a;
	const struct bucket *y = *(const struct bucket *const *)b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->server.port != y->server.port)
		return x->server.port < y->server.port ? -1 : 1;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->server.addr, y->server.addr, 16);
}

/* One group's finding. Answered groups make none of their own: the
 * refused and unanswered findings cite them. */
static void bucket_finding(struct fb *fb, const struct diag *d,
			   const struct diag_context *c, const struct bucket *b)
{
	switch ((enum bkind)b->kind) {
	case BK_REFUSED: f_refused(fb, d, c, b); break;
	case BK_UNANSWERED: f_unanswered(fb, d, c, b); break;
	case BK_HALF_OPEN: f_half_open(fb, c, b); break;
	case BK_RESET_REQUEST: f_reset_request(fb, b); break;
	case BK_SYNACK_RETRANS: f_synack_retrans(fb, b); break;
	case BK_SYN_RETRANS: f_syn_retrans(fb, b); break;
	case BK_RESET_SERVER: f_reset_side(fb, b, &reset_server_words); break;
	case BK_RESET_CLIENT: f_reset_side(fb, b, &reset_client_words); break;
	case BK_HALF_CLOSED: f_half_closed(fb, c, b); break;
	case BK_OPEN: f_open(fb, c, b); break;
	case BK_MIDSTREAM: f_midstream(fb, b); break;
	case BK_CONNECTING: f_connecting(fb, b); break;
	case BK_ANSWERED:
	case BK_COUNT:
		break;
	}
}

/* Lost events: what they may hide. Comes first of all findings. */
static void f_events_lost(struct fb *fb, struct diag_finding *f, const struct diag *d,
			  const struct lt_source_stats *ss)
{
	struct sbuf *t = &fb->text;
	const struct bucket *l = &d->lost;
	uint64_t lost = ss ? ss->lost : 0;

	if (lost)
		title(f, "%" PRIu64 " event%s lost: some connections may be missing or incomplete",
		      lost, s_(lost));
	else
		title(f, "Events lost: some connections may be incomplete");
	if (lost) {
		sbuf_printf(t, "The source lost %" PRIu64 " event%s before lotrace could read them",
			    lost, s_(lost));
		if (ss->lost_kernel || ss->lost_iface)
			sbuf_printf(t, " (%" PRIu64 " in the kernel's buffer, %" PRIu64 " at the interface)",
				    ss->lost_kernel, ss->lost_iface);
		sbuf_puts(t, ".");
	} else {
		sbuf_puts(t, "The source lost events.");
	}
	if (l->n) {
		const char *sep = ": ";
		sbuf_printf(t, " %" PRIu64 " connection%s %s live while events were lost, so %s evidence may be incomplete",
			    l->n, s_(l->n), l->n == 1 ? "was" : "were", l->n == 1 ? "its" : "their");
		for (int v = 0; v < LT_V_COUNT; v++)
			if (d->lost_verdict[v]) {
				sbuf_printf(t, "%s%" PRIu64 " looked %s", sep, d->lost_verdict[v],
					    lt_verdict_name((enum lt_verdict)v));
				sep = ", ";
			}
		sbuf_puts(t, ". A lost SYN-ACK, ACK, FIN or RST makes a healthy connection look unanswered, half-open, open or mid-stream, so no finding below rests on them.");
		refs_from(f, l);
	}
	sbuf_puts(t, " Connections whose every event was lost are missing altogether: the counts in this report are lower bounds, and a problem may hide among the lost events.");
	sbuf_puts(&fb->next, "Watch fewer ports (`--port`), or give the capture a bigger buffer (`--ring-size` for eBPF), and run again.");
}

static void run_findings(struct fb *fb, const struct diag *d,
			 const struct diag_context *c)
{
	const struct lt_source_stats *ss = c->src;
	struct diag_finding *f;
	char w[160];

	if (ss && ss->read_error[0] && (f = fb_begin(fb, "input-ended-early", DIAG_WARNING))) {
		title(f, "The input ended early");
		sbuf_printf(&fb->text, "Reading stopped before the end: %s. This report covers what was read; connections that went on past that point look unfinished.",
			    ss->read_error);
		sbuf_puts(&fb->next, "If the file was cut while copying, copy it again; a capture still being written ends like this too.");
		fb_end(fb, f);
	}
	if (((ss && ss->lost) || d->lost.n) && (f = fb_begin(fb, "events-lost", DIAG_WARNING))) {
		f_events_lost(fb, f, d, ss);
		fb_end(fb, f);
	}
	if (ss) {
		uint64_t probs = dec_stats_problems(&ss->dec);
		if (probs && (f = fb_begin(fb, "decode-problems", DIAG_WARNING))) {
			uint64_t trunc = 0;
			const char *sep = " (";
			for (int l = 0; l < DEC_LAYER_COUNT; l++)
				trunc += ss->dec.problems[DEC_TRUNCATED][l];
			title(f, "%" PRIu64 " frame%s could not be decoded", probs, s_(probs));
			sbuf_printf(&fb->text, "%" PRIu64 " of %" PRIu64 " frames could not be decoded",
				    probs, ss->dec.frames);
			for (int r = DEC_TRUNCATED; r <= DEC_UNSUPPORTED; r++)
				for (int l = 0; l < DEC_LAYER_COUNT; l++)
					if (ss->dec.problems[r][l]) {
						sbuf_printf(&fb->text, "%s%s %s: %" PRIu64, sep,
							    dec_result_name(r), dec_layer_name(l),
							    ss->dec.problems[r][l]);
						sep = ", ";
					}
			sbuf_puts(&fb->text, "). They are left out of the analysis; connections they belonged to may look incomplete.");
			if (trunc)
				sbuf_puts(&fb->next, "Capture whole packets (`tcpdump -s 0`) so headers are not cut short.");
			else
				sbuf_puts(&fb->next, "Check how the capture was made; if the frames look valid, attach the capture to a lotrace bug report.");
			fb_end(fb, f);
		}
	}
	if (c->flows && c->flows->evicted && (f = fb_begin(fb, "flows-evicted", DIAG_WARNING))) {
		title(f, "The connection table was full");
		sbuf_printf(&fb->text, "%" PRIu64 " connection%s had to be retired early to make room (capacity %u); their verdicts may be premature.",
			    c->flows->evicted, s_(c->flows->evicted), c->flows->capacity);
		sbuf_puts(&fb->next, "Raise `--max-flows`, or watch fewer ports.");
		fb_end(fb, f);
	}
	if (d->unbucketed && (f = fb_begin(fb, "findings-cut", DIAG_WARNING))) {
		title(f, "Too many different addresses to tell apart");
		sbuf_printf(&fb->text, "%" PRIu64 " connection%s went to more server addresses than the report keeps apart (%d); they count in the tables but are not in the findings.",
			    d->unbucketed, s_(d->unbucketed), MAX_BUCKETS);
		sbuf_puts(&fb->next, "Narrow the report with `--port`.");
		fb_end(fb, f);
	}
	if (!d->conns && (f = fb_begin(fb, "no-connections", DIAG_WARNING))) {
		const char *where = c->live ? "during the run" : "in the capture";
		w[0] = '\0';
		if (c->watched && c->watched->n) {
			size_t k = 0;
			for (int i = 0; i < c->watched->n && k < sizeof(w) - 8; i++)
				k += (size_t)snprintf(w + k, sizeof(w) - k, "%s%u",
						      i ? ", " : "", c->watched->list[i]);
		}
		title(f, "No connections seen");
		if (w[0])
			sbuf_printf(&fb->text, "No TCP connection to port%s %s %s.",
				    c->watched->n == 1 ? "" : "s", w, where);
		else
			sbuf_printf(&fb->text, "No TCP connection %s.", where);
		if (c->live)
			sbuf_puts(&fb->next, "Is the client connecting at all, and to this port? A proxy (the http_proxy/HTTPS_PROXY variables), another network namespace or container, or a different port keeps its SYNs off this interface.");
		else
			sbuf_puts(&fb->next, "Check the port (`--port`), and that the capture was taken where the traffic went (for loopback: `tcpdump -i lo`).");
		fb_end(fb, f);
	}
}

/* Warnings that do not stand against "nothing failed": delays that ended
 * well, and doubts about the input (said in the text). */
static bool benign_warning(const struct diag_finding *f, bool *delays, bool *input)
{
	static const char *const delay_ids[] = { "syn-retransmitted", "synack-retransmitted" };
	static const char *const input_ids[] = { "events-lost", "decode-problems",
						 "flows-evicted", "input-ended-early",
						 "findings-cut" };
	for (size_t i = 0; i < sizeof(delay_ids) / sizeof(delay_ids[0]); i++)
		if (!strcmp(f->id, delay_ids[i]))
			return (*delays = true);
	for (size_t i = 0; i < sizeof(input_ids) / sizeof(input_ids[0]); i++)
		if (!strcmp(f->id, input_ids[i]))
			return (*input = true);
	return false;
}

/* "Nothing wrong": every handshake seen completed, and nothing failed. */
static void f_clean(struct fb *fb, const struct diag *d)
{
	const struct bucket *g = &d->good;
	struct diag_finding *f;
	struct sbuf *t = &fb->text;
	bool delays = false, input = false;

	for (int i = 0; i < fb->n; i++)
		if (fb->v[i].severity == DIAG_ERROR ||
		    (fb->v[i].severity == DIAG_WARNING &&
		     !benign_warning(&fb->v[i], &delays, &input)))
			return;
	if (!g->n)
		return;
	if (!(f = fb_begin(fb, "no-problem", DIAG_INFO)))
		return;
	if (delays)
		title(f, "Nothing failed: every handshake completed, some only after retries");
	else
		title(f, "Nothing wrong found in the handshakes");
	if (g->n == d->conns && g->n == 1)
		sbuf_puts(t, "The one connection completed the handshake");
	else if (g->n == d->conns)
		sbuf_printf(t, "All %" PRIu64 " connections completed the handshake", g->n);
	else if (g->n == 1)
		sbuf_puts(t, "The one connection whose handshake is in the capture completed it");
	else
		sbuf_printf(t, "All %" PRIu64 " connections whose handshake is in the capture completed it",
			    g->n);
	if (d->verdict[LT_V_CLOSED] == g->n)
		sbuf_puts(t, " and closed normally");
	sbuf_puts(t, "; none was refused, left unanswered, stuck half-open or reset by the server.");
	if (d->rst_client_after_fin)
		sbuf_printf(t, " (%" PRIu64 " ended with a reset from the client after its FIN, which is harmless.)",
			    d->rst_client_after_fin);
	if (delays)
		sbuf_puts(t, " Some were slow to get going, though: see the re-sent SYNs or SYN-ACKs above.");
	if (input)
		sbuf_puts(t, " This holds for what lotrace could read: see the warnings about the input above.");
	refs_from(f, g);
	sbuf_puts(&fb->next, delays ? "Nothing failed in TCP; the re-sent SYNs or SYN-ACKs above explain slow connects, if that is the complaint."
				    : "Nothing to fix in TCP; if the application still misbehaves, look at what the two sides say to each other.");
	fb_end(fb, f);
}

int diag_findings(const struct diag *d, const struct diag_context *c,
		  struct diag_finding **out)
{
	struct fb fb;
	const struct bucket **v = NULL;
	size_t nv = 0;

	memset(&fb, 0, sizeof(fb));
	sbuf_init(&fb.text, 1u << 16);
	sbuf_init(&fb.next, 1u << 14);
	*out = NULL;
	if (d->nb) {
		v = malloc(d->nb * sizeof(*v));
		if (!v) {
			fb.oom = 1;
			goto out;
		}
	}
	for (size_t i = 0; i < d->nb; i++)
		if (d->b[i].kind != BK_ANSWERED)
			v[nv++] = &d->b[i];
	if (nv)
		qsort(v, nv, sizeof(*v), cmp_bucket);

	/* At most FINDINGS_PER_KIND addresses per kind get a finding each;
	 * the rest share one. */
	for (size_t i = 0; i < nv && !fb.oom;) {
		size_t j = i;
		while (j < nv && v[j]->kind == v[i]->kind)
			j++;
		size_t shown = j - i > FINDINGS_PER_KIND + 1 ? FINDINGS_PER_KIND : j - i;
		for (size_t k = i; k < i + shown; k++)
			bucket_finding(&fb, d, c, v[k]);
		if (shown < j - i)
			f_more(&fb, v[i]->kind, v + i + shown, (int)(j - i - shown));
		i = j;
	}
	if (!fb.oom)
		run_findings(&fb, d, c);
	if (!fb.oom)
		f_clean(&fb, d);
	if (!fb.oom) {
		/* Lost events first (they say what every other finding may
		 * miss), then most severe first, otherwise in the order made
		 * (qsort would not keep that order). */
		struct diag_finding *sorted = malloc((size_t)(fb.n ? fb.n : 1) * sizeof(*sorted));
		if (!sorted) {
			fb.oom = 1;
		} else {
			int k = 0;
			for (int i = 0; i < fb.n; i++)
				if (!strcmp(fb.v[i].id, "events-lost"))
					sorted[k++] = fb.v[i];
			for (int s = DIAG_ERROR; s <= DIAG_INFO; s++)
				for (int i = 0; i < fb.n; i++)
					if ((int)fb.v[i].severity == s &&
					    strcmp(fb.v[i].id, "events-lost"))
						sorted[k++] = fb.v[i];
			free(fb.v);
			fb.v = sorted;
		}
	}
out:
	free(v);
	sbuf_release(&fb.text);
	sbuf_release(&fb.next);
	if (fb.oom) {
		diag_findings_free(fb.v, fb.n);
		return -ENOMEM;
	}
	*out = fb.v;
	return fb.n;
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
