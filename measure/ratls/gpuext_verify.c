/* Verification of the GPU evidence extension (see gpuext.h). A file of its own: it needs the GPU
 * verifier (measure/gpu/, libxml2 for RIMs), which encoding and decoding do not, so cocoon-init
 * can put evidence into its certificates without linking libxml2 (docs/gpu.md). */
#include "measure/ratls/gpuext.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int cr_gpu_ext_verify(const uint8_t *der, size_t len, EVP_PKEY *key, const struct cm_gpu_policy *p, int64_t now,
		      unsigned *n, struct cm_err *e)
{
	*n = 0;
	struct cr_gpu_ext *x = malloc(sizeof(*x));
	uint8_t nonce[CM_GPU_NONCE_LEN];
	if (!x)
		return cm_fail(e, -ENOMEM, "out of memory");
	int rc = cr_gpu_ext_decode(der, len, x, e);
	if (!rc)
		rc = cr_gpu_nonce(key, nonce, e);
	if (!rc && cm_gpu_check_system(&x->sys, p, e))
		rc = -EACCES; /* the TD's NVML state is not what the policy accepts */
	for (unsigned i = 0; !rc && i < x->sys.count; i++) {
		struct cm_gpu_result res;
		if ((rc = cm_gpu_verify(&x->gpu[i], nonce, p, now, &res, e))) {
			/* the policy's own checks reject; anything else (nonce binding, chain,
			 * signature, FWID, RIMs) means the evidence does not verify */
			rc = e && e->check && !strncmp(e->check, "gpu_policy", 10) ? -EACCES : -EBADMSG;
			cm_err_prefix(e, "GPU %u", i);
		}
	}
	if (!rc)
		*n = x->sys.count;
	free(x);
	return rc;
}
