/* libFuzzer target: the cocoon-tpm2 LUKS2 token (read from the host-controlled persistent
 * volume) and the spec's keys/tpm2.json (guest/keys/tpm2.h). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "guest/keys/tpm2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_err e;
	static struct ck_tpm2_token t;
	struct ck_tpm2_conf c;
	if (ck_tpm2_token_parse((const char *)data, size, &t, &e) == 0) {
		char *json = NULL;
		if (ck_tpm2_token_encode(&t, &json, &e) == 0)
			free(json);
	}
	ck_tpm2_conf_parse((const char *)data, size, &c, &e);
	return 0;
}
