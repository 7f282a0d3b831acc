/* SPDX-License-Identifier: MIT */
/* synth.c - Ethernet/IP/TCP header bytes rebuilt from an observation. */
#include "synth.h"

#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

size_t synth_frame(uint8_t buf[SYNTH_MAX], const struct lt_obs *o, uint32_t *wire_len)
{
	size_t ip_len = o->family == 6 ? 40 : 20;
	uint8_t *ip = buf + 14, *tcp = buf + 14 + ip_len;
	uint32_t pl = o->kind == LT_OBS_SEGMENT ? o->payload_len : 0;

	memset(buf, 0, SYNTH_MAX);
	put16(buf + 12, o->family == 6 ? 0x86dd : 0x0800);
	if (o->family == 6) {
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)(20 + (pl > 65515 ? 65515 : pl)));
		ip[6] = 6;
		ip[7] = 64;
		memcpy(ip + 8, o->src.addr, 16);
		memcpy(ip + 24, o->dst.addr, 16);
	} else {
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(40 + (pl > 65495 ? 65495 : pl)));
		put16(ip + 6, 0x4000);
		ip[8] = 64;
		ip[9] = 6;
		memcpy(ip + 12, o->src.addr, 4);
		memcpy(ip + 16, o->dst.addr, 4);
	}
	put16(tcp, o->src.port);
	put16(tcp + 2, o->dst.port);
	put32(tcp + 4, o->seq);
	put32(tcp + 8, o->ack);
	tcp[12] = 0x50;
	tcp[13] = o->kind == LT_OBS_SEGMENT ? o->tcp_flags : 0;
	put16(tcp + 14, o->window ? o->window : 65535);
	*wire_len = (uint32_t)(14 + ip_len + 20) + pl;
	return 14 + ip_len + 20;
}
