/* libFuzzer target: cocoon-ratls' proof-of-work preamble (measure/ratls/pow.c), the first
 * bytes a peer sends. Input = 24 challenge bytes (what a client reads from a server) ‖
 * 12 response bytes (what a server reads from a client), zero-padded when short.
 * A decoded challenge must re-encode to the same bytes; an accepted response must carry
 * at least the asked leading zero bits; a small difficulty is solved and the solution
 * must be accepted. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "measure/ratls/pow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t in[CR_POW_CHALLENGE_LEN + CR_POW_RESPONSE_LEN] = {0};
	memcpy(in, data, size < sizeof(in) ? size : sizeof(in));
	const uint8_t *resp = in + CR_POW_CHALLENGE_LEN;
	struct cm_err e = {0};
	struct cr_pow_challenge c;
	if (cr_pow_challenge_decode(in, &c, &e) != 0)
		return 0;
	uint8_t again[CR_POW_CHALLENGE_LEN];
	cr_pow_challenge_encode(&c, again);
	if (memcmp(again, in, sizeof(again)))
		abort();
	int rc = cr_pow_check(&c, resp, &e);
	if (rc == 0 && c.difficulty > 0 &&
	    cr_pow_leading_zeros(c.salt, (int64_t)cm_le64(resp + 4)) < c.difficulty)
		abort();
	if (rc != 0 && rc != -EPROTO && rc != -EACCES)
		abort();
	/* The client side on the same challenge: refuse above the limit, solve small ones. */
	int64_t nonce;
	if (c.difficulty > CR_POW_CLIENT_MAX_DIFFICULTY && cr_pow_solve(&c, CR_POW_CLIENT_MAX_DIFFICULTY, &nonce, &e) != -EPERM)
		abort();
	if (c.difficulty <= 8) {
		if (cr_pow_solve(&c, CR_POW_CLIENT_MAX_DIFFICULTY, &nonce, &e) != 0)
			abort();
		uint8_t ans[CR_POW_RESPONSE_LEN];
		cr_pow_response_encode(nonce, ans);
		if (cr_pow_check(&c, ans, &e) != 0)
			abort();
	}
	return 0;
}
