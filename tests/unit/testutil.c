#include "tests/unit/testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "measure/core/util.h"

const char *fixture_path(const char *rel)
{
	static char path[4096];
	const char *base = getenv("FIXTURES");
	if (!base || !*base)
		base = "../shared/fixtures";
	snprintf(path, sizeof(path), "%s/%s", base, rel);
	return path;
}

uint8_t *fixture_read(const char *rel, size_t *len)
{
	struct cm_err e = {0};
	uint8_t *buf = NULL;
	if (cm_read_file(fixture_path(rel), 64u << 20, &buf, len, &e) != 0) {
		print_error("fixture %s: %s\n", rel, e.msg);
		fail();
	}
	return buf;
}

void assert_hex_equal_impl(const uint8_t *buf, const char *hex, const char *file, int line)
{
	size_t n = strlen(hex) / 2;
	char *got = malloc(2 * n + 1);
	cm_hex_encode(buf, n, got, 2 * n + 1);
	if (strcmp(got, hex) != 0) {
		print_error("%s:%d: hex mismatch\n  got:  %s\n  want: %s\n", file, line, got, hex);
		free(got);
		_fail(file, line);
	}
	free(got);
}

uint8_t *hex_to_bytes(const char *hex, size_t *len)
{
	size_t n = strlen(hex) / 2;
	uint8_t *b = malloc(n ? n : 1);
	assert_non_null(b);
	assert_int_equal(cm_hex_decode(hex, strlen(hex), b, n, len), 0);
	return b;
}

char *test_tmpdir(void)
{
	char tmpl[] = "/tmp/cocoon-test-XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return strdup(d);
}

void test_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

void test_write_text(const char *path, const char *text)
{
	test_write_file(path, text, strlen(text));
}

void run_reference(const char *cmd, char *out, size_t outsz)
{
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char line[512];
	char *got = fgets(line, sizeof(line), p);
	int status = pclose(p);
	if (!got || status != 0) {
		print_error("reference command failed (status %d): %s\n", status, cmd);
		fail();
	}
	line[strcspn(line, "\n")] = 0;
	assert_true(strlen(line) < outsz);
	memcpy(out, line, strlen(line) + 1);
}

int run_captured(int (*fn)(int, char **), int argc, char **argv, char *out, size_t cap)
{
	char tmpl[] = "/tmp/cocoon-cli-XXXXXX";
	int fd = mkstemp(tmpl), saved = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);
	int devnull = open("/dev/null", O_WRONLY);
	assert_true(fd >= 0 && saved >= 0 && saved_err >= 0 && devnull >= 0);
	fflush(stdout);
	fflush(stderr);
	dup2(fd, STDOUT_FILENO);
	dup2(devnull, STDERR_FILENO);
	int rc = fn(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved, STDOUT_FILENO);
	dup2(saved_err, STDERR_FILENO);
	close(saved);
	close(saved_err);
	close(devnull);
	ssize_t n = pread(fd, out, cap - 1, 0);
	out[n > 0 ? n : 0] = 0;
	close(fd);
	unlink(tmpl);
	return rc;
}
