/* libFuzzer target: the multi-GPU evidence bundle reader (measure/gpu/bundle.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "measure/gpu/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_gpu_bundle_entry *b;
	size_t n;
	struct cm_err e;
	if (cm_gpu_bundle_parse((const char *)data, size, "bundle", &b, &n, &e) != 0)
		return 0;
	if (n == 0 || n > CM_GPU_MAX)
		abort();
	cm_gpu_bundle_free(b, n);
	return 0;
}
