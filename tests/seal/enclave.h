/* A test seal server's enclave (tests only, never in the image): plays Cocoon's
 * Enclave.cpp ecall_gen_key + seal-server.cpp against the sim backend.
 *
 * It checks the request (magic, TL, 1024-byte report, REPORTTYPE 81 00 00 00, REPORTDATA =
 * SHA-256(pub64) || 0^32, both REPORTMACSTRUCT hashes, and the MAC with the sim state's
 * report_key), derives
 *   key = SHA-256(seal_key || TEE_INFO_HASH || TEE_TCB_INFO_HASH || SHA-256(key_name))
 * with seal_key = first 16 bytes of HMAC-SHA-256(enclave secret, MRENCLAVE) (EGETKEY's
 * MRENCLAVE-policy stand-in), encrypts it to the client (ephemeral P-256, ECDH, SHA-256 of
 * the little-endian x, AES-128-CTR) and answers with a sim SGX v3 quote whose REPORTDATA is
 * SHA-256(pub64) || SHA-256(encrypted_secret). Modes make it misbehave for tests. */
#ifndef COCOON_TESTS_SEAL_ENCLAVE_H
#define COCOON_TESTS_SEAL_ENCLAVE_H

#include <stddef.h>
#include <stdint.h>

#include "guest/attest/simca.h"

enum ts_mode {
	TS_GOOD = 0,
	TS_WRONG_MRENCLAVE, /* another enclave answers */
	TS_DEBUG,           /* a debug enclave */
	TS_UNBOUND,         /* REPORTDATA not bound to the ciphertext */
	TS_REPLAY,          /* answers with the first response it ever sent */
	TS_TRUNCATED,       /* frame length says more than it sends, then closes */
	TS_EXTENDED,        /* 4 extra bytes inside the body */
	TS_OVERSIZE,        /* frame length 16537 */
	TS_TAMPERED,        /* one ciphertext bit flipped after quoting */
	TS_SILENT,          /* reads the request, never answers */
};

int ts_mode_parse(const char *s, enum ts_mode *m);

struct ts_enclave {
	struct ca_simca *ca;       /* the sim CA (loaded from the sim state) */
	uint8_t report_key[32];    /* the sim state's report_key */
	uint8_t secret[32];        /* per-test "enclave secret" */
	struct ca_simca_enclave en;
	enum ts_mode mode;
	uint8_t *first;            /* TS_REPLAY: the first response */
	size_t first_len;
	/* The key of the last ts_handle that derived one (tests compare fingerprints, e.g.
	 * with the guest's APP_KEY): its name and SHA-256; served_name[0] == 0 when none. */
	char served_name[257];
	uint8_t served_sha256[32];
};

/* Load the CA and report key from sim_dir. */
int ts_enclave_init(struct ts_enclave *x, const char *sim_dir, const uint8_t secret[32], enum ts_mode mode,
		    struct cm_err *e);
void ts_enclave_free(struct ts_enclave *x);

/* The key the enclave derives for this TDREPORT and name (for tests to compare). */
int ts_derive(const struct ts_enclave *x, const uint8_t report[1024], const char *name, size_t name_len,
	      uint8_t key[32]);

/* Handle one request body: *resp malloc'd (the body; framing is the caller's). */
int ts_handle(struct ts_enclave *x, const uint8_t *req, size_t len, uint8_t **resp, size_t *resp_len,
	      struct cm_err *e);

/* Serve one connection on fd: read one frame, answer per mode. */
int ts_serve_conn(struct ts_enclave *x, int fd, struct cm_err *e);

#endif
