/* SPDX-License-Identifier: MIT */
/* test_util.c - histogram percentiles, the capped string buffer, its
 * printf-free number/address appenders and the JSON writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>

#include "fmt.h"
#include "hist.h"
#include "json.h"
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

/* sbuf_fixed must print exactly what printf("%.*f") prints, ties too. */
static void check_fixed(struct sbuf *b, uint64_t v, unsigned shift, unsigned dec)
{
	static const double p10[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9 };
	char want[64];
	snprintf(want, sizeof(want), "%.*f", (int)dec, (double)v / p10[shift]);
	sbuf_reset(b);
	sbuf_fixed(b, v, shift, dec);
	if (strcmp(sbuf_str(b), want))
		fail_msg("sbuf_fixed(%llu, %u, %u) = %s, printf says %s", (unsigned long long)v,
			 shift, dec, sbuf_str(b), want);
}

static void test_sbuf_numbers(void **state)
{
	struct sbuf b;
	char want[64];
	sbuf_init(&b, 0);
	uint64_t x = 88172645463325252ull; /* xorshift: many magnitudes */
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint64_t v = x >> (x % 50);
		sbuf_reset(&b);
		sbuf_u64(&b, v);
		snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
		assert_string_equal(sbuf_str(&b), want);
		sbuf_reset(&b);
		sbuf_i64(&b, -(int64_t)(v >> 1));
		snprintf(want, sizeof(want), "%lld", -(long long)(v >> 1));
		assert_string_equal(sbuf_str(&b), want);
		sbuf_reset(&b);
		sbuf_hex(&b, v, 4);
		snprintf(want, sizeof(want), "%04llx", (unsigned long long)v);
		assert_string_equal(sbuf_str(&b), want);
		/* microsecond and nanosecond clocks: decimal ties are common */
		uint64_t ns = (v % 200000000000ull) / (i & 1 ? 1000 : 1) * (i & 1 ? 1000 : 1);
		check_fixed(&b, ns, 6, 2);
		check_fixed(&b, ns, 9, 2);
		check_fixed(&b, ns, 9, 0);
		check_fixed(&b, ns % 100000000, 3, 1);
		check_fixed(&b, ns, 9, 6);
	}
	for (uint64_t v = 0; v < 300000; v += 5)
		check_fixed(&b, v, 4, 2), check_fixed(&b, v * 1000, 6, 2);
	sbuf_reset(&b);
	sbuf_i64(&b, INT64_MIN);
	assert_string_equal(sbuf_str(&b), "-9223372036854775808");
	sbuf_reset(&b);
	sbuf_u64_zpad(&b, 7, 6);
	sbuf_putc(&b, '|');
	sbuf_u64_rpad(&b, 42, 5);
	assert_string_equal(sbuf_str(&b), "000007|   42");

	/* addresses as inet_ntop writes them */
	uint8_t a[16] = { 127, 0, 0, 1 };
	sbuf_reset(&b);
	sbuf_addr_port(&b, 4, a, 61900);
	assert_string_equal(sbuf_str(&b), "127.0.0.1:61900");
	uint8_t a6[16] = { 0 };
	a6[15] = 1;
	sbuf_reset(&b);
	sbuf_addr_port(&b, 6, a6, 80);
	assert_string_equal(sbuf_str(&b), "[::1]:80");
	for (unsigned i = 0; i < 256; i++) {
		uint8_t q[16] = { (uint8_t)i, (uint8_t)(255 - i), (uint8_t)(i * 7),
				  (uint8_t)(i / 3) };
		char ref[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, q, ref, sizeof(ref));
		sbuf_reset(&b);
		sbuf_addr(&b, 4, q);
		assert_string_equal(sbuf_str(&b), ref);
	}
	sbuf_release(&b);
}

/* fmt_timeline's fast path writes what fmt_tl_label and fmt_dur_sb
 * write, for every kind, count, byte total and duration range (ties at
 * the ms rounding digit, a second and more, entries at t_first). */
static void test_fmt_timeline_fast(void **state)
{
	struct sbuf got, want;
	struct flow f;
	uint64_t seed = 12345;
	sbuf_init(&got, 0);
	sbuf_init(&want, 0);
	for (int round = 0; round < 20000; round++) {
		memset(&f, 0, sizeof(f));
		f.t_first = 1700000000000000000ull;
		f.tl_len = (uint8_t)(1 + round % LT_TIMELINE_MAX);
		f.tl_omitted = round % 7 == 0 ? (uint32_t)round : 0;
		for (unsigned i = 0; i < f.tl_len; i++) {
			struct lt_tl_entry *e = &f.tl[i];
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			uint64_t r = seed >> 11;
			/* log-uniform up to ~10^13 ns, a tenth of them a tie */
			uint64_t d = (r >> 10) >> ((r >> 3) % 40);
			if ((r >> 13) % 10 == 0)
				d = d / 10000 * 10000 + 5000;
			if ((r >> 16) % 11 == 0)
				d = 0; /* at t_first: no duration */
			e->t_ns = f.t_first + d;
			e->kind = (uint8_t)((r >> 20) % (LT_TL_KIND_COUNT + 1)); /* one past: "?" */
			e->dir = (uint8_t)((r >> 24) & 1);
			e->count = (r >> 25) % 4 == 0 ? (uint32_t)((r >> 27) % 3000000) : 1;
			e->bytes = (r >> 30) % 3 == 0 ? (r >> 32) % 100000000 : (r >> 32) % 12000;
		}
		sbuf_reset(&got);
		fmt_timeline(&got, &f);
		sbuf_reset(&want);
		for (unsigned i = 0; i < f.tl_len; i++) {
			const struct lt_tl_entry *e = &f.tl[i];
			if (i)
				sbuf_putc(&want, ' ');
			if (i == LT_TIMELINE_MAX - 1 && f.tl_omitted)
				sbuf_printf(&want, "..%u.. ", f.tl_omitted);
			fmt_tl_label(&want, e);
			if (e->t_ns > f.t_first) {
				char ref[24];
				sbuf_printf(&want, "@%s",
					    fmt_dur(ref, (int64_t)(e->t_ns - f.t_first)));
			}
		}
		assert_string_equal(sbuf_str(&got), sbuf_str(&want));
	}
	sbuf_release(&got);
	sbuf_release(&want);
}

/* The sbuf duration/byte formats equal the char[] ones (report, TUI). */
static void test_fmt_sb(void **state)
{
	struct sbuf b;
	char ref[24];
	sbuf_init(&b, 0);
	for (int64_t ns = -1; ns < 400000000000ll; ns = ns < 10 ? ns + 1 : ns * 3 / 2 + 500) {
		sbuf_reset(&b);
		fmt_dur_sb(&b, ns);
		assert_string_equal(sbuf_str(&b), fmt_dur(ref, ns));
		sbuf_reset(&b);
		fmt_bytes_sb(&b, (uint64_t)(ns < 0 ? 0 : ns));
		assert_string_equal(sbuf_str(&b), fmt_bytes(ref, (uint64_t)(ns < 0 ? 0 : ns)));
	}
	struct fmt_clock c;
	char t[FMT_TIME_LEN];
	fmt_clock_init(&c);
	for (uint64_t ts = 1700000000123456789ull; ts < 1700000000123456789ull + 5000000000ull;
	     ts += 333333333ull) {
		sbuf_reset(&b);
		fmt_time_iso_sb(&b, &c, ts);
		assert_string_equal(sbuf_str(&b), fmt_time_iso(t, ts));
		sbuf_reset(&b);
		fmt_time_sb(&b, &c, ts, 1);
		assert_string_equal(sbuf_str(&b), fmt_time(t, ts, 1));
		/* the put variant (the JSON record's), into exactly its room */
		char room[FMT_TIME_ISO_MAX];
		char *end = fmt_put_time_iso(room, &c, ts);
		assert_true(end > room && end <= room + sizeof(room));
		assert_int_equal((size_t)(end - room), strlen(fmt_time_iso(t, ts)));
		assert_memory_equal(room, t, (size_t)(end - room));
	}
	sbuf_release(&b);
}

static void test_json(void **state)
{
	struct sbuf b;
	struct json j;
	sbuf_init(&b, 0);
	json_init(&j, &b);
	json_obj_open(&j);
	json_kv_str(&j, "type", "connection");
	json_kv_u64(&j, "id", 7);
	json_kv_i64(&j, "neg", -3);
	json_kv_nonneg_or_null(&j, "rtt", -1);
	json_kv_str_or_null(&j, "why", "");
	json_kv_bool(&j, "ok", true);
	json_key(&j, "ts");
	json_fixed(&j, 1700000000000007000ull, 9, 6);
	json_key(&j, "tags");
	json_arr_open(&j);
	json_str(&j, "a\x01\"");
	json_obj_open(&j);
	json_obj_close(&j);
	json_arr_open(&j);
	json_arr_close(&j);
	json_u64(&j, 0);
	json_arr_close(&j);
	json_key(&j, "last");
	json_null(&j);
	json_obj_close(&j);
	assert_string_equal(sbuf_str(&b),
			    "{\"type\":\"connection\",\"id\":7,\"neg\":-3,\"rtt\":null,"
			    "\"why\":null,\"ok\":true,\"ts\":1700000000.000007,"
			    "\"tags\":[\"a\\u0001\\\"\",{},[],0],\"last\":null}");
	sbuf_release(&b);
}

/* What sbuf_json_str wrote before its one-copy fast path: quotes, then
 * every byte as is except '"' '\\' \n \t (two-character escapes) and the
 * other control bytes (\u00XX, from snprintf); bytes >= 0x80 (UTF-8 or
 * not) pass through. */
static void ref_json_str(char *out, size_t len, const char *s)
{
	size_t o = 0;
	out[o++] = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p && o + 8 < len; p++) {
		if (*p == '"' || *p == '\\')
			o += (size_t)snprintf(out + o, len - o, "\\%c", *p);
		else if (*p == '\n')
			o += (size_t)snprintf(out + o, len - o, "\\n");
		else if (*p == '\t')
			o += (size_t)snprintf(out + o, len - o, "\\t");
		else if (*p < 0x20)
			o += (size_t)snprintf(out + o, len - o, "\\u%04x", *p);
		else
			out[o++] = (char)*p;
	}
	out[o++] = '"';
	out[o] = '\0';
}

static void check_json_str(struct sbuf *b, const char *s)
{
	char want[1024];
	ref_json_str(want, sizeof(want), s);
	sbuf_reset(b);
	sbuf_json_str(b, s);
	assert_string_equal(sbuf_str(b), want);
	sbuf_reset(b); /* after other text: the fast path appends, too */
	sbuf_puts(b, "x");
	sbuf_json_str(b, s);
	assert_string_equal(sbuf_str(b) + 1, want);
	/* the put variant, into reserved room: the same bytes, in its bound */
	char room[1024];
	size_t n = strlen(s);
	assert_true(SBUF_JSON_STR_MAX(n) < sizeof(room));
	char *end = sbuf_put_json_str(room, s);
	assert_true((size_t)(end - room) <= SBUF_JSON_STR_MAX(n));
	*end = '\0';
	assert_string_equal(room, want);
}

static void test_json_str(void **state)
{
	struct sbuf b;
	char s[160];
	sbuf_init(&b, 0);
	check_json_str(&b, "");
	check_json_str(&b, "ShADdFf");
	check_json_str(&b, "quote\" back\\slash");
	check_json_str(&b, "\"\\\n\t\r\x01\x1f\x7f");
	check_json_str(&b, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"); /* UTF-8 */
	check_json_str(&b, "bad \xc3 \xff\xfe \xe2\x82 \xc0\xaf");	 /* invalid UTF-8 */
	for (unsigned c = 1; c < 256; c++) { /* every byte, alone and in a run */
		s[0] = (char)c;
		s[1] = '\0';
		check_json_str(&b, s);
		snprintf(s, sizeof(s), "abc%cdef%cg", (char)c, (char)c);
		check_json_str(&b, s);
	}
	uint64_t x = 0x9e3779b97f4a7c15ull; /* random strings, escapes sparse */
	for (int i = 0; i < 20000; i++) {
		size_t n = (size_t)(i % 150);
		for (size_t k = 0; k < n; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			unsigned char c = (unsigned char)(x >> 24);
			s[k] = (char)(c ? ((x & 7) ? (c | 0x40) & 0x7f : c) : 'z');
		}
		s[n] = '\0';
		check_json_str(&b, s);
	}
	/* the cap: a string that does not fit is dropped whole, toobig said */
	struct sbuf small;
	sbuf_init(&small, 8);
	sbuf_json_str(&small, "abcdefghij");
	assert_true(small.toobig);
	assert_true(small.len < 8);
	sbuf_release(&small);
	sbuf_release(&b);
}

/* Digit counts at every power of ten and of two (sbuf_u64 from the bit
 * length), the extremes, zero padding past the number's own length. */
static void test_sbuf_digits(void **state)
{
	struct sbuf b;
	char want[64];
	sbuf_init(&b, 0);
	uint64_t p = 1;
	for (int i = 0; i < 20; i++, p *= 10) {
		const uint64_t v[] = { p - 1, p, p + 1, p * 2 - 1, p * 5 };
		for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
			sbuf_reset(&b);
			sbuf_u64(&b, v[k]);
			snprintf(want, sizeof(want), "%llu", (unsigned long long)v[k]);
			assert_string_equal(sbuf_str(&b), want);
			sbuf_reset(&b);
			sbuf_u64_zpad(&b, v[k], 20);
			snprintf(want, sizeof(want), "%020llu", (unsigned long long)v[k]);
			assert_string_equal(sbuf_str(&b), want);
		}
	}
	for (int bit = 0; bit < 64; bit++) {
		const uint64_t v[] = { (1ull << bit) - 1, 1ull << bit, (1ull << bit) + 1 };
		for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
			sbuf_reset(&b);
			sbuf_u64(&b, v[k]);
			snprintf(want, sizeof(want), "%llu", (unsigned long long)v[k]);
			assert_string_equal(sbuf_str(&b), want);
			char room[SBUF_I64_MAX + 1];
			*sbuf_put_u64(room, v[k]) = '\0';
			assert_string_equal(room, want);
			*sbuf_put_i64(room, -(int64_t)(v[k] >> 1)) = '\0';
			snprintf(want, sizeof(want), "%lld", -(long long)(v[k] >> 1));
			assert_string_equal(room, want);
		}
	}
	char room[SBUF_I64_MAX + 1];
	*sbuf_put_i64(room, INT64_MIN) = '\0';
	assert_string_equal(room, "-9223372036854775808");
	*sbuf_put_u64(room, UINT64_MAX) = '\0';
	assert_string_equal(room, "18446744073709551615");
	/* addresses: the put variant writes what sbuf_addr writes */
	for (unsigned i = 0; i < 512; i++) {
		uint8_t q[16] = { 0 };
		for (int k = 0; k < 16; k++)
			q[k] = (uint8_t)(i & 256 ? (k * 37 + i) & (k & 1 ? 0 : 0xff)
						 : (i * (k + 3)));
		for (uint8_t fam = 4; fam <= 6; fam += 2) {
			char ra[SBUF_ADDR_MAX + 1];
			sbuf_reset(&b);
			sbuf_addr(&b, fam, q);
			char *e = sbuf_put_addr(ra, fam, q);
			assert_true(e - ra < SBUF_ADDR_MAX);
			*e = '\0';
			assert_string_equal(ra, sbuf_str(&b));
		}
	}
	sbuf_reset(&b);
	sbuf_u64(&b, UINT64_MAX);
	sbuf_putc(&b, ' ');
	sbuf_i64(&b, INT64_MIN);
	sbuf_putc(&b, ' ');
	sbuf_i64(&b, INT64_MAX);
	sbuf_putc(&b, ' ');
	sbuf_u64(&b, 0);
	assert_string_equal(sbuf_str(&b), "18446744073709551615 -9223372036854775808 "
					  "9223372036854775807 0");
	for (uint64_t v = 0; v < 100000; v++) { /* every small number */
		sbuf_reset(&b);
		sbuf_u64(&b, v);
		snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
		assert_string_equal(sbuf_str(&b), want);
	}
	/* near the cap a number still goes in when its digits fit */
	struct sbuf cap;
	sbuf_init(&cap, 8);
	sbuf_puts(&cap, "abc");
	sbuf_u64(&cap, 1234);
	assert_string_equal(sbuf_str(&cap), "abc1234");
	assert_false(cap.toobig);
	sbuf_u64(&cap, 567);
	assert_string_equal(sbuf_str(&cap), "abc1234");
	assert_true(cap.toobig);
	sbuf_release(&cap);
	/* milliseconds from ns, ties included, as printf("%.3f") rounds */
	for (uint64_t ns = 0; ns < 3000000; ns += 250)
		check_fixed(&b, ns, 6, 3), check_fixed(&b, ns, 6, 2), check_fixed(&b, ns, 6, 0);
	check_fixed(&b, UINT64_MAX, 6, 3);
	check_fixed(&b, (1ull << 53) - 1, 6, 2);
	sbuf_release(&b);
}

/* Fixed-shape records: fragments, raw values, and tracked calls after them. */
static void test_json_frag(void **state)
{
	struct sbuf b;
	struct json j;
	sbuf_init(&b, 0);
	json_init(&j, &b);
	json_arr_open(&j);
	json_u64(&j, 1);
	json_obj_open(&j);
	json_frag(&j, "\"id\":");
	json_raw_u64(&j, 18446744073709551615ull);
	json_frag(&j, JSON_K("neg"));
	json_raw_i64(&j, INT64_MIN);
	json_frag(&j, JSON_K("name"));
	json_raw_str_or_null(&j, "");
	json_frag(&j, JSON_K("s"));
	json_raw_str(&j, "a\"\\\x02\xc3\xa9");
	json_frag(&j, JSON_K("v"));
	json_raw_safe(&j, "closed");
	json_frag(&j, JSON_K("rtt"));
	json_raw_nonneg_or_null(&j, -1);
	json_frag(&j, JSON_K("ok") "null");
	json_kv_u64(&j, "after", 5); /* a tracked key after fragments: comma */
	json_obj_close(&j);
	json_u64(&j, 2);
	json_arr_close(&j);
	assert_string_equal(sbuf_str(&b), "[1,{\"id\":18446744073709551615,"
					  "\"neg\":-9223372036854775808,\"name\":null,"
					  "\"s\":\"a\\\"\\\\\\u0002\xc3\xa9\",\"v\":\"closed\","
					  "\"rtt\":null,\"ok\":null,\"after\":5},2]");
	sbuf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hist),
		cmocka_unit_test(test_sbuf),
		cmocka_unit_test(test_sbuf_numbers),
		cmocka_unit_test(test_fmt_sb),
		cmocka_unit_test(test_fmt_timeline_fast),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_str),
		cmocka_unit_test(test_sbuf_digits),
		cmocka_unit_test(test_json_frag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
