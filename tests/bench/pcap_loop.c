/* SPDX-License-Identifier: MIT */
/*
 * pcap_loop.c - the floor for replay speed: a bare libpcap read loop.
 *
 * Reads every record of a capture with pcap_next_ex and does nothing with
 * it except add up lengths (so the loop cannot be optimized away). By
 * default the file is opened with libpcap's defaults (pcap_open_offline:
 * stdio's 4 KiB buffer, a read(2) each, and its lock, two atomic
 * operations per fread): the bare loop issue 9's replay ratio names. With
 * -l it is read as lotrace reads a plain capture (instream.c and
 * src_pcap.c: a 2 MiB stdio buffer on a huge page, no stdio lock), so that
 * lotrace's CPU less this loop's is lotrace's per-packet work, not its
 * reads. The replay benchmark (tests/bench/replay.sh) compares lotrace
 * against both. Owns nothing of lotrace; links libpcap and lotrace's
 * hugemem.c (the buffer's allocation).
 *
 * usage: pcap_loop [-l] FILE   prints "PACKETS BYTES"
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

#include "hugemem.h"
#include "instream.h" /* INSTREAM_BUF_SIZE */

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE] = "";
	struct pcap_pkthdr *h;
	const unsigned char *data;
	unsigned long long pkts = 0, bytes = 0;
	int rc, as_lotrace = argc == 3 && !strcmp(argv[1], "-l");
	const char *path = argv[argc - 1];
	char *buf = NULL;
	pcap_t *p;

	if (argc != 2 + as_lotrace || path[0] == '-') {
		fprintf(stderr, "usage: pcap_loop [-l] FILE\n");
		return 2;
	}
	if (as_lotrace) {
		FILE *f = fopen(path, "rb");
		buf = hugemem_zalloc(1, INSTREAM_BUF_SIZE);
		if (f && buf)
			setvbuf(f, buf, _IOFBF, INSTREAM_BUF_SIZE);
		if (f)
			__fsetlocking(f, FSETLOCKING_BYCALLER);
		p = f ? pcap_fopen_offline(f, err) : NULL;
		if (!p && f) {
			fclose(f);
		} else if (!f) {
			snprintf(err, sizeof(err), "cannot open it");
		}
	} else {
		p = pcap_open_offline(path, err);
	}
	if (!p) {
		fprintf(stderr, "pcap_loop: cannot read capture '%s': %s\n", path, err);
		hugemem_free(buf, 1, INSTREAM_BUF_SIZE);
		return 1;
	}
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		pkts++;
		bytes += h->caplen + data[h->caplen ? h->caplen - 1 : 0];
	}
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "pcap_loop: reading '%s' failed: %s\n", path, pcap_geterr(p));
		pcap_close(p);
		hugemem_free(buf, 1, INSTREAM_BUF_SIZE);
		return 1;
	}
	pcap_close(p);
	hugemem_free(buf, 1, INSTREAM_BUF_SIZE);
	printf("%llu %llu\n", pkts, bytes);
	return 0;
}
