/* SPDX-License-Identifier: MIT */
/* pcapw.c - header-snapshot pcap writer over pcap_dump. */
#include "pcapw.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pcapw {
	pcap_t *dead;
	pcap_dumper_t *dump;
	uint64_t count;
	int failed;
};

struct pcapw *pcapw_open(const char *path, char err[LT_ERR_LEN])
{
	struct pcapw *w = calloc(1, sizeof(*w));
	int fd;
	FILE *f;

	if (!w) {
		snprintf(err, LT_ERR_LEN, "out of memory");
		return NULL;
	}
	/* O_NOFOLLOW: as root, never write through a planted symlink */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || !(f = fdopen(fd, "wb"))) {
		snprintf(err, LT_ERR_LEN, "cannot write '%s': %s%s", path,
			 strerror(errno),
			 errno == ELOOP ? " (it is a symlink; give a plain file)" : "");
		if (fd >= 0)
			close(fd);
		free(w);
		return NULL;
	}
	w->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, PCAPW_SNAPLEN,
						       PCAP_TSTAMP_PRECISION_NANO);
	w->dump = w->dead ? pcap_dump_fopen(w->dead, f) : NULL;
	if (!w->dump) {
		snprintf(err, LT_ERR_LEN, "cannot write '%s': %s", path,
			 w->dead ? pcap_geterr(w->dead) : "pcap_open_dead failed");
		fclose(f);
		if (w->dead)
			pcap_close(w->dead);
		free(w);
		return NULL;
	}
	return w;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int pcapw_segment(struct pcapw *w, uint64_t ts_ns, uint8_t family,
		  const struct lt_endpoint *src, const struct lt_endpoint *dst,
		  uint8_t flags, uint32_t seq, uint32_t ack, uint32_t payload_len)
{
	uint8_t pkt[14 + 40 + 20];
	size_t ip_len = family == 6 ? 40 : 20;
	uint8_t *ip = pkt + 14, *tcp = pkt + 14 + ip_len;
	struct pcap_pkthdr h;

	memset(pkt, 0, sizeof(pkt));
	put16(pkt + 12, family == 6 ? 0x86dd : 0x0800);
	if (family == 6) {
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)(20 + (payload_len > 65515 ? 65515 : payload_len)));
		ip[6] = 6;
		ip[7] = 64;
		memcpy(ip + 8, src->addr, 16);
		memcpy(ip + 24, dst->addr, 16);
	} else {
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(40 + (payload_len > 65495 ? 65495 : payload_len)));
		put16(ip + 6, 0x4000);
		ip[8] = 64;
		ip[9] = 6;
		memcpy(ip + 12, src->addr, 4);
		memcpy(ip + 16, dst->addr, 4);
	}
	put16(tcp, src->port);
	put16(tcp + 2, dst->port);
	put32(tcp + 4, seq);
	put32(tcp + 8, ack);
	tcp[12] = 0x50;
	tcp[13] = flags;
	put16(tcp + 14, 65535);

	h.ts.tv_sec = (time_t)(ts_ns / 1000000000ull);
	h.ts.tv_usec = (suseconds_t)(ts_ns % 1000000000ull); /* ns precision */
	h.caplen = (bpf_u_int32)(14 + ip_len + 20);
	h.len = h.caplen + payload_len;
	errno = 0;
	pcap_dump((u_char *)w->dump, &h, pkt);
	/* note why a write failed while errno still says it */
	if (!w->failed && ferror(pcap_dump_file(w->dump)))
		w->failed = errno ? errno : EIO;
	w->count++;
	return 0;
}

int pcapw_obs(struct pcapw *w, const struct lt_obs *o)
{
	if (o->kind != LT_OBS_SEGMENT)
		return 0;
	return pcapw_segment(w, o->ts_ns, o->family, &o->src, &o->dst,
			     o->tcp_flags, o->seq, o->ack, o->payload_len);
}

uint64_t pcapw_count(const struct pcapw *w)
{
	return w->count;
}

int pcapw_error(const struct pcapw *w)
{
	if (w->failed)
		return w->failed;
	return ferror(pcap_dump_file(w->dump)) ? EIO : 0;
}

void pcapw_flush(struct pcapw *w)
{
	if (pcap_dump_flush(w->dump) < 0)
		w->failed = errno ? errno : EIO;
}

int pcapw_close(struct pcapw *w)
{
	if (!w)
		return 0;
	pcapw_flush(w);
	FILE *f = pcap_dump_file(w->dump);
	int bad = w->failed || ferror(f);
	pcap_dump_close(w->dump);
	pcap_close(w->dead);
	int err = w->failed;
	free(w);
	return bad ? -(err ? err : EIO) : 0;
}
