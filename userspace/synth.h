/* SPDX-License-Identifier: MIT */
/*
 * synth.h - a frame rebuilt from an observation, for sources that saw no
 * packet bytes (eBPF): Ethernet with zero MACs (as Linux `tcpdump -i lo`),
 * IPv4 or IPv6, and a 20-byte TCP header; no payload bytes, but the IP
 * length and the wire length count the payload, so tools show real sizes.
 * Used to write -w files and to run pcap filters on such observations.
 */
#ifndef LT_SYNTH_H
#define LT_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "obs.h"

/* Ethernet + IPv6 + TCP: the longest frame synth_frame writes. */
#define SYNTH_MAX 74
/* The snap length such frames are written with. */
#define SYNTH_SNAPLEN 96

/* Write the frame for o into buf (SYNTH_MAX bytes); returns the bytes
 * written and sets *wire_len to the length on the wire. */
size_t synth_frame(uint8_t buf[SYNTH_MAX], const struct lt_obs *o, uint32_t *wire_len);

#endif
