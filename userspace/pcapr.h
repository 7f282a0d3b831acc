/* SPDX-License-Identifier: MIT */
/*
 * pcapr.h - the records of a classic pcap file, read in large blocks.
 *
 * libpcap reads a savefile with two fread calls and a copy per record,
 * about as much CPU as all of lotrace's own work per packet on replay.
 * Once libpcap has opened a file (it reads and checks the 24-byte file
 * header, so every error about the file itself stays libpcap's), this
 * reader takes over the records of the common kind of file: pcap 2.4 with
 * microsecond or nanosecond stamps, either byte order. It hands out each
 * record where it lies in its buffer and gives exactly what
 * pcap_next_ex would: the same header fields (stamps scaled to
 * nanoseconds, a record longer than the snapshot length cut to it), the
 * same end, and the same error texts for a cut or damaged file. Anything
 * else (pcapng, older versions, the modified formats, byte-swapped files
 * of link types whose pseudo-headers libpcap rewrites) stays with libpcap.
 *
 * Owns: the record loop and its buffer. Does not own: the file header
 * (libpcap), the stream (instream.c), what a record means (decode.c).
 */
#ifndef LT_PCAPR_H
#define LT_PCAPR_H

#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

struct pcapr;

/*
 * A reader for the records of f, which libpcap opened as p with
 * nanosecond precision and has read nothing from beyond the file header;
 * magic is the file's first four bytes. NULL when libpcap must go on
 * reading (a file this reader does not take, or no memory).
 */
struct pcapr *pcapr_open(pcap_t *p, FILE *f, const unsigned char magic[4]);

/*
 * The next record, as pcap_next_ex gives it: 1 with *h and *data (valid
 * until the next call), 0 at the end of the file, -1 with err set.
 */
int pcapr_next(struct pcapr *r, struct pcap_pkthdr *h, const uint8_t **data, char *err,
	       size_t errlen);

void pcapr_free(struct pcapr *r);

#endif
