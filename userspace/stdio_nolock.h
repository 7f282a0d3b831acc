/* SPDX-License-Identifier: MIT */
/*
 * stdio_nolock.h - stdio without its per-call lock, where the C library
 * has the calls (glibc, musl: <stdio_ext.h>), and plain stdio elsewhere
 * (macOS, the BSDs), for streams that only the run's thread uses: a
 * locked fwrite or fread is two atomic operations per call.
 */
#ifndef LT_STDIO_NOLOCK_H
#define LT_STDIO_NOLOCK_H

#include <stdio.h>

#if defined(__linux__)
#include <stdio_ext.h>

/* From now on the caller alone uses f (no locking per call). */
static inline void stdio_nolock(FILE *f)
{
	__fsetlocking(f, FSETLOCKING_BYCALLER);
}

static inline size_t stdio_write_nolock(const void *p, size_t n, FILE *f)
{
	return fwrite_unlocked(p, 1, n, f);
}
#else
static inline void stdio_nolock(FILE *f)
{
	(void)f;
}

static inline size_t stdio_write_nolock(const void *p, size_t n, FILE *f)
{
	return fwrite(p, 1, n, f);
}
#endif

#endif
