/* Spec tree hash (checked against real git) and RTMR3 log replay. */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "measure/core/digest.h"
#include "measure/core/util.h"
#include "measure/eventlog/rtmr3.h"
#include "measure/predict/predict_image.h"
#include "measure/predict/spec.h"
#include "measure/predict/specignore.h"

static void put(const char *dir, const char *rel, const char *content, mode_t mode)
{
	char path[1024], cmd[1200];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(cmd), 0);
	test_write_text(path, content);
	assert_int_equal(chmod(path, mode), 0);
}

/* The tree id real git computes for dir (sha256 object format). */
static void git_tree(const char *dir, char out[65])
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && git -c init.defaultBranch=main init -q --object-format=sha256 . && "
		 "git -c core.autocrlf=false add -A && git write-tree", dir);
	run_reference(cmd, out, 65);
	assert_int_equal(strlen(out), 64);
}

static void our_tree(const char *dir, char out[65])
{
	uint8_t h[32];
	struct cm_err e = {0};
	int r = cm_spec_tree_hash(dir, h, &e);
	if (r)
		print_error("cm_spec_tree_hash: %s\n", e.msg);
	assert_int_equal(r, 0);
	cm_hex_encode(h, 32, out, 65);
}

static void make_tree(const char *d)
{
	put(d, "cocoon.json", "{\"services\": []}\n", 0644);
	put(d, "bin/run.sh", "#!/bin/sh\necho hi\n", 0755);
	put(d, "a.b", "dot\n", 0644);
	put(d, "a/x", "dir a\n", 0600);          /* git records 100644 whatever the group bits */
	put(d, "a-", "dash\n", 0644);
	put(d, "deep/er/still/f", "", 0644);     /* empty file */
	put(d, "Upper", "case sorts first\n", 0744);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/empty/dir'", d); /* vanishes in git */
	assert_int_equal(system(cmd), 0);
}

/* A fresh temporary directory holding make_tree's files. */
static char *new_tree(void)
{
	char *d = test_tmpdir();
	make_tree(d);
	return d;
}

/* Remove a test_tmpdir() directory with everything in it, and free its name. */
static void remove_tree(char *d)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
	free(d);
}

static void test_spec_tree_matches_git(void **state)
{
	(void)state;
	char *d = new_tree();
	char ours[65], theirs[65];
	our_tree(d, ours);
	git_tree(d, theirs);
	assert_string_equal(ours, theirs);
	remove_tree(d);
}

static void test_spec_tree_excludes_runtime_and_spec_files(void **state)
{
	(void)state;
	char *d = new_tree();
	char before[65], after[65], theirs[65];
	our_tree(d, before);
	put(d, "runtime/state", "changes every boot\n", 0644);
	put(d, "spec.tree", "0000\n", 0644);
	put(d, "spec.meta", "meta\n", 0644);
	put(d, "sub/runtime/x", "measured: only the top-level runtime/ is excluded\n", 0644);
	our_tree(d, after);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/runtime' '%s/spec.tree' '%s/spec.meta'", d, d, d);
	assert_int_equal(system(cmd), 0);
	git_tree(d, theirs);
	assert_string_equal(after, theirs);
	assert_string_not_equal(before, after);
	remove_tree(d);
}

/* .gitignore files are honoured as `git add -A` does, then dropped from the tree, as
 * cocoon-prepare-spec does (tests/measure/spec_git.sh covers every pattern kind). */
static void test_spec_tree_honours_gitignore_like_git(void **state)
{
	(void)state;
	char *d = new_tree();
	char before[65], ours[65], theirs[65];
	our_tree(d, before);
	put(d, ".gitignore", "runtime\n*.log\nbuild/\n/only-top\n", 0644);
	put(d, "sub/.gitignore", "x?\n", 0644);
	put(d, "app.log", "ignored\n", 0644);
	put(d, "a/deeper.log", "ignored\n", 0644);
	put(d, "build/out", "ignored\n", 0644);
	put(d, "only-top", "ignored\n", 0644);
	put(d, "a/only-top", "measured\n", 0644);
	put(d, "sub/xy", "ignored\n", 0644);
	put(d, "xy", "measured: sub/.gitignore applies below sub/\n", 0644);
	put(d, "sub/runtime/x", "ignored by the top .gitignore\n", 0644);
	our_tree(d, ours);
	assert_string_not_equal(before, ours);
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && git -c init.defaultBranch=main init -q --object-format=sha256 . && "
		 "git -c core.autocrlf=false -c core.excludesFile=/dev/null add -A && "
		 "git rm -q --cached .gitignore sub/.gitignore && git write-tree", d);
	run_reference(cmd, theirs, 65);
	assert_string_equal(ours, theirs);
	struct cm_spec_patterns *p;
	struct cm_err e = {0};
	assert_int_equal(cm_spec_ignore_parse("\xef\xbb\xbf# c\n\n  \n", 11, "g", &p, &e), 0);
	assert_null(p); /* a BOM, a comment, blank lines: no pattern */
	assert_int_equal(cm_spec_ignore_parse("a\nb\\c\n", 6, "g", &p, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "g line 2"));
	assert_int_equal(cm_spec_ignore_parse("/\n", 2, "g", &p, &e), -EINVAL);
	assert_int_equal(cm_spec_ignore_parse("a\0b\n", 4, "g", &p, &e), -EINVAL);
	remove_tree(d);
}

static void test_spec_tree_changes_with_exec_bit(void **state)
{
	(void)state;
	char *d = test_tmpdir();
	put(d, "f", "x", 0644);
	char a[65], b[65];
	our_tree(d, a);
	char path[512];
	snprintf(path, sizeof(path), "%s/f", d);
	chmod(path, 0755);
	our_tree(d, b);
	assert_string_not_equal(a, b);
	unlink(path);
	rmdir(d);
	free(d);
}

static void test_spec_tree_of_empty_dir_is_git_empty_tree(void **state)
{
	(void)state;
	char *d = test_tmpdir();
	char ours[65];
	our_tree(d, ours);
	/* sha256 of "tree 0\0": git's empty tree in the sha256 object format */
	assert_string_equal(ours, "6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321");
	rmdir(d);
	free(d);
}

static void expect_refused(const char *setup, const char *what)
{
	char *d = test_tmpdir();
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "cd '%s' && %s", d, setup);
	assert_int_equal(system(cmd), 0);
	uint8_t h[32];
	struct cm_err e = {0};
	assert_true(cm_spec_tree_hash(d, h, &e) < 0);
	if (!strstr(e.msg, what)) {
		print_error("message '%s' does not mention '%s'\n", e.msg, what);
		fail();
	}
	remove_tree(d);
}

static void test_spec_tree_refuses_what_git_would_treat_differently(void **state)
{
	(void)state;
	expect_refused("echo x > f && ln -s f link", "symlink");
	expect_refused("mkdir -p sub/.git", ".git");
	expect_refused("printf '*.log\\n!keep.log\\n' > .gitignore", ".gitignore line 2: \"!keep.log\": negation");
	expect_refused("mkdir d && echo '* text' > d/.gitattributes", "d/.gitattributes is not allowed");
	expect_refused("echo 'a/*.c' > .gitignore", "wildcards in a path");
	expect_refused("mkfifo pipe", "special file");
	expect_refused("truncate -s 10485761 big", "limit");
	uint8_t h[32];
	struct cm_err e = {0};
	assert_int_equal(cm_spec_tree_hash("/nonexistent/spec", h, &e), -ENOENT);
}

static void test_rtmr3_replay_matches_manual_extends(void **state)
{
	(void)state;
	const char *log = "cocoon:spec.tree=abc\ncocoon:tdx_inited\n";
	uint8_t want[48] = {0}, d[48], got[48];
	cm_sha384("cocoon:spec.tree=abc", 20, d);
	cm_rtmr_extend(want, d);
	cm_sha384("cocoon:tdx_inited", 17, d);
	cm_rtmr_extend(want, d);
	json_object *ev = json_object_new_array();
	struct cm_err e = {0};
	assert_int_equal(cm_rtmr3_replay((const uint8_t *)log, strlen(log), got, ev, &e), 0);
	assert_memory_equal(got, want, 48);
	assert_int_equal(json_object_array_length(ev), 2);
	json_object *second = json_object_array_get_idx(ev, 1), *v;
	assert_true(json_object_object_get_ex(second, "event", &v));
	assert_string_equal(json_object_get_string(v), "cocoon:tdx_inited");
	assert_true(json_object_object_get_ex(second, "offset", &v));
	assert_int_equal(json_object_get_int(v), 21);
	json_object_put(ev);
	/* empty log = zero register */
	assert_int_equal(cm_rtmr3_replay((const uint8_t *)"", 0, got, NULL, &e), 0);
	assert_true(cm_is_zero(got, 48));
}

static void test_rtmr3_replay_rejects_malformed_logs(void **state)
{
	(void)state;
	uint8_t got[48];
	struct cm_err e = {0};
	const char *unterminated = "cocoon:a\ncocoon:b";
	assert_int_equal(cm_rtmr3_replay((const uint8_t *)unterminated, strlen(unterminated), got, NULL, &e),
			 -EBADMSG);
	assert_non_null(strstr(e.msg, "offset 9"));
	const char *ctrl = "cocoon:a\tb\n";
	assert_int_equal(cm_rtmr3_replay((const uint8_t *)ctrl, strlen(ctrl), got, NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "non-printable"));
	assert_int_equal(cm_rtmr3_replay((const uint8_t *)"\n", 1, got, NULL, &e), -EINVAL);
}

/* The events cm_rtmr3_spec_events predicts for d, joined by ','. */
static int spec_events(const char *d, bool debug, char *out, size_t n, struct cm_err *e)
{
	struct cm_pevent ev[CM_RTMR3_SPEC_EVENTS_MAX];
	size_t k;
	uint8_t tree[32];
	int rc = cm_rtmr3_spec_events(d, debug, ev, &k, tree, e);
	out[0] = '\0';
	for (size_t i = 0; !rc && i < k; i++) {
		uint8_t dg[48];
		assert_int_equal(cm_rtmr3_event_digest(ev[i].desc, strlen(ev[i].desc), dg, NULL), 0);
		assert_memory_equal(dg, ev[i].digest, 48);
		size_t l = strlen(out);
		snprintf(out + l, n - l, "%s%s", i ? "," : "", strncmp(ev[i].desc, "cocoon:spec.tree=", 17) ? ev[i].desc : "tree");
	}
	return rc;
}

static void test_rtmr3_prediction_has_gpu_event_only_when_the_spec_requires_a_gpu(void **state)
{
	(void)state;
	char *d = test_tmpdir();
	char got[256];
	struct cm_err e = {0};
	/* no cocoon.json (Cocoon's own spec directories): no GPU */
	assert_int_equal(spec_events(d, false, got, sizeof(got), &e), 0);
	assert_string_equal(got, "tree,cocoon:tdx_inited");
	put(d, "cocoon.json", "{\"version\": 1, \"gpu\": \"off\"}", 0644);
	assert_int_equal(spec_events(d, false, got, sizeof(got), &e), 0);
	assert_string_equal(got, "tree,cocoon:tdx_inited");
	/* cocoon-init's order: spec (6), gpu (7), debug key provider and tdx_inited (8) */
	put(d, "cocoon.json", "{\"version\": 1, \"gpu\": \"required\"}", 0644);
	assert_int_equal(spec_events(d, true, got, sizeof(got), &e), 0);
	assert_string_equal(got, "tree,cocoon:gpu_verified,cocoon:cocoon_debug,cocoon:tdx_inited");
	put(d, "cocoon.json", "{\"version\": 1, \"gpu\": \"maybe\"}", 0644);
	assert_int_equal(spec_events(d, false, got, sizeof(got), &e), -EINVAL);
	assert_non_null(strstr(e.msg, "gpu: must be required or off"));
	put(d, "cocoon.json", "{\"version\": 1,", 0644);
	assert_true(spec_events(d, false, got, sizeof(got), &e) < 0);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_tree_matches_git),
		cmocka_unit_test(test_spec_tree_excludes_runtime_and_spec_files),
		cmocka_unit_test(test_spec_tree_honours_gitignore_like_git),
		cmocka_unit_test(test_spec_tree_changes_with_exec_bit),
		cmocka_unit_test(test_spec_tree_of_empty_dir_is_git_empty_tree),
		cmocka_unit_test(test_spec_tree_refuses_what_git_would_treat_differently),
		cmocka_unit_test(test_rtmr3_replay_matches_manual_extends),
		cmocka_unit_test(test_rtmr3_replay_rejects_malformed_logs),
		cmocka_unit_test(test_rtmr3_prediction_has_gpu_event_only_when_the_spec_requires_a_gpu),
	};
	return cmocka_run_group_tests_name("spec", tests, NULL, NULL);
}
