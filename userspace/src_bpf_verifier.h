/* SPDX-License-Identifier: MIT */
/*
 * src_bpf_verifier.h - what the kernel's verifier says of each program
 * lotrace loads, under -v: how many instructions it walked against its
 * limit, and how long it took.
 *
 * A program the verifier walks near its limit (1,000,000 instructions)
 * fails to load on a kernel that prunes a little worse, and each walk is
 * lotrace's start-up time (lotrace_tc once took 826,036 and 2.6 s). The
 * figures are the kernel's own log at level 4 (statistics only), kept per
 * program while the object loads. tests/live/verifier.sh reads them.
 * Under -v a program that fails to load shows its statistics, not the
 * verifier's path to the failure (libbpf fetches that only when no log
 * was asked for: run without -v, or bpftool prog load, for it).
 */
#ifndef LT_SRC_BPF_VERIFIER_H
#define LT_SRC_BPF_VERIFIER_H

struct bpf_object;
struct verifier_logs;

/* Before bpf_object__load: a log for each program that will load, or
 * NULL (no memory: nothing to say, the load goes on as without -v). */
struct verifier_logs *verifier_logs_arm(struct bpf_object *obj);
/* After the load, successful or not: one line per program to say(), e.g.
 * "lotrace: verifier: lotrace_tc walked 120660 of 1000000 instructions in 312 ms",
 * then frees v (NULL is fine). */
void verifier_logs_report(struct verifier_logs *v, void (*say)(const char *line));

#endif
