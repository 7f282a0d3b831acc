/* SPDX-License-Identifier: MIT */
/*
 * cursor.h - bounds-checked reads over captured packet bytes.
 *
 * Every packet byte lotrace looks at is read through a struct cur. A read
 * that would pass the end of what was captured returns false and leaves
 * the cursor where it was, so a decoder can say "truncated" instead of
 * reading past the buffer. Multi-byte reads are big-endian (network order)
 * unless named _le, and never assume alignment.
 */
#ifndef LT_CURSOR_H
#define LT_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cur {
	const uint8_t *p;   /* next unread byte */
	const uint8_t *end; /* one past the last captured byte */
};

static inline struct cur cur_make(const uint8_t *p, size_t len)
{
	struct cur c = { p, p + len };
	return c;
}

static inline size_t cur_left(const struct cur *c)
{
	return (size_t)(c->end - c->p);
}

static inline bool cur_has(const struct cur *c, size_t n)
{
	return cur_left(c) >= n;
}

static inline bool cur_skip(struct cur *c, size_t n)
{
	if (!cur_has(c, n))
		return false;
	c->p += n;
	return true;
}

static inline bool cur_u8(struct cur *c, uint8_t *v)
{
	if (!cur_has(c, 1))
		return false;
	*v = c->p[0];
	c->p += 1;
	return true;
}

static inline bool cur_be16(struct cur *c, uint16_t *v)
{
	if (!cur_has(c, 2))
		return false;
	*v = (uint16_t)((c->p[0] << 8) | c->p[1]);
	c->p += 2;
	return true;
}

static inline bool cur_be32(struct cur *c, uint32_t *v)
{
	if (!cur_has(c, 4))
		return false;
	*v = ((uint32_t)c->p[0] << 24) | ((uint32_t)c->p[1] << 16) | ((uint32_t)c->p[2] << 8) |
	     (uint32_t)c->p[3];
	c->p += 4;
	return true;
}

static inline bool cur_le32(struct cur *c, uint32_t *v)
{
	if (!cur_has(c, 4))
		return false;
	*v = ((uint32_t)c->p[3] << 24) | ((uint32_t)c->p[2] << 16) | ((uint32_t)c->p[1] << 8) |
	     (uint32_t)c->p[0];
	c->p += 4;
	return true;
}

static inline bool cur_bytes(struct cur *c, void *dst, size_t n)
{
	if (!cur_has(c, n))
		return false;
	memcpy(dst, c->p, n);
	c->p += n;
	return true;
}

/* A sub-cursor over the next n bytes, clamped to what was captured. */
static inline struct cur cur_sub(const struct cur *c, size_t n)
{
	struct cur s = *c;
	if (cur_left(c) > n)
		s.end = c->p + n;
	return s;
}

#endif
