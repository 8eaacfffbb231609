/* libFuzzer target: the measured spec's keys/cocoon-seal.json (guest/keys/seal.h). */
#include <stddef.h>
#include <stdint.h>

#include "guest/keys/seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_err e;
	struct ck_seal_conf c;
	ck_seal_conf_parse((const char *)data, size, &c, &e);
	return 0;
}
