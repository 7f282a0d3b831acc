/* SPDX-License-Identifier: MIT */
/*
 * sbuf.c - capped growable string buffer and its printf-free appenders
 * (decimal, zero/space padded, fixed point, hex, IPv4/IPv6 addresses).
 */
#include "sbuf.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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

char *sbuf_room_slow(struct sbuf *b, size_t n)
{
	return grow(b, n) ? b->buf + b->len : NULL;
}

void sbuf_add_slow(struct sbuf *b, const char *s, size_t n)
{
	if (!grow(b, n))
		return;
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

void sbuf_vprintf(struct sbuf *b, const char *fmt, va_list ap)
{
	char small[256];
	va_list again;

	va_copy(again, ap);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	if (n >= 0 && (size_t)n < sizeof(small))
		sbuf_add(b, small, (size_t)n);
	else if (n >= 0 && grow(b, (size_t)n)) {
		vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, again);
		b->len += (size_t)n;
	}
	va_end(again);
}

void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sbuf_vprintf(b, fmt, ap);
	va_end(ap);
}

void sbuf_pad(struct sbuf *b, size_t from, size_t width)
{
	static const char spaces[] = "                                ";
	size_t have = b->len - from;
	if (have >= width || b->toobig)
		return;
	char *p = sbuf_room_try(b, width - have);
	if (p) { /* the usual case: one reservation */
		memset(p, ' ', width - have);
		sbuf_commit(b, width - have);
		return;
	}
	while (b->len - from < width && !b->toobig) {
		size_t n = width - (b->len - from);
		if (n > sizeof(spaces) - 1)
			n = sizeof(spaces) - 1;
		sbuf_add(b, spaces, n);
	}
}

static const char hexdig[] = "0123456789abcdef";

/* Which bytes a JSON string cannot hold as they are. */
static bool json_plain(unsigned char c)
{
	return c >= 0x20 && c != '"' && c != '\\';
}

/* The escaping path: runs of plain bytes between escapes. */
static void json_str_escaped(struct sbuf *b, const unsigned char *p)
{
	for (;;) {
		const unsigned char *run = p;
		while (*p && json_plain(*p))
			p++;
		if (p > run)
			sbuf_add(b, (const char *)run, (size_t)(p - run));
		if (!*p)
			break;
		switch (*p) {
		case '"':
			sbuf_lit(b, "\\\"");
			break;
		case '\\':
			sbuf_lit(b, "\\\\");
			break;
		case '\n':
			sbuf_lit(b, "\\n");
			break;
		case '\t':
			sbuf_lit(b, "\\t");
			break;
		default: {
			char u[6] = { '\\', 'u', '0', '0', hexdig[*p >> 4], hexdig[*p & 15] };
			sbuf_add(b, u, sizeof(u));
		}
		}
		p++;
	}
	sbuf_putc(b, '"');
}

void sbuf_json_str(struct sbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	while (p[n] && json_plain(p[n]))
		n++;
	if (!p[n]) { /* nothing to escape (the usual case): one copy */
		char *o = sbuf_room(b, n + 2);
		if (!o)
			return;
		o[0] = '"';
		memcpy(o + 1, s, n);
		o[n + 1] = '"';
		sbuf_commit(b, n + 2);
		return;
	}
	sbuf_putc(b, '"');
	sbuf_add(b, s, n);
	json_str_escaped(b, p + n);
}

char *sbuf_put_json_str(char *o, const char *s)
{
	*o++ = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		if (json_plain(c)) {
			*o++ = (char)c;
			continue;
		}
		*o++ = '\\';
		switch (c) {
		case '"':
		case '\\':
			*o++ = (char)c;
			break;
		case '\n':
			*o++ = 'n';
			break;
		case '\t':
			*o++ = 't';
			break;
		default:
			o = sbuf_put_lit(o, "u00");
			*o++ = hexdig[c >> 4];
			*o++ = hexdig[c & 15];
		}
	}
	*o++ = '"';
	return o;
}

/* ---- numbers ----------------------------------------------------------- */

const char sbuf_digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

static const uint64_t pow10_tab[20] = {
	1ull,
	10ull,
	100ull,
	1000ull,
	10000ull,
	100000ull,
	1000000ull,
	10000000ull,
	100000000ull,
	1000000000ull,
	10000000000ull,
	100000000000ull,
	1000000000000ull,
	10000000000000ull,
	100000000000000ull,
	1000000000000000ull,
	10000000000000000ull,
	100000000000000000ull,
	1000000000000000000ull,
	10000000000000000000ull,
};

/* How many decimal digits v has (1 for 0): log10 from the bit length
 * (bits * 1233 / 4096 is floor(bits * log10(2)) for bits <= 64), then one
 * compare. */
static unsigned u64_len(uint64_t v)
{
	unsigned bits = 64u - (unsigned)__builtin_clzll(v | 1);
	unsigned t = (bits * 1233u) >> 12;
	return t + ((v | 1) >= pow10_tab[t]);
}

/* Four digits of c (< 10000) into p[0..3]; c * 5243 >> 19 is c / 100 for
 * every c below 43699. */
static inline void put4(char *p, uint32_t c)
{
	uint32_t hi = (c * 5243u) >> 19, lo = c - hi * 100u;
	memcpy(p, sbuf_digit_pairs + 2 * hi, 2);
	memcpy(p + 2, sbuf_digit_pairs + 2 * lo, 2);
}

/* The last n digits of v into p[0..n-1], zero-filled on the left: eight
 * digits at a time while v needs 64 bits, then four at a time in 32. */
static void put_digits(char *p, uint64_t v, unsigned n)
{
	while (n >= 8 && v > UINT32_MAX) {
		uint32_t c = (uint32_t)(v % 100000000u);
		v /= 100000000u;
		n -= 8;
		put4(p + n, c / 10000u);
		put4(p + n + 4, c % 10000u);
	}
	if (v > UINT32_MAX) /* n < 8: only the last n digits are wanted */
		v %= 100000000u;
	uint32_t w = (uint32_t)v;
	while (n >= 4) {
		uint32_t c = w % 10000u;
		w /= 10000u;
		n -= 4;
		put4(p + n, c);
	}
	if (n >= 2) {
		n -= 2;
		memcpy(p + n, sbuf_digit_pairs + 2 * (w % 100u), 2);
		w /= 100u;
	}
	if (n)
		p[0] = (char)('0' + w % 10u);
}

void sbuf_u64_slow(struct sbuf *b, uint64_t v)
{
	char *p = sbuf_room_try(b, SBUF_U64_MAX);
	if (p) { /* the usual case: the put appender's room is there */
		sbuf_commit(b, (size_t)(sbuf_put_u64(p, v) - p));
		return;
	}
	/* near the cap: maybe the digits alone fit */
	unsigned n = u64_len(v);
	if (!(p = sbuf_room(b, n)))
		return;
	put_digits(p, v, n);
	sbuf_commit(b, n);
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* The eight digit values of v (< 10^8, 0-9 each: | 0x30 makes them text),
 * zero-filled, as the bytes of one word in memory order, by splitting lanes of one word (no table, no loop):
 * two 4-digit halves in 32-bit lanes, each cut into two 2-digit halves
 * in 16-bit lanes (x * 10486 >> 20 is x / 100 for x < 10^4, and fits a
 * 32-bit lane), each cut into two digits in bytes (x * 103 >> 10 is x / 10
 * for x < 100, and fits a 16-bit lane); the first digit ends up in the
 * lowest byte. */
static inline uint64_t digit_values8(uint32_t v)
{
	uint64_t hi = v / 10000u;
	uint64_t x = hi | (uint64_t)(v - (uint32_t)hi * 10000u) << 32;
	uint64_t q = (x * 10486u) >> 20 & 0x0000007f0000007full;
	x = q | (x - q * 100u) << 16;
	q = (x * 103u) >> 10 & 0x000f000f000f000full;
	return q | (x - q * 10u) << 8;
}

static inline uint64_t digits8(uint32_t v)
{
	return digit_values8(v) | 0x3030303030303030ull;
}

/* v (1 <= v < 10^8) without leading zeros: the leading zero digits are
 * the low zero bytes of its digit values (counted by ctz, so the length
 * needs no table), the word shifted past them and stored whole (8 bytes:
 * within SBUF_U64_MAX). */
static inline char *put8_trim(char *p, uint32_t v)
{
	uint64_t d = digit_values8(v);
	unsigned zeros = (unsigned)__builtin_ctzll(d) >> 3;
	uint64_t w = (d | 0x3030303030303030ull) >> (8 * zeros);
	memcpy(p, &w, 8);
	return p + 8 - zeros;
}

static inline char *put8(char *p, uint32_t v)
{
	uint64_t w = digits8(v);
	memcpy(p, &w, 8);
	return p + 8;
}

char *sbuf_put_u64_slow(char *p, uint64_t v)
{
	if (v < 100000000u) {
		if (!v) {
			*p = '0';
			return p + 1;
		}
		return put8_trim(p, (uint32_t)v);
	}
	uint64_t hi = v / 100000000u;
	uint32_t lo = (uint32_t)(v - hi * 100000000u);
	if (hi < 100000000u) {
		p = put8_trim(p, (uint32_t)hi);
	} else {
		uint32_t top = (uint32_t)(hi / 100000000u); /* at most 1844 */
		p = put8_trim(p, top);
		p = put8(p, (uint32_t)(hi - (uint64_t)top * 100000000u));
	}
	return put8(p, lo);
}
#else
char *sbuf_put_u64_slow(char *p, uint64_t v)
{
	unsigned n = u64_len(v);
	put_digits(p, v, n);
	return p + n;
}
#endif

void sbuf_i64(struct sbuf *b, int64_t v)
{
	if (v < 0) {
		sbuf_putc(b, '-');
		sbuf_u64(b, (uint64_t)0 - (uint64_t)v);
		return;
	}
	sbuf_u64(b, (uint64_t)v);
}

void sbuf_u64_zpad(struct sbuf *b, uint64_t v, unsigned width)
{
	unsigned n = u64_len(v);
	if (width > 20)
		width = 20;
	if (n < width)
		n = width;
	char *p = sbuf_room(b, n);
	if (!p)
		return;
	put_digits(p, v, n);
	sbuf_commit(b, n);
}

void sbuf_u64_rpad(struct sbuf *b, uint64_t v, unsigned width)
{
	unsigned n = u64_len(v), w = n;
	if (width > 24)
		width = 24;
	if (w < width)
		w = width;
	char *p = sbuf_room(b, w);
	if (!p)
		return;
	memset(p, ' ', w - n);
	put_digits(p + (w - n), v, n);
	sbuf_commit(b, w);
}

void sbuf_fixed(struct sbuf *b, uint64_t v, unsigned shift, unsigned decimals)
{
	if (shift > 18)
		shift = 18;
	if (decimals > shift)
		decimals = shift;
	uint64_t unit = pow10_tab[shift - decimals]; /* what one last digit is */
	uint64_t q = v / unit, r = v % unit;

	if (v >= (1ull << 53)) {
		/* beyond a double's exact integers: ask printf (rare) */
		sbuf_printf(b, "%.*f", (int)decimals, (double)v / (double)pow10_tab[shift]);
		return;
	}
	if (unit > 1 && r * 2 == unit) {
		/* A decimal tie. printf rounds d = v / 10^shift, the double
		 * nearest the tie: up when d lies above it, down below, to even
		 * when d is the tie itself. fma gives d * 10^shift - v exactly
		 * (its bits span fewer than 53). */
		double p10 = (double)pow10_tab[shift];
		double d = (double)v / p10;
		double above = fma(d, p10, -(double)v);
		if (above > 0 || (above == 0 && (q & 1)))
			q++;
	} else if (unit > 1 && r * 2 > unit) {
		q++;
	}
	uint64_t scale = pow10_tab[decimals], ip = q / scale;
	unsigned n = u64_len(ip);
	char *p = sbuf_room(b, n + 1 + decimals);
	if (!p)
		return;
	put_digits(p, ip, n);
	if (decimals) {
		p[n] = '.';
		put_digits(p + n + 1, q % scale, decimals);
		n += 1 + decimals;
	}
	sbuf_commit(b, n);
}

void sbuf_hex(struct sbuf *b, uint64_t v, unsigned digits)
{
	char d[16];
	char *end = d + sizeof(d), *p = end;
	if (digits > sizeof(d))
		digits = sizeof(d);
	do {
		*--p = hexdig[v & 15];
		v >>= 4;
	} while (v);
	while ((unsigned)(end - p) < digits)
		*--p = '0';
	sbuf_add(b, p, (size_t)(end - p));
}

/* ---- addresses --------------------------------------------------------- */

void sbuf_addr(struct sbuf *b, uint8_t family, const uint8_t addr[16])
{
	if (family != 6) {
		char d[16], *p = d;
		for (int i = 0; i < 4; i++) {
			unsigned v = addr[i];
			if (i)
				*p++ = '.';
			if (v >= 100)
				*p++ = (char)('0' + v / 100);
			if (v >= 10)
				*p++ = (char)('0' + v / 10 % 10);
			*p++ = (char)('0' + v % 10);
		}
		sbuf_add(b, d, (size_t)(p - d));
		return;
	}
	char a[INET6_ADDRSTRLEN];
	if (!inet_ntop(AF_INET6, addr, a, sizeof(a)))
		sbuf_putc(b, '?');
	else
		sbuf_puts(b, a);
}

void sbuf_addr_port(struct sbuf *b, uint8_t family, const uint8_t addr[16], uint16_t port)
{
	char *start = sbuf_room_try(b, SBUF_ADDR_MAX + 2 + 1 + SBUF_U64_MAX), *p = start;
	if (p) { /* the usual case: one reservation for all of it */
		if (family == 6)
			*p++ = '[';
		p = sbuf_put_addr(p, family, addr);
		if (family == 6)
			*p++ = ']';
		*p++ = ':';
		p = sbuf_put_u64(p, port);
		sbuf_commit(b, (size_t)(p - start));
		return;
	}
	/* near the cap: maybe the pieces fit */
	if (family == 6)
		sbuf_putc(b, '[');
	sbuf_addr(b, family, addr);
	if (family == 6)
		sbuf_putc(b, ']');
	sbuf_putc(b, ':');
	sbuf_u64(b, port);
}

char *sbuf_put_addr(char *p, uint8_t family, const uint8_t addr[16])
{
	if (family != 6) {
		for (int i = 0; i < 4; i++) {
			unsigned v = addr[i];
			if (i)
				*p++ = '.';
			if (v >= 100) {
				*p++ = (char)('0' + v / 100);
				p = sbuf_put(p, sbuf_digit_pairs + 2 * (v % 100), 2);
			} else if (v >= 10) {
				p = sbuf_put(p, sbuf_digit_pairs + 2 * v, 2);
			} else {
				*p++ = (char)('0' + v);
			}
		}
		return p;
	}
	if (!inet_ntop(AF_INET6, addr, p, SBUF_ADDR_MAX)) {
		*p = '?';
		return p + 1;
	}
	return p + strlen(p);
}
