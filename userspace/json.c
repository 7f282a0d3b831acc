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

void json_str(struct json *j, const char *s)
{
	json__sep(j);
	sbuf_json_str(j->b, s);
}

void json_str_or_null(struct json *j, const char *s)
{
	if (s && *s)
		json_str(j, s);
	else
		json_null(j);
}

void json_i64(struct json *j, int64_t v)
{
	json__sep(j);
	sbuf_i64(j->b, v);
}

void json_null(struct json *j)
{
	json__sep(j);
	sbuf_lit(j->b, "null");
}

void json_bool(struct json *j, bool v)
{
	json__sep(j);
	if (v)
		sbuf_lit(j->b, "true");
	else
		sbuf_lit(j->b, "false");
}

void json_fixed(struct json *j, uint64_t v, unsigned shift, unsigned decimals)
{
	json__sep(j);
	sbuf_fixed(j->b, v, shift, decimals);
}

void json_kv_str_or_null(struct json *j, const char *k, const char *s)
{
	json_key(j, k);
	json_str_or_null(j, s);
}

void json_kv_i64(struct json *j, const char *k, int64_t v)
{
	json_key(j, k);
	json_i64(j, v);
}

void json_kv_nonneg_or_null(struct json *j, const char *k, int64_t v)
{
	json_key(j, k);
	if (v < 0)
		json_null(j);
	else
		json_i64(j, v);
}

void json_kv_null(struct json *j, const char *k)
{
	json_key(j, k);
	json_null(j);
}

void json_kv_bool(struct json *j, const char *k, bool v)
{
	json_key(j, k);
	json_bool(j, v);
}
