/* libFuzzer target: cocoon-ratls' SOCKS5 request parser (guest/ratls/socks5.h), the very
 * code the proxy runs. The input is what a local SOCKS5 client sends after the greeting;
 * it is fed the way the proxy's ST_S_REQUEST state reads it (guest/ratls/mode_socks5.c):
 * only as many bytes as cr_socks5_request_len() asks for, then the parser, until it
 * completes or fails. Host names are never resolved (only numeric addresses are taken): a
 * getaddrinfo call aborts. */
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "guest/ratls/socks5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res);

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res)
{
	(void)node, (void)service, (void)hints, (void)res;
	abort(); /* the SOCKS5 parser must not reach a resolver */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t pre[300]; /* the size of the proxy's preamble buffer (struct conn.pre) */
	size_t pre_len = 0, used = 0;
	struct sockaddr_storage dst;
	socklen_t dst_len = 0;
	struct cm_err e = {0};
	for (;;) {
		size_t need = cr_socks5_request_len(pre, pre_len);
		if (need > sizeof(pre))
			abort(); /* the proxy's read would overrun the preamble buffer */
		if (pre_len < need) {
			size_t n = need - pre_len;
			if (n > size - used)
				n = size - used;
			memcpy(pre + pre_len, data + used, n);
			pre_len += n;
			used += n;
		}
		int r = cr_socks5_request_parse(pre, pre_len, &dst, &dst_len, &e);
		if (r < 0) {
			enum cr_socks5_reply rep = cr_socks5_reply_for(r);
			if (rep != CR_SOCKS5_CMD_UNSUPPORTED && rep != CR_SOCKS5_ATYP_UNSUPPORTED &&
			    rep != CR_SOCKS5_GENERAL_FAILURE)
				abort();
			break;
		}
		if (r > 0) {
			sa_family_t f = dst.ss_family;
			if ((f != AF_INET && f != AF_INET6) || dst_len == 0 || dst_len > sizeof(dst))
				abort();
			break;
		}
		if (pre_len < cr_socks5_request_len(pre, pre_len) && used == size)
			break; /* waits for more bytes than the input has */
	}
	return 0;
}
