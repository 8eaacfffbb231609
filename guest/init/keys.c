/* Boot step 8 (keys): the key provider (guest/keys), the persistent volume's
 * disk_encryption key and the services' APP_KEY, then RTMR3 <- cocoon:tdx_inited. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "guest/init/boot.h"
#include "guest/init/log.h"
#include "guest/init/luks.h"
#include "guest/keys/keys.h"
#include "measure/eventlog/rtmr3.h"

#define DISK_KEY_NAME "disk_encryption"
#define TOKEN_COPY "/run/cocoon/persistent-token.luks-header"

/* The tpm2 provider keeps its sealed secret in a LUKS2 token on the persistent volume
 * (guest/keys/tpm2.h): read it from a strictly checked private copy of the header, or
 * NULL for a blank volume (the provider then seals a new secret, stored by step 9). */
static char *tpm2_token(struct ci_boot *b)
{
	struct cm_err e = {0};
	char dev[300], *json = NULL;
	if (!b->spec.persistent)
		ci_fatal("keys", "the tpm2 key provider keeps its sealed secret on the persistent volume; the spec has none");
	ci_boot_wait_disk(b, "persistent", dev, sizeof dev);
	int blank = ci_blank_check(dev, &e);
	if (blank < 0)
		ci_fatal("keys", "%s", e.msg);
	if (blank == 1)
		return NULL;
	unlink(TOKEN_COPY);
	if (ci_luks_copy_and_check(dev, TOKEN_COPY, b->spec.persistent_integrity, CI_LUKS_TOKEN_TPM2, &e) < 0 ||
	    ci_luks_token_read(TOKEN_COPY, CI_LUKS_TOKEN_TPM2, &json, &e) < 0)
		ci_fatal("keys", "tpm2: %s is not blank and has no acceptable LUKS2 header with a " CI_LUKS_TOKEN_TPM2
				 " token: %s", dev, e.msg);
	unlink(TOKEN_COPY);
	return json;
}

void ci_boot_keys(struct ci_boot *b)
{
	struct cm_err e = {0};
	/* cocoon.keys=, else cocoon-seal when the measured spec configures it, else debug
	 * with cocoon.debug. Order (Cocoon's): spec.tree -> (debug) -> derive -> tdx_inited. */
	const char *name = ck_select(b->cmd.keys, CI_SPEC_DIR, b->cmd.debug);
	struct ck_provider *kp = NULL;
	b->have_disk_key = false;
	if (name) {
		struct ck_env env = {.attest = b->attest, .debug = b->cmd.debug, .spec_dir = CI_SPEC_DIR};
		char *token = NULL;
		if (strcmp(name, "tpm2") == 0) {
			env.sealed_token = token = tpm2_token(b);
			b->luks_token = CI_LUKS_TOKEN_TPM2;
		}
		if (ck_open(name, &env, &kp, &e) < 0)
			ci_fatal("keys", "%s", e.msg);
		free(token);
		const char *made = ck_new_token(kp);
		if (made && !(b->luks_token_new = strdup(made)))
			ci_fatal("keys", "out of memory");
		ci_log("key provider %s%s", name, made ? " (sealed a new secret for the blank persistent volume)" : "");
		if (b->spec.persistent) {
			if (ck_derive(kp, DISK_KEY_NAME, b->disk_key, sizeof b->disk_key, &e) < 0)
				ci_fatal("keys", "%s", e.msg);
			b->have_disk_key = true;
		}
		/* Cocoon's init derives "app" after "disk_encryption" in every boot; services
		 * get APP_KEY = base64 of it (never logged). */
		char app[CK_APP_KEY_ENV_MAX];
		if (ck_app_key_env(kp, app, sizeof app, &e) < 0)
			ci_fatal("keys", "%s", e.msg);
		int r = ci_spec_add_env(&b->spec, app, &e);
		OPENSSL_cleanse(app, sizeof app);
		if (r < 0)
			ci_fatal("keys", "%s", e.msg);
		ck_close(kp);
		ci_log("keys: %s" CK_APP_KEY_NAME " derived; " CK_APP_KEY_ENV " set for %d service(s)",
		       b->have_disk_key ? DISK_KEY_NAME ", " : "", b->spec.n_services);
	}
	ci_boot_extend(b, "keys", CM_EVENT_TDX_INITED);
	ci_boot_log_rtmr3(b, "after tdx_inited");
}
