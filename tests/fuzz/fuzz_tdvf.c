/* libFuzzer target: TDVF metadata parsing, then the TD HOB, CFV lookup and MRTD of
 * whatever metadata parsed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "measure/tdvf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_tdvf t;
	struct cm_err e;
	if (cm_tdvf_parse(data, size, &t, &e))
		return 0;
	uint8_t *hob;
	size_t n;
	if (cm_tdvf_td_hob(&t, 3ull << 30, &hob, &n, &e) == 0)
		free(hob);
	const uint8_t *cfv;
	cm_tdvf_cfv(data, size, &t, &cfv, &n, &e);
	uint8_t mrtd[48];
	cm_tdvf_mrtd(data, size, &t, CM_PAGE_ORDER_PER_SECTION, mrtd, &e);
	json_object_put(cm_tdvf_sections_json(&t));
	return 0;
}
