#include "measure/core/der.h"

#include <errno.h>

int cm_der_next(struct cm_der *in, uint8_t *tag, struct cm_der *val)
{
	const uint8_t *p = in->p;
	size_t n = in->len;
	if (n < 2)
		return -EBADMSG;
	uint8_t t = p[0];
	if ((t & 0x1f) == 0x1f) /* multi-byte tags are not used by anything we parse */
		return -EBADMSG;
	size_t len, hdr;
	if (p[1] < 0x80) {
		len = p[1];
		hdr = 2;
	} else {
		size_t nb = p[1] & 0x7f;
		if (nb == 0 || nb > 4 || n < 2 + nb)
			return -EBADMSG; /* indefinite or absurd lengths */
		len = 0;
		for (size_t i = 0; i < nb; i++)
			len = (len << 8) | p[2 + i];
		if (len < 0x80 || (nb > 1 && p[2] == 0))
			return -EBADMSG; /* not minimal: not DER */
		hdr = 2 + nb;
	}
	if (len > n - hdr)
		return -EBADMSG;
	*tag = t;
	val->p = p + hdr;
	val->len = len;
	in->p = p + hdr + len;
	in->len = n - hdr - len;
	return 0;
}

int cm_der_uint(const struct cm_der *v, uint64_t *out)
{
	if (v->len == 0 || (v->p[0] & 0x80))
		return -ERANGE; /* empty or negative */
	size_t i = 0;
	if (v->p[0] == 0 && v->len > 1)
		i = 1; /* sign padding */
	if (v->len - i > 8)
		return -ERANGE;
	uint64_t x = 0;
	for (; i < v->len; i++)
		x = (x << 8) | v->p[i];
	*out = x;
	return 0;
}
