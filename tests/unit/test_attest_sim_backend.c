/* The `sim` attestation backend (guest/attest/sim.c): state shared through
 * $COCOON_SIM_DIR, extend semantics, and quotes the real verifier accepts with the
 * backend's root.pem, collateral.json and policy.json. */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/hmac.h>

#include "guest/attest/attest.h"
#include "guest/attest/simca.h"
#include "measure/core/digest.h"
#include "measure/dcap/verify.h"

static char *dir;

static int setup(void **state)
{
	(void)state;
	dir = test_tmpdir();
	setenv("COCOON_SIM_DIR", dir, 1);
	return 0;
}

static void open_sim(struct ca_backend *b)
{
	struct cm_err e = {0};
	memset(b, 0, sizeof(*b));
	b->ops = &ca_sim_ops;
	if (b->ops->open(b, &e))
		print_error("sim open: %s\n", e.msg);
	assert_non_null(b->priv);
}

static uint8_t *read_state(const char *name, size_t *len)
{
	char path[512];
	uint8_t *buf;
	struct cm_err e = {0};
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(cm_read_file(path, 4u << 20, &buf, len, &e), 0);
	return buf;
}

/* Verify a quote with the state directory's root, collateral and policy. */
static void verify_with_state(const uint8_t *quote, size_t len, struct cm_verify_result *r)
{
	struct cm_err e = {0};
	char path[512];
	snprintf(path, sizeof(path), "%s/root.pem", dir);
	X509 *root = cm_x509_load_pem_file(path, &e);
	assert_non_null(root);
	snprintf(path, sizeof(path), "%s/policy.json", dir);
	struct cm_policy pol;
	assert_int_equal(cm_policy_load(path, &pol, &e), 0);
	size_t blen;
	uint8_t *bundle = read_state("collateral.json", &blen);
	struct cm_quote q;
	assert_int_equal(cm_quote_parse(quote, len, &q, &e), 0);
	struct cm_verify_opts o = {.time = (int64_t)time(NULL), .anchor = root, .policy = &pol};
	cm_verify_quote(&q, (const char *)bundle, blen, &o, r);
	free(bundle);
	cm_policy_free(&pol);
	X509_free(root);
}

static void test_extend_then_quote_verifies(void **state)
{
	(void)state;
	struct ca_backend b;
	struct cm_err e = {0};
	open_sim(&b);
	uint8_t before[48], after[48], d[48], expect[48];
	assert_int_equal(b.ops->read(&b, 3, before, &e), 0);
	cm_sha384("cocoon:tdx_inited", 17, d);
	assert_int_equal(b.ops->extend(&b, 3, d, &e), 0);
	assert_int_equal(b.ops->read(&b, 3, after, &e), 0);
	memcpy(expect, before, 48);
	cm_rtmr_extend(expect, d);
	assert_memory_equal(after, expect, 48);

	uint8_t rd[64];
	memset(rd, 0x5a, sizeof(rd));
	uint8_t *quote;
	size_t len;
	assert_int_equal(b.ops->quote(&b, rd, &quote, &len, &e), 0);
	struct cm_verify_result r;
	verify_with_state(quote, len, &r);
	if (r.verdict != CM_VERDICT_OK)
		print_error("%s: %s\n", r.failed_check, r.message);
	assert_int_equal(r.verdict, CM_VERDICT_OK);
	assert_string_equal(cm_tcb_status_name(r.tcb.status), "UpToDate");
	struct cm_quote q;
	assert_int_equal(cm_quote_parse(quote, len, &q, &e), 0);
	assert_memory_equal(q.td.rtmr[3], after, 48);
	assert_memory_equal(q.td.report_data, rd, 64);

	/* tampering with the quote breaks it */
	quote[600] ^= 1; /* REPORTDATA */
	verify_with_state(quote, len, &r);
	assert_int_equal(r.verdict, CM_VERDICT_INVALID);
	free(quote);
	b.ops->close(&b);
}

static void test_state_is_shared_between_instances(void **state)
{
	(void)state;
	struct ca_backend a, b;
	struct cm_err e = {0};
	open_sim(&a);
	size_t l1, l2;
	uint8_t *root1 = read_state("root.pem", &l1);
	open_sim(&b); /* a second "process": same CA, same registers */
	uint8_t *root2 = read_state("root.pem", &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(root1, root2, l1);
	uint8_t d[48], ra[48], rb[48];
	memset(d, 7, sizeof(d));
	assert_int_equal(a.ops->extend(&a, 2, d, &e), 0);
	assert_int_equal(a.ops->read(&a, 2, ra, &e), 0);
	assert_int_equal(b.ops->read(&b, 2, rb, &e), 0);
	assert_memory_equal(ra, rb, 48);
	assert_int_equal(b.ops->extend(&b, 4, d, &e), -EINVAL);
	free(root1);
	free(root2);
	a.ops->close(&a);
	b.ops->close(&b);
}

static void test_default_policy_rejects_sim_root(void **state)
{
	(void)state;
	struct ca_backend b;
	struct cm_err e = {0};
	open_sim(&b);
	uint8_t rd[64] = {0}, *quote;
	size_t len, blen;
	assert_int_equal(b.ops->quote(&b, rd, &quote, &len, &e), 0);
	uint8_t *bundle = read_state("collateral.json", &blen);
	struct cm_quote q;
	struct cm_verify_result r;
	assert_int_equal(cm_quote_parse(quote, len, &q, &e), 0);
	/* without --root the pinned Intel root does not anchor the sim chain */
	struct cm_verify_opts o = {.time = (int64_t)time(NULL)};
	cm_verify_quote(&q, (const char *)bundle, blen, &o, &r);
	assert_int_equal(r.verdict, CM_VERDICT_INVALID);
	assert_string_equal(r.failed_check, "trust_anchor");
	free(bundle);
	free(quote);
	b.ops->close(&b);
}

static void test_tdreport_carries_registers(void **state)
{
	(void)state;
	struct ca_backend b;
	struct cm_err e = {0};
	open_sim(&b);
	uint8_t rd[64], rep[CA_TDREPORT_LEN], r3[48], h[48];
	memset(rd, 0x77, sizeof(rd));
	assert_non_null(b.ops->tdreport);
	assert_int_equal(b.ops->tdreport(&b, rd, rep, &e), 0);
	assert_int_equal(rep[0], 0x81);
	assert_memory_equal(rep + 128, rd, 64);
	assert_int_equal(b.ops->read(&b, 3, r3, &e), 0);
	assert_memory_equal(rep + 512 + 208 + 3 * 48, r3, 48);
	cm_sha384(rep + 512, 512, h);
	assert_memory_equal(rep + 80, h, 48); /* tee_info_hash */
	/* TEE_TCB_INFO is 239 bytes (sgx_report2.h tee_tcb_info_t), then 17 reserved bytes;
	 * TEE_TCB_INFO_HASH covers the 239 bytes. */
	cm_sha384(rep + 256, 239, h);
	assert_memory_equal(rep + 32, h, 48);
	assert_int_equal(rep[1] | rep[2] | rep[3], 0); /* subtype 0, version 0, reserved 0 */
	/* MAC: HMAC-SHA-256 with the state's report_key over REPORTMACSTRUCT[0..224) */
	size_t klen;
	uint8_t *key = read_state("report_key", &klen), mac[32];
	unsigned ml = 0;
	assert_int_equal(klen, 32);
	assert_non_null(HMAC(EVP_sha256(), key, 32, rep, 224, mac, &ml));
	assert_memory_equal(rep + 224, mac, 32);
	free(key);
	b.ops->close(&b);
}

static int teardown(void **state)
{
	(void)state;
	static const char *const files[] = {"ak_key.pem",  "ca_keys.pem", "collateral.json", "lock",
					    "pck_chain.pem", "pck_key.pem", "policy.json",   "registers",
					    "report_key",  "root.pem",    "sgx_collateral.json"};
	char path[512];
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
	free(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extend_then_quote_verifies),
		cmocka_unit_test(test_state_is_shared_between_instances),
		cmocka_unit_test(test_default_policy_rejects_sim_root),
		cmocka_unit_test(test_tdreport_carries_registers),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
