/* SPDX-License-Identifier: MIT */
/*
 * term.c - the terminal library of the TUI: curses up and down, stderr
 * captured meanwhile, the monotonic clock and status messages.
 *
 * The terminal always comes back: tui_term_done runs on q, on SIGINT/
 * SIGTERM/SIGHUP (main.c's handlers only set a flag, which ends the
 * loop), via atexit on any exit(), and before a fatal message. While
 * curses runs, stderr goes to a temporary file, replayed once the screen
 * is restored. Does not own what is drawn (frame.c, views) or the loop.
 */
#include "term.h"

#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tui.h"

#define MSG_NS 5000000000ull

/* Curses state shared with atexit: the one piece of global state here. */
static struct {
	int up;		/* curses is running */
	int saved_fd;	/* the real stderr while it is redirected, or -1 */
	int tmp_fd;	/* where stderr goes meanwhile */
	SCREEN *screen; /* from newterm, or NULL */
} term = { 0, -1, -1, NULL };

uint64_t tui_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void tui_message(struct tui_ui *ui, int bad, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ui->msg, sizeof(ui->msg), fmt, ap);
	va_end(ap);
	ui->msg_bad = bad;
	ui->msg_until_mono = tui_mono_ns() + MSG_NS;
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

void tui_term_done(void)
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

int tui_term_init(FILE *outfp, FILE *infp)
{
	static int registered;

	setlocale(LC_CTYPE, ""); /* UTF-8 glyphs; numbers stay in "C" */
	if (!registered) {
		atexit(tui_term_done);
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
	return 0;
}

/* Fatal: restore the terminal first, then say why. */
void tui_term_fatal(const char *fmt, ...)
{
	va_list ap;
	tui_term_done();
	fputs("lotrace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}
