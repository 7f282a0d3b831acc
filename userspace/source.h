/* SPDX-License-Identifier: MIT */
/*
 * source.h - where observations come from: one small ops table.
 *
 * Three implementations: src_pcap.c (a capture file, or a live device via
 * libpcap) and src_bpf.c (the eBPF program on lo). Each turns what it
 * reads into struct lt_obs (obs.h) and hands them to a callback; nothing
 * above this line sees a libpcap or libbpf type.
 *
 * Errors: open functions return NULL and write a one-line message (no
 * trailing newline, no period) into err. dispatch returns the number of
 * observations delivered (0: nothing ready now), LT_SRC_EOF at the end of
 * a file, or a negative errno.
 */
#ifndef LT_SOURCE_H
#define LT_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "obs.h"

#define LT_SRC_EOF (-100000)
#define LT_ERR_LEN 512
/* Live libpcap snap length: enough for any link, VLAN, IPv6 extension
 * and TCP option headers. */
#define LT_LIVE_SNAPLEN 256

typedef void (*lt_obs_fn)(void *ctx, const struct lt_obs *o);

/* One of a source's own counters, shown as is in every summary. */
#define LT_SRC_COUNTERS_MAX 24
struct lt_src_counter {
	const char *name; /* static string, snake_case */
	uint64_t value;
	int problem; /* non-zero means evidence was cut or lost: shown everywhere */
};

struct lt_source_stats {
	uint64_t received;	     /* frames/events the source read */
	uint64_t lost;		     /* events lost before we could read them */
	uint64_t lost_kernel;	     /* libpcap ps_drop / BPF reserve failures */
	uint64_t lost_iface;	     /* libpcap ps_ifdrop */
	struct dec_stats dec;	     /* decode outcomes (pcap sources) */
	int truncated_file;	     /* the capture file ended mid-record */
	char read_error[LT_ERR_LEN]; /* why reading stopped early, or "" */
	int ncounters;		     /* the source's own counters (eBPF: all of them) */
	struct lt_src_counter counters[LT_SRC_COUNTERS_MAX];
};

struct lt_source;

struct lt_source_ops {
	const char *name; /* "pcap-file", "pcap", "ebpf" */
	/* A descriptor to poll() for readiness, or -1 (always ready). */
	int (*fd)(struct lt_source *s);
	int (*dispatch)(struct lt_source *s, int budget, lt_obs_fn fn, void *ctx);
	/* The source's clock in ns since the epoch: now for live sources, the
	 * last packet's time for a file. */
	uint64_t (*now)(struct lt_source *s);
	void (*stats)(struct lt_source *s, struct lt_source_stats *st);
	void (*close)(struct lt_source *s);
};

struct lt_source {
	const struct lt_source_ops *ops;
	char desc[512];	    /* for headers: "x.pcap", "a.pcap + b.pcap", "lo" */
	int link_type;	    /* DLT of a pcap source, -1 otherwise */
	uint32_t snaplen;   /* its snap length (a merge: the largest), 0 otherwise */
	char link_name[32]; /* "EN10MB" */
	/* capabilities the source still uses after -Z (bit n = capability n,
	 * privdrop.h): 0 for all but the eBPF source watching every namespace */
	uint64_t keep_caps;
	/* 1: its times are one steady clock's (the eBPF source's monotonic
	 * clock), and an observation may come seconds after later ones (a
	 * connection summed up in the kernel, read after a stall): never a
	 * capture time jump (flow_config.steady_clock) */
	int steady_clock;
};

/* Longest pcap-filter expression taken from the command line. */
#define LT_FILTER_MAX 1024
/* Snap length when -w asks for whole packets (tcpdump's default). */
#define LT_FULL_SNAPLEN 262144

/* src_pcap.c. path "-" is standard input; filter: a pcap-filter
 * expression (tcpdump's language) or NULL. */
struct lt_source *src_pcap_file_open(const char *path, const char *filter, char err[LT_ERR_LEN]);
/* ports: list of watched ports (n may be 0 for all); snaplen 0 = default */
struct lt_source *src_pcap_live_open(const char *ifname, const uint16_t *ports, int nports,
				     int snaplen, const char *filter, char err[LT_ERR_LEN]);
/* The platform's loopback device name ("lo", "lo0"). */
const char *src_pcap_loopback_name(void);

#endif
