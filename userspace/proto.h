/* SPDX-License-Identifier: MIT */
/*
 * proto.h - which protocol each side of a connection spoke, from its first
 * payload bytes, and whether the two sides agree.
 *
 * Owns: classifying the first up to PROTO_HEAD_MAX payload bytes of one
 * direction (TLS ClientHello/ServerHello/alert, HTTP/1.x request and status
 * line, the HTTP/2 prior-knowledge preface, RESP, PostgreSQL startup and
 * SSLRequest with the server's one-byte answer, an SSH banner, JSON-RPC),
 * naming a mismatch between the two sides, and the short words for both.
 * Only the first line of a text protocol is ever kept: never headers,
 * never bodies. Every byte is read through cursor.h.
 * Does not own: keeping the bytes (flow.c), findings (diagnose.c).
 */
#ifndef LT_PROTO_H
#define LT_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* Payload bytes kept per direction of a connection. */
#define PROTO_HEAD_MAX 64

enum proto_kind {
	PROTO_NONE = 0, /* no payload bytes seen (or not kept) */
	PROTO_UNKNOWN,	/* bytes, none of the protocols below */
	PROTO_TLS_CLIENT_HELLO,
	PROTO_TLS_SERVER_HELLO,
	PROTO_TLS_ALERT,
	PROTO_TLS_RECORD, /* another TLS record */
	PROTO_HTTP_REQUEST,
	PROTO_HTTP_RESPONSE,
	PROTO_HTML,	  /* an HTML page with no status line: an
				  * HTTP/0.9-style error answer (Python's
				  * http.server to a line it cannot parse) */
	PROTO_H2_PREFACE, /* "PRI * HTTP/2.0": HTTP/2 prior knowledge */
	PROTO_RESP,	  /* redis serialization protocol */
	PROTO_PG_SSL_REQUEST,
	PROTO_PG_STARTUP,
	PROTO_PG_SSL_ANSWER, /* the server's 'S' or 'N' to an SSLRequest */
	PROTO_SSH,
	PROTO_JSON_RPC,
	PROTO_KIND_COUNT,
};

struct proto_id {
	uint8_t kind;			 /* enum proto_kind */
	uint8_t alert_level, alert_desc; /* TLS alert */
	char pg_answer;			 /* 'S' or 'N' */
	uint16_t tls_version;		 /* version in the hello (or record), e.g. 0x0303 */
	uint16_t status;		 /* HTTP response status */
	/* The first line (HTTP request or status line, SSH banner), or the
	 * command (RESP), printable ASCII only, cut at the bytes kept. */
	char line[PROTO_HEAD_MAX + 4];
	char sni[PROTO_HEAD_MAX]; /* TLS ClientHello server name, when kept */
};

/* What the two sides' first bytes say about each other. */
enum proto_clash {
	PROTO_CLASH_NONE = 0,
	PROTO_CLASH_TLS_TO_PLAIN, /* client TLS, server answered in clear text */
	PROTO_CLASH_PLAIN_TO_TLS, /* client clear text, server answered TLS */
	PROTO_CLASH_H2_TO_HTTP1,  /* HTTP/2 prior knowledge, HTTP/1.x answer */
	PROTO_CLASH_OTHER,	  /* two different known protocols */
	PROTO_CLASH_SSL_REFUSED,  /* PostgreSQL SSLRequest answered 'N' */
	/* Not from the bytes alone (the caller decides, diagnose.c): an HTTP
	 * request the server closed or reset without a byte, as a TLS server
	 * (OpenSSL) does with plain HTTP. */
	PROTO_CLASH_HTTP_UNANSWERED,
	PROTO_CLASH_COUNT,
};

/*
 * Classify n bytes (n <= PROTO_HEAD_MAX is all that is looked at) of one
 * direction. client: what the other side sent first when b is the
 * server's, or NULL (needed for PostgreSQL's one-byte answer).
 */
void proto_classify(const uint8_t *b, size_t n, const struct proto_id *client,
		    struct proto_id *out);

enum proto_clash proto_clash(const struct proto_id *c, const struct proto_id *s);

/* Stable names: "tls-client-hello", "http-request"... and "tls-to-plain"... */
const char *proto_kind_name(enum proto_kind k);
const char *proto_clash_name(enum proto_clash c);
/* The protocol family a kind belongs to: "TLS", "HTTP/1", "HTTP/2",
 * "RESP", "PostgreSQL", "SSH", "JSON-RPC", or "" for none/unknown. */
const char *proto_family(enum proto_kind k);
/* "TLS 1.2" for 0x0303...; "" for 0. */
const char *proto_tls_version_name(uint16_t v);
const char *proto_tls_alert_name(uint8_t desc);

/* Words for what one side sent, e.g. "a TLS ClientHello (TLS 1.2, SNI
 * `example.com`)", "`GET /v1/models HTTP/1.1`", "RESP (redis) `PING`".
 * Markdown code spans; always NUL-terminated. */
void proto_describe(const struct proto_id *p, char *buf, size_t len);

#endif
