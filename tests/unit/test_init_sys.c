/* cocoon-init helpers: spec tree copy, module list lines, the FATAL line format, the
 * debug shell's measurement and the boot state's disk key. */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest/attest/attest.h"
#include "guest/init/boot.h"
#include "guest/init/log.h"
#include "guest/init/modules.h"
#include "guest/init/sys.h"
#include "measure/eventlog/rtmr3.h"
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

/* Remove a directory of test_tmpdir() with all it holds, and free its name. */
static void rm_tmpdir(char *d)
{
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%.300s'", d);
	assert_int_equal(system(cmd), 0);
	free(d);
}

/* The copy dst has the spec tree hash of its source src. */
static void assert_same_tree_hash(const char *src, const char *dst)
{
	uint8_t h1[32], h2[32];
	struct cm_err e = {0};
	assert_int_equal(cm_spec_tree_hash(src, h1, &e), 0);
	assert_int_equal(cm_spec_tree_hash(dst, h2, &e), 0);
	assert_memory_equal(h1, h2, 32);
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
	assert_same_tree_hash(src, dst); /* executable bit included */
	snprintf(sub, sizeof sub, "%s/etc/run.sh", dst);
	struct stat st;
	assert_int_equal(stat(sub, &st), 0);
	assert_true(st.st_mode & S_IXUSR);
	rm_tmpdir(src);
	rm_tmpdir(dstbase);
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
	rm_tmpdir(src);
	rm_tmpdir(dstbase);
}

static mode_t mode_of(const char *dir, const char *rel)
{
	char p[600];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	assert_int_equal(lstat(p, &st), 0);
	return st.st_mode & 07777;
}

/* What the copy holds is exactly what cm_spec_tree_hash measures: directories without a
 * file (which git drops) are not copied, and modes are 0755/0644 from the owner-execute
 * bit (the hash sees nothing else), whatever the host set. */
static void test_copy_tree_holds_only_what_is_measured(void **state)
{
	(void)state;
	char *src = test_tmpdir(), *dstbase = test_tmpdir();
	char dst[300], p[400];
	snprintf(p, sizeof p, "%s/empty", src);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/nested", src);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof p, "%s/nested/empty", src);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/etc", src);
	assert_int_equal(mkdir(p, 0700), 0);
	put(src, "cocoon.json", "{}\n", 0400);
	put(src, "etc/run.sh", "#!/bin/sh\n", 0700);
	put(src, "etc/odd", "x\n", 04711);
	struct cm_err e = {0};
	snprintf(dst, sizeof dst, "%.250s/spec", dstbase);
	mode_t old = umask(0);
	int r = ci_copy_tree(src, dst, 100, 1 << 20, &e);
	umask(old);
	assert_int_equal(r, 0);
	snprintf(p, sizeof p, "%s/empty", dst);
	assert_int_equal(access(p, F_OK), -1);
	snprintf(p, sizeof p, "%s/nested", dst);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(mode_of(dst, "etc"), 0755);
	assert_int_equal(mode_of(dst, "cocoon.json"), 0644);
	assert_int_equal(mode_of(dst, "etc/run.sh"), 0755);
	assert_int_equal(mode_of(dst, "etc/odd"), 0755);
	assert_same_tree_hash(src, dst);
	rm_tmpdir(src);
	rm_tmpdir(dstbase);
}

static bool exists(const char *dir, const char *rel)
{
	char p[600];
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	return access(p, F_OK) == 0;
}

/* Cocoon's spec directories carry a .gitignore (`runtime`): the copy leaves out the
 * .gitignore files, what they ignore and the top-level spec.tree / spec.meta (as
 * cocoon-prepare-spec does), keeps the top-level runtime/ as is, and the copy's tree hash
 * is the source's. A .gitattributes is refused, as by the hash. */
static void test_copy_tree_follows_the_spec_rules(void **state)
{
	(void)state;
	char *src = test_tmpdir(), *dstbase = test_tmpdir();
	char dst[300], p[400];
	const char *dirs[] = {"runtime", "runtime/sub", "etc", "etc/runtime", "etc/logs"};
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", src, dirs[i]);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	put(src, ".gitignore", "runtime\n*.log\n", 0644);
	put(src, "cocoon.json", "{}\n", 0644);
	put(src, "spec.tree", "0\n", 0644);
	put(src, "runtime/sub/seal-collateral.json", "{}\n", 0644);
	put(src, "runtime/x.log", "runtime is copied as is\n", 0644);
	put(src, "etc/runtime/x", "ignored at any depth\n", 0644);
	put(src, "etc/a.log", "ignored\n", 0644);
	put(src, "etc/logs/keep", "measured\n", 0644);
	put(src, "etc/.gitignore", "logs/\n", 0644);
	struct cm_err e = {0};
	snprintf(dst, sizeof dst, "%.250s/spec", dstbase);
	int r = ci_copy_tree(src, dst, 100, 1 << 20, &e);
	if (r)
		print_error("ci_copy_tree: %s\n", e.msg);
	assert_int_equal(r, 0);
	assert_true(exists(dst, "cocoon.json"));
	assert_true(exists(dst, "runtime/sub/seal-collateral.json"));
	assert_true(exists(dst, "runtime/x.log"));
	assert_false(exists(dst, ".gitignore"));
	assert_false(exists(dst, "etc/.gitignore"));
	assert_false(exists(dst, "spec.tree"));
	assert_false(exists(dst, "etc")); /* everything below it is ignored */
	assert_same_tree_hash(src, dst);
	put(src, "etc/.gitattributes", "* text\n", 0644);
	snprintf(dst, sizeof dst, "%.250s/spec2", dstbase);
	assert_int_equal(ci_copy_tree(src, dst, 100, 1 << 20, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "etc/.gitattributes is not allowed"));
	rm_tmpdir(src);
	rm_tmpdir(dstbase);
}

/* The 9p server may replace a file between the copy's fstatat and its open: a FIFO must
 * be refused at once (a blocking open would hang PID 1), and so must any other file. */
static void test_open_regular_refuses_a_swapped_file(void **state)
{
	(void)state;
	char *dir = test_tmpdir(), p[400];
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	put(dir, "f", "content\n", 0644);
	put(dir, "g", "other\n", 0644);
	struct stat seen;
	assert_int_equal(fstatat(dfd, "f", &seen, AT_SYMLINK_NOFOLLOW), 0);
	struct cm_err e = {0};
	/* unchanged: opened, and reads block normally (O_NONBLOCK cleared) */
	int fd = ci_open_regular_at(dfd, "f", &seen, &e);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	char buf[16];
	assert_int_equal(read(fd, buf, sizeof buf), 8);
	close(fd);
	/* a FIFO in its place: refused without blocking (alarm turns a hang into a failure) */
	snprintf(p, sizeof p, "%s/f", dir);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mkfifo(p, 0644), 0);
	alarm(5);
	assert_true(ci_open_regular_at(dfd, "f", &seen, &e) < 0);
	alarm(0);
	assert_non_null(strstr(e.msg, "changed"));
	/* another regular file in its place (same type, different inode): refused */
	assert_int_equal(renameat(dfd, "g", dfd, "f"), 0);
	assert_true(ci_open_regular_at(dfd, "f", &seen, &e) < 0);
	assert_non_null(strstr(e.msg, "changed"));
	close(dfd);
	rm_tmpdir(dir);
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
	rm_tmpdir(ok);
	rm_tmpdir(deep);
	rm_tmpdir(dstbase);
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

/* The event log at path replays to the backend's RTMR3; returns the log's text. */
static char *log_replays_to_rtmr3(struct ca_backend *b, const char *path)
{
	uint8_t *log, want[48], got[48];
	size_t len;
	struct cm_err e = {0};
	assert_int_equal(cm_read_file(path, 1 << 16, &log, &len, &e), 0);
	assert_int_equal(cm_rtmr3_replay(log, len, want, NULL, &e), 0);
	assert_int_equal(ca_read(b, 3, got, &e), 0);
	assert_memory_equal(got, want, 48);
	char *text = calloc(1, len + 1);
	assert_non_null(text);
	memcpy(text, log, len);
	free(log);
	return text;
}

/* cocoon.debug: the debug shell is measured (RTMR3 and event log) before it starts, with
 * the backend opened for it when the FATAL came before the attestation step. */
static void test_debug_shell_is_measured(void **state)
{
	(void)state;
	char *dir = test_tmpdir(), sim[300], evlog[300];
	snprintf(sim, sizeof sim, "%.250s/sim", dir);
	snprintf(evlog, sizeof evlog, "%.250s/run/cocoon/rtmr3.log", dir);
	setenv("COCOON_SIM_DIR", sim, 1);
	struct ca_backend *b = NULL;
	struct cm_err e = {0};
	assert_int_equal(ci_debug_shell_measure(&b, "sim", evlog, &e), 0);
	assert_non_null(b);
	char *text = log_replays_to_rtmr3(b, evlog);
	assert_string_equal(text, CM_EVENT_DEBUG_SHELL "\n");
	free(text);
	/* a backend already open (FATAL after step 6): the event follows the boot's events
	 * (a fresh sim TD: its registers persist in its directory) */
	ca_close(b);
	b = NULL;
	assert_int_equal(unlink(evlog), 0);
	snprintf(sim, sizeof sim, "%.250s/sim2", dir);
	setenv("COCOON_SIM_DIR", sim, 1);
	assert_int_equal(ca_open("sim", evlog, &b, &e), 0);
	assert_int_equal(ca_extend_event(b, 3, "cocoon:spec.tree=00", &e), 0);
	assert_int_equal(ci_debug_shell_measure(&b, "sim", evlog, &e), 0);
	text = log_replays_to_rtmr3(b, evlog);
	assert_string_equal(text, "cocoon:spec.tree=00\n" CM_EVENT_DEBUG_SHELL "\n");
	free(text);
	ca_close(b);
	/* no backend: refused, nothing opened */
	b = NULL;
	assert_true(ci_debug_shell_measure(&b, "nope", evlog, &e) < 0);
	assert_null(b);
	unsetenv("COCOON_SIM_DIR");
	rm_tmpdir(dir);
}

static int hook_calls, hook_rc;
static int hook(void *ctx, struct cm_err *e)
{
	assert_ptr_equal(ctx, &hook_calls);
	hook_calls++;
	return hook_rc ? cm_fail(e, hook_rc, "extend failed") : 0;
}

/* ci_fatal starts the shell only after the measurement succeeded. */
static void test_debug_shell_needs_the_measurement(void **state)
{
	(void)state;
	struct cm_err e = {0};
	struct ci_fatal_policy p = {.debug_shell = false, .measure_shell = hook, .ctx = &hook_calls};
	ci_fatal_set_policy(&p);
	assert_true(ci_fatal_shell_allowed(&e) < 0); /* no cocoon.debug */
	assert_int_equal(hook_calls, 0);
	p = (struct ci_fatal_policy){.debug_shell = true, .ctx = &hook_calls};
	ci_fatal_set_policy(&p);
	assert_true(ci_fatal_shell_allowed(&e) < 0); /* nothing to measure it with */
	p.measure_shell = hook;
	ci_fatal_set_policy(&p);
	hook_rc = -EIO;
	assert_int_equal(ci_fatal_shell_allowed(&e), -EIO);
	assert_int_equal(hook_calls, 1);
	hook_rc = 0;
	assert_int_equal(ci_fatal_shell_allowed(&e), 0);
	assert_int_equal(hook_calls, 2);
	p = (struct ci_fatal_policy){0};
	ci_fatal_set_policy(&p);
}

/* Step 9 without a persistent volume: the derived disk key does not outlive the step
 * (the boot state keeps it only from step 8 to step 9). */
static void test_boot_persistent_cleanses_the_disk_key(void **state)
{
	(void)state;
	static struct ci_boot b;
	memset(b.disk_key, 0xa5, sizeof b.disk_key);
	b.have_disk_key = true;
	b.spec.persistent = false;
	ci_boot_persistent(&b);
	static const uint8_t zero[CI_DISK_KEY_LEN];
	assert_memory_equal(b.disk_key, zero, sizeof zero);
	assert_false(b.have_disk_key);
	assert_false(b.persistent_mounted);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_tree_preserves_the_measured_content),
		cmocka_unit_test(test_copy_tree_limits_and_special_files),
		cmocka_unit_test(test_copy_tree_bounds_nesting_depth),
		cmocka_unit_test(test_copy_tree_holds_only_what_is_measured),
		cmocka_unit_test(test_copy_tree_follows_the_spec_rules),
		cmocka_unit_test(test_open_regular_refuses_a_swapped_file),
		cmocka_unit_test(test_module_list_lines),
		cmocka_unit_test(test_shipped_module_list_parses),
		cmocka_unit_test(test_fatal_line_is_one_line),
		cmocka_unit_test(test_debug_shell_is_measured),
		cmocka_unit_test(test_debug_shell_needs_the_measurement),
		cmocka_unit_test(test_boot_persistent_cleanses_the_disk_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
