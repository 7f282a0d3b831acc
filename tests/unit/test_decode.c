/* SPDX-License-Identifier: MIT */
/* test_decode.c - link types, VLANs, IPv4/IPv6, TCP, and every truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pcap/dlt.h>

#include "decode.h"

/* Ethernet + IPv4 + TCP SYN 127.0.0.1:40000 -> 127.0.0.1:61900, MSS 65495, 3 payload bytes */
static const uint8_t eth_ipv4_syn[] = {
	0,    0,    0,	  0,	0,    0,    0,	0, 0,	 0,    0,   0,	 0x08, 0x00, 0x45, 0,
	0,    47,   0,	  1,	0x40, 0,    64, 6, 0,	 0,    127, 0,	 0,    1,    127,  0,
	0,    1,    0x9c, 0x40, 0xf1, 0xcc, 0,	0, 0,	 100,  0,   0,	 0,    0,    0x60, 0x02,
	0xff, 0xff, 0,	  0,	0,    0,    2,	4, 0xff, 0xd7, 'a', 'b', 'c',
};

static void test_eth_ipv4(void **state)
{
	struct lt_obs o;
	enum dec_layer l;
	assert_int_equal(dec_frame(DLT_EN10MB, eth_ipv4_syn, sizeof(eth_ipv4_syn), &o, &l), DEC_OK);
	assert_int_equal(o.family, 4);
	assert_int_equal(o.src.port, 40000);
	assert_int_equal(o.dst.port, 61900);
	assert_int_equal(o.seq, 100);
	assert_int_equal(o.tcp_flags, 0x02);
	assert_int_equal(o.mss, 65495);
	assert_int_equal(o.payload_len, 3);
	assert_memory_equal(o.src.addr, "\x7f\0\0\x01", 4);
}

/* Every prefix of a valid frame is a truncation, never a crash or OK
 * before the TCP header is complete. Run under ASan this also proves no
 * read goes past caplen. */
static void test_every_prefix_truncated(void **state)
{
	struct lt_obs o;
	enum dec_layer l;
	for (uint32_t n = 0; n < 14 + 20 + 20; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, eth_ipv4_syn, n);
		enum dec_result r = dec_frame(DLT_EN10MB, copy, n, &o, &l);
		assert_int_equal(r, DEC_TRUNCATED);
		free(copy);
	}
	/* header complete, options and payload cut: still a good segment */
	assert_int_equal(dec_frame(DLT_EN10MB, eth_ipv4_syn, 14 + 20 + 20, &o, &l), DEC_OK);
	assert_int_equal(o.payload_len, 3); /* from the IP length, not caplen */
}

static void test_bad_headers(void **state)
{
	uint8_t f[sizeof(eth_ipv4_syn)];
	struct lt_obs o;
	enum dec_layer l;

	memcpy(f, eth_ipv4_syn, sizeof(f));
	f[14] = 0x44; /* IHL 4 words: < 20 bytes */
	assert_int_equal(dec_frame(DLT_EN10MB, f, sizeof(f), &o, &l), DEC_MALFORMED);
	assert_int_equal(l, DEC_L_IPV4);

	memcpy(f, eth_ipv4_syn, sizeof(f));
	f[14 + 20 + 12] = 0x40; /* TCP data offset 4 words */
	assert_int_equal(dec_frame(DLT_EN10MB, f, sizeof(f), &o, &l), DEC_MALFORMED);
	assert_int_equal(l, DEC_L_TCP);

	memcpy(f, eth_ipv4_syn, sizeof(f));
	f[14 + 9] = 17; /* UDP */
	assert_int_equal(dec_frame(DLT_EN10MB, f, sizeof(f), &o, &l), DEC_NOT_TCP);

	assert_int_equal(dec_frame(12345, f, sizeof(f), &o, &l), DEC_UNSUPPORTED);
	assert_false(dec_dlt_supported(12345));
}

/* Put the right IPv4 header checksum into an Ethernet frame. */
static void set_ipv4_csum(uint8_t *f)
{
	uint32_t sum = 0;
	f[14 + 10] = f[14 + 11] = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(f[14 + i] << 8 | f[14 + i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	f[14 + 10] = (uint8_t)(~sum >> 8);
	f[14 + 11] = (uint8_t)~sum;
}

/* A damaged IPv4 header is malformed (and counted as a bad checksum), not
 * a new connection; a zero checksum (not computed) is not checked. */
static void test_ipv4_checksum(void **state)
{
	uint8_t f[sizeof(eth_ipv4_syn)];
	struct dec_stats st;
	struct lt_obs o;
	enum dec_layer l;

	memcpy(f, eth_ipv4_syn, sizeof(f));
	assert_int_equal(dec_frame(DLT_EN10MB, f, sizeof(f), &o, &l), DEC_OK);
	set_ipv4_csum(f);
	assert_int_equal(dec_frame(DLT_EN10MB, f, sizeof(f), &o, &l), DEC_OK);
	f[14 + 15] ^= 0x04; /* 127.0.0.1 -> 127.0.0.5 */
	assert_int_equal(dec_frame(DLT_EN10MB, f, sizeof(f), &o, &l), DEC_MALFORMED);
	assert_int_equal(l, DEC_L_IPV4);
	memset(&st, 0, sizeof(st));
	assert_int_equal(dec_frame_count(&st, DLT_EN10MB, f, sizeof(f), &o), DEC_MALFORMED);
	assert_int_equal(st.bad_ipv4_csum, 1);
	assert_int_equal(st.problems[DEC_MALFORMED][DEC_L_IPV4], 1);
	/* a bad checksum on a frame cut inside the header is a truncation */
	assert_int_equal(dec_frame(DLT_EN10MB, f, 14 + 19, &o, &l), DEC_TRUNCATED);
	/* TCP payload damage is not looked at (TCP checksums are offloaded) */
	set_ipv4_csum(f);
	f[sizeof(f) - 1] ^= 0xff;
	assert_int_equal(dec_frame_count(&st, DLT_EN10MB, f, sizeof(f), &o), DEC_OK);
	assert_int_equal(st.bad_ipv4_csum, 1);
}

static void test_vlan_qinq(void **state)
{
	uint8_t f[sizeof(eth_ipv4_syn) + 8];
	struct lt_obs o;
	memcpy(f, eth_ipv4_syn, 12);
	const uint8_t tags[] = { 0x88, 0xa8, 0, 10, 0x81, 0x00, 0, 20 };
	memcpy(f + 12, tags, 8);
	memcpy(f + 20, eth_ipv4_syn + 12, sizeof(eth_ipv4_syn) - 12);
	assert_int_equal(dec_frame(DLT_EN10MB, f, sizeof(f), &o, NULL), DEC_OK);
	assert_int_equal(o.dst.port, 61900);
}

static void test_null_loop_raw_sll(void **state)
{
	const uint8_t *ip = eth_ipv4_syn + 14;
	size_t iplen = sizeof(eth_ipv4_syn) - 14;
	uint8_t f[128];
	struct lt_obs o;

	/* DLT_NULL, AF_INET in little-endian and big-endian host order */
	memcpy(f, "\x02\0\0\0", 4);
	memcpy(f + 4, ip, iplen);
	assert_int_equal(dec_frame(DLT_NULL, f, 4 + iplen, &o, NULL), DEC_OK);
	memcpy(f, "\0\0\0\x02", 4);
	assert_int_equal(dec_frame(DLT_NULL, f, 4 + iplen, &o, NULL), DEC_OK);
	/* DLT_LOOP is network order */
	assert_int_equal(dec_frame(DLT_LOOP, f, 4 + iplen, &o, NULL), DEC_OK);
	/* DLT_RAW */
	assert_int_equal(dec_frame(DLT_RAW, ip, iplen, &o, NULL), DEC_OK);
	/* SLL: protocol at offset 14 */
	memset(f, 0, 16);
	f[14] = 0x08;
	memcpy(f + 16, ip, iplen);
	assert_int_equal(dec_frame(DLT_LINUX_SLL, f, 16 + iplen, &o, NULL), DEC_OK);
	/* SLL2: protocol at offset 0 */
	memset(f, 0, 20);
	f[0] = 0x08;
	memcpy(f + 20, ip, iplen);
	assert_int_equal(dec_frame(DLT_LINUX_SLL2, f, 20 + iplen, &o, NULL), DEC_OK);
}

static void test_ipv6_ext_headers(void **state)
{
	/* IPv6 ::1 -> ::1, hop-by-hop (8 bytes) then TCP RST-ACK */
	uint8_t f[40 + 8 + 20];
	struct lt_obs o;
	memset(f, 0, sizeof(f));
	f[0] = 0x60;
	f[5] = 8 + 20; /* payload length */
	f[6] = 0;      /* next: hop-by-hop */
	f[7] = 64;
	f[23] = 1;
	f[39] = 1;
	f[40] = 6; /* hop-by-hop next: TCP */
	f[41] = 0; /* 8 bytes */
	uint8_t *t = f + 48;
	t[0] = 0xf1;
	t[1] = 0xcc;
	t[2] = 0x9c;
	t[3] = 0x40;
	t[12] = 0x50;
	t[13] = 0x14;
	assert_int_equal(dec_frame(DLT_RAW, f, sizeof(f), &o, NULL), DEC_OK);
	assert_int_equal(o.family, 6);
	assert_int_equal(o.tcp_flags, 0x14);
	assert_int_equal(o.src.port, 61900);
	/* an extension header whose length runs past the payload */
	f[41] = 200;
	assert_int_not_equal(dec_frame(DLT_RAW, f, sizeof(f), &o, NULL), DEC_OK);
}

/* A source decodes every frame into the same observation (dec_obs_init
 * once, dec_frame_count per frame, no clearing between): after each frame
 * that decodes it must equal a fresh decode of that frame, byte for byte,
 * whatever frames (good, cut, of another family, tagged) came before. */
static void test_reused_obs(void **state)
{
	uint8_t qinq[sizeof(eth_ipv4_syn) + 8], v6[14 + 40 + 8 + 20], ack[14 + 20 + 20];
	const uint8_t tags[] = { 0x88, 0xa8, 0, 10, 0x81, 0x00, 0, 20 };
	memcpy(qinq, eth_ipv4_syn, 12);
	memcpy(qinq + 12, tags, 8);
	memcpy(qinq + 20, eth_ipv4_syn + 12, sizeof(eth_ipv4_syn) - 12);
	/* Ethernet + IPv6 ::1 -> ::2, hop-by-hop, TCP RST-ACK 61900 -> 40000 */
	memset(v6, 0, sizeof(v6));
	v6[12] = 0x86;
	v6[13] = 0xdd;
	v6[14] = 0x60;
	v6[14 + 5] = 8 + 20;
	v6[14 + 7] = 64;
	v6[14 + 23] = 1;
	v6[14 + 39] = 2;
	v6[14 + 40] = 6;
	v6[62] = 0xf1;
	v6[63] = 0xcc;
	v6[64] = 0x9c;
	v6[65] = 0x40;
	v6[74] = 0x50;
	v6[75] = 0x14;
	/* the IPv4 SYN as a bare ACK: no options, no payload */
	memcpy(ack, eth_ipv4_syn, sizeof(ack));
	ack[14 + 3] = 40;
	ack[14 + 20 + 12] = 0x50;
	ack[14 + 20 + 13] = 0x10;
	set_ipv4_csum(ack);

	const struct {
		const uint8_t *f;
		size_t n;
	} seq[] = {
		{ eth_ipv4_syn, sizeof(eth_ipv4_syn) },
		{ v6, sizeof(v6) },
		{ qinq, sizeof(qinq) },
		{ v6, sizeof(v6) - 4 }, /* cut in TCP */
		{ ack, sizeof(ack) },
		{ v6, sizeof(v6) },
		{ eth_ipv4_syn, 14 + 20 + 10 },
		{ ack, sizeof(ack) },
		{ eth_ipv4_syn, sizeof(eth_ipv4_syn) },
	};
	struct dec_stats st;
	struct lt_obs reused, fresh;
	int ok = 0;
	memset(&st, 0, sizeof(st));
	memset(&reused, 0xa5, sizeof(reused));
	dec_obs_init(&reused);
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		enum dec_result r =
			dec_frame_count(&st, DLT_EN10MB, seq[i].f, (uint32_t)seq[i].n, &reused);
		assert_int_equal(dec_frame(DLT_EN10MB, seq[i].f, (uint32_t)seq[i].n, &fresh, NULL),
				 r);
		if (r != DEC_OK)
			continue;
		ok++;
		assert_memory_equal(&reused, &fresh, sizeof(reused));
	}
	assert_int_equal(ok, 7);
	assert_int_equal(st.tcp, 7);
}

static void test_counting(void **state)
{
	struct dec_stats st;
	struct lt_obs o;
	memset(&st, 0, sizeof(st));
	dec_frame_count(&st, DLT_EN10MB, eth_ipv4_syn, sizeof(eth_ipv4_syn), &o);
	dec_frame_count(&st, DLT_EN10MB, eth_ipv4_syn, 30, &o);
	assert_int_equal(st.frames, 2);
	assert_int_equal(st.tcp, 1);
	assert_int_equal(st.problems[DEC_TRUNCATED][DEC_L_IPV4], 1);
	assert_int_equal(dec_stats_problems(&st), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eth_ipv4),
		cmocka_unit_test(test_every_prefix_truncated),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_ipv4_checksum),
		cmocka_unit_test(test_vlan_qinq),
		cmocka_unit_test(test_null_loop_raw_sll),
		cmocka_unit_test(test_ipv6_ext_headers),
		cmocka_unit_test(test_counting),
		cmocka_unit_test(test_reused_obs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
