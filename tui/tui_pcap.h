/* SPDX-License-Identifier: MIT */
/*
 * tui_pcap.h - connections written back as a pcap (the TUI's w key).
 *
 * The engine keeps timelines, not packets, so the file is synthesized:
 * for each timeline entry, header-only Ethernet + IPv4/IPv6 + TCP frames
 * with the entry's flags and time, consistent sequence and ack numbers,
 * the SYN's MSS option, and an IP length that covers the payload that was
 * not kept (so tshark shows the length; caplen is the headers only).
 * Collapsed data segments are spread over their count. Written through
 * libpcap (pcap_open_dead + pcap_dump), nanosecond timestamps.
 */
#ifndef LT_TUI_PCAP_H
#define LT_TUI_PCAP_H

#include <stddef.h>

#include "flow.h"

/*
 * Write flows[0..n) to path, all packets in time order. Returns the
 * number of packets written, or -1 with a one-line message in err.
 */
long tui_pcap_write(const char *path, const struct flow *const *flows, size_t n, char *err,
		    size_t errlen);

#endif
