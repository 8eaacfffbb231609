/* libFuzzer target: the seal server's response body (host-controlled; guest/keys/seal.h),
 * then the checks that run on a parsed one (they must fail closed without collateral). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "guest/keys/seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_err e;
	struct ck_seal_response r;
	if (ck_seal_response_parse(data, size, &r, &e) == 0) {
		static const uint8_t pub[64];
		struct ck_seal_conf c = {.n_mrenclave = 1, .timeout_ms = 100};
		char empty[] = "{}";
		struct ck_seal_trust t = {.collateral = empty, .collateral_len = 2, .now = 1800000000};
		if (ck_seal_check(&c, &t, &r, pub, &e) == 0)
			__builtin_trap(); /* nothing verifies without collateral */
	}
	return 0;
}
