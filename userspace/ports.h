/* SPDX-License-Identifier: MIT */
/*
 * ports.h - watched TCP ports: parsing user input and the port bitmap.
 *
 * A port is an integer 0-65535 written in decimal, nothing else: "619009",
 * "-1", "abc", "61900x", " 80", "0x50" and "" are all rejected with a
 * message naming the value and the valid range. A --port argument may
 * hold a comma-separated list of ports and LOW-HIGH ranges
 * ("80,443,61900-61911"); "1-", "5-3" and "1-70000" are errors.
 */
#ifndef LT_PORTS_H
#define LT_PORTS_H

#include <stdbool.h>
#include <stdint.h>

#define LT_PORT_BITMAP_BYTES 8192 /* 65536 bits */
#define LT_MAX_PORTS 64

struct ports {
	int n;
	uint16_t list[LT_MAX_PORTS];
	uint8_t bitmap[LT_PORT_BITMAP_BYTES];
};

/*
 * Add the port(s) in text to p. Returns 0, or -1 with a one-line message
 * in err (no trailing newline), e.g.
 * "invalid port '619009': expected an integer from 0 to 65535".
 */
int ports_add(struct ports *p, const char *text, char *err, int errlen);

static inline bool ports_bit(const uint8_t *bitmap, uint16_t port)
{
	return (bitmap[port >> 3] >> (port & 7)) & 1u;
}

/* The bitmap to filter with, or NULL when no port was given (all). */
static inline const uint8_t *ports_filter(const struct ports *p)
{
	return p->n ? p->bitmap : 0;
}

#endif
