/* SPDX-License-Identifier: MIT */
/*
 * pcapr.c - classic pcap records read in large blocks (pcapr.h).
 *
 * Follows libpcap 1.10's savefile record loop (sf-pcap.c, pcap_next_packet)
 * for the files it takes: the same checks in the same order, the same
 * messages. Record headers are read through the bounds-checked cursor;
 * the bytes of a record are handed out where they lie.
 */
#include "pcapr.h"

#include <errno.h>
#include <pcap/dlt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "cursor.h"

#define PCAPR_MAGIC_USEC 0xa1b2c3d4u
#define PCAPR_MAGIC_NSEC 0xa1b23c4du
#define PCAPR_HDR 16		 /* a record header: sec, usec/nsec, caplen, len */
#define PCAPR_MAX_CAPLEN 262144u /* libpcap's MAXIMUM_SNAPLEN (our link types) */
#define PCAPR_BUF (1u << 20)	 /* well above a record's largest size */

struct pcapr {
	FILE *f;
	bool swapped; /* written in the other byte order */
	bool nsec;    /* stamps in nanoseconds (else microseconds) */
	int snapshot; /* libpcap's snapshot length of the file */
	/* libpcap widens the 32-bit stamp fields signed or not (probe) */
	bool sec_signed, sub_signed;
	uint8_t *buf;
	size_t pos, len; /* unread bytes: buf[pos..len) */
	bool at_end;	 /* the stream gave all it will */
	int read_errno;	 /* ... and this error when it failed (0: a clean end) */
};

/* Link types whose records libpcap rewrites (pseudo-headers of a
 * byte-swapped file, USB lengths) or lets grow past MAXIMUM_SNAPLEN. */
static bool libpcap_only(int dlt, bool swapped)
{
	switch (dlt) {
	case DLT_USB_LINUX_MMAPPED:
	case DLT_DBUS:
	case DLT_EBHSCR:
	case DLT_USBPCAP:
		return true;
	case DLT_PFLOG:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_USB_LINUX:
	case DLT_NFLOG:
		return swapped;
	}
	return false;
}

static void put_u32(uint8_t *p, uint32_t v, bool swapped)
{
	if (swapped)
		v = __builtin_bswap32(v);
	memcpy(p, &v, 4);
}

static void put_u16(uint8_t *p, uint16_t v, bool swapped)
{
	if (swapped)
		v = __builtin_bswap16(v);
	memcpy(p, &v, 2);
}

/*
 * How this libpcap widens a record's 32-bit stamp fields in a file of
 * this byte order: 1.10.3 reads them signed in the host's order and
 * unsigned when it swaps them, 1.10.5 and later always unsigned. Asked of
 * libpcap itself, with a one-record file in memory whose fields have the
 * top bit set. false when it cannot be asked.
 */
static bool probe_signedness(bool swapped, bool *sec_signed, bool *sub_signed)
{
	uint8_t file[24 + PCAPR_HDR] = { 0 };
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;

	put_u32(file, PCAPR_MAGIC_USEC, swapped);
	put_u16(file + 4, 2, swapped);
	put_u16(file + 6, 4, swapped);
	put_u32(file + 16, 65535, swapped); /* snaplen */
	put_u32(file + 20, 1, swapped);	    /* Ethernet */
	put_u32(file + 24, 0x80000000u, swapped);
	put_u32(file + 28, 0x80000000u, swapped);
	FILE *mf = fmemopen(file, sizeof(file), "rb");
	if (!mf)
		return false;
	pcap_t *p = pcap_fopen_offline_with_tstamp_precision(mf, PCAP_TSTAMP_PRECISION_NANO, err);
	if (!p) {
		fclose(mf);
		return false;
	}
	bool ok = pcap_next_ex(p, &h, &d) == 1;
	if (ok) {
		*sec_signed = h->ts.tv_sec < 0;
		*sub_signed = h->ts.tv_usec < 0;
	}
	pcap_close(p);
	return ok;
}

struct pcapr *pcapr_open(pcap_t *p, FILE *f, const unsigned char magic[4])
{
	uint32_t m;
	bool swapped = pcap_is_swapped(p) == 1;

	memcpy(&m, magic, 4);
	if (swapped)
		m = __builtin_bswap32(m);
	/* 2.4 only: older versions may have caplen and len interchanged */
	if ((m != PCAPR_MAGIC_USEC && m != PCAPR_MAGIC_NSEC) || pcap_major_version(p) != 2 ||
	    pcap_minor_version(p) != 4 || pcap_snapshot(p) <= 0 ||
	    libpcap_only(pcap_datalink(p), swapped))
		return NULL;
	bool sec_signed, sub_signed;
	if (!probe_signedness(swapped, &sec_signed, &sub_signed))
		return NULL;
	struct pcapr *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->sec_signed = sec_signed;
	r->sub_signed = sub_signed;
	r->buf = malloc(PCAPR_BUF);
	if (!r->buf) {
		free(r);
		return NULL;
	}
	r->f = f;
	r->swapped = swapped;
	r->nsec = m == PCAPR_MAGIC_NSEC;
	r->snapshot = pcap_snapshot(p);
	return r;
}

void pcapr_free(struct pcapr *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r);
}

/* Refill: at least need (<= PCAPR_BUF) unread bytes if the stream has
 * them; how many there are. */
static size_t refill(struct pcapr *r, size_t need)
{
	size_t have = r->len - r->pos;
	if (r->at_end)
		return have;
	memmove(r->buf, r->buf + r->pos, have);
	r->pos = 0;
	r->len = have;
	while (r->len < need && !r->at_end) {
		size_t want = PCAPR_BUF - r->len;
		size_t n = fread(r->buf + r->len, 1, want, r->f);
		r->len += n;
		if (n < want) {
			r->at_end = true;
			if (ferror(r->f))
				r->read_errno = errno ? errno : EIO;
		}
	}
	return r->len - r->pos;
}

static inline size_t fill(struct pcapr *r, size_t need)
{
	size_t have = r->len - r->pos;
	return have >= need ? have : refill(r, need);
}

/* A record cut short: libpcap's words, or the read error behind it. */
static int short_read(const struct pcapr *r, char *err, size_t errlen, const char *what,
		      uint64_t wanted, size_t got)
{
	if (r->read_errno)
		snprintf(err, errlen, "error reading dump file: %s", strerror(r->read_errno));
	else
		snprintf(err, errlen, "truncated dump file; tried to read %llu %s, only got %zu",
			 (unsigned long long)wanted, what, got);
	return -1;
}

int pcapr_next(struct pcapr *r, struct pcap_pkthdr *h, const uint8_t **data, char *err,
	       size_t errlen)
{
	size_t have = fill(r, PCAPR_HDR);
	if (have < PCAPR_HDR) {
		if (have == 0 && !r->read_errno)
			return 0;
		return short_read(r, err, errlen, "header bytes", PCAPR_HDR, have);
	}
	struct cur c = cur_make(r->buf + r->pos, PCAPR_HDR);
	uint32_t f[4]; /* sec, usec or nsec, caplen, len */
	if (!cur_bytes(&c, f, sizeof(f)))
		return -1; /* not reached: fill gave the 16 bytes */
	if (r->swapped)
		for (int i = 0; i < 4; i++)
			f[i] = __builtin_bswap32(f[i]);
	uint32_t sec = f[0], sub = f[1], caplen = f[2];
	h->len = f[3];
	h->ts.tv_sec = r->sec_signed ? (time_t)(int32_t)sec : (time_t)sec;
	h->ts.tv_usec = r->sub_signed ? (suseconds_t)(int32_t)sub : (suseconds_t)sub;
	if (!r->nsec)
		h->ts.tv_usec = h->ts.tv_usec * 1000;

	if (caplen > PCAPR_MAX_CAPLEN) {
		if (caplen > (uint32_t)r->snapshot)
			snprintf(err, errlen,
				 "invalid packet capture length %u, bigger than snaplen of %d",
				 caplen, r->snapshot);
		else
			snprintf(err, errlen,
				 "invalid packet capture length %u, bigger than maximum of %u",
				 caplen, PCAPR_MAX_CAPLEN);
		return -1;
	}
	have = fill(r, PCAPR_HDR + (size_t)caplen) - PCAPR_HDR;
	if (caplen > (uint32_t)r->snapshot) {
		/* longer than the file's snapshot length: libpcap keeps the
		 * first snapshot bytes and reads past the rest */
		if (have < (size_t)r->snapshot)
			return short_read(r, err, errlen, "captured bytes", (uint64_t)r->snapshot,
					  have);
		if (have < caplen)
			return short_read(r, err, errlen, "captured bytes", caplen, have);
		h->caplen = (uint32_t)r->snapshot;
	} else {
		if (have < caplen)
			return short_read(r, err, errlen, "captured bytes", caplen, have);
		h->caplen = caplen;
	}
	*data = r->buf + r->pos + PCAPR_HDR;
	r->pos += PCAPR_HDR + (size_t)caplen;
	return 1;
}
