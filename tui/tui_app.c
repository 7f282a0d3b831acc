/* SPDX-License-Identifier: MIT */
/*
 * tui_app.c - the TUI's application loop: it owns the run.
 *
 * Owns: the run (run.h: source, replay pacing, engine, report, -w; the
 * model is one of its taps) and drives it step by step: one poll() over
 * the run's descriptor (live), stdin and a timer (the next paced
 * observation); the snapshot each frame draws (the model and read-only
 * copies of the source's and the table's counters, listeners and run
 * facts); the commands keys ask for (pcap, report, speed, clear).
 * Capture never waits for the screen: run_step reads within a time
 * budget, data-driven redraws happen at most ten times a second, and a
 * key is answered at once (its flags, then one frame). Replays stay on
 * screen after the end until q; run_finish says what went wrong once the
 * terminal is back.
 *
 * This is the only file under tui/ that knows the run and the source;
 * views see the snapshot (tui.h), the terminal is term.c's.
 */
#include "tui_app.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"
#include "frame.h"
#include "frontends.h"
#include "keys.h"
#include "run.h"
#include "source.h"
#include "term.h"
#include "tui.h"
#include "tui_pcap.h"

#define FRAME_NS 100000000ull	      /* data-driven redraws: at most 10/s */
#define KEY_SYNC_NS 1000000000ull     /* a key's frame walks the flows if older */
#define IDLE_FRAME_NS 1000000000ull   /* refresh rates and clocks once a second */
#define LISTENER_NS 2000000000ull     /* re-ask who listens */
#define LISTENER_SOON_NS 100000000ull /* ... at once when traffic contradicts it */
#define RATE_NS 250000000ull
#define RATE_SAMPLES 16
#define WORK_NS 20000000ull /* capture work per loop turn, at most */

struct rate_sample {
	uint64_t t_ns;
	uint64_t created;
};

struct tui_app {
	const struct lt_opts *o;
	struct lt_run *run;
	struct lt_run_info ri;
	int live;	  /* a live source (fd to poll) */
	int capturing;	  /* still reading the source */
	int bench;	  /* synthetic data, no source */
	int keys_tty;	  /* stdin is a terminal: read keys from it */
	int replay_done;  /* a replay stopped reading */
	double speed;	  /* replay speed, 0 instant */
	uint64_t cap_now; /* replay clock */
	uint64_t start_mono;
	uint64_t now;		 /* the source's clock, for verdicts */
	uint64_t last_sync_mono; /* when the model was last synced */

	struct tui_model model;
	struct tui_ui ui;
	struct tui_snap snap;

	struct lt_source_stats ss;
	struct listener lis[TUI_MAX_LISTENERS];
	int nlis, lis_err, lis_queried;
	uint64_t lis_next_mono;
	uint64_t lis_last_mono;
	struct rate_sample rate[RATE_SAMPLES];
	int nrate, rate_pos;
	uint64_t rate_next;

	char stopped_why[LT_ERR_LEN]; /* why capture ended early, "" */
};

/* ---- the snapshot ----------------------------------------------------------- */

static void sample_rate(struct tui_app *a)
{
	const struct flow_counters *fc = run_flow_counters(a->run);
	uint64_t now = a->now;
	if (!now || (a->nrate && now < a->rate_next))
		return;
	a->rate[a->rate_pos] = (struct rate_sample){ now, fc->created };
	a->rate_pos = (a->rate_pos + 1) % RATE_SAMPLES;
	if (a->nrate < RATE_SAMPLES)
		a->nrate++;
	a->rate_next = now + RATE_NS;
}

static double conn_rate(const struct tui_app *a)
{
	const struct stats *st = run_stats(a->run);
	/* a finished replay: the average over the capture */
	if (!a->live && !a->bench && a->replay_done) {
		/* averaged over a second at least: 2 connections 1 ms apart
		 * are not "2000 per second" */
		double secs =
			st->last_ts > st->first_ts ? (double)(st->last_ts - st->first_ts) / 1e9 : 0;
		return (double)st->total.conns / (secs > 1 ? secs : 1);
	}
	if (a->nrate < 2)
		return 0;
	int newest = (a->rate_pos + RATE_SAMPLES - 1) % RATE_SAMPLES;
	int oldest = a->nrate < RATE_SAMPLES ? 0 : a->rate_pos;
	const struct rate_sample *x = &a->rate[oldest], *y = &a->rate[newest];
	if (y->t_ns <= x->t_ns)
		return 0;
	return (double)(y->created - x->created) / ((double)(y->t_ns - x->t_ns) / 1e9);
}

/* What this frame shows: the model and copies of everything else. */
static void fill_snap(struct tui_app *a)
{
	struct tui_snap *s = &a->snap;
	const struct flow_counters *fc = run_flow_counters(a->run);

	s->m = &a->model;
	s->version = a->ri.version;
	s->backend = a->ri.backend;
	s->backend_note = a->ri.backend_note;
	s->input = a->ri.input;
	s->link_name = a->ri.link_name;
	s->ports = &a->o->ports;
	s->live = a->live;
	s->bench = a->bench;
	s->capturing = a->capturing;
	s->replay_done = !a->live && !a->bench && a->replay_done;
	s->speed = a->speed;
	s->now = a->now;
	/* the capture time of the newest segment the view has seen, not the
	 * pacing clock that runs between frames */
	s->frame_ts = a->model.last_ts;
	s->frames = a->ss.dec.frames;
	s->lost = a->ss.lost;
	s->nproblems = 0;
	for (int i = 0; i < a->ss.ncounters && s->nproblems < TUI_MAX_PROBLEMS; i++)
		if (a->ss.counters[i].problem && a->ss.counters[i].value)
			s->problems[s->nproblems++] =
				(struct tui_problem){ a->ss.counters[i].name,
						      a->ss.counters[i].value };
	s->dec_problems = dec_stats_problems(&a->ss.dec);
	s->evicted = fc ? fc->evicted : 0;
	s->time_jumps = fc ? fc->time_jumps : 0;
	s->rate = conn_rate(a);
	memcpy(s->lis, a->lis, sizeof(s->lis));
	s->nlis = a->nlis;
	s->lis_err = a->lis_err;
	s->lis_queried = a->lis_queried;
	s->stopped_why = a->stopped_why;
}

/* Sync, rebuild what flags ask for, fill the snapshot, draw. */
/*
 * Sync, rebuild what flags ask for, fill the snapshot, draw. A frame a
 * key asked for (flags) is drawn from the last walk over the active
 * flows if that is less than KEY_SYNC_NS old: answering keys does not
 * wait for a walk over 100,000 flows; data frames walk them up to ten
 * times a second. Returns 1 when it walked them.
 */
static int frame(struct tui_app *a, int flags)
{
	int synced = 0;
	run_source_stats(a->run, &a->ss);
	sample_rate(a);
	uint64_t mono = tui_mono_ns();
	/* the detail of a connection older than the model's detail window:
	 * its full record comes with the next sync, if it is still active */
	const struct tui_row *sel = tui_view_selected(&a->ui.view, &a->model);
	int want = tui_model_pin(&a->model, a->ui.mode == TUI_M_DETAIL && sel ? sel->id : 0);
	if (want && !sel->final)
		a->last_sync_mono = 0;
	uint64_t age = mono - a->last_sync_mono;
	int for_key = flags & (TUI_REDRAW | TUI_RESORT);
	if (!a->ui.paused && age >= (for_key ? KEY_SYNC_NS : FRAME_NS)) {
		tui_model_sync(&a->model, run_flows(a->run), a->now);
		a->last_sync_mono = mono;
		synced = 1;
	}
	if (!a->ui.paused && a->model.gen != a->ui.view.model_gen)
		flags |= TUI_RESORT;
	if ((flags & TUI_RESORT) && tui_view_rebuild(&a->ui.view, &a->model) < 0)
		tui_term_fatal("out of memory for the list of %llu connections",
			       (unsigned long long)a->model.max_id);
	fill_snap(a);
	tui_frame_draw(&a->snap, &a->ui);
	return synced;
}

/* ---- commands keys ask for ------------------------------------------------------ */

static void stamp_name(char *out, size_t len, const char *prefix, const char *ext)
{
	time_t now = time(NULL);
	struct tm tm;
	char ts[32] = "now";
	if (localtime_r(&now, &tm))
		strftime(ts, sizeof(ts), "%Y%m%d-%H%M%S", &tm);
	snprintf(out, len, "%s-%s.%s", prefix, ts, ext);
}

/* w: the listed connections whose full record is kept, as a pcap. */
static void cmd_pcap(struct tui_app *a)
{
	char path[128], err[256];
	const struct tui_view *v = &a->ui.view;
	const struct flow **fl;
	size_t n = 0, old = 0;

	fl = malloc((v->n ? v->n : 1) * sizeof(*fl));
	if (!fl) {
		tui_message(&a->ui, 1, "cannot write the pcap: out of memory");
		return;
	}
	for (uint32_t i = 0; i < v->n; i++) {
		const struct tui_detail *d = tui_model_detail(&a->model, v->id[i]);
		if (d)
			fl[n++] = &d->f;
		else
			old++;
	}
	stamp_name(path, sizeof(path), "lotrace", "pcap");
	long pk = tui_pcap_write(path, fl, n, err, sizeof(err));
	free(fl);
	if (pk < 0)
		tui_message(&a->ui, 1, "%s", err);
	else if (old)
		tui_message(&a->ui, 0,
			    "wrote %zu connection%s (%ld packets, headers only) to %s; %zu older "
			    "ones have no timeline kept",
			    n, n == 1 ? "" : "s", pk, path, old);
	else
		tui_message(&a->ui, 0, "wrote %zu connection%s (%ld packets, headers only) to %s",
			    n, n == 1 ? "" : "s", pk, path);
}

/* The report is not there (or failed): the selected connection as JSON. */
static void write_conn_json(struct tui_app *a, const char *why)
{
	const struct tui_row *r = tui_view_selected(&a->ui.view, &a->model);
	const struct tui_detail *d = r ? tui_model_detail(&a->model, r->id) : NULL;
	char path[128];
	struct sbuf b;

	if (!d) {
		tui_message(&a->ui, 1, "no report (%s) and no recent connection selected", why);
		return;
	}
	snprintf(path, sizeof(path), "lotrace-conn-%llu.json", (unsigned long long)d->f.id);
	FILE *f = fopen(path, "w");
	if (!f) {
		tui_message(&a->ui, 1, "cannot write '%s': %s", path, strerror(errno));
		return;
	}
	sbuf_init(&b, SBUF_DEFAULT_CAP);
	sink_json_conn_obj(&b, &d->f, (enum lt_verdict)d->verdict);
	sbuf_putc(&b, '\n');
	int bad = fwrite(sbuf_str(&b), 1, b.len, f) != b.len;
	bad |= fclose(f) != 0;
	sbuf_release(&b);
	if (bad)
		tui_message(&a->ui, 1, "cannot write '%s': %s", path, strerror(errno));
	else
		tui_message(&a->ui, 0, "no report (%s); wrote connection #%llu as JSON to %s", why,
			    (unsigned long long)d->f.id, path);
}

static void cmd_report(struct tui_app *a)
{
	char path[128];
	int rc = -ENOSYS;

	stamp_name(path, sizeof(path), "lotrace-report", "md");
	rc = run_write_report(a->run, path);
	if (rc < 0 && rc != -ENOMEM) {
		tui_message(&a->ui, 1, "cannot write '%s': %s", path, strerror(-rc));
		return;
	}
	if (rc < 0) {
		remove(path);
		write_conn_json(a, strerror(-rc));
	} else {
		tui_message(&a->ui, 0, "wrote the report to %s", path);
	}
}

static void cmd_speed(struct tui_app *a, int dir)
{
	char sp[24];
	double s = run_next_speed(a->speed, dir);
	if (run_set_speed(a->run, s) < 0)
		return;
	a->speed = s;
	tui_message(&a->ui, 0, "replay speed %s", fmt_speed(sp, s));
}

/* A key: its flags for the loop, after carrying out its commands. */
static int handle_key(struct tui_app *a, int ch)
{
	fill_snap(a);
	int flags = tui_key(&a->ui, &a->snap, ch);
	if (flags & TUI_CMD_CLEAR)
		tui_model_clear(&a->model);
	if (flags & TUI_CMD_PCAP)
		cmd_pcap(a);
	if (flags & TUI_CMD_REPORT)
		cmd_report(a);
	if (flags & (TUI_CMD_FASTER | TUI_CMD_SLOWER))
		cmd_speed(a, flags & TUI_CMD_SLOWER ? -1 : 1);
	if (flags & TUI_CMD_REFRESH)
		clearok(curscr, TRUE);
	return flags & (TUI_REDRAW | TUI_RESORT | TUI_QUIT);
}

/* ---- the loop ------------------------------------------------------------- */

static void query_listeners(struct tui_app *a)
{
	int n = listeners_query(a->o->ports.list, a->o->ports.n, a->lis, TUI_MAX_LISTENERS);
	a->lis_queried = 1;
	a->lis_err = n < 0 ? n : 0;
	a->nlis = n < 0 ? 0 : n;
}

/* Mirror what the snapshot shows of the run: reading or not, the clock,
 * why it stopped. */
static void mirror_run(struct tui_app *a)
{
	int was = a->capturing;
	a->capturing = run_stopped(a->run) == RUN_READING;
	a->replay_done = !a->live && !a->capturing;
	a->speed = run_speed(a->run);
	if (a->capturing || was) {
		a->now = run_now(a->run);
		if (!a->live)
			a->cap_now = a->now;
	}
	if (was && !a->capturing && run_stop_text(a->run)[0])
		snprintf(a->stopped_why, sizeof(a->stopped_why), "%s; q quits",
			 run_stop_text(a->run));
}

static int read_keys(struct tui_app *a)
{
	int flags = 0, ch;
	while ((ch = getch()) != ERR) {
		flags |= handle_key(a, ch);
		if (flags & TUI_QUIT)
			break;
	}
	return flags;
}

static int run_loop(struct tui_app *a)
{
	uint64_t last_draw = 0, dirty = 1;
	int flags = TUI_REDRAW | TUI_RESORT;

	for (;;) {
		uint64_t mono = tui_mono_ns();
		int wait_ms = 1000;

		/* replay work: what is due, within the budget */
		if (a->capturing && !a->live) {
			run_step(a->run, WORK_NS);
			mirror_run(a);
			int w = run_wait_ms(a->run);
			wait_ms = a->capturing && w >= 0 ? w : 1000;
			dirty = 1;
		}
		if (a->live && a->capturing && mono >= a->lis_next_mono) {
			query_listeners(a);
			a->lis_last_mono = mono;
			a->lis_next_mono = mono + LISTENER_NS;
			dirty = 1;
		}

		/* draw: at once for a key, at most 10/s for data, else 1/s */
		mono = tui_mono_ns();
		if ((flags & (TUI_REDRAW | TUI_RESORT)) ||
		    (dirty && mono - last_draw >= FRAME_NS) || mono - last_draw >= IDLE_FRAME_NS) {
			int synced = frame(a, flags);
			last_draw = tui_mono_ns();
			if (synced || !(flags & (TUI_REDRAW | TUI_RESORT)))
				dirty = 0; /* else the next data frame walks the flows */
			flags = 0;
		}
		if (dirty) {
			uint64_t due = last_draw + FRAME_NS;
			int ms = due > mono ? (int)((due - mono) / 1000000) + 1 : 0;
			if (ms < wait_ms)
				wait_ms = ms;
		}
		if (a->ui.msg[0] && a->ui.msg_until_mono > mono) {
			int ms = (int)((a->ui.msg_until_mono - mono) / 1000000) + 1;
			if (ms < wait_ms)
				wait_ms = ms;
		}

		if (a->live && a->capturing) { /* the ring is read on a timer */
			int w = run_wait_ms(a->run);
			if (w >= 0 && w < wait_ms)
				wait_ms = w;
		}

		struct pollfd pfd[2] = {
			{ .fd = a->keys_tty ? STDIN_FILENO : -1, .events = POLLIN },
			{ .fd = a->capturing ? run_fd(a->run) : -1, .events = POLLIN },
		};
		int pr = poll(pfd, 2, wait_ms);
		if (lt_stop_requested())
			break;
		if (pr < 0 && errno != EINTR)
			tui_term_fatal("poll failed: %s", strerror(errno));
		if (pr > 0 && (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL)) &&
		    !(pfd[0].revents & POLLIN))
			break; /* the terminal went away */
		/* also after EINTR: a SIGWINCH becomes KEY_RESIZE in getch */
		flags |= read_keys(a);
		if (flags & TUI_QUIT)
			break;
		if (a->live && a->capturing) {
			/* what is ready; also the clock's time-driven verdicts
			 * (connecting -> unanswered) and --duration */
			run_step(a->run, WORK_NS);
			mirror_run(a);
			if (pr > 0 && (pfd[1].revents & POLLIN))
				dirty = 1;
		}
	}
	return 0;
}

/* ---- setting up and down ---------------------------------------------------- */

/* A connection that contradicts the listener line (answered on a port
 * with no listener listed, refused on a port with one): ask who listens
 * now (at most 10 times a second) instead of at the next 2 s query. */
static void listener_contradicted(void *ctx, const struct flow *f, enum lt_verdict v)
{
	struct tui_app *a = ctx;
	bool answered = f->side[LT_DIR_S2C].syn_count > 0, listed = false;
	uint64_t soon = a->lis_last_mono + LISTENER_SOON_NS;

	if (!a->live || !a->lis_queried || (!answered && v != LT_V_REFUSED))
		return;
	for (int i = 0; i < a->nlis && !listed; i++)
		listed = a->lis[i].port == f->server.port;
	if (answered != listed && soon < a->lis_next_mono)
		a->lis_next_mono = soon;
}

/* A socket on a watched port began or stopped listening (eBPF): the
 * listener line asks who listens now, on the loop's next turn. */
static void listener_changed(void *ctx, const struct listen_ev *ev)
{
	struct tui_app *a = ctx;
	(void)ev;
	a->lis_next_mono = 0;
}

static int attach_model(struct tui_app *a, uint32_t rows)
{
	struct lt_tap t = { .on_change = tui_model_on_change,
			    .on_retire = tui_model_on_retire,
			    .ctx = &a->model };
	struct lt_tap l = { .on_change = listener_contradicted,
			    .on_retire = listener_contradicted,
			    .on_listen = listener_changed,
			    .ctx = a };
	if (tui_model_init(&a->model, rows, 0, 0, &a->o->ports,
			   run_flow_config(a->run)->connecting_ns) < 0)
		return -1;
	if (run_add_tap(a->run, &t) < 0)
		return -1;
	return a->live ? run_add_tap(a->run, &l) : 0;
}

static void app_release(struct tui_app *a)
{
	run_close(a->run);
	a->run = NULL;
	tui_model_release(&a->model);
	tui_view_release(&a->ui.view);
}

static int start_curses(struct tui_app *a, FILE *outfp, FILE *infp)
{
	if (tui_term_init(outfp, infp) < 0)
		return -1;
	tui_draw_setup(&a->ui.look);
	return 0;
}

int lt_want_tui(const struct lt_opts *o)
{
	if (o->tui)
		return 1;
	if (o->no_tui || o->format_set || o->report_cmd)
		return 0;
	return isatty(STDOUT_FILENO);
}

int lt_tui_main(const struct lt_opts *o)
{
	static struct tui_app app; /* large; one per process */
	struct tui_app *a = &app;
	int status;

	memset(a, 0, sizeof(*a));
	a->o = o;
	a->run = run_open(o, RUN_TUI, &status);
	if (!a->run)
		return status;
	a->live = run_live(a->run);
	a->ri = *run_info(a->run);
	if (attach_model(a, 0) < 0) {
		fprintf(stderr, "lotrace: out of memory for the connection list\n");
		app_release(a);
		return 1;
	}
	a->capturing = 1;
	a->ui.view.follow = 1;
	a->start_mono = tui_mono_ns();
	a->keys_tty = isatty(STDIN_FILENO); /* else: no keys, signals end it */
	mirror_run(a);

	if (start_curses(a, NULL, NULL) < 0) {
		fprintf(stderr,
			"lotrace: cannot start the full-screen view (TERM=%s); "
			"use --no-tui\n",
			getenv("TERM") ? getenv("TERM") : "");
		app_release(a);
		return 1;
	}
	run_loop(a);
	tui_term_done();

	status = run_finish(a->run);
	app_release(a);
	return status;
}

/* ---- driving it without a source (tests/tui/tui_bench.c) --------------------- */

/* The benchmark's source: nothing to read; tui_app_feed brings the
 * connections. */
static int none_fd(struct lt_source *s)
{
	return -1;
}

static int none_dispatch(struct lt_source *s, int budget, lt_obs_fn fn, void *ctx)
{
	return 0;
}

static uint64_t none_now(struct lt_source *s)
{
	return 0;
}

static void none_stats(struct lt_source *s, struct lt_source_stats *st)
{
	memset(st, 0, sizeof(*st));
}

static void none_close(struct lt_source *s)
{
	free(s);
}

static const struct lt_source_ops none_ops = {
	.name = "bench",
	.fd = none_fd,
	.dispatch = none_dispatch,
	.now = none_now,
	.stats = none_stats,
	.close = none_close,
};

struct tui_app *tui_app_new_bench(const struct lt_opts *o, uint32_t max_flows, uint32_t rows)
{
	struct tui_app *a = calloc(1, sizeof(*a));
	struct lt_source *src = calloc(1, sizeof(*src));
	struct flow_config cfg;
	int status;

	if (!a || !src) {
		free(a);
		free(src);
		return NULL;
	}
	src->ops = &none_ops;
	src->link_type = -1;
	snprintf(src->desc, sizeof(src->desc), "synthetic");
	a->o = o;
	a->bench = 1;
	a->capturing = 1;
	a->ri.version = LT_VERSION;
	a->ri.backend = "bench";
	a->ri.input = "synthetic";
	a->ui.view.follow = 1;
	lt_flow_config(&cfg, o, 0);
	cfg.max_flows = max_flows;
	cfg.syn_timeout_ns = cfg.idle_timeout_ns = 3600 * 1000000000ull;
	cfg.linger_ns = 3600 * 1000000000ull;
	a->run = run_open_source(o, RUN_TUI, src, NULL, &cfg, &status);
	if (!a->run) {
		free(a);
		return NULL;
	}
	if (attach_model(a, rows) < 0) {
		app_release(a);
		free(a);
		return NULL;
	}
	return a;
}

void tui_app_feed(struct tui_app *a, const struct lt_obs *o)
{
	run_feed(a->run, o);
}

void tui_app_set_now(struct tui_app *a, uint64_t now_ns)
{
	a->now = now_ns;
}

int tui_app_start(struct tui_app *a, FILE *outfp, FILE *infp, int cols, int rows)
{
	if (start_curses(a, outfp, infp) < 0)
		return -1;
	resize_term(rows, cols);
	return 0;
}

int tui_app_key(struct tui_app *a, int ch)
{
	return handle_key(a, ch);
}

void tui_app_frame(struct tui_app *a, int flags, int full)
{
	if (full) {
		a->last_sync_mono = 0;
		a->model.gen++;
		flags |= TUI_RESORT;
	}
	frame(a, flags);
}

uint64_t tui_app_rows(const struct tui_app *a)
{
	return a->model.max_id;
}

void tui_app_free(struct tui_app *a)
{
	if (!a)
		return;
	tui_term_done();
	app_release(a);
	free(a);
}
