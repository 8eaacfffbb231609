/* libFuzzer target: the guest's runtime RTMR3 event log (one printable-ASCII message per
 * line, guest/attest/attest.h) as cocoon-measure replays it, with the per-event JSON. */
#include <stddef.h>
#include <stdint.h>

#include "measure/eventlog/rtmr3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t r[48];
	struct cm_err e;
	json_object *events = json_object_new_array();
	cm_rtmr3_replay(data, size, r, events, &e);
	json_object_put(events);
	cm_rtmr3_replay(data, size, r, NULL, &e);
	return 0;
}
