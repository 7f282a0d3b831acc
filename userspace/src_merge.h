/* SPDX-License-Identifier: MIT */
/*
 * src_merge.h - several capture sources read as one, in timestamp order
 * (mergecap's rule: the oldest packet first, ties to the earlier file).
 */
#ifndef LT_SRC_MERGE_H
#define LT_SRC_MERGE_H

#include "source.h"

/*
 * A source over subs[0..n) (n >= 1), which it takes over: closing it
 * closes them, and so does a failure here. Its desc names every file
 * ("a.pcap + b.pcap"); a read error names the file it came from.
 */
struct lt_source *src_merge_open(struct lt_source **subs, int n, char err[LT_ERR_LEN]);

#endif
