/* SPDX-License-Identifier: MIT */
/*
 * src_bpf_version.c - the version of the libbpf lotrace runs with, for
 * `lotrace -V`. Apart from version.c because libbpf's headers and
 * libpcap's both define struct bpf_insn. Built only with the eBPF backend
 * (the Makefile leaves src_bpf*.c out of BACKEND=pcap builds).
 */
#include "version.h"

#include <bpf/libbpf.h>

void lt_libbpf_version(unsigned *major, unsigned *minor)
{
	*major = libbpf_major_version();
	*minor = libbpf_minor_version();
}
