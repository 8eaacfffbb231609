/* cocoon-init: supervisor restart policy and backoff (guest/init/supervisor.c). */
#include "tests/unit/testutil.h"

#include <sys/wait.h>

#include "guest/init/supervisor.h"

/* Wait statuses as the kernel encodes them. */
#define EXITED(c) (((c) & 0xff) << 8)
#define KILLED(s) ((s) & 0x7f)

static void test_restart_policy_table(void **state)
{
	(void)state;
	assert_true(WIFEXITED(EXITED(0)) && WEXITSTATUS(EXITED(3)) == 3 && WIFSIGNALED(KILLED(9)));
	assert_true(ci_should_restart(CI_RESTART_ALWAYS, EXITED(0)));
	assert_true(ci_should_restart(CI_RESTART_ALWAYS, EXITED(1)));
	assert_true(ci_should_restart(CI_RESTART_ALWAYS, KILLED(9)));
	assert_false(ci_should_restart(CI_RESTART_ON_FAILURE, EXITED(0)));
	assert_true(ci_should_restart(CI_RESTART_ON_FAILURE, EXITED(2)));
	assert_true(ci_should_restart(CI_RESTART_ON_FAILURE, KILLED(15)));
	assert_false(ci_should_restart(CI_RESTART_NO, EXITED(1)));
	assert_false(ci_should_restart(CI_RESTART_NO, KILLED(9)));
}

static void test_backoff_doubles_and_caps(void **state)
{
	(void)state;
	unsigned b = 0;
	unsigned want[] = {500, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		b = ci_backoff_next(b, 500, 10);
		assert_int_equal(b, want[i]);
	}
}

static void test_backoff_resets_after_a_long_run(void **state)
{
	(void)state;
	assert_int_equal(ci_backoff_next(32000, 500, CI_BACKOFF_RESET_MS), 500);
	assert_int_equal(ci_backoff_next(32000, 500, CI_BACKOFF_RESET_MS - 1), 60000);
}

static void test_backoff_clamps_initial(void **state)
{
	(void)state;
	assert_int_equal(ci_backoff_next(0, 0, 0), 1);
	assert_int_equal(ci_backoff_next(0, 1000000, 0), CI_BACKOFF_MAX_MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restart_policy_table),
		cmocka_unit_test(test_backoff_doubles_and_caps),
		cmocka_unit_test(test_backoff_resets_after_a_long_run),
		cmocka_unit_test(test_backoff_clamps_initial),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
