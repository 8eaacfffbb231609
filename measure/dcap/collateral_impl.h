/* libmeasure's collateral internals, shared by the files of measure/dcap/ that implement
 * collateral.h (not a public header): the verified bundle, its validity windows, the PCK and
 * attestation key memos, and the X.509 helpers they use.
 *   collateral.c        the bundle: issuer chains, signatures over the exact JSON text, CRLs,
 *                       validity windows
 *   x509.c              X.509 / ECDSA helpers (chain verification with CRLs, anchors, keys)
 *   pck_memo.c          the PCK chain of a quote, verified once per bundle and remembered;
 *                       the attestation key memo
 *   collateral_cache.c  the cache of verified bundles */
#ifndef COCOON_MEASURE_DCAP_COLLATERAL_IMPL_H
#define COCOON_MEASURE_DCAP_COLLATERAL_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "measure/dcap/collateral.h"

#define PCK_MEMO 16
#define AK_MEMO 4
#define BUNDLE_MAX (4u << 20)
/* root CA, root CA CRL, TCB signing cert, TCB info, QE identity signing cert, QE identity,
 * PCK CA, PCK CRL */
#define WINDOWS_MAX 8
#define TCB_SIGNER_CN "Intel SGX TCB Signing"

/* One validity window, checked in table order. */
struct window {
	const char *nyv, *exp, *what;
	int64_t from, to;
};

struct pck_memo {
	bool used;
	uint8_t id[32]; /* SHA-256 of the PEM chain bytes */
	struct cm_pck_info info;
};

struct cm_collateral {
	uint8_t id[32]; /* SHA-256 of the bundle bytes */
	X509 *anchor;
	EVP_PKEY *anchor_key;
	uint8_t root_key_id[48];
	X509 *pck_ca;
	X509_CRL *root_crl, *pck_crl;
	STACK_OF(X509_CRL) *crls;
	STACK_OF(X509) *ext_pck_chain; /* optional pck_certificate_chain */
	enum cm_pck_ca ca;
	struct cm_tcb_info tcb;
	struct cm_qe_identity qe;
	int n_windows;
	bool windows_overflow; /* add_window found the table full: the load fails */
	struct window windows[WINDOWS_MAX];
	int memo_next;
	struct pck_memo memo[PCK_MEMO];
	int ak_next;
	struct {
		uint8_t xy[64];
		EVP_PKEY_CTX *ctx;
	} ak[AK_MEMO];
};

/* ---- x509.c ---- */
EVP_PKEY_CTX *cm_verify_ctx_new(EVP_PKEY *key);
/* notBefore/notAfter/lastUpdate/nextUpdate as unix seconds; INT64_MIN when unreadable. */
int64_t cm_asn1_unix(const ASN1_TIME *t);
/* Verify leaf via untrusted to the anchor, with CRLs, ignoring time; the X509_V_ERR code (0 = ok). */
int cm_x509_chain_verify(X509 *anchor, X509 *leaf, STACK_OF(X509) *untrusted, STACK_OF(X509_CRL) *crls);
bool cm_x509_is_anchor(X509 *x, X509 *anchor);
bool cm_x509_same_key(X509 *a, X509 *b);
bool cm_x509_last_is_anchor(STACK_OF(X509) *sk, X509 *anchor);
bool cm_x509_is_ca(X509 *x);
bool cm_x509_cn_is(X509 *x, const char *want);
enum cm_pck_ca cm_x509_pck_ca_kind(X509 *x);

/* ---- collateral.c ---- */
/* One validity window at t: check nyv before from, exp after to. */
int cm_collateral_window_check(const char *nyv, const char *exp, const char *what, int64_t from, int64_t to,
			       int64_t t, struct cm_err *e);

#endif
