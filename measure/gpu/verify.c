/* GPU evidence verification (first step: the interface; the checks follow). */
#include <errno.h>
#include <stdlib.h>

#include "measure/gpu/gpu.h"

struct cm_gpu_policy {
	int unused;
};

int cm_gpu_policy_default(struct cm_gpu_policy **out, struct cm_err *e)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : cm_fail(e, -ENOMEM, "gpu policy: out of memory");
}

int cm_gpu_policy_parse(const struct cm_jv *v, struct cm_gpu_policy **out, struct cm_err *e)
{
	(void)v;
	*out = NULL;
	return cm_fail(e, -ENOTSUP, "gpu policy: not implemented yet");
}

int cm_gpu_policy_set_rim_dir(struct cm_gpu_policy *p, const char *dir, struct cm_err *e)
{
	(void)p;
	(void)dir;
	return cm_fail(e, -ENOTSUP, "gpu policy: RIM bundles not implemented yet");
}

void cm_gpu_policy_free(struct cm_gpu_policy *p) { free(p); }

int cm_gpu_check_system(const struct cm_gpu_system *s, const struct cm_gpu_policy *p, struct cm_err *e)
{
	(void)s;
	(void)p;
	return cm_fail_check(e, -ENOTSUP, "gpu_system", "gpu system check: not implemented yet");
}

int cm_gpu_verify(const struct cm_gpu_evidence *ev, const uint8_t nonce[CM_GPU_NONCE_LEN],
		  const struct cm_gpu_policy *p, int64_t now, struct cm_gpu_result *res, struct cm_err *e)
{
	(void)ev;
	(void)nonce;
	(void)p;
	(void)now;
	(void)res;
	return cm_fail_check(e, -ENOTSUP, "gpu_parse", "gpu evidence: verification not implemented yet");
}
