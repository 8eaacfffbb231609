/* Addresses (TEP-2, specs/ton.md §5) and base64 through OpenSSL. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ton/ton.h"

char *ton_base64(const uint8_t *p, size_t n, bool urlsafe)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	if (!out)
		return NULL;
	int len = EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	if (urlsafe) {
		while (len > 0 && out[len - 1] == '=')
			out[--len] = 0;
		for (int i = 0; i < len; i++)
			out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	}
	return out;
}

int ton_base64_decode(const char *s, size_t slen, uint8_t **out, size_t *outlen)
{
	bool std = false, url = false;
	size_t pad = 0, n = slen;
	while (n > 0 && s[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	if (n % 4 == 1 || (pad && (n + pad) % 4))
		return -EINVAL;
	size_t full = (n + 3) / 4 * 4;
	char *t = malloc(full + 1);
	uint8_t *b = malloc(full / 4 * 3 + 1);
	if (!t || !b) {
		free(t);
		free(b);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '-' || c == '_') {
			url = true;
			c = c == '-' ? '+' : '/';
		} else if (c == '+' || c == '/') {
			std = true;
		} else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
			url = std = true; /* not base64 */
		}
		t[i] = c;
	}
	for (size_t i = n; i < full; i++)
		t[i] = '=';
	t[full] = 0;
	int len = (url && std) ? -1 : EVP_DecodeBlock(b, (unsigned char *)t, (int)full);
	free(t);
	if (len < 0) {
		free(b);
		return -EINVAL;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	*outlen = (size_t)len - (full - n);
	*out = b;
	return 0;
}

void ton_addr_raw(const struct ton_addr *a, char *out, size_t outsz)
{
	char hex[65];
	cm_hex_encode(a->hash, 32, hex, sizeof(hex));
	snprintf(out, outsz, "%d:%s", a->wc, hex);
}

void ton_addr_friendly(const struct ton_addr *a, unsigned flags, char *out, size_t outsz)
{
	uint8_t b[36];
	b[0] = (uint8_t)(((flags & TON_ADDR_BOUNCEABLE) ? 0x11 : 0x51) | ((flags & TON_ADDR_TESTNET) ? 0x80 : 0));
	b[1] = (uint8_t)a->wc;
	memcpy(b + 2, a->hash, 32);
	uint16_t crc = ton_crc16(b, 34);
	b[34] = (uint8_t)(crc >> 8);
	b[35] = (uint8_t)crc;
	char *s = ton_base64(b, sizeof(b), flags & TON_ADDR_URLSAFE);
	snprintf(out, outsz, "%s", s ? s : "");
	free(s);
}

static int parse_raw(const char *s, const char *colon, struct ton_addr *a, struct cm_err *e)
{
	/* an optional '-' and digits (cm_parse_u64: no '+', no space) */
	const char *d = s[0] == '-' ? s + 1 : s;
	char digits[4];
	uint64_t v;
	if (colon <= d || (size_t)(colon - d) >= sizeof(digits))
		return cm_fail(e, -EINVAL, "address '%s': bad workchain", s);
	memcpy(digits, d, (size_t)(colon - d));
	digits[colon - d] = 0;
	if (cm_parse_u64(digits, 0, d == s ? 127 : 128, &v))
		return cm_fail(e, -EINVAL, "address '%s': workchain must be an int8", s);
	int wc = d == s ? (int)v : -(int)v;
	if (strlen(colon + 1) != 64 || cm_hex_decode_exact(colon + 1, 64, a->hash, 32))
		return cm_fail(e, -EINVAL, "address '%s': want 64 hex digits after ':'", s);
	a->wc = (int8_t)wc;
	return 0;
}

int ton_addr_parse(const char *s, struct ton_addr *a, unsigned *flags, struct cm_err *e)
{
	unsigned f = 0;
	const char *colon = strchr(s, ':');
	if (colon) {
		int rc = parse_raw(s, colon, a, e);
		if (!rc && flags)
			*flags = TON_ADDR_RAW;
		return rc;
	}
	size_t n = strlen(s);
	if (n != TON_ADDR_FRIENDLY_LEN)
		return cm_fail(e, -EINVAL, "address '%.60s': %zu characters (want %d, or wc:hex)", s, n,
			       TON_ADDR_FRIENDLY_LEN);
	uint8_t *b = NULL;
	size_t blen = 0;
	if (ton_base64_decode(s, n, &b, &blen) || blen != 36) {
		free(b);
		return cm_fail(e, -EINVAL, "address '%s': not base64 or base64url", s);
	}
	uint16_t crc = ton_crc16(b, 34);
	uint8_t tag = b[0];
	int rc = 0;
	if (crc != (uint16_t)(b[34] << 8 | b[35]))
		rc = cm_fail(e, -EINVAL, "address '%s': CRC16 %02x%02x, computed %04x", s, b[34], b[35], crc);
	else if ((tag & 0x7f) != 0x11 && (tag & 0x7f) != 0x51)
		rc = cm_fail(e, -EINVAL, "address '%s': tag byte %02x (want 11/51, +80 testnet)", s, tag);
	if (!rc) {
		f = ((tag & 0x7f) == 0x11 ? TON_ADDR_BOUNCEABLE : 0) | ((tag & 0x80) ? TON_ADDR_TESTNET : 0) |
		    (strpbrk(s, "-_") ? TON_ADDR_URLSAFE : 0);
		a->wc = (int8_t)b[1];
		memcpy(a->hash, b + 2, 32);
		if (flags)
			*flags = f;
	}
	free(b);
	return rc;
}

void ton_b_addr(struct ton_builder *b, const struct ton_addr *a)
{
	ton_b_uint(b, 2, 2);          /* addr_std$10 */
	ton_b_bit(b, 0);              /* anycast nothing */
	ton_b_uint(b, (uint8_t)a->wc, 8);
	ton_b_bits(b, a->hash, 0, 256);
}

int ton_s_addr(struct ton_slice *s, struct ton_addr *a, struct cm_err *e)
{
	uint64_t tag, anycast, wc;
	if (ton_s_uint(s, 2, &tag))
		return cm_fail(e, -EBADMSG, "address: too few bits");
	if (tag != 2)
		return cm_fail(e, -EBADMSG, "address: constructor %llu%llu (only addr_std$10)",
			       (unsigned long long)(tag >> 1), (unsigned long long)(tag & 1));
	if (ton_s_uint(s, 1, &anycast) || anycast)
		return cm_fail(e, -EBADMSG, "address: anycast set or missing (not supported)");
	if (ton_s_uint(s, 8, &wc) || ton_s_bits(s, 256, a->hash))
		return cm_fail(e, -EBADMSG, "address: too few bits for addr_std");
	a->wc = (int8_t)(uint8_t)wc;
	return 0;
}
