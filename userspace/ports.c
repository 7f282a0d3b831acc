/* SPDX-License-Identifier: MIT */
/* ports.c - strict port parsing (single ports and LOW-HIGH ranges) and the
 * watched-port bitmap. */
#include "ports.h"

#include <stdio.h>
#include <string.h>

/* Exactly 1-5 decimal digits with a value <= 65535. */
static int parse_one(const char *s, size_t len, uint16_t *out)
{
	uint32_t v = 0;
	if (len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static int add_port(struct ports *p, uint16_t port, const char *text, char *err, int errlen)
{
	if (ports_bit(p->bitmap, port))
		return 0;
	if (p->n >= LT_MAX_PORTS) {
		snprintf(err, (size_t)errlen,
			 "too many ports in '%.40s': at most %d can be watched; leave --port out "
			 "to watch all",
			 text, LT_MAX_PORTS);
		return -1;
	}
	p->list[p->n++] = port;
	p->bitmap[port >> 3] |= (uint8_t)(1u << (port & 7));
	return 0;
}

int ports_add(struct ports *p, const char *text, char *err, int errlen)
{
	const char *s = text;
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		const char *dash = memchr(s, '-', len);
		uint16_t lo, hi;
		if (dash && dash != s) { /* a range: LO-HI, both ports, LO <= HI */
			size_t l1 = (size_t)(dash - s), l2 = len - l1 - 1;
			if (parse_one(s, l1, &lo) < 0 || parse_one(dash + 1, l2, &hi) < 0) {
				snprintf(err, (size_t)errlen,
					 "invalid port range '%.*s': expected LOW-HIGH, each an "
					 "integer from 0 to 65535",
					 (int)(len > 40 ? 40 : len), s);
				return -1;
			}
			if (lo > hi) {
				snprintf(err, (size_t)errlen,
					 "invalid port range '%.*s': the first port is above the "
					 "last; write %u-%u",
					 (int)(len > 40 ? 40 : len), s, hi, lo);
				return -1;
			}
		} else if (parse_one(s, len, &lo) < 0) {
			snprintf(err, (size_t)errlen,
				 "invalid port '%.*s': expected an integer from 0 to 65535",
				 (int)(len > 40 ? 40 : len), s);
			return -1;
		} else {
			hi = lo;
		}
		for (uint32_t port = lo; port <= hi; port++)
			if (add_port(p, (uint16_t)port, text, err, errlen) < 0)
				return -1;
		if (!comma)
			return 0;
		s = comma + 1;
	}
}
