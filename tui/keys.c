/* SPDX-License-Identifier: MIT */
/*
 * keys.c - what each key does: one table from key code to action.
 *
 * Every action returns TUI_* flags (REDRAW, RESORT, QUIT) and the loop
 * reacts; no action draws or touches the engine. The help screen is
 * generated from the same table, so it cannot go stale. The filter line
 * is the one modal input: while it is open, keys edit the filter and the
 * list follows as you type.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"
#include "tui_draw.h"
#include "tui_pcap.h"

#define KEY_ESC 27
#define CTRL(c) ((c) & 0x1f)

struct tui_key {
	int key;
	int (*fn)(struct tui *t, int ch);
	const char *name; /* for the help screen; NULL: listed with another */
	const char *what;
};

static int page(const struct tui *t)
{
	return t->view.rows > 1 ? t->view.rows - 1 : 1;
}

static int act_up(struct tui *t, int ch)
{
	if (t->mode == TUI_M_DETAIL) {
		t->detail_scroll -= ch == KEY_PPAGE ? page(t) : 1;
		return TUI_REDRAW;
	}
	tui_view_move(t, ch == KEY_PPAGE ? -(long)page(t) : -1);
	return TUI_REDRAW;
}

static int act_down(struct tui *t, int ch)
{
	if (t->mode == TUI_M_DETAIL) {
		t->detail_scroll += ch == KEY_NPAGE ? page(t) : 1;
		return TUI_REDRAW;
	}
	tui_view_move(t, ch == KEY_NPAGE ? (long)page(t) : 1);
	return TUI_REDRAW;
}

static int act_home(struct tui *t, int ch)
{
	if (t->mode == TUI_M_DETAIL)
		t->detail_scroll = 0;
	else
		tui_view_home(t);
	return TUI_REDRAW;
}

static int act_end(struct tui *t, int ch)
{
	if (t->mode == TUI_M_DETAIL)
		t->detail_scroll = 1 << 20; /* clamped when drawn */
	else
		tui_view_end(t);
	return TUI_REDRAW;
}

static int act_enter(struct tui *t, int ch)
{
	if (t->mode == TUI_M_DETAIL) {
		t->mode = TUI_M_LIST;
		return TUI_REDRAW;
	}
	if (!tui_view_selected(t)) {
		tui_message(t, 0, "no connection to show");
		return TUI_REDRAW;
	}
	t->mode = TUI_M_DETAIL;
	t->detail_scroll = 0;
	return TUI_REDRAW;
}

static int act_back(struct tui *t, int ch)
{
	t->mode = TUI_M_LIST;
	return TUI_REDRAW;
}

static int act_filter(struct tui *t, int ch)
{
	snprintf(t->filter_saved, sizeof(t->filter_saved), "%s", t->view.filter);
	t->mode = TUI_M_FILTER;
	return TUI_REDRAW;
}

static int act_sort(struct tui *t, int ch)
{
	t->view.sort = (enum tui_sort)((t->view.sort + 1) % TUI_SORT_COUNT);
	t->view.follow = 0;
	tui_message(t, 0, "sorted by %s", tui_sort_name(t->view.sort));
	return TUI_REDRAW | TUI_RESORT;
}

static int act_pause(struct tui *t, int ch)
{
	t->paused = !t->paused;
	tui_message(t, 0, t->paused ? "view paused; capture goes on (p resumes)"
				    : "view resumed");
	return TUI_REDRAW | TUI_RESORT;
}

static int act_clear(struct tui *t, int ch)
{
	conn_log_clear(&t->log);
	t->view.sel_id = 0;
	t->view.follow = 1;
	t->mode = TUI_M_LIST;
	tui_message(t, 0, "cleared; new connections will show");
	return TUI_REDRAW | TUI_RESORT;
}

static void stamp_name(char *out, size_t len, const char *prefix, const char *ext)
{
	time_t now = time(NULL);
	struct tm tm;
	char ts[32] = "now";
	if (localtime_r(&now, &tm))
		strftime(ts, sizeof(ts), "%Y%m%d-%H%M%S", &tm);
	snprintf(out, len, "%s-%s.%s", prefix, ts, ext);
}

static int act_write(struct tui *t, int ch)
{
	char path[128], err[256];
	const struct tui_view *v = &t->view;
	const struct flow **fl;
	size_t n = 0;

	if (!v->n) {
		tui_message(t, 1, "no connections to write");
		return TUI_REDRAW;
	}
	fl = malloc(v->n * sizeof(*fl));
	if (!fl) {
		tui_message(t, 1, "cannot write the pcap: out of memory");
		return TUI_REDRAW;
	}
	for (uint32_t i = 0; i < v->n; i++) {
		const struct tui_row *r = conn_log_get(&t->log, v->id[i]);
		if (r)
			fl[n++] = &r->f;
	}
	stamp_name(path, sizeof(path), "lotrace", "pcap");
	long pk = tui_pcap_write(path, fl, n, err, sizeof(err));
	free(fl);
	if (pk < 0)
		tui_message(t, 1, "%s", err);
	else
		tui_message(t, 0, "wrote %zu connection%s (%ld packets, headers only) to %s",
			    n, n == 1 ? "" : "s", pk, path);
	return TUI_REDRAW;
}

/* The report is not there yet (or failed): the selected connection as JSON. */
static void write_conn_json(struct tui *t, const char *why)
{
	const struct tui_row *r = tui_view_selected(t);
	char path[128];
	struct sbuf b;

	if (!r) {
		tui_message(t, 1, "no report (%s) and no connection selected", why);
		return;
	}
	snprintf(path, sizeof(path), "lotrace-conn-%llu.json", (unsigned long long)r->f.id);
	FILE *f = fopen(path, "w");
	if (!f) {
		tui_message(t, 1, "cannot write '%s': %s", path, strerror(errno));
		return;
	}
	sbuf_init(&b, SBUF_DEFAULT_CAP);
	sink_json_conn_obj(&b, &r->f, (enum lt_verdict)r->verdict);
	sbuf_putc(&b, '\n');
	int bad = fwrite(sbuf_str(&b), 1, b.len, f) != b.len;
	bad |= fclose(f) != 0;
	sbuf_release(&b);
	if (bad)
		tui_message(t, 1, "cannot write '%s': %s", path, strerror(errno));
	else
		tui_message(t, 0, "no report (%s); wrote connection #%llu as JSON to %s", why,
			    (unsigned long long)r->f.id, path);
}

static int act_report(struct tui *t, int ch)
{
	char path[128];
	int rc = -ENOSYS;

	if (!t->rep) {
		write_conn_json(t, "not collected");
		return TUI_REDRAW;
	}
	stamp_name(path, sizeof(path), "lotrace-report", "md");
	FILE *f = fopen(path, "w");
	if (!f) {
		tui_message(t, 1, "cannot write '%s': %s", path, strerror(errno));
		return TUI_REDRAW;
	}
	if (t->src)
		t->src->ops->stats(t->src, &t->ss);
	rc = report_write(t->rep, f, report_format_for(path), &t->ri, &t->ss, 1);
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc < 0) {
		remove(path);
		write_conn_json(t, strerror(-rc));
	} else {
		tui_message(t, 0, "wrote the report to %s", path);
	}
	return TUI_REDRAW;
}

static int act_help(struct tui *t, int ch)
{
	t->mode = t->mode == TUI_M_HELP ? TUI_M_LIST : TUI_M_HELP;
	t->help_scroll = 0;
	return TUI_REDRAW;
}

static int act_quit(struct tui *t, int ch)
{
	return TUI_QUIT;
}

static int act_speed(struct tui *t, int ch)
{
	char sp[24];
	if (t->live || t->bench || t->play.eof) {
		tui_message(t, 0, "+ and - change the speed of a replay while it plays");
		return TUI_REDRAW;
	}
	double s = tui_play_next_speed(t->play.speed, ch == '-' ? -1 : 1);
	tui_play_set_speed(&t->play, s, tui_mono_ns());
	tui_message(t, 0, "replay speed %s", tui_play_speed_name(s, sp));
	return TUI_REDRAW;
}

static int act_resize(struct tui *t, int ch)
{
	return TUI_REDRAW;
}

static int act_refresh(struct tui *t, int ch)
{
	clearok(curscr, TRUE);
	return TUI_REDRAW;
}

static const struct tui_key keys[] = {
	{ KEY_UP, act_up, "Up k", "previous connection (scroll in details)" },
	{ 'k', act_up, NULL, NULL },
	{ KEY_DOWN, act_down, "Down j", "next connection (scroll in details)" },
	{ 'j', act_down, NULL, NULL },
	{ KEY_PPAGE, act_up, "PgUp PgDn", "a page up / down" },
	{ KEY_NPAGE, act_down, NULL, NULL },
	{ KEY_HOME, act_home, "Home End", "newest / oldest (g G)" },
	{ 'g', act_home, NULL, NULL },
	{ KEY_END, act_end, NULL, NULL },
	{ 'G', act_end, NULL, NULL },
	{ '\n', act_enter, "Enter", "details of the connection; again to go back" },
	{ '\r', act_enter, NULL, NULL },
	{ KEY_ENTER, act_enter, NULL, NULL },
	{ KEY_ESC, act_back, "Esc", "back to the list" },
	{ KEY_LEFT, act_back, NULL, NULL },
	{ KEY_BACKSPACE, act_back, NULL, NULL },
	{ '/', act_filter, "/", "filter: verdict, port, address or process (words AND)" },
	{ 's', act_sort, "s", "sort by time, verdict, latency, port" },
	{ 'p', act_pause, "p", "pause the view (capture goes on)" },
	{ 'c', act_clear, "c", "clear the list and the counters" },
	{ 'w', act_write, "w", "write the listed connections to a pcap (headers only)" },
	{ 'r', act_report, "r", "write a bug-report summary" },
	{ '+', act_speed, "+ -", "replay speed: 1x, 10x, 100x, instant" },
	{ '=', act_speed, NULL, NULL },
	{ '-', act_speed, NULL, NULL },
	{ '?', act_help, "?", "this help" },
	{ KEY_F(1), act_help, NULL, NULL },
	{ 'h', act_help, NULL, NULL },
	{ CTRL('l'), act_refresh, "Ctrl-L", "redraw the screen" },
	{ 'q', act_quit, "q", "quit (Ctrl-C too)" },
	{ KEY_RESIZE, act_resize, NULL, NULL },
};

/* The filter line: keys edit it and the list follows. */
static int filter_key(struct tui *t, int ch)
{
	char *f = t->view.filter;
	size_t n = strlen(f);

	switch (ch) {
	case '\n':
	case '\r':
	case KEY_ENTER:
		t->mode = TUI_M_LIST;
		if (f[0])
			tui_message(t, 0, "filter '%s' (/ then Ctrl-U and Enter clears it)", f);
		return TUI_REDRAW;
	case KEY_ESC:
		snprintf(f, TUI_FILTER_LEN, "%s", t->filter_saved);
		t->mode = TUI_M_LIST;
		return TUI_REDRAW | TUI_RESORT;
	case KEY_BACKSPACE:
	case 127:
	case CTRL('h'):
		if (n)
			f[n - 1] = '\0';
		return TUI_REDRAW | TUI_RESORT;
	case CTRL('u'):
		f[0] = '\0';
		return TUI_REDRAW | TUI_RESORT;
	case KEY_RESIZE:
		return TUI_REDRAW;
	default:
		if (ch >= 32 && ch < 127 && n + 1 < TUI_FILTER_LEN) {
			f[n] = (char)ch;
			f[n + 1] = '\0';
			t->view.follow = 1;
			return TUI_REDRAW | TUI_RESORT;
		}
		return 0;
	}
}

int tui_key(struct tui *t, int ch)
{
	if (t->mode == TUI_M_FILTER)
		return filter_key(t, ch);
	if (t->mode == TUI_M_HELP) {
		if (ch == KEY_UP || ch == 'k') {
			t->help_scroll--;
			return TUI_REDRAW;
		}
		if (ch == KEY_DOWN || ch == 'j' || ch == ' ' || ch == KEY_NPAGE) {
			t->help_scroll += ch == KEY_NPAGE || ch == ' ' ? page(t) : 1;
			return TUI_REDRAW;
		}
		if (ch == KEY_RESIZE)
			return TUI_REDRAW;
		t->mode = TUI_M_LIST; /* any other key closes the help */
		return TUI_REDRAW;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].key == ch)
			return keys[i].fn(t, ch);
	return 0;
}

int tui_keys_help(char lines[][96], int max)
{
	int n = 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && n < max; i++)
		if (keys[i].name)
			snprintf(lines[n++], 96, "  %-10s %s", keys[i].name, keys[i].what);
	return n;
}
