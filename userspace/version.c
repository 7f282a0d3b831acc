/* SPDX-License-Identifier: MIT */
/*
 * version.c - what `lotrace -V` prints: lotrace's version (from the VERSION
 * file, via the Makefile), the live backends this build has, and the
 * versions of the libraries it runs with (libpcap, libbpf, ncurses), as the
 * libraries report them at run time.
 *
 * Owns: that text. Does not own: option parsing (opts.c), exit codes
 * (main.c), asking libbpf (src_bpf_version.c: its headers clash with
 * libpcap's).
 */
#include "version.h"

#include <curses.h>
#include <pcap/pcap.h>

#ifndef LT_VERSION
#define LT_VERSION "0.0.0"
#endif

int lt_version_print(FILE *out)
{
	fprintf(out, "lotrace %s\n", LT_VERSION);
#ifdef LT_HAVE_BPF
	fputs("live backends: ebpf pcap\n", out);
#else
	fputs("live backends: pcap (built without eBPF: BACKEND=pcap or no libbpf)\n", out);
#endif
	fprintf(out, "%s\n", pcap_lib_version());
#ifdef LT_HAVE_BPF
	unsigned major, minor;

	lt_libbpf_version(&major, &minor);
	fprintf(out, "libbpf %u.%u\n", major, minor);
#else
	fputs("libbpf: not built in\n", out);
#endif
	fprintf(out, "%s\n", curses_version());
	return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
