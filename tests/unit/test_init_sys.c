/* cocoon-init helpers: spec tree copy, module list lines, the FATAL line format. */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest/init/log.h"
#include "guest/init/modules.h"
#include "guest/init/sys.h"
#include "measure/predict/spec.h"

static void put(const char *dir, const char *rel, const char *content, mode_t mode)
{
	char p[600];
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	chmod(p, mode);
}

static void rm_rf(const char *d)
{
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%.300s'", d);
	assert_int_equal(system(cmd), 0);
}

static void test_copy_tree_preserves_the_measured_content(void **state)
{
	(void)state;
	char *src = test_tmpdir(), *dstbase = test_tmpdir();
	char dst[300], sub[400];
	snprintf(sub, sizeof sub, "%s/etc", src);
	mkdir(sub, 0755);
	snprintf(sub, sizeof sub, "%s/runtime", src);
	mkdir(sub, 0755);
	put(src, "cocoon.json", "{\"version\":1}\n", 0644);
	put(src, "etc/run.sh", "#!/bin/sh\n", 0755);
	put(src, "runtime/vars", "X=1\n", 0644);
	snprintf(dst, sizeof dst, "%.250s/spec", dstbase);
	struct cm_err e = {0};
	assert_int_equal(ci_copy_tree(src, dst, 100, 1 << 20, &e), 0);
	uint8_t h1[32], h2[32];
	assert_int_equal(cm_spec_tree_hash(src, h1, &e), 0);
	assert_int_equal(cm_spec_tree_hash(dst, h2, &e), 0);
	assert_memory_equal(h1, h2, 32); /* same tree hash, executable bit included */
	snprintf(sub, sizeof sub, "%s/etc/run.sh", dst);
	struct stat st;
	assert_int_equal(stat(sub, &st), 0);
	assert_true(st.st_mode & S_IXUSR);
	rm_rf(src);
	rm_rf(dstbase);
	free(src);
	free(dstbase);
}

static void test_copy_tree_limits_and_special_files(void **state)
{
	(void)state;
	char *src = test_tmpdir(), *dstbase = test_tmpdir();
	char dst[300], p[400];
	put(src, "a", "0123456789", 0644);
	put(src, "b", "0123456789", 0644);
	struct cm_err e = {0};
	snprintf(dst, sizeof dst, "%.250s/d1", dstbase);
	assert_int_equal(ci_copy_tree(src, dst, 1, 1 << 20, &e), -E2BIG);
	snprintf(dst, sizeof dst, "%.250s/d2", dstbase);
	assert_int_equal(ci_copy_tree(src, dst, 100, 15, &e), -E2BIG);
	snprintf(p, sizeof p, "%s/fifo", src);
	assert_int_equal(mkfifo(p, 0644), 0);
	snprintf(dst, sizeof dst, "%.250s/d3", dstbase);
	assert_int_equal(ci_copy_tree(src, dst, 100, 1 << 20, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "not a regular file"));
	rm_rf(src);
	rm_rf(dstbase);
	free(src);
	free(dstbase);
}

/* A chain of n nested directories "d/d/.../d" under a new temporary directory. */
static char *nested_tree(int n)
{
	char *src = test_tmpdir();
	char p[4096];
	size_t len = (size_t)snprintf(p, sizeof p, "%s", src);
	for (int i = 0; i < n; i++) {
		len += (size_t)snprintf(p + len, sizeof p - len, "/d");
		assert_int_equal(mkdir(p, 0755), 0);
	}
	put(p, "f", "x", 0644);
	return src;
}

/* The 9p source is host-controlled: a deep chain must fail cleanly (not exhaust PID 1's
 * stack), at the depth the spec tree hash accepts. */
static void test_copy_tree_bounds_nesting_depth(void **state)
{
	(void)state;
	char *dstbase = test_tmpdir(), dst[300];
	uint8_t h[CM_SPEC_TREE_LEN];
	struct cm_err e = {0};
	char *ok = nested_tree(CI_COPY_MAX_DEPTH), *deep = nested_tree(CI_COPY_MAX_DEPTH + 1);
	snprintf(dst, sizeof dst, "%.250s/ok", dstbase);
	assert_int_equal(ci_copy_tree(ok, dst, 1000, 1 << 20, &e), 0);
	assert_int_equal(cm_spec_tree_hash(dst, h, &e), 0);
	snprintf(dst, sizeof dst, "%.250s/deep", dstbase);
	assert_int_equal(ci_copy_tree(deep, dst, 1000, 1 << 20, &e), -ELOOP);
	assert_non_null(strstr(e.msg, "nested deeper"));
	assert_true(cm_spec_tree_hash(deep, h, &e) < 0);
	rm_rf(ok);
	rm_rf(deep);
	rm_rf(dstbase);
	free(ok);
	free(deep);
	free(dstbase);
}

static void test_module_list_lines(void **state)
{
	(void)state;
	char l1[] = "  dm_verity  # verity\n", l2[] = "# only a comment\n", l3[] = "\n", l4[] = "evil;rm\n",
	     l5[] = "9pnet_virtio\n";
	int bad;
	assert_string_equal(ci_modules_line(l1, &bad), "dm_verity");
	assert_int_equal(bad, 0);
	assert_null(ci_modules_line(l2, &bad));
	assert_null(ci_modules_line(l3, &bad));
	ci_modules_line(l4, &bad);
	assert_int_equal(bad, 1);
	assert_string_equal(ci_modules_line(l5, &bad), "9pnet_virtio");
	struct cm_err e = {0};
	assert_int_equal(ci_modules_load("/nonexistent/modules", NULL, &e), -ENOENT);
}

static void test_shipped_module_list_parses(void **state)
{
	(void)state;
	FILE *f = fopen("guest/init/modules.list", "r");
	assert_non_null(f);
	char line[256];
	int names = 0;
	while (fgets(line, sizeof line, f)) {
		int bad;
		if (ci_modules_line(line, &bad))
			names++;
		assert_int_equal(bad, 0);
	}
	fclose(f);
	assert_true(names >= 10);
}

static void test_fatal_line_is_one_line(void **state)
{
	(void)state;
	char buf[200];
	assert_string_equal(ci_fatal_format(buf, sizeof buf, "root", "bad\nhash\tx"), "FATAL root: bad hash x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_tree_preserves_the_measured_content),
		cmocka_unit_test(test_copy_tree_limits_and_special_files),
		cmocka_unit_test(test_copy_tree_bounds_nesting_depth),
		cmocka_unit_test(test_module_list_lines),
		cmocka_unit_test(test_shipped_module_list_parses),
		cmocka_unit_test(test_fatal_line_is_one_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
