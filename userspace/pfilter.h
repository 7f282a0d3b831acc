/* SPDX-License-Identifier: MIT */
/*
 * pfilter.h - a pcap-filter expression (tcpdump's language), compiled by
 * libpcap, checked against observations that carry no frame (eBPF).
 *
 * Sources with frames (files, live libpcap) have libpcap apply the filter
 * to the real bytes (src_pcap.c). For the others, the observation is
 * rebuilt as an Ethernet/IP/TCP header (synth.h) and run through
 * pcap_offline_filter: addresses, ports, flags, lengths and "tcp" mean the
 * same; payload bytes and IP options are not there to match. Kernel
 * context (no segment) is matched on its 4-tuple with no flags set.
 */
#ifndef LT_PFILTER_H
#define LT_PFILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "obs.h"

struct pfilter;

/* 0 when libpcap compiles expr, else -1 with "invalid filter expression
 * 'EXPR': <libpcap's reason>" in err (a usage error: exit 2). */
int pfilter_check(const char *expr, char *err, size_t errlen);
struct pfilter *pfilter_new(const char *expr, char *err, size_t errlen);
bool pfilter_match(struct pfilter *pf, const struct lt_obs *o);
void pfilter_free(struct pfilter *pf);

#endif
