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

static void run_file(const char *path, uint8_t optbits)
{
	struct lt_opts o;
	struct lt_source *src;
	struct engine eng;
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
	if (!null || engine_init(&eng, &cfg) < 0) {
		if (null)
			fclose(null);
		src->ops->close(src);
		return;
	}
	eng.max_conns = o.count;
	for (int i = 0; i < o.ports.n; i++)
		stats_watch(eng.stats, o.ports.list[i]);
	engine_add_sink(&eng, sink_text_new(null));
	engine_add_sink(&eng, sink_json_new(null));
	struct report *rep = report_attach(&eng, &o, 0);
	lt_run_info_fill(&ri, &o, src, note);
	engine_begin(&eng, &ri);
	lt_pump(src, &eng, 0, 100);
	engine_finish(&eng);
	src->ops->stats(src, &ss);
	engine_end(&eng, &ri, &ss);
	if (rep) {
		report_write(rep, null, LT_FMT_MARKDOWN, &ri, &ss, 0);
		report_write(rep, null, LT_FMT_TEXT, &ri, &ss, 0);
		report_write(rep, null, LT_FMT_JSON, &ri, &ss, 0);
		report_free(rep);
	}
	src->ops->close(src);
	engine_release(&eng);
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
