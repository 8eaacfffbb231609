/* libFuzzer target: cocoon-ratls' SOCKS5 request parser (socks_request() and
 * socks_request_len(), static in guest/ratls/proxy.c, which this file includes so that
 * the very code of the proxy runs). The input is what a local SOCKS5 client sends after
 * the greeting; it is fed the way the proxy's ST_S_REQUEST state reads it: only as many
 * bytes as socks_request_len() asks for, then the parser, until it completes or fails.
 * Host names are never resolved (only numeric addresses are taken): a getaddrinfo call
 * aborts. */
#include <netdb.h>

#include "guest/ratls/proxy.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res);

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res)
{
	(void)node, (void)service, (void)hints, (void)res;
	abort(); /* the SOCKS5 parser must not reach a resolver */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conn c;
	memset(&c, 0, sizeof(c));
	struct cm_err e = {0};
	size_t used = 0;
	for (;;) {
		size_t need = socks_request_len(&c);
		if (need > sizeof(c.pre))
			abort(); /* pre_read() would overrun the preamble buffer */
		if (c.pre_len < need) {
			size_t n = need - c.pre_len;
			if (n > size - used)
				n = size - used;
			memcpy(c.pre + c.pre_len, data + used, n);
			c.pre_len += n;
			used += n;
		}
		int r = socks_request(&c, &e);
		if (r < 0)
			break;
		if (r > 0) {
			sa_family_t f = c.dst.ss_family;
			if ((f != AF_INET && f != AF_INET6) || c.dst_len == 0 || c.dst_len > sizeof(c.dst))
				abort();
			break;
		}
		if (c.pre_len < socks_request_len(&c) && used == size)
			break; /* waits for more bytes than the input has */
	}
	return 0;
}
