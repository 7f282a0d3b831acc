/* SPDX-License-Identifier: MIT */
/*
 * pcapw.c - the -w writer: packets as read (or header snapshots), as pcap
 * written directly, or as pcapng (pcapng.c) with per-connection comments.
 *
 * pcapng holding: packets wait, in arrival order, in one byte buffer
 * (compacted and grown up to PCAPW_HOLD_MAX) until their connection
 * retires; a small open-addressing table keyed by flow id counts each
 * connection's held packets and keeps its comment once it retired. The
 * head of the buffer goes out as soon as its connection retired, so the
 * file keeps the capture's packet order.
 */
#include "pcapw.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fmt.h"
#include "pcapng.h"
#include "synth.h"

#ifndef LT_VERSION
#define LT_VERSION "0.0.0"
#endif

/* A held packet; its bytes follow, the record is padded to 8 bytes. */
struct held {
	uint64_t flow_id, ts_ns;
	uint32_t caplen, len, snaplen, size;
	int32_t link_type;
	uint32_t pad;
};

/* A connection with held packets. */
struct conn_rec {
	uint64_t id;	  /* 0: free slot */
	uint32_t pending; /* its packets still held */
	uint8_t retired, first_done;
	char *body; /* its findings, once retired */
};

struct pcapw {
	FILE *f;
	int to_stdout;
	int ng;
	struct pcapng png;
	int header_done; /* pcap: file header written */
	int32_t link_type;
	uint32_t snaplen;
	uint64_t count, synth, forced, skipped;
	int failed; /* errno of the first write error */
	/* pcapng holding */
	uint8_t *buf;
	size_t cap, head, tail;
	struct conn_rec *recs;
	size_t nrecs, rec_cap; /* rec_cap: a power of two */
};

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

struct pcapw *pcapw_open(const char *path, char err[LT_ERR_LEN])
{
	struct pcapw *w = calloc(1, sizeof(*w));
	int fd = -1;

	if (!w) {
		snprintf(err, LT_ERR_LEN, "out of memory");
		return NULL;
	}
	w->ng = ends_with(path, ".pcapng");
	if (!strcmp(path, "-")) {
		if (isatty(STDOUT_FILENO)) {
			snprintf(err, LT_ERR_LEN,
				 "refusing to write packets to a terminal (-w -); pipe them on, "
				 "e.g. -w - | tshark -r -, or give a file");
			free(w);
			return NULL;
		}
		w->f = stdout;
		w->to_stdout = 1;
	} else {
		/* O_NOFOLLOW: as root, never write through a planted symlink */
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 || !(w->f = fdopen(fd, "wb"))) {
			snprintf(err, LT_ERR_LEN, "cannot write '%s': %s%s", path, strerror(errno),
				 errno == ELOOP ? " (it is a symlink; give a plain file)" : "");
			if (fd >= 0)
				close(fd);
			free(w);
			return NULL;
		}
	}
	if (w->ng && pcapng_begin(&w->png, w->f, "lotrace " LT_VERSION) < 0) {
		snprintf(err, LT_ERR_LEN, "cannot write '%s': %s", path, strerror(errno));
		if (!w->to_stdout)
			fclose(w->f);
		free(w);
		return NULL;
	}
	return w;
}

int pcapw_is_pcapng(const struct pcapw *w)
{
	return w->ng;
}

static void note_error(struct pcapw *w)
{
	if (!w->failed)
		w->failed = errno ? errno : EIO;
}

/* ---- pcap ---------------------------------------------------------------- */

/* The file header: the first packet's link type and snap length. */
static void pcap_header(struct pcapw *w, int32_t link_type, uint32_t snaplen)
{
	/* magic a1b23c4d: nanosecond stamps; all in host byte order */
	uint32_t h[6] = { 0xa1b23c4du, 0, 0, 0, snaplen, (uint32_t)link_type };
	uint16_t ver[2] = { 2, 4 };
	memcpy(&h[1], ver, sizeof(ver));
	w->link_type = link_type;
	w->snaplen = snaplen;
	w->header_done = 1;
	if (fwrite(h, 1, sizeof(h), w->f) != sizeof(h))
		note_error(w);
}

static int pcap_put(struct pcapw *w, uint64_t ts_ns, int32_t link_type, uint32_t snaplen,
		    const uint8_t *data, uint32_t caplen, uint32_t len)
{
	if (!w->header_done)
		pcap_header(w, link_type, snaplen);
	if (link_type != w->link_type) {
		w->skipped++; /* said at the end: pcap holds one link type */
		return 0;
	}
	uint32_t r[4] = { (uint32_t)(ts_ns / 1000000000ull), (uint32_t)(ts_ns % 1000000000ull),
			  caplen, len };
	if (fwrite(r, 1, sizeof(r), w->f) != sizeof(r) || fwrite(data, 1, caplen, w->f) != caplen) {
		note_error(w);
		return -1;
	}
	return 0;
}

/* ---- pcapng: the connections table ------------------------------------- */

static size_t rec_slot(const struct pcapw *w, uint64_t id)
{
	return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 20) & (w->rec_cap - 1);
}

static struct conn_rec *rec_find(struct pcapw *w, uint64_t id)
{
	if (!w->rec_cap)
		return NULL;
	for (size_t i = rec_slot(w, id);; i = (i + 1) & (w->rec_cap - 1)) {
		if (w->recs[i].id == id)
			return &w->recs[i];
		if (!w->recs[i].id)
			return NULL;
	}
}

static int rec_grow(struct pcapw *w)
{
	size_t ncap = w->rec_cap ? w->rec_cap * 2 : 1024;
	struct conn_rec *old = w->recs, *n = calloc(ncap, sizeof(*n));
	size_t ocap = w->rec_cap;
	if (!n)
		return -1;
	w->recs = n;
	w->rec_cap = ncap;
	for (size_t i = 0; i < ocap; i++) {
		if (!old[i].id)
			continue;
		size_t j = rec_slot(w, old[i].id);
		while (n[j].id)
			j = (j + 1) & (ncap - 1);
		n[j] = old[i];
	}
	free(old);
	return 0;
}

static struct conn_rec *rec_get(struct pcapw *w, uint64_t id)
{
	struct conn_rec *r = rec_find(w, id);
	if (r)
		return r;
	if ((w->nrecs + 1) * 2 > w->rec_cap && rec_grow(w) < 0)
		return NULL;
	size_t i = rec_slot(w, id);
	while (w->recs[i].id)
		i = (i + 1) & (w->rec_cap - 1);
	memset(&w->recs[i], 0, sizeof(w->recs[i]));
	w->recs[i].id = id;
	w->nrecs++;
	return &w->recs[i];
}

/* Linear-probing delete: shift later members of the run back. */
static void rec_del(struct pcapw *w, struct conn_rec *r)
{
	size_t mask = w->rec_cap - 1, i = (size_t)(r - w->recs), j = i;
	free(r->body);
	for (;;) {
		j = (j + 1) & mask;
		if (!w->recs[j].id)
			break;
		size_t k = rec_slot(w, w->recs[j].id);
		/* move j to i when its home k is not in (i, j] cyclically */
		if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
			w->recs[i] = w->recs[j];
			i = j;
		}
	}
	memset(&w->recs[i], 0, sizeof(w->recs[i]));
	w->nrecs--;
}

/* ---- pcapng: holding ----------------------------------------------------- */

/* Why the head packet goes out. */
enum head_why {
	HEAD_RETIRED = 0, /* its connection retired: comments are final */
	HEAD_FULL,	  /* the buffer is full; its connection is still open */
	HEAD_CLOSING,	  /* the run ended without reporting its connection */
};

static void write_head(struct pcapw *w, enum head_why why)
{
	struct held *h = (struct held *)(w->buf + w->head);
	struct conn_rec *r = rec_find(w, h->flow_id);
	char comment[1024];
	const char *c = NULL;

	w->head += h->size;
	if (!r) { /* cannot happen: every held packet has its record */
		note_error(w);
		return;
	}
	int first = !r->first_done;
	r->first_done = 1;
	r->pending--;
	int last = r->retired && !r->pending;
	if (why == HEAD_FULL)
		w->forced++;
	if (!r->retired && first) {
		snprintf(comment, sizeof(comment), "lotrace conn #%llu first packet: %s",
			 (unsigned long long)r->id,
			 why == HEAD_FULL ? "still open when written (the -w buffer was full); its "
					    "verdict is in lotrace's output"
					  : "not reported: the run stopped before this connection "
					    "ended (-c, --duration or a stop)");
		c = comment;
	} else if (r->retired && (first || last)) {
		snprintf(comment, sizeof(comment), "lotrace conn #%llu %s: %s",
			 (unsigned long long)r->id,
			 first && last ? "first and last packet"
			 : first       ? "first packet"
				       : "last packet",
			 r->body ? r->body : "");
		c = comment;
	}
	if (pcapng_packet(&w->png, h->link_type, h->snaplen, h->ts_ns, (const uint8_t *)(h + 1),
			  h->caplen, h->len, c) < 0)
		note_error(w);
	if (last)
		rec_del(w, r);
}

/* Write every packet at the head whose connection has retired. */
static void drain(struct pcapw *w)
{
	while (w->head < w->tail) {
		const struct held *h = (const struct held *)(w->buf + w->head);
		const struct conn_rec *r = rec_find(w, h->flow_id);
		if (r && !r->retired)
			break;
		write_head(w, HEAD_RETIRED);
	}
	if (w->head == w->tail)
		w->head = w->tail = 0;
}

/* Room for need more bytes: compact, grow, or write the oldest early. */
static int make_room(struct pcapw *w, size_t need)
{
	while (w->tail + need > w->cap) {
		if (w->head) {
			memmove(w->buf, w->buf + w->head, w->tail - w->head);
			w->tail -= w->head;
			w->head = 0;
			continue;
		}
		if (w->cap < PCAPW_HOLD_MAX) {
			size_t ncap = w->cap ? w->cap * 2 : (1u << 20);
			while (ncap < need)
				ncap *= 2;
			uint8_t *b = realloc(w->buf, ncap);
			if (b) {
				w->buf = b;
				w->cap = ncap;
				continue;
			}
		}
		if (w->head == w->tail)
			return -1; /* nothing to give up: out of memory */
		write_head(w, HEAD_FULL);
		drain(w);
	}
	return 0;
}

static int hold(struct pcapw *w, uint64_t flow_id, uint64_t ts_ns, int32_t link_type,
		uint32_t snaplen, const uint8_t *data, uint32_t caplen, uint32_t len)
{
	size_t need = (sizeof(struct held) + caplen + 7) & ~(size_t)7;
	struct conn_rec *r = rec_get(w, flow_id);
	if (!r || make_room(w, need) < 0) {
		errno = ENOMEM;
		note_error(w);
		return -1;
	}
	r = rec_find(w, flow_id); /* make_room may have written and moved it */
	if (!r)
		r = rec_get(w, flow_id);
	if (!r)
		return -1;
	struct held *h = (struct held *)(w->buf + w->tail);
	*h = (struct held){ .flow_id = flow_id,
			    .ts_ns = ts_ns,
			    .caplen = caplen,
			    .len = len,
			    .snaplen = snaplen,
			    .size = (uint32_t)need,
			    .link_type = link_type };
	memcpy(h + 1, data, caplen);
	w->tail += need;
	r->pending++;
	return 0;
}

/* ---- the API --------------------------------------------------------------- */

static int put_packet(struct pcapw *w, uint64_t flow_id, uint64_t ts_ns, int32_t link_type,
		      uint32_t snaplen, const uint8_t *data, uint32_t caplen, uint32_t len)
{
	w->count++;
	if (!w->ng)
		return pcap_put(w, ts_ns, link_type, snaplen, data, caplen, len);
	int r = hold(w, flow_id, ts_ns, link_type, snaplen, data, caplen, len);
	drain(w);
	return r;
}

int pcapw_obs(struct pcapw *w, const struct lt_obs *o, uint64_t flow_id)
{
	uint8_t sb[SYNTH_MAX];
	uint32_t len;

	if (o->kind != LT_OBS_SEGMENT || !flow_id)
		return 0;
	if (o->frame)
		return put_packet(w, flow_id, o->ts_ns, o->frame->link_type, o->frame->snaplen,
				  o->frame->data, o->frame->caplen, o->frame->len);
	size_t n = synth_frame(sb, o, &len);
	w->synth++;
	return put_packet(w, flow_id, o->ts_ns, DLT_EN10MB, PCAPW_SNAPLEN, sb, (uint32_t)n, len);
}

int pcapw_segment(struct pcapw *w, uint64_t ts_ns, uint8_t family, const struct lt_endpoint *src,
		  const struct lt_endpoint *dst, uint8_t flags, uint32_t seq, uint32_t ack,
		  uint32_t payload_len)
{
	struct lt_obs o;
	uint8_t sb[SYNTH_MAX];
	uint32_t len;

	memset(&o, 0, sizeof(o));
	o.kind = LT_OBS_SEGMENT;
	o.ts_ns = ts_ns;
	o.family = family;
	o.src = *src;
	o.dst = *dst;
	o.tcp_flags = flags;
	o.seq = seq;
	o.ack = ack;
	o.payload_len = payload_len;
	size_t n = synth_frame(sb, &o, &len);
	w->synth++;
	w->count++;
	if (w->ng)
		return pcapng_packet(&w->png, DLT_EN10MB, PCAPW_SNAPLEN, ts_ns, sb, (uint32_t)n,
				     len, NULL);
	return pcap_put(w, ts_ns, DLT_EN10MB, PCAPW_SNAPLEN, sb, (uint32_t)n, len);
}

static void add_endpoint(char *out, size_t len, const char *role, const struct flow *f, int dir)
{
	char ep[FMT_EP_LEN];
	const struct flow_side *s = &f->side[dir];
	size_t n = strlen(out);
	fmt_endpoint(ep, f->family, dir ? &f->server : &f->client);
	if (s->pid > 0)
		snprintf(out + n, len - n, "; %s %s %s[%d]", role, ep, s->comm, s->pid);
	else
		snprintf(out + n, len - n, "; %s %s", role, ep);
}

void pcapw_retired(struct pcapw *w, const struct flow *f, enum lt_verdict v)
{
	char body[900], a[24], b[24];
	struct conn_rec *r;

	if (!w->ng || !(r = rec_find(w, f->id)))
		return;
	snprintf(body, sizeof(body), "verdict %s; zeek %s %s", lt_verdict_name(v),
		 flow_zeek_state(f), f->history[0] ? f->history : "-");
	size_t n = strlen(body);
	if (flow_syn_to_synack(f) >= 0)
		snprintf(body + n, sizeof(body) - n, "; handshake SYN->SYN-ACK %s, SYN-ACK->ACK %s",
			 fmt_dur(a, flow_syn_to_synack(f)), fmt_dur(b, flow_synack_to_ack(f)));
	add_endpoint(body, sizeof(body), "client", f, LT_DIR_C2S);
	add_endpoint(body, sizeof(body), "server", f, LT_DIR_S2C);
	n = strlen(body);
	if (f->reset_reason[0])
		n += (size_t)snprintf(body + n, sizeof(body) - n, "; kernel reset reason %s",
				      f->reset_reason);
	if (f->drop_reason[0] && n < sizeof(body))
		n += (size_t)snprintf(body + n, sizeof(body) - n,
				      "; kernel drop reason %s (%u drops)", f->drop_reason,
				      f->drops);
	if (f->sk_errno && n < sizeof(body))
		snprintf(body + n, sizeof(body) - n, "; errno %d", f->sk_errno);
	r->retired = 1;
	r->body = strdup(body);
	if (!r->pending)
		rec_del(w, r); /* its packets all went out early */
	drain(w);
}

uint64_t pcapw_count(const struct pcapw *w)
{
	return w->count;
}

uint64_t pcapw_synth(const struct pcapw *w)
{
	return w->synth;
}

uint64_t pcapw_forced(const struct pcapw *w)
{
	return w->forced;
}

uint64_t pcapw_skipped(const struct pcapw *w)
{
	return w->skipped;
}

int pcapw_error(const struct pcapw *w)
{
	if (w->failed)
		return w->failed;
	return ferror(w->f) ? EIO : 0;
}

void pcapw_flush(struct pcapw *w)
{
	if (fflush(w->f) != 0)
		note_error(w);
}

int pcapw_close(struct pcapw *w)
{
	if (!w)
		return 0;
	/* end of the run: what remains belongs to connections it did not
	 * report (-c stops counting); write it, saying so */
	while (w->ng && w->head < w->tail)
		write_head(w, HEAD_CLOSING);
	if (!w->ng && !w->header_done) /* nothing seen: still a valid file */
		pcap_header(w, DLT_EN10MB, PCAPW_SNAPLEN);
	pcapw_flush(w);
	int bad = w->failed || ferror(w->f);
	if (!w->to_stdout && fclose(w->f) != 0)
		bad = 1;
	int err = w->failed;
	for (size_t i = 0; i < w->rec_cap; i++)
		free(w->recs[i].body);
	free(w->recs);
	free(w->buf);
	free(w);
	return bad ? -(err ? err : EIO) : 0;
}
