/* SPDX-License-Identifier: MIT */
/* decode.c - link layer, VLAN, IPv4/IPv6 and TCP header decoding. */
#include "decode.h"

#include <pcap/dlt.h>
#include <string.h>

#include "inline.h"
#include "cursor.h"

#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#define ETH_P_QINQ_OLD 0x9100
#define MAX_VLAN_TAGS 8
#define MAX_IPV6_EXT 16

/* The BSD AF_INET6 values seen in DLT_NULL/DLT_LOOP headers. */
#define BSD_AF_INET 2
#define BSD_AF_INET6_BSD 24	/* NetBSD, OpenBSD, BSD/OS */
#define BSD_AF_INET6_FREEBSD 28 /* FreeBSD, DragonFly */
#define BSD_AF_INET6_DARWIN 30	/* macOS */

struct frame_ctx {
	struct lt_obs *obs;
	enum dec_layer layer;
	bool bad_ipv4_csum; /* the MALFORMED was a bad IPv4 header checksum */
};

/* A big-endian field of a header already copied out of the packet. */
static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* dec_tcp and dec_ipv4 are inlined into their callers: a frame's usual
 * path is then one call deep (the calls were a tenth of decoding). */
LT_INLINE enum dec_result dec_tcp(struct frame_ctx *fc, struct cur c, uint32_t ip_payload_len)
{
	struct lt_obs *o = fc->obs;
	uint8_t h[20]; /* the fixed header, one bounds check for all of it */

	fc->layer = DEC_L_TCP;
	if (!cur_bytes(&c, h, sizeof(h)))
		return DEC_TRUNCATED;

	uint8_t flags = h[13];
	uint32_t hdr_len = (uint32_t)(h[12] >> 4) * 4;
	if (hdr_len < 20 || hdr_len > ip_payload_len)
		return DEC_MALFORMED;

	o->src.port = get_be16(h);
	o->dst.port = get_be16(h + 2);
	o->seq = get_be32(h + 4);
	o->ack = get_be32(h + 8);
	o->tcp_flags = flags;
	o->window = get_be16(h + 14);
	o->payload_len = ip_payload_len - hdr_len;
	o->mss = 0;
	o->payload = NULL;
	o->payload_cap = 0;

	/* The captured start of the payload, never past the IP length
	 * (Ethernet pads short frames). */
	struct cur pl = c;
	if (o->payload_len && cur_skip(&pl, hdr_len - 20) && cur_left(&pl)) {
		size_t n = cur_left(&pl);
		o->payload = pl.p;
		o->payload_cap = n < o->payload_len ? (uint32_t)n : o->payload_len;
	}

	/* Options: only the MSS of a SYN is kept. A cut option list is not
	 * an error: the segment itself is still good. Every iteration
	 * advances by at least one byte, so the loop ends. */
	struct cur opt = cur_sub(&c, hdr_len - 20);
	while ((flags & LT_TCP_SYN) && cur_left(&opt) > 0) {
		uint8_t kind, len;
		if (!cur_u8(&opt, &kind) || kind == 0)
			break;
		if (kind == 1)
			continue;
		if (!cur_u8(&opt, &len) || len < 2)
			break;
		if (kind == 2 && len == 4) {
			uint16_t mss;
			if (cur_be16(&opt, &mss))
				o->mss = mss;
			break;
		}
		if (!cur_skip(&opt, (size_t)len - 2))
			break;
	}
	return DEC_OK;
}

/*
 * The IPv4 header checksum (RFC 791): the ones' complement sum of the
 * header's 16-bit words, checksum included, is 0xffff. The kernel fills
 * it in even on loopback, so a wrong one means the frame was damaged
 * after it was sent. A zero field means "not computed" (macOS lo0 and
 * offloading NICs leave it so) and is not checked. h is the header copied
 * out of the packet, ihl (a multiple of 4) bytes. The sum is taken over
 * 32-bit words in host order and folded: ones' complement addition does
 * not care about byte order or word size (RFC 1071 2.A, 2.B), and 0xffff
 * reads the same both ways.
 */
static bool ipv4_csum_bad(const uint8_t *h, uint32_t ihl)
{
	uint64_t sum = 0;

	if (h[10] == 0 && h[11] == 0)
		return false;
	for (uint32_t i = 0; i < ihl; i += 4) {
		uint32_t w;
		memcpy(&w, h + i, 4);
		sum += w;
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum != 0xffff;
}

LT_INLINE enum dec_result dec_ipv4(struct frame_ctx *fc, struct cur c)
{
	struct lt_obs *o = fc->obs;
	struct cur v = c;
	size_t captured = cur_left(&c); /* of the datagram */
	uint8_t vihl;
	uint8_t h[60]; /* the header, options included, one bounds check each */

	fc->layer = DEC_L_IPV4;
	if (!cur_u8(&v, &vihl))
		return DEC_TRUNCATED;
	if ((vihl >> 4) != 4)
		return DEC_MALFORMED;
	uint32_t ihl = (uint32_t)(vihl & 0x0f) * 4;
	if (ihl < 20)
		return DEC_MALFORMED;
	if (!cur_bytes(&c, h, 20) || (ihl > 20 && !cur_bytes(&c, h + 20, ihl - 20)))
		return DEC_TRUNCATED;
	if (ipv4_csum_bad(h, ihl)) {
		fc->bad_ipv4_csum = true;
		return DEC_MALFORMED;
	}
	uint16_t total_len = get_be16(h + 2), frag = get_be16(h + 6);
	if (h[9] != 6)
		return DEC_NOT_TCP;
	if (frag & 0x1fff)
		return DEC_NOT_TCP; /* a later fragment: no TCP header here */
	/* Segmentation offload can leave total_len 0 in a capture: fall back
	 * to what the frame carries. */
	if (total_len == 0)
		total_len = (uint16_t)(captured > 0xffff ? 0xffff : captured);
	if (total_len < ihl)
		return DEC_MALFORMED;
	o->family = 4;
	memcpy(o->src.addr, h + 12, 4);
	memcpy(o->dst.addr, h + 16, 4);
	memset(o->src.addr + 4, 0, 12);
	memset(o->dst.addr + 4, 0, 12);
	return dec_tcp(fc, c, total_len - ihl);
}

static bool ipv6_ext_header(uint8_t nh)
{
	return nh == 0 || nh == 43 || nh == 60 || nh == 51 || nh == 135 || nh == 139 || nh == 140;
}

static enum dec_result dec_ipv6(struct frame_ctx *fc, struct cur c)
{
	struct lt_obs *o = fc->obs;
	uint8_t ver, nh;
	uint16_t plen;

	fc->layer = DEC_L_IPV6;
	if (!cur_u8(&c, &ver))
		return DEC_TRUNCATED;
	if ((ver >> 4) != 6)
		return DEC_MALFORMED;
	if (!cur_skip(&c, 3) || !cur_be16(&c, &plen) || !cur_u8(&c, &nh) || !cur_skip(&c, 1) ||
	    !cur_bytes(&c, o->src.addr, 16) || !cur_bytes(&c, o->dst.addr, 16))
		return DEC_TRUNCATED;
	uint32_t left = plen;
	if (left == 0) /* jumbogram or offload: use what was captured */
		left = (uint32_t)cur_left(&c);

	for (int i = 0; nh != 6; i++) {
		if (nh == 44) { /* fragment header: fixed 8 bytes */
			uint8_t next;
			uint16_t off;
			if (!cur_u8(&c, &next) || !cur_skip(&c, 1) || !cur_be16(&c, &off) ||
			    !cur_skip(&c, 4))
				return DEC_TRUNCATED;
			if (left < 8)
				return DEC_MALFORMED;
			left -= 8;
			if (off & 0xfff8)
				return DEC_NOT_TCP;
			nh = next;
		} else if (ipv6_ext_header(nh)) {
			uint8_t next, hlen;
			if (!cur_u8(&c, &next) || !cur_u8(&c, &hlen))
				return DEC_TRUNCATED;
			/* AH counts 4-byte units plus 2, the rest 8-byte
			 * units plus 1 (RFC 4302, RFC 8200). */
			size_t len = nh == 51 ? ((size_t)hlen + 2) * 4 : ((size_t)hlen + 1) * 8;
			if (left < len)
				return DEC_MALFORMED;
			if (!cur_skip(&c, len - 2))
				return DEC_TRUNCATED;
			left -= (uint32_t)len;
			nh = next;
		} else {
			return DEC_NOT_TCP;
		}
		if (i >= MAX_IPV6_EXT)
			return DEC_MALFORMED;
	}
	o->family = 6;
	return dec_tcp(fc, c, left);
}

static enum dec_result dec_by_version(struct frame_ctx *fc, struct cur c)
{
	if (!cur_has(&c, 1))
		return DEC_TRUNCATED;
	switch (c.p[0] >> 4) {
	case 4:
		return dec_ipv4(fc, c);
	case 6:
		return dec_ipv6(fc, c);
	}
	return DEC_NOT_TCP;
}

static enum dec_result dec_ethertype(struct frame_ctx *fc, struct cur c, uint16_t type)
{
	uint32_t encap = 0;
	for (int tags = 0; type == ETH_P_8021Q || type == ETH_P_8021AD || type == ETH_P_QINQ_OLD;
	     tags++) {
		uint16_t tci;
		fc->layer = DEC_L_VLAN;
		if (tags >= MAX_VLAN_TAGS)
			return DEC_MALFORMED;
		if (!cur_be16(&c, &tci))
			return DEC_TRUNCATED;
		/* the tag stack as a key: TPID and VLAN id of each tag (the
		 * priority bits may change on the way; the VLAN does not) */
		encap = encap * 0x9e3779b1u + (((uint32_t)type << 12) | (tci & 0x0fffu)) + 1;
		if (!cur_be16(&c, &type))
			return DEC_TRUNCATED;
	}
	fc->obs->encap = encap;
	if (type == ETH_P_IPV4)
		return dec_ipv4(fc, c);
	if (type == ETH_P_IPV6)
		return dec_ipv6(fc, c);
	return DEC_NOT_TCP;
}

static enum dec_result dec_en10mb(struct frame_ctx *fc, struct cur c)
{
	uint16_t type;
	if (!cur_skip(&c, 12) || !cur_be16(&c, &type))
		return DEC_TRUNCATED;
	if (type < 0x0600)
		return DEC_NOT_TCP; /* 802.3 length field: LLC, not IP */
	return dec_ethertype(fc, c, type);
}

static enum dec_result dec_af(struct frame_ctx *fc, struct cur c, uint32_t af)
{
	switch (af) {
	case BSD_AF_INET:
		return dec_ipv4(fc, c);
	case BSD_AF_INET6_BSD:
	case BSD_AF_INET6_FREEBSD:
	case BSD_AF_INET6_DARWIN:
		return dec_ipv6(fc, c);
	}
	return DEC_NOT_TCP;
}

/* DLT_NULL: the address family in the capturing host's byte order, which
 * we do not know; a real AF value fits in 16 bits, so pick the order that
 * makes it small. */
static enum dec_result dec_null(struct frame_ctx *fc, struct cur c)
{
	uint32_t af;
	if (!cur_le32(&c, &af))
		return DEC_TRUNCATED;
	if (af > 0xffff)
		af = __builtin_bswap32(af);
	return dec_af(fc, c, af);
}

static enum dec_result dec_loop(struct frame_ctx *fc, struct cur c)
{
	uint32_t af;
	if (!cur_be32(&c, &af))
		return DEC_TRUNCATED;
	return dec_af(fc, c, af);
}

static enum dec_result dec_raw(struct frame_ctx *fc, struct cur c)
{
	return dec_by_version(fc, c);
}

static enum dec_result dec_ipv4_only(struct frame_ctx *fc, struct cur c)
{
	return dec_ipv4(fc, c);
}

static enum dec_result dec_ipv6_only(struct frame_ctx *fc, struct cur c)
{
	return dec_ipv6(fc, c);
}

/* Linux cooked capture v1: 16 bytes, protocol (ethertype) last. */
static enum dec_result dec_sll(struct frame_ctx *fc, struct cur c)
{
	uint16_t proto;
	if (!cur_skip(&c, 14) || !cur_be16(&c, &proto))
		return DEC_TRUNCATED;
	return dec_ethertype(fc, c, proto);
}

/* Linux cooked capture v2: 20 bytes, protocol (ethertype) first. */
static enum dec_result dec_sll2(struct frame_ctx *fc, struct cur c)
{
	uint16_t proto;
	if (!cur_be16(&c, &proto) || !cur_skip(&c, 18))
		return DEC_TRUNCATED;
	return dec_ethertype(fc, c, proto);
}

struct dlt_decoder {
	int dlt;
	enum dec_result (*decode)(struct frame_ctx *, struct cur);
};

static const struct dlt_decoder dlt_table[] = {
	{ DLT_EN10MB, dec_en10mb },   { DLT_NULL, dec_null },
	{ DLT_LOOP, dec_loop },	      { DLT_RAW, dec_raw },
#if defined(DLT_IPV4)
	{ DLT_IPV4, dec_ipv4_only },  { DLT_IPV6, dec_ipv6_only },
#endif
	{ DLT_LINUX_SLL, dec_sll },
#if defined(DLT_LINUX_SLL2)
	{ DLT_LINUX_SLL2, dec_sll2 },
#endif
};

static const struct dlt_decoder *find_decoder(int dlt)
{
	for (size_t i = 0; i < sizeof(dlt_table) / sizeof(dlt_table[0]); i++)
		if (dlt_table[i].dlt == dlt)
			return &dlt_table[i];
	return NULL;
}

bool dec_dlt_supported(int dlt)
{
	return find_decoder(dlt) != NULL;
}

void dec_obs_init(struct lt_obs *obs)
{
	*obs = (struct lt_obs){ .kind = LT_OBS_SEGMENT, .pid = -1 };
}

/* Into an observation dec_obs_init set up, or one an earlier frame was
 * decoded into: every field a decoder writes on one path it writes on
 * all (encap, which only the Ethernet and cooked decoders know, here). */
static enum dec_result decode(int dlt, const uint8_t *data, uint32_t caplen, struct frame_ctx *fc)
{
	const struct dlt_decoder *d = find_decoder(dlt);

	if (!d)
		return DEC_UNSUPPORTED;
	fc->obs->encap = 0;
	return d->decode(fc, cur_make(data, caplen));
}

enum dec_result dec_frame(int dlt, const uint8_t *data, uint32_t caplen, struct lt_obs *obs,
			  enum dec_layer *layer)
{
	struct frame_ctx fc = { .obs = obs, .layer = DEC_L_LINK };
	dec_obs_init(obs);
	enum dec_result r = decode(dlt, data, caplen, &fc);

	if (layer)
		*layer = fc.layer;
	return r;
}

enum dec_result dec_frame_count(struct dec_stats *st, int dlt, const uint8_t *data, uint32_t caplen,
				struct lt_obs *obs)
{
	struct frame_ctx fc = { .obs = obs, .layer = DEC_L_LINK };
	enum dec_result r = decode(dlt, data, caplen, &fc);
	enum dec_layer layer = fc.layer;

	st->frames++;
	if (fc.bad_ipv4_csum)
		st->bad_ipv4_csum++;
	switch (r) {
	case DEC_OK:
		st->tcp++;
		break;
	case DEC_NOT_TCP:
		st->not_tcp++;
		break;
	case DEC_TRUNCATED:
	case DEC_MALFORMED:
	case DEC_UNSUPPORTED:
		st->problems[r][layer]++;
		break;
	case DEC_RESULT_COUNT:
		break;
	}
	return r;
}

uint64_t dec_stats_problems(const struct dec_stats *st)
{
	uint64_t n = 0;
	for (int r = DEC_TRUNCATED; r <= DEC_UNSUPPORTED; r++)
		for (int l = 0; l < DEC_LAYER_COUNT; l++)
			n += st->problems[r][l];
	return n;
}

const char *dec_result_name(enum dec_result r)
{
	static const char *const names[DEC_RESULT_COUNT] = {
		[DEC_OK] = "ok",
		[DEC_NOT_TCP] = "not-tcp",
		[DEC_TRUNCATED] = "truncated",
		[DEC_MALFORMED] = "malformed",
		[DEC_UNSUPPORTED] = "unsupported",
	};
	return (unsigned)r < DEC_RESULT_COUNT ? names[r] : "?";
}

const char *dec_layer_name(enum dec_layer l)
{
	static const char *const names[DEC_LAYER_COUNT] = {
		[DEC_L_LINK] = "link", [DEC_L_VLAN] = "vlan", [DEC_L_IPV4] = "ipv4",
		[DEC_L_IPV6] = "ipv6", [DEC_L_TCP] = "tcp",
	};
	return (unsigned)l < DEC_LAYER_COUNT ? names[l] : "?";
}
