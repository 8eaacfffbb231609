/* The verifier against the software PCK CA (guest/attest/simca.c): what the public
 * fixtures cannot cover — revoked PCK, expired CRLs, re-serialized collateral JSON, wrong
 * root, every TCB status branch of Intel's algorithm, and every policy allowlist. */
#include "tests/unit/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest/attest/simca.h"
#include "measure/core/digest.h"
#include "measure/core/measurements.h"
#include "measure/dcap/verify.h"

#define NOW 1800000000

/* Policy that accepts any root and every non-revoked status (to observe the TCB status). */
static const char *const ANY_STATUS =
	"{\"root_key_ids\":[],\"accepted_tcb_statuses\":[\"UpToDate\",\"SWHardeningNeeded\",\"ConfigurationNeeded\","
	"\"ConfigurationAndSWHardeningNeeded\",\"OutOfDate\",\"OutOfDateConfigurationNeeded\",\"TDRelaunchAdvised\","
	"\"TDRelaunchAdvisedConfigurationNeeded\"]}";

struct sim_run {
	struct cm_verify_result r;
	struct cm_quote q;
	uint8_t *quote;
	size_t len;
};

/* Mint with p/td, optionally replace the bundle, verify at t with policy JSON and anchor. */
static void verify_sim(const struct ca_simca_params *p, const struct ca_simca_td *td, const char *policy_json,
		       const char *bundle_override, X509 *anchor_override, bool default_anchor, int64_t t,
		       struct sim_run *x)
{
	struct cm_err e = {0};
	struct ca_simca *ca = ca_simca_new(p, &e);
	if (!ca)
		print_error("simca: %s\n", e.msg);
	assert_non_null(ca);
	assert_int_equal(ca_simca_quote(ca, td, &x->quote, &x->len, &e), 0);
	assert_int_equal(cm_quote_parse(x->quote, x->len, &x->q, &e), 0);
	struct cm_policy pol;
	assert_int_equal(cm_policy_parse(policy_json, strlen(policy_json), &pol, &e), 0);
	size_t blen;
	const char *bundle = ca_simca_collateral(ca, &blen);
	if (bundle_override) {
		bundle = bundle_override;
		blen = strlen(bundle_override);
	}
	struct cm_verify_opts o = {
		.time = t,
		.anchor = default_anchor ? NULL : anchor_override ? anchor_override : ca_simca_root(ca),
		.policy = &pol,
	};
	cm_verify_quote(&x->q, bundle, blen, &o, &x->r);
	cm_policy_free(&pol);
	ca_simca_free(ca);
}

/* The start of every case: default CA parameters at NOW and a default TD. */
#define SIMCA_CASE(p, td)                 \
	(void)state;                      \
	struct ca_simca_params p;         \
	struct ca_simca_td td;            \
	ca_simca_params_default(&p, NOW); \
	ca_simca_td_default(&td)

static void expect(const struct ca_simca_params *p, const struct ca_simca_td *td, const char *policy,
		   enum cm_verdict v, const char *check, const char *status)
{
	struct sim_run x;
	verify_sim(p, td, policy, NULL, NULL, false, NOW, &x);
	if (x.r.verdict != v || (check ? !x.r.failed_check || strcmp(check, x.r.failed_check) : x.r.failed_check != NULL))
		print_error("expected %s/%s, got %s/%s: %s\n", cm_verdict_name(v), check ? check : "-",
			    cm_verdict_name(x.r.verdict), x.r.failed_check ? x.r.failed_check : "-", x.r.message);
	assert_int_equal(x.r.verdict, v);
	if (check)
		assert_string_equal(x.r.failed_check, check);
	else
		assert_null(x.r.failed_check);
	if (status) {
		assert_true(x.r.has_tcb);
		assert_string_equal(cm_tcb_status_name(x.r.tcb.status), status);
	}
	free(x.quote);
}

static void test_sim_quote_verifies(void **state)
{
	SIMCA_CASE(p, td);
	memset(td.report_data, 0xab, 64);
	struct sim_run x;
	verify_sim(&p, &td, "{\"root_key_ids\":[]}", NULL, NULL, false, NOW, &x);
	if (x.r.verdict != CM_VERDICT_OK)
		print_error("%s: %s\n", x.r.failed_check, x.r.message);
	assert_int_equal(x.r.verdict, CM_VERDICT_OK);
	assert_string_equal(cm_tcb_status_name(x.r.tcb.status), "UpToDate");
	assert_int_equal(x.q.version, 4);
	assert_int_equal(x.q.signed_len, 632);
	assert_int_equal(x.q.cert_type, CM_CERT_PCK_CHAIN);
	assert_memory_equal(x.q.td.report_data, td.report_data, 64);
	assert_memory_equal(x.r.pck.fmspc, p.fmspc, 6);
	assert_int_equal(x.r.pck.pcesvn, 13);
	assert_memory_equal(x.r.pck.comp_svn, p.pck_comps, 16);
	assert_int_equal(x.r.pck_ca, CM_PCK_CA_PLATFORM);
	free(x.quote);
}

static void test_sim_v5_td15_quote_verifies(void **state)
{
	SIMCA_CASE(p, td);
	td.td15 = true;
	struct sim_run x;
	verify_sim(&p, &td, "{\"root_key_ids\":[]}", NULL, NULL, false, NOW, &x);
	assert_int_equal(x.r.verdict, CM_VERDICT_OK);
	assert_int_equal(x.q.version, 5);
	assert_int_equal(x.q.signed_len, 702);
	free(x.quote);
}

static void test_pck_chain_from_bundle(void **state)
{
	SIMCA_CASE(p, td);
	p.chain_in_bundle = true;
	struct sim_run x;
	verify_sim(&p, &td, "{\"root_key_ids\":[]}", NULL, NULL, false, NOW, &x);
	if (x.r.verdict != CM_VERDICT_OK)
		print_error("%s: %s\n", x.r.failed_check, x.r.message);
	assert_int_equal(x.r.verdict, CM_VERDICT_OK);
	assert_int_equal(x.q.cert_type, CM_CERT_PPID_RSA3072);
	free(x.quote);
	/* the same quote without the bundle's chain cannot be verified */
	struct cm_err e = {0};
	struct ca_simca *ca = ca_simca_new(&p, &e);
	uint8_t *quote;
	size_t qlen;
	assert_int_equal(ca_simca_quote(ca, &td, &quote, &qlen, &e), 0);
	json_object *o = json_tokener_parse(ca_simca_collateral(ca, NULL));
	json_object_object_del(o, "pck_certificate_chain");
	const char *b = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	struct cm_quote q;
	struct cm_policy pol;
	struct cm_verify_result r;
	assert_int_equal(cm_quote_parse(quote, qlen, &q, &e), 0);
	assert_int_equal(cm_policy_parse("{\"root_key_ids\":[]}", 19, &pol, &e), 0);
	struct cm_verify_opts opts = {.time = NOW, .anchor = ca_simca_root(ca), .policy = &pol};
	cm_verify_quote(&q, b, strlen(b), &opts, &r);
	assert_string_equal(r.failed_check, "pck_chain");
	cm_policy_free(&pol);
	json_object_put(o);
	free(quote);
	ca_simca_free(ca);
}

static void test_wrong_root_is_rejected(void **state)
{
	SIMCA_CASE(p, td);
	struct sim_run x;
	/* the pinned Intel root */
	verify_sim(&p, &td, "{\"root_key_ids\":[]}", NULL, NULL, true, NOW, &x);
	assert_int_equal(x.r.verdict, CM_VERDICT_INVALID);
	assert_string_equal(x.r.failed_check, "trust_anchor");
	free(x.quote);
	/* another software root */
	struct cm_err e = {0};
	struct ca_simca *other = ca_simca_new(&p, &e);
	assert_non_null(other);
	verify_sim(&p, &td, "{\"root_key_ids\":[]}", NULL, ca_simca_root(other), false, NOW, &x);
	assert_string_equal(x.r.failed_check, "trust_anchor");
	free(x.quote);
	ca_simca_free(other);
}

static void test_revoked_pck_certificate(void **state)
{
	SIMCA_CASE(p, td);
	p.revoke_pck = true;
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "pck_revoked", NULL);
}

static void test_revoked_pck_ca_in_root_crl(void **state)
{
	SIMCA_CASE(p, td);
	p.revoke_pck_ca = true;
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "collateral_cert_revoked", NULL);
}

static void test_expired_crls(void **state)
{
	SIMCA_CASE(p, td);
	p.pck_crl_to = NOW - 1;
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "pck_crl_expired", NULL);
	ca_simca_params_default(&p, NOW);
	p.root_crl_to = NOW - 1;
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "root_ca_crl_expired", NULL);
	ca_simca_params_default(&p, NOW);
	p.pck_crl_from = NOW + 1;
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "pck_crl_not_yet_valid", NULL);
	ca_simca_params_default(&p, NOW);
	p.qe_to = NOW - 1;
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "qe_identity_expired", NULL);
	ca_simca_params_default(&p, NOW);
	p.tcb_to = NOW - 1;
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "tcb_info_expired", NULL);
}

static void test_expired_pck_leaf(void **state)
{
	SIMCA_CASE(p, td);
	p.pck_to = NOW - 1;
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "pck_cert_expired", NULL);
}

/* Replace the string value of key in a bundle with its re-serialized JSON. */
static char *reserialize(const char *bundle, const char *key)
{
	json_object *o = json_tokener_parse(bundle), *v;
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, key, &v));
	json_object *inner = json_tokener_parse(json_object_get_string(v));
	assert_non_null(inner);
	const char *re = json_object_to_json_string_ext(inner, JSON_C_TO_STRING_SPACED);
	assert_string_not_equal(re, json_object_get_string(v));
	json_object_object_add(o, key, json_object_new_string(re));
	char *out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(inner);
	json_object_put(o);
	return out;
}

static void test_reserialized_collateral_json_fails_signature(void **state)
{
	SIMCA_CASE(p, td);
	struct cm_err e = {0};
	struct ca_simca *ca = ca_simca_new(&p, &e);
	assert_non_null(ca);
	uint8_t *quote;
	size_t qlen;
	assert_int_equal(ca_simca_quote(ca, &td, &quote, &qlen, &e), 0);
	struct cm_quote q;
	assert_int_equal(cm_quote_parse(quote, qlen, &q, &e), 0);
	struct cm_policy pol;
	assert_int_equal(cm_policy_parse("{\"root_key_ids\":[]}", 19, &pol, &e), 0);
	struct cm_verify_opts o = {.time = NOW, .anchor = ca_simca_root(ca), .policy = &pol};
	struct cm_verify_result r;
	const char *keys[] = {"tcb_info", "qe_identity"};
	const char *checks[] = {"tcb_info_signature", "qe_identity_signature"};
	for (int i = 0; i < 2; i++) {
		char *b = reserialize(ca_simca_collateral(ca, NULL), keys[i]);
		cm_verify_quote(&q, b, strlen(b), &o, &r);
		assert_int_equal(r.verdict, CM_VERDICT_INVALID);
		assert_string_equal(r.failed_check, checks[i]);
		free(b);
	}
	/* the original bytes verify */
	size_t blen;
	const char *b = ca_simca_collateral(ca, &blen);
	assert_int_equal(cm_verify_quote(&q, b, blen, &o, &r), 0);
	cm_policy_free(&pol);
	free(quote);
	ca_simca_free(ca);
}

static void test_tampered_sim_quote_is_invalid(void **state)
{
	SIMCA_CASE(p, td);
	struct cm_err e = {0};
	struct ca_simca *ca = ca_simca_new(&p, &e);
	uint8_t *quote;
	size_t qlen, blen;
	assert_int_equal(ca_simca_quote(ca, &td, &quote, &qlen, &e), 0);
	const char *b = ca_simca_collateral(ca, &blen);
	struct cm_policy pol;
	assert_int_equal(cm_policy_parse("{\"root_key_ids\":[]}", 19, &pol, &e), 0);
	struct cm_verify_opts o = {.time = NOW, .anchor = ca_simca_root(ca), .policy = &pol};
	static const struct {
		size_t off;
		const char *check;
	} flips[] = {{568, "quote_signature"}, {834, "qe_report_signature"}, {706, "qe_report_data_binding"}};
	for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
		struct cm_quote q;
		struct cm_verify_result r;
		quote[flips[i].off] ^= 1;
		assert_int_equal(cm_quote_parse(quote, qlen, &q, &e), 0);
		cm_verify_quote(&q, b, blen, &o, &r);
		assert_int_equal(r.verdict, CM_VERDICT_INVALID);
		assert_string_equal(r.failed_check, flips[i].check);
		quote[flips[i].off] ^= 1;
	}
	cm_policy_free(&pol);
	free(quote);
	ca_simca_free(ca);
}

static void test_fmspc_mismatch(void **state)
{
	SIMCA_CASE(p, td);
	p.tcb_fmspc[0] ^= 0xff;
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "fmspc_mismatch", NULL);
}

/* ---- TCB status branches (specs/attestation.md §2.7) ---------------------------------------- */

static void test_platform_level_statuses(void **state)
{
	(void)state;
	static const char *const st[] = {"UpToDate", "SWHardeningNeeded", "ConfigurationNeeded",
					 "ConfigurationAndSWHardeningNeeded", "OutOfDate",
					 "OutOfDateConfigurationNeeded"};
	struct ca_simca_params p;
	struct ca_simca_td td;
	ca_simca_td_default(&td);
	for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
		ca_simca_params_default(&p, NOW);
		p.levels[0].status = st[i];
		expect(&p, &td, ANY_STATUS, CM_VERDICT_OK, NULL, st[i]);
		/* the default policy (UpToDate only) rejects everything else */
		if (i > 0)
			expect(&p, &td, "{\"root_key_ids\":[]}", CM_VERDICT_REJECTED, "policy_tcb_status", st[i]);
	}
	ca_simca_params_default(&p, NOW);
	p.levels[0].status = "Revoked";
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "tcb_revoked", "Revoked");
}

static void test_lower_level_selected_with_advisories(void **state)
{
	SIMCA_CASE(p, td);
	p.n_levels = 2;
	p.levels[1] = p.levels[0];
	p.levels[0].sgx[7] = 6; /* newer level needs component 8 >= 6; the PCK has 5 */
	p.levels[1].status = "OutOfDate";
	p.levels[1].advisories = "INTEL-SA-00001,INTEL-SA-00002";
	p.modules[0].levels[0].advisories = "INTEL-SA-00003";
	p.qe_levels[0].advisories = "INTEL-SA-00001,INTEL-SA-00004";
	struct sim_run x;
	verify_sim(&p, &td, ANY_STATUS, NULL, NULL, false, NOW, &x);
	assert_int_equal(x.r.verdict, CM_VERDICT_OK);
	assert_string_equal(cm_tcb_status_name(x.r.tcb.status), "OutOfDate");
	assert_int_equal(x.r.tcb.n_adv, 4); /* union, platform then module then QE, no duplicates */
	assert_string_equal(x.r.tcb.adv[0], "INTEL-SA-00001");
	assert_string_equal(x.r.tcb.adv[1], "INTEL-SA-00002");
	assert_string_equal(x.r.tcb.adv[2], "INTEL-SA-00003");
	assert_string_equal(x.r.tcb.adv[3], "INTEL-SA-00004");
	free(x.quote);
}

static void test_no_matching_level_is_not_supported(void **state)
{
	SIMCA_CASE(p, td);
	p.levels[0].pcesvn = 14; /* PCK PCESVN 13 */
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "tcb_not_supported", NULL);
	ca_simca_params_default(&p, NOW);
	p.levels[0].tdx[2] = 4; /* TEE_TCB_SVN[2] = 3 */
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "tcb_not_supported", NULL);
	ca_simca_params_default(&p, NOW);
	p.qe_levels[0].isvsvn = 5; /* QE ISVSVN 4 */
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "tcb_not_supported", NULL);
	ca_simca_params_default(&p, NOW);
	p.modules[0].levels[0].isvsvn = 8; /* module SVN 7 */
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "tcb_not_supported", NULL);
}

static void test_module_bytes_skipped_when_version_set(void **state)
{
	SIMCA_CASE(p, td);
	p.levels[0].tdx[0] = 200; /* judged by the module identity, not the level */
	p.levels[0].tdx[1] = 9;
	expect(&p, &td, ANY_STATUS, CM_VERDICT_OK, NULL, "UpToDate");
	/* module version 0: bytes 0-1 are compared with the level and tdxModule applies */
	td.tee_tcb_svn[1] = 0;
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "tcb_not_supported", NULL);
	ca_simca_params_default(&p, NOW);
	p.levels[0].tdx[1] = 0;
	expect(&p, &td, ANY_STATUS, CM_VERDICT_OK, NULL, "UpToDate");
}

static void test_tdx_module_identity(void **state)
{
	SIMCA_CASE(p, td);
	p.modules[0].version = 3; /* no TDX_01 */
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "tdx_module_mismatch", NULL);
	/* module OutOfDate converges: UpToDate -> OutOfDate, ConfigurationNeeded -> OutOfDateConfigurationNeeded */
	ca_simca_params_default(&p, NOW);
	p.modules[0].n_levels = 2;
	p.modules[0].levels[0] = (struct ca_simca_isv_level){8, "UpToDate", NULL};
	p.modules[0].levels[1] = (struct ca_simca_isv_level){4, "OutOfDate", NULL};
	expect(&p, &td, ANY_STATUS, CM_VERDICT_OK, NULL, "OutOfDate");
	p.levels[0].status = "ConfigurationNeeded";
	expect(&p, &td, ANY_STATUS, CM_VERDICT_OK, NULL, "OutOfDateConfigurationNeeded");
	p.levels[0].status = "SWHardeningNeeded";
	expect(&p, &td, ANY_STATUS, CM_VERDICT_OK, NULL, "OutOfDate");
	ca_simca_params_default(&p, NOW);
	p.modules[0].levels[0].status = "Revoked";
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "tcb_revoked", "Revoked");
}

static void test_qe_identity_status_converges(void **state)
{
	SIMCA_CASE(p, td);
	p.n_qe_levels = 2;
	p.qe_levels[0] = (struct ca_simca_isv_level){8, "UpToDate", NULL};
	p.qe_levels[1] = (struct ca_simca_isv_level){2, "OutOfDate", NULL};
	expect(&p, &td, ANY_STATUS, CM_VERDICT_OK, NULL, "OutOfDate");
	p.levels[0].status = "ConfigurationAndSWHardeningNeeded";
	expect(&p, &td, ANY_STATUS, CM_VERDICT_OK, NULL, "OutOfDateConfigurationNeeded");
	p.qe_levels[1].status = "Revoked";
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "tcb_revoked", "Revoked");
	/* levels are sorted by ISVSVN: served in ascending order still picks the highest <= 4 */
	ca_simca_params_default(&p, NOW);
	p.n_qe_levels = 3;
	p.qe_levels[0] = (struct ca_simca_isv_level){1, "OutOfDate", NULL};
	p.qe_levels[1] = (struct ca_simca_isv_level){3, "UpToDate", NULL};
	p.qe_levels[2] = (struct ca_simca_isv_level){9, "UpToDate", NULL};
	expect(&p, &td, ANY_STATUS, CM_VERDICT_OK, NULL, "UpToDate");
}

/* Issue 13 §11: Intel's QVL reads miscselect / miscselectMask as little-endian
 * (EnclaveReportVerifier::vectorToUint32 swaps the bytes of the hex string). */
static void test_qe_miscselect_is_little_endian(void **state)
{
	SIMCA_CASE(p, td);
	td.qe_miscselect = 1;
	p.qe_miscselect = "01000000";
	expect(&p, &td, ANY_STATUS, CM_VERDICT_OK, NULL, "UpToDate");
	p.qe_miscselect = "00000001";
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "qe_identity_mismatch", NULL);
	/* the mask is little-endian too: "FF000000" keeps only the low byte */
	td.qe_miscselect = 0x00000201;
	p.qe_miscselect = "01000000";
	p.qe_miscselect_mask = "FF000000";
	expect(&p, &td, ANY_STATUS, CM_VERDICT_OK, NULL, "UpToDate");
}

/* Issue 13 §12: TDX module identity levels are ordered by ISVSVN, descending
 * (TdxModuleIdentity's std::set<TdxModuleTcbLevel, std::greater>), not taken in JSON order;
 * platform levels are ordered as TcbLevel::operator> does; duplicates are malformed. */
static void test_tcb_levels_in_intel_order(void **state)
{
	SIMCA_CASE(p, td);
	p.modules[0].n_levels = 2;
	p.modules[0].levels[0] = (struct ca_simca_isv_level){2, "OutOfDate", NULL};
	p.modules[0].levels[1] = (struct ca_simca_isv_level){4, "UpToDate", NULL};
	expect(&p, &td, ANY_STATUS, CM_VERDICT_OK, NULL, "UpToDate");
	p.modules[0].levels[0].isvsvn = 4;
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "tcb_info_format", NULL);
	/* platform levels served ascending: the highest matching level wins */
	ca_simca_params_default(&p, NOW);
	p.n_levels = 2;
	p.levels[1] = p.levels[0];
	p.levels[0].sgx[0] = 1;
	p.levels[0].status = "OutOfDate";
	expect(&p, &td, ANY_STATUS, CM_VERDICT_OK, NULL, "UpToDate");
	/* equal SGX components: PCESVN, then the TDX components decide */
	p.levels[0] = p.levels[1];
	p.levels[0].pcesvn = 12;
	p.levels[0].status = "OutOfDate";
	expect(&p, &td, ANY_STATUS, CM_VERDICT_OK, NULL, "UpToDate");
	p.levels[0] = p.levels[1];
	p.levels[0].tdx[2] = 2;
	p.levels[0].status = "OutOfDate";
	expect(&p, &td, ANY_STATUS, CM_VERDICT_OK, NULL, "UpToDate");
	p.levels[0] = p.levels[1];
	p.levels[0].status = "OutOfDate";
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "tcb_info_format", NULL);
}

/* Issue 13 §13: status strings Intel's parsers reject are malformed collateral. QE identity:
 * parseStringToTcbStatus (UpToDate, ConfigurationNeeded, OutOfDate,
 * OutOfDateConfigurationNeeded, Revoked), and EnclaveReportVerifier treats every status other
 * than UpToDate and Revoked as OutOfDate. TCB info levels: VALID_TCB_INFO_STATUSES (no
 * TDRelaunchAdvised). */
static void test_unknown_statuses_are_malformed(void **state)
{
	SIMCA_CASE(p, td);
	p.qe_levels[0].status = "SWHardeningNeeded";
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "qe_identity_format", NULL);
	p.qe_levels[0].status = "TDRelaunchAdvised";
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "qe_identity_format", NULL);
	p.qe_levels[0].status = "ConfigurationNeeded";
	expect(&p, &td, ANY_STATUS, CM_VERDICT_OK, NULL, "OutOfDate");
	p.qe_levels[0].status = "OutOfDateConfigurationNeeded";
	expect(&p, &td, ANY_STATUS, CM_VERDICT_OK, NULL, "OutOfDate");
	ca_simca_params_default(&p, NOW);
	p.levels[0].status = "TDRelaunchAdvised";
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "tcb_info_format", NULL);
	p.levels[0].status = "TDRelaunchAdvisedConfigurationNeeded";
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "tcb_info_format", NULL);
}

/* Issue 13 §2: TCB info and QE identity must be signed by a TCB signing certificate
 * ([signer, root], CA:FALSE, CN "Intel SGX TCB Signing"); the PCK CRL by a PCK CA. */
static void test_collateral_signer_identity(void **state)
{
	SIMCA_CASE(p, td);
	p.signer = CA_SIMCA_SIGNER_PCK_CA;
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "collateral_signer", NULL);
	p.signer = CA_SIMCA_SIGNER_PCK_LEAF;
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "collateral_signer", NULL);
	ca_simca_params_default(&p, NOW);
	p.pck_crl_by_tcb_signer = true;
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "pck_crl", NULL);
}

/* Issue 13 §14: the root inside every chain must be the trust anchor itself (byte-equal),
 * not merely a certificate with its key and subject. */
static void test_reissued_root_in_chains(void **state)
{
	SIMCA_CASE(p, td);
	p.reissued_root_in_chains = true;
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "trust_anchor", NULL);
	p.chain_in_bundle = true;
	expect(&p, &td, ANY_STATUS, CM_VERDICT_INVALID, "trust_anchor", NULL);
}

static void test_td15_relaunch_advised(void **state)
{
	(void)state;
	struct ca_simca_params p;
	struct ca_simca_td td;
	ca_simca_td_default(&td);
	td.td15 = true;
	ca_simca_params_default(&p, NOW);
	p.modules[0].n_levels = 2;
	p.modules[0].levels[0] = (struct ca_simca_isv_level){8, "UpToDate", NULL};
	p.modules[0].levels[1] = (struct ca_simca_isv_level){4, "OutOfDate", NULL};
	/* running module SVN 7 (OutOfDate), preserved SVN2 also 7: no relaunch */
	expect(&p, &td, ANY_STATUS, CM_VERDICT_OK, NULL, "OutOfDate");
	/* SVN2 reaches the newest module level: relaunch advised */
	td.tee_tcb_svn2[0] = 8;
	expect(&p, &td, ANY_STATUS, CM_VERDICT_OK, NULL, "TDRelaunchAdvised");
	p.levels[0].status = "ConfigurationNeeded";
	expect(&p, &td, ANY_STATUS, CM_VERDICT_OK, NULL, "TDRelaunchAdvisedConfigurationNeeded");
	/* a v4 (TD 1.0) quote has no SVN2: no relaunch */
	td.td15 = false;
	expect(&p, &td, ANY_STATUS, CM_VERDICT_OK, NULL, "OutOfDateConfigurationNeeded");
	/* QE OutOfDate blocks the relaunch status */
	td.td15 = true;
	p.levels[0].status = "UpToDate";
	p.n_qe_levels = 2;
	p.qe_levels[0] = (struct ca_simca_isv_level){8, "UpToDate", NULL};
	p.qe_levels[1] = (struct ca_simca_isv_level){2, "OutOfDate", NULL};
	expect(&p, &td, ANY_STATUS, CM_VERDICT_OK, NULL, "OutOfDate");
}

/* ---- policy ----------------------------------------------------------------------------------- */

static char *policy_with(const char *key, const uint8_t *v, size_t n, bool list)
{
	char hex[2 * 4 * 48 + 1];
	cm_hex_encode(v, n, hex, sizeof(hex));
	char *s = malloc(1024);
	snprintf(s, 1024, "{\"root_key_ids\":[],\"%s\":%s\"%s\"%s}", key, list ? "[" : "", hex, list ? "]" : "");
	return s;
}

static void test_policy_allowlists(void **state)
{
	SIMCA_CASE(p, td);
	memset(td.mr_td, 0x11, 48);
	memset(td.rtmr[3], 0x33, 48);
	memset(td.report_data, 0x44, 64);
	uint8_t other[64];
	memset(other, 0x99, sizeof(other));

	char *pol = policy_with("mrtd", td.mr_td, 48, true);
	expect(&p, &td, pol, CM_VERDICT_OK, NULL, NULL);
	free(pol);
	pol = policy_with("mrtd", other, 48, true);
	expect(&p, &td, pol, CM_VERDICT_REJECTED, "policy_mrtd", NULL);
	free(pol);

	char buf[1024], h[4][97];
	for (int i = 0; i < 4; i++)
		cm_hex_encode(td.rtmr[i], 48, h[i], sizeof(h[i]));
	snprintf(buf, sizeof(buf), "{\"root_key_ids\":[],\"rtmrs\":[[\"%s\",\"%s\",\"%s\",\"%s\"]]}", h[0], h[1], h[2],
		 h[3]);
	expect(&p, &td, buf, CM_VERDICT_OK, NULL, NULL);
	snprintf(buf, sizeof(buf), "{\"root_key_ids\":[],\"rtmrs\":[[\"%s\",\"%s\",\"%s\",\"%s\"]]}", h[0], h[1], h[2],
		 h[2]);
	expect(&p, &td, buf, CM_VERDICT_REJECTED, "policy_rtmrs", NULL);

	struct cm_td_regs regs = {0};
	memcpy(regs.mrtd, td.mr_td, 48);
	memcpy(regs.rtmr, td.rtmr, sizeof(regs.rtmr));
	uint8_t ih[32];
	assert_int_equal(cm_image_hash(&regs, ih), 0);
	pol = policy_with("image_hashes", ih, 32, true);
	expect(&p, &td, pol, CM_VERDICT_OK, NULL, NULL);
	free(pol);
	pol = policy_with("image_hashes", other, 32, true);
	expect(&p, &td, pol, CM_VERDICT_REJECTED, "policy_image_hash", NULL);
	free(pol);

	pol = policy_with("report_data", td.report_data, 64, false);
	expect(&p, &td, pol, CM_VERDICT_OK, NULL, NULL);
	free(pol);
	pol = policy_with("report_data", other, 64, false);
	expect(&p, &td, pol, CM_VERDICT_REJECTED, "policy_report_data", NULL);
	free(pol);
}

static void test_policy_root_key_id(void **state)
{
	SIMCA_CASE(p, td);
	/* default policy pins Intel's root key id: the software root is rejected */
	expect(&p, &td, "{}", CM_VERDICT_REJECTED, "policy_root_key_id", "UpToDate");
	struct sim_run x;
	verify_sim(&p, &td, "{\"root_key_ids\":[]}", NULL, NULL, false, NOW, &x);
	assert_int_equal(x.r.verdict, CM_VERDICT_OK);
	free(x.quote);
	/* allowing the software root's key id by value */
	struct cm_err e = {0};
	struct ca_simca *ca = ca_simca_new(&p, &e);
	uint8_t rk[48];
	assert_int_equal(cm_root_key_id(ca_simca_root(ca), rk), 0);
	char *pol = policy_with("root_key_ids", rk, 48, true);
	uint8_t *quote;
	size_t qlen, blen;
	assert_int_equal(ca_simca_quote(ca, &td, &quote, &qlen, &e), 0);
	struct cm_quote q;
	struct cm_policy cp;
	struct cm_verify_result r;
	assert_int_equal(cm_quote_parse(quote, qlen, &q, &e), 0);
	assert_int_equal(cm_policy_parse(pol, strlen(pol), &cp, &e), 0);
	struct cm_verify_opts o = {.time = NOW, .anchor = ca_simca_root(ca), .policy = &cp};
	const char *b = ca_simca_collateral(ca, &blen);
	assert_int_equal(cm_verify_quote(&q, b, blen, &o, &r), 0);
	assert_memory_equal(r.root_key_id, rk, 48);
	cm_policy_free(&cp);
	free(pol);
	free(quote);
	ca_simca_free(ca);
}

static void test_policy_td_attributes(void **state)
{
	SIMCA_CASE(p, td);
	td.td_attributes[0] = 1; /* DEBUG */
	expect(&p, &td, "{\"root_key_ids\":[]}", CM_VERDICT_REJECTED, "policy_debug", NULL);
	expect(&p, &td, "{\"root_key_ids\":[],\"allow_debug\":true}", CM_VERDICT_OK, NULL, NULL);
	ca_simca_td_default(&td);
	td.td_attributes[3] = 0; /* SEPT_VE_DISABLE clear */
	expect(&p, &td, "{\"root_key_ids\":[]}", CM_VERDICT_REJECTED, "policy_td_attributes", NULL);
	expect(&p, &td, "{\"root_key_ids\":[],\"require_sept_ve_disable\":false}", CM_VERDICT_OK, NULL, NULL);
	ca_simca_td_default(&td);
	td.td_attributes[1] = 1; /* reserved SEC bit 8 */
	expect(&p, &td, "{\"root_key_ids\":[]}", CM_VERDICT_REJECTED, "policy_td_attributes", NULL);
	/* OTHER bits 32-62 are reserved (dcap-qvl rejects them too); bit 63 PERFMON is allowed */
	for (int bit = 32; bit <= 62; bit += 30) {
		ca_simca_td_default(&td);
		td.td_attributes[bit / 8] |= (uint8_t)(1u << (bit % 8));
		expect(&p, &td, "{\"root_key_ids\":[]}", CM_VERDICT_REJECTED, "policy_td_attributes", NULL);
	}
	ca_simca_td_default(&td);
	td.td_attributes[7] = 0x80;
	expect(&p, &td, "{\"root_key_ids\":[]}", CM_VERDICT_OK, NULL, NULL);
	ca_simca_td_default(&td);
	td.td15 = true;
	td.mr_servicetd[0] = 1;
	expect(&p, &td, "{\"root_key_ids\":[]}", CM_VERDICT_REJECTED, "policy_mr_servicetd", NULL);
	expect(&p, &td, "{\"root_key_ids\":[],\"allow_mr_servicetd\":true}", CM_VERDICT_OK, NULL, NULL);
}

/* SGX v3 quotes (the test seal server's enclave) verify under the real verifier with the
 * SGX collateral; the TDX bundle does not fit them; a debug enclave is rejected. */
static const char *const ANY_ROOT = "{\"root_key_ids\":[]}";

static void verify_sgx(const struct ca_simca_enclave *en, bool tdx_bundle, struct cm_verify_result *r,
		       uint8_t mr_enclave[32])
{
	struct cm_err e = {0};
	struct ca_simca_params p;
	ca_simca_params_default(&p, NOW);
	struct ca_simca *ca = ca_simca_new(&p, &e);
	assert_non_null(ca);
	uint8_t *quote;
	size_t len, blen;
	assert_int_equal(ca_simca_sgx_quote(ca, en, &quote, &len, &e), 0);
	struct cm_quote q;
	assert_int_equal(cm_quote_parse(quote, len, &q, &e), 0);
	assert_int_equal(q.version, 3);
	assert_int_equal(q.body_type, CM_BODY_SGX);
	assert_int_equal(q.trailing, 0);
	memcpy(mr_enclave, q.sgx.mr_enclave, 32);
	assert_memory_equal(q.sgx.report_data, en->report_data, 64);
	const char *bundle = tdx_bundle ? ca_simca_collateral(ca, &blen) : ca_simca_sgx_collateral(ca, &blen);
	struct cm_policy pol;
	assert_int_equal(cm_policy_parse(ANY_ROOT, strlen(ANY_ROOT), &pol, &e), 0);
	struct cm_verify_opts o = {.time = NOW, .anchor = ca_simca_root(ca), .policy = &pol};
	cm_verify_quote(&q, bundle, blen, &o, r);
	cm_policy_free(&pol);
	free(quote);
	ca_simca_free(ca);
}

static void test_sgx_quote_verifies(void **state)
{
	(void)state;
	struct ca_simca_enclave en;
	ca_simca_enclave_default(&en);
	memset(en.report_data, 0xab, 64);
	struct cm_verify_result r;
	uint8_t mre[32];
	verify_sgx(&en, false, &r, mre);
	if (r.verdict != CM_VERDICT_OK)
		print_error("%s: %s\n", r.failed_check, r.message);
	assert_int_equal(r.verdict, CM_VERDICT_OK);
	assert_string_equal(cm_tcb_status_name(r.tcb.status), "UpToDate");
	assert_false(r.is_td);
	assert_memory_equal(r.mr_enclave, en.mr_enclave, 32);
	assert_memory_equal(r.report_data, en.report_data, 64);

	verify_sgx(&en, true, &r, mre); /* the TDX bundle is not for SGX quotes */
	assert_int_equal(r.verdict, CM_VERDICT_INVALID);
	assert_string_equal(r.failed_check, "tcb_info_mismatch");

	en.attributes[0] |= 0x02; /* DEBUG */
	verify_sgx(&en, false, &r, mre);
	assert_int_equal(r.verdict, CM_VERDICT_REJECTED);
	assert_string_equal(r.failed_check, "policy_debug");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sim_quote_verifies),
		cmocka_unit_test(test_sim_v5_td15_quote_verifies),
		cmocka_unit_test(test_pck_chain_from_bundle),
		cmocka_unit_test(test_wrong_root_is_rejected),
		cmocka_unit_test(test_revoked_pck_certificate),
		cmocka_unit_test(test_revoked_pck_ca_in_root_crl),
		cmocka_unit_test(test_expired_crls),
		cmocka_unit_test(test_expired_pck_leaf),
		cmocka_unit_test(test_reserialized_collateral_json_fails_signature),
		cmocka_unit_test(test_tampered_sim_quote_is_invalid),
		cmocka_unit_test(test_fmspc_mismatch),
		cmocka_unit_test(test_platform_level_statuses),
		cmocka_unit_test(test_lower_level_selected_with_advisories),
		cmocka_unit_test(test_no_matching_level_is_not_supported),
		cmocka_unit_test(test_module_bytes_skipped_when_version_set),
		cmocka_unit_test(test_tdx_module_identity),
		cmocka_unit_test(test_qe_identity_status_converges),
		cmocka_unit_test(test_td15_relaunch_advised),
		cmocka_unit_test(test_qe_miscselect_is_little_endian),
		cmocka_unit_test(test_tcb_levels_in_intel_order),
		cmocka_unit_test(test_unknown_statuses_are_malformed),
		cmocka_unit_test(test_collateral_signer_identity),
		cmocka_unit_test(test_reissued_root_in_chains),
		cmocka_unit_test(test_policy_allowlists),
		cmocka_unit_test(test_policy_root_key_id),
		cmocka_unit_test(test_policy_td_attributes),
		cmocka_unit_test(test_sgx_quote_verifies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
