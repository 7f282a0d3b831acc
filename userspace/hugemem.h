/* SPDX-License-Identifier: MIT */
/*
 * hugemem.h - large zeroed tables on transparent huge pages.
 *
 * The flow table's arrays are tens of MiB, touched one entry per packet
 * and first touched one flow at a time. In 4 KiB pages each first touch
 * is a page fault (in a VM the dearest part of a replay after the file's
 * reads: ~9,000 faults for 100,000 connections) and each access a likely
 * TLB miss. Backed by 2 MiB pages where the kernel offers them (Linux's
 * MADV_HUGEPAGE, honoured in THP's "madvise" and "always" modes), there
 * are 512 times fewer of both. Memory still comes in as it is touched,
 * 2 MiB at a time. Tables under 2 MiB, systems without MADV_HUGEPAGE and
 * sanitizer builds (whose checks need the allocator) get calloc.
 */
#ifndef LT_HUGEMEM_H
#define LT_HUGEMEM_H

#include <stddef.h>

/* n zeroed elements of size bytes; NULL when n * size overflows or there
 * is no memory. */
void *hugemem_zalloc(size_t n, size_t size);
/* Frees what hugemem_zalloc(n, size) returned (NULL is fine). */
void hugemem_free(void *p, size_t n, size_t size);

#endif
