/* SPDX-License-Identifier: MIT */
/*
 * proto.c - the protocol of a direction's first bytes (see proto.h).
 *
 * Owns: recognising a handful of protocols from at most PROTO_HEAD_MAX
 * bytes, every byte read through a cursor, keeping no more than a first
 * line; naming a mismatch between client and server.
 * Does not own: where the bytes come from (flow.c) or what a finding says
 * about them (diagnose.c, diagnose_words.c).
 */
#include "proto.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cursor.h"

#define PG_SSL_REQUEST_CODE 80877103u /* 1234 << 16 | 5679 */
#define PG_GSS_REQUEST_CODE 80877104u
#define PG_PROTOCOL_3 196608u /* 3 << 16 */

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}
static bool is_print(uint8_t c)
{
	return c >= 0x20 && c < 0x7f;
}

/* Does the cursor start with the string s? Reads nothing. */
static bool starts(const struct cur *c, const char *s)
{
	struct cur t = *c;
	uint8_t v;
	for (; *s; s++) /* no strlen first: most tries fail at the first byte */
		if (!cur_u8(&t, &v) || v != (uint8_t)*s)
			return false;
	return true;
}

/* Copy the first line (up to CR/LF or the end of the bytes kept),
 * printable ASCII only ('?' for others), into out. */
static void first_line(struct cur c, char *out, size_t len)
{
	size_t k = 0;
	uint8_t v;
	while (k + 1 < len && cur_u8(&c, &v) && v != '\r' && v != '\n')
		out[k++] = is_print(v) ? (char)v : '?';
	out[k] = '\0';
}

/* ---- TLS --------------------------------------------------------------- */

/* SNI from the extensions of a ClientHello whose body starts at c (after
 * the handshake header); silently nothing when the bytes end first. */
static void tls_sni(struct cur c, char *out, size_t len)
{
	uint8_t sid_len, comp_len;
	uint16_t cs_len, ext_len;

	if (!cur_skip(&c, 2 + 32) || !cur_u8(&c, &sid_len) || !cur_skip(&c, sid_len) ||
	    !cur_be16(&c, &cs_len) || !cur_skip(&c, cs_len) || !cur_u8(&c, &comp_len) ||
	    !cur_skip(&c, comp_len) || !cur_be16(&c, &ext_len))
		return;
	struct cur e = cur_sub(&c, ext_len);
	uint16_t type, l;
	while (cur_be16(&e, &type) && cur_be16(&e, &l)) {
		if (type != 0) {
			if (!cur_skip(&e, l))
				return;
			continue;
		}
		uint16_t list_len, name_len;
		uint8_t name_type;
		if (!cur_be16(&e, &list_len) || !cur_u8(&e, &name_type) || name_type != 0 ||
		    !cur_be16(&e, &name_len) || !cur_has(&e, name_len) || name_len + 1u > len)
			return;
		size_t k = 0;
		uint8_t v;
		for (; k < name_len && cur_u8(&e, &v); k++)
			out[k] = is_print(v) ? (char)v : '?';
		out[k] = '\0';
		return;
	}
}

static bool tls(struct cur c, struct proto_id *p)
{
	uint8_t type, maj, min, hs;
	uint16_t rec_len;

	if (!cur_u8(&c, &type) || type < 20 || type > 23 || !cur_u8(&c, &maj) || maj != 3 ||
	    !cur_u8(&c, &min) || min > 4 || !cur_be16(&c, &rec_len) || rec_len == 0 ||
	    rec_len > 16384 + 2048)
		return false;
	p->tls_version = (uint16_t)(maj << 8 | min);
	p->kind = PROTO_TLS_RECORD;
	if (type == 21) {
		p->kind = PROTO_TLS_ALERT;
		cur_u8(&c, &p->alert_level);
		cur_u8(&c, &p->alert_desc);
		return true;
	}
	if (type != 22 || !cur_u8(&c, &hs) || !cur_skip(&c, 3))
		return true;
	uint16_t ver;
	struct cur body = c;
	if (hs == 1 || hs == 2) {
		p->kind = hs == 1 ? PROTO_TLS_CLIENT_HELLO : PROTO_TLS_SERVER_HELLO;
		if (cur_be16(&c, &ver))
			p->tls_version = ver;
		if (hs == 1)
			tls_sni(body, p->sni, sizeof(p->sni));
	}
	return true;
}

/* ---- text protocols ---------------------------------------------------- */

static bool http_request(struct cur c, struct proto_id *p)
{
	static const char *const methods[] = {
		"GET ",	    "POST ",  "PUT ",	  "DELETE ", "HEAD ",
		"OPTIONS ", "PATCH ", "CONNECT ", "TRACE ",  "PRI ",
	};
	struct cur t = c;
	uint8_t v = 0;
	size_t i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (starts(&c, methods[i]))
			break;
	if (i == sizeof(methods) / sizeof(methods[0]))
		return false;
	cur_skip(&t, strlen(methods[i]));
	/* the target, then " HTTP/" unless the bytes kept end first */
	while (cur_u8(&t, &v) && v != ' ' && v != '\r' && v != '\n')
		;
	if (v == '\r' || v == '\n')
		return false;
	if (v == ' ' && !starts(&t, cur_left(&t) >= 5 ? "HTTP/" : ""))
		return false;
	p->kind = starts(&c, "PRI * HTTP/2.0") ? PROTO_H2_PREFACE : PROTO_HTTP_REQUEST;
	first_line(c, p->line, sizeof(p->line));
	return true;
}

static bool http_response(struct cur c, struct proto_id *p)
{
	struct cur t = c;
	uint8_t d[3], sp;

	if (!starts(&t, "HTTP/") || !cur_skip(&t, 8) || !cur_u8(&t, &sp) || sp != ' ' ||
	    !cur_bytes(&t, d, 3) || !is_digit(d[0]) || !is_digit(d[1]) || !is_digit(d[2]))
		return false;
	p->kind = PROTO_HTTP_RESPONSE;
	p->status = (uint16_t)((d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0'));
	first_line(c, p->line, sizeof(p->line));
	return true;
}

/* "*<n>\r\n$<len>\r\n<command>\r\n": an array of bulk strings. */
static bool resp(struct cur c, struct proto_id *p)
{
	uint8_t v;
	size_t digits = 0;

	if (!cur_u8(&c, &v) || v != '*')
		return false;
	while (cur_u8(&c, &v) && is_digit(v))
		digits++;
	if (!digits || v != '\r' || !cur_u8(&c, &v) || v != '\n')
		return false;
	p->kind = PROTO_RESP;
	if (!cur_u8(&c, &v) || v != '$')
		return true;
	uint32_t len = 0;
	while (cur_u8(&c, &v) && is_digit(v) && len < 100000)
		len = len * 10 + (uint32_t)(v - '0');
	if (v != '\r' || !cur_u8(&c, &v) || v != '\n')
		return true;
	size_t k = 0;
	for (; k < len && k + 1 < sizeof(p->line) && cur_u8(&c, &v); k++)
		p->line[k] = is_print(v) ? (char)v : '?';
	p->line[k] = '\0';
	return true;
}

static bool postgres(struct cur c, const struct proto_id *client, struct proto_id *p)
{
	uint32_t len, code;
	uint8_t v;

	if (client && client->kind == PROTO_PG_SSL_REQUEST && cur_left(&c) == 1 && cur_u8(&c, &v) &&
	    (v == 'S' || v == 'N')) {
		p->kind = PROTO_PG_SSL_ANSWER;
		p->pg_answer = (char)v;
		return true;
	}
	if (!cur_be32(&c, &len) || !cur_be32(&c, &code))
		return false;
	if (len == 8 && (code == PG_SSL_REQUEST_CODE || code == PG_GSS_REQUEST_CODE)) {
		p->kind = PROTO_PG_SSL_REQUEST;
		return true;
	}
	if (code == PG_PROTOCOL_3 && len >= 9 && len <= 10000) {
		p->kind = PROTO_PG_STARTUP;
		return true;
	}
	return false;
}

/* "<!DOCTYPE html" or "<html", any case, after white space. */
static bool html(struct cur c, struct proto_id *p)
{
	static const char *const tags[] = { "<!doctype html", "<html" };
	uint8_t v = 0;

	while (cur_has(&c, 1) &&
	       (c.p[0] == ' ' || c.p[0] == '\n' || c.p[0] == '\r' || c.p[0] == '\t'))
		cur_skip(&c, 1);
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		struct cur t = c;
		size_t k = 0, n = strlen(tags[i]);
		for (; k < n && cur_u8(&t, &v); k++)
			if ((v >= 'A' && v <= 'Z' ? v + 32 : v) != (uint8_t)tags[i][k])
				break;
		if (k == n) {
			p->kind = PROTO_HTML;
			return true;
		}
	}
	return false;
}

static bool json_rpc(struct cur c, struct proto_id *p)
{
	uint8_t v = 0;

	if (starts(&c, "Content-Length:")) { /* LSP-style framing */
		p->kind = PROTO_JSON_RPC;
		first_line(c, p->line, sizeof(p->line));
		return true;
	}
	while (cur_u8(&c, &v) && (v == ' ' || v == '\n' || v == '\r' || v == '\t'))
		;
	if (v != '{' && v != '[')
		return false;
	while (cur_left(&c)) {
		if (starts(&c, "\"jsonrpc\"")) {
			p->kind = PROTO_JSON_RPC;
			return true;
		}
		cur_skip(&c, 1);
	}
	return false;
}

/* The first bytes the recognisers below can accept (most payload is none
 * of them: one load then says unknown). A new recogniser adds its first
 * bytes here; its test in tests/unit/test_proto.c fails until it does. */
static const bool may_start[256] = {
	[0] = true,   /* postgres: a length below 2^24 */
	[20] = true,  /* TLS record types 20-23 */
	[21] = true,  /* (alert) */
	[22] = true,  /* (handshake) */
	[23] = true,  /* (application data) */
	['H'] = true, /* HTTP/ status line, HEAD */
	['G'] = true, /* GET */
	['P'] = true, /* POST, PUT, PATCH, PRI */
	['D'] = true, /* DELETE */
	['O'] = true, /* OPTIONS */
	['C'] = true, /* CONNECT, Content-Length: (JSON-RPC) */
	['T'] = true, /* TRACE */
	['*'] = true, /* RESP array */
	['S'] = true, /* SSH-, PostgreSQL's SSL answer */
	['N'] = true, /* PostgreSQL's SSL answer */
	['{'] = true, /* JSON-RPC */
	['['] = true, /* JSON-RPC batch */
	['<'] = true, /* HTML */
	[' '] = true, /* white space before JSON or HTML */
	['\t'] = true, ['\r'] = true, ['\n'] = true,
};

void proto_classify(const uint8_t *b, size_t n, const struct proto_id *client, struct proto_id *out)
{
	memset(out, 0, sizeof(*out));
	if (!b || !n)
		return;
	struct cur c = cur_make(b, n > PROTO_HEAD_MAX ? PROTO_HEAD_MAX : n);
	struct cur first = c;
	uint8_t v;
	if (cur_u8(&first, &v) && !may_start[v]) {
		out->kind = PROTO_UNKNOWN;
		return;
	}

	if (tls(c, out) || http_response(c, out) || postgres(c, client, out) || resp(c, out) ||
	    json_rpc(c, out) || html(c, out) || http_request(c, out))
		return;
	if (starts(&c, "SSH-")) {
		out->kind = PROTO_SSH;
		first_line(c, out->line, sizeof(out->line));
		return;
	}
	out->kind = PROTO_UNKNOWN;
}

/* ---- mismatches -------------------------------------------------------- */

static bool is_tls(uint8_t k)
{
	return k == PROTO_TLS_CLIENT_HELLO || k == PROTO_TLS_SERVER_HELLO || k == PROTO_TLS_ALERT ||
	       k == PROTO_TLS_RECORD;
}

static bool is_known(uint8_t k)
{
	return k != PROTO_NONE && k != PROTO_UNKNOWN;
}

enum proto_clash proto_clash(const struct proto_id *c, const struct proto_id *s)
{
	if (!is_known(c->kind) || s->kind == PROTO_NONE)
		return PROTO_CLASH_NONE;
	if (c->kind == PROTO_PG_SSL_REQUEST)
		return s->kind == PROTO_PG_SSL_ANSWER && s->pg_answer == 'N'
			       ? PROTO_CLASH_SSL_REFUSED
			       : PROTO_CLASH_NONE;
	if (is_tls(c->kind))
		return is_tls(s->kind) ? PROTO_CLASH_NONE : PROTO_CLASH_TLS_TO_PLAIN;
	if (is_tls(s->kind))
		return PROTO_CLASH_PLAIN_TO_TLS;
	if (c->kind == PROTO_H2_PREFACE)
		return !strcmp(proto_family(s->kind), "HTTP/1") ? PROTO_CLASH_H2_TO_HTTP1
								: PROTO_CLASH_NONE;
	if (!is_known(s->kind))
		return PROTO_CLASH_NONE;
	if (strcmp(proto_family(c->kind), proto_family(s->kind)) != 0 && c->kind != PROTO_SSH &&
	    s->kind != PROTO_SSH)
		return PROTO_CLASH_OTHER;
	if ((c->kind == PROTO_SSH) != (s->kind == PROTO_SSH))
		return PROTO_CLASH_OTHER;
	return PROTO_CLASH_NONE;
}

/* ---- names and words --------------------------------------------------- */

const char *proto_kind_name(enum proto_kind k)
{
	static const char *const names[PROTO_KIND_COUNT] = {
		[PROTO_NONE] = "none",
		[PROTO_UNKNOWN] = "unknown",
		[PROTO_TLS_CLIENT_HELLO] = "tls-client-hello",
		[PROTO_TLS_SERVER_HELLO] = "tls-server-hello",
		[PROTO_TLS_ALERT] = "tls-alert",
		[PROTO_TLS_RECORD] = "tls-record",
		[PROTO_HTTP_REQUEST] = "http-request",
		[PROTO_HTTP_RESPONSE] = "http-response",
		[PROTO_HTML] = "html-no-status",
		[PROTO_H2_PREFACE] = "http2-preface",
		[PROTO_RESP] = "resp",
		[PROTO_PG_SSL_REQUEST] = "postgres-ssl-request",
		[PROTO_PG_STARTUP] = "postgres-startup",
		[PROTO_PG_SSL_ANSWER] = "postgres-ssl-answer",
		[PROTO_SSH] = "ssh",
		[PROTO_JSON_RPC] = "json-rpc",
	};
	return (unsigned)k < PROTO_KIND_COUNT ? names[k] : "unknown";
}

const char *proto_clash_name(enum proto_clash c)
{
	static const char *const names[PROTO_CLASH_COUNT] = {
		[PROTO_CLASH_NONE] = "none",
		[PROTO_CLASH_TLS_TO_PLAIN] = "tls-to-plain",
		[PROTO_CLASH_PLAIN_TO_TLS] = "plain-to-tls",
		[PROTO_CLASH_H2_TO_HTTP1] = "http2-to-http1",
		[PROTO_CLASH_OTHER] = "other",
		[PROTO_CLASH_SSL_REFUSED] = "ssl-refused",
		[PROTO_CLASH_HTTP_UNANSWERED] = "http-unanswered",
	};
	return (unsigned)c < PROTO_CLASH_COUNT ? names[c] : "none";
}

const char *proto_family(enum proto_kind k)
{
	switch (k) {
	case PROTO_TLS_CLIENT_HELLO:
	case PROTO_TLS_SERVER_HELLO:
	case PROTO_TLS_ALERT:
	case PROTO_TLS_RECORD:
		return "TLS";
	case PROTO_HTTP_REQUEST:
	case PROTO_HTTP_RESPONSE:
	case PROTO_HTML:
		return "HTTP/1";
	case PROTO_H2_PREFACE:
		return "HTTP/2";
	case PROTO_RESP:
		return "RESP";
	case PROTO_PG_SSL_REQUEST:
	case PROTO_PG_STARTUP:
	case PROTO_PG_SSL_ANSWER:
		return "PostgreSQL";
	case PROTO_SSH:
		return "SSH";
	case PROTO_JSON_RPC:
		return "JSON-RPC";
	case PROTO_NONE:
	case PROTO_UNKNOWN:
	case PROTO_KIND_COUNT:
		break;
	}
	return "";
}

const char *proto_tls_version_name(uint16_t v)
{
	switch (v) {
	case 0x0300:
		return "SSL 3.0";
	case 0x0301:
		return "TLS 1.0";
	case 0x0302:
		return "TLS 1.1";
	case 0x0303:
		return "TLS 1.2";
	case 0x0304:
		return "TLS 1.3";
	}
	return "";
}

const char *proto_tls_alert_name(uint8_t d)
{
	switch (d) {
	case 0:
		return "close_notify";
	case 10:
		return "unexpected_message";
	case 20:
		return "bad_record_mac";
	case 22:
		return "record_overflow";
	case 40:
		return "handshake_failure";
	case 42:
		return "bad_certificate";
	case 43:
		return "unsupported_certificate";
	case 44:
		return "certificate_revoked";
	case 45:
		return "certificate_expired";
	case 46:
		return "certificate_unknown";
	case 47:
		return "illegal_parameter";
	case 48:
		return "unknown_ca";
	case 50:
		return "decode_error";
	case 51:
		return "decrypt_error";
	case 70:
		return "protocol_version";
	case 71:
		return "insufficient_security";
	case 80:
		return "internal_error";
	case 86:
		return "inappropriate_fallback";
	case 90:
		return "user_canceled";
	case 109:
		return "missing_extension";
	case 110:
		return "unsupported_extension";
	case 112:
		return "unrecognized_name";
	case 116:
		return "certificate_required";
	case 120:
		return "no_application_protocol";
	}
	return "";
}

void proto_describe(const struct proto_id *p, char *buf, size_t len)
{
	const char *ver = proto_tls_version_name(p->tls_version);

	if (!len)
		return;
	switch ((enum proto_kind)p->kind) {
	case PROTO_TLS_CLIENT_HELLO:
	case PROTO_TLS_SERVER_HELLO:
		snprintf(buf, len, "a TLS %s (%s%s%s%s%s)",
			 p->kind == PROTO_TLS_CLIENT_HELLO ? "ClientHello" : "ServerHello",
			 *ver ? ver : "unknown version", p->sni[0] ? ", SNI `" : "", p->sni,
			 p->sni[0] ? "`" : "", "");
		break;
	case PROTO_TLS_ALERT: {
		const char *a = proto_tls_alert_name(p->alert_desc);
		snprintf(buf, len, "a TLS %s alert `%s` (%u)",
			 p->alert_level == 2 ? "fatal" : "warning", *a ? a : "unknown",
			 p->alert_desc);
		break;
	}
	case PROTO_TLS_RECORD:
		snprintf(buf, len, "a TLS record (%s)", *ver ? ver : "unknown version");
		break;
	case PROTO_HTTP_REQUEST:
	case PROTO_HTTP_RESPONSE:
		snprintf(buf, len, "`%s`", p->line);
		break;
	case PROTO_HTML:
		snprintf(buf, len,
			 "an HTML page with no HTTP status line (how an HTTP server such as "
			 "Python's http.server answers a request line it cannot parse)");
		break;
	case PROTO_H2_PREFACE:
		snprintf(buf, len, "the HTTP/2 prior-knowledge preface `PRI * HTTP/2.0`");
		break;
	case PROTO_RESP:
		if (p->line[0])
			snprintf(buf, len, "a redis (RESP) command `%s`", p->line);
		else
			snprintf(buf, len, "a redis (RESP) array");
		break;
	case PROTO_PG_SSL_REQUEST:
		snprintf(buf, len, "a PostgreSQL SSLRequest");
		break;
	case PROTO_PG_STARTUP:
		snprintf(buf, len, "a PostgreSQL startup message");
		break;
	case PROTO_PG_SSL_ANSWER:
		snprintf(buf, len, "`%c` (%s)", p->pg_answer,
			 p->pg_answer == 'N' ? "no TLS here" : "go ahead with TLS");
		break;
	case PROTO_SSH:
		snprintf(buf, len, "the SSH banner `%s`", p->line);
		break;
	case PROTO_JSON_RPC:
		snprintf(buf, len, "a JSON-RPC message");
		break;
	case PROTO_UNKNOWN:
		snprintf(buf, len, "bytes of no protocol lotrace knows");
		break;
	case PROTO_NONE:
	case PROTO_KIND_COUNT:
		snprintf(buf, len, "nothing");
		break;
	}
}
