/* The GPU evidence certificate extension (measure/ratls/gpuext.c) and the peer policy key
 * "gpu" (measure/ratls/peer.c). NVIDIA's recorded evidence carries fixed nonces, so no
 * certificate can carry fixture evidence that verifies for its own key: the verify tests show
 * the nonce binding refusing exactly that, and a GPU-requiring policy refusing a certificate
 * without the extension. */
#include "tests/unit/test_ratls_ca.h"

#include <errno.h>

#include <openssl/x509.h>

#include "guest/gpu/nvml.h"
#include "guest/ratls/identity.h"
#include "measure/gpu/gpu.h"
#include "measure/ratls/gpuext.h"
#include "tests/unit/fake_nvml.h"

static struct testca *T;
static struct fake_nvml F;
static uint8_t *g1_report, *g3_report;
static size_t g1_len, g3_len;
static char *g1_chain, *g3_chain;
static size_t g1_chain_len, g3_chain_len;

static uint8_t *hex_fixture(const char *rel, size_t *len)
{
	size_t n;
	uint8_t *txt = fixture_read(rel, &n);
	while (n && (txt[n - 1] == '\n' || txt[n - 1] == '\r' || txt[n - 1] == ' '))
		txt[--n] = '\0';
	uint8_t *b = hex_to_bytes((const char *)txt, len);
	free(txt);
	assert_non_null(b);
	return b;
}

static int setup(void **state)
{
	(void)state;
	T = testca_new();
	cr_verifier_set_gpu(cr_gpu_ext_verify); /* as cocoon-ratls does at start (peer.h) */
	if (fake_nvml_load(&F))
		return -1;
	g1_report = hex_fixture("gpu/nvtrust_sample_550/hopperAttestationReport.txt", &g1_len);
	g3_report = hex_fixture("gpu/invalid_signature/hopperAttestationReportInvalidSignature.txt", &g3_len);
	g1_chain = (char *)fixture_read("gpu/nvtrust_sample_550/hopperCertChain.txt", &g1_chain_len);
	g3_chain = (char *)fixture_read("gpu/invalid_signature/hopperCertChainExpired.txt", &g3_chain_len);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	testca_free(T);
	dlclose(F.dl);
	free(g1_report);
	free(g3_report);
	free(g1_chain);
	free(g3_chain);
	return 0;
}

/* A production-like system with n GPUs: G1's evidence, then G3's. */
static struct cr_gpu_ext ext(unsigned n)
{
	struct cr_gpu_ext x = {.sys = {.cc_on = true, .production_env = true, .multi = CM_GPU_MULTI_NONE, .count = n}};
	snprintf(x.sys.driver_version, sizeof(x.sys.driver_version), "550.90.07");
	for (unsigned i = 0; i < n; i++) {
		x.sys.arch[i] = 9;
		x.gpu[i] = i % 2 ? (struct cm_gpu_evidence){g3_report, g3_len, (uint8_t *)g3_chain, g3_chain_len}
				 : (struct cm_gpu_evidence){g1_report, g1_len, (uint8_t *)g1_chain, g1_chain_len};
	}
	return x;
}

static void round_trip_keeps_every_field(void **s)
{
	(void)s;
	struct cr_gpu_ext x = ext(2), y;
	x.sys.devtools_on = true;
	x.sys.multi = CM_GPU_MULTI_PPCIE;
	x.sys.arch[1] = 10;
	uint8_t *der, *again;
	size_t len, len2;
	struct cm_err e = {0};
	assert_int_equal(cr_gpu_ext_encode(&x, &der, &len, &e), 0);
	assert_true(len > g1_len + g3_len + g1_chain_len + g3_chain_len);
	assert_true(len <= CR_GPU_EXT_MAX);
	assert_int_equal(cr_gpu_ext_decode(der, len, &y, &e), 0);
	assert_int_equal(y.sys.count, 2);
	assert_true(y.sys.cc_on && y.sys.devtools_on && y.sys.production_env);
	assert_int_equal(y.sys.multi, CM_GPU_MULTI_PPCIE);
	assert_string_equal(y.sys.driver_version, "550.90.07");
	assert_int_equal(y.sys.arch[0], 9);
	assert_int_equal(y.sys.arch[1], 10);
	assert_int_equal(y.gpu[0].report_len, g1_len);
	assert_memory_equal(y.gpu[0].report, g1_report, g1_len);
	assert_int_equal(y.gpu[1].chain_len, g3_chain_len);
	assert_memory_equal(y.gpu[1].chain_pem, g3_chain, g3_chain_len);
	/* DER is canonical: decoding and encoding again gives the same bytes */
	assert_int_equal(cr_gpu_ext_encode(&y, &again, &len2, &e), 0);
	assert_int_equal(len2, len);
	assert_memory_equal(again, der, len);
	free(again);
	/* and the first bytes are what docs/formats.md says: SEQUENCE, long form, INTEGER 1 */
	assert_int_equal(der[0], 0x30);
	assert_int_equal(der[1], 0x82);
	free(der);
}

static void decode_refuses_malformed(void **s)
{
	(void)s;
	struct cr_gpu_ext x = ext(1), y;
	uint8_t *der;
	size_t len;
	struct cm_err e = {0};
	assert_int_equal(cr_gpu_ext_encode(&x, &der, &len, &e), 0);
	for (size_t n = 0; n < len; n += (n < 64 ? 1 : 97)) { /* every truncation */
		assert_int_equal(cr_gpu_ext_decode(der, n, &y, &e), -EBADMSG);
		assert_string_equal(e.check, "gpu_ext");
	}
	uint8_t *longer = malloc(len + 1);
	memcpy(longer, der, len);
	longer[len] = 0;
	assert_int_equal(cr_gpu_ext_decode(longer, len + 1, &y, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "trailing"));
	free(longer);
	/* SEQUENCE 30 82 LL LL, version 02 01 01 at offset 4 */
	assert_int_equal(der[6], 1);
	der[6] = 2;
	assert_int_equal(cr_gpu_ext_decode(der, len, &y, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "version 2"));
	der[6] = 1;
	/* system SEQUENCE at 7 (30 LL), ccOn BOOLEAN 01 01 ff at 9 */
	assert_int_equal(der[11], 0xff);
	der[11] = 0x01;
	assert_int_equal(cr_gpu_ext_decode(der, len, &y, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "DER BOOLEAN"));
	der[11] = 0xff;
	assert_int_equal(cr_gpu_ext_decode(der, len, &y, &e), 0);
	free(der);
	/* the encoder refuses what the format does not allow */
	x = ext(1);
	x.sys.count = 0;
	assert_int_equal(cr_gpu_ext_encode(&x, &der, &len, &e), -EINVAL);
	x = ext(CM_GPU_MAX);
	x.sys.count = CM_GPU_MAX + 1;
	assert_int_equal(cr_gpu_ext_encode(&x, &der, &len, &e), -EINVAL);
	x = ext(1);
	x.gpu[0].report_len = CR_GPU_REPORT_MAX + 1;
	assert_int_equal(cr_gpu_ext_encode(&x, &der, &len, &e), -EINVAL);
	x = ext(1);
	x.sys.driver_version[0] = '\0';
	assert_int_equal(cr_gpu_ext_encode(&x, &der, &len, &e), -EINVAL);
}

static void eight_gpus_fit_and_decode(void **s)
{
	(void)s;
	struct cr_gpu_ext x = ext(CM_GPU_MAX), y;
	uint8_t *der;
	size_t len;
	struct cm_err e = {0};
	assert_int_equal(cr_gpu_ext_encode(&x, &der, &len, &e), 0);
	assert_int_equal(cr_gpu_ext_decode(der, len, &y, &e), 0);
	assert_int_equal(y.sys.count, CM_GPU_MAX);
	free(der);
}

static void nonce_is_sha256_of_the_certificate_spki(void **s)
{
	(void)s;
	EVP_PKEY *k;
	X509 *x = testca_cert(T, &k, 0, time(NULL) - 60);
	uint8_t nonce[CM_GPU_NONCE_LEN], want[32];
	struct cm_err e = {0};
	assert_int_equal(cr_gpu_nonce(X509_get0_pubkey(x), nonce, &e), 0);
	/* the SubjectPublicKeyInfo as the certificate carries it (Ed25519: 44 bytes) */
	unsigned char *spki = NULL;
	int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
	assert_int_equal(n, 44);
	cm_sha256(spki, (size_t)n, want);
	assert_memory_equal(nonce, want, 32);
	OPENSSL_free(spki);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* An attested certificate for a new key carrying ext (NULL: none). */
static X509 *cert_with(const struct cr_gpu_ext *x, EVP_PKEY **k)
{
	struct cm_err e = {0};
	*k = cr_key_new(&e);
	size_t qlen, glen = 0;
	uint8_t *q = testca_quote(T, *k, 0, &qlen), *g = NULL;
	if (x)
		assert_int_equal(cr_gpu_ext_encode(x, &g, &glen, &e), 0);
	X509 *c = NULL;
	assert_int_equal(cr_cert_build_gpu(*k, q, qlen, (const uint8_t *)test_event_log, strlen(test_event_log), g,
					   glen, time(NULL) - 60, &c, &e),
			 0);
	free(q);
	free(g);
	return c;
}

/* A peer policy of type, named name, requiring the GPU policy gpu. */
static struct cr_policy_conf gpu_conf(enum cr_policy_type type, const char *name, const char *gpu)
{
	struct cr_policy_conf c = {.type = type};
	snprintf(c.name, sizeof(c.name), "%s", name);
	snprintf(c.gpu, sizeof(c.gpu), "%s", gpu);
	return c;
}

static struct cr_verifier *verifier_with_gpu_policy(const char *gpu)
{
	struct cr_verifier *v = testca_verifier(T, NULL, 16);
	struct cr_policy_conf c = gpu_conf(CR_POLICY_TDX, "simgpu", gpu);
	struct cm_err e = {0};
	snprintf(c.root, sizeof(c.root), "%s", T->root);
	snprintf(c.collateral, sizeof(c.collateral), "%s", T->collateral);
	if (cr_verifier_add_policy(v, &c, &e))
		fail_msg("policy: %s", e.msg);
	return v;
}

static void policy_requiring_gpu_refuses_certificate_without_evidence(void **s)
{
	(void)s;
	struct cr_verifier *v = verifier_with_gpu_policy("default");
	EVP_PKEY *k;
	X509 *x = cert_with(NULL, &k);
	struct cr_peer p;
	struct cm_err e = {0};
	assert_int_equal(cr_peer_verify(v, cr_verifier_policy(v, "simgpu"), x, time(NULL), &p, &e), -EACCES);
	assert_string_equal(p.failed_check, "gpu_missing");
	assert_false(p.attested);
	/* the same certificate is fine for a policy without "gpu" */
	assert_int_equal(cr_peer_verify(v, cr_verifier_policy(v, "sim"), x, time(NULL), &p, &e), 0);
	assert_int_equal(p.gpus, 0);
	X509_free(x);
	EVP_PKEY_free(k);
	cr_verifier_free(v);
}

/* A program that installed no GPU verifier (cocoon-init) refuses a policy with "gpu" at load:
 * never a policy that silently skips the GPUs. */
static void gpu_policy_without_installed_verifier_refused(void **s)
{
	(void)s;
	cr_verifier_set_gpu(NULL);
	struct cm_err e = {0};
	struct cr_verifier *v = cr_verifier_new(1, 60, &e);
	struct cr_policy_conf c = gpu_conf(CR_POLICY_TDX, "tdxgpu", "default");
	assert_int_equal(cr_verifier_add_policy(v, &c, &e), -ENOTSUP);
	assert_non_null(strstr(e.msg, "gpu verifier not available in this program"));
	assert_null(cr_verifier_policy(v, "tdxgpu"));
	cr_verifier_free(v);
	cr_verifier_set_gpu(cr_gpu_ext_verify);
}

static void fixture_evidence_fails_the_nonce_binding(void **s)
{
	(void)s;
	/* G1 verifies for its own recorded nonce; in a certificate the nonce is the key's */
	struct cr_verifier *v = verifier_with_gpu_policy("default");
	struct cr_gpu_ext gx = ext(1);
	EVP_PKEY *k;
	X509 *x = cert_with(&gx, &k);
	struct cr_peer p;
	struct cm_err e = {0};
	assert_int_equal(cr_peer_verify(v, cr_verifier_policy(v, "simgpu"), x, time(NULL), &p, &e), -EBADMSG);
	assert_string_equal(p.failed_check, "gpu_nonce");
	assert_non_null(strstr(e.msg, "GPU 0"));
	assert_false(p.attested);
	/* a policy without "gpu" does not read the (non-critical) extension */
	assert_int_equal(cr_peer_verify(v, cr_verifier_policy(v, "sim"), x, time(NULL), &p, &e), 0);
	X509_free(x);
	EVP_PKEY_free(k);
	cr_verifier_free(v);
}

static void any_policy_cannot_require_gpu(void **s)
{
	(void)s;
	struct cm_err e = {0};
	struct cr_verifier *v = cr_verifier_new(1, 60, &e);
	struct cr_policy_conf c = gpu_conf(CR_POLICY_ANY, "anygpu", "default");
	assert_int_equal(cr_verifier_add_policy(v, &c, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "cannot require GPU evidence"));
	snprintf(c.gpu, sizeof(c.gpu), "/nonexistent/gpu-policy.json");
	c.type = CR_POLICY_TDX;
	assert_true(cr_verifier_add_policy(v, &c, &e) < 0);
	cr_verifier_free(v);
}

/* cocoon-ratls's side (guest/ratls/identity.c): NVML's state and every GPU's evidence for
 * the nonce of the new key, through the fake NVML serving G1's recorded evidence. */
static void identity_collects_evidence_of_every_gpu_for_its_key(void **s)
{
	(void)s;
	struct fake_nvml_conf c = {.environment = NVML_CC_SYSTEM_ENVIRONMENT_PROD,
				   .cc_feature = NVML_CC_SYSTEM_FEATURE_ENABLED,
				   .driver = "550.90.07",
				   .count = 2};
	for (unsigned i = 0; i < 2; i++) {
		c.gpu[i].arch = NVML_DEVICE_ARCH_HOPPER;
		snprintf(c.gpu[i].report_path, sizeof(c.gpu[i].report_path), "%s",
			 fixture_path("gpu/nvtrust_sample_550/hopperAttestationReport.txt"));
		snprintf(c.gpu[i].chain_path, sizeof(c.gpu[i].chain_path), "%s",
			 fixture_path("gpu/nvtrust_sample_550/hopperCertChain.txt"));
	}
	F.configure(&c);
	struct cm_err e = {0};
	EVP_PKEY *k = cr_key_new(&e);
	uint8_t *der, nonce[CM_GPU_NONCE_LEN];
	size_t len;
	if (cr_identity_gpu_evidence(F.path, k, &der, &len, &e))
		fail_msg("%s", e.msg);
	struct cr_gpu_ext x;
	assert_int_equal(cr_gpu_ext_decode(der, len, &x, &e), 0);
	assert_int_equal(x.sys.count, 2);
	assert_true(x.sys.cc_on && x.sys.production_env && !x.sys.devtools_on);
	assert_string_equal(x.sys.driver_version, "550.90.07");
	assert_int_equal(x.sys.arch[1], 9);
	assert_int_equal(x.gpu[1].report_len, g1_len);
	assert_memory_equal(x.gpu[1].report, g1_report, g1_len);
	assert_memory_equal(x.gpu[0].chain_pem, g1_chain, g1_chain_len);
	/* NVML was asked with nonce = SHA-256(SPKI of the new key), for every GPU */
	assert_int_equal(cr_gpu_nonce(k, nonce, &e), 0);
	assert_memory_equal(F.nonce(0), nonce, CM_GPU_NONCE_LEN);
	assert_memory_equal(F.nonce(1), nonce, CM_GPU_NONCE_LEN);
	/* recorded evidence cannot answer that nonce */
	struct cm_gpu_policy *p;
	unsigned n;
	assert_int_equal(cm_gpu_policy_default(&p, &e), 0);
	assert_int_equal(cr_gpu_ext_verify(der, len, k, p, time(NULL), &n, &e), -EBADMSG);
	assert_string_equal(e.check, "gpu_nonce");
	cm_gpu_policy_free(p);
	free(der);
	/* no GPU, no library: no extension (the certificate is not made) */
	c.count = 0;
	F.configure(&c);
	assert_true(cr_identity_gpu_evidence(F.path, k, &der, &len, &e) < 0);
	assert_string_equal(e.check, "gpu_count");
	assert_true(cr_identity_gpu_evidence("/nonexistent/libnvidia-ml.so.1", k, &der, &len, &e) < 0);
	assert_string_equal(e.check, "gpu_nvml");
	EVP_PKEY_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip_keeps_every_field),
		cmocka_unit_test(decode_refuses_malformed),
		cmocka_unit_test(eight_gpus_fit_and_decode),
		cmocka_unit_test(nonce_is_sha256_of_the_certificate_spki),
		cmocka_unit_test(policy_requiring_gpu_refuses_certificate_without_evidence),
		cmocka_unit_test(fixture_evidence_fails_the_nonce_binding),
		cmocka_unit_test(any_policy_cannot_require_gpu),
		cmocka_unit_test(gpu_policy_without_installed_verifier_refused),
		cmocka_unit_test(identity_collects_evidence_of_every_gpu_for_its_key),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
