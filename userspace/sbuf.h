/* SPDX-License-Identifier: MIT */
/*
 * sbuf.h - a capped, growable string buffer (in the spirit of git's
 * strbuf and curl's dynbuf).
 *
 * Always NUL-terminated. Appends past the cap are dropped and set
 * `toobig`, so a runaway record cannot eat memory; callers check it when
 * it matters. sbuf_init allocates nothing; sbuf_release frees the
 * contents; the struct itself is the caller's.
 */
#ifndef LT_SBUF_H
#define LT_SBUF_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf {
	char *buf;     /* NULL until the first append; sbuf_str() never is */
	size_t len;
	size_t alloc;
	size_t cap;    /* most bytes it will hold */
	bool toobig;   /* an append was cut short by cap (or no memory) */
};

#define SBUF_DEFAULT_CAP (1u << 20)

void sbuf_init(struct sbuf *b, size_t cap);
void sbuf_release(struct sbuf *b);
void sbuf_reset(struct sbuf *b);       /* empty, keeps the memory */
const char *sbuf_str(const struct sbuf *b);

void sbuf_add(struct sbuf *b, const char *s, size_t n);
void sbuf_puts(struct sbuf *b, const char *s);
void sbuf_putc(struct sbuf *b, char c);
void sbuf_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Pad with spaces up to column width (counted in bytes from `from`). */
void sbuf_pad(struct sbuf *b, size_t from, size_t width);
/* Append s as a JSON string literal, quotes included. */
void sbuf_json_str(struct sbuf *b, const char *s);

#endif
