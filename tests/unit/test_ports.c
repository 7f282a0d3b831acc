/* SPDX-License-Identifier: MIT */
/* test_ports.c - strict port parsing, durations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "opts.h"
#include "ports.h"

static void test_valid(void **state)
{
	struct ports p;
	char err[128];
	memset(&p, 0, sizeof(p));
	assert_int_equal(ports_add(&p, "61900", err, sizeof(err)), 0);
	assert_int_equal(ports_add(&p, "0,65535,61900", err, sizeof(err)), 0);
	assert_int_equal(p.n, 3);
	assert_true(ports_bit(p.bitmap, 0));
	assert_true(ports_bit(p.bitmap, 65535));
	assert_false(ports_bit(p.bitmap, 80));
}

static void test_invalid(void **state)
{
	const char *bad[] = { "619009", "65536", "-1",	"abc", "61900x",      "", " 80", "0x50",
			      "80,",	",80",	 "+80", "1e3", "999999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ports p;
		char err[128] = "";
		memset(&p, 0, sizeof(p));
		assert_int_equal(ports_add(&p, bad[i], err, sizeof(err)), -1);
		assert_non_null(strstr(err, "0 to 65535"));
	}
}

static void test_ranges(void **state)
{
	struct ports p;
	char err[128] = "";
	memset(&p, 0, sizeof(p));
	assert_int_equal(ports_add(&p, "61900-61911,80,61905", err, sizeof(err)), 0);
	assert_int_equal(p.n, 13);
	assert_true(ports_bit(p.bitmap, 61900) && ports_bit(p.bitmap, 61911));
	assert_false(ports_bit(p.bitmap, 61912));
	const char *bad[] = { "5-3", "1-", "1-70000", "619009-619010", "a-b", "1--2" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&p, 0, sizeof(p));
		assert_int_equal(ports_add(&p, bad[i], err, sizeof(err)), -1);
		assert_non_null(strstr(err, "invalid port range"));
	}
	memset(&p, 0, sizeof(p));
	assert_int_equal(ports_add(&p, "1-100", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too many ports"));
}

static void test_duration(void **state)
{
	assert_int_equal(opts_parse_duration("10s"), 10000000000ll);
	assert_int_equal(opts_parse_duration("500ms"), 500000000ll);
	assert_int_equal(opts_parse_duration("2m"), 120000000000ll);
	assert_int_equal(opts_parse_duration("3"), 3000000000ll);
	assert_int_equal(opts_parse_duration("abc"), -1);
	assert_int_equal(opts_parse_duration("-1s"), -1);
	assert_int_equal(opts_parse_duration("5y"), -1);
	assert_int_equal(opts_parse_duration("0x10"), -1);
	assert_int_equal(opts_parse_duration("1e-300"), -1);
	assert_int_equal(opts_parse_duration("nan"), -1);
	assert_int_equal(opts_parse_duration("1.5s"), 1500000000ll);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_duration),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
