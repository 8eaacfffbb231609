/* cocoon-launch: the status channel client (host-launcher/status.c) finds its answer among
 * stale lines, and `run --supervise` tells a booting guest from a stuck one (run.c). */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "host-launcher/run.h"
#include "host-launcher/status.h"

static void test_status_scan_skips_stale_lines(void **state)
{
	(void)state;
	static const char buf[] = "\"steps\": [1, 2]}\n"         /* the cut tail of an old answer */
				  "{\"nonce\": \"old\", \"phase\": \"booting\"}\n" /* another request's */
				  "{\"nonce\": \"n1\", \"phase\": \"running\"}\n";
	json_object *o = NULL;
	struct cm_err e = { 0 };
	assert_int_equal(cl_status_scan(buf, sizeof(buf) - 1, "n1", &o, &e), 1);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "phase")), "running");
	json_object_put(o);
	assert_int_equal(cl_status_scan(buf, sizeof(buf) - 1, "n2", &o, &e), 0);
	assert_null(o);
}

static void test_status_scan_error_answer(void **state)
{
	(void)state;
	static const char buf[] = "{\"error\": \"unknown request\"}\n";
	json_object *o = NULL;
	struct cm_err e = { 0 };
	assert_int_equal(cl_status_scan(buf, sizeof(buf) - 1, "n1", &o, &e), -EPROTO);
	assert_non_null(strstr(e.msg, "unknown request"));
}

/* `cocoon-launch status` says how old the collateral in use is: per FMSPC, its TCB info
 * issueDate and fetch time against now, when it expires and the last refresh, from the
 * state the guest carries. Before: only the state file's age (in the guest the time since
 * cocoon-init copied the spec share, i.e. since boot). */
static void test_status_print_collateral_age(void **state)
{
	(void)state;
	const int64_t now = 1800000000;
	json_object *st = json_tokener_parse(
		"{\"phase\": \"running\", \"step\": \"services\", \"collateral\": {\"path\": "
		"\"/run/spec/runtime/collateral-state.json\", \"age_s\": 4, \"state\": {\"version\": 1, \"fmspcs\": ["
		"{\"fmspc\": \"00906ED50000\", \"bundle\": \"runtime/collateral/00906ED50000.json\", "
		"\"fetched_at\": 1799999900, \"tcb_issue_date\": 1799996400, \"valid_until\": 1800086400, "
		"\"last_result\": \"refused\", \"last_error\": \"revoked\"},"
		"{\"fmspc\": \"B0C06F000000\", \"bundle\": \"runtime/collateral/B0C06F000000.json\", "
		"\"fetched_at\": null, \"tcb_issue_date\": 1797000000, \"valid_until\": 1799000000, "
		"\"last_result\": \"updated\", \"last_error\": null},"
		"{\"fmspc\": \"90C06F000000\", \"bundle\": null, \"last_result\": \"fetch_failed\", "
		"\"last_error\": \"HTTP status 404\"}]}}}");
	assert_non_null(st);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	cl_status_print_at(st, now, f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(text, "collateral /run/spec/runtime/collateral-state.json, 4 s old\n"));
	assert_non_null(strstr(text, "  00906ED50000  issued 3600 s ago, fetched 100 s ago, expires in 86400 s, "
				     "last refresh refused: revoked\n"));
	assert_non_null(strstr(text, "  B0C06F000000  issued 3000000 s ago, EXPIRED 1000000 s ago, "
				     "last refresh updated\n"));
	assert_non_null(strstr(text, "  90C06F000000  no bundle, last refresh fetch_failed: HTTP status 404\n"));
	free(text);
	json_object_put(st);
}

static json_object *answer(const char *phase, const char *step)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "phase", json_object_new_string(phase));
	json_object_object_add(o, "step", json_object_new_string(step));
	return o;
}

static void test_boot_watch_booting_vs_stuck(void **state)
{
	(void)state;
	FILE *log = fopen("/dev/null", "w");
	struct cl_boot_watch w = { .started = 0, .last_progress = 0 };
	/* no answer yet: not stuck before the timeout, stuck after it */
	assert_int_equal(cl_boot_watch_update(&w, NULL, 10, 30, log), 0);
	json_object *a = answer("booting", "disks");
	assert_int_equal(cl_boot_watch_update(&w, a, 25, 30, log), 0);
	assert_string_equal(w.step, "disks");
	/* the same step: progress counts from when it was first seen */
	assert_int_equal(cl_boot_watch_update(&w, a, 54, 30, log), 0);
	assert_int_equal(cl_boot_watch_update(&w, a, 55, 30, log), 1);
	json_object_put(a);
	/* a new step is progress */
	a = answer("booting", "models");
	assert_int_equal(cl_boot_watch_update(&w, a, 56, 30, log), 0);
	json_object_put(a);
	/* running: never stuck afterwards, even without answers */
	a = answer("running", "services");
	assert_int_equal(cl_boot_watch_update(&w, a, 57, 30, log), 0);
	assert_true(w.running);
	assert_int_equal(cl_boot_watch_update(&w, NULL, 1000, 30, log), 0);
	json_object_put(a);
	/* no answer at all for the timeout is stuck too; timeout 0 never is */
	struct cl_boot_watch w2 = { .started = 0, .last_progress = 0 };
	assert_int_equal(cl_boot_watch_update(&w2, NULL, 30, 30, log), 1);
	struct cl_boot_watch w3 = { .started = 0, .last_progress = 0 };
	assert_int_equal(cl_boot_watch_update(&w3, NULL, 1e6, 0, log), 0);
	fclose(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_scan_skips_stale_lines),
		cmocka_unit_test(test_status_scan_error_answer),
		cmocka_unit_test(test_status_print_collateral_age),
		cmocka_unit_test(test_boot_watch_booting_vs_stuck),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
