/* cm_opts_parse: the option tables of cocoon-measure, cocoon-launch, cocoon-ratls,
 * cocoon-keyserver, cocoon-sim and cocoon-mkinitrd. */
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

/* BUF copies a value that fits its array and refuses, never cuts, one that does not; LIST
 * keeps repeated values in order up to its size; U64 takes the whole 64-bit range. */
static void test_opts_buf_list_u64(void **state)
{
	(void)state;
	char dir[8] = "keep";
	const char *elfs_v[2];
	struct cm_opt_list elfs = CM_OPT_LIST_OF(elfs_v);
	uint64_t seq = 0;
	const struct cm_opt opts[] = {
		CM_OPT_BUF("dir", 'd', dir),
		CM_OPT_LIST("elf", 'e', &elfs),
		CM_OPT_U64("seq", 0, &seq, 1, UINT64_MAX, NULL),
		CM_OPT_END,
	};
	char msg[128];
	char *ok[] = { (char *)"cmd", (char *)"-d1234567", (char *)"--elf=a", (char *)"--seq",
		       (char *)"18446744073709551615", (char *)"-e", (char *)"b", NULL };
	assert_int_equal(cm_opts_parse(7, ok, opts, msg, sizeof msg), CM_OPTS_DONE);
	assert_string_equal(dir, "1234567"); /* 7 bytes and the NUL: the array's 8 */
	assert_int_equal(elfs.n, 2);
	assert_string_equal(elfs.v[0], "a");
	assert_string_equal(elfs.v[1], "b");
	assert_true(seq == UINT64_MAX);

	static const struct {
		const char *args[2];
		const char *msg;
	} cases[] = {
		{ { "--dir", "12345678" }, "option '--dir' wants at most 7 bytes, got 8" },
		{ { "--elf", "c" }, "option '--elf' may be given at most 2 times" },
		{ { "--seq", "0" }, "option '--seq' wants 1-18446744073709551615, got '0'" },
		{ { "--seq", "-1" }, "option '--seq' wants 1-18446744073709551615, got '-1'" },
		{ { "--seq", "18446744073709551616" },
		  "option '--seq' wants 1-18446744073709551615, got '18446744073709551616'" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(dir, "keep", 5);
		seq = 7;
		char *argv[] = { (char *)"cmd", (char *)cases[i].args[0], (char *)cases[i].args[1], NULL };
		int rc = cm_opts_parse(3, argv, opts, msg, sizeof msg);
		if (rc != CM_OPTS_BAD || strcmp(msg, cases[i].msg))
			fail_msg("case %zu (%s): returned %d '%s'", i, cases[i].args[0], rc, msg);
		assert_string_equal(dir, "keep"); /* a refused value is not stored, not even in part */
		assert_true(seq == 7);
		assert_int_equal(elfs.n, 2);
	}
}

/* cm_opts_parse_head stops at the first operand (the subcommand) and leaves the rest, its
 * options too, in place; cm_opts_parse would have read them or refused them. */
static void test_opts_head_stops_at_operand(void **state)
{
	(void)state;
	int json = 0;
	const char *dir = NULL;
	const struct cm_opt opts[] = { CM_OPT_FLAG("json", 'j', &json), CM_OPT_STR("dir", 'd', &dir), CM_OPT_END };
	char msg[128];
	char *argv[] = { (char *)"sim", (char *)"--dir", (char *)"D", (char *)"-j", (char *)"quote",
			 (char *)"--out", (char *)"q", (char *)"-j", NULL };
	assert_int_equal(cm_opts_parse_head(8, argv, opts, msg, sizeof msg), CM_OPTS_DONE);
	assert_int_equal(optind, 4);
	assert_string_equal(argv[optind], "quote");
	assert_string_equal(argv[5], "--out");
	assert_string_equal(dir, "D");
	assert_int_equal(json, 1);
	assert_int_equal(cm_opts_parse(8, argv, opts, msg, sizeof msg), CM_OPTS_BAD);
	assert_string_equal(msg, "unknown option '--out'");
	char *bad[] = { (char *)"sim", (char *)"--out", (char *)"q", (char *)"quote", NULL };
	assert_int_equal(cm_opts_parse_head(4, bad, opts, msg, sizeof msg), CM_OPTS_BAD);
	assert_string_equal(msg, "unknown option '--out'");
	char *missing[] = { (char *)"sim", (char *)"-d", NULL };
	assert_int_equal(cm_opts_parse_head(2, missing, opts, msg, sizeof msg), CM_OPTS_BAD);
	assert_string_equal(msg, "option '-d' needs a value");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opts_store_values),
		cmocka_unit_test(test_opts_buf_list_u64),
		cmocka_unit_test(test_opts_head_stops_at_operand),
		cmocka_unit_test(test_opts_help),
		cmocka_unit_test(test_opts_refusals_name_option_and_value),
		cmocka_unit_test(test_opts_time_minimum_and_short_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
