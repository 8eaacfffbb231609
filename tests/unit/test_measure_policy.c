/* Policy file parsing (measure/dcap/policy.c); applying allowlists is covered in test_attest_simca. */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "measure/dcap/policy.h"

static void test_default_policy(void **state)
{
	(void)state;
	struct cm_policy p;
	assert_int_equal(cm_policy_default(&p), 0);
	assert_int_equal(p.accepted_statuses, 1u << CM_TCB_UP_TO_DATE);
	assert_false(p.allow_debug);
	assert_true(p.require_sept_ve_disable);
	assert_false(p.allow_mr_servicetd);
	assert_int_equal(p.n_root_key_ids, 1);
	assert_hex_equal(p.root_key_ids[0], CM_COCOON_ROOT_KEY_ID);
	assert_int_equal(p.n_mrtd + p.n_rtmrs + p.n_image_hashes, 0);
	assert_false(p.has_report_data);
	cm_policy_free(&p);
}

static void test_parse_full_policy(void **state)
{
	(void)state;
	char mr[97], rd[129], ih[65];
	memset(mr, 'a', 96);
	mr[96] = 0;
	memset(rd, 'b', 128);
	rd[128] = 0;
	memset(ih, 'c', 64);
	ih[64] = 0;
	char json[2048];
	snprintf(json, sizeof(json),
		 "{\"accepted_tcb_statuses\":[\"UpToDate\",\"SWHardeningNeeded\"],\"allow_debug\":true,"
		 "\"require_sept_ve_disable\":false,\"allow_mr_servicetd\":true,\"allow_sgx\":false,"
		 "\"mrtd\":[\"%s\",\"%s\"],\"rtmrs\":[[\"%s\",\"%s\",\"%s\",\"%s\"]],\"image_hashes\":[\"%s\"],"
		 "\"root_key_ids\":[],\"report_data\":\"%s\"}\n",
		 mr, mr, mr, mr, mr, mr, ih, rd);
	struct cm_policy p;
	struct cm_err e = {0};
	assert_int_equal(cm_policy_parse(json, strlen(json), &p, &e), 0);
	assert_int_equal(p.accepted_statuses, (1u << CM_TCB_UP_TO_DATE) | (1u << CM_TCB_SW_HARDENING_NEEDED));
	assert_true(p.allow_debug);
	assert_false(p.require_sept_ve_disable);
	assert_true(p.allow_mr_servicetd);
	assert_false(p.allow_sgx);
	assert_int_equal(p.n_mrtd, 2);
	assert_int_equal(p.mrtd[1][47], 0xaa);
	assert_int_equal(p.n_rtmrs, 1);
	assert_int_equal(p.rtmrs[0][3][0], 0xaa);
	assert_int_equal(p.n_image_hashes, 1);
	assert_int_equal(p.image_hashes[0][31], 0xcc);
	assert_int_equal(p.n_root_key_ids, 0); /* explicit empty list: any root */
	assert_true(p.has_report_data);
	assert_int_equal(p.report_data[63], 0xbb);
	cm_policy_free(&p);
}

static void test_parse_rejects_bad_policies(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",
		"[]",
		"{\"unknown\":1}",
		"{\"accepted_tcb_statuses\":[\"Fine\"]}",
		"{\"accepted_tcb_statuses\":[\"Revoked\"]}",
		"{\"accepted_tcb_statuses\":\"UpToDate\"}",
		"{\"allow_debug\":1}",
		"{\"mrtd\":[\"abcd\"]}",
		"{\"mrtd\":\"" /* unterminated */,
		"{\"rtmrs\":[[\"00\"]]}",
		"{\"report_data\":\"zz\"}",
		"{} trailing",
		"{\"allow_debug\":true,}", /* RFC 8259 (json-c's default mode took it) */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cm_policy p;
		struct cm_err e = {0};
		if (cm_policy_parse(bad[i], strlen(bad[i]), &p, &e) == 0)
			print_error("accepted bad policy %s\n", bad[i]);
		assert_int_equal(cm_policy_parse(bad[i], strlen(bad[i]), &p, &e), -EINVAL);
		assert_true(strlen(e.msg) > 0);
	}
}

#define Z96 "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"

static void test_parse_errors_name_the_json_path(void **state)
{
	(void)state;
	struct cm_policy p;
	struct cm_err e = {0};
	const char *j = "{\"rtmrs\":[[\"" Z96 "\",\"" Z96 "\",\"" Z96 "\",\"" Z96 "\"],[\"" Z96 "\",\"00\"]]}";
	assert_int_equal(cm_policy_parse(j, strlen(j), &p, &e), -EINVAL);
	assert_string_equal(e.msg, "policy: rtmrs[1]: 2 entries (need 4..4)");
	j = "{\"rtmrs\":[[\"" Z96 "\",\"00\",\"" Z96 "\",\"" Z96 "\"]]}";
	assert_int_equal(cm_policy_parse(j, strlen(j), &p, &e), -EINVAL);
	assert_string_equal(e.msg, "policy: rtmrs[0][1]: must be 96 hex digits");
	j = "{\"accepted_tcb_statuses\":[\"UpToDate\",\"Revoked\"]}";
	assert_int_equal(cm_policy_parse(j, strlen(j), &p, &e), -EINVAL);
	assert_string_equal(e.msg, "policy: accepted_tcb_statuses[1]: unknown or unacceptable TCB status \"Revoked\"");
}

static void test_load_policy_file(void **state)
{
	(void)state;
	char *dir = test_tmpdir(), path[512];
	snprintf(path, sizeof(path), "%s/policy.json", dir);
	test_write_text(path, "{\"accepted_tcb_statuses\":[\"OutOfDate\"]}\n");
	struct cm_policy p;
	struct cm_err e = {0};
	assert_int_equal(cm_policy_load(path, &p, &e), 0);
	assert_int_equal(p.accepted_statuses, 1u << CM_TCB_OUT_OF_DATE);
	cm_policy_free(&p);
	test_write_text(path, "{\"nope\":true}");
	assert_int_equal(cm_policy_load(path, &p, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "policy.json"));
	unlink(path);
	rmdir(dir);
	free(dir);
}

/* A production peer policy names the images it accepts (docs/ratls.md "Production
 * policies"): allowlists, or an explicit allow_any_image. */
static void test_allow_any_image_and_pinning(void **state)
{
	(void)state;
	struct cm_policy p;
	struct cm_err e = {0};
	assert_int_equal(cm_policy_default(&p), 0);
	assert_false(p.allow_any_image);
	assert_false(cm_policy_pins_image(&p));
	cm_policy_free(&p);
	const char *any = "{\"allow_any_image\":true}";
	assert_int_equal(cm_policy_parse(any, strlen(any), &p, &e), 0);
	assert_true(p.allow_any_image);
	assert_false(cm_policy_pins_image(&p));
	cm_policy_free(&p);
	const char *bad = "{\"allow_any_image\":1}";
	assert_int_equal(cm_policy_parse(bad, strlen(bad), &p, &e), -EINVAL);
	char json[512], h[97];
	memset(h, 'a', 96);
	h[96] = 0;
	const char *keys[] = {"mrtd", "image_hashes"};
	for (int i = 0; i < 2; i++) {
		snprintf(json, sizeof(json), "{\"%s\":[\"%.*s\"]}", keys[i], i ? 64 : 96, h);
		assert_int_equal(cm_policy_parse(json, strlen(json), &p, &e), 0);
		assert_true(cm_policy_pins_image(&p));
		cm_policy_free(&p);
	}
	snprintf(json, sizeof(json), "{\"rtmrs\":[[\"%s\",\"%s\",\"%s\",\"%s\"]]}", h, h, h, h);
	assert_int_equal(cm_policy_parse(json, strlen(json), &p, &e), 0);
	assert_true(cm_policy_pins_image(&p));
	cm_policy_free(&p);
	/* an explicitly empty list pins nothing */
	const char *empty = "{\"image_hashes\":[]}";
	assert_int_equal(cm_policy_parse(empty, strlen(empty), &p, &e), 0);
	assert_false(cm_policy_pins_image(&p));
	cm_policy_free(&p);
}

static void test_min_tcb_evaluation_data_number(void **state)
{
	(void)state;
	struct cm_policy p;
	struct cm_err e = {0};
	assert_int_equal(cm_policy_default(&p), 0);
	assert_int_equal(p.min_tcb_eval_number, 0);
	cm_policy_free(&p);
	const char *ok = "{\"min_tcb_evaluation_data_number\":17}";
	assert_int_equal(cm_policy_parse(ok, strlen(ok), &p, &e), 0);
	assert_int_equal(p.min_tcb_eval_number, 17);
	cm_policy_free(&p);
	static const char *const bad[] = {
		"{\"min_tcb_evaluation_data_number\":-1}",
		"{\"min_tcb_evaluation_data_number\":\"17\"}",
		"{\"min_tcb_evaluation_data_number\":1.5}",
		"{\"min_tcb_evaluation_data_number\":4294967296}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_true(cm_policy_parse(bad[i], strlen(bad[i]), &p, &e) < 0);
		assert_non_null(strstr(e.msg, "min_tcb_evaluation_data_number")); /* the JSON path */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_policy),
		cmocka_unit_test(test_parse_full_policy),
		cmocka_unit_test(test_parse_rejects_bad_policies),
		cmocka_unit_test(test_parse_errors_name_the_json_path),
		cmocka_unit_test(test_load_policy_file),
		cmocka_unit_test(test_allow_any_image_and_pinning),
		cmocka_unit_test(test_min_tcb_evaluation_data_number),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
