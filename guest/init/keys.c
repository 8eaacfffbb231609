/* Boot step 8 (keys): the key provider (guest/keys), the persistent volume's
 * disk_encryption key and the services' APP_KEY, then RTMR3 <- cocoon:tdx_inited. */
#include <openssl/crypto.h>

#include "guest/init/boot.h"
#include "guest/init/log.h"
#include "guest/keys/keys.h"
#include "measure/eventlog/rtmr3.h"

#define DISK_KEY_NAME "disk_encryption"

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
		if (ck_open(name, &env, &kp, &e) < 0)
			ci_fatal("keys", "%s", e.msg);
		ci_log("key provider %s", name);
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
