/* The SOCKS5 wire format (see socks5.h). */
#include "guest/ratls/socks5.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

/* Request bytes for address type atyp (p[3]); 0 when the type is unknown. */
static size_t request_need(const uint8_t *p)
{
	switch (p[3]) {
	case CR_SOCKS5_ATYP_IPV4: return 4 + 4 + 2;
	case CR_SOCKS5_ATYP_IPV6: return 4 + 16 + 2;
	case CR_SOCKS5_ATYP_NAME: return 5 + (size_t)p[4] + 2;
	default: return 0;
	}
}

size_t cr_socks5_request_len(const uint8_t *p, size_t len)
{
	if (len < 5)
		return 5;
	size_t need = request_need(p);
	return need ? need : 5; /* cr_socks5_request_parse() rejects it */
}

int cr_socks5_request_parse(const uint8_t *p, size_t len, struct sockaddr_storage *dst, socklen_t *dst_len,
			    struct cm_err *e)
{
	if (len < 5)
		return 0;
	if (p[0] != CR_SOCKS5_VERSION || p[2] != 0)
		return cm_fail(e, -EPROTO, "bad SOCKS5 request header");
	if (p[1] != 1)
		return cm_fail(e, -ENOTSUP, "SOCKS5 command %u not supported (CONNECT only)", p[1]);
	size_t need = request_need(p);
	if (!need)
		return cm_fail(e, -EAFNOSUPPORT, "SOCKS5 address type %u unknown", p[3]);
	if (len < need)
		return 0;
	uint16_t port = (uint16_t)(p[need - 2] << 8 | p[need - 1]);
	memset(dst, 0, sizeof(*dst));
	if (p[3] == CR_SOCKS5_ATYP_IPV4) {
		struct sockaddr_in *a = (void *)dst;
		a->sin_family = AF_INET;
		memcpy(&a->sin_addr, p + 4, 4);
		a->sin_port = htons(port);
		*dst_len = sizeof(*a);
	} else if (p[3] == CR_SOCKS5_ATYP_IPV6) {
		struct sockaddr_in6 *a = (void *)dst;
		a->sin6_family = AF_INET6;
		memcpy(&a->sin6_addr, p + 4, 16);
		a->sin6_port = htons(port);
		*dst_len = sizeof(*a);
	} else {
		/* Host names are refused, never resolved: DNS is the host's (a blocking lookup
		 * would stall the loop, and the answer is untrusted anyway); Cocoon's clients
		 * send addresses. A numeric address sent as a name is taken as is. */
		char host[256];
		size_t hl = p[4];
		if (!hl)
			return cm_fail(e, -EPROTO, "SOCKS5 empty host name");
		memcpy(host, p + 5, hl);
		host[hl] = 0;
		for (size_t i = 0; i < hl; i++)
			if (host[i] <= 0x20 || host[i] >= 0x7f)
				return cm_fail(e, -EPROTO, "SOCKS5 host name has invalid characters");
		struct sockaddr_in *a4 = (void *)dst;
		struct sockaddr_in6 *a6 = (void *)dst;
		if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
			a4->sin_family = AF_INET;
			a4->sin_port = htons(port);
			*dst_len = sizeof(*a4);
		} else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
			a6->sin6_family = AF_INET6;
			a6->sin6_port = htons(port);
			*dst_len = sizeof(*a6);
		} else {
			return cm_fail(e, -EAFNOSUPPORT, "SOCKS5 host name '%s': host names are not resolved", host);
		}
	}
	return 1;
}

enum cr_socks5_reply cr_socks5_reply_for(int err)
{
	return err == -ENOTSUP ? CR_SOCKS5_CMD_UNSUPPORTED
		: err == -EAFNOSUPPORT ? CR_SOCKS5_ATYP_UNSUPPORTED : CR_SOCKS5_GENERAL_FAILURE;
}

void cr_socks5_reply_encode(enum cr_socks5_reply rep, uint8_t out[CR_SOCKS5_REPLY_LEN])
{
	static const uint8_t tmpl[CR_SOCKS5_REPLY_LEN] = {CR_SOCKS5_VERSION, 0, 0, CR_SOCKS5_ATYP_IPV4, 0, 0, 0, 0, 0, 0};
	memcpy(out, tmpl, sizeof(tmpl));
	out[1] = (uint8_t)rep;
}
