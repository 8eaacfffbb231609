/* Cocoon-format RA-TLS certificates (specs/ratls.md §3; docs/formats.md).
 *
 * Self-signed Ed25519 X.509 v3, subject = issuer = C=AE, ST=DUBAI, O=TDLib Development,
 * OU=Security, CN=localhost; extensions in Cocoon's order:
 *   1.3.6.1.4.1.12345.1   critical  raw TDX quote, REPORTDATA = SHA-512(raw public key)
 *   1.3.6.1.4.1.12345.2   critical  raw 32-byte Ed25519 public key (user claims)
 *   basicConstraints critical CA:FALSE, keyUsage critical digitalSignature,
 *   extendedKeyUsage critical serverAuth+clientAuth, subjectKeyIdentifier,
 *   subjectAltName DNS:localhost, DNS:127.0.0.1, IP:127.0.0.1, IP:::1
 *   1.3.6.1.4.1.12345.3.1 NOT critical  RTMR3 event log (this appliance; Cocoon ignores it)
 *   1.3.6.1.4.1.12345.3.2 NOT critical  GPU evidence (gpuext.h; this appliance, Cocoon ignores it)
 */
#ifndef COCOON_RATLS_CERT_H
#define COCOON_RATLS_CERT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "measure/core/util.h"

#define CR_OID_QUOTE "1.3.6.1.4.1.12345.1"
#define CR_OID_CLAIMS "1.3.6.1.4.1.12345.2"
#define CR_OID_EVENTLOG "1.3.6.1.4.1.12345.3.1"
#define CR_QUOTE_MAX (32u * 1024)     /* Cocoon's verifier cap */
#define CR_EVENTLOG_MAX (64u * 1024)
#define CR_PUBKEY_LEN 32
#define CR_REPORT_DATA_LEN 64
#define CR_CERT_VALIDITY 86400        /* notAfter = notBefore + one day */
#define CR_CERT_BACKDATE 60           /* default notBefore = now - 60 s (peer clock skew) */

/* A fresh Ed25519 key. */
EVP_PKEY *cr_key_new(struct cm_err *e);

/* The raw 32-byte public key of an Ed25519 key (-EINVAL for any other key type). */
int cr_key_raw_public(EVP_PKEY *key, uint8_t out[CR_PUBKEY_LEN], struct cm_err *e);

/* REPORTDATA for a key: SHA-512 of its raw 32-byte public key (Cocoon UserClaims::to_hash). */
int cr_report_data(EVP_PKEY *key, uint8_t out[CR_REPORT_DATA_LEN], struct cm_err *e);

/* Build and sign the certificate. quote may be NULL (an unattested certificate, as Cocoon's
 * client runners use; no quote extension then); event_log may be NULL. */
int cr_cert_build(EVP_PKEY *key, const uint8_t *quote, size_t quote_len, const uint8_t *event_log,
		  size_t event_log_len, time_t not_before, X509 **out, struct cm_err *e);
/* The same with the GPU evidence extension (DER of gpuext.h; NULL: none) after the event log. */
int cr_cert_build_gpu(EVP_PKEY *key, const uint8_t *quote, size_t quote_len, const uint8_t *event_log,
		      size_t event_log_len, const uint8_t *gpu, size_t gpu_len, time_t not_before, X509 **out,
		      struct cm_err *e);

/* Write DIR/cert.pem (0644) and DIR/key.pem (0600, unencrypted PKCS#8 PEM), each
 * through a temporary file and rename. */
int cr_cert_write(const char *dir, EVP_PKEY *key, X509 *cert, struct cm_err *e);

/* Load cert.pem and key.pem back. */
int cr_cert_load(const char *dir, EVP_PKEY **key, X509 **cert, struct cm_err *e);

#endif
