/* guest/keys: the provider interface and the debug provider. */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "guest/attest/attest.h"
#include "guest/keys/keys.h"
#include "measure/core/digest.h"

/* An in-memory attestation backend: records RTMR3 like a TD would. */
struct mem {
	uint8_t rtmr[4][48];
	int extends;
};

static int mem_open(struct ca_backend *b, struct cm_err *e)
{
	(void)e;
	if (!b->priv)
		b->priv = calloc(1, sizeof(struct mem));
	return 0;
}
static int mem_extend(struct ca_backend *b, int r, const uint8_t d[48], struct cm_err *e)
{
	(void)e;
	struct mem *m = b->priv;
	m->extends++;
	return cm_rtmr_extend(m->rtmr[r], d);
}
static int mem_read(struct ca_backend *b, int r, uint8_t out[48], struct cm_err *e)
{
	(void)e;
	memcpy(out, ((struct mem *)b->priv)->rtmr[r], 48);
	return 0;
}
static int mem_quote(struct ca_backend *b, const uint8_t rd[64], uint8_t **q, size_t *len, struct cm_err *e)
{
	(void)b;
	(void)rd;
	(void)q;
	(void)len;
	return cm_fail(e, -ENOTSUP, "no quotes");
}
static void mem_close(struct ca_backend *b) { free(b->priv); }
static const struct ca_ops mem_ops = {"mem", mem_open, mem_extend, mem_read, mem_quote, mem_close, NULL, NULL};

static struct ca_backend *mem_backend(void)
{
	struct ca_backend *b;
	struct cm_err e = {0};
	assert_int_equal(ca_open_ops(&mem_ops, NULL, NULL, &b, &e), 0);
	return b;
}

/* cmocka fixture: the in-memory backend and the debug provider opened with cocoon.debug. */
struct kctx {
	struct ca_backend *b;
	struct ck_provider *p;
};

static int debug_setup(void **state)
{
	struct kctx *k = calloc(1, sizeof *k);
	struct cm_err e = {0};
	k->b = mem_backend();
	struct ck_env env = {.attest = k->b, .debug = true};
	assert_int_equal(ck_open("debug", &env, &k->p, &e), 0);
	*state = k;
	return 0;
}

static int debug_teardown(void **state)
{
	struct kctx *k = *state;
	ck_close(k->p);
	ca_close(k->b);
	free(k);
	return 0;
}

static void test_keys_debug_refused_without_cocoon_debug(void **state)
{
	(void)state;
	struct ca_backend *b = mem_backend();
	struct ck_env env = {.attest = b, .debug = false};
	struct ck_provider *p = NULL;
	struct cm_err e = {0};
	assert_int_equal(ck_open("debug", &env, &p, &e), -EPERM);
	assert_null(p);
	assert_non_null(strstr(e.msg, "cocoon.debug"));
	assert_int_equal(((struct mem *)b->priv)->extends, 0); /* nothing measured */
	ca_close(b);
}

static void test_keys_debug_measures_cocoon_debug(void **state)
{
	struct ca_backend *b = ((struct kctx *)*state)->b;
	struct cm_err e = {0};
	uint8_t want[48] = {0}, d[48], got[48];
	cm_sha384("cocoon:cocoon_debug", 19, d);
	cm_rtmr_extend(want, d);
	assert_int_equal(ca_read(b, 3, got, &e), 0);
	assert_memory_equal(got, want, 48);
}

static void test_keys_debug_key_is_fixed_per_name(void **state)
{
	struct ck_provider *p = ((struct kctx *)*state)->p;
	struct cm_err e = {0};
	uint8_t k1[32], k2[32], k3[32], want[64];
	assert_int_equal(ck_derive(p, "disk_encryption", k1, sizeof k1, &e), 0);
	assert_int_equal(ck_derive(p, "disk_encryption", k2, sizeof k2, &e), 0);
	assert_int_equal(ck_derive(p, "app", k3, sizeof k3, &e), 0);
	assert_memory_equal(k1, k2, 32);
	assert_memory_not_equal(k1, k3, 32);
	/* documented derivation: SHA-512("cocoon debug key v1" || 0x00 || name) */
	const char msg[] = "cocoon debug key v1\0disk_encryption";
	SHA512((const unsigned char *)msg, sizeof msg - 1, want);
	assert_memory_equal(k1, want, 32);
}

static void test_keys_rejects_bad_names_and_lengths(void **state)
{
	struct kctx *kc = *state;
	struct ck_provider *p = kc->p, *none = NULL;
	struct ck_env env = {.attest = kc->b, .debug = true};
	struct cm_err e = {0};
	uint8_t k[65];
	assert_int_equal(ck_open("seal", &env, &none, &e), -ENOTSUP);
	assert_null(none);
	assert_non_null(strstr(e.msg, "not available"));
	assert_int_equal(ck_derive(p, "", k, 32, &e), -EINVAL);
	assert_int_equal(ck_derive(p, "Disk", k, 32, &e), -EINVAL);
	assert_int_equal(ck_derive(p, "a/b", k, 32, &e), -EINVAL);
	assert_int_equal(ck_derive(p, "disk", k, 0, &e), -EINVAL);
	assert_int_equal(ck_derive(p, "disk", k, 65, &e), -EINVAL);
}

/* APP_KEY (Cocoon's init: APP_KEY=$(base64 < app.key)): the provider's 32-byte "app" key in
 * standard base64 with padding. Vector computed independently with python3:
 * base64.b64encode(hashlib.sha512(b"cocoon debug key v1\x00app").digest()[:32]). */
static void test_keys_app_key_env(void **state)
{
	struct ck_provider *p = ((struct kctx *)*state)->p;
	struct cm_err e = {0};
	char env[CK_APP_KEY_ENV_MAX];
	assert_int_equal(ck_app_key_env(p, env, sizeof env, &e), 0);
	assert_string_equal(env, "APP_KEY=6NEfYuTn0bmOTbTHaOtTTyOMH906bAtFgpvRjTzn54U=");
	char small[CK_APP_KEY_ENV_MAX - 1];
	memset(small, 'x', sizeof small);
	assert_int_equal(ck_app_key_env(p, small, sizeof small, &e), -ENOSPC);
	for (size_t i = 0; i < sizeof small; i++) /* nothing of the key is left in the buffer */
		assert_int_equal(small[i], 0);
}

/* A provider whose derive fails: the error names the key, the buffer holds nothing. */
static int failing_open(struct ck_provider *p, struct cm_err *e) { (void)p, (void)e; return 0; }
static int failing_derive(struct ck_provider *p, const char *n, uint8_t *o, size_t l, struct cm_err *e)
{
	(void)p, (void)n;
	memset(o, 0xaa, l);
	return cm_fail(e, -EIO, "seal_timeout (no answer)");
}
static const struct ck_ops failing_ops = {.name = "failing", .open = failing_open, .derive = failing_derive};

static void test_keys_app_key_env_failure(void **state)
{
	(void)state;
	struct ck_provider p = {.ops = &failing_ops};
	struct cm_err e = {0};
	char env[CK_APP_KEY_ENV_MAX];
	memset(env, 'x', sizeof env);
	assert_int_equal(ck_app_key_env(&p, env, sizeof env, &e), -EIO);
	assert_non_null(strstr(e.msg, "key app"));
	assert_non_null(strstr(e.msg, "seal_timeout"));
	for (size_t i = 0; i < sizeof env; i++)
		assert_int_equal(env[i], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_debug_refused_without_cocoon_debug),
		cmocka_unit_test_setup_teardown(test_keys_debug_measures_cocoon_debug, debug_setup, debug_teardown),
		cmocka_unit_test_setup_teardown(test_keys_debug_key_is_fixed_per_name, debug_setup, debug_teardown),
		cmocka_unit_test_setup_teardown(test_keys_rejects_bad_names_and_lengths, debug_setup, debug_teardown),
		cmocka_unit_test_setup_teardown(test_keys_app_key_env, debug_setup, debug_teardown),
		cmocka_unit_test(test_keys_app_key_env_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
