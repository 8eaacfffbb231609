/* cocoon-measure quote --collateral: exit codes and JSON keys (measure/cli/cmd_quote.c,
 * linked in directly). */
#include "tests/unit/testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "measure/cli/cli.h"

#define QD "tdx/quotes/"

static char out[1 << 17];

/* Run cmd_quote with args (NULL-terminated), capturing stdout into out. */
static int run(const char *first, ...)
{
	char *argv[16];
	int argc = 0;
	argv[argc++] = (char *)"quote";
	va_list ap;
	va_start(ap, first);
	for (const char *a = first; a && argc < 15; a = va_arg(ap, const char *))
		argv[argc++] = strdup(a);
	va_end(ap);
	argv[argc] = NULL;
	int rc = run_captured(cmd_quote, argc, argv, out, sizeof out);
	for (int i = 1; i < argc; i++)
		free(argv[i]);
	return rc;
}

/* A string member of the JSON printed by the last run ("" when absent or null). */
static const char *field(const char *key)
{
	static char val[1024];
	json_object *o = json_tokener_parse(out), *v;
	assert_non_null(o);
	val[0] = 0;
	if (json_object_object_get_ex(o, key, &v) && v)
		snprintf(val, sizeof(val), "%s", json_object_is_type(v, json_type_string) ? json_object_get_string(v)
											   : json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return val;
}

static char *fx(const char *rel)
{
	static char paths[4][1024];
	static int next;
	char *p = paths[next++ % 4];
	snprintf(p, 1024, "%s", fixture_path(rel));
	return p;
}

/* quote --collateral --time --json on fixtures. */
static int verify_json(const char *quote, const char *coll, const char *time)
{
	return run(fx(quote), "--collateral", fx(coll), "--time", time, "--json", NULL);
}

/* verify_json exits with rc and prints this verdict and failed check ("" for none). */
static void expect_verdict(const char *quote, const char *coll, const char *time, int rc, const char *verdict,
			   const char *failed_check)
{
	assert_int_equal(verify_json(quote, coll, time), rc);
	assert_string_equal(field("verdict"), verdict);
	assert_string_equal(field("failed_check"), failed_check);
}

static void test_ok_quote_exits_zero(void **state)
{
	(void)state;
	expect_verdict(QD "dcapqvl_tdx_quote.bin", QD "dcapqvl_tdx_quote_collateral.json", "1752919234", CLI_OK, "ok", "");
	assert_string_equal(field("tcb_status"), "UpToDate");
	assert_string_equal(field("advisory_ids"), "[]");
	assert_string_equal(field("root_key_id"), "46e403bd34f05a3f2817ab9badcaacc7ffc98e0f261008cd30dae936cace18d5"
						  "dcf58eef31463613de1570d516200993");
	/* the explicit Intel root gives the same result */
	assert_int_equal(run(fx(QD "dcapqvl_tdx_quote.bin"), "--collateral", fx(QD "dcapqvl_tdx_quote_collateral.json"),
			     "--time", "1752919234", "--root", fx(QD "intel_sgx_root_ca.pem"), NULL),
			 CLI_OK);
	assert_non_null(strstr(out, "verdict: ok"));
}

static void test_policy_rejection_exits_four(void **state)
{
	(void)state;
	expect_verdict(QD "dcapqvl_sgx_quote.bin", QD "dcapqvl_sgx_quote_collateral.json", "1752919277", CLI_REJECTED,
		       "rejected", "policy_tcb_status");
	assert_string_equal(field("advisory_ids"), "[\"INTEL-SA-00289\",\"INTEL-SA-00615\"]");
	char *dir = test_tmpdir(), pol[512];
	snprintf(pol, sizeof(pol), "%s/policy.json", dir);
	test_write_text(pol, "{\"accepted_tcb_statuses\":[\"ConfigurationAndSWHardeningNeeded\"]}");
	assert_int_equal(run(fx(QD "dcapqvl_sgx_quote.bin"), "--collateral", fx(QD "dcapqvl_sgx_quote_collateral.json"),
			     "--time", "1752919277", "--policy", pol, NULL),
			 CLI_OK);
	unlink(pol);
	rmdir(dir);
	free(dir);
}

static void test_invalid_evidence_exits_three(void **state)
{
	(void)state;
	expect_verdict(QD "dcapqvl_tdx_quote_neg_reportdata_flip.bin", QD "dcapqvl_tdx_quote_collateral.json",
		       "1752919234", CLI_INVALID_EVIDENCE, "invalid", "quote_signature");
	expect_verdict(QD "dcapqvl_tdx_quote.bin", QD "dcapqvl_tdx_quote_collateral.json", "1752919236",
		       CLI_INVALID_EVIDENCE, "invalid", "pck_crl_expired");
}

static void test_usage_and_input_errors(void **state)
{
	(void)state;
	const char *q = fx(QD "dcapqvl_tdx_quote.bin"), *c = fx(QD "dcapqvl_tdx_quote_collateral.json");
	assert_int_equal(run(q, "--collateral", c, "--time", "soon", NULL), CLI_USAGE);
	assert_int_equal(run(q, "--time", "1752919234", NULL), CLI_USAGE); /* needs --collateral */
	assert_int_equal(run(q, "--collateral", "/nonexistent/bundle.json", NULL), CLI_INVALID_INPUT);
	assert_int_equal(run(q, "--collateral", c, "--policy", "/nonexistent/p.json", NULL), CLI_INVALID_INPUT);
	assert_int_equal(run(q, "--collateral", c, "--root", q, NULL), CLI_INVALID_INPUT); /* not PEM */
	assert_int_equal(run("--help", NULL), CLI_OK);
	assert_non_null(strstr(out, "--collateral"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok_quote_exits_zero),
		cmocka_unit_test(test_policy_rejection_exits_four),
		cmocka_unit_test(test_invalid_evidence_exits_three),
		cmocka_unit_test(test_usage_and_input_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
