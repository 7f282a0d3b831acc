/* SPDX-License-Identifier: MIT */
/*
 * sink.c - the sink the command line asks for: text, JSON or Zeek, with
 * the options that shape every record (-t.., -q, --sort), and a sink's
 * own output buffer written with write(2) (struct sink_batch).
 * Owns nothing else; the sinks are sink_text.c, sink_json.c, sink_zeek.c.
 */
#include "sink.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "opts.h"
#include "stdio_nolock.h"

void sink_netns_name(const struct lt_netns *ns, char *out, size_t len)
{
	int n;

	if (!len)
		return;
	out[0] = 0;
	if (!ns)
		return;
	if (ns->name[0])
		n = snprintf(out, len, "%s", ns->name);
	else
		n = snprintf(out, len, "netns:%u", (unsigned)ns->ino);
	if (ns->container[0] && n >= 0 && (size_t)n < len)
		snprintf(out + n, len - (size_t)n, "/%s", ns->container);
}

void sink_netns_label(const struct flow *f, char *out, size_t len)
{
	sink_netns_name(f->ns, out, len);
}

struct lt_sink *sink_for_opts(FILE *out, const struct lt_opts *o)
{
	struct lt_sink_cfg cfg = {
		.ts_mode = (enum lt_ts_mode)o->ts_mode,
		.quiet = o->quiet,
		.sort_start = o->sort_start,
		.netns_always = o->netns != NULL,
		/* live runs: listener notes share the stream, and
		 * listen_note.c flushes the sink before each */
		.batch = 1,
	};
	switch (o->format) {
	case LT_FMT_JSON:
		return sink_json_open(out, &cfg);
	case LT_FMT_ZEEK:
		return sink_zeek_open(out, &cfg);
	case LT_FMT_TEXT:
	case LT_FMT_MARKDOWN:
		break;
	}
	return sink_text_open(out, &cfg);
}

void sink_flush(struct lt_sink *s)
{
	if (s && s->ops->flush)
		s->ops->flush(s);
}

/* ---- a sink's own output buffer ------------------------------------------ */

void sink_batch_init(struct sink_batch *sb, FILE *out, bool want)
{
	sbuf_init(&sb->buf, SINK_RECORD_CAP);
	sb->on = want && out != stderr && !isatty(fileno(out));
}

void sink_batch_release(struct sink_batch *sb)
{
	sbuf_release(&sb->buf);
}

struct sbuf *sink_batch_begin(struct sink_batch *sb)
{
	struct sbuf *b = &sb->buf;
	if (!sb->on) {
		sbuf_reset(b);
		return b;
	}
	b->cap = b->len + SINK_RECORD_CAP; /* the cap is per record */
	b->toobig = false;
	return b;
}

/* n bytes at p to out, after what stdio holds for it. */
static void batch_write(FILE *out, const char *p, size_t n)
{
	if (__fpending(out) && fflush(out) != 0)
		return; /* the error is on the stream */
	int fd = fileno(out);
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (!(w < 0 && errno == EINTR)) {
			break;
		}
	}
	if (n) { /* failed or cut short: stdio meets it again and keeps it */
		fwrite(p, 1, n, out);
		fflush(out);
	}
}

void sink_batch_flush(struct sink_batch *sb, FILE *out)
{
	if (!sb->on)
		return; /* each record went out when it ended */
	if (sb->buf.len)
		batch_write(out, sb->buf.buf, sb->buf.len);
	sbuf_reset(&sb->buf);
}

void sink_batch_end(struct sink_batch *sb, FILE *out)
{
	if (!sb->on) /* unlocked: only the run's thread writes outputs (a live
		      * run has other threads, and a locked fwrite is two
		      * atomic operations per record) */
		stdio_write_nolock(sbuf_str(&sb->buf), sb->buf.len, out);
	else if (sb->buf.len >= SINK_BATCH_BYTES)
		sink_batch_flush(sb, out);
}
