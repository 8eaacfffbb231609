/* Cocoon proof-of-work preamble (see pow.h). */
#include "measure/ratls/pow.h"

#include <errno.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#define POW_MAX_DIFFICULTY 64

int cr_pow_challenge_new(struct cr_pow_challenge *c, int difficulty, struct cm_err *e)
{
	if (difficulty < 0 || difficulty > POW_MAX_DIFFICULTY)
		return cm_fail(e, -EINVAL, "pow difficulty %d out of range 0..%d", difficulty, POW_MAX_DIFFICULTY);
	c->difficulty = difficulty;
	if (RAND_bytes(c->salt, sizeof(c->salt)) != 1)
		return cm_fail(e, -EIO, "pow: RAND_bytes failed");
	return 0;
}

void cr_pow_challenge_encode(const struct cr_pow_challenge *c, uint8_t out[CR_POW_CHALLENGE_LEN])
{
	cm_put_le32(out, CR_POW_CHALLENGE_MAGIC);
	cm_put_le32(out + 4, (uint32_t)c->difficulty);
	memcpy(out + 8, c->salt, CR_POW_SALT_LEN);
}

int cr_pow_challenge_decode(const uint8_t in[CR_POW_CHALLENGE_LEN], struct cr_pow_challenge *c,
			    struct cm_err *e)
{
	uint32_t magic = cm_le32(in);
	if (magic != CR_POW_CHALLENGE_MAGIC)
		return cm_fail(e, -EPROTO, "unexpected PoW magic 0x%08x at offset 0 (want 0x%08x)", magic,
			       CR_POW_CHALLENGE_MAGIC);
	int32_t d = (int32_t)cm_le32(in + 4);
	if (d < 0 || d > POW_MAX_DIFFICULTY)
		return cm_fail(e, -EPROTO, "PoW difficulty %d at offset 4 out of range 0..%d", (int)d,
			       POW_MAX_DIFFICULTY);
	c->difficulty = d;
	memcpy(c->salt, in + 8, CR_POW_SALT_LEN);
	return 0;
}

void cr_pow_response_encode(int64_t nonce, uint8_t out[CR_POW_RESPONSE_LEN])
{
	cm_put_le32(out, CR_POW_RESPONSE_MAGIC);
	cm_put_le64(out + 4, (uint64_t)nonce);
}

static int lz_of_hash(const uint8_t h[SHA256_DIGEST_LENGTH])
{
	uint64_t v = cm_le64(h);
	return v ? __builtin_clzll(v) : 64;
}

int cr_pow_leading_zeros(const uint8_t salt[CR_POW_SALT_LEN], int64_t nonce)
{
	uint8_t in[CR_POW_SALT_LEN + 8], h[SHA256_DIGEST_LENGTH];
	memcpy(in, salt, CR_POW_SALT_LEN);
	cm_put_le64(in + CR_POW_SALT_LEN, (uint64_t)nonce);
	SHA256(in, sizeof(in), h);
	return lz_of_hash(h);
}

int cr_pow_check(const struct cr_pow_challenge *c, const uint8_t resp[CR_POW_RESPONSE_LEN], struct cm_err *e)
{
	uint32_t magic = cm_le32(resp);
	if (magic != CR_POW_RESPONSE_MAGIC)
		return cm_fail(e, -EPROTO, "unexpected PoW response magic 0x%08x at offset 0 (want 0x%08x)", magic,
			       CR_POW_RESPONSE_MAGIC);
	if (c->difficulty == 0)
		return 0;
	int64_t nonce = (int64_t)cm_le64(resp + 4);
	int lz = cr_pow_leading_zeros(c->salt, nonce);
	if (lz < c->difficulty)
		return cm_fail(e, -EACCES, "PoW answer has %d leading zero bits, %d required", lz, (int)c->difficulty);
	return 0;
}

int cr_pow_solve_range(const struct cr_pow_challenge *c, int64_t start, int64_t count, int64_t *nonce,
		       struct cm_err *e)
{
	if (c->difficulty <= 0) {
		*nonce = start;
		return 1;
	}
	/* SHA-256 state over the salt, copied for every nonce. */
	EVP_MD_CTX *base = EVP_MD_CTX_new(), *ctx = EVP_MD_CTX_new();
	int rc = 0;
	if (!base || !ctx || EVP_DigestInit_ex(base, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(base, c->salt, CR_POW_SALT_LEN) != 1) {
		rc = cm_fail(e, -ENOMEM, "PoW: digest setup failed");
		goto out;
	}
	for (int64_t n = start; n >= 0 && n - start < count; n++) {
		uint8_t le[8], h[SHA256_DIGEST_LENGTH];
		cm_put_le64(le, (uint64_t)n);
		if (EVP_MD_CTX_copy_ex(ctx, base) != 1 || EVP_DigestUpdate(ctx, le, sizeof(le)) != 1 ||
		    EVP_DigestFinal_ex(ctx, h, NULL) != 1) {
			rc = cm_fail(e, -EIO, "PoW: digest failed");
			goto out;
		}
		if (lz_of_hash(h) >= c->difficulty) {
			*nonce = n;
			rc = 1;
			goto out;
		}
	}
out:
	EVP_MD_CTX_free(base);
	EVP_MD_CTX_free(ctx);
	return rc;
}

int cr_pow_solve(const struct cr_pow_challenge *c, int max_difficulty, int64_t *nonce, struct cm_err *e)
{
	if (c->difficulty > max_difficulty)
		return cm_fail(e, -EPERM, "PoW difficulty %d above the client limit %d", (int)c->difficulty,
			       max_difficulty);
	for (int64_t start = 0; start >= 0; start += 1 << 20) {
		int rc = cr_pow_solve_range(c, start, 1 << 20, nonce, e);
		if (rc)
			return rc < 0 ? rc : 0;
	}
	return cm_fail(e, -ERANGE, "PoW: no nonce found");
}
