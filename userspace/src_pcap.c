/* SPDX-License-Identifier: MIT */
/*
 * src_pcap.c - observations from libpcap: a capture file or a live device.
 *
 * Files are opened by libpcap (pcap and pcapng, any byte order, micro or
 * nanosecond stamps) from the stream instream.c makes: a path or stdin,
 * plain or gzip, never seeked. Live capture uses pcap_create/pcap_activate,
 * non-blocking, with a 50 ms buffer timeout (not immediate mode: a wakeup
 * per packet would cost the traced connection rate) and a compiled "tcp
 * port N" filter. A user's pcap-filter expression is compiled by libpcap
 * here for both, so it means what it means to tcpdump. Each observation
 * carries its frame (obs.h) so -w can write the packets as they were.
 */
#include "source.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "hugemem.h"
#include "instream.h"
#include "ports.h"

struct pcap_src {
	struct lt_source base;
	pcap_t *p;
	int live;
	int dlt;
	uint32_t snaplen;
	struct lt_frame fr;  /* the frame of the last observation */
	struct lt_obs obs;   /* every frame is decoded into it (dec_frame_count) */
	struct instream *in; /* files: the stream under libpcap (owned by it) */
	char *rdbuf;	     /* files: its stdio buffer (INSTREAM_BUF_SIZE) */
	uint64_t last_ts;
	struct lt_source_stats st;
	/* the callback of the dispatch under way */
	lt_obs_fn fn;
	void *ctx;
	int delivered;
};

static uint64_t ts_of(const struct pcap_pkthdr *h)
{
	/* opened with nanosecond precision: tv_usec holds nanoseconds */
	return (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct pcap_src *s = (struct pcap_src *)user;
	struct lt_obs *o = &s->obs; /* not cleared per frame: decode.h */

	s->st.received++;
	if (dec_frame_count(&s->st.dec, s->dlt, bytes, h->caplen, o) != DEC_OK)
		return;
	o->ts_ns = ts_of(h);
	/* in the source: a wrapper (the replay pacer) may hold (a copy of)
	 * the observation until after this returns; libpcap's buffer stays
	 * valid until the next read */
	s->fr = (struct lt_frame){ .data = bytes,
				   .caplen = h->caplen,
				   .len = h->len,
				   .snaplen = s->snaplen,
				   .link_type = s->dlt,
				   .number = s->st.received };
	o->frame = &s->fr;
	s->last_ts = o->ts_ns;
	s->fn(s->ctx, o);
	s->delivered++;
}

static int pcap_src_fd(struct lt_source *base)
{
	struct pcap_src *s = (struct pcap_src *)base;
	return s->live ? pcap_get_selectable_fd(s->p) : -1;
}

/* libpcap's reason, with a way forward when there is one. */
static void explain(char *out, size_t len, const char *path, const char *why)
{
	if (strstr(why, "snapshot length") || strstr(why, "different from the type"))
		/* pcapng with several interfaces: libpcap takes one link type
		 * and snap length per file; editcap rewrites it as pcap */
		snprintf(
			out, len,
			"%s; libpcap reads one link type and snap length per file: convert it with "
			"'editcap -F pcap -T ether %s out.pcap' (-T: the link type capinfos shows)",
			why, path);
	else
		snprintf(out, len, "%s", why);
}

/* An error mid-file: keep what was read, say why it stopped. */
static void file_error(struct pcap_src *s)
{
	/* zlib's reason beats libpcap's "error reading dump file" (which
	 * quotes whatever errno was left) */
	const char *why = instream_error(s->in);
	if (!*why)
		why = pcap_geterr(s->p);
	explain(s->st.read_error, sizeof(s->st.read_error), s->base.desc,
		why && *why ? why : "read error");
	s->st.truncated_file = strstr(s->st.read_error, "truncated") != NULL;
}

static int pcap_src_dispatch(struct lt_source *base, int budget, lt_obs_fn fn, void *ctx)
{
	struct pcap_src *s = (struct pcap_src *)base;
	s->fn = fn;
	s->ctx = ctx;
	s->delivered = 0;
	if (budget <= 0)
		return 0; /* pcap_dispatch would take 0 as "the whole file" */
	/* pcap_dispatch, not a pcap_next_ex per record: libpcap's read loop
	 * calls on_packet straight (pcap_next_ex is that loop run for one
	 * record, plus a callback that hands it back) */
	int r = pcap_dispatch(s->p, budget, on_packet, (u_char *)s);
	if (!s->live) {
		if (r == 0)
			return LT_SRC_EOF; /* a savefile with no more records */
		if (r == PCAP_ERROR) {
			file_error(s);
			return LT_SRC_EOF;
		}
		return s->delivered;
	}
	if (r == PCAP_ERROR) {
		snprintf(s->st.read_error, sizeof(s->st.read_error), "%s", pcap_geterr(s->p));
		return -EIO;
	}
	return s->delivered;
}

static uint64_t pcap_src_now(struct lt_source *base)
{
	struct pcap_src *s = (struct pcap_src *)base;
	if (!s->live)
		return s->last_ts;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void pcap_src_stats(struct lt_source *base, struct lt_source_stats *st)
{
	struct pcap_src *s = (struct pcap_src *)base;
	if (s->live) {
		struct pcap_stat ps;
		if (pcap_stats(s->p, &ps) == 0) {
			s->st.lost_kernel = ps.ps_drop;
			s->st.lost_iface = ps.ps_ifdrop;
			s->st.lost = (uint64_t)ps.ps_drop + ps.ps_ifdrop;
		}
	}
	*st = s->st;
}

static void pcap_src_close(struct lt_source *base)
{
	struct pcap_src *s = (struct pcap_src *)base;
	if (s->p)
		pcap_close(s->p);
	/* after the stream that reads through it */
	hugemem_free(s->rdbuf, 1, INSTREAM_BUF_SIZE);
	free(s);
}

static const struct lt_source_ops file_ops = {
	.name = "pcap-file",
	.fd = pcap_src_fd,
	.dispatch = pcap_src_dispatch,
	.now = pcap_src_now,
	.stats = pcap_src_stats,
	.close = pcap_src_close,
};

static const struct lt_source_ops live_ops = {
	.name = "pcap",
	.fd = pcap_src_fd,
	.dispatch = pcap_src_dispatch,
	.now = pcap_src_now,
	.stats = pcap_src_stats,
	.close = pcap_src_close,
};

static void set_link_name(struct pcap_src *s)
{
	const char *name = pcap_datalink_val_to_name(s->dlt);
	s->base.link_type = s->dlt;
	snprintf(s->base.link_name, sizeof(s->base.link_name), "%s", name ? name : "unknown");
}

static int check_link_type(struct pcap_src *s, const char *what, char err[LT_ERR_LEN])
{
	set_link_name(s);
	if (dec_dlt_supported(s->dlt))
		return 0;
	snprintf(err, LT_ERR_LEN,
		 "%s has link type %s (%d), which lotrace cannot decode; supported: "
		 "EN10MB, NULL, LOOP, RAW, IPV4, IPV6, LINUX_SLL, LINUX_SLL2",
		 what, s->base.link_name, s->dlt);
	return -1;
}

/* Compile expr for s->p and install it; 0, or -1 with err. */
static int set_user_filter(struct pcap_src *s, const char *expr, char err[LT_ERR_LEN])
{
	struct bpf_program prog;
	if (!expr || !*expr)
		return 0;
	/* One instruction, "return 0": for a file of a link type the
	 * expression can never match (ip6 on an IPv4-only DLT_RAW file);
	 * among merged files, that file simply contributes nothing. */
	struct bpf_insn reject = BPF_STMT(BPF_RET | BPF_K, 0);
	struct bpf_program none = { .bf_len = 1, .bf_insns = &reject };
	int own = 1;
	if (pcap_compile(s->p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		if (!strstr(pcap_geterr(s->p), "rejects all packets")) {
			snprintf(err, LT_ERR_LEN, "invalid filter expression '%s': %s", expr,
				 pcap_geterr(s->p));
			return -1;
		}
		prog = none;
		own = 0;
	}
	int r = pcap_setfilter(s->p, &prog);
	if (own)
		pcap_freecode(&prog);
	if (r < 0) {
		snprintf(err, LT_ERR_LEN, "cannot apply filter expression '%s': %s", expr,
			 pcap_geterr(s->p));
		return -1;
	}
	return 0;
}

struct lt_source *src_pcap_file_open(const char *path, const char *filter, char err[LT_ERR_LEN])
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct pcap_src *s = calloc(1, sizeof(*s));
	FILE *f;

	if (!s) {
		snprintf(err, LT_ERR_LEN, "out of memory");
		return NULL;
	}
	dec_obs_init(&s->obs);
	/* On a huge page: read(2)'s copy into it costs half as much as into
	 * small pages (tests/bench/replay.sh). NULL: stdio's 4 KiB reads */
	s->rdbuf = hugemem_zalloc(1, INSTREAM_BUF_SIZE);
	f = instream_open(path, &s->in, s->rdbuf, INSTREAM_BUF_SIZE, err, LT_ERR_LEN);
	if (!f)
		goto fail;
	s->p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!s->p) {
		const char *why = instream_error(s->in);
		char ex[LT_ERR_LEN];
		if (*why)
			snprintf(err, LT_ERR_LEN, "cannot read capture '%s': %s", path, why);
		else if (explain(ex, sizeof(ex), path, ebuf), strcmp(ex, ebuf))
			snprintf(err, LT_ERR_LEN, "cannot read capture '%s': %s", path, ex);
		else
			snprintf(err, LT_ERR_LEN,
				 "cannot read capture '%s': %s; is it a complete pcap or pcapng "
				 "file?",
				 path, ebuf);
		fclose(f);
		goto fail;
	}
	s->base.ops = &file_ops;
	s->dlt = pcap_datalink(s->p);
	s->snaplen = (uint32_t)pcap_snapshot(s->p);
	s->base.snaplen = s->snaplen;
	char what[300];
	snprintf(what, sizeof(what), "capture '%s'", path);
	if (check_link_type(s, what, err) < 0 || set_user_filter(s, filter, err) < 0)
		goto fail;
	snprintf(s->base.desc, sizeof(s->base.desc), "%s", path);
	return &s->base;
fail:
	pcap_src_close(&s->base);
	return NULL;
}

const char *src_pcap_loopback_name(void)
{
#if defined(__linux__)
	return "lo";
#else
	return "lo0";
#endif
}

static void build_filter(char *out, size_t len, const uint16_t *ports, int n, const char *expr)
{
	size_t used = (size_t)snprintf(out, len, "tcp");
	for (int i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s port %u",
					 i ? " or tcp" : " and (tcp", ports[i]);
	if (n && used < len)
		used += (size_t)snprintf(out + used, len - used, ")");
	if (expr && *expr && used < len)
		snprintf(out + used, len - used, " and (%s)", expr);
}

struct lt_source *src_pcap_live_open(const char *ifname, const uint16_t *ports, int nports,
				     int snaplen, const char *expr, char err[LT_ERR_LEN])
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	char filter[LT_MAX_PORTS * 24 + 32 + LT_FILTER_MAX];
	struct bpf_program prog;
	struct pcap_src *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, LT_ERR_LEN, "out of memory");
		return NULL;
	}
	dec_obs_init(&s->obs);
	s->live = 1;
	s->base.ops = &live_ops;
	s->p = pcap_create(ifname, ebuf);
	if (!s->p) {
		snprintf(err, LT_ERR_LEN, "cannot capture on '%s': %s", ifname, ebuf);
		goto fail;
	}
	/* Headers are all the engine reads (payload length comes from the IP
	 * header), so a short snap keeps the kernel buffer from filling. */
	pcap_set_snaplen(s->p, snaplen > 0 ? snaplen : LT_LIVE_SNAPLEN);
	/* Not immediate mode: a wakeup per packet costs the traced
	 * connection rate; a 50 ms buffer timeout keeps the view live. */
	pcap_set_timeout(s->p, 50);
	pcap_set_buffer_size(s->p, 32 << 20);
	pcap_set_tstamp_precision(s->p, PCAP_TSTAMP_PRECISION_NANO);
	int r = pcap_activate(s->p);
	if (r < 0) {
		if (r == PCAP_ERROR_NO_SUCH_DEVICE)
			snprintf(err, LT_ERR_LEN,
				 "no such interface '%s'; list interfaces with 'ip link' (loopback "
				 "is '%s')",
				 ifname, src_pcap_loopback_name());
		else if (r == PCAP_ERROR_PERM_DENIED)
			snprintf(err, LT_ERR_LEN,
				 "cannot capture on '%s': permission denied; run as root (sudo) or "
				 "grant CAP_NET_RAW",
				 ifname);
		else
			snprintf(err, LT_ERR_LEN, "cannot capture on '%s': %s", ifname,
				 pcap_geterr(s->p));
		goto fail;
	}
	s->dlt = pcap_datalink(s->p);
	s->snaplen = (uint32_t)pcap_snapshot(s->p);
	s->base.snaplen = s->snaplen;
	char what[300];
	snprintf(what, sizeof(what), "interface '%s'", ifname);
	if (check_link_type(s, what, err) < 0)
		goto fail;
	build_filter(filter, sizeof(filter), ports, nports, expr);
	if (pcap_compile(s->p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, LT_ERR_LEN, "invalid filter expression '%s': %s",
			 expr && *expr ? expr : filter, pcap_geterr(s->p));
		goto fail;
	}
	r = pcap_setfilter(s->p, &prog);
	pcap_freecode(&prog);
	if (r < 0 || pcap_setnonblock(s->p, 1, ebuf) < 0) {
		snprintf(err, LT_ERR_LEN, "cannot set up capture on '%s': %s", ifname,
			 pcap_geterr(s->p));
		goto fail;
	}
	snprintf(s->base.desc, sizeof(s->base.desc), "%s", ifname);
	return &s->base;
fail:
	pcap_src_close(&s->base);
	return NULL;
}
