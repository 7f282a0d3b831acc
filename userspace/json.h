/* SPDX-License-Identifier: MIT */
/*
 * json.h - the one JSON writer: objects, arrays, keys, escaped strings and
 * numbers appended to an sbuf, commas placed for the caller.
 *
 * Every JSON lotrace writes (the --json records, --format zeek, the
 * report's JSON, metrics) goes through here, so escaping and number
 * formatting are the same everywhere and no printf runs per record.
 *
 *	struct json j;
 *	json_init(&j, &buf);
 *	json_obj_open(&j);
 *	json_kv_str(&j, "type", "connection");
 *	json_kv_u64(&j, "id", 7);
 *	json_key(&j, "tags");
 *	json_arr_open(&j); json_str(&j, "a"); json_arr_close(&j);
 *	json_obj_close(&j);            -> {"type":"connection","id":7,"tags":["a"]}
 *
 * Keys are literals that need no escaping (they are written as given).
 * Nesting deeper than JSON_MAX_DEPTH is a programming error; the writer
 * keeps going but commas past that depth are not tracked.
 * Owns: JSON syntax. Does not own: what the records contain.
 */
#ifndef LT_JSON_H
#define LT_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "sbuf.h"

#define JSON_MAX_DEPTH 63

struct json {
	struct sbuf *b;
	uint64_t has_item; /* bit d: the container at depth d has an item */
	unsigned depth;
	bool after_key; /* the next value completes a key */
};

void json_init(struct json *j, struct sbuf *b);

/* Internal: the comma before a key or value (inline: it runs per field). */
LT_INLINE void json__sep(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth <= JSON_MAX_DEPTH) {
		uint64_t bit = 1ull << j->depth;
		if (j->has_item & bit)
			sbuf_putc(j->b, ',');
		j->has_item |= bit;
	}
}

/* ---- raw values ---------------------------------------------------------
 * A value alone, no comma placed: for the fixed-shape records below, and
 * the tracked writers after the comma. */
LT_INLINE void json_raw_u64(struct json *j, uint64_t v)
{
	sbuf_u64(j->b, v);
}
LT_INLINE void json_raw_i64(struct json *j, int64_t v)
{
	sbuf_i64(j->b, v);
}
LT_INLINE void json_raw_null(struct json *j)
{
	sbuf_lit(j->b, "null");
}
/* An escaped string; json_raw_str_or_null: null when s is NULL or "". */
LT_INLINE void json_raw_str(struct json *j, const char *s)
{
	sbuf_json_str(j->b, s);
}
LT_INLINE void json_raw_str_or_null(struct json *j, const char *s)
{
	if (s && *s)
		sbuf_json_str(j->b, s);
	else
		sbuf_lit(j->b, "null");
}
/* A string lotrace names itself, quoted without the escaping scan. */
LT_INLINE void json_raw_safe(struct json *j, const char *s)
{
	size_t n = strlen(s);
	char *p = sbuf_room(j->b, n + 2);
	if (p) {
		p[0] = '"';
		memcpy(p + 1, s, n);
		p[n + 1] = '"';
		sbuf_commit(j->b, n + 2);
	}
}
/* v, or null when v < 0 ("not measured") */
LT_INLINE void json_raw_nonneg_or_null(struct json *j, int64_t v)
{
	if (v < 0)
		sbuf_lit(j->b, "null");
	else
		sbuf_u64(j->b, (uint64_t)v);
}

void json_obj_open(struct json *j);
void json_obj_close(struct json *j);
void json_arr_open(struct json *j);
void json_arr_close(struct json *j);
LT_INLINE void json_key(struct json *j, const char *k)
{
	json__sep(j);
	json_raw_safe(j, k);
	sbuf_putc(j->b, ':');
	j->after_key = true;
}

/* Values: the comma (or the key's completion), then the raw appender. */
LT_INLINE void json_str(struct json *j, const char *s)
{
	json__sep(j);
	json_raw_str(j, s);
}
/* s, or null when s is NULL or empty. */
LT_INLINE void json_str_or_null(struct json *j, const char *s)
{
	json__sep(j);
	json_raw_str_or_null(j, s);
}
LT_INLINE void json_u64(struct json *j, uint64_t v)
{
	json__sep(j);
	json_raw_u64(j, v);
}
LT_INLINE void json_i64(struct json *j, int64_t v)
{
	json__sep(j);
	json_raw_i64(j, v);
}
LT_INLINE void json_null(struct json *j)
{
	json__sep(j);
	json_raw_null(j);
}
LT_INLINE void json_bool(struct json *j, bool v)
{
	json__sep(j);
	if (v)
		sbuf_lit(j->b, "true");
	else
		sbuf_lit(j->b, "false");
}

/* v / 10^shift with `decimals` digits, e.g. seconds from ns: (ns, 9, 6). */
void json_fixed(struct json *j, uint64_t v, unsigned shift, unsigned decimals);

/* Before appending a value to j->b by hand (e.g. a quoted address built
 * with sbuf_addr_port): places the comma, completes the key. */
void json_value_begin(struct json *j);

/* A string lotrace itself names (verdicts, states, kinds: ASCII letters,
 * digits, '-', '_' and the like), written without the escaping scan. */
LT_INLINE void json_str_safe(struct json *j, const char *s)
{
	json__sep(j);
	json_raw_safe(j, s);
}

/* key + value shorthands */
LT_INLINE void json_kv_str(struct json *j, const char *k, const char *s)
{
	json_key(j, k);
	json_str(j, s);
}
LT_INLINE void json_kv_str_or_null(struct json *j, const char *k, const char *s)
{
	json_key(j, k);
	json_str_or_null(j, s);
}
LT_INLINE void json_kv_safe(struct json *j, const char *k, const char *s)
{
	json_key(j, k);
	json_str_safe(j, s);
}

LT_INLINE void json_kv_u64(struct json *j, const char *k, uint64_t v)
{
	json_key(j, k);
	json_u64(j, v);
}
LT_INLINE void json_kv_i64(struct json *j, const char *k, int64_t v)
{
	json_key(j, k);
	json_i64(j, v);
}
/* v, or null when v < 0 ("not measured") */
LT_INLINE void json_kv_nonneg_or_null(struct json *j, const char *k, int64_t v)
{
	json_key(j, k);
	if (v < 0)
		json_null(j);
	else
		json_u64(j, (uint64_t)v);
}
LT_INLINE void json_kv_null(struct json *j, const char *k)
{
	json_key(j, k);
	json_null(j);
}
LT_INLINE void json_kv_bool(struct json *j, const char *k, bool v)
{
	json_key(j, k);
	json_bool(j, v);
}

/* ---- fixed-shape records ------------------------------------------------
 * A record whose keys and their order never change (the per-connection
 * line) is written as constant fragments between values: JSON_K("port")
 * is the literal `,"port":`, adjacent literals merge at compile time, and
 * json_frag appends one with a single copy of known length. The values
 * between go through the json_raw_* appenders, which place no comma (the
 * fragment carries it):
 *
 *	json_obj_open(&j);
 *	json_frag(&j, "\"id\":");
 *	json_raw_u64(&j, 7);
 *	json_frag(&j, JSON_K("name"));
 *	json_raw_str_or_null(&j, name);
 *	json_obj_close(&j);            -> {"id":7,"name":null}
 *
 * A fragment marks the open container as having an item, so tracked calls
 * (json_kv_u64...) may follow it in the same container.
 */
#define JSON_K(k) ",\"" k "\":"
#define json_frag(j, lit) json__frag((j), "" lit, sizeof(lit) - 1)
LT_INLINE void json__frag(struct json *j, const char *s, size_t n)
{
	j->after_key = false;
	if (j->depth <= JSON_MAX_DEPTH)
		j->has_item |= 1ull << j->depth;
	sbuf_add(j->b, s, n);
}
#endif
