/* libFuzzer target: PE/COFF Authenticode (edk2 rules), plain and with QEMU's Linux
 * setup-header patch applied over the input. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "measure/predict/pe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t d[48];
	struct cm_err e;
	struct cm_pe_info info;
	cm_pe_authenticode_sha384(data, size, NULL, 0, d, &info, &e);
	if (size >= CM_LINUX_HDR_LEN) {
		uint8_t hdr[CM_LINUX_HDR_LEN];
		memcpy(hdr, data, sizeof(hdr));
		struct cm_qemu_kernel_params p = {.mem = 1ull << 30, .has_initrd = true,
						  .initrd_size = 4096, .cmdline = "vga=0x317"};
		if (cm_linux_qemu_patch(hdr, size, &p, &e) == 0)
			cm_pe_authenticode_sha384(data, size, hdr, sizeof(hdr), d, NULL, &e);
	}
	return 0;
}
