/* SPDX-License-Identifier: MIT */
/*
 * test_pcapr.c - the block reader gives what libpcap's pcap_next_ex gives.
 *
 * libpcap is the referee: every file here is read by pcap_next_ex and by
 * pcapr, and the two must agree on every record (stamp, lengths, bytes)
 * and on how the file ends (its end, or the same error text). The files:
 * both byte orders, micro- and nanosecond stamps, records longer than the
 * snapshot length, a record longer than any libpcap accepts, negative and
 * large stamps, and every prefix of each (a file cut anywhere).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <pcap/pcap.h>

#include "pcapr.h"

struct file {
	uint8_t b[4096];
	size_t n;
	int swap; /* write big-endian (on this little- or big-endian host) */
};

static void put32(struct file *f, uint32_t v)
{
	uint8_t le[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	for (int i = 0; i < 4; i++)
		f->b[f->n++] = f->swap ? le[3 - i] : le[i];
}

static void put16(struct file *f, uint16_t v)
{
	uint8_t le[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	for (int i = 0; i < 2; i++)
		f->b[f->n++] = f->swap ? le[1 - i] : le[i];
}

/* A file header, then records of the given captured lengths. */
static void make(struct file *f, int swap, int nsec, uint32_t snaplen, const uint32_t *caplen,
		 int nrec)
{
	memset(f, 0, sizeof(*f));
	f->swap = swap;
	put32(f, nsec ? 0xa1b23c4d : 0xa1b2c3d4);
	put16(f, 2);
	put16(f, 4);
	put32(f, 0);
	put32(f, 0);
	put32(f, snaplen);
	put32(f, 1); /* LINKTYPE_ETHERNET */
	for (int i = 0; i < nrec; i++) {
		put32(f, i == 1 ? 0x90000000u : 1700000000u + (uint32_t)i); /* negative as int32 */
		put32(f, nsec ? 999999999u - (uint32_t)i : 999999u - (uint32_t)i);
		put32(f, caplen[i]);
		put32(f, caplen[i] + 7);
		/* the bytes, as far as they fit in the buffer (a lying caplen
		 * makes a cut file) */
		for (uint32_t k = 0; k < caplen[i] && f->n < sizeof(f->b); k++)
			f->b[f->n++] = (uint8_t)(i * 31 + k);
	}
}

struct outcome {
	char log[8192]; /* every record and the end, as text */
	size_t len;
};

static void logf_(struct outcome *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(o->log + o->len, sizeof(o->log) - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n < sizeof(o->log) - o->len ? (size_t)n
							      : sizeof(o->log) - o->len - 1;
}

static void log_record(struct outcome *o, const struct pcap_pkthdr *h, const uint8_t *d)
{
	uint32_t sum = 0;
	for (uint32_t k = 0; k < h->caplen; k++)
		sum = sum * 33 + d[k];
	logf_(o, "%lld.%lld %u/%u %08x\n", (long long)h->ts.tv_sec, (long long)h->ts.tv_usec,
	      h->caplen, h->len, sum);
}

/* NULL when libpcap cannot open the file at all (a cut file header). */
static pcap_t *open_file(const char *path, FILE **fp)
{
	char err[PCAP_ERRBUF_SIZE];
	*fp = fopen(path, "rb");
	assert_non_null(*fp);
	pcap_t *p = pcap_fopen_offline_with_tstamp_precision(*fp, PCAP_TSTAMP_PRECISION_NANO, err);
	if (!p)
		fclose(*fp);
	return p;
}

static void read_libpcap(const char *path, struct outcome *o)
{
	FILE *fp;
	pcap_t *p = open_file(path, &fp);
	struct pcap_pkthdr *h;
	const u_char *d;
	int r;
	if (!p) {
		logf_(o, "no open\n");
		return;
	}
	while ((r = pcap_next_ex(p, &h, &d)) == 1)
		log_record(o, h, d);
	logf_(o, r == PCAP_ERROR_BREAK ? "end\n" : "error: %s\n", pcap_geterr(p));
	pcap_close(p);
}

static void read_pcapr(const char *path, const uint8_t magic[4], struct outcome *o)
{
	FILE *fp;
	pcap_t *p = open_file(path, &fp);
	struct pcap_pkthdr h;
	const uint8_t *d;
	char err[PCAP_ERRBUF_SIZE] = "";
	int r;
	if (!p) {
		logf_(o, "no open\n");
		return;
	}
	struct pcapr *rd = pcapr_open(p, fp, magic);
	assert_non_null(rd); /* 2.4, Ethernet: always the block reader's */
	while ((r = pcapr_next(rd, &h, &d, err, sizeof(err))) == 1)
		log_record(o, &h, d);
	logf_(o, r == 0 ? "end\n" : "error: %s\n", err);
	pcapr_free(rd);
	pcap_close(p);
}

/* Both readers over every prefix of f (and f whole) agree. */
static void agree_on_every_prefix(const struct file *f)
{
	char path[] = "/tmp/lotrace-test-pcapr.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	for (size_t n = 0; n <= f->n; n++) {
		FILE *w = fopen(path, "wb");
		assert_non_null(w);
		assert_int_equal(fwrite(f->b, 1, n, w), n);
		fclose(w);
		struct outcome a = { .len = 0 }, b = { .len = 0 };
		read_libpcap(path, &a);
		read_pcapr(path, f->b, &b);
		if (strcmp(a.log, b.log))
			fail_msg("prefix %zu of %zu bytes:\nlibpcap:\n%spcapr:\n%s", n, f->n, a.log,
				 b.log);
	}
	unlink(path);
}

static void test_orders_and_precisions(void **state)
{
	const uint32_t caplen[] = { 60, 0, 74, 1, 128 };
	struct file f;
	for (int swap = 0; swap < 2; swap++)
		for (int nsec = 0; nsec < 2; nsec++) {
			make(&f, swap, nsec, 65535, caplen, 5);
			agree_on_every_prefix(&f);
		}
}

/* Records longer than the file's snapshot length are cut to it, the
 * rest read past; a snapshot length of 0 means libpcap's maximum. */
static void test_longer_than_snaplen(void **state)
{
	const uint32_t caplen[] = { 60, 100, 64, 65, 200 };
	struct file f;
	make(&f, 0, 0, 64, caplen, 5);
	agree_on_every_prefix(&f);
	make(&f, 1, 1, 64, caplen, 5);
	agree_on_every_prefix(&f);
	make(&f, 0, 0, 0, caplen, 5);
	agree_on_every_prefix(&f);
}

/* A record longer than libpcap takes at all: the same error, whether or
 * not it is longer than the snapshot length too. */
static void test_insane_caplen(void **state)
{
	const uint32_t caplen[] = { 60, 300000 };
	struct file f;
	make(&f, 0, 0, 65535, caplen, 2);
	agree_on_every_prefix(&f);
	make(&f, 1, 0, 400000, caplen, 2);
	agree_on_every_prefix(&f);
}

/* What the block reader leaves to libpcap. */
static void test_not_taken(void **state)
{
	const uint32_t caplen[] = { 60 };
	struct file f;
	char path[] = "/tmp/lotrace-test-pcapr.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	make(&f, 0, 0, 65535, caplen, 1);
	f.b[6] = 3; /* version 2.3: caplen and len may be interchanged */
	FILE *w = fopen(path, "wb");
	assert_non_null(w);
	assert_int_equal(fwrite(f.b, 1, f.n, w), f.n);
	fclose(w);
	FILE *fp;
	pcap_t *p = open_file(path, &fp);
	assert_non_null(p);
	assert_null(pcapr_open(p, fp, f.b));
	pcap_close(p);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_orders_and_precisions),
		cmocka_unit_test(test_longer_than_snaplen),
		cmocka_unit_test(test_insane_caplen),
		cmocka_unit_test(test_not_taken),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
