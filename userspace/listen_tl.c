/* SPDX-License-Identifier: MIT */
/*
 * listen_tl.c - the listener timeline: what began or stopped listening
 * during a run, kept in arrival order, bounded. Owns the events and the
 * question "which change of a listener for this address came just before
 * and just after a time"; not the listener rules (listeners.c), not how
 * the events are worded (listen_note.c, report.c, diagnose_words.c).
 */
#include "listen_tl.h"

#include <stdlib.h>
#include <string.h>

const struct listen_ev *listen_tl_add(struct listen_tl *t, const struct lt_obs *o)
{
	if (o->kind != LT_OBS_LISTEN || (o->family != 4 && o->family != 6))
		return NULL;
	if (t->n == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 64;
		struct listen_ev *v;

		if (t->cap >= LISTEN_TL_MAX || !(v = realloc(t->v, cap * sizeof(*v)))) {
			t->dropped++;
			return NULL;
		}
		t->v = v;
		t->cap = cap;
	}
	struct listen_ev *e = &t->v[t->n++];
	memset(e, 0, sizeof(*e));
	e->ts_ns = o->ts_ns;
	e->what = o->listen_what;
	e->l.family = o->family;
	memcpy(e->l.addr, o->src.addr, o->family == 6 ? 16 : 4);
	e->l.port = o->src.port;
	e->l.backlog = o->listen_backlog;
	e->l.pid = o->pid > 0 ? o->pid : -1;
	memcpy(e->l.comm, o->comm, sizeof(e->l.comm));
	e->l.comm[sizeof(e->l.comm) - 1] = 0;
	e->netns = o->netns;
	e->ns = o->ns;
	e->proc_start_ns = o->proc_start_ns;
	return e;
}

void listen_tl_free(struct listen_tl *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

bool listen_ev_takes(const struct listen_ev *e, uint8_t family, const uint8_t addr[16],
		     uint16_t port, uint32_t netns)
{
	if (netns && e->netns && netns != e->netns)
		return false;
	return listener_takes(&e->l, family, addr, port);
}

int listen_tl_around(const struct listen_ev *v, int n, uint8_t family, const uint8_t addr[16],
		     uint16_t port, uint32_t netns, uint64_t ts, const struct listen_ev **before,
		     const struct listen_ev **after)
{
	int found = 0;

	*before = *after = NULL;
	for (int i = 0; i < n; i++) {
		if (!listen_ev_takes(&v[i], family, addr, port, netns))
			continue;
		found++;
		if (v[i].ts_ns <= ts)
			*before = &v[i];
		else if (!*after)
			*after = &v[i];
	}
	return found;
}
