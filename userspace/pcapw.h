/* SPDX-License-Identifier: MIT */
/*
 * pcapw.h - write what lotrace saw as a classic pcap file (tshark-readable).
 *
 * Every segment is written as a header snapshot: Ethernet (zero MACs, as
 * Linux `tcpdump -i lo`), IPv4 or IPv6, and a 20-byte TCP header, with no
 * payload bytes; the IP length and the record's original length still
 * count the payload, so tshark shows the real sizes. The snap length is
 * PCAPW_SNAPLEN. Files go through libpcap's dump API.
 */
#ifndef LT_PCAPW_H
#define LT_PCAPW_H

#include <stdint.h>

#include "obs.h"
#include "source.h"

#define PCAPW_SNAPLEN 96

struct pcapw;

/* Creates (truncates) path; refuses to follow a symlink. NULL + err. */
struct pcapw *pcapw_open(const char *path, char err[LT_ERR_LEN]);
/* Write one segment observation (kernel-only observations are skipped). */
int pcapw_obs(struct pcapw *w, const struct lt_obs *o);
/* Write one synthesized segment. */
int pcapw_segment(struct pcapw *w, uint64_t ts_ns, uint8_t family,
		  const struct lt_endpoint *src, const struct lt_endpoint *dst,
		  uint8_t flags, uint32_t seq, uint32_t ack, uint32_t payload_len);
uint64_t pcapw_count(const struct pcapw *w);
void pcapw_flush(struct pcapw *w);
/* errno of the first failed write, or 0. */
int pcapw_error(const struct pcapw *w);
/* Flush and close; returns 0 or -errno if anything failed to write. */
int pcapw_close(struct pcapw *w);

#endif
