/* A minimal, bounded DER reader (definite lengths, single-byte tags), enough for
 * the Intel SGX PCK extension and other small structures. */
#ifndef COCOON_MEASURE_DER_H
#define COCOON_MEASURE_DER_H

#include <stddef.h>
#include <stdint.h>

#define CM_DER_INTEGER 0x02
#define CM_DER_OCTET_STRING 0x04
#define CM_DER_OID 0x06
#define CM_DER_ENUMERATED 0x0a
#define CM_DER_BOOLEAN 0x01
#define CM_DER_SEQUENCE 0x30

struct cm_der {
	const uint8_t *p;
	size_t len;
};

/* Read one TLV from the front of *in into *val (tag, contents) and advance *in.
 * Returns 0, or -EBADMSG on malformed or truncated input. */
int cm_der_next(struct cm_der *in, uint8_t *tag, struct cm_der *val);

/* Non-negative INTEGER/ENUMERATED contents to a u64 (-ERANGE when it does not fit). */
int cm_der_uint(const struct cm_der *v, uint64_t *out);

#endif
