/* SPDX-License-Identifier: MIT */
/*
 * test_proto.c - proto.h on the first bytes real clients and servers
 * send: a ClientHello from Python's ssl (OpenSSL 3), a TLS alert, HTTP
 * request and status lines as curl and python's http.server write them,
 * the HTTP/2 preface, a redis-cli command, PostgreSQL's SSLRequest and
 * startup, an OpenSSH banner, JSON-RPC; cut input; the mismatches.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto.h"

/* First 64 bytes of a ClientHello from Python 3 ssl (OpenSSL 3.0),
 * server_hostname "api.example": the SNI lies beyond them. */
static const uint8_t client_hello[64] = {
	0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0x0c, 0x6d,
	0x37, 0x51, 0xc2, 0x59, 0x86, 0xeb, 0xd5, 0x50, 0x09, 0x69, 0x05, 0x8d, 0x14,
	0x89, 0xe3, 0x8f, 0x3b, 0xc5, 0xf5, 0x01, 0xda, 0x80, 0x5d, 0x3c, 0x91, 0x0c,
	0x65, 0xf6, 0xfa, 0x1b, 0x20, 0x91, 0x0c, 0xd2, 0x21, 0x21, 0x29, 0x23, 0x84,
	0xc2, 0x2c, 0xb2, 0x08, 0xcf, 0x27, 0x31, 0x2f, 0x9d, 0x1c, 0x1d, 0x4e,
};

/* A short ClientHello (no session id, one suite, SNI "db"): fits. */
static const uint8_t
	short_hello
		[] = {
			0x16, 0x03, 0x01, 0x00, 0x3b, 0x01, 0x00, 0x00, 0x37, 0x03, 0x03, 1,
			2,    3,    4,	  5,	6,    7,    8,	  9,	10,   11,   12,	  13,
			14,   15,   16,	  17,	18,   19,   20,	  21,	22,   23,   24,	  25,
			26,   27,   28,	  29,	30,   31,   32,	  0x00, /* session id length */
			0x00, 0x02, 0x13, 0x01,				/* cipher suites */
			0x01, 0x00,					/* compression */
			0x00, 0x0b,					/* extensions length */
			0x00, 0x00, 0x00, 0x07, 0x00, 0x05, 0x00, 0x00, 0x02, 'd',  'b',
		};

/* What OpenSSL sends before closing on a bad handshake: fatal
 * protocol_version. */
static const uint8_t alert[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46 };

static const uint8_t pg_ssl[] = { 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f };
static const uint8_t pg_startup[] = { 0,   0, 0,   0x21, 0,   3,   0,	0,   'u', 's', 'e',
				      'r', 0, 'p', 'o',	 's', 't', 'g', 'r', 'e', 's', 0 };

#define STR(s) (const uint8_t *)(s), sizeof(s) - 1

static void test_tls(void **state)
{
	(void)state;
	struct proto_id p;
	char w[200];

	proto_classify(client_hello, sizeof(client_hello), NULL, &p);
	assert_int_equal(p.kind, PROTO_TLS_CLIENT_HELLO);
	assert_int_equal(p.tls_version, 0x0303);
	assert_string_equal(p.sni, "");
	proto_describe(&p, w, sizeof(w));
	assert_string_equal(w, "a TLS ClientHello (TLS 1.2)");

	proto_classify(short_hello, sizeof(short_hello), NULL, &p);
	assert_int_equal(p.kind, PROTO_TLS_CLIENT_HELLO);
	assert_string_equal(p.sni, "db");
	proto_describe(&p, w, sizeof(w));
	assert_string_equal(w, "a TLS ClientHello (TLS 1.2, SNI `db`)");
	/* cut one byte before the name ends: no SNI, still a hello */
	proto_classify(short_hello, sizeof(short_hello) - 1, NULL, &p);
	assert_int_equal(p.kind, PROTO_TLS_CLIENT_HELLO);
	assert_string_equal(p.sni, "");

	proto_classify(alert, sizeof(alert), NULL, &p);
	assert_int_equal(p.kind, PROTO_TLS_ALERT);
	proto_describe(&p, w, sizeof(w));
	assert_string_equal(w, "a TLS fatal alert `protocol_version` (70)");

	/* three bytes of a record header are not enough to call it TLS */
	proto_classify(client_hello, 3, NULL, &p);
	assert_int_not_equal(p.kind, PROTO_TLS_CLIENT_HELLO);
}

static void test_http(void **state)
{
	(void)state;
	struct proto_id p;
	char w[200];

	proto_classify(STR("GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: "
			   "curl/7.88.1\r\n"),
		       NULL, &p);
	assert_int_equal(p.kind, PROTO_HTTP_REQUEST);
	assert_string_equal(p.line, "GET /v1/models HTTP/1.1");
	proto_describe(&p, w, sizeof(w));
	assert_string_equal(w, "`GET /v1/models HTTP/1.1`");

	/* a request line longer than the bytes kept: cut, never more */
	static const char longreq[] =
		"POST /api/v2/some/very/long/path/that/goes/on/and/on/and/on HTTP/1.1\r\n";
	proto_classify((const uint8_t *)longreq, sizeof(longreq) - 1, NULL, &p);
	assert_int_equal(p.kind, PROTO_HTTP_REQUEST);
	assert_int_equal(strlen(p.line), PROTO_HEAD_MAX);
	assert_memory_equal(p.line, longreq, PROTO_HEAD_MAX);

	proto_classify(
		STR("HTTP/1.0 404 File not found\r\nServer: SimpleHTTP/0.6 Python/3.11.2\r\n"),
		NULL, &p);
	assert_int_equal(p.kind, PROTO_HTTP_RESPONSE);
	assert_int_equal(p.status, 404);
	assert_string_equal(p.line, "HTTP/1.0 404 File not found");

	proto_classify(STR("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04\x00"), NULL, &p);
	assert_int_equal(p.kind, PROTO_H2_PREFACE);

	/* not HTTP: lower-case, no space, a digit */
	proto_classify(STR("get / HTTP/1.1\r\n"), NULL, &p);
	assert_int_equal(p.kind, PROTO_UNKNOWN);
	proto_classify(STR("USER anonymous\r\nPASS x\r\n"), NULL, &p); /* FTP */
	assert_int_equal(p.kind, PROTO_UNKNOWN);
	proto_classify(STR("GET /x\r\n"), NULL, &p); /* no version: not kept as HTTP */
	assert_int_equal(p.kind, PROTO_UNKNOWN);
	proto_classify(STR("HTTP/1.1 2x0 OK\r\n"), NULL, &p);
	assert_int_equal(p.kind, PROTO_UNKNOWN);
}

static void test_others(void **state)
{
	(void)state;
	struct proto_id p, c;
	char w[200];

	proto_classify(STR("*1\r\n$4\r\nPING\r\n"), NULL, &p);
	assert_int_equal(p.kind, PROTO_RESP);
	assert_string_equal(p.line, "PING");
	proto_describe(&p, w, sizeof(w));
	assert_string_equal(w, "a redis (RESP) command `PING`");
	proto_classify(STR("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"), NULL, &p);
	assert_string_equal(p.line, "SET");

	proto_classify(pg_ssl, sizeof(pg_ssl), NULL, &c);
	assert_int_equal(c.kind, PROTO_PG_SSL_REQUEST);
	proto_classify(STR("N"), &c, &p);
	assert_int_equal(p.kind, PROTO_PG_SSL_ANSWER);
	assert_int_equal(p.pg_answer, 'N');
	/* one 'N' is no PostgreSQL answer without the request */
	proto_classify(STR("N"), NULL, &p);
	assert_int_equal(p.kind, PROTO_UNKNOWN);
	proto_classify(pg_startup, sizeof(pg_startup), NULL, &p);
	assert_int_equal(p.kind, PROTO_PG_STARTUP);

	proto_classify(STR("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"), NULL, &p);
	assert_int_equal(p.kind, PROTO_SSH);
	assert_string_equal(p.line, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3");

	proto_classify(STR("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\"}"), NULL, &p);
	assert_int_equal(p.kind, PROTO_JSON_RPC);
	proto_classify(STR("Content-Length: 120\r\n\r\n{\"jsonrpc\":\"2.0\""), NULL, &p);
	assert_int_equal(p.kind, PROTO_JSON_RPC);
	proto_classify(STR("{\"model\":\"x\"}"), NULL, &p);
	assert_int_equal(p.kind, PROTO_UNKNOWN);

	proto_classify(NULL, 0, NULL, &p);
	assert_int_equal(p.kind, PROTO_NONE);
	/* binary garbage: unknown, and a line never holds it */
	static const uint8_t junk[] = { 0x00, 0xff, 0x7f, 0x80, 0x01 };
	proto_classify(junk, sizeof(junk), NULL, &p);
	assert_int_equal(p.kind, PROTO_UNKNOWN);
	assert_string_equal(p.line, "");
}

/* Every first byte a recogniser accepts (proto.c screens the first byte
 * before trying them): each method, white space before JSON-RPC and HTML,
 * a JSON-RPC batch; and payload that starts with none of them. */
static void test_first_bytes(void **state)
{
	(void)state;
	struct proto_id p;
	static const char *const requests[] = {
		"GET / HTTP/1.1\r\n",	  "POST /a HTTP/1.1\r\n",     "PUT /a HTTP/1.1\r\n",
		"DELETE /a HTTP/1.1\r\n", "HEAD / HTTP/1.0\r\n",      "OPTIONS * HTTP/1.1\r\n",
		"PATCH /a HTTP/1.1\r\n",  "CONNECT h:1 HTTP/1.1\r\n", "TRACE / HTTP/1.1\r\n",
	};
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
		proto_classify((const uint8_t *)requests[i], strlen(requests[i]), NULL, &p);
		assert_int_equal(p.kind, PROTO_HTTP_REQUEST);
	}
	proto_classify(STR("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), NULL, &p);
	assert_int_equal(p.kind, PROTO_H2_PREFACE);
	proto_classify(STR(" \t\r\n<html><body>"), NULL, &p);
	assert_int_equal(p.kind, PROTO_HTML);
	proto_classify(STR("\n{\"jsonrpc\":\"2.0\",\"id\":1}"), NULL, &p);
	assert_int_equal(p.kind, PROTO_JSON_RPC);
	proto_classify(STR("\t[{\"jsonrpc\":\"2.0\",\"id\":1}]"), NULL, &p);
	assert_int_equal(p.kind, PROTO_JSON_RPC);
	proto_classify(STR("\r<!doctype html>"), NULL, &p);
	assert_int_equal(p.kind, PROTO_HTML);
	static const uint8_t tls_data[] = { 0x17, 0x03, 0x03, 0x00, 0x10, 0xaa };
	proto_classify(tls_data, sizeof(tls_data), NULL, &p);
	assert_int_equal(p.kind, PROTO_TLS_RECORD);
	static const uint8_t tls_ccs[] = { 0x14, 0x03, 0x03, 0x00, 0x01, 0x01 };
	proto_classify(tls_ccs, sizeof(tls_ccs), NULL, &p);
	assert_int_equal(p.kind, PROTO_TLS_RECORD);

	/* no protocol starts with these: unknown, nothing else set */
	static const char *const others[] = { "xxxxxxxx", "hello\r\n", "\xff\xfe", "ABC", "1" };
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		proto_classify((const uint8_t *)others[i], strlen(others[i]), NULL, &p);
		assert_int_equal(p.kind, PROTO_UNKNOWN);
		assert_string_equal(p.line, "");
		assert_string_equal(p.sni, "");
		assert_int_equal(p.tls_version, 0);
	}
}

static enum proto_clash clash(const uint8_t *c, size_t nc, const uint8_t *s, size_t ns)
{
	struct proto_id pc, ps;
	proto_classify(c, nc, NULL, &pc);
	proto_classify(s, ns, &pc, &ps);
	return proto_clash(&pc, &ps);
}

static void test_clash(void **state)
{
	(void)state;
	/* TLS to python's http.server */
	assert_int_equal(clash(client_hello, sizeof(client_hello),
			       STR("HTTP/1.0 400 Bad request version ('\\x03...')\r\n")),
			 PROTO_CLASH_TLS_TO_PLAIN);
	/* plain HTTP to a TLS server that sent an alert */
	assert_int_equal(clash(STR("GET / HTTP/1.1\r\n"), alert, sizeof(alert)),
			 PROTO_CLASH_PLAIN_TO_TLS);
	assert_int_equal(clash(STR("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
			       STR("HTTP/1.0 505 Invalid HTTP version (2.0)\r\n")),
			 PROTO_CLASH_H2_TO_HTTP1);
	assert_int_equal(clash(STR("*1\r\n$4\r\nPING\r\n"),
			       STR("HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n")),
			 PROTO_CLASH_OTHER);
	/* python's http.server answers what it cannot parse with a bare page */
	static const char page[] = "<!DOCTYPE HTML>\n<html lang=\"en\">\n    <head>\n";
	assert_int_equal(clash(STR("*1\r\n$4\r\nPING\r\n"), STR(page)), PROTO_CLASH_OTHER);
	assert_int_equal(clash(client_hello, sizeof(client_hello), STR(page)),
			 PROTO_CLASH_TLS_TO_PLAIN);
	assert_int_equal(clash(STR("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), STR(page)),
			 PROTO_CLASH_H2_TO_HTTP1);
	assert_int_equal(clash(pg_ssl, sizeof(pg_ssl), STR("N")), PROTO_CLASH_SSL_REFUSED);
	assert_int_equal(clash(pg_ssl, sizeof(pg_ssl), STR("S")), PROTO_CLASH_NONE);
	/* agreeing sides, an unanswered side, unknown bytes: no clash */
	assert_int_equal(clash(STR("GET / HTTP/1.1\r\n"), STR("HTTP/1.1 200 OK\r\n")),
			 PROTO_CLASH_NONE);
	assert_int_equal(clash(client_hello, sizeof(client_hello), NULL, 0), PROTO_CLASH_NONE);
	assert_int_equal(clash(STR("\x01\x02"), STR("HTTP/1.1 400 Bad Request\r\n")),
			 PROTO_CLASH_NONE);
	assert_string_equal(proto_clash_name(PROTO_CLASH_TLS_TO_PLAIN), "tls-to-plain");
	assert_string_equal(proto_kind_name(PROTO_H2_PREFACE), "http2-preface");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls),    cmocka_unit_test(test_http),
		cmocka_unit_test(test_others), cmocka_unit_test(test_first_bytes),
		cmocka_unit_test(test_clash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
