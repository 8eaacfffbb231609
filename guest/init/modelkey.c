/* Step 10 for an encrypted model (see modelkey.h). */
#include "guest/init/modelkey.h"

#include <errno.h>
#include <libcryptsetup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "guest/init/boot.h"
#include "guest/init/log.h"
#include "guest/attest/attest.h"
#include "guest/gpu/nvml.h"
#include "guest/keyserver/client.h"

int ci_crypt_open_plain(const char *name, const char *dev, const uint8_t *key, size_t key_len, uint64_t sectors,
			char *mapper, size_t mappersz, struct cm_err *e)
{
	struct crypt_device *cd = NULL;
	int r = crypt_init(&cd, dev);
	if (r < 0)
		return cm_fail(e, r, "crypt %s: cannot open %s (%s)", name, dev, strerror(-r));
	struct crypt_params_plain p = {.hash = NULL, .offset = 0, .skip = 0, .size = sectors, .sector_size = 512};
	r = crypt_format(cd, CRYPT_PLAIN, CKS_CIPHER, CKS_CIPHER_MODE, NULL, NULL, key_len, &p);
	if (r == 0 && crypt_status(NULL, name) != CRYPT_INACTIVE)
		r = -EBUSY;
	if (r == 0)
		r = crypt_activate_by_volume_key(cd, name, (const char *)key, key_len, CRYPT_ACTIVATE_READONLY);
	crypt_free(cd);
	if (r < 0)
		return cm_fail(e, r, "crypt %s: plain %s-%s over %s failed (%s)", name, CKS_CIPHER, CKS_CIPHER_MODE, dev,
			       strerror(-r));
	snprintf(mapper, mappersz, "/dev/mapper/%s", name);
	return 0;
}

void ci_boot_model_key(struct ci_boot *b, const struct ci_model *m, const char *verity_dev, char *mapper,
		       size_t mappersz)
{
	struct cm_err e = {0};
	struct cks_target t = {.timeout_ms = m->ks_timeout_ms};
	uint8_t key[CKS_VOLUME_KEY_MAX];
	size_t len = 0;
	char dmname[64];
	snprintf(t.server, sizeof t.server, "%s", m->ks_address);
	t.has_pubkey = m->ks_has_public_key;
	memcpy(t.pubkey, m->ks_public_key, sizeof t.pubkey);
	memcpy(t.image_hashes, m->ks_image_hashes, sizeof t.image_hashes);
	t.n_image_hashes = m->ks_n_image_hashes;
	/* The key server's quote: under sim the CA the host seeded (/run/cocoon/sim), else Intel's
	 * root with the host-provided (unmeasured) collateral of the spec's runtime/. */
	if (strcmp(b->attest->ops->name, "sim") == 0) {
		const char *d = getenv("COCOON_SIM_DIR") ? getenv("COCOON_SIM_DIR") : "/run/cocoon/sim";
		snprintf(t.root, sizeof t.root, "%s/root.pem", d);
		snprintf(t.collateral, sizeof t.collateral, "%s/collateral.json", d);
	} else {
		snprintf(t.collateral, sizeof t.collateral, "%s/%s", CI_SPEC_DIR, CI_KEYSERVER_COLLATERAL);
	}
	ci_log("volume model-%s: key for %s from %s", m->name, m->model_string, m->ks_address);
	/* A spec that requires a GPU (step 7 verified them) also shows the GPUs' evidence to the
	 * key server, bound to this certificate's key, for key servers whose policy has "gpu". */
	int r = cks_fetch_key(b->attest, CI_EVENT_LOG, b->spec.gpu_required ? CG_NVML_LIB : NULL, &t, m->model_string,
			      m->key_bytes, key, &len, &e);
	if (r < 0) {
		OPENSSL_cleanse(key, sizeof key);
		ci_fatal("models", "model %s: %s: %s", m->name, e.check ? e.check : "keyserver", e.msg);
	}
	snprintf(dmname, sizeof dmname, "model-%s", m->name);
	r = ci_crypt_open_plain(dmname, verity_dev, key, len, m->data_blocks * (CI_VERITY_BLOCK / 512), mapper,
				mappersz, &e);
	OPENSSL_cleanse(key, sizeof key);
	if (r < 0)
		ci_fatal("models", "model %s: %s", m->name, e.msg);
}
