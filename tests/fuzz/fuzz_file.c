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

#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run_file(const char *path, uint8_t optbits)
{
	struct lt_opts o;
	struct lt_source *src;
	struct fuzz_run fr;
	struct lt_run_info ri;
	struct lt_source_stats ss;
	char err[LT_ERR_LEN], note[LT_ERR_LEN];

	fuzz_opts(&o, optbits);
	o.read_file = path;
	if (lt_open_source(&o, &src, note, sizeof(note), err) < 0)
		return;
	if (fuzz_start(&fr, &o, lt_source_is_live(src)) < 0) {
		src->ops->close(src);
		return;
	}
	lt_run_info_fill(&ri, &o, src, note);
	fuzz_begin(&fr, &ri);
	while (!engine_done(fr.eng)) {
		int r = src->ops->dispatch(src, 4096, engine_obs, fr.eng);
		if (r == LT_SRC_EOF || (r < 0 && r != -EAGAIN && r != -EINTR))
			break;
	}
	src->ops->stats(src, &ss);
	fuzz_end(&fr, &ri, &ss);
	src->ops->close(src); /* the source outlives every flow */
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
