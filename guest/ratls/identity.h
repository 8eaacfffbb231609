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
 * event_log names a readable file). image_hash from the quote's registers. */
int cr_identity_generate(struct ca_backend *b, const char *event_log, time_t not_before, EVP_PKEY **key,
			 X509 **cert, uint8_t image_hash[CM_IMAGE_HASH_LEN], struct cm_err *e);

#endif
