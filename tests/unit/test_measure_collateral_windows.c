/* measure/dcap/collateral.c's validity-window table (issue 12 §3): add_window is a file-static
 * helper writing a fixed-size array, so this test includes the source file to reach it. */
#include "tests/unit/testutil.h"

#include "measure/dcap/collateral.c"

static void test_window_table_is_bounded(void **state)
{
	(void)state;
	struct cm_collateral *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	const int cap = (int)(sizeof(c->windows) / sizeof(c->windows[0]));
	for (int i = 0; i < cap + 5; i++)
		(void)add_window(c, "nyv", "exp", "item", i, 100 + i);
	/* the table holds at most its capacity, the fields after it are untouched */
	assert_true(c->n_windows <= cap);
	assert_int_equal(c->memo_next, 0);
	assert_false(c->memo[0].used);
	/* and the overflow is not silent: a load with too many windows fails */
	assert_true(c->windows_overflow);
	struct cm_err e = {0};
	assert_int_equal(windows_check(c, &e), -EBADMSG);
	assert_string_equal(e.check, "collateral_format");
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_table_is_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
