/* SPDX-License-Identifier: MIT */
/*
 * metrics_serve.c - the metrics exposition over HTTP (libmicrohttpd,
 * internal polling thread) and into a file (temp file + rename).
 *
 * Owns: the listening socket (opened here, so a bind failure says why;
 * bound before lotrace gives up root, served from metrics_serve_start on),
 * the HTTP thread and the mutex-protected snapshot it serves, the file
 * writes. Does not own: what the text says (metrics.c), when it changes
 * (run.c).
 */
#include "metrics_serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sbuf.h"

struct metrics_serve {
	struct MHD_Daemon *mhd;
	pthread_mutex_t lock; /* guards snap and snap_len */
	char *snap;
	size_t snap_len;
	char addr[80];
	const char *file;
	char *tmp;     /* file.tmp.PID */
	int listen_fd; /* bound, until metrics_serve_start hands it to MHD; -1 */
	int v6;
};

static int parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 65535)
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int metrics_listen_parse(const char *s, struct sockaddr_storage *sa, socklen_t *len, char *err,
			 size_t errlen)
{
	char host[64];
	const char *p;
	uint16_t port;

	memset(sa, 0, sizeof(*sa));
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, (size_t)(end - s - 1));
		host[end - s - 1] = '\0';
		p = end + 2;
	} else if ((p = strrchr(s, ':'))) {
		if ((size_t)(p - s) >= sizeof(host) || strchr(s, ':') != p)
			goto bad;
		memcpy(host, s, (size_t)(p - s));
		host[p - s] = '\0';
		p++;
	} else {
		snprintf(host, sizeof(host), "%s", METRICS_DEFAULT_PORT_ADDR);
		p = s;
	}
	if (parse_port(p, &port) < 0)
		goto bad;
	struct sockaddr_in *in4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		*len = sizeof(*in4);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
	} else {
		goto bad;
	}
	return 0;
bad:
	snprintf(err, errlen,
		 "invalid --metrics '%s': expected PORT, ADDR:PORT or [ADDR6]:PORT with a numeric "
		 "address and a port from 1 to 65535, e.g. 127.0.0.1:9464",
		 s);
	return -1;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_size, void **con_cls)
{
	struct metrics_serve *s = cls;
	static const char not_found[] = "not found: lotrace serves /metrics\n";
	static const char bad_method[] = "only GET and HEAD\n";
	struct MHD_Response *rsp;
	unsigned code = MHD_HTTP_OK;

	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		code = MHD_HTTP_METHOD_NOT_ALLOWED;
		rsp = MHD_create_response_from_buffer(sizeof(bad_method) - 1, (void *)bad_method,
						      MHD_RESPMEM_PERSISTENT);
	} else if (strcmp(url, "/metrics")) {
		code = MHD_HTTP_NOT_FOUND;
		rsp = MHD_create_response_from_buffer(sizeof(not_found) - 1, (void *)not_found,
						      MHD_RESPMEM_PERSISTENT);
	} else {
		pthread_mutex_lock(&s->lock);
		rsp = MHD_create_response_from_buffer(s->snap_len, s->snap ? s->snap : (char *)"",
						      MHD_RESPMEM_MUST_COPY);
		pthread_mutex_unlock(&s->lock);
		if (rsp)
			MHD_add_response_header(rsp, MHD_HTTP_HEADER_CONTENT_TYPE,
						"text/plain; version=0.0.4; charset=utf-8");
	}
	if (!rsp)
		return MHD_NO;
	enum MHD_Result ret = MHD_queue_response(c, code, rsp);
	MHD_destroy_response(rsp);
	return ret;
}

static int open_http(struct metrics_serve *s, const char *listen_at, char *err, size_t errlen)
{
	struct sockaddr_storage sa;
	socklen_t len;
	int one = 1, fd;

	if (metrics_listen_parse(listen_at, &sa, &len, err, errlen) < 0)
		return -1;
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (sa.ss_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	}
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, 16) < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot listen on '%s' for --metrics: %s; %s", listen_at,
			 strerror(e),
			 e == EADDRINUSE
				 ? "pick another port, or stop what listens there (ss -ltnp)"
			 : e == EADDRNOTAVAIL ? "use an address this host has, e.g. 127.0.0.1"
			 : e == EACCES	      ? "use a port above 1023, or run as root"
					      : "check the address");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	struct sockaddr_storage got;
	socklen_t glen = sizeof(got);
	char host[INET6_ADDRSTRLEN] = "?";
	uint16_t port = 0;
	getsockname(fd, (struct sockaddr *)&got, &glen);
	if (got.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&got)->sin6_addr, host, sizeof(host));
		port = ntohs(((struct sockaddr_in6 *)&got)->sin6_port);
		snprintf(s->addr, sizeof(s->addr), "[%s]:%u", host, port);
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&got)->sin_addr, host, sizeof(host));
		port = ntohs(((struct sockaddr_in *)&got)->sin_port);
		snprintf(s->addr, sizeof(s->addr), "%s:%u", host, port);
	}

	s->listen_fd = fd;
	s->v6 = sa.ss_family == AF_INET6;
	return 0;
}

struct metrics_serve *metrics_serve_open(const char *listen_at, const char *file, char *err,
					 size_t errlen)
{
	struct metrics_serve *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory for the metrics");
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->listen_fd = -1;
	if (file) {
		size_t n = strlen(file) + 32;
		s->file = file;
		s->tmp = malloc(n);
		if (!s->tmp) {
			snprintf(err, errlen, "out of memory for the metrics");
			metrics_serve_close(s);
			return NULL;
		}
		snprintf(s->tmp, n, "%s.tmp.%ld", file, (long)getpid());
		int rc = metrics_serve_write_file(s, "", 0);
		if (rc < 0) {
			snprintf(err, errlen,
				 "cannot write --metrics-file '%s': %s; choose a file in a "
				 "directory lotrace can write to",
				 file, strerror(-rc));
			metrics_serve_close(s);
			return NULL;
		}
	}
	if (listen_at && open_http(s, listen_at, err, errlen) < 0) {
		if (file)
			unlink(file);
		metrics_serve_close(s);
		return NULL;
	}
	return s;
}

int metrics_serve_start(struct metrics_serve *s, const char *listen_at, char *err, size_t errlen)
{
	int fd = s->listen_fd;

	if (fd < 0)
		return 0;
	s->listen_fd = -1; /* MHD's from here: closed by MHD_stop_daemon */
	/* The HTTP thread takes no signal: the run's loop gets them all. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	s->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | (s->v6 ? MHD_USE_IPv6 : 0), 0,
				  NULL, NULL, on_request, s, MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_CONNECTION_LIMIT, 16u, MHD_OPTION_CONNECTION_TIMEOUT,
				  10u, MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!s->mhd) {
		close(fd);
		snprintf(err, errlen,
			 "cannot start the HTTP server for --metrics on '%s'; leave out --metrics "
			 "or use --metrics-file",
			 listen_at);
		return -1;
	}
	return 0;
}

const char *metrics_serve_address(const struct metrics_serve *s)
{
	return s->addr;
}

int metrics_serve_has_file(const struct metrics_serve *s)
{
	return s->file != NULL;
}

void metrics_serve_publish(struct metrics_serve *s, const char *text, size_t len)
{
	char *copy, *old;

	if (!s->mhd)
		return;
	copy = malloc(len + 1);
	if (!copy)
		return; /* the endpoint keeps serving the previous text */
	memcpy(copy, text, len);
	copy[len] = '\0';
	pthread_mutex_lock(&s->lock);
	old = s->snap;
	s->snap = copy;
	s->snap_len = len;
	pthread_mutex_unlock(&s->lock);
	free(old);
}

int metrics_serve_write_file(struct metrics_serve *s, const char *text, size_t len)
{
	int fd, rc = 0;

	if (!s->file)
		return 0;
	fd = open(s->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	while (len > 0) {
		ssize_t n = write(fd, text, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		text += n;
		len -= (size_t)n;
	}
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(s->tmp, s->file) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(s->tmp);
	return rc;
}

void metrics_serve_close(struct metrics_serve *s)
{
	if (!s)
		return;
	if (s->mhd)
		MHD_stop_daemon(s->mhd);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	pthread_mutex_destroy(&s->lock);
	free(s->snap);
	free(s->tmp);
	free(s);
}
