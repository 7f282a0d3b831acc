/* SPDX-License-Identifier: MIT */
/*
 * pcapw.h - -w: write the packets lotrace read, as pcap or pcapng.
 *
 * Packets are written as they were whenever the source has them (replay,
 * live libpcap: same bytes, same snap length, same link type; the file's
 * link type and snap length are those of the first packet). Sources
 * without packet bytes (eBPF) get header snapshots (synth.h): Ethernet,
 * IP and a 20-byte TCP header, the IP and wire lengths still counting the
 * payload. "-" writes to standard output.
 *
 * A name ending in ".pcapng" writes pcapng, and each connection's first
 * and last packet carry a comment with lotrace's findings (verdict, Zeek
 * state and history, handshake latency, processes, kernel reasons), which
 * Wireshark shows as frame.comment. The first packet's comment needs the
 * final verdict, so pcapng packets wait in a bounded buffer until their
 * connection retires; when the buffer is full the oldest go out with a
 * comment saying the connection was still open (counted: pcapw_forced).
 */
#ifndef LT_PCAPW_H
#define LT_PCAPW_H

#include <stdint.h>

#include "flow.h"
#include "obs.h"
#include "source.h"

/* Header snapshots' snap length (synth.h). */
#define PCAPW_SNAPLEN 96
/* pcapng: packets held back at most, in bytes. */
#define PCAPW_HOLD_MAX (64u << 20)

struct pcapw;

/* Creates (truncates) path, "-" = stdout; refuses to follow a symlink.
 * NULL + err. */
struct pcapw *pcapw_open(const char *path, char err[LT_ERR_LEN]);
/* 1 when writing pcapng with comments. */
int pcapw_is_pcapng(const struct pcapw *w);
/* One observation of connection flow_id (its frame, or a header snapshot
 * without one); kernel-only observations and flow_id 0 are skipped. */
int pcapw_obs(struct pcapw *w, const struct lt_obs *o, uint64_t flow_id);
/* Connection f retired with its final verdict (pcapng: its comments). */
void pcapw_retired(struct pcapw *w, const struct flow *f, enum lt_verdict v);
/* Write one synthesized segment (the TUI's per-connection export). */
int pcapw_segment(struct pcapw *w, uint64_t ts_ns, uint8_t family, const struct lt_endpoint *src,
		  const struct lt_endpoint *dst, uint8_t flags, uint32_t seq, uint32_t ack,
		  uint32_t payload_len);
uint64_t pcapw_count(const struct pcapw *w);   /* packets written or held */
uint64_t pcapw_synth(const struct pcapw *w);   /* ... of them header snapshots */
uint64_t pcapw_forced(const struct pcapw *w);  /* pcapng: written before their connection ended */
uint64_t pcapw_skipped(const struct pcapw *w); /* pcap: another link type than the file's */
void pcapw_flush(struct pcapw *w);
/* errno of the first failed write, or 0. */
int pcapw_error(const struct pcapw *w);
/* Write what is held, flush and close; 0 or -errno if anything failed. */
int pcapw_close(struct pcapw *w);

#endif
