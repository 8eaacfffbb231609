/* Boot step 7: GPU verification (NVIDIA confidential computing, a later issue).
 * This is the single call site the measured configuration can require. */
#ifndef COCOON_INIT_GPU_H
#define COCOON_INIT_GPU_H

#include <stdbool.h>

#include "measure/core/util.h"

/* required: the measured spec ("gpu": "required") or cmdline (cocoon.gpu=required)
 * asks for a verified GPU. Returns 0 when no GPU is required; otherwise verifies or
 * fails. This build has no GPU verifier yet, so a required GPU always fails. */
int ci_gpu_verify(bool required, struct cm_err *e);

#endif
