/* Key providers (DESIGN.md boot step 8): where cocoon-init gets the secrets that
 * unlock the persistent volume (and later the application's key).
 *
 * A provider is opened once, after the spec is measured and before
 * "cocoon:tdx_inited" is extended. Opening may itself extend RTMR3 (the debug
 * provider measures "cocoon:cocoon_debug"), so every provider's use is visible in the
 * quote. derive() returns a key bound to key_name (e.g. "disk_encryption"); providers
 * that bind keys to the TD's measurements (seal-server, TPM2 PolicyPCR) do the binding
 * at derive time, which is why init extends "cocoon:tdx_inited" only after all
 * derives: later requests see a different RTMR3 and get different keys.
 *
 * Providers:
 *   debug   a fixed, publicly known key derivation; allowed only with cocoon.debug.
 *   cocoon-seal  Cocoon's seal server over vsock: TDREPORT via ca_tdreport(),
 *           getPersistentKey(key_name), 32-byte keys (seal.h, docs/keys.md).
 *   tpm2    a root secret sealed by the TPM to a PolicyPCR, kept in a LUKS2 token on the
 *           persistent volume (tpm2.h; only in binaries linked with guest/keys/tpm2.o and
 *           tpm2-tss). Not for confidentiality against a host that emulates the TPM.
 */
#ifndef COCOON_GUEST_KEYS_H
#define COCOON_GUEST_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/attest/attest.h"
#include "measure/core/util.h"

#define CK_KEY_MAX 64
#define CK_NAME_MAX 64

/* What a provider may use. */
struct ck_env {
	struct ca_backend *attest; /* RTMR3 events, quotes, TDREPORTs */
	bool debug;                /* cocoon.debug on the measured cmdline */
	const char *spec_dir;      /* measured spec (provider configuration may live there) */
	/* tpm2: the cocoon-tpm2 token JSON read from the persistent volume's LUKS2 header, or
	 * NULL for a blank volume (the provider then seals a new secret, tpm2.h). */
	const char *sealed_token;
};

struct ck_provider;

struct ck_ops {
	const char *name;
	/* Check preconditions, connect, and measure the provider's use into RTMR3. */
	int (*open)(struct ck_provider *p, struct cm_err *e);
	/* len bytes of key material for key_name ([a-z0-9_-], 1..CK_NAME_MAX). */
	int (*derive)(struct ck_provider *p, const char *key_name, uint8_t *out, size_t len, struct cm_err *e);
	void (*close)(struct ck_provider *p);
	/* Optional: the token a provider sealed for a blank persistent volume (tpm2), which the
	 * caller stores on the volume after formatting it; NULL when there is none. */
	const char *(*new_token)(struct ck_provider *p);
};

struct ck_provider {
	const struct ck_ops *ops;
	struct ck_env env;
	void *priv;
};

/* RTMR3 event of the debug provider: CM_EVENT_DEBUG ("cocoon:cocoon_debug"). */

/* The measured spec's seal settings; their presence selects cocoon-seal. */
#define CK_SPEC_SEAL_CONF "keys/cocoon-seal.json"

/* Which provider a boot uses: the measured cmdline's cocoon.keys= when given; else
 * cocoon-seal when the measured spec has keys/cocoon-seal.json; else tpm2 when it has
 * keys/tpm2.json; else debug with cocoon.debug; else none (NULL). */
const char *ck_select(const char *requested, const char *spec_dir, bool debug);

/* The application's key (Cocoon's init: key "app", services get APP_KEY=$(base64 < app.key)). */
#define CK_APP_KEY_NAME "app"
#define CK_APP_KEY_LEN 32
#define CK_APP_KEY_ENV "APP_KEY"
/* "APP_KEY=" + base64 of 32 bytes (44) + NUL */
#define CK_APP_KEY_ENV_MAX (sizeof CK_APP_KEY_ENV + 1 + 4 * ((CK_APP_KEY_LEN + 2) / 3))

/* Derive the "app" key with p and write "APP_KEY=<standard base64, padded>" to out (cap >=
 * CK_APP_KEY_ENV_MAX). Every intermediate is wiped; on any failure out is all zeros. */
int ck_app_key_env(struct ck_provider *p, char *out, size_t cap, struct cm_err *e);

int ck_open(const char *name, const struct ck_env *env, struct ck_provider **out, struct cm_err *e);
int ck_derive(struct ck_provider *p, const char *key_name, uint8_t *out, size_t len, struct cm_err *e);
void ck_close(struct ck_provider *p);

/* The provider's new token (ck_ops.new_token), NULL when it has none. Valid until ck_close. */
const char *ck_new_token(struct ck_provider *p);

#endif
