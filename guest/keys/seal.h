/* The `cocoon-seal` key provider's client side of Cocoon's seal-server protocol
 * (tee/sgx-enclave/seal-client.cpp, seal-server.cpp, Enclave.cpp, common.h; docs/keys.md).
 *
 * One exchange per key: an ephemeral P-256 key pair; a TDREPORT with REPORTDATA =
 * SHA-256(pub64) || 0^32; request getPersistentKey#317a821c (TL: tdx_report:bytes
 * public_key:bytes key_name:bytes); response persistentKey#163a179a (sgx_quote:bytes
 * encrypted_secret:bytes). Frames: little-endian u32 length, then the body (<= 16536).
 * pub64 and the enclave's public key are X || Y with each coordinate little-endian.
 *
 * The response is accepted only after these checks, in this order (the check names are
 * stable; they appear in errors and in `cocoon-keys seal-probe`):
 *   seal_response     TL shape: magic, two byte strings, secret exactly 96 bytes, nothing after
 *   seal_quote        libmeasure's DCAP verifier: signatures, PCK chain, collateral current
 *                     at the given time, TCB status UpToDate (message carries its check)
 *   seal_quote_type   an SGX enclave quote (not a TD quote)
 *   seal_report_data  REPORTDATA = SHA-256(pub64) || SHA-256(encrypted_secret)
 *   seal_mrenclave    MRENCLAVE in the spec's allowlist
 *   seal_root_key_id  the quote's root is the expected one (Intel's; the sim root under sim)
 *   seal_debug        ATTRIBUTES.DEBUG = 0
 *   seal_isv_prod_id  ISVPRODID equals the spec's (when the spec sets one)
 *   seal_isv_svn      ISVSVN >= the spec's minimum
 *   seal_decrypt      ECDH with the enclave's key, SHA-256 of the little-endian x, AES-128-CTR
 * plus the transport's: seal_config, seal_transport, seal_timeout, seal_framing,
 * seal_tdreport. */
#ifndef COCOON_GUEST_KEYS_SEAL_H
#define COCOON_GUEST_KEYS_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "guest/attest/attest.h"
#include "guest/keys/keys.h"
#include "measure/core/util.h"

#define CK_SEAL_REQ_MAGIC 0x317a821cu  /* getPersistentKey */
#define CK_SEAL_RESP_MAGIC 0x163a179au /* persistentKey */
#define CK_SEAL_BODY_MAX 16536u
#define CK_SEAL_SECRET_LEN 96
#define CK_SEAL_KEY_LEN 32
#define CK_SEAL_NAME_MAX 256
#define CK_SEAL_MRENCLAVE_MAX 16
#define CK_SEAL_DEFAULT_SERVER "vsock:2:12345"
#define CK_SEAL_DEFAULT_TIMEOUT_MS 10000u
#define CK_SEAL_CONF_FILE CK_SPEC_SEAL_CONF                /* in the measured spec */
#define CK_SEAL_COLLATERAL_FILE "runtime/seal-collateral.json" /* unmeasured, host-provided */

/* keys/cocoon-seal.json (docs/keys.md "Spec settings"). */
struct ck_seal_conf {
	char server[128];         /* vsock:CID:PORT (production); tcp:/unix: only under sim */
	uint8_t mrenclave[CK_SEAL_MRENCLAVE_MAX][32];
	size_t n_mrenclave;       /* >= 1 */
	bool has_isv_prod_id;
	uint16_t isv_prod_id;
	uint16_t min_isv_svn;
	unsigned timeout_ms;
};

int ck_seal_conf_parse(const char *json, size_t len, struct ck_seal_conf *c, struct cm_err *e);
/* <spec_dir>/keys/cocoon-seal.json. -ENOENT (with a message) when absent. */
int ck_seal_conf_load(const char *spec_dir, struct ck_seal_conf *c, struct cm_err *e);

/* What the quote is verified against. */
struct ck_seal_trust {
	X509 *anchor;            /* NULL = the pinned Intel SGX Root CA */
	uint8_t root_key_id[48]; /* the root the quote must chain to */
	char *collateral;        /* SGX collateral bundle (JSON) */
	size_t collateral_len;
	int64_t now;             /* verification time */
};

/* tdx: Intel's anchor and root key id, collateral <spec_dir>/runtime/seal-collateral.json.
 * sim: root.pem and sgx_collateral.json of $COCOON_SIM_DIR (default /run/cocoon/sim).
 * now = ck_seal_time_floor(time(NULL), collateral, anchor). */
int ck_seal_trust_load(const char *backend, const char *spec_dir, struct ck_seal_trust *t, struct cm_err *e);
void ck_seal_trust_free(struct ck_seal_trust *t);
/* The host sets the clock (docs/threat-model.md "Time"): max(now, COCOON_BUILD_TIME, the
 * newest TCB info / QE identity issueDate of the collateral when it loads against anchor). */
int64_t ck_seal_time_floor(int64_t now, const char *collateral, size_t len, X509 *anchor);

/* Is this server address allowed with this attestation backend? vsock always; tcp: and
 * unix: (test transports) only with the sim backend. */
int ck_seal_server_allowed(const char *server, const char *backend, struct cm_err *e);

/* The ephemeral key pair: pub64 = X_le || Y_le. */
struct ck_seal_eph {
	EVP_PKEY *key;
	uint8_t pub64[64];
};
int ck_seal_eph_new(struct ck_seal_eph *k, struct cm_err *e);
/* From a fixed big-endian private scalar (tests). */
int ck_seal_eph_from_priv(const uint8_t d[32], struct ck_seal_eph *k, struct cm_err *e);
void ck_seal_eph_free(struct ck_seal_eph *k);

/* REPORTDATA of the TDREPORT: SHA-256(pub64) || 0^32. */
int ck_seal_report_data(const uint8_t pub64[64], uint8_t rd[64]);

/* The request body; *len = 1104 + the padded key name's extra bytes (1116 for
 * "disk_encryption", 1104 for "app"). cap >= CK_SEAL_BODY_MAX is always enough. */
int ck_seal_request_encode(const uint8_t report[CA_TDREPORT_LEN], const uint8_t pub64[64], const char *key_name,
			   uint8_t *out, size_t cap, size_t *len, struct cm_err *e);

/* The response body (borrowed pointers into body). */
struct ck_seal_response {
	const uint8_t *quote;
	size_t quote_len;
	const uint8_t *secret; /* CK_SEAL_SECRET_LEN bytes: enclave X_le || Y_le || ciphertext */
};
int ck_seal_response_parse(const uint8_t *body, size_t len, struct ck_seal_response *r, struct cm_err *e);

/* Every check from seal_quote to seal_isv_svn; e->check names the failed one. */
int ck_seal_check(const struct ck_seal_conf *c, const struct ck_seal_trust *t, const struct ck_seal_response *r,
		  const uint8_t pub64[64], struct cm_err *e);

/* ECDH + SHA-256 + AES-128-CTR; every intermediate is wiped. */
int ck_seal_decrypt(EVP_PKEY *priv, const uint8_t secret[CK_SEAL_SECRET_LEN], uint8_t key[CK_SEAL_KEY_LEN],
		    struct cm_err *e);

/* Connect to vsock:CID:PORT, tcp:HOST:PORT or unix:PATH within timeout_ms. */
int ck_seal_connect(const char *server, unsigned timeout_ms, int *fd, struct cm_err *e);
/* Send one frame, read one frame (<= CK_SEAL_BODY_MAX) before the deadline; *resp malloc'd. */
int ck_seal_exchange(int fd, const uint8_t *req, size_t req_len, unsigned timeout_ms, uint8_t **resp,
		     size_t *resp_len, struct cm_err *e);

/* The whole client: key pair, TDREPORT through b, connect, exchange, checks, decrypt. */
int ck_seal_get_key(struct ca_backend *b, const struct ck_seal_conf *c, const struct ck_seal_trust *t,
		    const char *key_name, uint8_t key[CK_SEAL_KEY_LEN], struct cm_err *e);

#endif
