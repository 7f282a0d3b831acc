/* SPDX-License-Identifier: MIT */
/*
 * fuzz_engine.c - libFuzzer target: frame bytes -> decoder -> flow engine
 * -> text and JSON sinks and the report.
 *
 * Owns only the input format below; everything it calls is the code
 * lotrace runs. It does not read files (fuzz_file.c does that).
 *
 * Input: one header byte, then records.
 *   header  bits 0-2: link type (index into dlts[]), bit 3: a 16-flow
 *           table (eviction paths), bit 4: stop after 3 connections,
 *           bit 5: watch only port 61900 (the port filter)
 *   record  u8 type, u16 time step, u16 length, then length bytes
 *           type & 1 == 0: a captured frame of the header's link type
 *           type & 1 == 1: an LT_OBS_KERNEL observation built from the
 *                          bytes (tuple, context bits, names), the kind
 *                          eBPF sends
 *   time    bits 14-15 pick the unit of bits 0-13: 1 us, 1 ms, 1 s, or
 *           (3) a step backwards in ms, so expiry, linger and
 *           backwards-time paths are all reachable.
 * Seeds are made from the bundled captures by tests/fuzz/seeds.py.
 */
#include <pcap/dlt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "decode.h"
#include "harness.h"

static const int dlts[8] = { DLT_EN10MB,    DLT_NULL,	    DLT_LOOP, DLT_RAW,
			     DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_IPV4, DLT_IPV6 };

static uint64_t step_ns(uint16_t t, uint64_t now)
{
	static const uint64_t unit[3] = { 1000ull, 1000000ull, 1000000000ull };
	uint64_t v = t & 0x3fff;
	if ((t >> 14) == 3) {
		uint64_t back = v * 1000000ull;
		return back < now ? now - back : 0;
	}
	return now + v * unit[t >> 14];
}

/* A kernel-context observation from arbitrary bytes: strings always end. */
static void kernel_obs(struct lt_obs *o, struct cur c)
{
	uint8_t fam = 0;
	uint32_t bits = 0, err = 0;
	memset(o, 0, sizeof(*o));
	o->kind = LT_OBS_KERNEL;
	o->pid = -1;
	cur_u8(&c, &fam);
	o->family = (fam & 1) ? 6 : 4;
	cur_bytes(&c, o->src.addr, o->family == 6 ? 16 : 4);
	cur_bytes(&c, o->dst.addr, o->family == 6 ? 16 : 4);
	cur_be16(&c, &o->src.port);
	cur_be16(&c, &o->dst.port);
	cur_u8(&c, &o->tcp_flags);
	cur_be32(&c, &bits);
	o->kctx = bits;
	cur_be32(&c, &err);
	o->sk_errno = (int32_t)err;
	o->reason_code = (int32_t)err;
	o->pid = (int32_t)(err >> 8);
	cur_bytes(&c, (uint8_t *)o->comm, sizeof(o->comm) - 1);
	cur_bytes(&c, (uint8_t *)o->reason_name, sizeof(o->reason_name) - 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cur c = cur_make(data, size);
	struct lt_opts o;
	struct fuzz_run fr;
	struct lt_source_stats ss;
	struct lt_run_info ri;
	uint8_t hdr;
	uint64_t now = 1700000000ull * 1000000000ull;

	if (!cur_u8(&c, &hdr))
		return 0;
	int dlt = dlts[hdr & 7];
	fuzz_opts(&o, hdr >> 3);
	if (fuzz_start(&fr, &o, 0) < 0)
		return 0;

	memset(&ss, 0, sizeof(ss));
	memset(&ri, 0, sizeof(ri));
	ri.version = "fuzz";
	ri.backend = "pcap-file";
	ri.input = "fuzz";
	ri.link_name = "fuzz";
	ri.ports = &o.ports;
	ri.max_flows = o.max_flows;
	fuzz_begin(&fr, &ri);

	while (!engine_done(fr.eng)) {
		uint8_t type;
		uint16_t t, len;
		struct lt_obs obs;
		if (!cur_u8(&c, &type) || !cur_be16(&c, &t) || !cur_be16(&c, &len))
			break;
		size_t n = len < cur_left(&c) ? len : cur_left(&c);
		struct cur rec = cur_sub(&c, n);
		cur_skip(&c, n);
		now = step_ns(t, now);
		ss.received++;
		uint8_t *frame = NULL;
		if (type & 1) {
			kernel_obs(&obs, rec);
		} else {
			/* A buffer of exactly the frame's size, so a read past
			 * caplen is an ASan report, not the next record. It
			 * lives until the engine has the observation, as a
			 * source's frame does (obs.payload points into it). */
			frame = malloc(n ? n : 1);
			if (!frame)
				break;
			memcpy(frame, rec.p, n);
			dec_obs_init(&obs);
			if (dec_frame_count(&ss.dec, dlt, frame, (uint32_t)n, &obs) != DEC_OK) {
				free(frame);
				continue;
			}
		}
		obs.ts_ns = now;
		engine_obs(fr.eng, &obs);
		free(frame);
	}
	fuzz_end(&fr, &ri, &ss);
	return 0;
}
