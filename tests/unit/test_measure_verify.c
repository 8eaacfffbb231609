/* Offline DCAP verification against the public fixtures (fixtures/README.md §1.2):
 * Q1-Q4, N1-N3, T1-T4, X1 at their listed times, plus the collateral cache. */
#include "tests/unit/testutil.h"

#include <stdlib.h>
#include <string.h>

#include "measure/dcap/verify.h"

#define Q "tdx/quotes/"
#define TDX_COLL Q "dcapqvl_tdx_quote_collateral.json"
#define SGX_COLL Q "dcapqvl_sgx_quote_collateral.json"
#define OLD_COLL Q "dcapqvl_tdx_quote_outdated_collateral.json"

struct run {
	uint8_t *quote, *coll;
	size_t qlen, clen;
	struct cm_quote q;
	struct cm_verify_result r;
	int rc;
};

static void run_vector(struct run *x, const char *quote, const char *coll, int64_t t, const struct cm_policy *p,
		       struct cm_collateral_cache *cache)
{
	struct cm_err e = {0};
	x->quote = fixture_read(quote, &x->qlen);
	x->coll = fixture_read(coll, &x->clen);
	assert_int_equal(cm_quote_parse(x->quote, x->qlen, &x->q, &e), 0);
	struct cm_verify_opts o = {.time = t, .policy = p, .cache = cache};
	x->rc = cm_verify_quote(&x->q, (const char *)x->coll, x->clen, &o, &x->r);
}

static void run_free(struct run *x)
{
	free(x->quote);
	free(x->coll);
}

static void expect_invalid(const char *quote, const char *coll, int64_t t, const char *check)
{
	struct run x;
	run_vector(&x, quote, coll, t, NULL, NULL);
	if (x.r.failed_check == NULL || strcmp(x.r.failed_check, check) != 0)
		print_error("%s at %lld: expected %s, got %s (%s)\n", quote, (long long)t, check,
			    x.r.failed_check ? x.r.failed_check : "ok", x.r.message);
	assert_int_equal(x.r.verdict, CM_VERDICT_INVALID);
	assert_string_equal(x.r.failed_check, check);
	assert_int_not_equal(x.rc, 0);
	run_free(&x);
}

static void test_q1_tdx_v4_up_to_date(void **state)
{
	(void)state;
	struct run x;
	run_vector(&x, Q "dcapqvl_tdx_quote.bin", TDX_COLL, 1752919234, NULL, NULL);
	assert_int_equal(x.rc, 0);
	assert_int_equal(x.r.verdict, CM_VERDICT_OK);
	assert_null(x.r.failed_check);
	assert_string_equal(cm_tcb_status_name(x.r.tcb.status), "UpToDate");
	assert_int_equal(x.r.tcb.n_adv, 0);
	assert_hex_equal(x.r.pck.fmspc, "b0c06f000000");
	assert_int_equal(x.r.pck_ca, CM_PCK_CA_PLATFORM);
	assert_hex_equal(x.r.root_key_id, CM_COCOON_ROOT_KEY_ID);
	assert_true(x.r.is_td);
	assert_hex_equal(x.r.regs.mrtd, "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a"
					 "3520c942a604a407de03ae6dc5f87f27428b2538873118b7");
	assert_hex_equal(x.r.regs.rtmr[0], "44c0197b39157fdd7a4dcc44767f9d6b0bb3977c7a8e347b"
					   "8492f827fe9d9e5c48aca29b220b80b6a540cf994b9bc9c0");
	assert_hex_equal(x.r.report_data, "9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9"
					  "eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20");
	run_free(&x);
}

static void test_q2_sgx_config_and_sw_hardening(void **state)
{
	(void)state;
	struct run x;
	run_vector(&x, Q "dcapqvl_sgx_quote.bin", SGX_COLL, 1752919277, NULL, NULL);
	/* default policy (UpToDate only, like Cocoon) rejects it */
	assert_int_equal(x.r.verdict, CM_VERDICT_REJECTED);
	assert_string_equal(x.r.failed_check, "policy_tcb_status");
	assert_string_equal(cm_tcb_status_name(x.r.tcb.status), "ConfigurationAndSWHardeningNeeded");
	assert_int_equal(x.r.tcb.n_adv, 2);
	assert_string_equal(x.r.tcb.adv[0], "INTEL-SA-00289");
	assert_string_equal(x.r.tcb.adv[1], "INTEL-SA-00615");
	assert_int_equal(x.r.pck_ca, CM_PCK_CA_PROCESSOR);
	assert_false(x.r.is_td);
	assert_hex_equal(x.r.mr_enclave, "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb");
	assert_hex_equal(x.r.mr_signer, "815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6");
	run_free(&x);

	struct cm_policy p;
	struct cm_err e = {0};
	const char *pj = "{\"accepted_tcb_statuses\":[\"UpToDate\",\"ConfigurationAndSWHardeningNeeded\"]}";
	assert_int_equal(cm_policy_parse(pj, strlen(pj), &p, &e), 0);
	run_vector(&x, Q "dcapqvl_sgx_quote.bin", SGX_COLL, 1752919277, &p, NULL);
	assert_int_equal(x.r.verdict, CM_VERDICT_OK);
	assert_int_equal(x.rc, 0);
	run_free(&x);
	cm_policy_free(&p);
}

static void test_q4_tdx_v5_td15_up_to_date(void **state)
{
	(void)state;
	struct run x;
	run_vector(&x, Q "gotdx_quote_v5_sample.dat", OLD_COLL, 1774003274, NULL, NULL);
	assert_int_equal(x.r.verdict, CM_VERDICT_OK);
	assert_int_equal(x.q.signed_len, 702);
	assert_string_equal(cm_tcb_status_name(x.r.tcb.status), "UpToDate");
	assert_int_equal(x.r.tcb.n_adv, 0);
	run_free(&x);
}

/* The vectors that fail as invalid, each at its first failing check. */
static void test_invalid_vectors(void **state)
{
	(void)state;
	static const struct {
		const char *quote, *coll;
		int64_t time;
		const char *check;
	} v[] = {
		/* Q3: no matching TCB level */
		{Q "dcapqvl_tdx_quote_outdated.bin", OLD_COLL, 1774003274, "tcb_not_supported"},
		/* N1-N3: a flipped bit in the report data, the QE report, the attestation key */
		{Q "dcapqvl_tdx_quote_neg_reportdata_flip.bin", TDX_COLL, 1752919234, "quote_signature"},
		{Q "dcapqvl_tdx_quote_neg_qereport_flip.bin", TDX_COLL, 1752919234, "qe_report_signature"},
		{Q "dcapqvl_tdx_quote_neg_attkey_flip.bin", TDX_COLL, 1752919234, "qe_report_data_binding"},
		/* T1-T4: the validity windows */
		{Q "dcapqvl_tdx_quote.bin", TDX_COLL, 1750329146, "qe_identity_not_yet_valid"},
		{Q "dcapqvl_tdx_quote.bin", TDX_COLL, 1752919236, "pck_crl_expired"},
		{Q "gotdx_quote_v5_sample.dat", OLD_COLL, 1771412330, "tcb_info_not_yet_valid"},
		{Q "gotdx_quote_v5_sample.dat", OLD_COLL, 1774003276, "pck_crl_expired"},
		/* X1: the Cocoon quote's leaf is not yet valid */
		{Q "cocoon_quote.dat", TDX_COLL, 1752919234, "pck_cert_not_yet_valid"},
		/* After its notBefore the Cocoon quote's leaf is valid, but the B0C06F bundle has
		 * expired by then (TCB info first in check order); the FMSPC mismatch itself is
		 * exercised with the software CA in test_attest_simca. */
		{Q "cocoon_quote.dat", TDX_COLL, 1753011432, "tcb_info_expired"},
		/* SGX quote with the TDX bundle: the PCK CRL issuer (Platform CA) is not the
		 * leaf's issuer (Processor CA). */
		{Q "dcapqvl_sgx_quote.bin", TDX_COLL, 1752919234, "pck_crl_issuer"},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		expect_invalid(v[i].quote, v[i].coll, v[i].time, v[i].check);
}

static void test_window_edges_inclusive(void **state)
{
	(void)state;
	struct run x;
	run_vector(&x, Q "dcapqvl_tdx_quote.bin", TDX_COLL, 1750329147, NULL, NULL);
	assert_int_equal(x.r.verdict, CM_VERDICT_OK);
	run_free(&x);
	run_vector(&x, Q "dcapqvl_tdx_quote.bin", TDX_COLL, 1752919235, NULL, NULL);
	assert_int_equal(x.r.verdict, CM_VERDICT_OK);
	assert_int_equal(x.r.collateral_expiry, 1752919235);
	run_free(&x);
}

static void test_cache_reuses_verified_collateral(void **state)
{
	(void)state;
	struct cm_collateral_cache *cache = cm_collateral_cache_new(4);
	assert_non_null(cache);
	struct cm_cache_stats st;
	for (int i = 0; i < 3; i++) {
		struct run x;
		run_vector(&x, Q "dcapqvl_tdx_quote.bin", TDX_COLL, 1752919234, NULL, cache);
		assert_int_equal(x.r.verdict, CM_VERDICT_OK);
		run_free(&x);
	}
	cm_collateral_cache_stats(cache, &st);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.hits, 2);
	assert_int_equal(st.entries, 1);
	static const uint8_t fmspc[6] = {0xb0, 0xc0, 0x6f, 0, 0, 0};
	assert_non_null(cm_collateral_cache_find(cache, fmspc, CM_PCK_CA_PLATFORM, 1752919234));
	assert_null(cm_collateral_cache_find(cache, fmspc, CM_PCK_CA_PROCESSOR, 1752919234));
	assert_null(cm_collateral_cache_find(cache, fmspc, CM_PCK_CA_PLATFORM, 1752919236));

	/* a cached bundle is still checked against the time: expiry evicts and fails */
	struct run x;
	run_vector(&x, Q "dcapqvl_tdx_quote.bin", TDX_COLL, 1752919236, NULL, cache);
	assert_string_equal(x.r.failed_check, "pck_crl_expired");
	run_free(&x);
	cm_collateral_cache_stats(cache, &st);
	assert_int_equal(st.expired, 1);

	/* a negative quote with a warm cache still fails */
	run_vector(&x, Q "dcapqvl_tdx_quote_neg_reportdata_flip.bin", TDX_COLL, 1752919234, NULL, cache);
	assert_string_equal(x.r.failed_check, "quote_signature");
	run_free(&x);
	cm_collateral_cache_free(cache);
}

static void test_result_json_has_stable_keys(void **state)
{
	(void)state;
	struct run x;
	run_vector(&x, Q "dcapqvl_sgx_quote.bin", SGX_COLL, 1752919277, NULL, NULL);
	json_object *o = json_object_new_object();
	cm_verify_result_to_json(&x.r, o);
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	assert_non_null(strstr(s, "\"verdict\":\"rejected\""));
	assert_non_null(strstr(s, "\"failed_check\":\"policy_tcb_status\""));
	assert_non_null(strstr(s, "\"tcb_status\":\"ConfigurationAndSWHardeningNeeded\""));
	assert_non_null(strstr(s, "\"advisory_ids\":[\"INTEL-SA-00289\",\"INTEL-SA-00615\"]"));
	assert_non_null(strstr(s, "\"fmspc\":\"00a067110000\""));
	json_object_put(o);
	run_free(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_q1_tdx_v4_up_to_date),
		cmocka_unit_test(test_q2_sgx_config_and_sw_hardening),
		cmocka_unit_test(test_q4_tdx_v5_td15_up_to_date),
		cmocka_unit_test(test_invalid_vectors),
		cmocka_unit_test(test_window_edges_inclusive),
		cmocka_unit_test(test_cache_reuses_verified_collateral),
		cmocka_unit_test(test_result_json_has_stable_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
