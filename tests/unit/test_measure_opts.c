/* cm_opts_parse: the option table of cocoon-measure and cocoon-launch. */
#include "tests/unit/testutil.h"
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "measure/core/opts.h"

struct vals {
	int json, any;
	const char *coll;
	unsigned timeout;
	int64_t t;
	int color;
};

/* --color red|blue, as 1|2. */
static int parse_color(const char *s, void *dest)
{
	int *c = dest;
	if (!strcmp(s, "red"))
		*c = 1;
	else if (!strcmp(s, "blue"))
		*c = 2;
	else
		return -EINVAL;
	return 0;
}

#define MAX_ARGS 6

/* Parse args (NULL-terminated, after "cmd") with a fresh table; returns cm_opts_parse's
 * result, the values in *v and the message in msg. */
static int parse(const char *const *args, struct vals *v, char *msg, size_t cap)
{
	*v = (struct vals){ .timeout = 7, .t = -1 };
	const struct cm_opt opts[] = {
		CM_OPT_FLAG("json", 'j', &v->json),
		CM_OPT_FLAG("any", 'a', &v->any),
		CM_OPT_STR("collateral", 'c', &v->coll),
		CM_OPT_UINT("timeout", 0, &v->timeout, 1, 3600, "seconds"),
		CM_OPT_TIME("time", 't', &v->t, 0),
		CM_OPT_PARSE("color", 0, &v->color, parse_color, "red or blue"),
		CM_OPT_HELP('h'),
		CM_OPT_END,
	};
	char *argv[MAX_ARGS + 2] = { (char *)"cmd" };
	int argc = 1;
	for (; args[argc - 1]; argc++)
		argv[argc] = (char *)args[argc - 1];
	msg[0] = 0;
	return cm_opts_parse(argc, argv, opts, msg, cap);
}

/* Every kind stores its value, long and short, in argv's order; operands move to the end. */
static void test_opts_store_values(void **state)
{
	(void)state;
	struct vals v;
	char msg[256];
	const char *a[] = { "file1", "--json", "-c", "coll.json", "--timeout=3600", "-t0", NULL };
	assert_int_equal(parse(a, &v, msg, sizeof msg), CM_OPTS_DONE);
	assert_int_equal(v.json, 1);
	assert_int_equal(v.any, 0);
	assert_string_equal(v.coll, "coll.json");
	assert_int_equal(v.timeout, 3600);
	assert_int_equal(v.t, 0);
	assert_int_equal(optind, 6); /* argv[6], "file1", moved after the 5 option words */

	const char *b[] = { "-ja", "--coll", "x", "--color", "blue", "--time", NULL };
	/* --time lacks its value: nothing of a later option is stored, earlier ones are */
	assert_int_equal(parse(b, &v, msg, sizeof msg), CM_OPTS_BAD);
	assert_string_equal(msg, "option '--time' needs a value");
	assert_int_equal(v.json + v.any, 2);
	assert_string_equal(v.coll, "x");
	assert_int_equal(v.color, 2);

	const char *c[] = { "--timeout", "1", "--time", "9223372036854775807", "--", "--json", NULL };
	assert_int_equal(parse(c, &v, msg, sizeof msg), CM_OPTS_DONE);
	assert_int_equal(v.timeout, 1);
	assert_int_equal(v.t, INT64_MAX);
	assert_int_equal(v.json, 0); /* after "--": an operand */
}

static void test_opts_help(void **state)
{
	(void)state;
	struct vals v;
	char msg[256];
	const char *a[] = { "--json", "--help", "--bogus", NULL };
	assert_int_equal(parse(a, &v, msg, sizeof msg), CM_OPTS_HELP);
	const char *b[] = { "-jh", NULL };
	assert_int_equal(parse(b, &v, msg, sizeof msg), CM_OPTS_HELP);
}

/* Every refusal names the option as typed and, for a value, what it wants and what it got. */
static void test_opts_refusals_name_option_and_value(void **state)
{
	(void)state;
	static const struct {
		const char *args[3];
		const char *msg;
	} cases[] = {
		{ { "--bogus" }, "unknown option '--bogus'" },
		{ { "--bogus=1" }, "unknown option '--bogus'" },
		{ { "-x" }, "unknown option '-x'" },
		{ { "-jx" }, "unknown option '-x'" },
		{ { "--collateral" }, "option '--collateral' needs a value" },
		{ { "-c" }, "option '-c' needs a value" },
		{ { "--json=1" }, "option '--json' takes no value" },
		{ { "--timeout", "0" }, "option '--timeout' wants 1-3600 seconds, got '0'" },
		{ { "--timeout", "3601" }, "option '--timeout' wants 1-3600 seconds, got '3601'" },
		{ { "--timeout", "-5" }, "option '--timeout' wants 1-3600 seconds, got '-5'" },
		{ { "--timeout", "+5" }, "option '--timeout' wants 1-3600 seconds, got '+5'" },
		{ { "--timeout", " 5" }, "option '--timeout' wants 1-3600 seconds, got ' 5'" },
		{ { "--timeout", "5s" }, "option '--timeout' wants 1-3600 seconds, got '5s'" },
		{ { "--timeout=" }, "option '--timeout' wants 1-3600 seconds, got ''" },
		{ { "--timeout", "18446744073709551617" },
		  "option '--timeout' wants 1-3600 seconds, got '18446744073709551617'" },
		{ { "-t", "-1" }, "option '--time' wants unix seconds, got '-1'" },
		{ { "--time", "9223372036854775808" }, "option '--time' wants unix seconds, got '9223372036854775808'" },
		{ { "--time", "1e9" }, "option '--time' wants unix seconds, got '1e9'" },
		{ { "--color", "green" }, "option '--color' wants red or blue, got 'green'" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vals v;
		char msg[256];
		const char *args[4] = { cases[i].args[0], cases[i].args[1], cases[i].args[2], NULL };
		int rc = parse(args, &v, msg, sizeof msg);
		if (rc != CM_OPTS_BAD || strcmp(msg, cases[i].msg))
			fail_msg("case %zu (%s): returned %d '%s'", i, cases[i].args[0], rc, msg);
		assert_int_equal(v.timeout, 7); /* a refused value is not stored */
		assert_int_equal(v.t, -1);
	}
}

/* A TIME option with a minimum of 1 (cocoon-launch collateral) refuses 0; a message longer
 * than the buffer is cut, never overrun. */
static void test_opts_time_minimum_and_short_buffer(void **state)
{
	(void)state;
	int64_t t = 5;
	const struct cm_opt opts[] = { CM_OPT_TIME("time", 0, &t, 1), CM_OPT_END };
	char *argv[] = { (char *)"cmd", (char *)"--time", (char *)"0", NULL };
	char msg[64];
	assert_int_equal(cm_opts_parse(3, argv, opts, msg, sizeof msg), CM_OPTS_BAD);
	assert_string_equal(msg, "option '--time' wants unix seconds, 1 or later, got '0'");
	assert_int_equal(t, 5);
	char tiny[8];
	assert_int_equal(cm_opts_parse(3, argv, opts, tiny, sizeof tiny), CM_OPTS_BAD);
	assert_string_equal(tiny, "option ");
	argv[2] = (char *)"1";
	assert_int_equal(cm_opts_parse(3, argv, opts, msg, sizeof msg), CM_OPTS_DONE);
	assert_int_equal(t, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opts_store_values),
		cmocka_unit_test(test_opts_help),
		cmocka_unit_test(test_opts_refusals_name_option_and_value),
		cmocka_unit_test(test_opts_time_minimum_and_short_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
