/* SPDX-License-Identifier: MIT */
/*
 * decode.h - captured frame bytes to struct lt_obs, by link type.
 *
 * Owns: the table of supported link types (DLT_*), the walk through
 * link layer, 802.1Q/QinQ tags, IPv4/IPv6 (extension headers skipped) and
 * the TCP header. Owns no state between packets. A wrong IPv4 header
 * checksum makes a frame MALFORMED (the kernel computes it even on
 * loopback; a zero one is taken as "not computed"); TCP checksums are
 * never checked: loopback captures carry offloaded (wrong) ones.
 */
#ifndef LT_DECODE_H
#define LT_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "obs.h"

enum dec_result {
	DEC_OK = 0,	 /* a TCP segment, obs filled in */
	DEC_NOT_TCP,	 /* a valid frame that carries no TCP (ARP, UDP...) */
	DEC_TRUNCATED,	 /* bytes needed were not captured */
	DEC_MALFORMED,	 /* a header that cannot be right */
	DEC_UNSUPPORTED, /* link or network type we do not decode */
	DEC_RESULT_COUNT,
};

/* The protocol layer a problem was found in, for counters and messages. */
enum dec_layer {
	DEC_L_LINK = 0,
	DEC_L_VLAN,
	DEC_L_IPV4,
	DEC_L_IPV6,
	DEC_L_TCP,
	DEC_LAYER_COUNT,
};

struct dec_stats {
	uint64_t frames;
	uint64_t tcp;
	uint64_t not_tcp;
	/* [result][layer] for TRUNCATED, MALFORMED and UNSUPPORTED */
	uint64_t problems[DEC_RESULT_COUNT][DEC_LAYER_COUNT];
	/* of problems[DEC_MALFORMED][DEC_L_IPV4]: a bad header checksum */
	uint64_t bad_ipv4_csum;
};

/* True when link type dlt (a DLT_* value) can be decoded. */
bool dec_dlt_supported(int dlt);

/*
 * Decode one captured frame of link type dlt. caplen bytes were captured
 * out of wire_len. On DEC_OK, obs holds the segment (ts_ns is the
 * caller's to set). *layer says where a problem was found. Never reads
 * outside data[0..caplen).
 */
enum dec_result dec_frame(int dlt, const uint8_t *data, uint32_t caplen, struct lt_obs *obs,
			  enum dec_layer *layer);

/* An empty segment observation (kind LT_OBS_SEGMENT, pid -1, the rest 0),
 * ready for dec_frame_count. */
void dec_obs_init(struct lt_obs *obs);

/* dec_frame plus counting into st, for a source that decodes every frame
 * into the same observation: obs is set up once by dec_obs_init and not
 * cleared per frame. A frame that decodes writes every field any frame
 * may write (the segment's: family, addresses, ports, TCP header, payload,
 * encap), so nothing of an earlier frame is left; the rest (kernel
 * context, aggregates, namespace) stays as dec_obs_init left it. */
enum dec_result dec_frame_count(struct dec_stats *st, int dlt, const uint8_t *data, uint32_t caplen,
				struct lt_obs *obs);

/* Total of all problems (truncated + malformed + unsupported). */
uint64_t dec_stats_problems(const struct dec_stats *st);

const char *dec_result_name(enum dec_result r);
const char *dec_layer_name(enum dec_layer l);

#endif
