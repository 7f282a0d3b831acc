/* SPDX-License-Identifier: MIT */
/*
 * hash.h - the one 64-bit mixer every table of lotrace uses.
 *
 * mix64 is MurmurHash3's 64-bit finalizer (a bijection: distinct inputs
 * give distinct outputs, every input bit moves about half the output
 * bits). Its results are part of outputs (Zeek uids, sink_zeek.c): do not
 * change it.
 */
#ifndef LT_HASH_H
#define LT_HASH_H

#include <stdint.h>

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

#endif
