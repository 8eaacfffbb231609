/* DCAP collateral: the JSON bundle (dcap-qvl QuoteCollateralV3 shape, specs/attestation.md
 * §2.1), verified once against a trust anchor, and a cache of verified bundles.
 *
 * cm_collateral_load() does everything that does not depend on the verification time:
 * both issuer chains to the anchor (with the root CA CRL), the TCB info and QE identity
 * ECDSA signatures over the exact inner JSON text, the CRL signatures and issuers. Every
 * validity window (certificates, CRLs, issueDate..nextUpdate) is recorded and checked per
 * verification by cm_collateral_check_time(). PCK chains of quotes are verified against
 * the bundle's CRLs and remembered per bundle (cm_collateral_pck).
 *
 * Thread safety: a struct cm_collateral and a struct cm_collateral_cache are not
 * thread-safe (the PCK chain memo and the cache mutate on lookup); use one per thread or
 * lock around calls. Distinct objects may be used from different threads. */
#ifndef COCOON_MEASURE_COLLATERAL_H
#define COCOON_MEASURE_COLLATERAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "measure/core/util.h"
#include "measure/dcap/pck.h"
#include "measure/dcap/quote.h"
#include "measure/dcap/tcb.h"

/* The pinned Intel SGX Root CA (specs/attestation.md §2.8). */
extern const char cm_intel_root_pem[];
/* A new X509 of the Intel root (free with X509_free), NULL on allocation failure. */
X509 *cm_intel_root_new(void);
/* Verify leaf via untrusted (may be NULL) to anchor alone, with CRLs (may be NULL), at time
 * *at (unix seconds; NULL: no time check), with extra X509_V_FLAG_* flags. Returns the
 * X509_V_ERR code (0 = ok). */
int cm_x509_verify_chain_at(X509 *anchor, X509 *leaf, STACK_OF(X509) *untrusted, STACK_OF(X509_CRL) *crls,
			    const int64_t *at, unsigned long flags);
/* X509 from a PEM file holding one certificate. */
X509 *cm_x509_load_pem_file(const char *path, struct cm_err *e);

/* SHA-384 of the uncompressed public key 04||X||Y of a P-256 certificate (Intel's and
 * Cocoon's "root key id"). */
int cm_root_key_id(X509 *cert, uint8_t out[48]);

/* P-256 helpers: raw X||Y to a key; ECDSA-SHA256 verify of a raw r||s signature.
 * cm_ecdsa_p256_verify returns 1 valid, 0 invalid, negative on error. */
EVP_PKEY *cm_p256_key_from_raw(const uint8_t xy[64]);
int cm_ecdsa_p256_verify(EVP_PKEY *key, const uint8_t *msg, size_t len, const uint8_t sig[64]);
/* The same with a context already set up by EVP_PKEY_verify_init (reusable). */
int cm_ecdsa_p256_verify_ctx(EVP_PKEY_CTX *ctx, const uint8_t *msg, size_t len, const uint8_t sig[64]);

enum cm_pck_ca { CM_PCK_CA_UNKNOWN = 0, CM_PCK_CA_PLATFORM, CM_PCK_CA_PROCESSOR };
const char *cm_pck_ca_name(enum cm_pck_ca ca); /* "platform", "processor", "unknown" */

struct cm_collateral;

/* Parse and verify a bundle. anchor NULL = the pinned Intel root. On failure *check names
 * the failed check (e.g. "collateral_format", "trust_anchor", "tcb_info_signature"). */
int cm_collateral_load(const char *bundle, size_t len, X509 *anchor, struct cm_collateral **out,
		       struct cm_err *e);
void cm_collateral_free(struct cm_collateral *c);

/* Every validity window at time t (unix seconds, inclusive bounds). Check names:
 * "<item>_not_yet_valid" / "<item>_expired" for item in root_ca, root_ca_crl,
 * tcb_signing_cert, tcb_info, qe_identity_signing_cert, qe_identity, pck_ca_cert, pck_crl. */
int cm_collateral_check_time(const struct cm_collateral *c, int64_t t, struct cm_err *e);

const struct cm_tcb_info *cm_collateral_tcb_info(const struct cm_collateral *c);
const struct cm_qe_identity *cm_collateral_qe_identity(const struct cm_collateral *c);
enum cm_pck_ca cm_collateral_ca(const struct cm_collateral *c);
const uint8_t *cm_collateral_root_key_id(const struct cm_collateral *c); /* 48 bytes */
/* [earliest time, latest time] at which every window of the bundle is open. */
void cm_collateral_window(const struct cm_collateral *c, int64_t *from, int64_t *to);

/* A verified PCK chain (leaf key, SGX extension). */
struct cm_pck_info {
	EVP_PKEY *key;
	EVP_PKEY_CTX *verify_ctx; /* verify-initialized context for key */
	struct cm_pck_ext ext;
	int64_t leaf_from, leaf_to, ca_from, ca_to;
};

/* Verify the PCK chain of q (its type-5 data, or the bundle's pck_certificate_chain)
 * to the anchor with both CRLs, remembering the result for the bundle. Then checks both
 * certificates' windows at t. Checks: "pck_chain", "pck_revoked", "pck_crl_issuer",
 * "pck_extension", "pck_cert_not_yet_valid", "pck_cert_expired", "pck_ca_cert_not_yet_valid",
 * "pck_ca_cert_expired". *out is owned by c. */
int cm_collateral_pck(struct cm_collateral *c, const struct cm_quote *q, int64_t t, const struct cm_pck_info **out,
		      struct cm_err *e);

/* Verify sig over msg with the raw P-256 attestation key ak (X||Y), remembering the last
 * few keys of the bundle's quotes. Returns 1 valid, 0 invalid, -EINVAL when ak is not a
 * point on P-256, other negative codes on errors. */
int cm_collateral_ak_verify(struct cm_collateral *c, const uint8_t ak[64], const uint8_t *msg, size_t len,
			    const uint8_t sig[64]);

/* ---- cache ---------------------------------------------------------------------------- */

struct cm_collateral_cache;

/* A cache of verified bundles keyed by (FMSPC, PCK CA type, SHA-256 of the bundle bytes,
 * anchor root key id). An entry expires at the bundle's earliest nextUpdate/notAfter. */
struct cm_collateral_cache *cm_collateral_cache_new(size_t max_entries);
void cm_collateral_cache_free(struct cm_collateral_cache *cache);

/* The verified collateral for bundle, loading and inserting it on a miss or after expiry
 * at t. The pointer is owned by the cache and valid until the next call on it. */
int cm_collateral_cache_get(struct cm_collateral_cache *cache, const char *bundle, size_t len, X509 *anchor,
			    int64_t t, struct cm_collateral **out, struct cm_err *e);

/* A cached bundle for (fmspc, ca) not expired at t, or NULL. */
struct cm_collateral *cm_collateral_cache_find(struct cm_collateral_cache *cache, const uint8_t fmspc[6],
					       enum cm_pck_ca ca, int64_t t);

struct cm_cache_stats {
	uint64_t hits, misses, expired;
	size_t entries;
};
void cm_collateral_cache_stats(const struct cm_collateral_cache *cache, struct cm_cache_stats *out);

#endif
