/* libFuzzer target: the TON address parser (ton/addr.c): raw wc:hex and the user-friendly
 * base64/base64url forms. What parses must format back and parse to the same address. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ton/ton.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[128], out[80];
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
	memcpy(s, data, n);
	s[n] = 0;
	struct ton_addr a, b;
	unsigned flags;
	struct cm_err e;
	if (ton_addr_parse(s, &a, &flags, &e))
		return 0;
	ton_addr_friendly(&a, flags & ~TON_ADDR_RAW, out, sizeof(out));
	if (ton_addr_parse(out, &b, NULL, &e) || a.wc != b.wc || memcmp(a.hash, b.hash, 32))
		abort();
	ton_addr_raw(&a, out, sizeof(out));
	if (ton_addr_parse(out, &b, NULL, &e) || a.wc != b.wc || memcmp(a.hash, b.hash, 32))
		abort();
	uint8_t *dec;
	size_t dl;
	if (!ton_base64_decode(s, n, &dec, &dl))
		free(dec);
	return 0;
}
