/* SPDX-License-Identifier: MIT */
/* kreason.c - kernel drop/reset reason names from BTF or tracefs. */
#include "kreason.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef LT_HAVE_BPF
#include <bpf/btf.h>
#endif

struct kr_entry {
	int code;
	char *name;
};

struct kr_table {
	struct kr_entry *v;
	size_t n, cap;
	const char *source; /* "btf", "tracefs", "none" */
};

static struct kr_table drop_tab = { .source = "none" };
static struct kr_table reset_tab = { .source = "none" };
static int loaded;

static int tab_add(struct kr_table *t, int code, const char *name, size_t len)
{
	struct kr_entry *v;
	char *s;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 128;

		v = realloc(t->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	s = strndup(name, len);
	if (!s)
		return -ENOMEM;
	t->v[t->n].code = code;
	t->v[t->n].name = s;
	t->n++;
	return 0;
}

static void tab_free(struct kr_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].name);
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
	t->source = "none";
}

static const char *tab_name(const struct kr_table *t, int code)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].code == code)
			return t->v[i].name;
	return NULL;
}

#ifdef LT_HAVE_BPF
/* Every enumerator of enum `enum_name`, prefixes stripped. */
static int from_btf(const struct btf *btf, const char *enum_name, const char *const *prefixes,
		    struct kr_table *t)
{
	const struct btf_type *bt;
	const struct btf_enum *e;
	int id, err;

	id = btf__find_by_name_kind(btf, enum_name, BTF_KIND_ENUM);
	if (id < 0)
		return -ENOENT;
	bt = btf__type_by_id(btf, id);
	e = btf_enum(bt);
	for (int i = 0; i < btf_vlen(bt); i++, e++) {
		const char *name = btf__name_by_offset(btf, e->name_off);

		if (!name)
			continue;
		for (const char *const *p = prefixes; *p; p++) {
			size_t pl = strlen(*p);

			if (!strncmp(name, *p, pl)) {
				name += pl;
				break;
			}
		}
		/* SKB_DROP_REASON_MAX and friends are not reasons */
		if (!strcmp(name, "MAX") || !strcmp(name, "SKB_DROP_REASON_MAX"))
			continue;
		err = tab_add(t, e->val, name, strlen(name));
		if (err)
			return err;
	}
	t->source = "btf";
	return 0;
}
#endif

/*
 * Parse the `__print_symbolic(REC->reason, { 2, "NOT_SPECIFIED" }, ...)`
 * table from a tracepoint's format file.
 */
static int from_tracefs(const char *event, struct kr_table *t)
{
	static const char *const roots[] = {
		"/sys/kernel/tracing/events",
		"/sys/kernel/debug/tracing/events",
	};
	char path[256], *buf = NULL, *p;
	size_t len = 0;
	FILE *f = NULL;
	int err = -ENOENT;

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]) && !f; i++) {
		snprintf(path, sizeof(path), "%s/%s/format", roots[i], event);
		f = fopen(path, "r");
	}
	if (!f)
		return -ENOENT;
	while (getline(&buf, &len, f) > 0) {
		if (strncmp(buf, "print fmt:", 10))
			continue;
		p = strstr(buf, "__print_symbolic(REC->reason,");
		if (!p)
			break;
		p += strlen("__print_symbolic(REC->reason,");
		for (;;) {
			char *end, *q;
			long code;

			while (*p == ' ' || *p == ',')
				p++;
			if (*p != '{')
				break;
			code = strtol(p + 1, &end, 0);
			q = strchr(end, '"');
			if (end == p + 1 || !q)
				break;
			end = strchr(q + 1, '"');
			if (!end)
				break;
			err = tab_add(t, (int)code, q + 1, (size_t)(end - q - 1));
			if (err)
				goto out;
			p = strchr(end, '}');
			if (!p)
				break;
			p++;
		}
		break;
	}
	err = t->n ? 0 : -ENOENT;
	if (!err)
		t->source = "tracefs";
out:
	free(buf);
	fclose(f);
	return err;
}

int kreason_load(void)
{
	static const char *const drop_pfx[] = { "SKB_DROP_REASON_", "SKB_", NULL };
	static const char *const rst_pfx[] = { "SK_RST_REASON_", NULL };
	int err_d = -ENOENT, err_r = -ENOENT;

	if (loaded)
		return drop_tab.n || reset_tab.n ? 0 : -ENOENT;
#ifdef LT_HAVE_BPF
	{
		struct btf *btf = btf__load_vmlinux_btf();

		if (btf) {
			err_d = from_btf(btf, "skb_drop_reason", drop_pfx, &drop_tab);
			err_r = from_btf(btf, "sk_rst_reason", rst_pfx, &reset_tab);
			btf__free(btf);
		}
	}
#else
	(void)drop_pfx;
	(void)rst_pfx;
#endif
	if (err_d) {
		tab_free(&drop_tab);
		err_d = from_tracefs("skb/kfree_skb", &drop_tab);
	}
	if (err_r) {
		tab_free(&reset_tab);
		err_r = from_tracefs("tcp/tcp_send_reset", &reset_tab);
	}
	if (err_d == -ENOMEM || err_r == -ENOMEM) {
		kreason_free();
		return -ENOMEM;
	}
	loaded = 1;
	return !err_d || !err_r ? 0 : -ENOENT;
}

const char *kreason_drop_name(int code)
{
	return tab_name(&drop_tab, code);
}

const char *kreason_reset_name(int code)
{
	return tab_name(&reset_tab, code);
}

const char *kreason_drop_source(void)
{
	return drop_tab.source;
}

const char *kreason_reset_source(void)
{
	return reset_tab.source;
}

void kreason_free(void)
{
	tab_free(&drop_tab);
	tab_free(&reset_tab);
	loaded = 0;
}
