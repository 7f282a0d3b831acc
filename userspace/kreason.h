/* SPDX-License-Identifier: MIT */
/*
 * kreason.h - names of the kernel's drop and reset reasons, read from the
 * running kernel.
 *
 * The numbers behind enum skb_drop_reason and enum sk_rst_reason change
 * between kernel versions (and distribution backports), so lotrace never
 * hard-codes them. kreason_load() reads both enums from the kernel's BTF
 * (/sys/kernel/btf/vmlinux, eBPF builds only) and falls back to the
 * `print fmt` symbol tables of the skb:kfree_skb and tcp:tcp_send_reset
 * tracepoints in tracefs. Names are returned without their prefixes:
 * SKB_DROP_REASON_NETFILTER_DROP is "NETFILTER_DROP", SK_RST_REASON_NO_SOCKET
 * is "NO_SOCKET", SKB_CONSUMED is "CONSUMED".
 *
 * Owns: two small tables, loaded once; not thread-safe.
 */
#ifndef LT_KREASON_H
#define LT_KREASON_H

/*
 * Load both tables (again only after kreason_free). Returns 0 when at
 * least one table was found, else a negative errno (-ENOENT: neither BTF
 * nor tracefs has them, e.g. kernels before 5.17).
 */
int kreason_load(void);

/* The name of a drop/reset reason code, or NULL when unknown. The string
 * lives until kreason_free(). */
const char *kreason_drop_name(int code);
const char *kreason_reset_name(int code);

/* Where the names came from: "btf", "tracefs", or "none" (per table). */
const char *kreason_drop_source(void);
const char *kreason_reset_source(void);

void kreason_free(void);

#endif
