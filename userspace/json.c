/* SPDX-License-Identifier: MIT */
/*
 * json.c - JSON syntax on an sbuf: commas by nesting depth, escaping and
 * numbers through sbuf's printf-free appenders.
 */
#include "json.h"

void json_init(struct json *j, struct sbuf *b)
{
	j->b = b;
	j->has_item = 0;
	j->depth = 0;
	j->after_key = false;
}

void json_value_begin(struct json *j)
{
	json__sep(j);
}

static void open_c(struct json *j, char c)
{
	json__sep(j);
	sbuf_putc(j->b, c);
	j->depth++;
	if (j->depth <= JSON_MAX_DEPTH)
		j->has_item &= ~(1ull << j->depth);
}

static void close_c(struct json *j, char c)
{
	if (j->depth)
		j->depth--;
	sbuf_putc(j->b, c);
}

void json_obj_open(struct json *j)
{
	open_c(j, '{');
}

void json_obj_close(struct json *j)
{
	close_c(j, '}');
}

void json_arr_open(struct json *j)
{
	open_c(j, '[');
}

void json_arr_close(struct json *j)
{
	close_c(j, ']');
}

void json_fixed(struct json *j, uint64_t v, unsigned shift, unsigned decimals)
{
	json__sep(j);
	sbuf_fixed(j->b, v, shift, decimals);
}
