/* SPDX-License-Identifier: MIT */
/* hugemem.c - large zeroed tables on transparent huge pages (hugemem.h). */
#include "hugemem.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#define LT_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define LT_SANITIZED 1
#endif
#endif

#if defined(MADV_HUGEPAGE) && !defined(LT_SANITIZED)
#define HUGE_BYTES ((size_t)2 << 20)

/* Whole huge pages of a table of bytes, 0 for calloc's tables. */
static size_t mapped_len(size_t n, size_t size)
{
	size_t bytes = n * size;

	if (bytes < HUGE_BYTES || bytes > SIZE_MAX - 2 * HUGE_BYTES)
		return 0;
	return (bytes + HUGE_BYTES - 1) & ~(HUGE_BYTES - 1);
}

/* len bytes at a 2 MiB boundary (a huge page needs one), or NULL: map a
 * huge page more and give back what lies before and after. */
static void *map_aligned(size_t len)
{
	uint8_t *raw = mmap(NULL, len + HUGE_BYTES, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *p;
	size_t head;

	if (raw == MAP_FAILED)
		return NULL;
	head = (HUGE_BYTES - (uintptr_t)raw % HUGE_BYTES) % HUGE_BYTES;
	p = raw + head;
	if (head)
		munmap(raw, head);
	munmap(p + len, HUGE_BYTES - head);
	/* Advice only: without THP the table works in small pages. */
	(void)madvise(p, len, MADV_HUGEPAGE);
	return p;
}

void *hugemem_zalloc(size_t n, size_t size)
{
	size_t len;

	if (size && n > SIZE_MAX / size)
		return NULL;
	len = mapped_len(n, size);
	return len ? map_aligned(len) : calloc(n, size);
}

void hugemem_free(void *p, size_t n, size_t size)
{
	size_t len;

	if (!p)
		return;
	len = mapped_len(n, size);
	if (len)
		munmap(p, len);
	else
		free(p);
}
#else
void *hugemem_zalloc(size_t n, size_t size)
{
	return calloc(n, size);
}

void hugemem_free(void *p, size_t n, size_t size)
{
	(void)n;
	(void)size;
	free(p);
}
#endif
