#include "measure/core/digest.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

struct cm_hash {
	EVP_MD_CTX *ctx;
	const EVP_MD *md;
};

/* Fetched once: EVP_MD_fetch avoids the implicit per-call lookup of EVP_sha*(). */
static const EVP_MD *md_for(enum cm_hash_alg alg)
{
	static EVP_MD *cache[3];
	static const char *names[3] = {"SHA256", "SHA384", "SHA512"};
	if ((unsigned)alg > CM_SHA512)
		return NULL;
	EVP_MD *md = __atomic_load_n(&cache[alg], __ATOMIC_ACQUIRE);
	if (md)
		return md;
	md = EVP_MD_fetch(NULL, names[alg], NULL);
	if (!md)
		return NULL;
	EVP_MD *expected = NULL;
	if (!__atomic_compare_exchange_n(&cache[alg], &expected, md, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		EVP_MD_free(md);
		md = expected;
	}
	return md;
}

size_t cm_hash_len(enum cm_hash_alg alg)
{
	switch (alg) {
	case CM_SHA256: return CM_SHA256_LEN;
	case CM_SHA384: return CM_SHA384_LEN;
	case CM_SHA512: return CM_SHA512_LEN;
	}
	return 0;
}

int cm_digest(enum cm_hash_alg alg, const void *data, size_t len, uint8_t *out)
{
	const EVP_MD *md = md_for(alg);
	if (!md)
		return -EINVAL;
	return EVP_Digest(data, len, out, NULL, md, NULL) == 1 ? 0 : -EIO;
}

int cm_sha256(const void *data, size_t len, uint8_t out[CM_SHA256_LEN])
{
	return cm_digest(CM_SHA256, data, len, out);
}

int cm_sha384(const void *data, size_t len, uint8_t out[CM_SHA384_LEN])
{
	return cm_digest(CM_SHA384, data, len, out);
}

int cm_sha512(const void *data, size_t len, uint8_t out[CM_SHA512_LEN])
{
	return cm_digest(CM_SHA512, data, len, out);
}

struct cm_hash *cm_hash_new(enum cm_hash_alg alg)
{
	const EVP_MD *md = md_for(alg);
	if (!md)
		return NULL;
	struct cm_hash *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->md = md;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, md, NULL) != 1) {
		cm_hash_free(h);
		return NULL;
	}
	return h;
}

int cm_hash_update(struct cm_hash *h, const void *data, size_t len)
{
	return EVP_DigestUpdate(h->ctx, data, len) == 1 ? 0 : -EIO;
}

int cm_hash_final(struct cm_hash *h, uint8_t *out)
{
	if (EVP_DigestFinal_ex(h->ctx, out, NULL) != 1)
		return -EIO;
	return EVP_DigestInit_ex(h->ctx, h->md, NULL) == 1 ? 0 : -EIO;
}

void cm_hash_free(struct cm_hash *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

/* reg = H(reg || digest), both of the hash's length. */
static int extend(enum cm_hash_alg alg, uint8_t *reg, const uint8_t *digest)
{
	uint8_t buf[2 * CM_SHA512_LEN];
	size_t n = cm_hash_len(alg);
	memcpy(buf, reg, n);
	memcpy(buf + n, digest, n);
	return cm_digest(alg, buf, 2 * n, reg);
}

int cm_rtmr_extend(uint8_t reg[CM_SHA384_LEN], const uint8_t digest[CM_SHA384_LEN])
{
	return extend(CM_SHA384, reg, digest);
}

int cm_pcr_extend(uint8_t pcr[CM_SHA256_LEN], const uint8_t digest[CM_SHA256_LEN])
{
	return extend(CM_SHA256, pcr, digest);
}
