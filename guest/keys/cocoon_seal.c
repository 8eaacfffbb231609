/* The `cocoon-seal` key provider: each derive() is one exchange with Cocoon's seal server
 * (seal.h). Configured by the measured spec's keys/cocoon-seal.json; the quote's
 * collateral and trust anchor follow the attestation backend (ck_seal_trust_load). Opening
 * it extends nothing: the keys are bound to the TD's registers at request time. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "guest/keys/keys.h"
#include "guest/keys/seal.h"

struct seal_priv {
	struct ck_seal_conf conf;
	struct ck_seal_trust trust;
};

static int seal_open(struct ck_provider *p, struct cm_err *e)
{
	if (!p->env.attest || !p->env.spec_dir)
		return cm_fail(e, -EINVAL, "needs an attestation backend and the measured spec");
	struct seal_priv *s = calloc(1, sizeof(*s));
	if (!s)
		return cm_fail(e, -ENOMEM, "out of memory");
	int rc;
	if ((rc = ck_seal_conf_load(p->env.spec_dir, &s->conf, e)) ||
	    (rc = ck_seal_server_allowed(s->conf.server, p->env.attest->ops->name, e)) ||
	    (rc = ck_seal_trust_load(p->env.attest->ops->name, p->env.spec_dir, &s->trust, e))) {
		free(s);
		return cm_err_prefix(e, "seal_config");
	}
	p->priv = s;
	return 0;
}

static int seal_derive(struct ck_provider *p, const char *key_name, uint8_t *out, size_t len, struct cm_err *e)
{
	struct seal_priv *s = p->priv;
	if (len != CK_SEAL_KEY_LEN)
		return cm_fail(e, -EINVAL, "seal keys are %d bytes (asked for %zu)", CK_SEAL_KEY_LEN, len);
	return ck_seal_get_key(p->env.attest, &s->conf, &s->trust, key_name, out, e);
}

static void seal_close(struct ck_provider *p)
{
	struct seal_priv *s = p->priv;
	if (!s)
		return;
	ck_seal_trust_free(&s->trust);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
	p->priv = NULL;
}

const struct ck_ops ck_seal_ops = {
	.name = "cocoon-seal",
	.open = seal_open,
	.derive = seal_derive,
	.close = seal_close,
};
