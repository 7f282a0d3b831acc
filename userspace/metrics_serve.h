/* SPDX-License-Identifier: MIT */
/*
 * metrics_serve.h - where the metrics exposition goes: an HTTP endpoint
 * (--metrics ADDR:PORT, libmicrohttpd on its own thread) and a file
 * rewritten every --metrics-interval (--metrics-file, for
 * node_exporter's textfile collector).
 *
 * The run rebuilds the text on its own thread and publishes it; the HTTP
 * thread only ever copies the latest published snapshot, under a mutex.
 * The file is written to PATH.tmp.PID in the same directory and renamed
 * over PATH, so a reader never sees half a file.
 * Owns: the listening socket, the HTTP thread, the snapshot, the file.
 * Does not own: the metrics (metrics.h), when they are rebuilt (run.c).
 */
#ifndef LT_METRICS_SERVE_H
#define LT_METRICS_SERVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define METRICS_DEFAULT_PORT_ADDR "127.0.0.1"
#define METRICS_INTERVAL_DEFAULT_NS 15000000000ull

/* "9464" (127.0.0.1), "0.0.0.0:9464", "[::1]:9464". 0, or -1 with a
 * one-line message in err. */
int metrics_listen_parse(const char *s, struct sockaddr_storage *sa, socklen_t *len, char *err,
			 size_t errlen);

struct metrics_serve;

/* Open the endpoint (listen may be NULL) and check the file (may be
 * NULL) can be written; NULL with one line in err. */
struct metrics_serve *metrics_serve_open(const char *listen, const char *file, char *err,
					 size_t errlen);
/* Start serving on the socket metrics_serve_open bound (its thread is
 * made after the run gave up root, so it has the run's credentials);
 * 0, or -1 with one line in err. Nothing to do without HTTP. */
int metrics_serve_start(struct metrics_serve *s, const char *listen, char *err, size_t errlen);
/* The address actually bound ("127.0.0.1:9464"), "" without HTTP. */
const char *metrics_serve_address(const struct metrics_serve *s);
/* Make text the one the endpoint serves (copied). */
void metrics_serve_publish(struct metrics_serve *s, const char *text, size_t len);
/* Write text to the file (temp file, then rename); 0 or -errno. */
int metrics_serve_write_file(struct metrics_serve *s, const char *text, size_t len);
int metrics_serve_has_file(const struct metrics_serve *s);
void metrics_serve_close(struct metrics_serve *s);

#endif
