/* SPDX-License-Identifier: MIT */
/* test_util.c - histogram percentiles and the capped string buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hist.h"
#include "sbuf.h"

static void test_hist(void **state)
{
	struct hist h;
	hist_init(&h);
	assert_int_equal(hist_percentile(&h, 50), 0);
	hist_add(&h, 42123);
	/* one sample: every percentile is that sample exactly */
	assert_int_equal(hist_percentile(&h, 50), 42123);
	assert_int_equal(hist_percentile(&h, 99), 42123);
	hist_init(&h);
	for (uint64_t v = 1; v <= 1000; v++)
		hist_add(&h, v * 1000);
	uint64_t p50 = hist_percentile(&h, 50), p99 = hist_percentile(&h, 99);
	assert_in_range(p50, 500000 * 0.98, 500000 * 1.02);
	assert_in_range(p99, 990000 * 0.98, 990000 * 1.02);
	assert_int_equal(h.max, 1000000);
	assert_int_equal(h.min, 1000);
}

static void test_sbuf(void **state)
{
	struct sbuf b;
	sbuf_init(&b, 16);
	assert_string_equal(sbuf_str(&b), "");
	sbuf_puts(&b, "hello");
	sbuf_printf(&b, " %d", 42);
	assert_string_equal(sbuf_str(&b), "hello 42");
	assert_false(b.toobig);
	sbuf_puts(&b, "this is far too long");
	assert_true(b.toobig);
	assert_string_equal(sbuf_str(&b), "hello 42"); /* unchanged, still terminated */
	sbuf_reset(&b);
	sbuf_json_str(&b, "a\"b\n");
	assert_string_equal(sbuf_str(&b), "\"a\\\"b\\n\"");
	sbuf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hist),
		cmocka_unit_test(test_sbuf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
