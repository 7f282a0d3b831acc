/* SPDX-License-Identifier: MIT */
/*
 * pcap_loop.c - the floor for replay speed: a bare libpcap read loop.
 *
 * Reads every record of a capture with pcap_next_ex and does nothing with
 * it except add up lengths (so the loop cannot be optimized away). The
 * replay benchmark (tests/bench/replay.sh) compares lotrace against this.
 * Owns nothing of lotrace; links only libpcap.
 *
 * usage: pcap_loop FILE   prints "PACKETS BYTES"
 */
#include <pcap/pcap.h>
#include <stdio.h>

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
	pcap_t *p = pcap_open_offline(argv[1], err);
	if (!p) {
		fprintf(stderr, "pcap_loop: cannot read capture '%s': %s\n", argv[1], err);
		return 1;
	}
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		pkts++;
		bytes += h->caplen + data[h->caplen ? h->caplen - 1 : 0];
	}
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "pcap_loop: reading '%s' failed: %s\n", argv[1], pcap_geterr(p));
		pcap_close(p);
		return 1;
	}
	pcap_close(p);
	printf("%llu %llu\n", pkts, bytes);
	return 0;
}
