/* libFuzzer target: what `cocoon-launch status` and `run --supervise` read from the guest's
 * status channel (host-launcher/status.c): lines of JSON, stale or hostile, scanned for the
 * answer with our nonce; a found answer is rendered as text and fed to the boot watch. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "host-launcher/run.h"
#include "host-launcher/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *o = NULL;
	struct cm_err e;
	if (cl_status_scan((const char *)data, size, "n1", &o, &e) == 1) {
		FILE *f = fopen("/dev/null", "w");
		if (f) {
			cl_status_print(o, f);
			struct cl_boot_watch w = { 0 };
			cl_boot_watch_update(&w, o, 1, 1, f);
			fclose(f);
		}
		json_object_put(o);
	}
	return 0;
}
