/* Key provider dispatcher. */
#include "guest/keys/keys.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

extern const struct ck_ops ck_debug_ops;
extern const struct ck_ops ck_seal_ops;
/* guest/keys/tpm2.c, linked (as an object, with tpm2-tss) only into the programs that need
 * it: the weak reference is NULL elsewhere and keeps tss2 out of them. */
extern const struct ck_ops ck_tpm2_ops __attribute__((weak));

const char *ck_select(const char *requested, const char *spec_dir, bool debug)
{
	if (requested && *requested)
		return requested;
	char path[512];
	if (spec_dir && (size_t)snprintf(path, sizeof path, "%s/%s", spec_dir, CK_SPEC_SEAL_CONF) < sizeof path &&
	    access(path, F_OK) == 0)
		return "cocoon-seal";
	if (spec_dir && (size_t)snprintf(path, sizeof path, "%s/%s", spec_dir, "keys/tpm2.json") < sizeof path &&
	    access(path, F_OK) == 0)
		return "tpm2";
	return debug ? "debug" : NULL;
}

int ck_open(const char *name, const struct ck_env *env, struct ck_provider **out, struct cm_err *e)
{
	*out = NULL;
	const struct ck_ops *const providers[] = {&ck_debug_ops, &ck_seal_ops, &ck_tpm2_ops};
	const struct ck_ops *ops = NULL;
	for (size_t i = 0; i < sizeof providers / sizeof providers[0]; i++)
		if (providers[i] && name && strcmp(providers[i]->name, name) == 0)
			ops = providers[i];
	if (!ops)
		return cm_fail(e, -ENOTSUP, "key provider \"%.32s\" is not available in this build (have: debug, cocoon-seal%s)",
			       name ? name : "", &ck_tpm2_ops ? ", tpm2" : "");
	struct ck_provider *p = calloc(1, sizeof *p);
	if (!p)
		return cm_fail(e, -ENOMEM, "out of memory");
	p->ops = ops;
	p->env = *env;
	int r = ops->open(p, e);
	if (r < 0) {
		free(p);
		return cm_err_prefix(e, "key provider %s", ops->name);
	}
	*out = p;
	return 0;
}

int ck_derive(struct ck_provider *p, const char *key_name, uint8_t *out, size_t len, struct cm_err *e)
{
	size_t n = key_name ? strlen(key_name) : 0;
	if (n == 0 || n > CK_NAME_MAX)
		return cm_fail(e, -EINVAL, "key name must be 1..%d bytes", CK_NAME_MAX);
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)key_name[i]) && !isdigit((unsigned char)key_name[i]) &&
		    key_name[i] != '_' && key_name[i] != '-')
			return cm_fail(e, -EINVAL, "key name \"%.64s\": only [a-z0-9_-]", key_name);
	if (len == 0 || len > CK_KEY_MAX)
		return cm_fail(e, -EINVAL, "key length must be 1..%d bytes", CK_KEY_MAX);
	int r = p->ops->derive(p, key_name, out, len, e);
	if (r < 0)
		return cm_err_prefix(e, "key provider %s: key %s", p->ops->name, key_name);
	return 0;
}

int ck_app_key_env(struct ck_provider *p, char *out, size_t cap, struct cm_err *e)
{
	memset(out, 0, cap);
	if (cap < CK_APP_KEY_ENV_MAX)
		return cm_fail(e, -ENOSPC, "%s needs %zu bytes", CK_APP_KEY_ENV, (size_t)CK_APP_KEY_ENV_MAX);
	uint8_t key[CK_APP_KEY_LEN];
	int r = ck_derive(p, CK_APP_KEY_NAME, key, sizeof key, e);
	if (r == 0) {
		memcpy(out, CK_APP_KEY_ENV "=", sizeof CK_APP_KEY_ENV);
		EVP_EncodeBlock((unsigned char *)out + sizeof CK_APP_KEY_ENV, key, (int)sizeof key);
	} else {
		memset(out, 0, cap);
	}
	OPENSSL_cleanse(key, sizeof key);
	return r;
}

const char *ck_new_token(struct ck_provider *p)
{
	return p && p->ops->new_token ? p->ops->new_token(p) : NULL;
}

void ck_close(struct ck_provider *p)
{
	if (!p)
		return;
	if (p->ops->close)
		p->ops->close(p);
	free(p);
}
