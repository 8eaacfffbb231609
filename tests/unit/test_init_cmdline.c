/* cocoon-init: the measured kernel command line keys (guest/cmdline/cmdline.c). */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <string.h>

#include "guest/cmdline/cmdline.h"

#define RH "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define BASE "cocoon.roothash=" RH " cocoon.rootblocks=1024"

static int parse(const char *s, struct ci_cmdline *c, struct cm_err *e)
{
	memset(e, 0, sizeof *e);
	return ci_cmdline_parse(s, c, e);
}

static void test_cmdline_minimal_gets_defaults(void **state)
{
	(void)state;
	struct ci_cmdline c;
	struct cm_err e;
	assert_int_equal(parse("console=ttyS0 " BASE " quiet\n", &c, &e), 0);
	assert_string_equal(c.roothash_hex, RH);
	assert_int_equal(c.roothash[0], 0x01);
	assert_int_equal(c.roothash[31], 0xef);
	assert_int_equal(c.rootblocks, 1024);
	assert_string_equal(c.attest, "tdx");
	assert_false(c.debug);
	assert_int_equal(c.gpu, CI_GPU_UNSET);
	assert_int_equal(c.timeout_s, CI_DEFAULT_TIMEOUT_S);
	assert_string_equal(c.keys, "");
}

static void test_cmdline_all_keys(void **state)
{
	(void)state;
	struct ci_cmdline c;
	struct cm_err e;
	assert_int_equal(parse("cocoon.roothash=" "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"
			       " cocoon.rootblocks=7 cocoon.attest=sim cocoon.debug cocoon.gpu=required"
			       " cocoon.timeout=5 cocoon.keys=debug",
			       &c, &e),
			 0);
	assert_string_equal(c.roothash_hex, RH); /* normalized to lower case */
	assert_string_equal(c.attest, "sim");
	assert_true(c.debug);
	assert_int_equal(c.gpu, CI_GPU_REQUIRED);
	assert_int_equal(c.timeout_s, 5);
	assert_string_equal(c.keys, "debug");
	/* the tpm backend (vTPM platforms, guest/attest/tpm.h) */
	assert_int_equal(parse(BASE " cocoon.attest=tpm", &c, &e), 0);
	assert_string_equal(c.attest, "tpm");
	assert_int_equal(parse(BASE " cocoon.gpu=off", &c, &e), 0);
	assert_int_equal(c.gpu, CI_GPU_OFF);
}

static void test_cmdline_requires_root_keys(void **state)
{
	(void)state;
	struct ci_cmdline c;
	struct cm_err e;
	assert_int_equal(parse("cocoon.rootblocks=3", &c, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "cocoon.roothash"));
	assert_int_equal(parse("cocoon.roothash=" RH, &c, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "cocoon.rootblocks"));
}

static void test_cmdline_rejects_bad_values(void **state)
{
	(void)state;
	struct ci_cmdline c;
	struct cm_err e;
	const char *bad[] = {
		"cocoon.roothash=0123 cocoon.rootblocks=1",
		"cocoon.roothash=" RH "00 cocoon.rootblocks=1",
		"cocoon.roothash=zz23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef cocoon.rootblocks=1",
		BASE " cocoon.attest=tpm2",
		BASE " cocoon.attest=",
		BASE " cocoon.debug=1",
		BASE " cocoon.gpu=maybe",
		BASE " cocoon.timeout=0",
		BASE " cocoon.timeout=3601",
		BASE " cocoon.timeout=-1",
		BASE " cocoon.keys=Debug",
		"cocoon.roothash=" RH " cocoon.rootblocks=0",
		"cocoon.roothash=" RH " cocoon.rootblocks=012",
		"cocoon.roothash=" RH " cocoon.rootblocks=+5",
		"cocoon.roothash=" RH " cocoon.rootblocks=99999999999999999999",
		"cocoon.roothash=" RH " cocoon.rootblocks=4503599627370496", /* * 4096 overflows u64 */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (parse(bad[i], &c, &e) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
	}
}

static void test_cmdline_rejects_unknown_and_duplicate_keys(void **state)
{
	(void)state;
	struct ci_cmdline c;
	struct cm_err e;
	assert_int_equal(parse(BASE " cocoon.roothsh=1", &c, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "unknown key cocoon.roothsh"));
	assert_int_equal(parse(BASE " cocoon.debug cocoon.debug", &c, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "twice"));
	assert_int_equal(parse(BASE " cocoon.rootblocks=1024", &c, &e), -EINVAL);
}

static void test_cmdline_quotes_and_double_dash(void **state)
{
	(void)state;
	struct ci_cmdline c;
	struct cm_err e;
	/* Quotes group like the kernel's parser; after "--" everything is init's argv. */
	assert_int_equal(parse("foo=\"a b c\" cocoon.roothash=\"" RH "\" cocoon.rootblocks=2 -- cocoon.bogus", &c, &e),
			 0);
	assert_int_equal(c.rootblocks, 2);
	assert_int_equal(parse(BASE " x=\"unterminated", &c, &e), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmdline_minimal_gets_defaults),
		cmocka_unit_test(test_cmdline_all_keys),
		cmocka_unit_test(test_cmdline_requires_root_keys),
		cmocka_unit_test(test_cmdline_rejects_bad_values),
		cmocka_unit_test(test_cmdline_rejects_unknown_and_duplicate_keys),
		cmocka_unit_test(test_cmdline_quotes_and_double_dash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
