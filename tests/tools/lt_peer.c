/* SPDX-License-Identifier: MIT */
/*
 * lt_peer.c - real-socket traffic for lotrace's captures, live tests and
 * benchmark.
 *
 * Owns: the test-side peers that make loopback TCP handshakes happen on
 * purpose (a listener with scripted behaviour, a client that reports how
 * each attempt ended, a connection-rate flood). It owns no firewall rules
 * and no captures; captures/record.sh arranges those around it.
 *
 *   lt_peer serve   --addr A --port P [--mode echo|reply|...] ...
 *   lt_peer connect --addr A --port P [--send N] [--expect-reply] ...
 *   lt_peer flood   --addr A --port P --conns N [--parallel K] [--greet N]
 *
 * Exit status: 0 when the subcommand ran (connect's outcomes are printed,
 * one line per attempt), 1 on a runtime failure (socket, bind, listen...),
 * 2 on a usage error.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define EXIT_USAGE 2
#define SERVE_MAX_CONNS 256 /* open connections a server juggles at once */
#define SERVE_TICK_MS 100   /* how often a server looks at the stop flag */
#define FLOOD_BACKLOG 4096
#define IO_BUF 65536
#define MAX_MS 86400000UL /* a day: the longest wait any option takes */
#define MAX_COUNT 1000000000UL

static const char reply_text[] = "lt_peer reply\n";

/* The only global: set by SIGINT/SIGTERM, read by every loop. */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	stop_requested = 1;
}

/* No SA_RESTART: a signal interrupts poll()/nanosleep() with EINTR. */
static int install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
		return -errno;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		return -errno;
	return 0;
}

/* ---- small helpers --------------------------------------------------- */

/* CLOCK_MONOTONIC cannot fail with a valid pointer; 0 if it ever did. */
static uint64_t now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ms(void)
{
	return now_ns() / 1000000u;
}

/* Sleep up to ms milliseconds; returns early when a stop was requested. */
static void sleep_ms(unsigned long ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000),
			       .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (!stop_requested && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Parse a decimal in [min, max]; prints the usage error itself. */
static int parse_ulong(const char *what, const char *s, unsigned long min, unsigned long max,
		       unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!isdigit((unsigned char)*s) || *end != '\0' || errno != 0 || v < min || v > max) {
		fprintf(stderr, "lt_peer: invalid %s '%s': expected %lu-%lu\n", what, s, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/*
 * Report what getopt_long() rejected (optstring ":" makes it return ':' for
 * a missing argument and '?' for an unknown option) as one line.
 */
static int bad_option(const char *cmd, int c, char **argv)
{
	char shortopt[3] = { '-', (char)optopt, '\0' };
	const char *last = argv[optind - 1];
	const char *opt = strncmp(last, "--", 2) == 0 ? last : shortopt;

	if (c == ':')
		fprintf(stderr, "lt_peer: option '%s' needs a value: see 'lt_peer %s --help'\n",
			opt, cmd);
	else
		fprintf(stderr, "lt_peer: unknown option '%s': see 'lt_peer %s --help'\n", opt,
			cmd);
	return EXIT_USAGE;
}

/*
 * Fill *ss with address text s (127.0.0.1, ::1, 0.0.0.0, ::; brackets
 * around an IPv6 address are accepted) and port.
 */
static int parse_addr(const char *s, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(s);
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	if (n >= sizeof(buf))
		goto bad;
	memcpy(buf, s, n + 1);
	if (n >= 2 && buf[0] == '[' && buf[n - 1] == ']') {
		buf[n - 1] = '\0';
		memmove(buf, buf + 1, n - 1);
	}
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, buf, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
		return 0;
	}
bad:
	fprintf(stderr,
		"lt_peer: invalid address '%s': expected an IPv4 or IPv6 literal such as 127.0.0.1 "
		"or ::1\n",
		s);
	return -EINVAL;
}

static int set_int_opt(int fd, int level, int name, int val)
{
	return setsockopt(fd, level, name, &val, sizeof(val)) < 0 ? -errno : 0;
}

/* Close so that the kernel sends RST instead of FIN (RFC 9293 3.6 abort). */
static void close_with_reset(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
		fprintf(stderr, "lt_peer: cannot set SO_LINGER: %s\n", strerror(errno));
	close(fd);
}

static int set_blocking(int fd, bool blocking)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	fl = blocking ? (fl & ~O_NONBLOCK) : (fl | O_NONBLOCK);
	return fcntl(fd, F_SETFL, fl) < 0 ? -errno : 0;
}

/* Send all of buf; returns 0 or a negative errno. */
static int send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR && !stop_requested)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Send len bytes of a repeating pattern. */
static int send_pattern(int fd, unsigned long len)
{
	char buf[4096];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)('a' + i % 26);
	while (len > 0) {
		size_t chunk = len < sizeof(buf) ? (size_t)len : sizeof(buf);
		int err = send_all(fd, buf, chunk);

		if (err < 0)
			return err;
		len -= chunk;
	}
	return 0;
}

/*
 * Create a TCP socket for addr; v6only applies to IPv6 sockets only.
 * Returns the fd or a negative errno.
 */
static int tcp_socket(const struct sockaddr_storage *addr, bool nonblock, bool v6only)
{
	int type = SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0);
	int fd = socket(addr->ss_family, type, 0);
	int err;

	if (fd < 0)
		return -errno;
	if (addr->ss_family == AF_INET6 && v6only) {
		err = set_int_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
		if (err < 0) {
			close(fd);
			return err;
		}
	}
	return fd;
}

/* A listening socket on addr (SO_REUSEPORT: one of a group sharing it);
 * returns the fd or a negative errno. */
static int listen_on(const struct sockaddr_storage *addr, socklen_t len, int backlog, bool v6only,
		     bool reuseport)
{
	int fd = tcp_socket(addr, true, v6only);
	int err;

	if (fd < 0)
		return fd;
	err = set_int_opt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (err == 0 && reuseport)
		err = set_int_opt(fd, SOL_SOCKET, SO_REUSEPORT, 1);
	if (err == 0 && bind(fd, (const struct sockaddr *)addr, len) < 0)
		err = -errno;
	if (err == 0 && listen(fd, backlog) < 0)
		err = -errno;
	if (err < 0) {
		close(fd);
		return err;
	}
	return fd;
}

/* ---- serve ------------------------------------------------------------ */

enum serve_mode {
	MODE_ECHO,
	MODE_REPLY,
	MODE_RESET_AFTER_REQUEST,
	MODE_CLOSE_AFTER_REQUEST,
	MODE_COUNT,
};

static const char *const serve_mode_names[MODE_COUNT] = {
	[MODE_ECHO] = "echo",
	[MODE_REPLY] = "reply",
	[MODE_RESET_AFTER_REQUEST] = "reset-after-request",
	[MODE_CLOSE_AFTER_REQUEST] = "close-after-request",
};

struct serve_opts {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	int backlog;
	bool no_accept;
	bool v6only;
	bool reuseport;
	enum serve_mode mode;
	unsigned long max_conns;   /* 0: no limit */
	unsigned long duration_ms; /* 0: until a signal */
	const char *ready_file;
};

struct server {
	const struct serve_opts *o;
	int lfd;
	int conns[SERVE_MAX_CONNS];
	int nconns;
	unsigned long accepted;
};

/* Write "PID\n" to path atomically (write a temporary, then rename). */
static int write_ready_file(const char *path)
{
	char tmp[PATH_MAX];
	FILE *f;
	int n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);

	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0) {
		int err = -errno;

		unlink(tmp);
		return err;
	}
	if (rename(tmp, path) < 0) {
		int err = -errno;

		unlink(tmp);
		return err;
	}
	return 0;
}

/*
 * Read everything that is readable now without blocking; with echo_fd >= 0
 * each chunk is sent back on it.  Returns bytes read (> 0), 0 on EOF, or a
 * negative errno (-EAGAIN when nothing was there).
 */
static ssize_t drain_readable(int fd, int echo_fd)
{
	char buf[IO_BUF];
	ssize_t total = 0;

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0) {
			int err = echo_fd >= 0 ? send_all(echo_fd, buf, (size_t)n) : 0;

			if (err < 0)
				return err;
			total += n;
			continue;
		}
		if (n == 0)
			return total;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return total > 0 ? total : -EAGAIN;
		return -errno;
	}
}

/*
 * React to a readable (or hung-up) connection per the server's mode.
 * Returns true when the connection is finished and its fd was closed.
 */
static bool serve_conn_input(const struct server *s, int fd)
{
	bool echo = s->o->mode == MODE_ECHO;
	ssize_t n = drain_readable(fd, echo ? fd : -1);

	if (n == -EAGAIN)
		return false;
	if (n <= 0) { /* EOF or error: nothing more to do */
		close(fd);
		return true;
	}
	switch (s->o->mode) {
	case MODE_ECHO:
		return false; /* echoed already; wait for more or EOF */
	case MODE_REPLY:
		/* a peer that is gone gets no reply; the close is the same */
		(void)send_all(fd, reply_text, sizeof(reply_text) - 1);
		close(fd);
		return true;
	case MODE_RESET_AFTER_REQUEST:
		close_with_reset(fd);
		return true;
	case MODE_CLOSE_AFTER_REQUEST:
		close(fd);
		return true;
	case MODE_COUNT:
		break;
	}
	close(fd);
	return true;
}

static bool serve_wants_accept(const struct server *s)
{
	if (s->o->no_accept || s->nconns >= SERVE_MAX_CONNS)
		return false;
	return s->o->max_conns == 0 || s->accepted < s->o->max_conns;
}

/* Accept every pending connection we have room for. */
static int serve_accept(struct server *s)
{
	while (serve_wants_accept(s)) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
			    errno == ECONNABORTED)
				return 0;
			return -errno;
		}
		s->conns[s->nconns++] = fd;
		s->accepted++;
	}
	return 0;
}

static bool serve_done(const struct server *s, uint64_t deadline)
{
	if (stop_requested)
		return true;
	if (deadline && now_ms() >= deadline)
		return true;
	return s->o->max_conns && s->accepted >= s->o->max_conns && s->nconns == 0;
}

static int serve_loop(struct server *s)
{
	struct pollfd pfd[1 + SERVE_MAX_CONNS];
	uint64_t deadline = s->o->duration_ms ? now_ms() + s->o->duration_ms : 0;

	while (!serve_done(s, deadline)) {
		int n = s->nconns;
		int err;

		pfd[0].fd = serve_wants_accept(s) ? s->lfd : -1;
		pfd[0].events = POLLIN;
		for (int i = 0; i < n; i++) {
			pfd[1 + i].fd = s->conns[i];
			pfd[1 + i].events = POLLIN;
		}
		if (poll(pfd, (nfds_t)(1 + n), SERVE_TICK_MS) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		/* downwards, so moving the last slot into i is safe */
		for (int i = n - 1; i >= 0; i--) {
			if (!pfd[1 + i].revents)
				continue;
			if (serve_conn_input(s, s->conns[i]))
				s->conns[i] = s->conns[--s->nconns];
		}
		if (pfd[0].revents & POLLIN) {
			err = serve_accept(s);
			if (err < 0)
				return err;
		}
	}
	return 0;
}

static int serve_run(const struct serve_opts *o)
{
	struct server s = { .o = o, .lfd = -1 };
	int err;

	s.lfd = listen_on(&o->addr, o->addr_len, o->backlog, o->v6only, o->reuseport);
	if (s.lfd < 0) {
		fprintf(stderr, "lt_peer: cannot listen: %s\n", strerror(-s.lfd));
		return 1;
	}
	if (o->ready_file) {
		err = write_ready_file(o->ready_file);
		if (err < 0) {
			fprintf(stderr, "lt_peer: cannot write ready file '%s': %s\n",
				o->ready_file, strerror(-err));
			close(s.lfd);
			return 1;
		}
	}
	err = serve_loop(&s);
	if (err < 0)
		fprintf(stderr, "lt_peer: serve failed: %s\n", strerror(-err));
	for (int i = 0; i < s.nconns; i++)
		close(s.conns[i]);
	close(s.lfd);
	if (o->ready_file)
		unlink(o->ready_file);
	return err < 0 ? 1 : 0;
}

static int parse_mode(const char *s, enum serve_mode *out)
{
	for (int m = 0; m < MODE_COUNT; m++) {
		if (strcmp(s, serve_mode_names[m]) == 0) {
			*out = (enum serve_mode)m;
			return 0;
		}
	}
	fprintf(stderr,
		"lt_peer: invalid mode '%s': expected echo, reply, reset-after-request or "
		"close-after-request\n",
		s);
	return -EINVAL;
}

static void serve_usage(FILE *f)
{
	fprintf(f, "usage: lt_peer serve --addr A --port P [options]\n"
		   "Listen on A:P and handle connections one way.\n"
		   "  --addr A            127.0.0.1, ::1, 0.0.0.0 or ::\n"
		   "  --port P            0-65535\n"
		   "  --backlog N         listen() backlog (default 128)\n"
		   "  --no-accept         never accept: connections pile up in the queue\n"
		   "  --mode M            echo (default): echo until EOF\n"
		   "                      reply: read a request, write a reply, close\n"
		   "                      reset-after-request: read a request, close with RST\n"
		   "                      close-after-request: read a request, close\n"
		   "  --max-conns N       stop after N connections were handled\n"
		   "  --duration-ms N     stop after N milliseconds\n"
		   "  --ready-file F      write the pid to F once listening (removed on exit)\n"
		   "  --v6only            IPV6_V6ONLY on an IPv6 listener\n"
		   "  --reuseport         SO_REUSEPORT: share A:P with other such listeners\n"
		   "Stops on SIGINT or SIGTERM too.\n");
}

static int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "backlog", required_argument, NULL, 'b' },
		{ "no-accept", no_argument, NULL, 'n' },
		{ "mode", required_argument, NULL, 'm' },
		{ "max-conns", required_argument, NULL, 'c' },
		{ "duration-ms", required_argument, NULL, 'd' },
		{ "ready-file", required_argument, NULL, 'r' },
		{ "v6only", no_argument, NULL, '6' },
		{ "reuseport", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct serve_opts o = { .backlog = 128, .mode = MODE_ECHO };
	const char *addr = NULL;
	unsigned long port = 0, v;
	bool have_port = false;
	int c;

	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			addr = optarg;
			break;
		case 'p':
			if (parse_ulong("port", optarg, 0, 65535, &port) < 0)
				return EXIT_USAGE;
			have_port = true;
			break;
		case 'b':
			if (parse_ulong("backlog", optarg, 0, INT_MAX, &v) < 0)
				return EXIT_USAGE;
			o.backlog = (int)v;
			break;
		case 'n':
			o.no_accept = true;
			break;
		case 'm':
			if (parse_mode(optarg, &o.mode) < 0)
				return EXIT_USAGE;
			break;
		case 'c':
			if (parse_ulong("max-conns", optarg, 1, MAX_COUNT, &o.max_conns) < 0)
				return EXIT_USAGE;
			break;
		case 'd':
			if (parse_ulong("duration-ms", optarg, 1, MAX_MS, &o.duration_ms) < 0)
				return EXIT_USAGE;
			break;
		case 'r':
			o.ready_file = optarg;
			break;
		case '6':
			o.v6only = true;
			break;
		case 'u':
			o.reuseport = true;
			break;
		case 'h':
			serve_usage(stdout);
			return 0;
		default:
			return bad_option("serve", c, argv);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "lt_peer: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (!addr || !have_port) {
		fprintf(stderr, "lt_peer: serve needs --addr and --port\n");
		return EXIT_USAGE;
	}
	if (parse_addr(addr, (uint16_t)port, &o.addr, &o.addr_len) < 0)
		return EXIT_USAGE;
	return serve_run(&o);
}

/* ---- connect ---------------------------------------------------------- */

enum outcome {
	OUT_CONNECTED,
	OUT_REFUSED,
	OUT_TIMEOUT,
	OUT_RESET,
	OUT_ERROR,
};

static const char *const outcome_names[] = {
	[OUT_CONNECTED] = "connected", [OUT_REFUSED] = "refused", [OUT_TIMEOUT] = "timeout",
	[OUT_RESET] = "reset",	       [OUT_ERROR] = "error",
};

struct result {
	enum outcome out;
	int err; /* errno for OUT_ERROR */
};

struct connect_opts {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	unsigned long bind_port; /* 0: kernel picks */
	unsigned long send_bytes;
	bool expect_reply;
	bool linger0;
	unsigned long hold_ms;
	unsigned long timeout_ms;
	unsigned long count;
	unsigned long interval_ms;
};

static struct result result_of_errno(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return (struct result){ OUT_REFUSED, err };
	case ETIMEDOUT:
		return (struct result){ OUT_TIMEOUT, err };
	case ECONNRESET:
	case EPIPE:
		return (struct result){ OUT_RESET, err };
	default:
		return (struct result){ OUT_ERROR, err };
	}
}

/* Wait up to timeout_ms for events on fd: 1 ready, 0 timed out, <0 errno. */
static int wait_fd(int fd, short events, unsigned long timeout_ms)
{
	uint64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		uint64_t now = now_ms();
		int r;

		if (stop_requested)
			return -EINTR;
		if (now >= deadline)
			return 0;
		r = poll(&p, 1, (int)(deadline - now)); /* <= MAX_MS */
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

/* Bind the client's source port so the same 4-tuple can come back. */
static int bind_source_port(int fd, const struct connect_opts *o)
{
	struct sockaddr_storage any;
	socklen_t len;
	int err = set_int_opt(fd, SOL_SOCKET, SO_REUSEADDR, 1);

	if (err < 0)
		return err;
	memset(&any, 0, sizeof(any));
	any.ss_family = o->addr.ss_family;
	if (any.ss_family == AF_INET6) {
		((struct sockaddr_in6 *)&any)->sin6_port = htons((uint16_t)o->bind_port);
		len = sizeof(struct sockaddr_in6);
	} else {
		((struct sockaddr_in *)&any)->sin_port = htons((uint16_t)o->bind_port);
		len = sizeof(struct sockaddr_in);
	}
	return bind(fd, (struct sockaddr *)&any, len) < 0 ? -errno : 0;
}

/* Non-blocking connect, then poll up to the timeout. */
static struct result dial(int fd, const struct connect_opts *o)
{
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	int r;

	if (connect(fd, (const struct sockaddr *)&o->addr, o->addr_len) == 0)
		return (struct result){ OUT_CONNECTED, 0 };
	if (errno != EINPROGRESS)
		return result_of_errno(errno);
	r = wait_fd(fd, POLLOUT, o->timeout_ms);
	if (r == 0)
		return (struct result){ OUT_TIMEOUT, ETIMEDOUT };
	if (r < 0)
		return result_of_errno(-r);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		return result_of_errno(errno);
	return soerr ? result_of_errno(soerr) : (struct result){ OUT_CONNECTED, 0 };
}

/* Wait for the first bytes of a reply; EOF before any reply still counts. */
static struct result read_reply(int fd, unsigned long timeout_ms)
{
	char buf[IO_BUF];
	int r = wait_fd(fd, POLLIN, timeout_ms);
	ssize_t n;

	if (r == 0)
		return (struct result){ OUT_TIMEOUT, ETIMEDOUT };
	if (r < 0)
		return result_of_errno(-r);
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
		return result_of_errno(errno);
	return (struct result){ OUT_CONNECTED, 0 };
}

/* One attempt: socket, [bind], connect, [send], [reply], hold, close. */
static struct result connect_once(const struct connect_opts *o)
{
	struct result res;
	int fd = tcp_socket(&o->addr, true, false);
	int err;

	if (fd < 0)
		return result_of_errno(-fd);
	if (o->bind_port) {
		err = bind_source_port(fd, o);
		if (err < 0) {
			close(fd);
			return result_of_errno(-err);
		}
	}
	res = dial(fd, o);
	if (res.out != OUT_CONNECTED) {
		close(fd); /* SYN_SENT: closing sends nothing */
		return res;
	}
	err = set_blocking(fd, true);
	if (err == 0 && o->send_bytes)
		err = send_pattern(fd, o->send_bytes);
	if (err < 0)
		res = result_of_errno(-err);
	else if (o->expect_reply)
		res = read_reply(fd, o->timeout_ms);
	if (res.out == OUT_CONNECTED)
		sleep_ms(o->hold_ms);
	if (o->linger0)
		close_with_reset(fd);
	else
		close(fd);
	return res;
}

static void print_result(struct result r)
{
	if (r.out == OUT_ERROR)
		printf("%s %s\n", outcome_names[r.out], strerror(r.err));
	else
		printf("%s\n", outcome_names[r.out]);
	fflush(stdout);
}

static void connect_usage(FILE *f)
{
	fprintf(f,
		"usage: lt_peer connect --addr A --port P [options]\n"
		"Connect to A:P and print one outcome line per attempt:\n"
		"connected, refused, timeout, reset or 'error <reason>'.\n"
		"  --bind-port N       bind the source port N (SO_REUSEADDR) to reuse a 4-tuple\n"
		"  --send BYTES        send BYTES bytes once connected\n"
		"  --expect-reply      wait for the first bytes of a reply (timeout if none)\n"
		"  --linger0           close with SO_LINGER {1,0}: RST instead of FIN\n"
		"  --hold-ms N         keep the connection open N ms before closing\n"
		"  --timeout-ms N      connect (and reply) timeout, default 5000\n"
		"  --count N           attempts, default 1\n"
		"  --interval-ms N     pause between attempts\n");
}

static int cmd_connect(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "bind-port", required_argument, NULL, 'B' },
		{ "send", required_argument, NULL, 's' },
		{ "expect-reply", no_argument, NULL, 'e' },
		{ "linger0", no_argument, NULL, 'l' },
		{ "hold-ms", required_argument, NULL, 'H' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'n' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct connect_opts o = { .timeout_ms = 5000, .count = 1 };
	const char *addr = NULL;
	unsigned long port = 0;
	bool have_port = false;
	int c;

	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			addr = optarg;
			break;
		case 'p':
			if (parse_ulong("port", optarg, 1, 65535, &port) < 0)
				return EXIT_USAGE;
			have_port = true;
			break;
		case 'B':
			if (parse_ulong("bind-port", optarg, 1, 65535, &o.bind_port) < 0)
				return EXIT_USAGE;
			break;
		case 's':
			if (parse_ulong("send", optarg, 0, MAX_COUNT, &o.send_bytes) < 0)
				return EXIT_USAGE;
			break;
		case 'e':
			o.expect_reply = true;
			break;
		case 'l':
			o.linger0 = true;
			break;
		case 'H':
			if (parse_ulong("hold-ms", optarg, 0, MAX_MS, &o.hold_ms) < 0)
				return EXIT_USAGE;
			break;
		case 't':
			if (parse_ulong("timeout-ms", optarg, 1, MAX_MS, &o.timeout_ms) < 0)
				return EXIT_USAGE;
			break;
		case 'n':
			if (parse_ulong("count", optarg, 1, MAX_COUNT, &o.count) < 0)
				return EXIT_USAGE;
			break;
		case 'i':
			if (parse_ulong("interval-ms", optarg, 0, MAX_MS, &o.interval_ms) < 0)
				return EXIT_USAGE;
			break;
		case 'h':
			connect_usage(stdout);
			return 0;
		default:
			return bad_option("connect", c, argv);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "lt_peer: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (!addr || !have_port) {
		fprintf(stderr, "lt_peer: connect needs --addr and --port\n");
		return EXIT_USAGE;
	}
	if (parse_addr(addr, (uint16_t)port, &o.addr, &o.addr_len) < 0)
		return EXIT_USAGE;
	for (unsigned long i = 0; i < o.count && !stop_requested; i++) {
		if (i > 0)
			sleep_ms(o.interval_ms);
		if (!stop_requested)
			print_result(connect_once(&o));
	}
	return 0;
}

/* ---- flood ------------------------------------------------------------ */

struct flood {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	unsigned long conns;
	unsigned long parallel;
	unsigned long greet; /* bytes the server sends before it closes */
	int lfd;
	atomic_ulong next; /* next cycle a client thread may claim */
	atomic_int failed; /* first errno that stopped the flood */
};

static void flood_fail(struct flood *f, int err)
{
	int expected = 0;

	atomic_compare_exchange_strong(&f->failed, &expected, err);
}

static bool flood_stopped(struct flood *f)
{
	return stop_requested || atomic_load(&f->failed) != 0;
}

/* Listener side: accept (send the greeting) and close at once, so the
 * server closes first. */
static void *flood_acceptor(void *arg)
{
	struct flood *f = arg;
	unsigned long done = 0;

	while (done < f->conns && !flood_stopped(f)) {
		int r = wait_fd(f->lfd, POLLIN, SERVE_TICK_MS);
		int fd;

		if (r < 0 && r != -EINTR) {
			flood_fail(f, -r);
			break;
		}
		if (r <= 0)
			continue;
		while (done < f->conns) {
			fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
			if (fd < 0) {
				if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
				    errno != ECONNABORTED)
					flood_fail(f, errno);
				break;
			}
			if (f->greet) {
				static const char banner[256] = "SSH-2.0-lt_peer flood\r\n";

				if (send(fd, banner, f->greet, MSG_NOSIGNAL) < 0)
					flood_fail(f, errno);
			}
			close(fd);
			done++;
		}
	}
	return NULL;
}

/* One client cycle: connect, wait for the server's FIN, close. */
static int flood_cycle(struct flood *f)
{
	struct timeval tv = { .tv_sec = 5 };
	char buf[64];
	int fd = tcp_socket(&f->addr, false, false);
	int err = 0;

	if (fd < 0)
		return fd;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (const struct sockaddr *)&f->addr, f->addr_len) < 0)
		err = -errno;
	while (err == 0) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n == 0)
			break;
		if (n < 0 && errno != EINTR)
			err = -errno;
	}
	close(fd);
	return err;
}

static void *flood_client(void *arg)
{
	struct flood *f = arg;

	while (!flood_stopped(f) && atomic_fetch_add(&f->next, 1) < f->conns) {
		int err = flood_cycle(f);

		if (err < 0) {
			flood_fail(f, -err);
			break;
		}
	}
	return NULL;
}

/* Start the clients; returns how many started (failures set f->failed). */
static unsigned long flood_start_clients(struct flood *f, pthread_t *cli)
{
	unsigned long started;

	for (started = 0; started < f->parallel; started++) {
		int err = pthread_create(&cli[started], NULL, flood_client, f);

		if (err) {
			flood_fail(f, err);
			break;
		}
	}
	return started;
}

static int flood_run(struct flood *f)
{
	pthread_t acc, *cli = calloc(f->parallel, sizeof(*cli));
	unsigned long started = 0;
	uint64_t t0;
	double secs;
	int err;

	if (!cli) {
		fprintf(stderr, "lt_peer: out of memory\n");
		return 1;
	}
	f->lfd = listen_on(&f->addr, f->addr_len, FLOOD_BACKLOG, false, false);
	if (f->lfd < 0) {
		fprintf(stderr, "lt_peer: cannot listen: %s\n", strerror(-f->lfd));
		free(cli);
		return 1;
	}
	t0 = now_ns();
	err = pthread_create(&acc, NULL, flood_acceptor, f);
	if (err) {
		flood_fail(f, err);
	} else {
		started = flood_start_clients(f, cli);
		for (unsigned long i = 0; i < started; i++)
			pthread_join(cli[i], NULL);
		/* all cycles done means all accepted; else failed/stop is set */
		pthread_join(acc, NULL);
	}
	secs = (double)(now_ns() - t0) / 1e9;
	close(f->lfd);
	free(cli);
	err = atomic_load(&f->failed);
	if (err || stop_requested) {
		fprintf(stderr, "lt_peer: flood stopped: %s\n", strerror(err ? err : EINTR));
		return 1;
	}
	printf("conns=%lu seconds=%.3f rate=%.0f/s\n", f->conns, secs,
	       secs > 0 ? (double)f->conns / secs : 0.0);
	return 0;
}

static void flood_usage(FILE *f)
{
	fprintf(f, "usage: lt_peer flood --addr A --port P --conns N [--parallel K] [--greet N]\n"
		   "Listen on A:P in a thread and run N connect/accept/close cycles from\n"
		   "K client threads (default 1) as fast as possible; prints\n"
		   "conns=N seconds=S rate=R/s. --greet N: the server sends N bytes\n"
		   "(up to 256, an SSH-like banner then zeros) before it closes.\n");
}

static int cmd_flood(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "conns", required_argument, NULL, 'n' },
		{ "parallel", required_argument, NULL, 'k' },
		{ "greet", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct flood f = { .parallel = 1, .lfd = -1 };
	const char *addr = NULL;
	unsigned long port = 0;
	bool have_port = false;
	int c;

	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			addr = optarg;
			break;
		case 'p':
			if (parse_ulong("port", optarg, 1, 65535, &port) < 0)
				return EXIT_USAGE;
			have_port = true;
			break;
		case 'n':
			if (parse_ulong("conns", optarg, 1, MAX_COUNT, &f.conns) < 0)
				return EXIT_USAGE;
			break;
		case 'k':
			if (parse_ulong("parallel", optarg, 1, 1024, &f.parallel) < 0)
				return EXIT_USAGE;
			break;
		case 'g':
			if (parse_ulong("greet", optarg, 0, 256, &f.greet) < 0)
				return EXIT_USAGE;
			break;
		case 'h':
			flood_usage(stdout);
			return 0;
		default:
			return bad_option("flood", c, argv);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "lt_peer: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (!addr || !have_port || !f.conns) {
		fprintf(stderr, "lt_peer: flood needs --addr, --port and --conns\n");
		return EXIT_USAGE;
	}
	if (parse_addr(addr, (uint16_t)port, &f.addr, &f.addr_len) < 0)
		return EXIT_USAGE;
	return flood_run(&f);
}

/* ---- main ------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f, "usage: lt_peer serve|connect|flood [options]\n"
		   "Real-socket peers for lotrace's tests; 'lt_peer CMD --help' for details.\n"
		   "  serve     listen and handle connections (echo, reply, reset, close)\n"
		   "  connect   connect and report: connected, refused, timeout, reset, error\n"
		   "  flood     measure the loopback connection rate\n");
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int, char **);
	} cmds[] = {
		{ "serve", cmd_serve },
		{ "connect", cmd_connect },
		{ "flood", cmd_flood },
	};
	int err;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	err = install_signals();
	if (err < 0) {
		fprintf(stderr, "lt_peer: cannot install signal handlers: %s\n", strerror(-err));
		return 1;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "lt_peer: unknown command '%s': expected serve, connect or flood\n",
		argv[1]);
	return EXIT_USAGE;
}
