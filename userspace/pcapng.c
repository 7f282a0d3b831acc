/* SPDX-License-Identifier: MIT */
/*
 * pcapng.c - SHB, IDB and EPB blocks with comments, written by hand.
 *
 * Every block: type, total length, body, total length again; bodies and
 * options padded to 32 bits. Options: code (16 bits), length (16 bits,
 * unpadded), value padded to 32 bits; a list ends with opt_endofopt (0, 0).
 */
#include "pcapng.h"

#include <errno.h>
#include <string.h>

enum {
	BT_SHB = 0x0A0D0D0A,
	BT_IDB = 0x00000001,
	BT_EPB = 0x00000006,
	OPT_ENDOFOPT = 0,
	OPT_COMMENT = 1,
	SHB_USERAPPL = 4,
	IF_TSRESOL = 9,
	BYTE_ORDER_MAGIC = 0x1A2B3C4D,
	COMMENT_MAX = 65000, /* an option length is 16 bits */
};

static uint32_t pad4(size_t n)
{
	return (uint32_t)((n + 3) & ~(size_t)3);
}

static size_t opt_size(size_t len)
{
	return 4 + pad4(len);
}

static int put(struct pcapng *w, const void *p, size_t n)
{
	return fwrite(p, 1, n, w->f) == n ? 0 : -1;
}

static int put32(struct pcapng *w, uint32_t v)
{
	return put(w, &v, 4);
}

static int put_opt(struct pcapng *w, uint16_t code, const void *val, size_t len)
{
	static const uint8_t zero[4];
	uint16_t h[2] = { code, (uint16_t)len };
	if (put(w, h, 4) < 0 || (len && put(w, val, len) < 0))
		return -1;
	return put(w, zero, pad4(len) - len);
}

int pcapng_begin(struct pcapng *w, FILE *f, const char *app)
{
	size_t alen = strlen(app);
	uint32_t total = 28 + (uint32_t)opt_size(alen) + 4;
	int64_t section_len = -1; /* not given */
	uint16_t ver[2] = { 1, 0 };

	memset(w, 0, sizeof(*w));
	w->f = f;
	if (put32(w, BT_SHB) < 0 || put32(w, total) < 0 || put32(w, BYTE_ORDER_MAGIC) < 0 ||
	    put(w, ver, 4) < 0 || put(w, &section_len, 8) < 0 ||
	    put_opt(w, SHB_USERAPPL, app, alen) < 0 || put_opt(w, OPT_ENDOFOPT, NULL, 0) < 0 ||
	    put32(w, total) < 0)
		return -1;
	return 0;
}

/* The interface id for (link_type, snaplen), writing its IDB if new. */
static int iface_for(struct pcapng *w, int32_t link_type, uint32_t snaplen)
{
	for (int i = 0; i < w->nifaces; i++)
		if (w->iface[i].link_type == link_type && w->iface[i].snaplen == snaplen)
			return i;
	if (w->nifaces == PCAPNG_MAX_IFACES) {
		errno = ENOSPC;
		return -1;
	}
	uint8_t tsresol = 9; /* 10^-9 s */
	uint32_t total = 16 + (uint32_t)opt_size(1) + 4 + 4;
	uint16_t lt[2] = { (uint16_t)link_type, 0 };
	if (put32(w, BT_IDB) < 0 || put32(w, total) < 0 || put(w, lt, 4) < 0 ||
	    put32(w, snaplen) < 0 || put_opt(w, IF_TSRESOL, &tsresol, 1) < 0 ||
	    put_opt(w, OPT_ENDOFOPT, NULL, 0) < 0 || put32(w, total) < 0)
		return -1;
	w->iface[w->nifaces].link_type = link_type;
	w->iface[w->nifaces].snaplen = snaplen;
	return w->nifaces++;
}

int pcapng_packet(struct pcapng *w, int32_t link_type, uint32_t snaplen, uint64_t ts_ns,
		  const uint8_t *data, uint32_t caplen, uint32_t len, const char *comment)
{
	static const uint8_t zero[4];
	int id = iface_for(w, link_type, snaplen);
	size_t clen = comment ? strlen(comment) : 0;

	if (id < 0)
		return -1;
	if (clen > COMMENT_MAX)
		clen = COMMENT_MAX;
	uint32_t total = 28 + pad4(caplen) + 4;
	if (comment)
		total += (uint32_t)opt_size(clen) + 4;
	uint32_t hdr[7] = { BT_EPB,	     total,  (uint32_t)id, (uint32_t)(ts_ns >> 32),
			    (uint32_t)ts_ns, caplen, len };
	if (put(w, hdr, sizeof(hdr)) < 0 || put(w, data, caplen) < 0 ||
	    put(w, zero, pad4(caplen) - caplen) < 0)
		return -1;
	if (comment &&
	    (put_opt(w, OPT_COMMENT, comment, clen) < 0 || put_opt(w, OPT_ENDOFOPT, NULL, 0) < 0))
		return -1;
	return put32(w, total);
}
