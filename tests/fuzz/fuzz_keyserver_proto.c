/* libFuzzer target: the key server's parsers (guest/keyserver/proto.h): the first byte
 * picks the key request, the key response, the admin request (signature checked against a
 * fixed key) or a model string; the rest is the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guest/keyserver/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t admin_pub[32] = {1};
	struct cm_err e;
	if (size < 1)
		return 0;
	const char *p = (const char *)data + 1;
	size_t n = size - 1;
	switch (data[0] % 4) {
	case 0: {
		struct cks_model m;
		cks_request_parse(p, n, &m, &e);
		break;
	}
	case 1: {
		struct cks_response r;
		cks_response_parse(p, n, &r, &e);
		break;
	}
	case 2: {
		struct cks_admin a;
		cks_admin_parse(p, n, admin_pub, &a, &e);
		break;
	}
	default: {
		char *s = malloc(n + 1);
		if (!s)
			return 0;
		memcpy(s, p, n);
		s[n] = 0;
		struct cks_model m;
		cks_model_parse(s, &m, &e);
		free(s);
	}
	}
	return 0;
}
