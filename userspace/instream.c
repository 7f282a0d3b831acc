/* SPDX-License-Identifier: MIT */
/*
 * instream.c - capture bytes from a file, stdin or a pipe, plain or gzip,
 * as a stdio stream over zlib (gzdopen reads plain data transparently,
 * so nothing is ever peeked at and put back, and pipes work).
 */
#include "instream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "stdio_nolock.h"

#if defined(__GLIBC__) || (defined(__linux__) && !defined(__ANDROID__))
#define LT_COOKIE_FOPENCOOKIE 1
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__) || \
	defined(__DragonFly__)
#define LT_COOKIE_FUNOPEN 1
#endif

struct instream {
	gzFile gz;
	int is_gzip;
	char err[200];
};

#if defined(LT_COOKIE_FOPENCOOKIE) || defined(LT_COOKIE_FUNOPEN)
/* One read for stdio: bytes, 0 at a clean end, -1 with is->err set. */
static int is_read(struct instream *is, char *buf, size_t size)
{
	unsigned n = size > (1u << 30) ? (1u << 30) : (unsigned)size;
	int r = gzread(is->gz, buf, n);
	int zerr = Z_OK;
	const char *msg = gzerror(is->gz, &zerr);

	if (r > 0 || (r == 0 && zerr == Z_OK)) {
		if (r > 0)
			is->is_gzip = !gzdirect(is->gz);
		return r;
	}
	/* gzerror prefixes the path zlib was given ("<fd:3>: ") */
	if (msg && !strncmp(msg, "<fd:", 4) && strstr(msg, ": "))
		msg = strstr(msg, ": ") + 2;
	if (zerr == Z_ERRNO || !msg)
		snprintf(is->err, sizeof(is->err), "%s", strerror(errno));
	else if (zerr == Z_BUF_ERROR)
		/* zlib saw the input end before the gzip trailer: a cut file,
		 * even if the cut falls between two capture records */
		snprintf(is->err, sizeof(is->err),
			 "gzip data ends before its trailer (%s): the file was cut; check it with "
			 "'gzip -t'",
			 msg);
	else if (zerr == Z_DATA_ERROR)
		snprintf(is->err, sizeof(is->err),
			 "gzip data is corrupt (%s); check it with 'gzip -t'", msg);
	else
		snprintf(is->err, sizeof(is->err), "gzip: %s", msg);
	errno = EIO;
	return -1;
}

static int is_close(struct instream *is)
{
	int r = gzclose_r(is->gz);
	free(is);
	return r == Z_OK ? 0 : EOF;
}

#endif

#if defined(LT_COOKIE_FOPENCOOKIE)
static ssize_t cookie_read(void *c, char *buf, size_t size)
{
	return is_read(c, buf, size);
}

static int cookie_close(void *c)
{
	return is_close(c);
}

static FILE *make_stream(struct instream *is)
{
	cookie_io_functions_t io = { .read = cookie_read, .close = cookie_close };
	return fopencookie(is, "rb", io);
}
#elif defined(LT_COOKIE_FUNOPEN)
static int cookie_read(void *c, char *buf, int size)
{
	return is_read(c, buf, size > 0 ? (size_t)size : 0);
}

static int cookie_close(void *c)
{
	return is_close(c);
}

static FILE *make_stream(struct instream *is)
{
	return funopen(is, cookie_read, NULL, NULL, cookie_close);
}
#endif

/* The stream's buffer (the caller's, see instream.h; glibc takes no size
 * without one: a 4 KiB read(2) per 4 KiB of a file), and no lock: only
 * libpcap reads it, on the thread that opened it, and glibc's fread locks
 * and unlocks the stream with two atomic operations on every call, two
 * calls per record (perf: an eighth of a replay's CPU). */
static void own_stream(FILE *f, void *buf, size_t bufsize)
{
	if (buf)
		setvbuf(f, buf, _IOFBF, bufsize);
	stdio_nolock(f);
}

FILE *instream_open(const char *path, struct instream **out, void *buf, size_t bufsize, char *err,
		    size_t errlen)
{
	int stdin_ = !strcmp(path, "-");
	int fd = stdin_ ? dup(0) : open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	*out = NULL;
	if (fd < 0) {
		snprintf(err, errlen, "cannot read capture '%s': %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0)
		memset(&st, 0, sizeof(st)); /* not a regular file, then */
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, errlen,
			 "cannot read capture '%s': it is a directory; give a capture file", path);
		close(fd);
		return NULL;
	}
	if (stdin_ && isatty(fd)) {
		snprintf(err, errlen,
			 "cannot read capture '-': standard input is a terminal; pipe a capture "
			 "in, e.g. tcpdump -i lo -w - | lotrace -r -");
		close(fd);
		return NULL;
	}
	/* A regular file that is not gzip (its first bytes can be read
	 * without moving the offset): plain stdio, with a large buffer. Replay
	 * spends a quarter of its time in the reads; the zlib cookie path
	 * costs twice as much per record. */
	unsigned char magic[2];
	int plain = S_ISREG(st.st_mode) && pread(fd, magic, 2, 0) == 2 &&
		    !(magic[0] == 0x1f && magic[1] == 0x8b);
#if !defined(LT_COOKIE_FOPENCOOKIE) && !defined(LT_COOKIE_FUNOPEN)
	/* No stdio cookies on this platform: plain captures only. */
	plain = 1;
#endif
	if (plain) {
		FILE *pf = fdopen(fd, "rb");
		if (!pf) {
			snprintf(err, errlen, "cannot read capture '%s': %s", path,
				 strerror(errno));
			close(fd);
			return NULL;
		}
		own_stream(pf, buf, bufsize);
		return pf;
	}
#if !defined(LT_COOKIE_FOPENCOOKIE) && !defined(LT_COOKIE_FUNOPEN)
	return NULL; /* not reached: plain is set above */
#else
	struct instream *is = calloc(1, sizeof(*is));
	if (!is) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	is->gz = gzdopen(fd, "rb");
	if (!is->gz) {
		close(fd);
		free(is);
		snprintf(err, errlen, "cannot read capture '%s': out of memory", path);
		return NULL;
	}
	gzbuffer(is->gz, 1u << 17);
	FILE *f = make_stream(is);
	if (!f) {
		snprintf(err, errlen, "cannot read capture '%s': %s", path, strerror(errno));
		is_close(is);
		return NULL;
	}
	own_stream(f, buf, bufsize); /* fewer, larger reads out of zlib too */
	*out = is;
	return f;
#endif
}

const char *instream_error(const struct instream *is)
{
	return is ? is->err : "";
}

int instream_is_gzip(const struct instream *is)
{
	return is ? is->is_gzip : 0;
}
