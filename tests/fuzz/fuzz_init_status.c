/* libFuzzer target: cocoon-init's status channel request (guest/init/status.c): any line
 * the host sends is parsed and answered (the answer built from the boot state and files
 * that do not exist here). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "guest/init/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ci_status_paths none = {
		.event_log = "/nonexistent/rtmr3.log", .gpu = "/nonexistent/gpu.json", .collateral = {NULL}};
	if (size > CI_STATUS_REQ_MAX)
		return 0; /* the server never hands over a longer line */
	free(ci_status_answer((const char *)data, size, &none));
	return 0;
}
