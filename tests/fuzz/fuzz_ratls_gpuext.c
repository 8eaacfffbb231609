/* libFuzzer target: the GPU evidence extension of a peer's RA-TLS certificate
 * (measure/ratls/gpuext.c) as a verifier with the "gpu" policy key reads it: the strict DER
 * decoder; a decoded extension must encode back to the same bytes (DER is canonical); then
 * the whole verification (system check, every GPU's evidence through measure/gpu) under the
 * production GPU policy for the nonce of a fixed key. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "measure/gpu/gpu.h"
#include "measure/ratls/gpuext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fixed_seed[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
				       17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static EVP_PKEY *key;
	static struct cm_gpu_policy *policy;
	struct cm_err e;
	if (!key)
		key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, fixed_seed, sizeof(fixed_seed));
	if (!policy && cm_gpu_policy_default(&policy, &e))
		abort();
	struct cr_gpu_ext x;
	if (cr_gpu_ext_decode(data, size, &x, &e) == 0) {
		uint8_t *der;
		size_t len;
		if (cr_gpu_ext_encode(&x, &der, &len, &e) || len != size || memcmp(der, data, size))
			abort(); /* a decoded extension must encode to the same bytes */
		free(der);
	}
	unsigned n;
	cr_gpu_ext_verify(data, size, key, policy, 1735689600, &n, &e);
	return 0;
}
