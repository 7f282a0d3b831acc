/* SPDX-License-Identifier: MIT */
/*
 * tui_view.c - the list: which rows of the model are shown, in which
 * order, which one is selected, and search (n) through it.
 *
 * Rebuilt only when the model changed or a key asks (TUI_RESORT): a walk
 * down from the newest id (which is already "newest first"), a filter
 * test per row, and for the other orders one qsort of plain keys. The
 * selection follows its flow id, so rows updating in place do not make
 * it jump; until the user moves it, it stays on the newest row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tui.h"

const char *tui_sort_name(enum tui_sort s)
{
	static const char *const names[TUI_SORT_COUNT] = {
		[TUI_SORT_TIME] = "time",
		[TUI_SORT_VERDICT] = "verdict",
		[TUI_SORT_LATENCY] = "latency",
		[TUI_SORT_PORT] = "port",
	};
	return (unsigned)s < TUI_SORT_COUNT ? names[s] : "?";
}

/* Worst first: what needs attention leads the list sorted by verdict. */
static const uint8_t verdict_rank[LT_V_COUNT] = {
	[LT_V_REFUSED] = 0,    [LT_V_RESET_SERVER] = 1, [LT_V_RESET_CLIENT] = 2,
	[LT_V_UNANSWERED] = 3, [LT_V_HALF_OPEN] = 4,	[LT_V_CONNECTING] = 5,
	[LT_V_MIDSTREAM] = 6,  [LT_V_HALF_CLOSED] = 7,	[LT_V_OPEN] = 8,
	[LT_V_CLOSED] = 9,
};

struct sort_key {
	uint64_t k1; /* ascending */
	uint64_t id; /* then newest first */
};

static int cmp_key(const void *a, const void *b)
{
	const struct sort_key *x = a, *y = b;
	if (x->k1 != y->k1)
		return x->k1 < y->k1 ? -1 : 1;
	if (x->id != y->id)
		return x->id > y->id ? -1 : 1;
	return 0;
}

static uint64_t key_of(const struct tui_row *r, enum tui_sort s)
{
	switch (s) {
	case TUI_SORT_VERDICT:
		return r->verdict < LT_V_COUNT ? verdict_rank[r->verdict] : 99;
	case TUI_SORT_LATENCY:
		/* slowest first; rows without a latency last */
		return r->lat_ns < 0 ? UINT64_MAX : UINT64_MAX - 1 - (uint64_t)r->lat_ns;
	case TUI_SORT_PORT:
		return r->server.port;
	case TUI_SORT_TIME:
	case TUI_SORT_COUNT:
		break;
	}
	return 0;
}

/* Filter words, lowercase; every one must occur in the row's key. */
struct words {
	int n;
	char w[8][TUI_FILTER_LEN];
};

static void split_words(const char *s, struct words *ws)
{
	ws->n = 0;
	while (*s && ws->n < 8) {
		while (*s == ' ')
			s++;
		size_t k = 0;
		while (s[k] && s[k] != ' ')
			k++;
		if (!k)
			break;
		for (size_t i = 0; i < k && i < TUI_FILTER_LEN - 1; i++)
			ws->w[ws->n][i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
		ws->w[ws->n][k < TUI_FILTER_LEN - 1 ? k : TUI_FILTER_LEN - 1] = '\0';
		ws->n++;
		s += k;
	}
}

static int matches(const struct tui_model *m, const struct tui_row *r, const struct words *ws)
{
	char key[256];
	if (!ws->n)
		return 1;
	tui_row_key(m, r, key, sizeof(key));
	for (int i = 0; i < ws->n; i++)
		if (!strstr(key, ws->w[i]))
			return 0;
	return 1;
}

static int grow(struct tui_view *v, uint32_t need)
{
	if (need <= v->alloc)
		return 0;
	uint32_t a = v->alloc ? v->alloc : 1024;
	while (a < need)
		a *= 2;
	uint64_t *p = realloc(v->id, (size_t)a * sizeof(*p));
	if (!p)
		return -1;
	v->id = p;
	v->alloc = a;
	return 0;
}

/*
 * Verdict and port orders have few keys (10, 65536): a stable counting
 * sort, O(n), keeps the list's newest-first order among equal keys, as
 * cmp_key would.
 */
static int counting_sort(struct tui_view *v, const struct tui_model *l)
{
	uint32_t nb = v->sort == TUI_SORT_PORT ? 65536 : 100;
	uint32_t *start = calloc((size_t)nb + 1, sizeof(*start));
	uint64_t *out = malloc((size_t)v->n * sizeof(*out));
	uint16_t *key = malloc((size_t)v->n * sizeof(*key));
	if (!start || !out || !key) {
		free(start);
		free(out);
		free(key);
		return -1;
	}
	for (uint32_t i = 0; i < v->n; i++) {
		key[i] = (uint16_t)key_of(&l->rows[v->id[i] % l->cap], v->sort);
		start[key[i] + 1]++;
	}
	for (uint32_t b = 0; b < nb; b++)
		start[b + 1] += start[b];
	for (uint32_t i = 0; i < v->n; i++)
		out[start[key[i]]++] = v->id[i];
	memcpy(v->id, out, (size_t)v->n * sizeof(*out));
	free(start);
	free(out);
	free(key);
	return 0;
}

int tui_view_rebuild(struct tui_view *v, const struct tui_model *l)
{
	struct words ws;
	uint64_t lo = l->min_id;

	split_words(v->filter, &ws);
	/* The same rows, sorted alike, and the filter only grew (a typed
	 * character or word): what matches now is among what matched, so
	 * narrowing the list is enough. Typing stays fast with 100k rows. */
	size_t bl = strlen(v->built_filter);
	if (v->built && v->model_gen == l->gen && v->built_sort == v->sort &&
	    !strncmp(v->filter, v->built_filter, bl) && v->filter[bl]) {
		uint32_t n = 0;
		for (uint32_t i = 0; i < v->n; i++) {
			const struct tui_row *r = tui_model_row(l, v->id[i]);
			if (r && matches(l, r, &ws))
				v->id[n++] = v->id[i];
		}
		v->n = n;
		goto built;
	}
	if (l->max_id >= l->cap && l->max_id - l->cap + 1 > lo)
		lo = l->max_id - l->cap + 1;
	uint64_t span = l->max_id >= lo ? l->max_id - lo + 1 : 0;
	if (grow(v, (uint32_t)span) < 0)
		return -1;
	v->n = 0;
	for (uint64_t id = l->max_id; id >= lo && id; id--) {
		const struct tui_row *r = &l->rows[id % l->cap];
		if (r->id != id || (ws.n && !matches(l, r, &ws)))
			continue;
		v->id[v->n++] = id;
	}
	if ((v->sort == TUI_SORT_VERDICT || v->sort == TUI_SORT_PORT) && v->n > 1) {
		if (counting_sort(v, l) < 0)
			return -1;
	} else if (v->sort != TUI_SORT_TIME && v->n > 1) {
		struct sort_key *k = malloc((size_t)v->n * sizeof(*k));
		if (!k)
			return -1;
		for (uint32_t i = 0; i < v->n; i++) {
			const struct tui_row *r = &l->rows[v->id[i] % l->cap];
			k[i].k1 = key_of(r, v->sort);
			k[i].id = v->id[i];
		}
		qsort(k, v->n, sizeof(*k), cmp_key);
		for (uint32_t i = 0; i < v->n; i++)
			v->id[i] = k[i].id;
		free(k);
	}
built:
	v->model_gen = l->gen;
	v->built = 1;
	v->built_sort = v->sort;
	snprintf(v->built_filter, sizeof(v->built_filter), "%s", v->filter);

	/* Keep the selection on its connection. */
	if (v->follow || !v->sel_id) {
		v->sel = 0;
	} else {
		uint32_t i;
		for (i = 0; i < v->n; i++)
			if (v->id[i] == v->sel_id)
				break;
		if (i < v->n)
			v->sel = i;
		else if (v->sel >= v->n)
			v->sel = v->n ? v->n - 1 : 0;
	}
	v->sel_id = v->n ? v->id[v->sel] : 0;
	tui_view_scroll(v, v->rows);
	return 0;
}

void tui_view_release(struct tui_view *v)
{
	free(v->id);
	memset(v, 0, sizeof(*v));
}

void tui_view_scroll(struct tui_view *v, int rows)
{
	if (rows < 1)
		rows = 1;
	if (v->sel < v->top)
		v->top = v->sel;
	else if (v->sel >= v->top + (uint32_t)rows)
		v->top = v->sel - (uint32_t)rows + 1;
	/* no empty space below the last row when there are rows above */
	if (v->n > (uint32_t)rows && v->top > v->n - (uint32_t)rows)
		v->top = v->n - (uint32_t)rows;
	if (v->n <= (uint32_t)rows)
		v->top = 0;
}

static void select_index(struct tui_view *v, long i)
{
	if (!v->n) {
		v->sel = v->top = 0;
		v->sel_id = 0;
		return;
	}
	if (i < 0)
		i = 0;
	if (i >= (long)v->n)
		i = (long)v->n - 1;
	v->sel = (uint32_t)i;
	v->sel_id = v->id[v->sel];
	tui_view_scroll(v, v->rows);
}

void tui_view_move(struct tui_view *v, long delta)
{
	select_index(v, (long)v->sel + delta);
	v->follow = v->sel == 0 && v->sort == TUI_SORT_TIME;
}

void tui_view_home(struct tui_view *v)
{
	select_index(v, 0);
	v->follow = v->sort == TUI_SORT_TIME;
}

void tui_view_end(struct tui_view *v)
{
	select_index(v, (long)v->n - 1);
	v->follow = 0;
}

int tui_view_search(struct tui_view *v, const struct tui_model *m, const char *q, int dir)
{
	struct words ws;

	split_words(q, &ws);
	if (!ws.n || !v->n)
		return 0;
	for (uint32_t k = 1; k <= v->n; k++) {
		uint32_t i = dir < 0 ? (v->sel + v->n - k % v->n) % v->n : (v->sel + k) % v->n;
		const struct tui_row *r = tui_model_row(m, v->id[i]);
		if (r && matches(m, r, &ws)) {
			select_index(v, i);
			v->follow = 0;
			return 1;
		}
	}
	return 0;
}

const struct tui_row *tui_view_selected(const struct tui_view *v, const struct tui_model *m)
{
	return tui_model_row(m, v->sel_id);
}
