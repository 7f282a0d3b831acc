/* SPDX-License-Identifier: MIT */
/* sbuf.c - capped growable string buffer. */
#include "sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sbuf_init(struct sbuf *b, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->cap = cap ? cap : SBUF_DEFAULT_CAP;
}

void sbuf_release(struct sbuf *b)
{
	free(b->buf);
	sbuf_init(b, b->cap);
}

void sbuf_reset(struct sbuf *b)
{
	b->len = 0;
	b->toobig = false;
	if (b->buf)
		b->buf[0] = '\0';
}

const char *sbuf_str(const struct sbuf *b)
{
	return b->buf ? b->buf : "";
}

/* Make room for n more bytes plus the NUL; false when over the cap. */
static bool grow(struct sbuf *b, size_t n)
{
	if (b->len + n + 1 <= b->alloc)
		return true;
	if (b->len + n + 1 > b->cap) {
		b->toobig = true;
		return false;
	}
	size_t want = b->alloc ? b->alloc : 256;
	while (want < b->len + n + 1)
		want *= 2;
	if (want > b->cap)
		want = b->cap;
	char *p = realloc(b->buf, want);
	if (!p) {
		b->toobig = true;
		return false;
	}
	b->buf = p;
	b->alloc = want;
	return true;
}

void sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	if (!grow(b, n))
		return;
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

void sbuf_puts(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

void sbuf_putc(struct sbuf *b, char c)
{
	sbuf_add(b, &c, 1);
}

void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		sbuf_add(b, small, (size_t)n);
		return;
	}
	if (!grow(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void sbuf_pad(struct sbuf *b, size_t from, size_t width)
{
	while (b->len - from < width && !b->toobig)
		sbuf_putc(b, ' ');
}

void sbuf_json_str(struct sbuf *b, const char *s)
{
	sbuf_putc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '"':
			sbuf_puts(b, "\\\"");
			break;
		case '\\':
			sbuf_puts(b, "\\\\");
			break;
		case '\n':
			sbuf_puts(b, "\\n");
			break;
		case '\t':
			sbuf_puts(b, "\\t");
			break;
		default:
			if (c < 0x20)
				sbuf_printf(b, "\\u%04x", c);
			else
				sbuf_putc(b, (char)c);
		}
	}
	sbuf_putc(b, '"');
}
