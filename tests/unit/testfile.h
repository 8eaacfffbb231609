/* Writing the files a unit test feeds to the code under test. Header-only (static inline
 * functions). */
#ifndef COCOON_TESTFILE_H
#define COCOON_TESTFILE_H

#include <stdio.h>
#include <string.h>

#include "tests/unit/testutil.h"

/* Write len bytes of data to path (created or truncated); fails the test if it cannot. */
static inline void test_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Write the string text to path. */
static inline void test_write_text(const char *path, const char *text)
{
	test_write_file(path, text, strlen(text));
}

#endif
