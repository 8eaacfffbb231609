/* guest/ratls/socks5.c: the SOCKS5 request parser and replies of cocoon-ratls. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "guest/ratls/socks5.h"

/* Parse the whole request in hex; returns the parser's result. */
static int parse_hex(const char *hex, struct sockaddr_storage *dst, socklen_t *dl, struct cm_err *e)
{
	size_t n;
	uint8_t *p = hex_to_bytes(hex, &n);
	int r = cr_socks5_request_parse(p, n, dst, dl, e);
	free(p);
	return r;
}

/* A CONNECT request for a host name (address type 3). */
static int parse_name(const char *name, uint16_t port, struct sockaddr_storage *dst, socklen_t *dl, struct cm_err *e)
{
	uint8_t p[5 + 255 + 2] = {5, 1, 0, 3, (uint8_t)strlen(name)};
	memcpy(p + 5, name, strlen(name));
	p[5 + strlen(name)] = (uint8_t)(port >> 8);
	p[6 + strlen(name)] = (uint8_t)port;
	return cr_socks5_request_parse(p, 7 + strlen(name), dst, dl, e);
}

/* dst holds ip:port, of the family of ip. */
static void assert_addr(const struct sockaddr_storage *ss, socklen_t len, const char *ip, uint16_t port)
{
	bool v6 = strchr(ip, ':') != NULL;
	const struct sockaddr_in *a4 = (const void *)ss;
	const struct sockaddr_in6 *a6 = (const void *)ss;
	char h[INET6_ADDRSTRLEN];
	assert_int_equal(ss->ss_family, v6 ? AF_INET6 : AF_INET);
	assert_int_equal(len, v6 ? sizeof(*a6) : sizeof(*a4));
	assert_string_equal(inet_ntop(ss->ss_family, v6 ? (const void *)&a6->sin6_addr : (const void *)&a4->sin_addr, h,
				      sizeof(h)), ip);
	assert_int_equal(ntohs(v6 ? a6->sin6_port : a4->sin_port), port);
}

/* IPv4, IPv6, and numeric addresses sent as names (taken as is). */
static void test_socks5_requests_taken(void **state)
{
	(void)state;
	static const struct {
		const char *hex, *ip;
		uint16_t port;
	} ok[] = {
		{"050100010a0000022af8", "10.0.0.2", 11000},
		{"05010004" "fe800000000000000000000000000001" "01bb", "fe80::1", 443},
		{"0501000308" "31302e302e302e32" "2af8", "10.0.0.2", 11000},
		{"0501000303" "3a3a31" "206c", "::1", 8300},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct sockaddr_storage d;
		socklen_t dl = 0;
		struct cm_err e = {0};
		assert_int_equal(parse_hex(ok[i].hex, &d, &dl, &e), 1);
		assert_addr(&d, dl, ok[i].ip, ok[i].port);
	}
}

/* Host names are refused with "address type not supported" (0x08), never resolved. */
static void test_socks5_host_names_refused_with_0x08(void **state)
{
	(void)state;
	struct sockaddr_storage d;
	socklen_t dl = 0;
	struct cm_err e = {0};
	int r = parse_name("worker.example", 443, &d, &dl, &e);
	assert_int_equal(r, -EAFNOSUPPORT);
	assert_non_null(strstr(e.msg, "'worker.example': host names are not resolved"));
	assert_int_equal(cr_socks5_reply_for(r), CR_SOCKS5_ATYP_UNSUPPORTED);
	assert_int_equal(CR_SOCKS5_ATYP_UNSUPPORTED, 0x08);
	/* an unknown address type: the same reply */
	r = parse_hex("050100020a0000022af8", &d, &dl, &e);
	assert_int_equal(r, -EAFNOSUPPORT);
	assert_int_equal(cr_socks5_reply_for(r), 0x08);
}

static void test_socks5_bad_requests(void **state)
{
	(void)state;
	struct sockaddr_storage d;
	socklen_t dl = 0;
	struct cm_err e = {0};
	/* BIND (2): command not supported */
	int r = parse_hex("050200010a0000022af8", &d, &dl, &e);
	assert_int_equal(r, -ENOTSUP);
	assert_int_equal(cr_socks5_reply_for(r), 0x07);
	/* version 4, reserved byte set, empty or binary names: general failure */
	const char *bad[] = {"040100010a0000022af8", "050101010a0000022af8", "0501000300" "2af8", "0501000302" "410a" "2af8"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = parse_hex(bad[i], &d, &dl, &e);
		assert_int_equal(r, -EPROTO);
		assert_int_equal(cr_socks5_reply_for(r), CR_SOCKS5_GENERAL_FAILURE);
	}
}

/* The reader asks for exactly the request: 5 bytes, then the length of its address type. */
static void test_socks5_request_len_incremental(void **state)
{
	(void)state;
	struct sockaddr_storage d;
	socklen_t dl = 0;
	struct cm_err e = {0};
	uint8_t v4[] = {5, 1, 0, 1, 10, 0, 0, 2, 0x2a, 0xf8};
	assert_int_equal(cr_socks5_request_len(v4, 0), 5);
	assert_int_equal(cr_socks5_request_len(v4, 4), 5);
	assert_int_equal(cr_socks5_request_len(v4, 5), 10);
	for (size_t n = 0; n < sizeof(v4); n++)
		assert_int_equal(cr_socks5_request_parse(v4, n, &d, &dl, &e), 0);
	uint8_t v6[22] = {5, 1, 0, 4};
	assert_int_equal(cr_socks5_request_len(v6, 5), 22);
	uint8_t name[5] = {5, 1, 0, 3, 255};
	assert_int_equal(cr_socks5_request_len(name, 5), 5 + 255 + 2);
	uint8_t unknown[5] = {5, 1, 0, 9, 0};
	assert_int_equal(cr_socks5_request_len(unknown, 5), 5);
}

static void test_socks5_replies(void **state)
{
	(void)state;
	uint8_t r[CR_SOCKS5_REPLY_LEN];
	cr_socks5_reply_encode(CR_SOCKS5_SUCCEEDED, r);
	assert_hex_equal(r, "05000001000000000000");
	cr_socks5_reply_encode(CR_SOCKS5_HOST_UNREACHABLE, r);
	assert_hex_equal(r, "05050001000000000000");
	cr_socks5_reply_encode(CR_SOCKS5_NOT_ALLOWED, r);
	assert_hex_equal(r, "05020001000000000000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socks5_requests_taken),
		cmocka_unit_test(test_socks5_host_names_refused_with_0x08),
		cmocka_unit_test(test_socks5_bad_requests),
		cmocka_unit_test(test_socks5_request_len_incremental),
		cmocka_unit_test(test_socks5_replies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
