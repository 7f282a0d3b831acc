/* SPDX-License-Identifier: MIT */
/* pfilter.c - pcap-filter expressions run on rebuilt headers (eBPF). */
#include "pfilter.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>

#include "synth.h"

struct pfilter {
	pcap_t *dead;
	struct bpf_program prog;
};

struct pfilter *pfilter_new(const char *expr, char *err, size_t errlen)
{
	struct pfilter *pf = calloc(1, sizeof(*pf));
	if (!pf) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pf->dead = pcap_open_dead(DLT_EN10MB, 262144);
	if (!pf->dead) {
		snprintf(err, errlen, "cannot compile filter expression '%s': out of memory", expr);
		free(pf);
		return NULL;
	}
	if (pcap_compile(pf->dead, &pf->prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "invalid filter expression '%s': %s", expr,
			 pcap_geterr(pf->dead));
		pcap_close(pf->dead);
		free(pf);
		return NULL;
	}
	return pf;
}

int pfilter_check(const char *expr, char *err, size_t errlen)
{
	struct pfilter *pf = pfilter_new(expr, err, errlen);
	pfilter_free(pf);
	return pf ? 0 : -1;
}

bool pfilter_match(struct pfilter *pf, const struct lt_obs *o)
{
	uint8_t buf[SYNTH_MAX];
	struct pcap_pkthdr h = { 0 };
	uint32_t wire;

	h.caplen = (bpf_u_int32)synth_frame(buf, o, &wire);
	h.len = wire;
	return pcap_offline_filter(&pf->prog, &h, buf) != 0;
}

void pfilter_free(struct pfilter *pf)
{
	if (!pf)
		return;
	pcap_freecode(&pf->prog);
	pcap_close(pf->dead);
	free(pf);
}
