/* The multi-GPU evidence bundle of NVIDIA's tools (nvtrust ppcie-verifier gpu_evidence.json,
 * NVAT serialized evidence): a JSON array of {arch, nonce, evidence (base64 report),
 * certificate (base64 PEM chain), driver_version, vbios_version, version}. */
#ifndef COCOON_MEASURE_GPU_BUNDLE_H
#define COCOON_MEASURE_GPU_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "measure/core/util.h"
#include "measure/gpu/gpu.h"

#define CM_GPU_BUNDLE_MAX (1u << 20)

struct cm_gpu_bundle_entry {
	uint8_t *report;
	size_t report_len;
	uint8_t *chain;
	size_t chain_len;
	uint8_t nonce[CM_GPU_NONCE_LEN];
	char arch[16];
	char driver_version[32], vbios_version[32]; /* unsigned metadata; "" when absent */
};

/* Parse json[0..len) (doc names it in errors) into *out (1..CM_GPU_MAX entries). */
int cm_gpu_bundle_parse(const char *json, size_t len, const char *doc, struct cm_gpu_bundle_entry **out,
			size_t *n, struct cm_err *e);
void cm_gpu_bundle_free(struct cm_gpu_bundle_entry *b, size_t n);

#endif
