/* RA-TLS endpoint addresses (see addr.h). */
#include "measure/ratls/addr.h"

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

int cr_parse_addr(const char *s, bool resolve, struct sockaddr_storage *ss, socklen_t *len, struct cm_err *e)
{
	char host[256] = "0.0.0.0";
	const char *port;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof(host))
			return cm_fail(e, -EINVAL, "bad address '%s'", s);
		memcpy(host, s + 1, (size_t)(end - s - 1));
		host[end - s - 1] = 0;
		port = end + 2;
	} else if (strchr(s, ':')) {
		const char *c = strrchr(s, ':');
		if ((size_t)(c - s) >= sizeof(host) || c == s)
			return cm_fail(e, -EINVAL, "bad address '%s'", s);
		memcpy(host, s, (size_t)(c - s));
		host[c - s] = 0;
		port = c + 1;
	} else {
		port = s;
	}
	uint64_t p;
	if (cm_parse_u64(port, 0, 65535, &p))
		return cm_fail(e, -EINVAL, "bad port in '%s'", s);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res = NULL;
	if (!resolve)
		hints.ai_flags |= AI_NUMERICHOST;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc || !res)
		return cm_fail(e, -EINVAL, "cannot resolve '%s': %s", s, gai_strerror(rc));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}
