/* SPDX-License-Identifier: MIT */
/*
 * fuzz_file.c - libFuzzer target: a whole capture file through the path
 * `lotrace -r FILE` runs: the pcap file source (libpcap, gzip), the
 * decoder, the flow engine, the text and JSON sinks and the report in
 * every format.
 *
 * The input is the file itself, written to a memfd and opened by name
 * (/proc/self/fd/N), so libpcap's reader, the gzip stream and lotrace's
 * handling of cut or bad files are all in play. The last byte of the
 * input (part of the last frame's payload in a real capture) picks a few
 * options: bit 0 a 16-flow table, bit 1 --count 3, bit 2 --port 61900.
 * Nothing is written anywhere but /dev/null.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine.h"
#include "frontends.h"
#include "report.h"
#include "sink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The sinks as taps of the engine, as run.c adds them. */
static void sink_conn(void *ctx, const struct flow *f, enum lt_verdict v)
{
	struct lt_sink *s = ctx;
	s->ops->conn(s, f, v);
}

static int add_sinks(struct engine *e, struct lt_sink **sk, FILE *null)
{
	sk[0] = sink_text_new(null);
	sk[1] = sink_json_new(null);
	for (int i = 0; i < 2; i++) {
		struct lt_tap t = { .on_retire = sink_conn, .ctx = sk[i] };
		if (!sk[i] || engine_add_tap(e, &t) < 0)
			return -1;
	}
	return 0;
}

static void end_sinks(struct engine *e, struct lt_sink **sk, const struct lt_run_info *ri,
		      const struct lt_source_stats *ss)
{
	struct lt_run_end re = { .stats = engine_stats(e),
				 .flows = flow_tab_counters(engine_flows(e)),
				 .src = ss };
	for (int i = 0; i < 2; i++)
		if (sk[i]) {
			sk[i]->ops->end(sk[i], ri, &re);
			sk[i]->ops->free(sk[i]);
		}
}

static void run_file(const char *path, uint8_t optbits)
{
	struct lt_opts o;
	struct lt_source *src;
	struct engine *eng;
	struct lt_sink *sk[2] = { NULL, NULL };
	struct flow_config cfg;
	struct lt_run_info ri;
	struct lt_source_stats ss;
	char err[LT_ERR_LEN], note[LT_ERR_LEN];

	memset(&o, 0, sizeof(o));
	o.read_file = path;
	o.max_flows = (optbits & 1) ? 16 : 1024; /* the default 65536 costs ms per run */
	o.count = (optbits & 2) ? 3 : 0;
	if (optbits & 4)
		ports_add(&o.ports, "61900", err, sizeof(err));

	if (lt_open_source(&o, &src, note, sizeof(note), err) < 0)
		return;
	FILE *null = fopen("/dev/null", "w");
	lt_flow_config(&cfg, &o, lt_source_is_live(src));
	if (!null || !(eng = engine_init(&cfg))) {
		if (null)
			fclose(null);
		src->ops->close(src);
		return;
	}
	engine_set_limit(eng, o.count);
	for (int i = 0; i < o.ports.n; i++)
		engine_watch(eng, o.ports.list[i]);
	add_sinks(eng, sk, null);
	struct report *rep = report_attach(eng, &o, 0);
	lt_run_info_fill(&ri, &o, src, note);
	for (int i = 0; i < 2; i++)
		if (sk[i])
			sk[i]->ops->begin(sk[i], &ri);
	while (!engine_done(eng)) {
		int r = src->ops->dispatch(src, 4096, engine_obs, eng);
		if (r == LT_SRC_EOF || (r < 0 && r != -EAGAIN && r != -EINTR))
			break;
	}
	engine_finish(eng);
	src->ops->stats(src, &ss);
	end_sinks(eng, sk, &ri, &ss);
	if (rep) {
		report_write(rep, null, LT_FMT_MARKDOWN, &ri, &ss, 0);
		report_write(rep, null, LT_FMT_TEXT, &ri, &ss, 0);
		report_write(rep, null, LT_FMT_JSON, &ri, &ss, 0);
		report_free(rep);
	}
	src->ops->close(src);
	engine_release(eng);
	fclose(null);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = memfd_create("lotrace-fuzz", 0);

	if (fd < 0)
		return 0;
	for (size_t off = 0; off < size;) {
		ssize_t w = write(fd, data + off, size - off);
		if (w <= 0) {
			close(fd);
			return 0;
		}
		off += (size_t)w;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	run_file(path, size ? data[size - 1] : 0);
	close(fd);
	return 0;
}
