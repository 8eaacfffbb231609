/* The fake_tdx identity of cocoon-ratls (`--attest fake_tdx`), as Cocoon's `gen-cert --tdx
 * fake_tdx` makes for its test setups: an Ed25519 key and a certificate whose quote
 * extension is just the 64 REPORTDATA bytes, SHA-512(raw public key) (measure/ratls/peer.h).
 * Nothing vouches for it: only fake_tdx policies accept it, every tdx policy refuses it. */
#ifndef COCOON_RATLS_FAKE_TDX_H
#define COCOON_RATLS_FAKE_TDX_H

#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "measure/core/measurements.h"
#include "measure/core/util.h"

#define CR_ATTEST_FAKE_TDX "fake_tdx"

/* Key + fake quote + certificate (valid from not_before); image_hash: CR_FAKE_TDX_IMAGE_HASH. */
int cr_identity_generate_fake(time_t not_before, EVP_PKEY **key, X509 **cert, uint8_t image_hash[CM_IMAGE_HASH_LEN],
			      struct cm_err *e);

#endif
