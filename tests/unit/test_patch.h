/* Parser-rejection tests (test_measure_pe.c, test_measure_tdvf.c, test_measure_eventlog.c,
 * test_measure_quote.c):
 * a parser must refuse an input with an error that says a given thing, and the inputs are
 * often corrupted copies of a fixture, one little-endian field overwritten per case. */
#ifndef COCOON_TEST_PATCH_H
#define COCOON_TEST_PATCH_H

#include <stdlib.h>
#include <string.h>

#include "measure/core/util.h"
#include "tests/unit/testutil.h"

struct test_patch {
	size_t off;         /* where the field starts */
	unsigned width;     /* its size: 1, 2, 4 or 8 bytes */
	uint64_t value;     /* what is written there, little-endian */
	const char *needle; /* what the error message must contain (test_patches_expect) */
};

static inline void test_patch_apply(uint8_t *buf, const struct test_patch *p)
{
	switch (p->width) {
	case 1:
		buf[p->off] = (uint8_t)p->value;
		break;
	case 2:
		cm_put_le16(buf + p->off, (uint16_t)p->value);
		break;
	case 4:
		cm_put_le32(buf + p->off, (uint32_t)p->value);
		break;
	case 8:
		cm_put_le64(buf + p->off, p->value);
		break;
	default:
		fail_msg("patch width %u", p->width);
	}
}

/* A parser under test: < 0 with e set when it refuses buf[len]. */
typedef int (*test_parse_fn)(const uint8_t *buf, size_t len, struct cm_err *e);

/* parse refuses buf[len] with an error message that contains needle. */
static inline void test_expect_refused(test_parse_fn parse, const uint8_t *buf, size_t len, const char *needle)
{
	struct cm_err e = {0};
	assert_true(parse(buf, len, &e) < 0);
	if (!strstr(e.msg, needle))
		fail_msg("error '%s' lacks '%s'", e.msg, needle);
}

/* For each patch: parse refuses a copy of img[len] with the patch applied (test_expect_refused). */
static inline void test_patches_expect(test_parse_fn parse, const uint8_t *img, size_t len,
				       const struct test_patch *patches, size_t n)
{
	uint8_t *c = malloc(len);
	assert_non_null(c);
	for (size_t i = 0; i < n; i++) {
		memcpy(c, img, len);
		test_patch_apply(c, &patches[i]);
		test_expect_refused(parse, c, len, patches[i].needle);
	}
	free(c);
}

/* parse refuses a copy of img[len] with all n patches applied together (their needles are
 * not used) with an error message that contains needle. */
static inline void test_patch_set_expect(test_parse_fn parse, const uint8_t *img, size_t len,
					 const struct test_patch *patches, size_t n, const char *needle)
{
	uint8_t *c = malloc(len);
	assert_non_null(c);
	memcpy(c, img, len);
	for (size_t i = 0; i < n; i++)
		test_patch_apply(c, &patches[i]);
	test_expect_refused(parse, c, len, needle);
	free(c);
}

#endif
