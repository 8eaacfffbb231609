/* GPU verification call site (boot step 7). */
#include "guest/init/gpu.h"

#include <errno.h>

int ci_gpu_verify(bool required, struct cm_err *e)
{
	if (!required)
		return 0;
	return cm_fail(e, -ENOTSUP,
		       "the measured configuration requires a verified GPU and this build has no GPU verifier");
}
