/* SPDX-License-Identifier: MIT */
/* version.h - what `lotrace -V` prints. */
#ifndef LT_VERSION_H
#define LT_VERSION_H

#include <stdio.h>

/* The version, the live backends built in and the library versions, one
 * per line. Returns 0, or -1 when writing to out failed. */
int lt_version_print(FILE *out);

/* libbpf's version at run time (src_bpf_version.c, eBPF builds only). */
void lt_libbpf_version(unsigned *major, unsigned *minor);

#endif
