/* Shared helpers for the cmocka unit tests. Fixtures are read in place from
 * $FIXTURES (default ../shared/fixtures next to the checkout). */
#ifndef COCOON_TESTUTIL_H
#define COCOON_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* Absolute path of a fixture file (static buffer, valid until the next call). */
const char *fixture_path(const char *rel);

/* Read a fixture into a new buffer (fails the test if it cannot). */
uint8_t *fixture_read(const char *rel, size_t *len);

/* Assert that a byte buffer equals a lowercase hex string. */
#define assert_hex_equal(buf, hex) assert_hex_equal_impl((buf), (hex), __FILE__, __LINE__)
void assert_hex_equal_impl(const uint8_t *buf, const char *hex, const char *file, int line);

/* Decode hex into a new buffer (fails the test on bad hex). */
uint8_t *hex_to_bytes(const char *hex, size_t *len);

/* Run a shell command of an independent reference tool (python3, git, ...), require exit
 * status 0, and return its first output line without the newline (fails the test if the
 * line does not fit in outsz). */
void run_reference(const char *cmd, char *out, size_t outsz);

/* Run a CLI subcommand's function with argv (argc entries), its stdout captured into
 * out[cap] (NUL-terminated) and its stderr discarded; returns its exit code. */
int run_captured(int (*fn)(int, char **), int argc, char **argv, char *out, size_t cap);

/* A fresh private temporary directory (removed by the caller or left in /tmp). */
char *test_tmpdir(void);

/* Write len bytes of data to path (created or truncated); fails the test if it cannot. */
void test_write_file(const char *path, const void *data, size_t len);

/* Write the string text to path (fails the test if it cannot). */
void test_write_text(const char *path, const char *text);

#endif
