/* The appliance's own RA-TLS identity: an Ed25519 key and a certificate whose quote
 * (from the attestation backend, guest/attest/attest.h) binds it, regenerated on a
 * schedule; or cert.pem/key.pem files reloaded when they change (Cocoon's CertManager). */
#ifndef COCOON_RATLS_IDENTITY_H
#define COCOON_RATLS_IDENTITY_H

#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "measure/core/measurements.h"
#include "measure/core/util.h"

struct ca_backend;

/* Key + quote over SHA-512(raw public key) + certificate with the event log (if
 * event_log names a readable file). image_hash from the quote's registers. nvml_lib
 * non-NULL (cocoon-ratls --gpu-evidence: CG_NVML_LIB): fresh evidence of every GPU for this
 * key goes into the GPU evidence extension, and a failure to collect it fails. */
int cr_identity_generate(struct ca_backend *b, const char *event_log, const char *nvml_lib, time_t not_before,
			 EVP_PKEY **key, X509 **cert, uint8_t image_hash[CM_IMAGE_HASH_LEN], struct cm_err *e);

/* The same for a key the caller holds (the key server's long-lived identity key, an
 * appliance's request key): *cert certifies k. */
int cr_identity_certify(struct ca_backend *b, EVP_PKEY *k, const char *event_log, const char *nvml_lib,
			time_t not_before, X509 **cert, uint8_t image_hash[CM_IMAGE_HASH_LEN], struct cm_err *e);

/* The GPU evidence extension (DER, malloc'd) for key: NVML's system state and every GPU's
 * report and chain for the nonce SHA-256(SPKI of key) (measure/ratls/gpuext.h). */
int cr_identity_gpu_evidence(const char *nvml_lib, EVP_PKEY *key, uint8_t **der, size_t *len, struct cm_err *e);

#endif
