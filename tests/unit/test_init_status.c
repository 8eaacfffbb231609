/* cocoon-init: the status channel (guest/init/status.c): the one request it answers, the
 * bounded answer it builds from the boot state and the in-guest files, and what it refuses. */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "guest/init/log.h"
#include "guest/init/status.h"

static void test_status_request_grammar(void **state)
{
	(void)state;
	char nonce[CI_STATUS_NONCE_MAX + 1];
	struct cm_err e = {0};
	assert_int_equal(ci_status_parse_request("status", 6, nonce, &e), 0);
	assert_string_equal(nonce, "");
	assert_int_equal(ci_status_parse_request("status abc-_9Z\r", 15, nonce, &e), 0);
	assert_string_equal(nonce, "abc-_9Z");
	static const char *const bad[] = {"", "statu", "statusx", "status ", "status a b", "status a;b",
					  "reboot", "STATUS", "status 012345678901234567890123456789012"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(ci_status_parse_request(bad[i], strlen(bad[i]), nonce, &e), -EINVAL);
	/* a NUL inside the line is not a nonce character */
	assert_int_equal(ci_status_parse_request("status a\0b", 10, nonce, &e), -EINVAL);
}

static json_object *parse_answer(char *a)
{
	assert_non_null(a);
	size_t n = strlen(a);
	assert_true(n > 0 && a[n - 1] == '\n');
	assert_null(memchr(a, '\n', n - 1)); /* one line */
	json_object *o = json_tokener_parse(a);
	assert_non_null(o);
	free(a);
	return o;
}

static const char *str(json_object *o, const char *key)
{
	json_object *v;
	assert_true(json_object_object_get_ex(o, key, &v));
	return v ? json_object_get_string(v) : NULL;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_status_answer_reports_state_and_files(void **state)
{
	(void)state;
	char *dir = test_tmpdir(), ev[600], gpu[600], col[600];
	snprintf(ev, sizeof ev, "%s/rtmr3.log", dir);
	snprintf(gpu, sizeof gpu, "%s/gpu.json", dir);
	snprintf(col, sizeof col, "%s/collateral-state.json", dir);
	write_file(ev, "cocoon:spec.tree=00\ncocoon:tdx_inited\n");
	write_file(gpu, "{\"verified\": true}");
	struct ci_status_paths p = {.event_log = ev, .gpu = gpu, .collateral = {"/nonexistent/x", col, NULL}};

	ci_status_step("init");
	ci_status_step("disks");
	ci_log("a log line");
	ci_status_rtmr3("ab");
	ci_status_image_hash("cd", NULL);
	struct ci_spec spec = {.n_services = 2};
	snprintf(spec.services[0].name, sizeof spec.services[0].name, "engine");
	snprintf(spec.services[1].name, sizeof spec.services[1].name, "ratls");
	ci_status_services(&spec);
	ci_status_service(1, CI_SVC_RUNNING, 42, false, NULL);
	ci_status_service(0, CI_SVC_BACKOFF, 0, false, "exited with status 1");
	ci_status_service(0, CI_SVC_RUNNING, 43, true, NULL);

	json_object *o = parse_answer(ci_status_answer("status n1", 9, &p));
	assert_string_equal(str(o, "nonce"), "n1");
	assert_string_equal(str(o, "phase"), "booting");
	assert_string_equal(str(o, "step"), "disks");
	assert_string_equal(str(o, "rtmr3"), "ab");
	assert_string_equal(str(o, "image_hash"), "cd");
	json_object *v, *s;
	assert_true(json_object_object_get_ex(o, "services", &v));
	assert_int_equal(json_object_array_length(v), 2);
	s = json_object_array_get_idx(v, 0);
	assert_string_equal(str(s, "name"), "engine");
	assert_string_equal(str(s, "state"), "running");
	assert_string_equal(str(s, "pid"), "43");
	assert_string_equal(str(s, "restarts"), "1");
	assert_string_equal(str(s, "last_exit"), "exited with status 1");
	assert_true(json_object_object_get_ex(o, "event_log", &v));
	assert_int_equal(json_object_array_length(v), 2);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 1)), "cocoon:tdx_inited");
	assert_true(json_object_object_get_ex(o, "gpu", &v));
	assert_true(json_object_object_get_ex(v, "verified", &s) && json_object_get_boolean(s));
	assert_true(json_object_object_get_ex(o, "collateral", &v) && v == NULL); /* no collateral yet */
	assert_true(json_object_object_get_ex(o, "log_tail", &v));
	bool seen = false;
	for (size_t i = 0; i < json_object_array_length(v); i++)
		seen |= !strcmp(json_object_get_string(json_object_array_get_idx(v, i)), "a log line");
	assert_true(seen);
	json_object_put(o);

	/* the collateral's age; a gpu.json that is not JSON is reported as such, not copied */
	write_file(col, "{\"version\": 1}");
	write_file(gpu, "{\"verified\": tru");
	ci_status_running();
	ci_log("FATAL models: disk gone");
	o = parse_answer(ci_status_answer("status", 6, &p));
	assert_string_equal(str(o, "phase"), "failed");
	assert_string_equal(str(o, "fatal"), "models: disk gone");
	assert_true(json_object_object_get_ex(o, "collateral", &v) && v);
	assert_string_equal(str(v, "path"), col);
	assert_true(json_object_get_int64(json_object_object_get(v, "age_s")) < 600);
	assert_int_equal(json_object_get_int(json_object_object_get(json_object_object_get(v, "state"), "version")), 1);
	assert_true(json_object_object_get_ex(o, "gpu", &v) && v);
	assert_string_equal(str(v, "error"), "not JSON");
	json_object_put(o);
	free(dir);
}

static void test_status_answer_refuses_other_requests(void **state)
{
	(void)state;
	json_object *o = parse_answer(ci_status_answer("shutdown", 8, &ci_status_default_paths));
	assert_true(strstr(str(o, "error"), "unknown request") != NULL);
	assert_false(json_object_object_get_ex(o, "phase", NULL)); /* nothing but the error */
	json_object_put(o);
}

static void test_status_log_tail_bounded(void **state)
{
	(void)state;
	char big[300];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ci_status_step("init");
	for (int i = 0; i < 3 * CI_STATUS_LOG_LINES; i++)
		ci_log("%s", big);
	ci_log("last line");
	json_object *o = parse_answer(ci_status_answer("status", 6, &ci_status_default_paths)), *v;
	assert_true(json_object_object_get_ex(o, "log_tail", &v));
	assert_int_equal(json_object_array_length(v), CI_STATUS_LOG_LINES);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(v, CI_STATUS_LOG_LINES - 1)), "last line");
	assert_true(strlen(json_object_get_string(json_object_array_get_idx(v, 0))) < 256);
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_request_grammar),
		cmocka_unit_test(test_status_answer_reports_state_and_files),
		cmocka_unit_test(test_status_answer_refuses_other_requests),
		cmocka_unit_test(test_status_log_tail_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
