/* libmeasure's strict JSON reader (measure/core/json.h): strict parsing with a size bound,
 * typed getters, unknown-key rejection, errors naming the JSON path. */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "measure/core/json.h"

static int read_doc(const char *text, struct cm_jv *root, struct cm_err *e)
{
	return cm_json_read(text, strlen(text), 4096, "spec", root, e);
}

static void expect_parse_error(const char *text, const char *msg)
{
	struct cm_jv root;
	struct cm_err e = {0};
	assert_int_equal(read_doc(text, &root, &e), -EINVAL);
	assert_null(root.o);
	assert_string_equal(e.msg, msg);
}

static void test_json_read_strict(void **state)
{
	(void)state;
	expect_parse_error("{\"a\": 1,}", "spec: not valid JSON at byte 8 (unexpected character)");
	expect_parse_error("{\"a\": 'x'}", "spec: not valid JSON at byte 6 (single-quoted string)");
	expect_parse_error("{\"a\": 1} x", "spec: not valid JSON at byte 9 (unexpected character)");
	expect_parse_error("{\"a\": 1} {}", "spec: not valid JSON at byte 9 (unexpected character)");
	expect_parse_error("{\"a\": \"x\0\"}", "spec: not valid JSON at byte 8 (unexpected end of data)");
	struct cm_jv root;
	struct cm_err e = {0};
	const char nul[] = "{\"a\": \"x\0\"}";
	assert_int_equal(cm_json_read(nul, sizeof(nul) - 1, 4096, "spec", &root, &e), -EINVAL);
	assert_string_equal(e.msg, "spec: not valid JSON at byte 8 (NUL byte)");
	assert_int_equal(cm_json_read("{}", 2, 1, "spec", &root, &e), -E2BIG);
	assert_string_equal(e.msg, "spec: larger than 1 bytes");
	/* RFC 8259: whitespace around the value */
	assert_int_equal(read_doc(" {\"a\": [1, 2]}\r\n\t ", &root, &e), 0);
	cm_json_release(&root);
}

static void test_json_paths_in_errors(void **state)
{
	(void)state;
	struct cm_jv root, svcs, svc, argv, a0;
	struct cm_err e = {0};
	const char *s;
	size_t n;
	assert_int_equal(read_doc("{\"services\": [{}, {}, {\"argv\": [7]}]}", &root, &e), 0);
	static const char *const keys[] = {"services", NULL};
	assert_int_equal(cm_jv_object(&root, keys, &e), 0);
	assert_int_equal(cm_jv_need(&root, "services", &svcs, &e), 0);
	assert_int_equal(cm_jv_array(&svcs, 0, 8, &n, &e), 0);
	assert_int_equal(n, 3);
	svc = cm_jv_elem(&svcs, 2);
	assert_int_equal(cm_jv_need(&svc, "argv", &argv, &e), 0);
	a0 = cm_jv_elem(&argv, 0);
	assert_int_equal(cm_jv_str(&a0, 1, 10, &s, &e), -EINVAL);
	assert_string_equal(e.msg, "spec: services[2].argv[0]: must be a string");
	struct cm_jv first = cm_jv_elem(&svcs, 0), missing;
	assert_int_equal(cm_jv_need(&first, "name", &missing, &e), -EINVAL);
	assert_string_equal(e.msg, "spec: services[0].name: missing");
	assert_int_equal(cm_jv_array(&svcs, 0, 2, &n, &e), -E2BIG);
	assert_string_equal(e.msg, "spec: services: 3 entries (need 0..2)");
	static const char *const other[] = {"models", NULL};
	assert_int_equal(cm_jv_object(&root, other, &e), -EINVAL);
	assert_string_equal(e.msg, "spec: unknown key \"services\"");
	assert_int_equal(cm_jv_object(&svcs, NULL, &e), -EINVAL);
	assert_string_equal(e.msg, "spec: services: must be an object");
	cm_json_release(&root);
}

static void test_json_typed_getters(void **state)
{
	(void)state;
	struct cm_jv root, v;
	struct cm_err e = {0};
	assert_int_equal(read_doc("{\"i\": 5, \"big\": 18446744073709551615, \"f\": 1.5, \"b\": true,"
				  " \"h\": \"00Ff\", \"s\": \"abc\", \"z\": \"a\\u0000b\"}",
				  &root, &e),
			 0);
	int64_t x;
	assert_true(cm_jv_get(&root, "i", &v));
	assert_int_equal(cm_jv_int(&v, 0, 5, &x, &e), 0);
	assert_int_equal(x, 5);
	assert_int_equal(cm_jv_int(&v, 6, 9, &x, &e), -ERANGE);
	assert_string_equal(e.msg, "spec: i: 5 outside 6..9");
	cm_jv_get(&root, "big", &v);
	assert_int_equal(cm_jv_int(&v, 0, INT64_MAX, &x, &e), -ERANGE);
	cm_jv_get(&root, "f", &v);
	assert_int_equal(cm_jv_int(&v, 0, 9, &x, &e), -EINVAL);
	assert_string_equal(e.msg, "spec: f: must be an integer");
	bool b = false;
	cm_jv_get(&root, "b", &v);
	assert_int_equal(cm_jv_bool(&v, &b, &e), 0);
	assert_true(b);
	cm_jv_get(&root, "i", &v);
	assert_int_equal(cm_jv_bool(&v, &b, &e), -EINVAL);
	assert_string_equal(e.msg, "spec: i: must be true or false");
	uint8_t h[2];
	cm_jv_get(&root, "h", &v);
	assert_int_equal(cm_jv_hex(&v, h, 2, &e), 0);
	assert_int_equal(h[1], 0xff);
	assert_int_equal(cm_jv_hex(&v, h, 1, &e), -EINVAL);
	assert_string_equal(e.msg, "spec: h: must be 2 hex digits");
	char buf[4];
	cm_jv_get(&root, "s", &v);
	assert_int_equal(cm_jv_strcpy(&v, buf, sizeof(buf), &e), 0);
	assert_string_equal(buf, "abc");
	assert_int_equal(cm_jv_strcpy(&v, buf, 3, &e), -EINVAL);
	assert_string_equal(e.msg, "spec: s: must be a string of 0..2 bytes (is 3)");
	cm_jv_get(&root, "z", &v);
	assert_int_equal(cm_jv_strcpy(&v, buf, sizeof(buf), &e), -EINVAL);
	assert_string_equal(e.msg, "spec: z: contains a NUL character");
	assert_false(cm_jv_get(&root, "nope", &v));
	assert_null(v.o);
	cm_json_release(&root);
}

/* cm_json_read_file: the document is read with the size bound and errors name the file. */
static void test_json_read_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_json.XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/doc.json", dir);
	struct cm_jv root;
	struct cm_err e = {0};
	assert_true(cm_json_read_file(path, 64, "doc", &root, &e) < 0); /* missing */
	test_write_text(path, "{\"a\": 1,}");
	assert_int_equal(cm_json_read_file(path, 64, "doc", &root, &e), -EINVAL);
	assert_non_null(strstr(e.msg, path));
	assert_non_null(strstr(e.msg, "doc: not valid JSON"));
	assert_true(cm_json_read_file(path, 4, "doc", &root, &e) < 0); /* over the bound */
	test_write_text(path, "{\"a\": 1}");
	assert_int_equal(cm_json_read_file(path, 64, "doc", &root, &e), 0);
	struct cm_jv a;
	int64_t v;
	assert_int_equal(cm_jv_need(&root, "a", &a, &e), 0);
	assert_int_equal(cm_jv_int(&a, 0, 9, &v, &e), 0);
	assert_int_equal(v, 1);
	cm_json_release(&root);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_read_strict),
		cmocka_unit_test(test_json_paths_in_errors),
		cmocka_unit_test(test_json_typed_getters),
		cmocka_unit_test(test_json_read_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
