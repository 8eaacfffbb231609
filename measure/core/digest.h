/* Hashes through OpenSSL EVP and the TDX register extend rule. */
#ifndef COCOON_MEASURE_DIGEST_H
#define COCOON_MEASURE_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define CM_SHA256_LEN 32
#define CM_SHA384_LEN 48
#define CM_SHA512_LEN 64

enum cm_hash_alg { CM_SHA256, CM_SHA384, CM_SHA512 };

size_t cm_hash_len(enum cm_hash_alg alg);

/* One-shot digest; out must hold cm_hash_len(alg) bytes. Returns 0 or -ENOMEM/-EIO. */
int cm_digest(enum cm_hash_alg alg, const void *data, size_t len, uint8_t *out);
int cm_sha256(const void *data, size_t len, uint8_t out[CM_SHA256_LEN]);
int cm_sha384(const void *data, size_t len, uint8_t out[CM_SHA384_LEN]);
int cm_sha512(const void *data, size_t len, uint8_t out[CM_SHA512_LEN]);

/* Streaming digest. */
struct cm_hash;
struct cm_hash *cm_hash_new(enum cm_hash_alg alg);
int cm_hash_update(struct cm_hash *h, const void *data, size_t len);
/* Writes the digest and resets the context for reuse. */
int cm_hash_final(struct cm_hash *h, uint8_t *out);
void cm_hash_free(struct cm_hash *h);

/* RTMR extend: reg = SHA-384(reg || digest). */
int cm_rtmr_extend(uint8_t reg[CM_SHA384_LEN], const uint8_t digest[CM_SHA384_LEN]);
/* TPM PCR extend in the SHA-256 bank: pcr = SHA-256(pcr || digest). */
int cm_pcr_extend(uint8_t pcr[CM_SHA256_LEN], const uint8_t digest[CM_SHA256_LEN]);

#endif
