/* GPU verification call site (boot step 7). */
#include "guest/init/gpu.h"

#include <errno.h>

#include "guest/init/boot.h"
#include "guest/init/log.h"

int ci_gpu_verify(bool required, struct cm_err *e)
{
	if (!required)
		return 0;
	return cm_fail(e, -ENOTSUP,
		       "the measured configuration requires a verified GPU and this build has no GPU verifier");
}

void ci_boot_gpu(struct ci_boot *b)
{
	struct cm_err e = {0};
	bool required = b->spec.gpu_required || b->cmd.gpu == CI_GPU_REQUIRED;
	if (ci_gpu_verify(required, &e) < 0)
		ci_fatal("gpu", "%s", e.msg);
	ci_log("gpu: %s", required ? "verified" : "not required");
}
