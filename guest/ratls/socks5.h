/* The SOCKS5 wire format of cocoon-ratls' socks5 listeners (RFC 1928, CONNECT with no
 * authentication only): the greeting, the request parser and the replies. Pure functions
 * over bytes (no sockets): the socks5 states (mode_socks5.c) read and write, this file
 * decides. Host names are refused (reply CR_SOCKS5_ATYP_UNSUPPORTED), never resolved. */
#ifndef COCOON_RATLS_SOCKS5_H
#define COCOON_RATLS_SOCKS5_H

#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "measure/core/util.h"

#define CR_SOCKS5_VERSION 5
#define CR_SOCKS5_REPLY_LEN 10 /* VER REP RSV ATYP=1 0.0.0.0:0 */

/* Reply codes (RFC 1928 section 6) the proxy sends. */
enum cr_socks5_reply {
	CR_SOCKS5_SUCCEEDED = 0x00,
	CR_SOCKS5_GENERAL_FAILURE = 0x01,
	CR_SOCKS5_NOT_ALLOWED = 0x02,        /* the target's attestation was refused */
	CR_SOCKS5_HOST_UNREACHABLE = 0x05,   /* RFC: "connection refused"; connect, PoW or TLS failed */
	CR_SOCKS5_CMD_UNSUPPORTED = 0x07,
	CR_SOCKS5_ATYP_UNSUPPORTED = 0x08,   /* also: host names (never resolved) */
};

/* Address types of a request. */
enum cr_socks5_atyp { CR_SOCKS5_ATYP_IPV4 = 1, CR_SOCKS5_ATYP_NAME = 3, CR_SOCKS5_ATYP_IPV6 = 4 };

/* Method byte of the greeting reply: no authentication, no acceptable method. */
enum cr_socks5_method { CR_SOCKS5_NO_AUTH = 0x00, CR_SOCKS5_NO_METHOD = 0xff };

/* Bytes of the request known so far to be needed, given the len bytes in p (5 until the
 * address type and a name's length are in). Never more than 5 + 255 + 2. */
size_t cr_socks5_request_len(const uint8_t *p, size_t len);

/* Parse a request: 1 complete (*dst set), 0 need more bytes, <0 refused: -ENOTSUP (not
 * CONNECT), -EAFNOSUPPORT (unknown address type or a host name that is not a numeric
 * address), -EPROTO (malformed). */
int cr_socks5_request_parse(const uint8_t *p, size_t len, struct sockaddr_storage *dst, socklen_t *dst_len,
			    struct cm_err *e);

/* The reply code for an error of cr_socks5_request_parse(). */
enum cr_socks5_reply cr_socks5_reply_for(int err);

/* A reply with code rep and bound address 0.0.0.0:0. */
void cr_socks5_reply_encode(enum cr_socks5_reply rep, uint8_t out[CR_SOCKS5_REPLY_LEN]);

#endif
