/* cocoon-init: the bounded in-guest service log (guest/init/svclog.c): service output goes to
 * /run/cocoon/log/<service>.log, never above its cap (older output rotated to .log.1, then
 * dropped), and to the console only when given one (cocoon.debug). */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest/init/svclog.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		*len = 0;
		return NULL;
	}
	char *buf = calloc(1, 1 << 16);
	*len = fread(buf, 1, (1 << 16) - 1, f);
	fclose(f);
	return buf;
}

/* The file at path holds exactly the text want. */
static void assert_file_holds(const char *path, const char *want)
{
	size_t n;
	char *s = slurp(path, &n);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(s, want, n);
	free(s);
}

static void test_svclog_writes_file_not_console(void **state)
{
	(void)state;
	char *dir = test_tmpdir(), logdir[600], path[700];
	snprintf(logdir, sizeof(logdir), "%s/log", dir);
	struct ci_svclog l;
	struct cm_err e = {0};
	assert_int_equal(ci_svclog_open(&l, logdir, "engine", 64, -1, &e), 0);
	ci_svclog_write(&l, "prompt: secret\n", 15);
	ci_svclog_close(&l);
	snprintf(path, sizeof(path), "%s/engine.log", logdir);
	struct stat st;
	assert_int_equal(stat(logdir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_file_holds(path, "prompt: secret\n");
	free(dir);
}

static void test_svclog_bounded_oldest_dropped(void **state)
{
	(void)state;
	char *dir = test_tmpdir(), path[700], old[710];
	struct ci_svclog l;
	struct cm_err e = {0};
	assert_int_equal(ci_svclog_open(&l, dir, "svc", 32, -1, &e), 0);
	char line[16];
	for (int i = 0; i < 100; i++) { /* 100 lines of 10 bytes through a 32-byte cap */
		snprintf(line, sizeof(line), "line %04d\n", i);
		ci_svclog_write(&l, line, 10);
	}
	snprintf(path, sizeof(path), "%s/svc.log", dir);
	snprintf(old, sizeof(old), "%s/svc.log.1", dir);
	size_t n, m;
	char *cur = slurp(path, &n), *prev = slurp(old, &m);
	assert_true(n <= 32 && m <= 32);
	assert_non_null(strstr(cur, "line 0099\n"));  /* newest kept */
	assert_non_null(strstr(prev, "line 0096\n")); /* the previous chunk, in order */
	assert_null(strstr(cur, "line 0000"));
	assert_null(strstr(prev, "line 0000"));       /* oldest dropped */
	free(cur);
	free(prev);
	/* one write above the cap keeps its newest cap bytes */
	char big[100];
	memset(big, 'a', sizeof(big));
	memcpy(big + 90, "0123456789", 10);
	ci_svclog_write(&l, big, sizeof(big));
	cur = slurp(path, &n);
	assert_int_equal(n, 32);
	assert_memory_equal(cur + 22, "0123456789", 10);
	free(cur);
	ci_svclog_close(&l);
	free(dir);
}

static void test_svclog_copies_to_console_when_given(void **state)
{
	(void)state;
	char *dir = test_tmpdir(), con[700];
	snprintf(con, sizeof(con), "%s/console", dir);
	int cfd = open(con, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(cfd >= 0);
	struct ci_svclog l;
	struct cm_err e = {0};
	assert_int_equal(ci_svclog_open(&l, dir, "dbg", 1024, cfd, &e), 0);
	ci_svclog_write(&l, "hello\n", 6);
	ci_svclog_close(&l);
	close(cfd);
	assert_file_holds(con, "hello\n");
	free(dir);
}

static void test_svclog_refuses_bad_names(void **state)
{
	(void)state;
	char *dir = test_tmpdir();
	struct ci_svclog l;
	struct cm_err e = {0};
	assert_int_equal(ci_svclog_open(&l, dir, "../x", 64, -1, &e), -EINVAL);
	assert_int_equal(ci_svclog_open(&l, dir, "", 64, -1, &e), -EINVAL);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_svclog_writes_file_not_console),
		cmocka_unit_test(test_svclog_bounded_oldest_dropped),
		cmocka_unit_test(test_svclog_copies_to_console_when_given),
		cmocka_unit_test(test_svclog_refuses_bad_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
