/* libFuzzer target: the tree's one decimal parser and one base64 reader (measure/core/util.h),
 * against references: cm_parse_u64 agrees with strtoull wherever the text is digits only and
 * fits, and refuses everything else; a text cm_base64_decode takes encodes back to itself
 * (EVP_EncodeBlock), and its length is what the text says. The first input byte picks the
 * parser, the rest is the text. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "measure/core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_u64(const char *s, size_t n)
{
	uint64_t v = 7, lo = n ? (uint8_t)s[0] % 3 : 0, hi = UINT64_MAX - (n ? (uint8_t)s[n - 1] % 2 : 0);
	int rc = cm_parse_u64(s, lo, hi, &v);
	size_t digits = strspn(s, "0123456789");
	if (digits != n || n == 0) {
		if (rc != -EINVAL || v != 7)
			abort(); /* anything but digits is refused and stores nothing */
		return;
	}
	errno = 0;
	char *end;
	unsigned long long ref = strtoull(s, &end, 10);
	bool fits = errno != ERANGE && ref >= lo && ref <= hi;
	if (fits ? rc != 0 || v != ref : rc != -EINVAL || v != 7)
		abort();
}

static void check_base64(const char *s, size_t n, bool spaces)
{
	uint8_t out[96];
	size_t got = 0;
	int rc = cm_base64_decode(s, n, spaces, out, sizeof out, &got);
	if (rc == -ENOSPC || rc == -EBADMSG)
		return;
	if (rc != 0 || got > sizeof out)
		abort();
	char text[4 * sizeof out / 3 + 8], back[4 * sizeof out / 3 + 8];
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!(spaces && s[i] && strchr(" \t\r\n", s[i])))
			text[k++] = s[i];
	text[k] = 0;
	if (k != 4 * ((got + 2) / 3))
		abort(); /* the length the text says */
	EVP_EncodeBlock((unsigned char *)back, out, (int)got);
	if (strcmp(back, text))
		abort(); /* canonical: taken text is the encoding of what it gave */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 200)
		return 0;
	char s[201];
	memcpy(s, data + 1, size - 1);
	s[size - 1] = 0;
	size_t n = strlen(s); /* the parsers take C strings */
	switch (data[0] % 3) {
	case 0: check_u64(s, n); break;
	case 1: check_base64(s, n, false); break;
	default: check_base64(s, n, true); break;
	}
	return 0;
}
