/* The appliance's key request certificate with GPU evidence (guest/keyserver/session.c
 * cks_attested_ctx with nvml_lib, what cocoon-init's step 10 uses for a spec that requires a
 * GPU): the certificate carries the quote and the GPU evidence extension, NVML was asked with
 * nonce = SHA-256(SPKI of the certificate's key), and a key server policy with "gpu" then
 * verifies that evidence (recorded evidence fails the nonce binding, "gpu_nonce"; without
 * nvml_lib the policy finds no evidence, "gpu_missing"). The fake NVML serves NVIDIA's
 * recorded evidence (tests/unit/fake_nvml.h). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/ssl.h>

#include "guest/attest/attest.h"
#include "guest/gpu/nvml.h"
#include "guest/keyserver/session.h"
#include "measure/gpu/gpu.h"
#include "measure/ratls/gpuext.h"
#include "measure/ratls/peer.h"
#include "tests/unit/fake_nvml.h"
#include "tests/unit/testutil.h"

static struct fake_nvml F;
static char simdir[64];
static struct ca_backend *B;

static int setup(void **state)
{
	(void)state;
	snprintf(simdir, sizeof simdir, "/tmp/test_keyserver_gpu.XXXXXX");
	if (!mkdtemp(simdir) || setenv("COCOON_SIM_DIR", simdir, 1) || fake_nvml_load(&F))
		return -1;
	struct cm_err e = {0};
	if (ca_open("sim", NULL, &B, &e) < 0) {
		fprintf(stderr, "sim backend: %s\n", e.msg);
		return -1;
	}
	struct fake_nvml_conf c = {.environment = NVML_CC_SYSTEM_ENVIRONMENT_PROD,
				   .cc_feature = NVML_CC_SYSTEM_FEATURE_ENABLED,
				   .driver = "550.90.07",
				   .count = 1};
	c.gpu[0].arch = NVML_DEVICE_ARCH_HOPPER;
	snprintf(c.gpu[0].report_path, sizeof c.gpu[0].report_path, "%s",
		 fixture_path("gpu/nvtrust_sample_550/hopperAttestationReport.txt"));
	snprintf(c.gpu[0].chain_path, sizeof c.gpu[0].chain_path, "%s",
		 fixture_path("gpu/nvtrust_sample_550/hopperCertChain.txt"));
	F.configure(&c);
	cr_verifier_set_gpu(cr_gpu_ext_verify); /* as cocoon-keyserver does at start */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ca_close(B);
	dlclose(F.dl);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", simdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The certificate a context presents, inspected. */
static X509 *ctx_cert(const char *nvml_lib, EVP_PKEY **key, struct cr_cert_info *info)
{
	struct cm_err e = {0};
	*key = cr_key_new(&e);
	assert_non_null(*key);
	SSL_CTX *ctx = cks_attested_ctx(B, false, *key, NULL, nvml_lib, NULL, &e);
	if (!ctx)
		fail_msg("cks_attested_ctx: %s", e.msg);
	X509 *cert = SSL_CTX_get0_certificate(ctx);
	assert_non_null(cert);
	X509_up_ref(cert);
	SSL_CTX_free(ctx);
	assert_int_equal(cr_cert_inspect(cert, time(NULL), info, &e), 0);
	return cert;
}

static void request_certificate_carries_gpu_evidence_for_its_key(void **s)
{
	(void)s;
	EVP_PKEY *k;
	struct cr_cert_info info;
	X509 *cert = ctx_cert(F.path, &k, &info);
	assert_non_null(info.quote);
	assert_non_null(info.gpu);
	struct cr_gpu_ext x;
	struct cm_err e = {0};
	assert_int_equal(cr_gpu_ext_decode(info.gpu, info.gpu_len, &x, &e), 0);
	assert_int_equal(x.sys.count, 1);
	uint8_t nonce[CM_GPU_NONCE_LEN];
	assert_int_equal(cr_gpu_nonce(k, nonce, &e), 0);
	assert_memory_equal(F.nonce(0), nonce, CM_GPU_NONCE_LEN);
	/* what a key server with "gpu" does with it: recorded evidence cannot answer this nonce */
	struct cm_gpu_policy *p;
	unsigned n;
	assert_int_equal(cm_gpu_policy_default(&p, &e), 0);
	assert_int_equal(cr_gpu_ext_verify(info.gpu, info.gpu_len, k, p, time(NULL), &n, &e), -EBADMSG);
	assert_string_equal(e.check, "gpu_nonce");
	cm_gpu_policy_free(p);
	X509_free(cert);
	EVP_PKEY_free(k);
}

static void request_certificate_without_nvml_has_no_gpu_extension(void **s)
{
	(void)s;
	EVP_PKEY *k;
	struct cr_cert_info info;
	X509 *cert = ctx_cert(NULL, &k, &info);
	assert_non_null(info.quote);
	assert_null(info.gpu);
	X509_free(cert);
	EVP_PKEY_free(k);
}

static void request_certificate_is_not_made_when_evidence_fails(void **s)
{
	(void)s;
	struct cm_err e = {0};
	EVP_PKEY *k = cr_key_new(&e);
	assert_null(cks_attested_ctx(B, false, k, NULL, "/nonexistent/libnvidia-ml.so.1", NULL, &e));
	assert_string_equal(e.check, "gpu_nvml");
	EVP_PKEY_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(request_certificate_carries_gpu_evidence_for_its_key),
		cmocka_unit_test(request_certificate_without_nvml_has_no_gpu_extension),
		cmocka_unit_test(request_certificate_is_not_made_when_evidence_fails),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
