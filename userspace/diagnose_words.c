/* SPDX-License-Identifier: MIT */
/*
 * diagnose_words.c - the findings in plain words.
 *
 * Owns: the title, text and next step of every finding, written from the
 * facts a rule decided (struct diag_fact) and the run's context; the
 * plain-language glosses of kernel reset and drop reasons. Text may use
 * markdown `code` spans, which plain-text outputs strip.
 * Does not own: which finding fires, how severe it is, or on which
 * connections it rests (the rules, diagnose.c).
 */
#include "diagnose.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fmt.h"
#include "sbuf.h"

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
	snprintf(out, FMT_TIME_LEN, "%s.%06u", t, (unsigned)(ns % 1000000000ull / 1000u));
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
	static const struct {
		const char *name, *gloss;
	} g[] = {
		{ "NO_SOCKET", "no socket for this address and port" },
		{ "TCP_ABORT_ON_CLOSE",
		  "the application closed the socket with data still unread" },
		{ "TCP_ABORT_ON_LINGER", "the socket was closed while waiting for the peer's FIN" },
		{ "TCP_ABORT_ON_MEMORY", "the kernel was short of memory for closed sockets" },
		{ "TCP_ABORT_ON_DATA", "data arrived for a socket the application had closed" },
		{ "TCP_STATE", "the application aborted the connection (close with SO_LINGER 0, or "
			       "disconnect)" },
		{ "TCP_KEEPALIVE_TIMEOUT", "keep-alive probes went unanswered" },
		{ "TCP_TIMEWAIT_SOCKET", "the segment met a socket in TIME_WAIT" },
		{ "TCP_DISCONNECT_WITH_DATA",
		  "the application disconnected with data still queued" },
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
	static const struct {
		const char *name, *gloss;
	} g[] = {
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
static void put_kernel(struct sbuf *t, const struct diag_group *b, int drops, int resets)
{
	const char *g;

	if (drops && b->nf) {
		lead(t, b->nf, b->n);
		sbuf_printf(t,
			    " kernel's drop reason was `NETFILTER_DROP`%s: a firewall rule "
			    "(nftables/iptables) dropped the segment.",
			    all_of(b->nf, b->n));
	}
	if (drops && b->ovf) {
		lead(t, b->ovf, b->n);
		sbuf_printf(t, " kernel reported that the listener's accept queue was full%s",
			    all_of(b->ovf, b->n));
		if (b->ovf_backlog || b->ovf_queued_max) {
			sbuf_printf(t, " (backlog %u, up to %u waiting for accept()",
				    b->ovf_backlog, b->ovf_queued_max);
			if (b->ovf_pid > 0)
				sbuf_printf(t, "; the listener is %s[%d]", b->ovf_comm,
					    (int)b->ovf_pid);
			sbuf_putc(t, ')');
		}
		sbuf_putc(t, '.');
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
		sbuf_printf(t, " application's socket reported error %d (%s)%s.", b->err,
			    strerror(b->err), all_of(b->err_n, b->n));
	}
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

/* "run ended", "capture ended", "report was written" */
static const char *end_word(const struct diag_context *c)
{
	return c->partial ? "report was written" : c->live ? "run ended" : "capture ended";
}

/* The words of one finding: what it writes to. */
struct words {
	struct sbuf *title, *t, *x;
	char e1[FMT_EP_LEN]; /* the group's server address */
};

/* ---- refused ------------------------------------------------------------ */

/* Decided from the live listener lists. */
static void w_refused_live(struct words *w, const struct diag_fact *x)
{
	const struct diag_group *b = x->g;
	const struct listener *l = x->listener;
	const uint16_t port = b->server.port;
	struct sbuf *t = w->t, *nx = w->x;
	const char *e1 = w->e1;
	char t1[FMT_TIME_LEN];

	switch ((int)x->id) { /* the refused family only */
	case DIAG_REFUSED_OTHER_FAMILY:
		sbuf_printf(w->title, "Refused on %s `%s`: the server listens on %s only",
			    family_name(b->family), e1, family_name(l->family));
		sbuf_printf(t,
			    "%" PRIu64 " connection attempt%s to `%s` got a reset (RST) in reply "
			    "to the SYN. Nothing listened on that address, but a socket "
			    "listens on the same port over %s: ",
			    b->n, s_(b->n), e1, family_name(l->family));
		put_listener(t, l);
		sbuf_puts(t, ".");
		sbuf_puts(nx, "Make the server listen on both families (both 127.0.0.1 and ::1, or "
			      ":: without IPV6_V6ONLY), or point the client at ");
		put_listener_ep(nx, l);
		sbuf_printf(nx,
			    "; a client that dials `localhost` may try %s first (see /etc/hosts).",
			    b->family == 4 ? "127.0.0.1" : "::1");
		break;
	case DIAG_REFUSED_OTHER_ADDRESS:
		sbuf_printf(w->title, "Refused on `%s`: port %u listens on another address only",
			    e1, port);
		sbuf_printf(t,
			    "%" PRIu64
			    " connection attempt%s to `%s` got a reset (RST) in reply to the SYN. "
			    "Port %u has a listener, but on another address: ",
			    b->n, s_(b->n), e1, port);
		put_listener(t, l);
		sbuf_puts(t, ".");
		sbuf_printf(nx,
			    "Make the server listen on `%s` too (or on the wildcard address), or "
			    "point the client at ",
			    e1);
		put_listener_ep(nx, l);
		sbuf_puts(nx, ".");
		break;
	case DIAG_REFUSED_BEFORE_LISTENING:
		sbuf_printf(w->title, "Refused until the server listened on `%s`", e1);
		sbuf_printf(t,
			    "%" PRIu64
			    " connection attempt%s to `%s` got a reset (RST) in reply to the SYN. "
			    "No socket listened there when the run started; at the end one did: ",
			    b->n, s_(b->n), e1);
		put_listener(t, l);
		sbuf_puts(t, ". The attempts came before the server was ready.");
		sbuf_puts(nx, "Start the client once the server listens, or make it retry refused "
			      "connections after a short delay.");
		break;
	case DIAG_REFUSED_WHILE_LISTENING:
		sbuf_printf(w->title, "Refused although a socket listens on `%s`", e1);
		sbuf_printf(t,
			    "%" PRIu64
			    " connection attempt%s to `%s` got a reset (RST) in reply to the SYN, "
			    "yet a socket listened for it at the start%s of the run: ",
			    b->n, s_(b->n), e1, x->l_end ? " and at the end" : "");
		put_listener(t, l);
		sbuf_puts(t, ". Either the listener was gone for a moment (a restart), or a "
			     "firewall rule rejects these SYNs with a reset.");
		sbuf_printf(nx,
			    "Check whether the server restarted around %s, and `nft list ruleset` "
			    "(or `iptables -S`) for a rule that rejects port %u with a TCP reset.",
			    hms(t1, b->t_min), port);
		break;
	default: /* DIAG_REFUSED */
		sbuf_printf(w->title, "Refused: nothing listens on `%s`", e1);
		sbuf_printf(t,
			    "%" PRIu64
			    " connection attempt%s to `%s` got a reset (RST) in reply to the SYN. "
			    "No socket listened on port %u at the start or at the end of the run, "
			    "and no connection to it got a SYN-ACK.",
			    b->n, s_(b->n), e1, port);
		sbuf_printf(nx,
			    "Nothing listens on `%s`; is the server running, and is it configured "
			    "for this port?",
			    e1);
		break;
	}
	put_kernel(t, b, 0, 1);
}

/* "`mcp-server` (pid 4242, started 12:00:00.900211)", or "a process". */
static void put_proc(struct sbuf *b, const struct listen_ev *e)
{
	char t[FMT_TIME_LEN];

	if (e->l.pid <= 0) {
		sbuf_puts(b, "a process");
		return;
	}
	sbuf_printf(b, "`%s` (pid %d", e->l.comm, (int)e->l.pid);
	if (e->proc_start_ns)
		sbuf_printf(b, ", started %s", hms(t, e->proc_start_ns));
	sbuf_putc(b, ')');
}

/* "The connection attempt to `E` at T" / "The N connection attempts to `E`
 * (T1 to T2)" */
static void put_attempts(struct sbuf *t, const struct diag_group *b, const char *e1)
{
	char t1[FMT_TIME_LEN], t2[FMT_TIME_LEN];

	if (b->n == 1)
		sbuf_printf(t, "The connection attempt to `%s` at %s", e1, hms(t1, b->t_min));
	else
		sbuf_printf(t, "The %" PRIu64 " connection attempts to `%s` (%s to %s)", b->n, e1,
			    hms(t1, b->t_min), hms(t2, b->t_max));
}

/* Decided from the listener timeline (eBPF): listen() and close() of the
 * listening socket, with their process, around the refusals. */
static void w_refused_timeline(struct words *w, const struct diag_fact *x)
{
	const struct diag_group *b = x->g;
	const struct listen_ev *dn = x->ev_before, *up = x->ev_after;
	struct sbuf *t = w->t, *nx = w->x;
	const char *e1 = w->e1;
	char t1[FMT_TIME_LEN], t2[FMT_TIME_LEN], d[24];
	const char *last = b->n == 1 ? "" : " after the last refusal";

	switch ((int)x->id) {
	case DIAG_REFUSED_BEFORE_LISTENING:
		fmt_dur(d, (int64_t)(up->ts_ns - b->t_max));
		sbuf_printf(w->title, "Refused before the server started listening on `%s` (by %s)",
			    e1, d);
		put_attempts(t, b, e1);
		sbuf_printf(t,
			    " got a reset (RST) in reply to the SYN: nothing listened there yet. ");
		put_proc(t, up);
		sbuf_puts(t, " began listening on ");
		listener_format(t, &up->l, LISTENER_ENDPOINT, true);
		sbuf_printf(t, " at %s, %s later%s.", hms(t1, up->ts_ns), d, last);
		sbuf_puts(nx,
			  "Start the client once the server listens (wait for its port or a "
			  "readiness signal), or make it retry refused connections for a while.");
		break;
	case DIAG_REFUSED_WHILE_RESTARTING:
		fmt_dur(d, (int64_t)(up->ts_ns - dn->ts_ns));
		sbuf_printf(w->title,
			    "Refused while the server on `%s` was restarting (down from %s to %s)",
			    e1, hms(t1, dn->ts_ns), hms(t2, up->ts_ns));
		put_attempts(t, b, e1);
		sbuf_puts(t, " got a reset (RST) in reply to the SYN while no socket listened "
			     "there: ");
		put_proc(t, dn);
		sbuf_printf(t, " stopped listening on `%s` at %s, and ", e1, hms(t1, dn->ts_ns));
		put_proc(t, up);
		sbuf_printf(t, " began listening again at %s, %s later.", hms(t2, up->ts_ns), d);
		sbuf_printf(nx,
			    "Make the client retry refused connections for longer than the restart "
			    "(%s), or restart the server without closing its listening socket "
			    "(socket activation, or the new process listening before the old one "
			    "closes, with SO_REUSEPORT).",
			    d);
		break;
	default: /* DIAG_REFUSED_AFTER_LISTENING */
		fmt_dur(d, (int64_t)(b->t_min - dn->ts_ns));
		sbuf_printf(w->title, "Refused after the server stopped listening on `%s` at %s",
			    e1, hms(t1, dn->ts_ns));
		put_proc(t, dn);
		sbuf_printf(t, " stopped listening on `%s` at %s; ", e1, hms(t1, dn->ts_ns));
		if (b->n == 1)
			sbuf_printf(t, "the attempt after that (at %s, %s later)",
				    hms(t2, b->t_min), d);
		else
			sbuf_printf(t, "the %" PRIu64 " attempts after that (from %s, %s later)",
				    b->n, hms(t2, b->t_min), d);
		sbuf_puts(t,
			  " got a reset (RST) in reply to the SYN. Nothing began listening there "
			  "again after that.");
		sbuf_printf(nx, "Check why ");
		if (dn->l.pid > 0)
			sbuf_printf(nx, "`%s` (pid %d)", dn->l.comm, (int)dn->l.pid);
		else
			sbuf_puts(nx, "the server");
		sbuf_printf(nx,
			    " closed its listening socket or exited around %s (its log, "
			    "`journalctl`).",
			    hms(t1, dn->ts_ns));
		break;
	}
	put_kernel(t, b, 0, 1);
}

/* ---- refused in one network namespace, served in another ---------------- */

/* "namespace `lt-test`", "the host namespace", "container `docker:3f2a9c1b7e4d`
 * (namespace `netns:4026532123`)" */
static void put_ns(struct sbuf *b, const struct lt_netns *ns)
{
	char id[48];

	if (ns->name[0] && !strcmp(ns->name, "host") && !ns->container[0]) {
		sbuf_puts(b, "the host namespace");
		return;
	}
	if (ns->name[0])
		snprintf(id, sizeof(id), "%s", ns->name);
	else
		snprintf(id, sizeof(id), "netns:%u", (unsigned)ns->ino);
	if (ns->container[0])
		sbuf_printf(b, "container `%s` (namespace `%s`)", ns->container, id);
	else
		sbuf_printf(b, "namespace `%s`", id);
}

/* lotrace's own namespace, whose listeners the live lists are */
static void put_self_ns(struct sbuf *b, const struct diag_context *c)
{
	if (c->netns_self_host)
		sbuf_puts(b, "the host namespace");
	else
		sbuf_printf(b, "lotrace's namespace (`netns:%u`)", (unsigned)c->netns_self);
}

/* "`lt_peer` pid 812" of the server that answered group a */
static void put_server_of(struct sbuf *b, const struct diag_group *a)
{
	if (a->srv_pid > 0)
		sbuf_printf(b, "`%s` pid %d", a->srv_comm, (int)a->srv_pid);
	else
		sbuf_puts(b, "a process lotrace could not name");
}

static bool ns_is_host(const struct lt_netns *ns, const struct diag_context *c)
{
	return !strcmp(ns->name, "host") || (c->netns_self_host && ns->ino == c->netns_self);
}

static void w_refused_netns(struct words *w, const struct diag_fact *x,
			    const struct diag_context *c)
{
	const struct diag_group *b = x->g, *a = x->other;
	const struct listener *l = x->listener;
	const struct listen_ev *ev = x->ev_before;
	struct sbuf *t = w->t, *nx = w->x, *ti = w->title;
	const char *e1 = w->e1;
	const uint16_t port = b->server.port;
	char t1[FMT_TIME_LEN];
	/* the server's namespace, from the connections answered there or the
	 * listen() seen there (its inode when the source had no names) */
	struct lt_netns unnamed = { .ino = ev ? ev->netns : 0 };
	const struct lt_netns *sns = a ? a->ns : ev && ev->ns ? ev->ns : &unnamed;
	/* lotrace's own lists speak for b's namespace too */
	bool lists_here = c->live && (c->nstart >= 0 || c->nend >= 0) && c->netns_self &&
			  b->ns->ino == c->netns_self;

	sbuf_puts(ti, "Refused in ");
	put_ns(ti, b->ns);
	sbuf_printf(ti, ": `%s` is served in ", e1);
	if (l) {
		put_self_ns(ti, c);
		if (l->pid >= 0)
			sbuf_printf(ti, " by `%s` pid %d", l->comm, (int)l->pid);
	} else if (a) {
		put_ns(ti, sns);
		sbuf_puts(ti, " by ");
		put_server_of(ti, a);
	} else {
		put_ns(ti, sns);
		if (ev->l.pid > 0)
			sbuf_printf(ti, " by `%s` pid %d", ev->l.comm, (int)ev->l.pid);
	}
	sbuf_puts(ti, ", another loopback");

	sbuf_printf(t, "The client in ");
	put_ns(t, b->ns);
	sbuf_printf(t,
		    " dialed `%s` and was refused: %" PRIu64 " connection attempt%s got a reset "
		    "(RST) in reply to the SYN. Nothing listens on that address in ",
		    e1, b->n, s_(b->n));
	put_ns(t, b->ns);
	sbuf_puts(t, lists_here ? " (no socket listened there at the start or at the end of the "
				  "run, and no connection to it was answered)"
				: " (no connection to it was answered there during the run)");
	sbuf_puts(t, ". Each network namespace has its own loopback; in ");
	if (l) {
		put_self_ns(t, c);
		sbuf_puts(t, " a socket listens for it: ");
		put_listener(t, l);
		sbuf_printf(t, ", at the %s of the run",
			    x->l_start && x->l_end ? "start and the end"
			    : x->l_end		   ? "end"
						   : "start");
	} else if (a) {
		put_ns(t, sns);
		sbuf_printf(t, " `%s` answered %" PRIu64 " connection%s during the run, served by ",
			    e1, a->n, s_(a->n));
		put_server_of(t, a);
	} else {
		put_ns(t, sns);
		sbuf_puts(t, " a socket began listening for it before the refusals: ");
		put_proc(t, ev);
		sbuf_puts(t, " called listen() on ");
		put_listener_ep(t, &ev->l);
		sbuf_printf(t, " at %s", hms(t1, ev->ts_ns));
	}
	sbuf_puts(t, ".");
	put_kernel(t, b, 0, 1);

	if (ns_is_host(b->ns, c)) {
		/* the server is the one inside: bring its port out */
		sbuf_printf(nx,
			    "Publish the server's port to the host (a container: `-p "
			    "127.0.0.1:%u:%u`), or run the client inside ",
			    port, port);
		put_ns(nx, sns);
		sbuf_puts(nx, " (`ip netns exec NAME`, `nsenter -n -t PID`, `docker exec`), or the "
			      "server in the host namespace.");
	} else {
		sbuf_puts(nx, "Run the client in ");
		if (l)
			put_self_ns(nx, c);
		else
			put_ns(nx, sns);
		sbuf_puts(nx, " (a container: `--network host`), or dial an address of the host "
			      "that reaches it from inside (not 127.0.0.1; the server must listen "
			      "there too, e.g. `host.docker.internal`), or run the server in ");
		put_ns(nx, b->ns);
		sbuf_puts(nx, ".");
	}
	sbuf_puts(nx, " `ip netns exec NAME ss -ltnp` (or `nsenter -n -t PID ss -ltnp`) shows "
		      "what listens in a namespace.");
}

/* Decided from the capture: what answered on that port, and when. */
static void w_refused(struct words *w, const struct diag_fact *x)
{
	const struct diag_group *b = x->g, *o = x->other;
	const uint16_t port = b->server.port;
	struct sbuf *t = w->t, *nx = w->x;
	const char *e1 = w->e1;
	char e2[FMT_EP_LEN], t1[FMT_TIME_LEN], t2[FMT_TIME_LEN], t3[FMT_TIME_LEN];

	if (x->by_timeline) {
		w_refused_timeline(w, x);
		return;
	}
	if (x->by_listeners) {
		w_refused_live(w, x);
		return;
	}
	switch ((int)x->id) { /* the refused family only */
	case DIAG_REFUSED_OTHER_FAMILY:
		fmt_endpoint(e2, o->family, &o->server);
		sbuf_printf(w->title, "Refused on %s `%s`, but `%s` answered",
			    family_name(b->family), e1, e2);
		sbuf_printf(t,
			    "%" PRIu64 " connection attempt%s to `%s` got a reset (RST) in reply "
			    "to the SYN, while %" PRIu64
			    " connection%s to `%s` on the same port got a SYN-ACK. So a server was "
			    "running on port %u, but listening on %s only",
			    b->n, s_(b->n), e1, o->n, s_(o->n), e2, port, family_name(o->family));
		if (o->family == 6)
			sbuf_puts(t, " (bound to ::1, or an IPv6 socket with IPV6_V6ONLY), not on "
				     "127.0.0.1.");
		else
			sbuf_puts(t, " (bound to 127.0.0.1 or 0.0.0.0), not on ::1.");
		if (o->t_min > b->t_max)
			sbuf_printf(
				t,
				" %s after the %s, so a server that started in between (after %s) "
				"would look the same; one more attempt to `%s` tells them apart.",
				o->n == 1 ? "The answer came" : "All the answers came",
				b->n == 1 ? "refusal" : "refusals", hms(t1, b->t_max), e1);
		put_kernel(t, b, 0, 1);
		sbuf_printf(nx,
			    "Make the server listen on both families (both 127.0.0.1 and ::1, or "
			    ":: without IPV6_V6ONLY), or make the client connect to `%s`; a client "
			    "that dials `localhost` may try %s first (see /etc/hosts).",
			    e2, b->family == 4 ? "127.0.0.1" : "::1");
		return;
	case DIAG_REFUSED_BEFORE_LISTENING:
		sbuf_printf(w->title, "Refused until the server listened on `%s`", e1);
		if (b->n == 1)
			sbuf_printf(t,
				    "The first connection attempt to `%s` (at %s) got a reset "
				    "(RST) in reply to the SYN",
				    e1, hms(t1, b->t_min));
		else
			sbuf_printf(t,
				    "The first %" PRIu64 " connection attempts to `%s` (%s to %s) "
				    "got a reset (RST) in reply to the SYN",
				    b->n, e1, hms(t1, b->t_min), hms(t2, b->t_max));
		sbuf_printf(t,
			    "; %" PRIu64 " later connection%s (from %s) got a SYN-ACK. The server "
			    "was not listening yet when the first %s came.",
			    o->n, s_(o->n), hms(t3, o->t_min), b->n == 1 ? "attempt" : "attempts");
		if (o->t_min > b->t_max) {
			char gap[24];
			sbuf_printf(
				t,
				" The first SYN-ACK was seen at %s, for a SYN sent %s after the "
				"last "
				"refusal. A capture shows no listen() call: that SYN-ACK is the "
				"only "
				"evidence of a listener, so the server began listening between %s "
				"and %s.",
				hms(t3, o->t_answer ? o->t_answer : o->t_min),
				fmt_dur(gap, (int64_t)(o->t_min - b->t_max)), hms(t1, b->t_max),
				hms(t2, o->t_min));
		}
		sbuf_puts(nx, "Start the client once the server listens, or make it retry refused "
			      "connections after a short delay.");
		put_kernel(t, b, 0, 1);
		return;
	case DIAG_REFUSED_AFTER_LISTENING:
		sbuf_printf(w->title,
			    "`%s` stopped listening: refused after earlier connections got in", e1);
		sbuf_printf(t,
			    "%" PRIu64 " connection%s to `%s` got a SYN-ACK until %s; the %" PRIu64
			    " attempt%s after that (from %s) got a reset (RST) in reply to the "
			    "SYN. The listener went away: the server stopped, crashed or closed "
			    "its listening socket.",
			    o->n, s_(o->n), e1, hms(t1, o->t_max), b->n, s_(b->n),
			    hms(t2, b->t_min));
		sbuf_printf(nx,
			    "Check whether the server exited or restarted around %s (its log, "
			    "`journalctl`).",
			    hms(t1, b->t_min));
		put_kernel(t, b, 0, 1);
		return;
	case DIAG_REFUSED_INTERMITTENT:
		sbuf_printf(w->title, "`%s` refused some connections while accepting others", e1);
		sbuf_printf(t,
			    "%" PRIu64 " connection attempt%s to `%s` got a reset (RST) in reply "
			    "to the SYN, while %" PRIu64
			    " other%s to the same address, at times in between, got a SYN-ACK. The "
			    "listener was not there the whole time (restarts), or a firewall rule "
			    "rejects some of the connections with a reset.",
			    b->n, s_(b->n), e1, o->n, s_(o->n));
		sbuf_printf(nx,
			    "Check the server for restarts between %s and %s, and `nft list "
			    "ruleset` (or `iptables -S`) for a reject rule on port %u.",
			    hms(t1, b->t_min), hms(t2, b->t_max), port);
		put_kernel(t, b, 0, 1);
		return;
	default:
		break;
	}

	/* DIAG_REFUSED: nothing answered on that address in the capture */
	if (x->no_socket)
		sbuf_printf(w->title, "Refused: nothing listens on `%s`", e1);
	else
		sbuf_printf(w->title, "Refused: nothing answered on `%s`", e1);
	sbuf_printf(t,
		    "%" PRIu64
		    " connection attempt%s to `%s` got a reset (RST) in reply to the SYN, ",
		    b->n, s_(b->n), e1);
	put_range(t, b->lat_min, b->lat_max);
	sbuf_puts(t, " after it; no connection to this address was accepted in the capture.");
	if (x->no_socket)
		sbuf_puts(t, " The kernel's reset reason was `NO_SOCKET`: no socket listened on "
			     "this address and port.");
	else
		sbuf_printf(t,
			    " %s the kernel saying no socket listens on this address and port (a "
			    "firewall rule that rejects with a TCP reset looks the same).",
			    lt_addr_loopback(b->family, b->server.addr) ? "On loopback that is"
									: "That is normally");
	if (x->also) {
		fmt_endpoint(e2, x->also->family, &x->also->server);
		sbuf_printf(t, " The same port did answer on `%s` (%" PRIu64 " connection%s).", e2,
			    x->also->n, s_(x->also->n));
	}
	if (!x->no_socket)
		put_kernel(t, b, 0, 1);
	sbuf_printf(nx,
		    "%s `%s`; is the server running, and is it configured for this port? On its "
		    "machine `ss -ltnp 'sport = :%u'` shows what listens on port %u.",
		    x->no_socket ? "Nothing listens on" : "Nothing answered on", e1, port, port);
}

/* ---- unanswered, half-open, retransmissions ----------------------------- */

#define MS 1000000ull

/* "+1s, +2s, +3s": n offsets in ms after the first SYN */
static void put_offsets(struct sbuf *t, const uint64_t *ms, int n)
{
	char d[24];
	for (int i = 0; i < n; i++)
		if (ms[i])
			sbuf_printf(t, "%s+%s", i ? ", " : "", fmt_dur(d, (int64_t)(ms[i] * MS)));
		else
			sbuf_printf(t, "%s0", i ? ", " : "");
}

/* Timeout anatomy (issue 14): the SYN schedule, who gave up, and what
 * the next SYN would have been, for the attempt with the most SYNs. */
static void put_anatomy(struct sbuf *t, const struct diag_group *b, const struct diag_context *c)
{
	uint64_t seen[LT_TIMELINE_MAX + 1], sum = 0;
	int nsyn = b->rep_ngaps + 1;
	char d1[24], d2[24], d3[24];

	seen[0] = 0;
	for (int i = 0; i < b->rep_ngaps; i++)
		seen[i + 1] = (sum += b->rep_gap_ms[i]);
	uint64_t stop = c->t_stop ? c->t_stop : c->t_end;
	uint64_t after = stop > b->rep_last_syn ? (stop - b->rep_last_syn) / MS : 0;

	sbuf_printf(t, " Timeout anatomy%s: %s SYN%s at ",
		    b->n > 1 ? " of the attempt with the most SYNs" : "", nsyn == 1 ? "one" : "its",
		    nsyn == 1 ? "" : "s");
	put_offsets(t, seen, nsyn);
	sbuf_puts(t, " after the first.");
	if (b->timed_out) {
		sbuf_printf(t,
			    " The kernel gave up: connect() failed with ETIMEDOUT (errno 110) on "
			    "%" PRIu64
			    " of them, so the client waited for the kernel's whole schedule.",
			    b->timed_out);
		return;
	}
	if (b->rep_closed) {
		sbuf_printf(t,
			    " The client closed the attempt itself (a RST or FIN) %s after its "
			    "first SYN: the application gave up, not the kernel.",
			    fmt_dur(d1, (int64_t)(b->rep_last_syn - b->rep_first_syn)));
	}
	if (!c->sys || c->sys->syn_retries < 0) {
		if (after && b->rep_ngaps &&
		    after * 10 >= 19 * (uint64_t)b->rep_gap_ms[b->rep_ngaps - 1])
			sbuf_printf(t,
				    " No SYN followed in the %s the capture went on after the "
				    "last: the client stopped trying. Its application gave up "
				    "(closing a connecting socket sends nothing) or its kernel's "
				    "`tcp_syn_retries` ran out; a capture shows no sysctl and no "
				    "errno, so it cannot say which (the gaps above are the client "
				    "kernel's schedule).",
				    fmt_dur(d1, (int64_t)(after * MS)));
		return;
	}
	struct diag_syn_schedule s;
	diag_syn_schedule(c->sys->syn_retries, c->sys->syn_linear_timeouts, &s);
	sbuf_printf(t,
		    " This kernel (`tcp_syn_retries` = %d, `tcp_syn_linear_timeouts` = %s) "
		    "re-sends an unanswered SYN at ",
		    c->sys->syn_retries,
		    c->sys->syn_linear_timeouts >= 0
			    ? (snprintf(d2, sizeof(d2), "%d", c->sys->syn_linear_timeouts), d2)
			    : "absent");
	put_offsets(t, s.resend_ms, s.n);
	sbuf_printf(t, " and gives up (ETIMEDOUT, errno 110) at +%s: %d SYNs in all.",
		    fmt_dur(d1, (int64_t)(s.give_up_ms * MS)), s.n + 1);
	if (nsyn <= s.n) {
		uint64_t next = s.resend_ms[nsyn - 1];
		uint64_t since_first = (stop > b->rep_first_syn ? stop - b->rep_first_syn : 0) / MS;
		if (since_first > next + 500)
			sbuf_printf(t,
				    " The client gave up after %d SYN%s, between its last SYN "
				    "(+%s) and +%s, when the kernel would have sent the next; the "
				    "kernel would have kept trying until +%s. Its application's "
				    "own connect timeout ended it, not the kernel.",
				    nsyn, s_((uint64_t)nsyn),
				    fmt_dur(d1, (int64_t)(seen[nsyn - 1] * MS)),
				    fmt_dur(d2, (int64_t)(next * MS)),
				    fmt_dur(d3, (int64_t)(s.give_up_ms * MS)));
		else
			sbuf_printf(t, " The run ended before the next SYN was due (+%s).",
				    fmt_dur(d1, (int64_t)(next * MS)));
	} else {
		sbuf_printf(t,
			    " The client's kernel sent its whole schedule: connect() fails with "
			    "ETIMEDOUT %s.",
			    stop >= b->rep_first_syn + s.give_up_ms * MS
				    ? "at its end"
				    : "when it ends, after this run");
	}
}

static void w_unanswered(struct words *w, const struct diag_fact *x, const struct diag_context *c)
{
	const struct diag_group *b = x->g, *same = x->also;
	const uint16_t port = b->server.port;
	uint64_t known = b->nf + b->ovf + b->drop_other;
	const struct listener *ls = x->l_start, *le = x->l_end;
	struct sbuf *t = w->t, *nx = w->x;
	const char *e1 = w->e1;
	char dur[24];

	if (x->cause == DIAG_CAUSE_FIREWALL)
		sbuf_printf(w->title, "SYNs to `%s` dropped by a firewall rule", e1);
	else if (x->cause == DIAG_CAUSE_QUEUE_FULL)
		sbuf_printf(w->title, "SYNs to `%s` dropped: the listener's accept queue is full",
			    e1);
	else
		sbuf_printf(w->title, "No answer to SYNs on `%s`", e1);

	sbuf_printf(t,
		    "%" PRIu64 " connection attempt%s to `%s` sent SYNs and got no answer at all: "
		    "no SYN-ACK, no reset. %s %u SYN%s",
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
			sbuf_printf(t,
				    " The capture ended %s after the last SYN, before a client "
				    "would send it again.",
				    fmt_dur(dur, (int64_t)(c->t_end - b->t_max)));
		else
			sbuf_printf(
				t,
				" The client%s did not send the SYN again, as a kernel would after "
				"about a second: a client with a very short timeout, or a scanner.",
				s_(b->n));
	}

	put_anatomy(t, b, c);
	put_kernel(t, b, 1, 0);
	if (known && known < b->n)
		sbuf_printf(t, " For the other %" PRIu64 " the kernel gave no reason.",
			    b->n - known);

	if (!b->with_kctx && c->kernel) {
		sbuf_puts(
			t,
			" The kernel gave no drop reason for these SYNs; a full accept queue drops "
			"SYNs that way, while a firewall rule would show `NETFILTER_DROP`.");
	} else if (!b->with_kctx && !known) {
		if (x->by_listeners) {
			if (!ls && !le && same) {
				sbuf_printf(t,
					    " No socket listened on `%s` at the start or the end "
					    "of the run, but some connections got a SYN-ACK, so "
					    "one came and went in between; what it did with these "
					    "SYNs the lists cannot tell.",
					    e1);
			} else if (!ls && !le) {
				sbuf_printf(
					t,
					" No socket listened on `%s` at the start or the end of "
					"the run, and no connection to it got a SYN-ACK. Without a "
					"listener the kernel answers a SYN with a reset; so unless "
					"one came and went in between, something dropped the SYNs "
					"before TCP saw them, most likely a firewall rule.",
					e1);
			} else {
				sbuf_puts(t, " A socket listens there: ");
				put_listener(t, le ? le : ls);
				sbuf_puts(t, ".");
				if (x->queue_full)
					sbuf_puts(t, " More connections waited for accept() than "
						     "its backlog allows: its accept queue was "
						     "full, and a full queue drops new SYNs.");
				else
					sbuf_puts(t, " Its accept queue was not full when lotrace "
						     "looked, which points to a firewall rule, "
						     "unless the queue filled up only in between.");
			}
			if (c->c_start.overflows >= 0 && c->c_end.overflows > c->c_start.overflows)
				sbuf_printf(t,
					    " The kernel's ListenOverflows counter (all listeners "
					    "on this machine) rose by %" PRId64 " during the run.",
					    c->c_end.overflows - c->c_start.overflows);
		} else {
			sbuf_puts(t, " A packet capture cannot tell a firewall rule that drops the "
				     "SYNs from a listener whose accept queue is full: both look "
				     "exactly like this.");
		}
	}
	if (same && same->established && (ls || le)) {
		if (same->silent == same->established)
			sbuf_printf(
				t,
				" The server never sent a byte, a FIN or a reset on the %" PRIu64
				" connection%s that did complete the handshake, which fits a "
				"server that does not call accept().",
				same->established, s_(same->established));
	} else if (same && same->established) {
		sbuf_printf(t,
			    " %" PRIu64 " other connection%s to `%s` did complete the handshake, "
			    "so something listens there",
			    same->established, s_(same->established), e1);
		if (same->silent == same->established)
			sbuf_printf(t,
				    "; the server never sent a byte, a FIN or a reset on %s, which "
				    "fits a server that does not call accept(): its queue fills up "
				    "and further SYNs are dropped.",
				    same->established == 1 ? "it" : "any of them");
		else
			sbuf_puts(t, "; a rule that matches only some connections (by source port, "
				     "for example) or a queue that was full only for a while would "
				     "both fit.");
	}

	if (x->cause == DIAG_CAUSE_FIREWALL) {
		sbuf_printf(nx,
			    "Find the rule: `nft list ruleset` (or `iptables -S`), and look for a "
			    "drop on port %u.",
			    port);
	} else if (x->cause == DIAG_CAUSE_QUEUE_FULL) {
		sbuf_printf(nx,
			    "The server must accept() faster or listen with a larger backlog "
			    "(listen(fd, N), capped by net.core.somaxconn); `ss -ltn 'sport = "
			    ":%u'` shows Recv-Q (waiting) against Send-Q (backlog).",
			    port);
	} else {
		sbuf_printf(nx,
			    "Check both: `nft list ruleset` (or `iptables -S`) for a rule dropping "
			    "port %u, and `ss -ltn 'sport = :%u'`, where a Recv-Q above Send-Q "
			    "means the accept queue is full; `nstat -az TcpExtListenOverflows` "
			    "counts overflows.",
			    port, port);
		if (!c->kernel)
			sbuf_printf(nx,
				    " Live, `sudo lotrace --backend ebpf --port %u` tells the two "
				    "apart.",
				    port);
	}
}

static void w_half_open(struct words *w, const struct diag_fact *x)
{
	const struct diag_group *b = x->g;
	const uint16_t port = b->server.port;
	struct sbuf *t = w->t, *nx = w->x;
	char dur[24];

	sbuf_printf(w->title,
		    "Handshake never completed on `%s`: SYN-ACK sent, final ACK never seen", w->e1);
	sbuf_printf(
		t, "In %" PRIu64 " connection%s to `%s` the server answered the SYN with a SYN-ACK",
		b->n, s_(b->n), w->e1);
	if (b->syn_max > 1)
		sbuf_printf(t, " and re-sent it %s%u time%s over %s", b->n == 1 ? "" : "up to ",
			    b->syn_max - 1, s_(b->syn_max - 1), fmt_dur(dur, (int64_t)b->span_max));
	sbuf_puts(t, ", but the client's final ACK never appeared.");
	put_kernel(t, b, 1, 1);
	if (!b->nf && !b->ovf && !b->drop_other)
		sbuf_puts(t, " Either the ACK was lost before it reached the capture (a firewall "
			     "rule on the client's side dropping non-SYN segments, for example), "
			     "or the client never sent it (it gave up, or died). A full accept "
			     "queue looks different: the ACK is in the capture and the server "
			     "re-sends its SYN-ACK anyway.");
	if (x->cause == DIAG_CAUSE_QUEUE_FULL)
		sbuf_printf(nx,
			    "The server must accept() faster or listen with a larger backlog; `ss "
			    "-ltn 'sport = :%u'` shows Recv-Q (waiting) against Send-Q (backlog).",
			    port);
	else
		sbuf_printf(nx,
			    "Look for rules that drop ACKs or `ct state invalid` on port %u, on "
			    "the client's side too: `nft list ruleset` (or `iptables -S`); check "
			    "that the client process is still alive.",
			    port);
}

static void w_synack_retrans(struct words *w, const struct diag_fact *x)
{
	const struct diag_group *b = x->g;
	struct sbuf *t = w->t;
	uint64_t before = b->n - b->after_ack;

	sbuf_printf(w->title, "SYN-ACK re-sent on `%s`", w->e1);
	sbuf_printf(t,
		    "In %" PRIu64 " connection%s to `%s` the server sent its SYN-ACK more than "
		    "once (%s%u times) before the connection got going.",
		    b->n, s_(b->n), w->e1, b->n == 1 ? "" : "up to ", b->syn_max);
	if (b->after_ack)
		sbuf_printf(t,
			    " In %" PRIu64
			    " of them it re-sent it after the client's ACK was already in the "
			    "capture: the listener discarded that ACK, which is what Linux does "
			    "when the listener's accept queue is full (it counts ListenOverflows); "
			    "the handshake completes only once a slot frees up.",
			    b->after_ack);
	if (before)
		sbuf_printf(t,
			    " In %" PRIu64 " of them the client's ACK came only after the re-sent "
			    "SYN-ACK: the first SYN-ACK or ACK was lost or late.",
			    before);
	put_kernel(t, b, 1, 0);
	sbuf_printf(w->x,
		    "`ss -ltn 'sport = :%u'` (a Recv-Q above Send-Q means the accept queue is "
		    "full) and `nstat -az TcpExtListenOverflows`; the server must accept() faster "
		    "or use a larger backlog.",
		    b->server.port);
}

static void w_syn_retrans(struct words *w, const struct diag_fact *x)
{
	const struct diag_group *b = x->g;
	struct sbuf *t = w->t;

	sbuf_printf(w->title, "SYNs re-sent before `%s` answered", w->e1);
	sbuf_printf(t,
		    "%" PRIu64 " connection%s to `%s` got an answer only after the client re-sent "
		    "its SYN (%s%u SYNs; the SYN-ACK came ",
		    b->n, s_(b->n), w->e1, b->n == 1 ? "" : "up to ", b->syn_max);
	put_range(t, b->lat_min, b->lat_max);
	sbuf_puts(t, " after the first SYN). The first SYN got no answer: a listener whose accept "
		     "queue was full for a moment, a firewall rule that drops or rate-limits some "
		     "SYNs, or a busy server.");
	put_kernel(t, b, 1, 0);
	sbuf_printf(w->x,
		    "`nstat -az TcpExtListenOverflows TcpExtListenDrops` shows whether accept "
		    "queues overflowed; `nft list ruleset` for rate limits on port %u.",
		    b->server.port);
}

/* ---- resets ------------------------------------------------------------- */

static void w_reset_request(struct words *w, const struct diag_fact *x)
{
	const struct diag_group *b = x->g;
	struct sbuf *t = w->t;
	char t1[FMT_TIME_LEN];

	sbuf_printf(w->title, "Server reset the connection right after the request on `%s`", w->e1);
	sbuf_printf(
		t,
		"In %" PRIu64
		" connection%s to `%s` the handshake completed and the client sent its request (",
		b->n, s_(b->n), w->e1);
	put_bytes_range(t, b->req_min, b->req_max);
	sbuf_puts(t, "); the server answered with a reset instead of data, ");
	put_range(t, b->lat_min, b->lat_max);
	sbuf_puts(t, " after the request.");
	if (b->lat_max < 1000000000ull)
		sbuf_puts(t,
			  " A reset that fast is the server rejecting what it got: the wrong "
			  "protocol (TLS to a plain-text port or the reverse, another protocol or "
			  "version) or bad credentials; or it failed while handling the request.");
	else
		sbuf_puts(t, " A reset that late looks more like a server-side timeout than an "
			     "outright rejection.");
	put_kernel(t, b, 1, 1);
	sbuf_printf(w->x,
		    "The server's log %s%s should say why it dropped the request; check that the "
		    "client speaks what the server expects (TLS or not, protocol version, "
		    "credentials).",
		    b->n == 1 ? "at " : "from ", hms(t1, b->t_min));
}

static void put_phases(struct sbuf *t, const struct diag_group *b)
{
	static const char *const words[LT_RST_PHASE_COUNT] = {
		[LT_RST_NONE] = "at an unknown point",
		[LT_RST_HANDSHAKE] = "during the handshake",
		[LT_RST_BEFORE_DATA] = "after the handshake, before any data",
		[LT_RST_AFTER_DATA] = "after data was exchanged",
		[LT_RST_AFTER_FIN] = "after a FIN",
	};
	const char *sep = ": ";
	int kinds = 0;
	for (int p = 0; p < LT_RST_PHASE_COUNT; p++)
		kinds += b->phase[p] > 0;
	for (int p = 0; p < LT_RST_PHASE_COUNT; p++) {
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

/* What a reset by one side says; the rule is the same for both sides. */
struct reset_words {
	const char *title, *lead, *tail;       /* "<lead> N connections to `X`<tail>" */
	const char *phase[LT_RST_PHASE_COUNT]; /* by main phase; NULL: nothing */
	const char *next_harmless;	       /* NULL: the usual next step */
	const char *next;		       /* printf: "around "/"from ", time */
};

static const struct reset_words reset_server_words = {
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

static void w_reset_side(struct words *w, const struct diag_fact *x)
{
	const struct reset_words *rw =
		x->id == DIAG_RESET_BY_CLIENT ? &reset_client_words : &reset_server_words;
	const struct diag_group *b = x->g;
	struct sbuf *t = w->t;
	char t1[FMT_TIME_LEN];

	sbuf_printf(w->title, rw->title, w->e1);
	sbuf_printf(t, "%s %" PRIu64 " connection%s to `%s`%s", rw->lead, b->n, s_(b->n), w->e1,
		    rw->tail);
	put_phases(t, b);
	if (x->phase > LT_RST_NONE && x->phase < LT_RST_PHASE_COUNT && rw->phase[x->phase])
		sbuf_puts(t, rw->phase[x->phase]);
	put_kernel(t, b, 1, 1);
	if (x->severity == DIAG_INFO && rw->next_harmless)
		sbuf_puts(w->x, rw->next_harmless);
	else
		sbuf_printf(w->x, rw->next, b->n == 1 ? "around " : "from ", hms(t1, b->t_min));
}

/* ---- how connections stood at the end ----------------------------------- */

static void w_half_closed(struct words *w, const struct diag_fact *x, const struct diag_context *c)
{
	const struct diag_group *b = x->g;
	struct sbuf *t = w->t;
	bool silent = x->id == DIAG_SERVER_SILENT;

	if (silent)
		sbuf_printf(w->title, "Server never answered or closed connections on `%s`", w->e1);
	else
		sbuf_printf(w->title, "Connections to `%s` half-closed at the end", w->e1);
	sbuf_printf(t, "%" PRIu64 " connection%s to `%s` %s half-closed when the %s:", b->n,
		    s_(b->n), w->e1, b->n == 1 ? "was" : "were", end_word(c));
	if (b->client_fin == b->n)
		sbuf_puts(t, " the client had closed its side (FIN), the server had not.");
	else if (b->server_fin == b->n)
		sbuf_puts(t, " the server had closed its side (FIN), the client had not.");
	else
		sbuf_printf(
			t,
			" on %" PRIu64
			" the client had closed its side (FIN) and the server had not, on %" PRIu64
			" the other way round.",
			b->client_fin, b->server_fin);
	if (b->silent)
		sbuf_printf(t,
			    " %s the server never sent a byte, a FIN or a reset after the "
			    "handshake, which fits a server that never accepted %s (not calling "
			    "accept(), or stuck).",
			    b->silent == b->n ? (b->n == 1 ? "On it" : "On all of them")
					      : "On some of them",
			    b->n == 1 ? "it" : "them");
	if (silent)
		sbuf_printf(w->x,
			    "Check that the server calls accept() and is not stuck: `ss -ltn "
			    "'sport = :%u'` (a Recv-Q above 0 means connections wait to be "
			    "accepted), and a stack dump of the server.",
			    b->server.port);
	else
		sbuf_puts(w->x, "Nothing to fix if the other side closes later; capture for longer "
				"to see it.");
}

static void w_open(struct words *w, const struct diag_fact *x, const struct diag_context *c)
{
	const struct diag_group *b = x->g;
	struct sbuf *t = w->t;
	char dur[24];

	sbuf_printf(w->title, "Connections to `%s` still open at the end", w->e1);
	sbuf_printf(t,
		    "%" PRIu64 " connection%s to `%s` completed the handshake and %s still open "
		    "when the %s (%s %s). Nothing is wrong with that by itself: pooled, "
		    "keep-alive and streaming connections look like this.",
		    b->n, s_(b->n), w->e1, b->n == 1 ? "was" : "were", end_word(c),
		    b->n == 1 ? "after" : "the longest after", fmt_dur(dur, (int64_t)b->span_max));
	if (b->silent == b->n)
		sbuf_printf(t, " The server had not sent a byte on %s yet.",
			    b->n == 1 ? "it" : "any of them");
	else if (b->silent)
		sbuf_printf(t, " On %" PRIu64 " of them the server had not sent a byte yet.",
			    b->silent);
	sbuf_puts(w->x, "If they should have ended, capture for longer to see how they close, and "
			"check idle timeouts and keep-alive on both sides.");
}

static void w_midstream(struct words *w, const struct diag_fact *x)
{
	const struct diag_group *b = x->g;
	struct sbuf *t = w->t;
	const char *sep = " At the end: ";

	sbuf_printf(w->title, "Connections to `%s` started before the capture", w->e1);
	sbuf_printf(t,
		    "%" PRIu64 " connection%s to `%s` %s already established when the capture "
		    "started (no SYN seen), so %s cannot be judged; which side is the "
		    "server was guessed from the port numbers.",
		    b->n, s_(b->n), w->e1, b->n == 1 ? "was" : "were",
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
	sbuf_puts(w->x, "To see the handshakes, start the capture before the client connects.");
}

static void w_connecting(struct words *w, const struct diag_fact *x)
{
	const struct diag_group *b = x->g;

	sbuf_printf(w->title, "Attempts to `%s` still waiting for an answer", w->e1);
	sbuf_printf(w->t,
		    "%" PRIu64 " connection attempt%s to `%s` had sent a SYN less than a second "
		    "before this report and %s still waiting for an answer.",
		    b->n, s_(b->n), w->e1, b->n == 1 ? "was" : "were");
	sbuf_puts(w->x, "Look again in a moment: an attempt that stays unanswered becomes a "
			"finding of its own.");
}

/* ---- protocols (first bytes, proto.h) ----------------------------------- */

static const char *closed_word(const struct diag_group *b)
{
	return b->server_closed == 2   ? " and reset the connection"
	       : b->server_closed == 1 ? " and closed the connection"
				       : "";
}

/* "In 3 connections to `e1` the client sent X; the server answered Y and
 * closed the connection" */
static void put_exchange(struct words *w, const struct diag_group *b)
{
	char dc[200], ds[200];

	proto_describe(&b->pc, dc, sizeof(dc));
	proto_describe(&b->ps, ds, sizeof(ds));
	if (b->n == 1)
		sbuf_printf(w->t, "The client of `%s` sent %s; the server answered with %s%s",
			    w->e1, dc, ds, closed_word(b));
	else
		sbuf_printf(w->t,
			    "In %" PRIu64 " connections to `%s`, the first one: the client sent "
			    "%s; the server answered with %s%s",
			    b->n, w->e1, dc, ds, closed_word(b));
}

static void put_differ(struct words *w, const struct diag_group *b)
{
	if (b->differ)
		sbuf_printf(w->t,
			    " %" PRIu64 " of the %" PRIu64
			    " connections exchanged other first bytes (see each connection's "
			    "`protocol` in the JSON output).",
			    b->differ, b->n);
}

static void w_protocol(struct words *w, const struct diag_fact *x)
{
	const struct diag_group *b = x->g;
	const char *fc = proto_family(b->pc.kind), *fs = proto_family(b->ps.kind);
	bool http = !strcmp(fs, "HTTP/1");

	switch ((enum proto_clash)b->clash) {
	case PROTO_CLASH_TLS_TO_PLAIN:
		sbuf_printf(w->title, "TLS to a plain-%s port: `%s`", http ? "HTTP" : "text",
			    w->e1);
		put_exchange(w, b);
		sbuf_printf(w->t, ": TLS to a plain-%s port.", http ? "HTTP" : "text");
		sbuf_printf(w->x,
			    "Use `%s://` (no TLS) for port %u, or point the client at the server's "
			    "TLS port; if this server should speak TLS, its TLS setting is off.",
			    http ? "http" : "plain", b->server.port);
		break;
	case PROTO_CLASH_PLAIN_TO_TLS:
		sbuf_printf(w->title, "Plain %s to a TLS port: `%s`", *fc ? fc : "text", w->e1);
		put_exchange(w, b);
		sbuf_printf(w->t, ": the client spoke %s in clear text to a port that speaks TLS.",
			    *fc ? fc : "its protocol");
		sbuf_printf(w->x,
			    "Turn TLS on in the client (`https://`, `rediss://`, "
			    "`sslmode=require`...) or point it at the server's plain-text port.");
		break;
	case PROTO_CLASH_H2_TO_HTTP1:
		sbuf_printf(w->title, "HTTP/2 prior knowledge to an HTTP/1-only server: `%s`",
			    w->e1);
		put_exchange(w, b);
		sbuf_puts(w->t, ": the client opened with HTTP/2 without asking (prior knowledge, "
				"h2c); the server speaks HTTP/1 only.");
		sbuf_puts(w->x, "Let the client negotiate (drop `--http2-prior-knowledge` or the "
				"h2c setting) or enable h2c on the server.");
		break;
	case PROTO_CLASH_SSL_REFUSED:
		sbuf_printf(w->title, "PostgreSQL server refused TLS: `%s`", w->e1);
		put_exchange(w, b);
		sbuf_puts(
			w->t,
			": the server does not do TLS on this port. A client with "
			"`sslmode=require` gives up here; with `prefer` it goes on in clear text.");
		sbuf_puts(w->x, "Enable `ssl` in the server's postgresql.conf, or let the client "
				"connect without TLS (`sslmode=disable` or `prefer`).");
		break;
	case PROTO_CLASH_HTTP_UNANSWERED: {
		char dc[200];
		proto_describe(&b->pc, dc, sizeof(dc));
		sbuf_printf(w->title,
			    "Plain HTTP to a port that closed without a word (TLS?): `%s`", w->e1);
		sbuf_printf(w->t,
			    "%s%" PRIu64
			    " connection%s to `%s`%s the client sent %s; the server %s without "
			    "sending a byte. A TLS server (OpenSSL) does exactly this with plain "
			    "HTTP; a server that rejects the request outright does too.",
			    "In ", b->n, s_(b->n), w->e1, b->n == 1 ? "" : ", the first one:", dc,
			    b->server_closed == 2 ? "reset the connection"
						  : "closed the connection");
		sbuf_printf(w->x,
			    "Try `https://` for port %u (`openssl s_client -connect %s` shows "
			    "whether it speaks TLS); the server's log says why it closed.",
			    b->server.port, w->e1);
		break;
	}
	case PROTO_CLASH_OTHER:
	case PROTO_CLASH_NONE:
	case PROTO_CLASH_COUNT:
		sbuf_printf(w->title, "%s client to %s %s server: `%s`", fc,
			    (*fs == 'H' || *fs == 'S') ? "an" : "a", fs, w->e1);
		put_exchange(w, b);
		sbuf_printf(w->t, ": the client speaks %s, the server %s.", fc, fs);
		sbuf_printf(w->x,
			    "Check the port the client is configured with: port %u serves %s.",
			    b->server.port, fs);
		break;
	}
	put_differ(w, b);
}

static void w_http_error(struct words *w, const struct diag_fact *x)
{
	const struct diag_group *b = x->g;
	const char *why;

	switch (b->ps.status) {
	case 404:
		why = "the path the client asked for does not exist on this server: a wrong base "
		      "URL or API version, or another server than expected on this port";
		break;
	case 405:
		why = "the server has the path but not for this method";
		break;
	case 421:
		why = "a misdirected request: the server does not answer for the host the client "
		      "named (Host header or SNI)";
		break;
	case 400:
		why = "the server could not parse the request";
		break;
	default:
		why = b->ps.status >= 500 ? "the server failed to handle the request"
					  : "the server refused the request";
		break;
	}
	sbuf_printf(w->title, "HTTP %u on `%s`: `%s`", b->ps.status, w->e1, b->pc.line);
	put_exchange(w, b);
	sbuf_printf(w->t, ": %s.", why);
	put_differ(w, b);
	sbuf_printf(w->x,
		    "Compare the path and method with what the server on port %u serves; its "
		    "access log lists the requests it got.",
		    b->server.port);
}

static const char *kind_label(int kind)
{
	switch ((enum diag_group_kind)kind) {
	case DG_REFUSED:
		return "Refused connections";
	case DG_UNANSWERED:
		return "Unanswered SYNs";
	case DG_HALF_OPEN:
		return "Half-open handshakes";
	case DG_RESET_REQUEST:
		return "Resets right after the request";
	case DG_SYNACK_RETRANS:
		return "Re-sent SYN-ACKs";
	case DG_SYN_RETRANS:
		return "Re-sent SYNs";
	case DG_RESET_SERVER:
		return "Server resets";
	case DG_RESET_CLIENT:
		return "Client resets";
	case DG_HALF_CLOSED:
		return "Half-closed connections";
	case DG_OPEN:
		return "Open connections";
	case DG_MIDSTREAM:
		return "Connections started before the capture";
	case DG_CONNECTING:
		return "Pending attempts";
	case DG_PROTO_CLASH:
		return "Protocol mismatches";
	case DG_HTTP_STATUS:
		return "HTTP errors";
	case DG_ANSWERED:
	case DG_OTHER:
	case DG_KIND_COUNT:
		break;
	}
	return "Findings";
}

/* Addresses beyond the first few of one kind: one finding lists them. */
static void w_more(struct words *w, const struct diag_fact *x)
{
	uint64_t total = 0;
	int n = x->nmore;

	for (int i = 0; i < n; i++)
		total += x->more[i]->n;
	sbuf_printf(w->title, "%s on %d more address%s", kind_label(x->more[0]->kind), n,
		    n == 1 ? "" : "es");
	sbuf_printf(w->t, "The same as above for %" PRIu64 " connection%s to ", total, s_(total));
	for (int i = 0; i < n && i < 20; i++) {
		if (i)
			sbuf_puts(w->t, ", ");
		put_ep(w->t, x->more[i]->family, &x->more[i]->server);
	}
	if (n > 20)
		sbuf_printf(w->t, " and %d more", n - 20);
	sbuf_puts(w->t, ".");
	sbuf_puts(w->x, "As above, for each address.");
}

/* ---- the run ------------------------------------------------------------ */

/* How a connection of a kind a loss could fake looks. */
static const char *doubt_word(int kind)
{
	switch ((enum diag_group_kind)kind) {
	case DG_UNANSWERED:
		return "unanswered";
	case DG_HALF_OPEN:
		return "half-open";
	case DG_SYNACK_RETRANS:
		return "slow (a re-sent SYN-ACK)";
	case DG_SYN_RETRANS:
		return "slow (re-sent SYNs)";
	case DG_HALF_CLOSED:
		return "half-closed";
	case DG_OPEN:
		return "still open";
	case DG_MIDSTREAM:
		return "mid-stream";
	case DG_CONNECTING:
		return "still connecting";
	case DG_REFUSED:
	case DG_RESET_REQUEST:
	case DG_RESET_SERVER:
	case DG_RESET_CLIENT:
	case DG_ANSWERED:
	case DG_OTHER:
	case DG_PROTO_CLASH:
	case DG_HTTP_STATUS:
	case DG_KIND_COUNT:
		break;
	}
	return "unusual";
}

/* Lost events: what they may hide. */
static void w_events_lost(struct words *w, const struct diag_fact *x,
			  const struct lt_source_stats *ss)
{
	struct sbuf *t = w->t;
	const struct diag_group *l = x->g;
	uint64_t lost = ss ? ss->lost : 0;

	if (lost)
		sbuf_printf(w->title,
			    "%" PRIu64
			    " event%s lost: some connections may be missing or incomplete",
			    lost, s_(lost));
	else
		sbuf_puts(w->title, "Events lost: some connections may be incomplete");
	if (lost) {
		sbuf_printf(t, "The source lost %" PRIu64 " event%s before lotrace could read them",
			    lost, s_(lost));
		if (ss->lost_kernel || ss->lost_iface)
			sbuf_printf(t,
				    " (%" PRIu64 " in the kernel's buffer, %" PRIu64
				    " at the interface)",
				    ss->lost_kernel, ss->lost_iface);
		sbuf_puts(t, ".");
	} else {
		sbuf_puts(t, "The source lost events.");
	}
	if (l && l->n) {
		const char *sep = ": ";
		sbuf_printf(t,
			    " %" PRIu64 " connection%s %s live while events were lost, so %s "
			    "evidence may be incomplete",
			    l->n, s_(l->n), l->n == 1 ? "was" : "were",
			    l->n == 1 ? "its" : "their");
		for (int v = 0; v < LT_V_COUNT && x->by_verdict; v++)
			if (x->by_verdict[v]) {
				sbuf_printf(t, "%s%" PRIu64 " looked %s", sep, x->by_verdict[v],
					    lt_verdict_name((enum lt_verdict)v));
				sep = ", ";
			}
		sbuf_puts(t, ". A lost SYN-ACK, ACK, FIN or RST makes a healthy connection look "
			     "unanswered, half-open, open or mid-stream, so no finding below rests "
			     "on them.");
	}
	if (x->ndoubtful) {
		/* one count per kind, in kind order (the groups are sorted) */
		const char *sep = " lotrace cannot tell which connections the lost events belonged "
				  "to, so connections that look ";
		for (int i = 0; i < x->ndoubtful;) {
			int kind = x->doubtful[i]->kind;
			uint64_t n = 0;
			for (; i < x->ndoubtful && x->doubtful[i]->kind == kind; i++)
				n += x->doubtful[i]->n;
			sbuf_printf(t, "%s%s (%" PRIu64 ")", sep, doubt_word(kind), n);
			sep = ", ";
		}
		sbuf_puts(t, " are not findings here: they may be healthy connections whose "
			     "SYN-ACK, ACK or FIN was among the lost events, or real problems; a "
			     "run without loss tells them apart.");
	}
	sbuf_puts(t,
		  " Connections whose every event was lost are missing altogether: the counts in "
		  "this report are lower bounds, and a problem may hide among the lost events.");
	sbuf_puts(w->x, "Watch fewer ports (`--port`), or give the capture a bigger buffer "
			"(`--ring-size` for eBPF), and run again.");
}

static void w_decode(struct words *w, const struct lt_source_stats *ss)
{
	uint64_t probs = dec_stats_problems(&ss->dec), trunc = 0;
	const char *sep = " (";

	for (int l = 0; l < DEC_LAYER_COUNT; l++)
		trunc += ss->dec.problems[DEC_TRUNCATED][l];
	sbuf_printf(w->title, "%" PRIu64 " frame%s could not be decoded", probs, s_(probs));
	sbuf_printf(w->t, "%" PRIu64 " of %" PRIu64 " frames could not be decoded", probs,
		    ss->dec.frames);
	for (int r = DEC_TRUNCATED; r <= DEC_UNSUPPORTED; r++)
		for (int l = 0; l < DEC_LAYER_COUNT; l++)
			if (ss->dec.problems[r][l]) {
				sbuf_printf(w->t, "%s%s %s: %" PRIu64, sep, dec_result_name(r),
					    dec_layer_name(l), ss->dec.problems[r][l]);
				if (r == DEC_MALFORMED && l == DEC_L_IPV4 && ss->dec.bad_ipv4_csum)
					sbuf_printf(w->t,
						    ", %" PRIu64
						    " of them with a bad IPv4 header checksum",
						    ss->dec.bad_ipv4_csum);
				sep = ", ";
			}
	sbuf_puts(w->t, "). They are left out of the analysis; connections they belonged to may "
			"look incomplete.");
	if (ss->dec.bad_ipv4_csum)
		sbuf_printf(w->x,
			    "A bad IPv4 header checksum means the frame was damaged after the "
			    "kernel sent it (the kernel computes it, even on loopback): check how "
			    "the capture was copied or edited.%s",
			    trunc ? " " : "");
	if (trunc)
		sbuf_puts(w->x,
			  "Capture whole packets (`tcpdump -s 0`) so headers are not cut short.");
	else if (!ss->dec.bad_ipv4_csum)
		sbuf_puts(w->x, "Check how the capture was made; if the frames look valid, attach "
				"the capture to a lotrace bug report.");
}

static void w_no_connections(struct words *w, const struct diag_context *c)
{
	const char *where = c->live ? "during the run" : "in the capture";
	char p[160];

	p[0] = '\0';
	if (c->watched && c->watched->n) {
		size_t k = 0;
		for (int i = 0; i < c->watched->n && k < sizeof(p) - 8; i++)
			k += (size_t)snprintf(p + k, sizeof(p) - k, "%s%u", i ? ", " : "",
					      c->watched->list[i]);
	}
	sbuf_puts(w->title, "No connections seen");
	if (p[0])
		sbuf_printf(w->t, "No TCP connection to port%s %s %s.",
			    c->watched->n == 1 ? "" : "s", p, where);
	else
		sbuf_printf(w->t, "No TCP connection %s.", where);
	if (c->live)
		sbuf_puts(w->x,
			  "Is the client connecting at all, and to this port? A proxy (the "
			  "http_proxy/HTTPS_PROXY variables), another network namespace or "
			  "container, or a different port keeps its SYNs off this interface.");
	else
		sbuf_puts(w->x, "Check the port (`--port`), and that the capture was taken where "
				"the traffic went (for loopback: `tcpdump -i lo`).");
}

static void w_no_problem(struct words *w, const struct diag_fact *x)
{
	const struct diag_group *g = x->g;
	struct sbuf *t = w->t;

	if (x->delays)
		sbuf_puts(w->title,
			  "Nothing failed: every handshake completed, some only after retries");
	else
		sbuf_puts(w->title, "Nothing wrong found in the handshakes");
	if (g->n == x->conns && x->lost_conns && g->n == 1)
		sbuf_puts(t,
			  "The one connection whose evidence is complete completed the handshake");
	else if (g->n == x->conns && x->lost_conns)
		sbuf_printf(t,
			    "All %" PRIu64
			    " connections whose evidence is complete completed the handshake",
			    g->n);
	else if (g->n == x->conns && g->n == 1)
		sbuf_puts(t, "The one connection completed the handshake");
	else if (g->n == x->conns)
		sbuf_printf(t, "All %" PRIu64 " connections completed the handshake", g->n);
	else if (g->n == 1)
		sbuf_puts(t, "The one connection whose handshake is in the capture completed it");
	else
		sbuf_printf(t,
			    "All %" PRIu64
			    " connections whose handshake is in the capture completed it",
			    g->n);
	if (x->closed == g->n)
		sbuf_puts(t, " and closed normally");
	sbuf_puts(t,
		  "; none was refused, left unanswered, stuck half-open or reset by the server.");
	if (x->client_rst_after_fin)
		sbuf_printf(
			t,
			" (%" PRIu64
			" ended with a reset from the client after its FIN, which is harmless.)",
			x->client_rst_after_fin);
	if (x->delays)
		sbuf_puts(t, " Some were slow to get going, though: see the re-sent SYNs or "
			     "SYN-ACKs above.");
	if (x->input_doubt)
		sbuf_puts(t, " This holds for what lotrace could read: see the warnings about the "
			     "input above.");
	sbuf_puts(w->x, x->delays ? "Nothing failed in TCP; the re-sent SYNs or SYN-ACKs above "
				    "explain slow connects, if that is the complaint."
				  : "Nothing to fix in TCP; if the application still misbehaves, "
				    "look at what the two sides say to each other.");
}

void diag_words(const struct diag_fact *x, const struct diag_context *c, struct sbuf *title,
		struct sbuf *text, struct sbuf *next)
{
	const struct lt_source_stats *ss = c->src;
	struct words w = { .title = title, .t = text, .x = next };

	if (x->more)
		w_more(&w, x);
	else if (x->g)
		fmt_endpoint(w.e1, x->g->family, &x->g->server);
	switch (x->more ? DIAG_ID_COUNT : x->id) {
	case DIAG_REFUSED:
	case DIAG_REFUSED_OTHER_FAMILY:
	case DIAG_REFUSED_OTHER_ADDRESS:
	case DIAG_REFUSED_BEFORE_LISTENING:
	case DIAG_REFUSED_AFTER_LISTENING:
	case DIAG_REFUSED_INTERMITTENT:
	case DIAG_REFUSED_WHILE_LISTENING:
	case DIAG_REFUSED_WHILE_RESTARTING:
		w_refused(&w, x);
		break;
	case DIAG_UNANSWERED:
		w_unanswered(&w, x, c);
		break;
	case DIAG_HALF_OPEN:
		w_half_open(&w, x);
		break;
	case DIAG_RESET_AFTER_REQUEST:
		w_reset_request(&w, x);
		break;
	case DIAG_SYNACK_RETRANSMITTED:
		w_synack_retrans(&w, x);
		break;
	case DIAG_SYN_RETRANSMITTED:
		w_syn_retrans(&w, x);
		break;
	case DIAG_RESET_BY_SERVER:
	case DIAG_RESET_BY_CLIENT:
		w_reset_side(&w, x);
		break;
	case DIAG_SERVER_SILENT:
	case DIAG_HALF_CLOSED:
		w_half_closed(&w, x, c);
		break;
	case DIAG_STILL_OPEN:
		w_open(&w, x, c);
		break;
	case DIAG_MID_STREAM:
		w_midstream(&w, x);
		break;
	case DIAG_CONNECTING:
		w_connecting(&w, x);
		break;
	case DIAG_INPUT_ENDED_EARLY:
		sbuf_puts(title, "The input ended early");
		sbuf_printf(text,
			    "Reading stopped before the end: %s. This report covers what was read; "
			    "connections that went on past that point look unfinished.",
			    ss ? ss->read_error : "?");
		sbuf_puts(next, "If the file was cut while copying, copy it again; a capture still "
				"being written ends like this too.");
		break;
	case DIAG_EVENTS_LOST:
		w_events_lost(&w, x, ss);
		break;
	case DIAG_DECODE_PROBLEMS:
		if (ss)
			w_decode(&w, ss);
		break;
	case DIAG_FLOWS_EVICTED:
		sbuf_puts(title, "The connection table was full");
		if (c->flows)
			sbuf_printf(text,
				    "%" PRIu64 " connection%s had to be retired early to make room "
				    "(capacity %u); their verdicts may be premature.",
				    c->flows->evicted, s_(c->flows->evicted), c->flows->capacity);
		sbuf_puts(next, "Raise `--max-flows`, or watch fewer ports.");
		break;
	case DIAG_FINDINGS_CUT:
		sbuf_puts(title, "Too many different addresses to tell apart");
		sbuf_printf(text,
			    "%" PRIu64
			    " connection%s went to more server addresses than the report keeps "
			    "apart (%d); they count in the tables but are not in the findings.",
			    x->ungrouped, s_(x->ungrouped), DIAG_GROUPS_MAX);
		sbuf_puts(next, "Narrow the report with `--port`.");
		break;
	case DIAG_NO_CONNECTIONS:
		w_no_connections(&w, c);
		break;
	case DIAG_PROTOCOL_MISMATCH:
		w_protocol(&w, x);
		break;
	case DIAG_HTTP_ERROR:
		w_http_error(&w, x);
		break;
	case DIAG_REFUSED_OTHER_NETNS:
		w_refused_netns(&w, x, c);
		break;
	case DIAG_NO_PROBLEM:
		w_no_problem(&w, x);
		break;
	case DIAG_ID_COUNT:
		break;
	}
}
