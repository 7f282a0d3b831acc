/* SPDX-License-Identifier: MIT */
/*
 * tui.c - the full-screen view: terminal up and down, and the one loop.
 *
 * One poll() over the source's descriptor (live), stdin and a timer.
 * Capture never waits for the screen: sources are dispatched with a
 * budget, data-driven redraws happen at most ten times a second, and a
 * key is answered at once (handler flags, then one frame). Replays are
 * paced by tui_play.c and stay on screen after the end until q.
 *
 * The terminal always comes back: tui_done runs on q, on SIGINT/SIGTERM/
 * SIGHUP (main.c's handlers only set a flag, which ends the loop), via
 * atexit on any exit(), and before a fatal message. While curses runs,
 * stderr goes to a temporary file, replayed once the screen is restored.
 */
#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "frontends.h"
#include "report.h"
#include "tui.h"
#include "tui_draw.h"

#define FRAME_NS 100000000ull   /* data-driven redraws: at most 10/s */
#define IDLE_FRAME_NS 1000000000ull /* refresh rates and clocks once a second */
#define LISTENER_NS 2000000000ull /* re-ask who listens */
#define RATE_NS 250000000ull
#define DISPATCH_BUDGET 4096
#define WORK_NS 20000000ull     /* capture work per loop turn, at most */
#define MSG_NS 5000000000ull

/* Curses state shared with atexit: the one piece of global state here. */
static struct {
	int up;          /* curses is running */
	int saved_fd;    /* the real stderr while it is redirected, or -1 */
	int tmp_fd;      /* where stderr goes meanwhile */
	SCREEN *screen;  /* from newterm, or NULL */
} term = { 0, -1, -1, NULL };

uint64_t tui_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void tui_message(struct tui *t, int bad, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->msg, sizeof(t->msg), fmt, ap);
	va_end(ap);
	t->msg_bad = bad;
	t->msg_until_mono = tui_mono_ns() + MSG_NS;
}

/* ---- terminal up and down ------------------------------------------------ */

static void stderr_capture(void)
{
	char path[] = "/tmp/lotrace-stderr-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return; /* stderr stays where it is; nothing better to do */
	unlink(path);
	fflush(stderr);
	term.saved_fd = dup(STDERR_FILENO);
	if (term.saved_fd < 0 || dup2(fd, STDERR_FILENO) < 0) {
		close(fd);
		if (term.saved_fd >= 0)
			close(term.saved_fd);
		term.saved_fd = -1;
		return;
	}
	term.tmp_fd = fd;
}

static void stderr_release(void)
{
	char buf[4096];
	ssize_t n;

	if (term.saved_fd < 0)
		return;
	fflush(stderr);
	dup2(term.saved_fd, STDERR_FILENO);
	close(term.saved_fd);
	term.saved_fd = -1;
	if (lseek(term.tmp_fd, 0, SEEK_SET) == 0)
		while ((n = read(term.tmp_fd, buf, sizeof(buf))) > 0)
			if (write(STDERR_FILENO, buf, (size_t)n) < 0)
				break;
	close(term.tmp_fd);
	term.tmp_fd = -1;
}

void tui_done(void)
{
	if (term.up) {
		term.up = 0;
		endwin();
		if (term.screen) {
			delscreen(term.screen);
			term.screen = NULL;
		}
	}
	stderr_release();
}

int tui_curses_init(struct tui *t, FILE *outfp, FILE *infp)
{
	static int registered;

	setlocale(LC_CTYPE, ""); /* UTF-8 glyphs; numbers stay in "C" */
	if (!registered) {
		atexit(tui_done);
		registered = 1;
	}
	/* newterm, not initscr: an unknown TERM is an error we report,
	 * not an exit inside curses */
	if (!outfp) {
		stderr_capture();
		outfp = stdout;
		infp = stdin;
	}
	const char *term_name = getenv("TERM");
	term.screen = newterm(term_name && *term_name ? term_name : "xterm", outfp, infp);
	if (!term.screen) {
		stderr_release();
		return -1;
	}
	set_term(term.screen);
	term.up = 1;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	tui_draw_setup(t);
	return 0;
}

/* Fatal: restore the terminal first, then say why. */
static void tui_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void tui_fatal(const char *fmt, ...)
{
	va_list ap;
	tui_done();
	fputs("lotrace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ---- the frame ------------------------------------------------------------ */

static void draw_status(struct tui *t, int y, int w)
{
	char buf[400];
	uint64_t now = tui_mono_ns();

	attrset(A_NORMAL);
	tui_clear_to_eol(y, 0);
	if (t->mode == TUI_M_FILTER) {
		snprintf(buf, sizeof(buf), "filter: %s_", t->view.filter);
		attrset(A_BOLD);
		tui_put(y, 0, w, buf);
		attrset(tui_attr(t, TC_DIM));
		snprintf(buf, sizeof(buf), "  %u match%s  Enter keeps, Esc cancels",
			 t->view.n, t->view.n == 1 ? "" : "es");
		tui_put(y, tui_width("filter: _") + (int)strlen(t->view.filter), w, buf);
		attrset(A_NORMAL);
		return;
	}
	/* state on the right, always; a message or key hints on the left */
	char right[200];
	snprintf(right, sizeof(right), " %s%s%s%s sort:%s  %u/%llu ",
		 t->paused ? "PAUSED  " : "",
		 t->view.filter[0] ? "filter:" : "", t->view.filter,
		 t->view.filter[0] ? " " : "", tui_sort_name(t->view.sort),
		 t->view.n ? t->view.sel + 1 : 0, (unsigned long long)t->view.n);
	int rw = tui_width(right);
	if (rw > w)
		rw = 0;
	if (rw)
		tui_put(y, w - rw, rw, right);
	const char *text = t->msg[0] && now < t->msg_until_mono ? t->msg
			   : t->stopped_why[0]			   ? t->stopped_why
								   : NULL;
	if (text) {
		int bad = text == t->stopped_why || t->msg_bad;
		attrset(bad ? tui_attr(t, TC_BAD) : A_BOLD);
		tui_put(y, 0, w - rw, text);
		attrset(A_NORMAL);
		return;
	}
	static const char *const hints[][2] = {
		{ "q", "quit" }, { "?", "help" }, { "Enter", "details" },
		{ "/", "filter" }, { "s", "sort" }, { "p", "pause" },
		{ "w", "pcap" }, { "r", "report" }, { "c", "clear" },
	};
	int x = 0;
	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
		int need = tui_width(hints[i][0]) + tui_width(hints[i][1]) + 2;
		if (x + need > w - rw)
			break;
		attrset(tui_attr(t, TC_KEY) | A_BOLD);
		x += tui_put(y, x, w - x, hints[i][0]);
		attrset(A_NORMAL);
		x += tui_put(y, x, w - x, " ");
		x += tui_put(y, x, w - x, hints[i][1]);
		x += tui_put(y, x, w - x, " ");
	}
	attrset(A_NORMAL);
}

static void sample_rate(struct tui *t)
{
	const struct flow_counters *fc = flow_tab_counters(t->eng.flows);
	uint64_t now = t->now;
	if (!now || (t->nrate && now < t->rate_next))
		return;
	t->rate[t->rate_pos] = (struct tui_rate_sample){ now, fc->created };
	t->rate_pos = (t->rate_pos + 1) % TUI_RATE_SAMPLES;
	if (t->nrate < TUI_RATE_SAMPLES)
		t->nrate++;
	t->rate_next = now + RATE_NS;
}

void tui_frame(struct tui *t, int flags)
{
	int h = LINES, w = COLS;

	if (t->src) {
		t->src->ops->stats(t->src, &t->ss);
		if (t->live && t->capturing)
			t->now = t->src->ops->now(t->src);
	}
	if (!t->live && !t->bench)
		t->now = t->play.cap_now;
	sample_rate(t);
	/* A key right after a sync draws from it: answering keys does not
	 * wait for a walk over every active flow. */
	uint64_t mono = tui_mono_ns();
	if (!t->paused && mono - t->last_sync_mono >= FRAME_NS) {
		conn_log_sync(&t->log, &t->eng, t->now);
		t->last_sync_mono = mono;
	}
	if (!t->paused && t->log.gen != t->view.log_gen)
		flags |= TUI_RESORT;
	if ((flags & TUI_RESORT) && tui_view_rebuild(t) < 0)
		tui_fatal("out of memory for the list of %llu connections",
			  (unsigned long long)t->log.max_id);

	erase();
	if (w < 30 || h < 5) {
		tui_put(0, 0, w, "lotrace: terminal too small");
		refresh();
		return;
	}
	/* header lines: fewer as the terminal gets short */
	int hmax = h >= 30 ? 4 + 4 : h >= 20 ? 4 : h >= 12 ? 3 : 1;
	int y = tui_draw_header(t, 0, w, hmax);
	int body = h - y - 1;
	switch (t->mode) {
	case TUI_M_DETAIL:
		tui_draw_detail(t, y, body, w);
		break;
	case TUI_M_HELP:
		tui_draw_help(t, y, body, w);
		break;
	case TUI_M_LIST:
	case TUI_M_FILTER:
		tui_draw_conns(t, y, body, w);
		break;
	}
	draw_status(t, h - 1, w);
	refresh();
}

/* ---- the loop ------------------------------------------------------------- */

static void query_listeners(struct tui *t)
{
	int n = listeners_query(t->o->ports.list, t->o->ports.n, t->lis,
				TUI_MAX_LISTENERS);
	t->lis_queried = 1;
	t->lis_err = n < 0 ? n : 0;
	t->nlis = n < 0 ? 0 : n;
}

/* Live: read what is ready, within the budget. Returns observations read. */
static int pump_live(struct tui *t, uint64_t deadline)
{
	int total = 0;
	for (;;) {
		int r = t->src->ops->dispatch(t->src, DISPATCH_BUDGET, engine_obs, &t->eng);
		if (r == -EAGAIN || r == -EINTR || r == 0)
			break;
		if (r < 0 || r == LT_SRC_EOF) {
			t->capturing = 0;
			t->src->ops->stats(t->src, &t->ss);
			snprintf(t->stopped_why, sizeof(t->stopped_why),
				 "capture stopped: %s (the view stays; q quits)",
				 t->ss.read_error[0] ? t->ss.read_error
						     : r == LT_SRC_EOF ? "end of input"
								       : strerror(-r));
			t->exit_status = 1;
			break;
		}
		total += r;
		if (tui_mono_ns() >= deadline)
			break;
	}
	t->now = t->src->ops->now(t->src);
	engine_tick(&t->eng, t->now);
	return total;
}

static int read_keys(struct tui *t)
{
	int flags = 0, ch;
	while ((ch = getch()) != ERR) {
		flags |= tui_key(t, ch);
		if (flags & TUI_QUIT)
			break;
	}
	return flags;
}

static int run_loop(struct tui *t)
{
	uint64_t last_draw = 0, dirty = 1;
	int flags = TUI_REDRAW | TUI_RESORT;
	int src_fd = t->live ? t->src->ops->fd(t->src) : -1;

	for (;;) {
		uint64_t mono = tui_mono_ns();
		int wait_ms = 1000;

		/* capture work */
		if (t->capturing && !t->live) {
			int w = tui_play_step(&t->play, mono, WORK_NS);
			if (w < 0) {
				t->capturing = 0;
				t->src->ops->stats(t->src, &t->ss);
				if (t->ss.read_error[0]) {
					snprintf(t->stopped_why, sizeof(t->stopped_why),
						 t->ss.dec.frames
							 ? "capture ends early: %s; the view shows what it held"
							 : "cannot read the capture: %s",
						 t->ss.read_error);
					t->exit_status = 1;
				}
			}
			wait_ms = w < 0 ? 1000 : w;
			dirty = 1;
		}
		if (t->capturing && t->live && t->o->duration_ns &&
		    mono - t->start_mono >= t->o->duration_ns) {
			t->capturing = 0;
			snprintf(t->stopped_why, sizeof(t->stopped_why),
				 "capture stopped after the --duration; q quits");
		}
		if (t->live && t->capturing && mono >= t->lis_next_mono) {
			query_listeners(t);
			t->lis_next_mono = mono + LISTENER_NS;
			dirty = 1;
		}

		/* draw: at once for a key, at most 10/s for data, else 1/s */
		mono = tui_mono_ns();
		if ((flags & (TUI_REDRAW | TUI_RESORT)) ||
		    (dirty && mono - last_draw >= FRAME_NS) ||
		    mono - last_draw >= IDLE_FRAME_NS) {
			tui_frame(t, flags);
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
		if (t->msg[0] && t->msg_until_mono > mono) {
			int ms = (int)((t->msg_until_mono - mono) / 1000000) + 1;
			if (ms < wait_ms)
				wait_ms = ms;
		}

		struct pollfd pfd[2] = {
			{ .fd = t->keys_tty ? STDIN_FILENO : -1, .events = POLLIN },
			{ .fd = t->capturing ? src_fd : -1, .events = POLLIN },
		};
		int pr = poll(pfd, 2, wait_ms);
		if (lt_stop_requested())
			break;
		if (pr < 0 && errno != EINTR)
			tui_fatal("poll failed: %s", strerror(errno));
		if (pr > 0 && (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL)) &&
		    !(pfd[0].revents & POLLIN))
			break; /* the terminal went away */
		/* also after EINTR: a SIGWINCH becomes KEY_RESIZE in getch */
		flags |= read_keys(t);
		if (flags & TUI_QUIT)
			break;
		if (t->live && t->capturing) {
			if (pr > 0 && (pfd[1].revents & POLLIN)) {
				if (pump_live(t, tui_mono_ns() + WORK_NS))
					dirty = 1;
			} else {
				/* time-driven verdicts (connecting -> unanswered) */
				t->now = t->src->ops->now(t->src);
				engine_tick(&t->eng, t->now);
			}
		}
	}
	return 0;
}

/* ---- entry points ---------------------------------------------------------- */

int lt_want_tui(const struct lt_opts *o)
{
	const char *bench = getenv("LOTRACE_TUI_BENCH");
	if (o->tui || (bench && *bench))
		return 1;
	if (o->no_tui || o->format_set || o->report_cmd)
		return 0;
	return isatty(STDOUT_FILENO);
}

static void write_final_report(struct tui *t)
{
	FILE *f;
	if (!t->rep || !t->o->report_file)
		return;
	f = fopen(t->o->report_file, "w");
	int rc = f ? report_write(t->rep, f, report_format_for(t->o->report_file), &t->ri,
				  &t->ss, 0)
		   : -errno;
	if (f && fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc < 0) {
		fprintf(stderr, "lotrace: cannot write report '%s': %s\n", t->o->report_file,
			strerror(-rc));
		t->exit_status = 1;
	}
}

int lt_tui_main(const struct lt_opts *o)
{
	static struct tui tui; /* large; one per process */
	struct tui *t = &tui;
	struct flow_config cfg;
	char err[LT_ERR_LEN];
	const char *bench = getenv("LOTRACE_TUI_BENCH");

	if (bench && *bench)
		return tui_bench_main(o, strtol(bench, NULL, 10));

	memset(t, 0, sizeof(*t));
	t->o = o;
	if (lt_open_source(o, &t->src, t->note, sizeof(t->note), err) < 0) {
		fprintf(stderr, "lotrace: %s\n", err);
		return 1;
	}
	t->live = lt_source_is_live(t->src);
	lt_flow_config(&cfg, o, t->live);
	if (engine_init(&t->eng, &cfg) < 0) {
		fprintf(stderr, "lotrace: out of memory for %u flows; lower --max-flows\n",
			cfg.max_flows ? cfg.max_flows : LT_FLOWS_DEFAULT);
		t->src->ops->close(t->src);
		return 1;
	}
	for (int i = 0; i < o->ports.n; i++)
		stats_watch(t->eng.stats, o->ports.list[i]);
	if (conn_log_init(&t->log, CONN_LOG_CAP, &o->ports) < 0 ||
	    conn_log_attach(&t->log, &t->eng) < 0) {
		fprintf(stderr, "lotrace: out of memory for the connection list\n");
		t->src->ops->close(t->src);
		engine_release(&t->eng);
		return 1;
	}
	t->rep = report_attach(&t->eng, o, t->live);
	lt_run_info_fill(&t->ri, o, t->src, t->note);
	engine_begin(&t->eng, &t->ri);
	t->capturing = 1;
	t->view.follow = 1;
	t->start_mono = tui_mono_ns();
	t->keys_tty = isatty(STDIN_FILENO); /* else: no keys, signals end it */
	if (!t->live)
		tui_play_init(&t->play, t->src, &t->eng, o->speed);

	if (tui_curses_init(t, NULL, NULL) < 0) {
		fprintf(stderr, "lotrace: cannot start the full-screen view (TERM=%s); "
			"use --no-tui\n", getenv("TERM") ? getenv("TERM") : "");
		t->src->ops->close(t->src);
		engine_release(&t->eng);
		return 1;
	}
	run_loop(t);
	tui_done();

	if (t->live || !t->play.eof)
		engine_finish(&t->eng);
	t->src->ops->stats(t->src, &t->ss);
	write_final_report(t);
	if (t->stopped_why[0] && t->exit_status)
		fprintf(stderr, "lotrace: %s\n", t->stopped_why);
	if (t->ss.lost)
		fprintf(stderr, "lotrace: %llu events were lost\n",
			(unsigned long long)t->ss.lost);
	report_free(t->rep);
	t->src->ops->close(t->src);
	engine_release(&t->eng);
	conn_log_release(&t->log);
	tui_view_release(&t->view);
	return t->exit_status;
}
