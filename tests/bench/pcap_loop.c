/* SPDX-License-Identifier: MIT */
/*
 * pcap_loop.c - the floor for replay speed: a bare libpcap read loop.
 *
 * Reads every record of a capture with pcap_next_ex and does nothing with
 * it except add up lengths (so the loop cannot be optimized away). The
 * file is read as lotrace reads a plain capture (instream.c): through a
 * 256 KiB stdio buffer (stdio's own is 4 KiB, a read(2) each) and without
 * stdio's lock (two atomic operations per fread), so the difference is
 * lotrace's per-packet work, not its reads. The replay
 * benchmark (tests/bench/replay.sh) compares lotrace against this.
 * Owns nothing of lotrace; links only libpcap.
 *
 * usage: pcap_loop FILE   prints "PACKETS BYTES"
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const unsigned char *data;
	unsigned long long pkts = 0, bytes = 0;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: pcap_loop FILE\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	char *buf = malloc(1u << 18);
	if (f && buf)
		setvbuf(f, buf, _IOFBF, 1u << 18);
	if (f)
		__fsetlocking(f, FSETLOCKING_BYCALLER);
	pcap_t *p = f ? pcap_fopen_offline(f, err) : NULL;
	if (!p) {
		fprintf(stderr, "pcap_loop: cannot read capture '%s': %s\n", argv[1],
			f ? err : "cannot open it");
		if (f)
			fclose(f);
		free(buf);
		return 1;
	}
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		pkts++;
		bytes += h->caplen + data[h->caplen ? h->caplen - 1 : 0];
	}
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "pcap_loop: reading '%s' failed: %s\n", argv[1], pcap_geterr(p));
		pcap_close(p);
		free(buf);
		return 1;
	}
	pcap_close(p);
	free(buf);
	printf("%llu %llu\n", pkts, bytes);
	return 0;
}
