/* SPDX-License-Identifier: MIT */
/*
 * pcapng.h - write pcapng blocks (draft-ietf-opsawg-pcapng): a Section
 * Header Block, one Interface Description Block per link type and snap
 * length, and Enhanced Packet Blocks with an optional comment (opt_comment,
 * option 1), which Wireshark shows as frame.comment. Host byte order (the
 * SHB's byte-order magic says which), nanosecond timestamps (if_tsresol 9).
 * libpcap 1.10 reads pcapng but cannot write it, hence this module.
 * Owns the block layout only; what goes in the comments is pcapw.c's.
 */
#ifndef LT_PCAPNG_H
#define LT_PCAPNG_H

#include <stdint.h>
#include <stdio.h>

#define PCAPNG_MAX_IFACES 16

struct pcapng {
	FILE *f;
	int nifaces;
	struct {
		int32_t link_type;
		uint32_t snaplen;
	} iface[PCAPNG_MAX_IFACES];
};

/* Start a section on f (the SHB names app as the writing application). */
int pcapng_begin(struct pcapng *w, FILE *f, const char *app);
/*
 * One packet on the interface for (link_type, snaplen), declared on first
 * use. comment may be NULL. 0, or -1 (write error, or more than
 * PCAPNG_MAX_IFACES interfaces: errno ENOSPC).
 */
int pcapng_packet(struct pcapng *w, int32_t link_type, uint32_t snaplen, uint64_t ts_ns,
		  const uint8_t *data, uint32_t caplen, uint32_t len, const char *comment);

#endif
