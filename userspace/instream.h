/* SPDX-License-Identifier: MIT */
/*
 * instream.h - a capture file as a stdio stream libpcap can read: a path,
 * "-" for standard input, a pipe, a FIFO or a process substitution;
 * plain or gzip-compressed, told apart without seeking.
 *
 * Owns: opening the bytes and inflating them (zlib reads plain data
 * through the same path), and the reason a read failed (zlib's own, via
 * gzerror, not a stale errno). A gzip stream that ends before its trailer
 * or whose CRC does not match is a read error, even when the cut falls on
 * a record boundary. Does not own: the capture format (libpcap does).
 *
 * Portable: the stream is built with fopencookie (glibc, musl) or funopen
 * (macOS, the BSDs); elsewhere gzip input is refused with a message.
 */
#ifndef LT_INSTREAM_H
#define LT_INSTREAM_H

#include <stdio.h>

struct instream;

/*
 * Open path ("-" = standard input). Returns the stream to hand to
 * pcap_fopen_offline (closing that FILE closes everything and frees the
 * instream), and sets *is to read errors from; NULL + err on failure.
 * The stream reads through buf (bufsize bytes; NULL: stdio's own, 4 KiB
 * for a file), which the caller keeps until the FILE is closed, and takes
 * no locks: only the thread that opened it may read it.
 */
/* A huge page's size (hugemem.h): reads in 2 MiB */
#define INSTREAM_BUF_SIZE (1u << 21)
FILE *instream_open(const char *path, struct instream **is, void *buf, size_t bufsize, char *err,
		    size_t errlen);
/* Why reading stopped, e.g. "gzip data ends early (unexpected end of file)",
 * or "" when it did not fail. Valid until the FILE is closed. */
const char *instream_error(const struct instream *is);
/* 1 when the data is gzip-compressed (known after the first read). */
int instream_is_gzip(const struct instream *is);

#endif
