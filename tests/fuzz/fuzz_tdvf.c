/* libFuzzer target: TDVF metadata parsing, then the TD HOB, CFV lookup and MRTD of
 * whatever metadata parsed.
 *
 * The metadata sits at the end of a multi-MiB image (GUIDed table footer 0x30 bytes before
 * the end) and libFuzzer caps inputs at 1 MiB, so a truncated OVMF seed never got past the
 * footer check. An input smaller than FW_SIZE is therefore placed at the end of a zeroed
 * FW_SIZE image (the seed is the tail of the fixture's OVMF.fd), keeping the section data
 * offsets of a real layout inside the image; larger inputs are used as they are. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "measure/predict/tdvf.h"

#define FW_SIZE (4u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t image[FW_SIZE];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *fw = data;
	if (size < FW_SIZE) {
		memset(image, 0, FW_SIZE - size);
		memcpy(image + FW_SIZE - size, data, size);
		fw = image;
		size = FW_SIZE;
	}
	struct cm_tdvf t;
	struct cm_err e;
	if (cm_tdvf_parse(fw, size, &t, &e))
		return 0;
	uint8_t *hob;
	size_t n;
	if (cm_tdvf_td_hob(&t, 3ull << 30, &hob, &n, &e) == 0)
		free(hob);
	const uint8_t *cfv;
	cm_tdvf_cfv(fw, size, &t, &cfv, &n, &e);
	/* parsed metadata covers at most CM_TDVF_MAX_SECTION_MEM: no skip needed */
	uint8_t mrtd[48];
	cm_tdvf_mrtd(fw, size, &t, 3ull << 30, CM_PAGE_ORDER_PER_SECTION, mrtd, &e);
	json_object_put(cm_tdvf_sections_json(&t));
	return 0;
}
