/* SPDX-License-Identifier: MIT */
/*
 * listen_note.c - who listens on a port, said at start and after refusals,
 * and each socket that began or stopped listening as it happens (eBPF).
 */
#include "listen_note.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fmt.h"
#include "json.h"
#include "listeners.h"
#include "sink.h"

#define MAX_LISTENERS 32

void listen_note_describe(struct sbuf *b, uint16_t port, const struct listener *ls, int n)
{
	if (n <= 0) {
		sbuf_printf(b, "nothing listens on port %u (any address)", port);
		return;
	}
	for (int i = 0; i < n && i < MAX_LISTENERS; i++) {
		if (i)
			sbuf_puts(b, ", ");
		listener_format(b, &ls[i], LISTENER_NOTE, false);
	}
}

/* After the listeners of a refused connection's port: which one would
 * have taken it (listeners.h), or why none did. */
static void why_refused(struct sbuf *b, const struct flow *f, const struct listener *ls, int n)
{
	char a[FMT_ADDR_LEN];
	bool other_family = true;

	const struct listener *t =
		listener_find_taker(ls, n, f->family, f->server.addr, f->server.port);
	struct stat self;

	/* The refusal was in another network namespace (eBPF): the listeners
	 * above are lotrace's namespace's, and one of them takes the address. */
	if (t && f->ns && stat("/proc/self/ns/net", &self) == 0 &&
	    (uint32_t)self.st_ino != f->ns->ino) {
		char ns[96], ep[FMT_EP_LEN];

		sink_netns_label(f, ns, sizeof(ns));
		fmt_endpoint(ep, f->family, &f->server);
		struct stat init;
		/* as src_bpf_netns.c: no view of pid 1's namespace, ours is the host's */
		bool host = stat("/proc/1/ns/net", &init) != 0 || init.st_ino == self.st_ino;

		sbuf_printf(b,
			    "; the client in namespace %s dialed %s; nothing listens there; "
			    "in the %s namespace %s is served by ",
			    ns, ep, host ? "host" : "lotrace's", ep);
		if (t->pid >= 0)
			sbuf_printf(b, "%s[%d]", t->comm, (int)t->pid);
		else
			sbuf_puts(b, "a socket of unknown process");
		return;
	}
	if (t)
		return; /* one takes it now: it came (back) after the SYN */
	for (int i = 0; i < n; i++)
		other_family &= ls[i].family != f->family;
	fmt_addr(a, f->family, f->server.addr);
	if (other_family)
		sbuf_printf(b, "; none takes %s: the server listens on IPv%d only", a,
			    ls[0].family);
	else
		sbuf_printf(b, "; none takes %s: the server listens on another address", a);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The first failed write's reason, kept for the run's message: the
 * run only sees the stream's error flag later, when errno says nothing. */
static void note_failed(struct listen_note *ln)
{
	if (!ln->write_errno)
		ln->write_errno = errno ? errno : EIO;
}

void listen_note_print(struct listen_note *ln, uint16_t port, const char *why,
		       const struct flow *refused)
{
	struct listener ls[MAX_LISTENERS];
	struct sbuf b;
	int n = listeners_query(&port, 1, ls, MAX_LISTENERS);

	if (n < 0)
		return; /* no sock_diag here: say nothing rather than guess */
	if (n > MAX_LISTENERS)
		n = MAX_LISTENERS;
	sbuf_init(&b, 8192);
	if (ln->json) {
		struct json j;
		json_init(&j, &b);
		json_obj_open(&j);
		json_kv_str(&j, "type", "listeners");
		json_kv_u64(&j, "port", port);
		json_kv_str(&j, "why", why);
		json_key(&j, "listeners");
		json_arr_open(&j);
		for (int i = 0; i < n; i++) {
			char a[FMT_ADDR_LEN];
			json_obj_open(&j);
			json_kv_str(&j, "addr", fmt_addr(a, ls[i].family, ls[i].addr));
			json_kv_u64(&j, "port", ls[i].port);
			json_kv_u64(&j, "ip_version", ls[i].family);
			json_kv_bool(&j, "v6only", ls[i].v6only);
			json_kv_u64(&j, "backlog", ls[i].backlog);
			json_kv_u64(&j, "queued", ls[i].queued);
			if (ls[i].pid >= 0) {
				json_kv_i64(&j, "pid", ls[i].pid);
				json_kv_str(&j, "comm", ls[i].comm);
			} else {
				json_kv_null(&j, "pid");
				json_kv_null(&j, "comm");
			}
			json_obj_close(&j);
		}
		json_arr_close(&j);
		json_obj_close(&j);
		sbuf_putc(&b, '\n');
	} else {
		if (refused) {
			char c[FMT_EP_LEN], s[FMT_EP_LEN];
			sbuf_printf(&b, "# %s -> %s refused; listening on %u: ",
				    fmt_endpoint(c, refused->family, &refused->client),
				    fmt_endpoint(s, refused->family, &refused->server), port);
		} else {
			sbuf_printf(&b, "# listening on %u: ", port);
		}
		listen_note_describe(&b, port, ls, n);
		if (refused && n > 0)
			why_refused(&b, refused, ls, n);
		sbuf_putc(&b, '\n');
	}
	sink_flush(ln->sink); /* the lines before the note go first */
	if (fwrite(sbuf_str(&b), 1, b.len, ln->out) != b.len || fflush(ln->out) != 0)
		note_failed(ln);
	sbuf_release(&b);
}

#define NOTE_EVERY_NS 1000000000ull
#define NOTE_PROBES 16

/* At most one note per port and second. A port's slot is found by
 * probing from its hash; a new port takes the first slot whose note is a
 * second old. If all probed slots are younger, the note is skipped: a
 * refusal storm over many ports prints a bounded number of notes. */
static bool note_due(struct listen_note *ln, uint16_t port, uint64_t t)
{
	unsigned h = (port * 40503u) >> 8;
	int free_slot = -1;

	for (int i = 0; i < NOTE_PROBES; i++) {
		int k = (int)((h + (unsigned)i) % LISTEN_NOTE_SLOTS);

		if (ln->slot[k].last_ns && ln->slot[k].port == port) {
			if (t - ln->slot[k].last_ns < NOTE_EVERY_NS)
				return false;
			ln->slot[k].last_ns = t;
			return true;
		}
		if (free_slot < 0 &&
		    (!ln->slot[k].last_ns || t - ln->slot[k].last_ns >= NOTE_EVERY_NS))
			free_slot = k;
	}
	if (free_slot < 0) {
		ln->skipped++;
		return false;
	}
	ln->slot[free_slot].port = port;
	ln->slot[free_slot].last_ns = t ? t : 1;
	return true;
}

/* When a connection turns refused, not when it retires (a second later,
 * live): the listeners asked are those of the moment of the refusal, and
 * the note comes at once. */
static void on_change(void *ctx, const struct flow *f, enum lt_verdict v)
{
	struct listen_note *ln = ctx;
	if (v != LT_V_REFUSED)
		return;
	if (note_due(ln, f->server.port, now_ns()))
		listen_note_print(ln, f->server.port, "refused", f);
}

void listen_note_json_netns(struct json *j, const struct listen_ev *ev)
{
	json_key(j, "netns");
	if (!ev->netns) {
		json_null(j);
		return;
	}
	json_obj_open(j);
	json_kv_u64(j, "inode", ev->netns);
	if (ev->ns && ev->ns->name[0])
		json_kv_str(j, "name", ev->ns->name);
	else
		json_kv_null(j, "name");
	if (ev->ns && ev->ns->container[0])
		json_kv_str(j, "container", ev->ns->container);
	else
		json_kv_null(j, "container");
	json_obj_close(j);
}

void listen_note_event(struct sbuf *b, const struct listen_ev *ev, int json)
{
	char a[FMT_ADDR_LEN], t[FMT_TIME_LEN];
	bool up = ev->what == LT_LISTEN_BEGAN;

	if (json) {
		struct json j;
		json_init(&j, b);
		json_obj_open(&j);
		json_kv_str(&j, "type", "listener");
		json_kv_str(&j, "event", up ? "listen" : "close");
		json_kv_str(&j, "time", fmt_time_iso(t, ev->ts_ns));
		json_kv_u64(&j, "time_ns", ev->ts_ns);
		json_kv_str(&j, "addr", fmt_addr(a, ev->l.family, ev->l.addr));
		json_kv_u64(&j, "port", ev->l.port);
		json_kv_u64(&j, "ip_version", ev->l.family);
		if (ev->l.backlog)
			json_kv_u64(&j, "backlog", ev->l.backlog);
		else
			json_kv_null(&j, "backlog");
		if (ev->l.pid > 0) {
			json_kv_i64(&j, "pid", ev->l.pid);
			json_kv_str(&j, "comm", ev->l.comm);
		} else {
			json_kv_null(&j, "pid");
			json_kv_null(&j, "comm");
		}
		if (ev->proc_start_ns) {
			json_kv_str(&j, "process_start", fmt_time_iso(t, ev->proc_start_ns));
			json_kv_u64(&j, "process_start_ns", ev->proc_start_ns);
		} else {
			json_kv_null(&j, "process_start");
			json_kv_null(&j, "process_start_ns");
		}
		listen_note_json_netns(&j, ev);
		json_obj_close(&j);
		sbuf_putc(b, '\n');
		return;
	}
	sbuf_printf(b, "# %s ", fmt_time(t, ev->ts_ns, 0));
	listener_format(b, &ev->l, LISTENER_ENDPOINT, false);
	sbuf_puts(b, up ? " began listening: " : " stopped listening: ");
	if (ev->l.pid > 0)
		sbuf_printf(b, "%s[%d]", ev->l.comm, (int)ev->l.pid);
	else
		sbuf_puts(b, "unknown process");
	if (ev->proc_start_ns)
		sbuf_printf(b, " (started %s)", fmt_time(t, ev->proc_start_ns, 0));
	if (up && ev->l.backlog)
		sbuf_printf(b, " backlog %u", ev->l.backlog);
	sbuf_putc(b, '\n');
}

static void on_listen(void *ctx, const struct listen_ev *ev)
{
	struct listen_note *ln = ctx;
	struct sbuf b;

	sbuf_init(&b, 512);
	listen_note_event(&b, ev, ln->json);
	sink_flush(ln->sink);
	if (fwrite(sbuf_str(&b), 1, b.len, ln->out) != b.len)
		note_failed(ln);
	sbuf_release(&b);
}

int listen_note_attach(struct listen_note *ln, struct engine *e, FILE *out, int json,
		       struct lt_sink *sink)
{
	struct lt_tap t = { .on_change = on_change,
			    .change_verdicts = 1u << LT_V_REFUSED,
			    .on_listen = on_listen,
			    .ctx = ln };
	memset(ln, 0, sizeof(*ln));
	ln->out = out;
	ln->sink = sink;
	ln->json = json;
	return engine_add_tap(e, &t);
}
