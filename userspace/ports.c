/* SPDX-License-Identifier: MIT */
/* ports.c - strict port parsing and the watched-port bitmap. */
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

int ports_add(struct ports *p, const char *text, char *err, int errlen)
{
	const char *s = text;
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		uint16_t port;
		if (parse_one(s, len, &port) < 0) {
			snprintf(err, (size_t)errlen,
				 "invalid port '%.*s': expected an integer from 0 to 65535",
				 (int)(len > 40 ? 40 : len), s);
			return -1;
		}
		if (!ports_bit(p->bitmap, port)) {
			if (p->n >= LT_MAX_PORTS) {
				snprintf(err, (size_t)errlen,
					 "too many ports: at most %d can be watched",
					 LT_MAX_PORTS);
				return -1;
			}
			p->list[p->n++] = port;
			p->bitmap[port >> 3] |= (uint8_t)(1u << (port & 7));
		}
		if (!comma)
			return 0;
		s = comma + 1;
	}
}
