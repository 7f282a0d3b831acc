/* SPDX-License-Identifier: MIT */
/*
 * listen_note.h - "who listens here?" lines for live runs.
 *
 * At start, and after each refused connection (at most once a second per
 * port), lotrace says who listens on the port and on which address, so
 * that "refused on 127.0.0.1 while the server listens only on ::1" is in
 * plain sight. Text lines start with "# "; JSON is a {"type":"listeners"}
 * object. Each socket on a watched port that begins or stops listening
 * (eBPF) is a line of its own as it happens ({"type":"listener"}). Linux only (sock_diag); elsewhere nothing is printed.
 */
#ifndef LT_LISTEN_NOTE_H
#define LT_LISTEN_NOTE_H

#include <stdio.h>

#include "engine.h"
#include "sbuf.h"

struct listener;
struct listen_ev;
struct json;
struct lt_sink;

/* The per-port rate limit remembers this many ports at once: a note per
 * port and second, and at most this many notes a second in all. */
#define LISTEN_NOTE_SLOTS 256

struct listen_note {
	FILE *out;
	struct lt_sink *sink; /* writes to out too: what it holds goes first */
	int write_errno;      /* errno of the first failed write to out, 0 */
	int json;
	struct {
		uint16_t port;
		uint64_t last_ns; /* 0: free */
	} slot[LISTEN_NOTE_SLOTS];
	uint64_t skipped; /* notes not printed: every slot taken this second */
};

/* One description of port's listeners, e.g.
 * "[::1]:61903 lt_peer[812] (IPv6 only)" or "nothing listens on port 61903". */
void listen_note_describe(struct sbuf *b, uint16_t port, const struct listener *ls, int n);
/* One line for a socket that began or stopped listening (eBPF), e.g.
 * "# 12:00:02.050123 127.0.0.1:61900 began listening: mcp-server[4242]
 * (started 12:00:00.900211) backlog 128", or a {"type":"listener"} object. */
void listen_note_event(struct sbuf *b, const struct listen_ev *ev, int json);
/* "netns": {"inode", "name", "container"} as in connection records, or null. */
void listen_note_json_netns(struct json *j, const struct listen_ev *ev);
/* Print the note for port now; why: "start" or "refused". */
void listen_note_print(struct listen_note *ln, uint16_t port, const char *why,
		       const struct flow *refused);
/* Add as a tap of e: notes after refused connections; -1 if e is full.
 * sink (may be NULL) holds records for out: flushed before each note. */
int listen_note_attach(struct listen_note *ln, struct engine *e, FILE *out, int json,
		       struct lt_sink *sink);

#endif
