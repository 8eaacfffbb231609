/* libFuzzer target: the NVIDIA opaque-data decoder of GPU reports (measure/gpu/spdm.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "measure/gpu/spdm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_gpu_opaque o;
	struct cm_err e;
	char id[64];
	if (size > 0xffff)
		return 0; /* the opaque length is a u16 */
	if (cm_gpu_opaque_parse(data, size, &o, &e) != 0)
		return 0;
	if (strlen(o.driver_version) >= sizeof(o.driver_version) || (o.has_vbios && strlen(o.vbios_version) != 14))
		abort();
	cm_gpu_driver_rim_id(&o, false, id, sizeof(id));
	cm_gpu_driver_rim_id(&o, true, id, sizeof(id));
	cm_gpu_vbios_rim_id(&o, id, sizeof(id));
	return 0;
}
