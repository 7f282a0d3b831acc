/* SPDX-License-Identifier: MIT */
/*
 * test_lotrace_rec.c - the short end record (bpf/lotrace.h): what the
 * kernel fills (lt_conn_short_fill, the same code bpf/lotrace.bpf.c runs)
 * expands to exactly the struct lt_conn it came from, every byte of the
 * record is written, and a connection that would lose something in short
 * form (payload head, a third SYN, a time outside the 32-bit window) is
 * refused by lt_conn_short_ok.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lotrace.h"

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* A time of the connection that began at t0: never, t0 itself, the last
 * one that fits, or anything between. */
static uint64_t rnd_time(uint64_t t0)
{
	switch (rnd() % 4) {
	case 0:
		return 0;
	case 1:
		return t0;
	case 2:
		return t0 + 0xfffffffeull;
	default:
		return t0 + rnd() % 0xffffffffull;
	}
}

static void rnd_side(struct lt_side *s, uint64_t t0)
{
	s->t_syn[0] = rnd_time(t0);
	s->t_syn[1] = rnd_time(t0);
	s->t_ack = rnd_time(t0);
	s->t_data = rnd_time(t0);
	s->t_fin = rnd_time(t0);
	s->t_rst = rnd_time(t0);
	s->t_drop = rnd_time(t0);
	s->t_drop_last = rnd_time(t0);
	s->bytes = rnd();
	s->pkts = (uint32_t)rnd();
	s->data_pkts = (uint32_t)rnd();
	s->first_data_len = (uint32_t)rnd();
	s->isn = (uint32_t)rnd();
	s->fin_seq = (uint32_t)rnd();
	s->rst_seq = (uint32_t)rnd();
	s->syns = (uint16_t)rnd();
	s->mss = (uint16_t)rnd();
	s->window = (uint16_t)rnd();
	s->fins = (uint8_t)rnd();
	s->rsts = (uint8_t)rnd();
	s->syn_flags = (uint8_t)rnd();
	s->fin_flags = (uint8_t)rnd();
	s->rst_flags = (uint8_t)rnd();
	s->data_flags = (uint8_t)rnd();
	s->retrans = (uint16_t)rnd();
	s->drops = (uint16_t)rnd();
	s->drop_reason = (int32_t)rnd();
	s->reset_reason = (int32_t)rnd();
	s->sk_errno = (int32_t)rnd();
	s->pid = (int32_t)rnd();
	for (size_t i = 0; i < sizeof(s->comm); i++)
		s->comm[i] = (char)rnd();
}

/* A connection as the kernel's map holds it (zero where nothing wrote),
 * one that the short form can carry. */
static void rnd_conn(struct lt_conn *c)
{
	memset(c, 0, sizeof(*c));
	c->kind = LT_REC_CONN;
	c->flags = (uint32_t)rnd();
	for (size_t i = 0; i < sizeof(c->key); i++)
		((uint8_t *)&c->key)[i] = (uint8_t)rnd();
	c->id = rnd();
	c->t_first = 1 + rnd() % (1ull << 62);
	c->t_last = rnd_time(c->t_first);
	c->t_term = rnd_time(c->t_first);
	c->backlog = (uint32_t)rnd();
	c->qlen = (uint32_t)rnd();
	rnd_side(&c->side[0], c->t_first);
	rnd_side(&c->side[1], c->t_first);
}

static void test_round_trip(void **state)
{
	(void)state;
	for (int i = 0; i < 20000; i++) {
		struct lt_conn c, back;
		struct lt_conn_short r0, r1;

		rnd_conn(&c);
		assert_true(lt_conn_short_ok(&c));
		/* every byte written: the same record over two different fills */
		memset(&r0, 0x00, sizeof(r0));
		memset(&r1, 0xff, sizeof(r1));
		lt_conn_short_fill(&r0, &c);
		lt_conn_short_fill(&r1, &c);
		assert_memory_equal(&r0, &r1, sizeof(r0));
		assert_int_equal(r0.kind, LT_REC_CONN_SHORT);
		memset(&back, 0, sizeof(back));
		lt_conn_short_expand(&back, &r0);
		assert_memory_equal(&back, &c, sizeof(c));
	}
}

static void test_refused(void **state)
{
	struct lt_conn c;

	(void)state;
	rnd_conn(&c);
	c.head_len[1] = 1;
	assert_false(lt_conn_short_ok(&c));
	rnd_conn(&c);
	c.side[0].t_syn[2] = c.t_first;
	assert_false(lt_conn_short_ok(&c));
	rnd_conn(&c);
	c.side[1].t_syn[5] = c.t_first;
	assert_false(lt_conn_short_ok(&c));
	rnd_conn(&c);
	c.side[1].t_drop_last = c.t_first + 0xffffffffull; /* one past the window */
	assert_false(lt_conn_short_ok(&c));
	rnd_conn(&c);
	c.t_last = c.t_first - 1; /* before t_first (another CPU's clock read) */
	assert_false(lt_conn_short_ok(&c));
	rnd_conn(&c);
	c.side[0].t_fin = c.t_first + (1ull << 40);
	assert_false(lt_conn_short_ok(&c));
	rnd_conn(&c);
	c.t_term = c.t_first + 0xfffffffeull; /* the last that fits */
	assert_true(lt_conn_short_ok(&c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
