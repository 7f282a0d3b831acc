/* SPDX-License-Identifier: MIT */
/*
 * sbuf.h - a capped, growable string buffer (in the spirit of git's
 * strbuf and curl's dynbuf), and the cheap appenders every output uses.
 *
 * Always NUL-terminated. Appends past the cap are dropped and set
 * `toobig`, so a runaway record cannot eat memory; callers check it when
 * it matters. sbuf_init allocates nothing; sbuf_release frees the
 * contents; the struct itself is the caller's.
 *
 * The number appenders (sbuf_u64, sbuf_fixed, sbuf_hex...) and sbuf_add's
 * inline fast path exist so that the per-connection lines of text and
 * JSON are formatted without printf: on replay, formatting was most of
 * the CPU. sbuf_printf stays for everything that is not per connection.
 * Owns: bytes and their formatting; does not own: what is written where.
 */
#ifndef LT_SBUF_H
#define LT_SBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "inline.h"

struct sbuf {
	char *buf; /* NULL until the first append; sbuf_str() never is */
	size_t len;
	size_t alloc;
	size_t cap;  /* most bytes it will hold */
	bool toobig; /* an append was cut short by cap (or no memory) */
};

#define SBUF_DEFAULT_CAP (1u << 20)

void sbuf_init(struct sbuf *b, size_t cap);
void sbuf_release(struct sbuf *b);
void sbuf_reset(struct sbuf *b); /* empty, keeps the memory */
const char *sbuf_str(const struct sbuf *b);

/* The slow path of sbuf_add: grow (within the cap), then copy. */
void sbuf_add_slow(struct sbuf *b, const char *s, size_t n);


/* Room for n more bytes (and the NUL) at the end, or NULL (cap reached:
 * toobig is set). Write up to n bytes there, then sbuf_commit them. */
char *sbuf_room_slow(struct sbuf *b, size_t n);

LT_INLINE char *sbuf_room(struct sbuf *b, size_t n)
{
	if (b->len + n + 1 <= b->alloc)
		return b->buf + b->len;
	return sbuf_room_slow(b, n);
}

/* sbuf_room for a fast path that has a piecewise one: NULL when n bytes
 * do not fit, toobig left as it was (near the cap fewer bytes may fit). */
LT_INLINE char *sbuf_room_try(struct sbuf *b, size_t n)
{
	bool was_toobig = b->toobig;
	char *p = sbuf_room(b, n);

	if (!p)
		b->toobig = was_toobig;
	return p;
}

LT_INLINE void sbuf_commit(struct sbuf *b, size_t used)
{
	b->len += used;
	b->buf[b->len] = '\0';
}

LT_INLINE void sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 <= b->alloc) {
		memcpy(b->buf + b->len, s, n);
		b->len += n;
		b->buf[b->len] = '\0';
		return;
	}
	sbuf_add_slow(b, s, n);
}

LT_INLINE void sbuf_puts(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

LT_INLINE void sbuf_putc(struct sbuf *b, char c)
{
	if (b->len + 2 <= b->alloc) {
		b->buf[b->len++] = c;
		b->buf[b->len] = '\0';
		return;
	}
	sbuf_add_slow(b, &c, 1);
}

/* A string literal, its length known at compile time. */
#define sbuf_lit(b, s) sbuf_add((b), "" s, sizeof(s) - 1)

void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbuf_vprintf(struct sbuf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Pad with spaces up to column width (counted in bytes from `from`). */
void sbuf_pad(struct sbuf *b, size_t from, size_t width);
/* Append s as a JSON string literal, quotes included. */
void sbuf_json_str(struct sbuf *b, const char *s);

/* ---- numbers without printf ---------------------------------------- */

/* Decimal: 0, 18446744073709551615; -12. Most counts in a record have
 * one or two digits: those are written inline. */
void sbuf_u64_slow(struct sbuf *b, uint64_t v);
extern const char sbuf_digit_pairs[201]; /* "00" "01" ... "99" */
LT_INLINE void sbuf_u64(struct sbuf *b, uint64_t v)
{
	if (v < 10) {
		sbuf_putc(b, (char)('0' + v));
	} else if (v < 100 && b->len + 3 <= b->alloc) {
		memcpy(b->buf + b->len, sbuf_digit_pairs + 2 * v, 2);
		b->len += 2;
		b->buf[b->len] = '\0';
	} else {
		sbuf_u64_slow(b, v);
	}
}
void sbuf_i64(struct sbuf *b, int64_t v);
/* At least width digits, zero-filled on the left: (7, 3) -> "007". */
void sbuf_u64_zpad(struct sbuf *b, uint64_t v, unsigned width);
/* Right-aligned in width columns, space-filled: (7, 3) -> "  7". */
void sbuf_u64_rpad(struct sbuf *b, uint64_t v, unsigned width);
/*
 * v / 10^shift with `decimals` digits after the point, rounded as
 * printf("%.*f", decimals, (double)v / 10^shift) rounds it (decimals <=
 * shift <= 18): sbuf_fixed(b, 1234567, 6, 2) -> "1.23". Exact: a true
 * decimal tie is settled by asking printf, so output never differs.
 */
void sbuf_fixed(struct sbuf *b, uint64_t v, unsigned shift, unsigned decimals);
/* Lower-case hex, at least `digits` wide: (255, 4) -> "00ff". */
void sbuf_hex(struct sbuf *b, uint64_t v, unsigned digits);

/* ---- addresses ------------------------------------------------------- */

/* "127.0.0.1" (family 4, addr[0..3]) or "::1" (family 6, RFC 5952). */
void sbuf_addr(struct sbuf *b, uint8_t family, const uint8_t addr[16]);
/* "127.0.0.1:61900" or "[::1]:61900". */
void sbuf_addr_port(struct sbuf *b, uint8_t family, const uint8_t addr[16], uint16_t port);

/* ---- writing into reserved room ---------------------------------------
 * The hottest records (a --json connection line) reserve room once for a
 * stretch whose length has a known bound (sbuf_room), write it through a
 * local pointer with the sbuf_put_* calls below (no checks, no NUL; each
 * returns the pointer past what it wrote), then sbuf_commit the bytes
 * used. A local pointer stays in a register: appends through the sbuf
 * reload its fields after every store, as a char store may alias them.
 * The caller must reserve enough: the most each call writes is named
 * (sbuf_put_u64 may store up to SBUF_U64_MAX bytes past p even when the
 * number is shorter; the pointer it returns is past the digits). */
#define SBUF_U64_MAX 20	 /* sbuf_put_u64: "18446744073709551615" */
#define SBUF_I64_MAX 20	 /* sbuf_put_i64: "-9223372036854775808" */
#define SBUF_ADDR_MAX 46 /* sbuf_put_addr: INET6_ADDRSTRLEN */
/* sbuf_put_json_str of a string of n bytes: quotes, \u00XX each. */
#define SBUF_JSON_STR_MAX(n) (6 * (size_t)(n) + 2)

LT_INLINE char *sbuf_put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}
/* A string literal, its length known at compile time. */
#define sbuf_put_lit(p, s) sbuf_put((p), "" s, sizeof(s) - 1)
char *sbuf_put_u64_slow(char *p, uint64_t v);
LT_INLINE char *sbuf_put_u64(char *p, uint64_t v)
{
	if (v < 10) {
		*p = (char)('0' + v);
		return p + 1;
	}
	if (v < 100)
		return sbuf_put(p, sbuf_digit_pairs + 2 * v, 2);
	if (v < 10000) { /* ports, durations in us, byte counts: inline too */
		uint32_t hi = (uint32_t)v / 100u, lo = (uint32_t)v % 100u;
		if (hi < 10)
			*p++ = (char)('0' + hi);
		else
			p = sbuf_put(p, sbuf_digit_pairs + 2 * hi, 2);
		return sbuf_put(p, sbuf_digit_pairs + 2 * lo, 2);
	}
	if (v < 100000) { /* most ports (ephemeral ones), stream numbers */
		uint32_t x = (uint32_t)v, rest = x % 10000u;
		*p++ = (char)('0' + x / 10000u);
		p = sbuf_put(p, sbuf_digit_pairs + 2 * (rest / 100u), 2);
		return sbuf_put(p, sbuf_digit_pairs + 2 * (rest % 100u), 2);
	}
	return sbuf_put_u64_slow(p, v);
}
LT_INLINE char *sbuf_put_i64(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return sbuf_put_u64(p, (uint64_t)0 - (uint64_t)v);
	}
	return sbuf_put_u64(p, (uint64_t)v);
}
/* s as a JSON string literal, quotes included (as sbuf_json_str). */
char *sbuf_put_json_str(char *p, const char *s);
/* The address as sbuf_addr writes it. */
char *sbuf_put_addr(char *p, uint8_t family, const uint8_t addr[16]);

#endif
