/* Cocoon's proof-of-work preamble (TelegramMessenger/cocoon tee/cocoon/pow.{h,cpp}),
 * exchanged on every connection before the TLS ClientHello.
 *
 *   server -> client  24 bytes  u32 LE 0x418e1291 | i32 LE difficulty_bits | salt[16]
 *   client -> server  12 bytes  u32 LE 0x01827319 | i64 LE nonce
 *
 * Accepted iff the little-endian u64 of SHA-256(salt || nonce_le8)[0..7] has at least
 * difficulty_bits leading zero bits (hash byte 7 is the most significant). */
#ifndef COCOON_RATLS_POW_H
#define COCOON_RATLS_POW_H

#include <stdbool.h>
#include <stdint.h>

#include "measure/core/util.h"

#define CR_POW_CHALLENGE_LEN 24
#define CR_POW_RESPONSE_LEN 12
#define CR_POW_SALT_LEN 16
#define CR_POW_CHALLENGE_MAGIC 0x418e1291u
#define CR_POW_RESPONSE_MAGIC 0x01827319u
#define CR_POW_DEFAULT_DIFFICULTY 20
#define CR_POW_CLIENT_MAX_DIFFICULTY 28 /* Cocoon clients refuse anything above */

struct cr_pow_challenge {
	int32_t difficulty;
	uint8_t salt[CR_POW_SALT_LEN];
};

/* Fresh challenge with a random salt; difficulty 0..64 (0 accepts any nonce). */
int cr_pow_challenge_new(struct cr_pow_challenge *c, int difficulty, struct cm_err *e);
void cr_pow_challenge_encode(const struct cr_pow_challenge *c, uint8_t out[CR_POW_CHALLENGE_LEN]);
/* Parse the 24 challenge bytes (magic, difficulty 0..64). */
int cr_pow_challenge_decode(const uint8_t in[CR_POW_CHALLENGE_LEN], struct cr_pow_challenge *c,
			    struct cm_err *e);

void cr_pow_response_encode(int64_t nonce, uint8_t out[CR_POW_RESPONSE_LEN]);

/* Leading zero bits of the nonce's hash in Cocoon's reading (0..64). */
int cr_pow_leading_zeros(const uint8_t salt[CR_POW_SALT_LEN], int64_t nonce);

/* Server side: check the 12 response bytes against the challenge. 0 if accepted,
 * -EPROTO for a bad magic, -EACCES for insufficient work. */
int cr_pow_check(const struct cr_pow_challenge *c, const uint8_t resp[CR_POW_RESPONSE_LEN],
		 struct cm_err *e);

/* Client side: find the first nonce (from 0) meeting the difficulty; refuses a
 * difficulty above max_difficulty (-EPERM). */
int cr_pow_solve(const struct cr_pow_challenge *c, int max_difficulty, int64_t *nonce, struct cm_err *e);

/* Incremental client solver for event loops: tries nonces [start, start+count).
 * 1 and *nonce set when found, 0 when not in this range, negative on error. */
int cr_pow_solve_range(const struct cr_pow_challenge *c, int64_t start, int64_t count, int64_t *nonce,
		       struct cm_err *e);

#endif
