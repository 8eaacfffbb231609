/* Intel PCK certificates: the PEM chain carried in quotes and the SGX extension
 * (OID 1.2.840.113741.1.13.1, specs/attestation.md §2.6). */
#ifndef COCOON_MEASURE_PCK_H
#define COCOON_MEASURE_PCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "measure/core/util.h"

#define CM_PCK_CHAIN_MAX 8

struct cm_pck_ext {
	uint8_t ppid[16];
	uint8_t comp_svn[16];  /* SGX_TCB_COMP01..16_SVN */
	uint16_t pcesvn;
	uint8_t cpusvn[16];
	uint8_t pceid[2];
	uint8_t fmspc[6];
	int sgx_type;          /* 0 Standard, 1 Scalable, 2 Scalable+Integrity */
	bool has_platform_instance_id;
	uint8_t platform_instance_id[16];
	bool has_configuration;
	bool dynamic_platform, cached_keys, smt_enabled;
};

/* Parse PEM certificates (leaf first) from a buffer; tolerates the trailing NUL and
 * whitespace real quotes carry, rejects any other trailing data. Returns a new
 * stack (free with sk_X509_pop_free(sk, X509_free)) or NULL with e filled. */
STACK_OF(X509) *cm_pem_chain_parse(const uint8_t *pem, size_t len, struct cm_err *e);

/* Parse the SGX extension contents (the DER inside the extension's OCTET STRING). */
int cm_pck_ext_parse(const uint8_t *der, size_t len, struct cm_pck_ext *out, struct cm_err *e);

/* Find and parse the SGX extension of a PCK certificate. */
int cm_pck_ext_from_cert(X509 *cert, struct cm_pck_ext *out, struct cm_err *e);

/* One-line RFC 2253 subject of a certificate into buf. */
void cm_x509_subject(X509 *cert, char *buf, size_t bufsz);

#endif
