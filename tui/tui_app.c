/* SPDX-License-Identifier: MIT */
/*
 * tui_app.c - the TUI's application loop: it owns the run.
 *
 * Owns: the source, the engine (with the model as its observer), the
 * report and the replay pacing; one poll() over the source's descriptor
 * (live), stdin and a timer; the snapshot each frame draws (the model and
 * read-only copies of the source's and the table's counters, listeners
 * and run facts); the commands keys ask for (pcap, report, speed, clear).
 * Capture never waits for the screen: sources are dispatched with a
 * budget, data-driven redraws happen at most ten times a second, and a
 * key is answered at once (its flags, then one frame). Replays are paced
 * by tui_play.c and stay on screen after the end until q.
 *
 * This is the only file under tui/ that knows the engine and the source;
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

#include "engine.h"
#include "frame.h"
#include "frontends.h"
#include "keys.h"
#include "report.h"
#include "source.h"
#include "term.h"
#include "tui.h"
#include "tui_pcap.h"
#include "tui_play.h"

#define FRAME_NS 100000000ull   /* data-driven redraws: at most 10/s */
#define IDLE_FRAME_NS 1000000000ull /* refresh rates and clocks once a second */
#define LISTENER_NS 2000000000ull /* re-ask who listens */
#define RATE_NS 250000000ull
#define RATE_SAMPLES 16
#define DISPATCH_BUDGET 4096
#define WORK_NS 20000000ull     /* capture work per loop turn, at most */

struct rate_sample {
	uint64_t t_ns;
	uint64_t created;
};

struct tui_app {
	const struct lt_opts *o;
	struct engine eng;
	struct lt_source *src;
	struct lt_run_info ri;
	char note[LT_ERR_LEN];
	int live;                /* a live source (fd to poll) */
	int capturing;           /* still reading the source */
	int bench;               /* synthetic data, no source */
	int keys_tty;            /* stdin is a terminal: read keys from it */
	struct tui_play play;    /* replays only */
	struct report *rep;
	uint64_t start_mono;
	uint64_t now;            /* the source's clock, for verdicts */
	uint64_t last_sync_mono; /* when the model was last synced */

	struct tui_model model;
	struct tui_ui ui;
	struct tui_snap snap;

	struct lt_source_stats ss;
	struct listener lis[TUI_MAX_LISTENERS];
	int nlis, lis_err, lis_queried;
	uint64_t lis_next_mono;
	struct rate_sample rate[RATE_SAMPLES];
	int nrate, rate_pos;
	uint64_t rate_next;

	char stopped_why[LT_ERR_LEN]; /* why capture ended early, "" */
	int exit_status;
};

/* ---- the snapshot ----------------------------------------------------------- */

static void sample_rate(struct tui_app *a)
{
	const struct flow_counters *fc = flow_tab_counters(a->eng.flows);
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
	const struct stats *st = a->eng.stats;
	/* a finished replay: the average over the capture */
	if (!a->live && !a->bench && a->play.eof) {
		/* averaged over a second at least: 2 connections 1 ms apart
		 * are not "2000 per second" */
		double secs = st->last_ts > st->first_ts
				      ? (double)(st->last_ts - st->first_ts) / 1e9
				      : 0;
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
	const struct flow_counters *fc = flow_tab_counters(a->eng.flows);

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
	s->replay_done = !a->live && !a->bench && a->play.eof;
	s->speed = a->play.speed;
	s->now = a->now;
	s->frame_ts = a->play.cap_now;
	s->frames = a->ss.dec.frames;
	s->lost = a->ss.lost;
	s->dec_problems = dec_stats_problems(&a->ss.dec);
	s->evicted = fc ? fc->evicted : 0;
	s->rate = conn_rate(a);
	memcpy(s->lis, a->lis, sizeof(s->lis));
	s->nlis = a->nlis;
	s->lis_err = a->lis_err;
	s->lis_queried = a->lis_queried;
	s->stopped_why = a->stopped_why;
}

/* Sync, rebuild what flags ask for, fill the snapshot, draw. */
static void frame(struct tui_app *a, int flags)
{
	if (a->src) {
		a->src->ops->stats(a->src, &a->ss);
		if (a->live && a->capturing)
			a->now = a->src->ops->now(a->src);
	}
	if (!a->live && !a->bench)
		a->now = a->play.cap_now;
	sample_rate(a);
	/* A key right after a sync draws from it: answering keys does not
	 * wait for a walk over every active flow. */
	uint64_t mono = tui_mono_ns();
	if (!a->ui.paused && mono - a->last_sync_mono >= FRAME_NS) {
		tui_model_sync(&a->model, a->eng.flows, a->now);
		a->last_sync_mono = mono;
	}
	if (!a->ui.paused && a->model.gen != a->ui.view.model_gen)
		flags |= TUI_RESORT;
	if ((flags & TUI_RESORT) && tui_view_rebuild(&a->ui.view, &a->model) < 0)
		tui_term_fatal("out of memory for the list of %llu connections",
			       (unsigned long long)a->model.max_id);
	fill_snap(a);
	tui_frame_draw(&a->snap, &a->ui);
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
		tui_message(&a->ui, 0, "no report (%s); wrote connection #%llu as JSON to %s",
			    why, (unsigned long long)d->f.id, path);
}

static void cmd_report(struct tui_app *a)
{
	char path[128];
	int rc = -ENOSYS;

	if (!a->rep) {
		write_conn_json(a, "not collected");
		return;
	}
	stamp_name(path, sizeof(path), "lotrace-report", "md");
	FILE *f = fopen(path, "w");
	if (!f) {
		tui_message(&a->ui, 1, "cannot write '%s': %s", path, strerror(errno));
		return;
	}
	if (a->src)
		a->src->ops->stats(a->src, &a->ss);
	rc = report_write(a->rep, f, report_format_for(path), &a->ri, &a->ss, 1);
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
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
	double s = tui_play_next_speed(a->play.speed, dir);
	tui_play_set_speed(&a->play, s, tui_mono_ns());
	tui_message(&a->ui, 0, "replay speed %s", tui_speed_name(s, sp));
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

/* Live: read what is ready, within the budget. Returns observations read. */
static int pump_live(struct tui_app *a, uint64_t deadline)
{
	int total = 0;
	for (;;) {
		int r = a->src->ops->dispatch(a->src, DISPATCH_BUDGET, engine_obs, &a->eng);
		if (r == -EAGAIN || r == -EINTR || r == 0)
			break;
		if (r < 0 || r == LT_SRC_EOF) {
			a->capturing = 0;
			a->src->ops->stats(a->src, &a->ss);
			snprintf(a->stopped_why, sizeof(a->stopped_why),
				 "capture stopped: %s (the view stays; q quits)",
				 a->ss.read_error[0] ? a->ss.read_error
						     : r == LT_SRC_EOF ? "end of input"
								       : strerror(-r));
			a->exit_status = 1;
			break;
		}
		total += r;
		if (tui_mono_ns() >= deadline)
			break;
	}
	a->now = a->src->ops->now(a->src);
	engine_tick(&a->eng, a->now);
	return total;
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
	int src_fd = a->live ? a->src->ops->fd(a->src) : -1;

	for (;;) {
		uint64_t mono = tui_mono_ns();
		int wait_ms = 1000;

		/* capture work */
		if (a->capturing && !a->live) {
			int w = tui_play_step(&a->play, mono, WORK_NS);
			if (w < 0) {
				a->capturing = 0;
				a->src->ops->stats(a->src, &a->ss);
				if (a->ss.read_error[0]) {
					snprintf(a->stopped_why, sizeof(a->stopped_why),
						 a->ss.dec.frames
							 ? "capture ends early: %s; the view shows what it held"
							 : "cannot read the capture: %s",
						 a->ss.read_error);
					a->exit_status = 1;
				}
			}
			wait_ms = w < 0 ? 1000 : w;
			dirty = 1;
		}
		if (a->capturing && a->live && a->o->duration_ns &&
		    mono - a->start_mono >= a->o->duration_ns) {
			a->capturing = 0;
			snprintf(a->stopped_why, sizeof(a->stopped_why),
				 "capture stopped after the --duration; q quits");
		}
		if (a->live && a->capturing && mono >= a->lis_next_mono) {
			query_listeners(a);
			a->lis_next_mono = mono + LISTENER_NS;
			dirty = 1;
		}

		/* draw: at once for a key, at most 10/s for data, else 1/s */
		mono = tui_mono_ns();
		if ((flags & (TUI_REDRAW | TUI_RESORT)) ||
		    (dirty && mono - last_draw >= FRAME_NS) ||
		    mono - last_draw >= IDLE_FRAME_NS) {
			frame(a, flags);
			last_draw = tui_mono_ns();
			flags = 0;
			dirty = 0;
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

		struct pollfd pfd[2] = {
			{ .fd = a->keys_tty ? STDIN_FILENO : -1, .events = POLLIN },
			{ .fd = a->capturing ? src_fd : -1, .events = POLLIN },
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
			if (pr > 0 && (pfd[1].revents & POLLIN)) {
				if (pump_live(a, tui_mono_ns() + WORK_NS))
					dirty = 1;
			} else {
				/* time-driven verdicts (connecting -> unanswered) */
				a->now = a->src->ops->now(a->src);
				engine_tick(&a->eng, a->now);
			}
		}
	}
	return 0;
}

/* ---- setting up and down ---------------------------------------------------- */

static int attach_model(struct tui_app *a, uint32_t rows)
{
	struct engine_observer ob = { .on_change = tui_model_on_change,
				      .on_retire = tui_model_on_retire,
				      .ctx = &a->model };
	if (tui_model_init(&a->model, rows, 0, &a->o->ports, a->eng.cfg.connecting_ns) < 0)
		return -1;
	return engine_add_observer(&a->eng, &ob);
}

static void app_release(struct tui_app *a)
{
	report_free(a->rep);
	if (a->src)
		a->src->ops->close(a->src);
	engine_release(&a->eng);
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

static void write_final_report(struct tui_app *a)
{
	FILE *f;
	if (!a->rep || !a->o->report_file)
		return;
	f = fopen(a->o->report_file, "w");
	int rc = f ? report_write(a->rep, f, report_format_for(a->o->report_file), &a->ri,
				  &a->ss, 0)
		   : -errno;
	if (f && fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc < 0) {
		fprintf(stderr, "lotrace: cannot write report '%s': %s\n", a->o->report_file,
			strerror(-rc));
		a->exit_status = 1;
	}
}

int lt_tui_main(const struct lt_opts *o)
{
	static struct tui_app app; /* large; one per process */
	struct tui_app *a = &app;
	struct flow_config cfg;
	char err[LT_ERR_LEN];

	memset(a, 0, sizeof(*a));
	a->o = o;
	if (lt_open_source(o, &a->src, a->note, sizeof(a->note), err) < 0) {
		fprintf(stderr, "lotrace: %s\n", err);
		return 1;
	}
	a->live = lt_source_is_live(a->src);
	lt_flow_config(&cfg, o, a->live);
	if (engine_init(&a->eng, &cfg) < 0) {
		fprintf(stderr, "lotrace: out of memory for %u flows; lower --max-flows\n",
			cfg.max_flows ? cfg.max_flows : LT_FLOWS_DEFAULT);
		a->src->ops->close(a->src);
		return 1;
	}
	for (int i = 0; i < o->ports.n; i++)
		stats_watch(a->eng.stats, o->ports.list[i]);
	if (attach_model(a, 0) < 0) {
		fprintf(stderr, "lotrace: out of memory for the connection list\n");
		app_release(a);
		return 1;
	}
	a->rep = report_attach(&a->eng, o, a->live);
	lt_run_info_fill(&a->ri, o, a->src, a->note);
	engine_begin(&a->eng, &a->ri);
	a->capturing = 1;
	a->ui.view.follow = 1;
	a->start_mono = tui_mono_ns();
	a->keys_tty = isatty(STDIN_FILENO); /* else: no keys, signals end it */
	if (!a->live)
		tui_play_init(&a->play, a->src, &a->eng, o->speed);

	if (start_curses(a, NULL, NULL) < 0) {
		fprintf(stderr, "lotrace: cannot start the full-screen view (TERM=%s); "
			"use --no-tui\n", getenv("TERM") ? getenv("TERM") : "");
		app_release(a);
		return 1;
	}
	run_loop(a);
	tui_term_done();

	if (a->live || !a->play.eof)
		engine_finish(&a->eng);
	a->src->ops->stats(a->src, &a->ss);
	write_final_report(a);
	if (a->stopped_why[0] && a->exit_status)
		fprintf(stderr, "lotrace: %s\n", a->stopped_why);
	if (a->ss.lost)
		fprintf(stderr, "lotrace: %llu events were lost\n", (unsigned long long)a->ss.lost);
	app_release(a);
	return a->exit_status;
}

/* ---- driving it without a source (tests/tui/tui_bench.c) --------------------- */

struct tui_app *tui_app_new_bench(const struct lt_opts *o, uint32_t max_flows,
				  uint32_t rows)
{
	struct tui_app *a = calloc(1, sizeof(*a));
	struct flow_config cfg;

	if (!a)
		return NULL;
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
	if (engine_init(&a->eng, &cfg) < 0) {
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

struct engine *tui_app_engine(struct tui_app *a)
{
	return &a->eng;
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
