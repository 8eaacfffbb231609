/* libFuzzer target: the NVIDIA GPU attestation report (measure/gpu/spdm.c): the SPDM 1.1
 * GET_MEASUREMENTS request/response parser, then the opaque-data decoder and the RIM ids of
 * what parsed, then cm_gpu_verify up to the device chain (a chain of the pinned root alone). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "measure/gpu/gpu.h"
#include "measure/gpu/gpu_impl.h"
#include "measure/gpu/spdm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cm_spdm_report rep;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_err e;
	if (cm_spdm_parse(data, size, &rep, &e) == 0) {
		struct cm_gpu_opaque o;
		char id[64];
		for (unsigned i = 0; i < rep.n_blocks; i++)
			if (cm_spdm_block(&rep, rep.blocks[i].index) != &rep.blocks[i])
				abort();
		if (rep.signed_len + CM_SPDM_SIG_LEN != size || rep.opaque + rep.opaque_len > data + size)
			abort();
		if (cm_gpu_opaque_parse(rep.opaque, rep.opaque_len, &o, &e) == 0) {
			cm_gpu_driver_rim_id(&o, false, id, sizeof(id));
			cm_gpu_driver_rim_id(&o, true, id, sizeof(id));
			cm_gpu_vbios_rim_id(&o, id, sizeof(id));
		}
	}
	static struct cm_gpu_policy *p;
	if (!p && cm_gpu_policy_default(&p, &e))
		abort();
	uint8_t nonce[CM_GPU_NONCE_LEN] = {0};
	if (size >= 4 + CM_GPU_NONCE_LEN)
		memcpy(nonce, data + 4, CM_GPU_NONCE_LEN);
	struct cm_gpu_evidence ev = {data, size, (const uint8_t *)cm_gpu_device_root_pem, strlen(cm_gpu_device_root_pem)};
	struct cm_gpu_result *r = malloc(sizeof(*r));
	if (!r || cm_gpu_verify(&ev, nonce, p, 0, r, &e) == 0)
		abort(); /* one certificate is never a valid chain */
	free(r);
	return 0;
}
