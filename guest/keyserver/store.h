/* The key server's key store (docs/keys.md "Key server"): a directory on its persistent
 * volume. Every secret in it is sealed with AES-256-GCM under a wrapping key derived
 * (HKDF-SHA-256, info CKS_WRAP_INFO) from the server's own sealed secret, which comes from
 * the appliance's key provider (guest/keys: the APP_KEY cocoon-init gives the service) or,
 * on a development host, from a key file.
 *   grants/<sha256 hex of the model string>.json  {"version": 1, "model": M, "sealed": hex}
 *        sealed = nonce(12) || AES-256-GCM(grant JSON {"key", "image_hashes", "rtmr3"}) || tag(16),
 *        AAD = "grant:" || M
 *   identity.json   {"version": 1, "sealed": hex}: the Ed25519 identity key (AAD "identity")
 *   admin.seq       the largest admin request seq accepted (decimal) */
#ifndef COCOON_KEYSERVER_STORE_H
#define COCOON_KEYSERVER_STORE_H

#include <stdint.h>

#include <openssl/evp.h>

#include "guest/keyserver/proto.h"

#define CKS_WRAP_INFO "cocoon-keyserver key wrap v1"

struct cks_store {
	char dir[256];
	uint8_t wrap[32];
};

/* Open (create) the store at dir with the server's secret (>= 32 bytes). */
int cks_store_open(struct cks_store *s, const char *dir, const uint8_t *secret, size_t secret_len,
		   struct cm_err *e);
void cks_store_close(struct cks_store *s);

/* Write (replace) a grant. */
int cks_store_put(struct cks_store *s, const struct cks_grant *g, struct cm_err *e);
/* -ENOENT (check "unknown_model") when the model has no grant; -EBADMSG (check
 * "store_unseal") when its record does not unseal. */
int cks_store_get(struct cks_store *s, const char *model, struct cks_grant *g, struct cm_err *e);
/* Every grant, keys wiped (for `list`); *n grants in a malloc'd array. */
int cks_store_list(struct cks_store *s, struct cks_grant **out, size_t *n, struct cm_err *e);

/* Accept seq when larger than the stored one, and store it (check "admin_replay"). */
int cks_store_seq(struct cks_store *s, uint64_t seq, struct cm_err *e);

/* The server's identity key: loaded, or created and stored on first use. */
int cks_store_identity(struct cks_store *s, EVP_PKEY **key, struct cm_err *e);

#endif
