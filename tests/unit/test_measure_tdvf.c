/* TDVF metadata, MRTD (both page orders), TD HOB and CFV on the Debian OVMF.fd fixture. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/core/digest.h"
#include "measure/predict/tdvf.h"
#include "tests/unit/test_patch.h"
#include "tests/unit/testutil.h"

#define OVMF "tdx/measure/OVMF.fd"

static uint8_t *fw;
static size_t fwlen;

static int setup(void **state)
{
	(void)state;
	fw = fixture_read(OVMF, &fwlen);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(fw);
	return 0;
}

/* The TDVF metadata of the fixture (fails the test when it does not parse). */
static void fw_parse(struct cm_tdvf *t)
{
	struct cm_err e = {0};
	int rc = cm_tdvf_parse(fw, fwlen, t, &e);
	if (rc)
		print_error("%s\n", e.msg);
	assert_int_equal(rc, 0);
}

static void test_parse_debian_ovmf_layout(void **state)
{
	(void)state;
	struct cm_tdvf t;
	fw_parse(&t);
	assert_int_equal(t.desc_offset, 0x3ff640);
	assert_int_equal(t.n, 6);
	static const struct cm_tdvf_section want[6] = {
		{0x84000, 0x37c000, 0xffc84000, 0x37c000, CM_TDVF_BFV, 1},
		{0, 0x84000, 0xffc00000, 0x84000, CM_TDVF_CFV, 0},
		{0, 0, 0x811000, 0xf000, CM_TDVF_TEMP_MEM, 0},
		{0, 0, 0x80b000, 0x2000, CM_TDVF_TEMP_MEM, 0},
		{0, 0, 0x809000, 0x2000, CM_TDVF_TD_HOB, 0},
		{0, 0, 0x800000, 0x6000, CM_TDVF_TEMP_MEM, 0},
	};
	for (int i = 0; i < 6; i++) {
		assert_int_equal(t.s[i].data_offset, want[i].data_offset);
		assert_int_equal(t.s[i].raw_size, want[i].raw_size);
		assert_int_equal(t.s[i].gpa, want[i].gpa);
		assert_int_equal(t.s[i].mem_size, want[i].mem_size);
		assert_int_equal(t.s[i].type, want[i].type);
		assert_int_equal(t.s[i].attributes, want[i].attributes);
	}
}

/* Run the independent Python reference (tests/measure/mrtd.py) and return its hex. */
static void python_mrtd(const char *order, char out[97])
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 tests/measure/mrtd.py '%s' %s", fixture_path(OVMF), order);
	run_reference(cmd, out, 97);
	assert_int_equal(strlen(out), 96);
}

static void test_mrtd_both_orders_match_python_reference(void **state)
{
	(void)state;
	struct cm_tdvf t;
	struct cm_err e = {0};
	fw_parse(&t);
	uint8_t page[48], sect[48];
	assert_int_equal(cm_tdvf_mrtd(fw, fwlen, &t, 2ull << 30, CM_PAGE_ORDER_PER_PAGE, page, &e), 0);
	assert_int_equal(cm_tdvf_mrtd(fw, fwlen, &t, 2ull << 30, CM_PAGE_ORDER_PER_SECTION, sect, &e), 0);
	assert_memory_not_equal(page, sect, 48);
	char ref[97];
	python_mrtd("per-page", ref);
	assert_hex_equal(page, ref);
	python_mrtd("per-section", ref);
	assert_hex_equal(sect, ref);
}

static void test_mrtd_differs_from_ubuntu_firmware_value(void **state)
{
	(void)state;
	/* expected.json's mrtd belongs to Ubuntu's OVMF (fixtures README §3). */
	size_t n;
	uint8_t *ubuntu = hex_to_bytes("7357a10d2e2724dffe68813e3cc4cfcde6814d749f2fb62e3953e54f6e0b50a2"
				       "19786afe2cd478f684b52c61837e1114", &n);
	struct cm_tdvf t;
	struct cm_err e = {0};
	uint8_t m[48];
	fw_parse(&t);
	assert_int_equal(cm_tdvf_mrtd(fw, fwlen, &t, 2ull << 30, CM_PAGE_ORDER_PER_PAGE, m, &e), 0);
	assert_memory_not_equal(m, ubuntu, 48);
	assert_int_equal(cm_tdvf_mrtd(fw, fwlen, &t, 2ull << 30, CM_PAGE_ORDER_PER_SECTION, m, &e), 0);
	assert_memory_not_equal(m, ubuntu, 48);
	free(ubuntu);
}

static void test_mrtd_changes_with_one_bfv_byte(void **state)
{
	(void)state;
	struct cm_tdvf t;
	struct cm_err e = {0};
	uint8_t a[48], b[48];
	fw_parse(&t);
	assert_int_equal(cm_tdvf_mrtd(fw, fwlen, &t, 2ull << 30, CM_PAGE_ORDER_PER_PAGE, a, &e), 0);
	fw[0x100000] ^= 1; /* inside BFV */
	assert_int_equal(cm_tdvf_mrtd(fw, fwlen, &t, 2ull << 30, CM_PAGE_ORDER_PER_PAGE, b, &e), 0);
	fw[0x100000] ^= 1;
	assert_memory_not_equal(a, b, 48);
	fw[0x1000] ^= 1; /* inside CFV: not extended */
	assert_int_equal(cm_tdvf_mrtd(fw, fwlen, &t, 2ull << 30, CM_PAGE_ORDER_PER_PAGE, b, &e), 0);
	fw[0x1000] ^= 1;
	assert_memory_equal(a, b, 48);
}

static void hob_digest(uint64_t mem, uint8_t d[48], size_t *len, uint64_t *end)
{
	struct cm_tdvf t;
	struct cm_err e = {0};
	fw_parse(&t);
	uint8_t *hob;
	assert_int_equal(cm_tdvf_td_hob(&t, mem, &hob, len, &e), 0);
	cm_sha384(hob, *len, d);
	*end = cm_le64(hob + 48);
	free(hob);
}

static void test_td_hob_digests_for_fixture_ram_sizes(void **state)
{
	(void)state;
	static const struct {
		uint64_t mem;
		const char *sha384;
	} want[] = {
		{2ull << 30, "0e35f1b315ba6c912cf791e5c79dd9d3a2b8704516aa27d4e5aa78fb09ede04aef2bbd02ac7a8734c48562b9c26ba35d"},
		{4ull << 30, "02a008e63d55a77823c04a5513a5810d4e592dc41bf2596267c09eae5d4b4e3b329ae614973fb192297d8833d37a08fd"},
		{16ull << 30, "794385a0fd4ad1933f2f10bc019228fe275b82a90d9cd73a0561ba3b3cc7ecfae40b1771fd78dc19a34a094bd4a5286b"},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		uint8_t d[48];
		size_t len;
		uint64_t end;
		hob_digest(want[i].mem, d, &len, &end);
		assert_hex_equal(d, want[i].sha384);
	}
}

static void test_td_hob_100g_layout(void **state)
{
	(void)state;
	uint8_t d[48];
	size_t len;
	uint64_t end;
	hob_digest(100ull << 30, d, &len, &end);
	assert_int_equal(len, 488);
	assert_int_equal(end, 0x8091f0);
	assert_hex_equal(d, "329c16c6723bb2e4c3f83099e8926b192452cc9a92ef64e66ade454e9bcbeb5e36884c9eda2a8d708cddadbcbbe26ff8");
}

/* cm_tdvf_td_hob refuses t for a guest of mem bytes with an error that says needle. */
static void expect_td_hob_error(const struct cm_tdvf *t, uint64_t mem, const char *needle)
{
	struct cm_err e = {0};
	uint8_t *hob;
	size_t len;
	assert_true(cm_tdvf_td_hob(t, mem, &hob, &len, &e) < 0);
	assert_non_null(strstr(e.msg, needle));
}

static void test_td_hob_rejects_tiny_memory(void **state)
{
	(void)state;
	struct cm_tdvf t;
	fw_parse(&t);
	expect_td_hob_error(&t, 1 << 20, "memory size");
}

static void test_cfv_digest(void **state)
{
	(void)state;
	struct cm_tdvf t;
	struct cm_err e = {0};
	const uint8_t *p;
	size_t n;
	uint8_t d[48];
	fw_parse(&t);
	assert_int_equal(cm_tdvf_cfv(fw, fwlen, &t, &p, &n, &e), 0);
	assert_int_equal(n, 0x84000);
	cm_sha384(p, n, d);
	assert_hex_equal(d, "344bc51c980ba621aaa00da3ed7436f7d6e549197dfe699515dfa2c6583d95e6412af21c097d473155875ffd561d6790");
}

/* cm_tdvf_parse as a test_parse_fn. */
static int tdvf_parse(const uint8_t *buf, size_t len, struct cm_err *e)
{
	struct cm_tdvf t;
	return cm_tdvf_parse(buf, len, &t, e);
}

static void test_parse_rejects_truncated_image(void **state)
{
	(void)state;
	/* Cutting the image loses the footer at the end. */
	test_expect_refused(tdvf_parse, fw, fwlen - 4096, "footer");
	test_expect_refused(tdvf_parse, fw, 0x20, "plausible");
}

static void test_parse_rejects_bad_descriptor(void **state)
{
	(void)state;
	const struct test_patch patches[] = {
		{0x3ff640, 1, 'X', "signature"},
		{0x3ff640 + 8, 4, 2, "version"},
		{0x3ff640 + 12, 4, 7, "length"},
		{0x3ff640 + 12, 4, 1000, "section count"},
		{0x3ff640 - 1, 1, fw[0x3ff640 - 1] ^ 0xff, "GUID"}, /* metadata GUID */
	};
	test_patches_expect(tdvf_parse, fw, fwlen, patches, sizeof(patches) / sizeof(patches[0]));
}

static void test_parse_rejects_bad_sections(void **state)
{
	(void)state;
	size_t s0 = 0x3ff640 + 16;
	const struct test_patch patches[] = {
		{s0 + 24, 4, 9, "unknown type"},
		{s0 + 8, 8, 0xffc84001, "page aligned"},
		{s0 + 4, 4, 0, "without data"},                 /* BFV without data */
		{s0 + 32 * 2 + 4, 4, 0x1000, "with raw data"},  /* TempMem with raw data */
		{s0, 4, 0x3ff000, "beyond the image"},          /* BFV data beyond the image */
		{s0 + 28, 4, 0x10, "attributes"},
		{s0 + 16, 8, 0x1000, "raw size exceeds"},       /* raw > mem */
	};
	test_patches_expect(tdvf_parse, fw, fwlen, patches, sizeof(patches) / sizeof(patches[0]));
}

/* MR.EXTEND reads MemoryDataSize bytes from DataOffset: a size that wraps
 * DataOffset + MemoryDataSize past 2^64 must not pass the bound check. */
static void test_parse_rejects_mr_extend_size_that_wraps(void **state)
{
	(void)state;
	uint8_t *c = malloc(fwlen);
	size_t s0 = 0x3ff640 + 16; /* BFV: DataOffset 0x84000, MR.EXTEND */
	memcpy(c, fw, fwlen);
	cm_put_le64(c + s0 + 8, 0);                   /* GPA 0: GPA + size does not wrap */
	cm_put_le64(c + s0 + 16, 0ull - 0x84000);     /* 0x84000 + size == 2^64 */
	test_expect_refused(tdvf_parse, c, fwlen, "beyond the image"); /* BFV/CFV data bound, before MR.EXTEND */
	struct cm_tdvf t;
	struct cm_err e = {0};
	fw_parse(&t);
	t.s[0].mem_size = 0ull - 0x84000; /* a caller-built table gets the same check */
	uint8_t mrtd[48];
	assert_true(cm_tdvf_mrtd(fw, fwlen, &t, 2ull << 30, CM_PAGE_ORDER_PER_PAGE, mrtd, &e) < 0);
	free(c);
}

/* Issue 13 §3: MRTD work is bounded by QEMU's own rules. The fixture's section table starts
 * at 0x3ff640 + 16; section i is 32 bytes at s0 + 32 * i (order: BFV, CFV, TempMem, TempMem,
 * TD_HOB, TempMem). */
static void test_mrtd_work_is_bounded(void **state)
{
	(void)state;
	size_t s0 = 0x3ff640 + 16;
	const struct test_patch patches[] = {
		/* CFV: QEMU copies MemoryDataSize bytes from DataOffset, so they must be in the image */
		{s0 + 32 + 16, 8, 0x1000000, "beyond the image"},
		/* overlapping sections: TempMem 2 on top of the TD_HOB */
		{s0 + 3 * 32 + 8, 8, 0x809000, "overlaps"},
	};
	test_patches_expect(tdvf_parse, fw, fwlen, patches, sizeof(patches) / sizeof(patches[0]));
	uint8_t *c = malloc(fwlen);
	/* the documented cap: a TempMem of 2^64 - 1 MiB bytes would hash for years */
	memcpy(c, fw, fwlen);
	cm_put_le64(c + s0 + 2 * 32 + 8, 0x100000000ull);
	cm_put_le64(c + s0 + 2 * 32 + 16, 0xFFFFFFFFFF7EE000ull - 0x100000000ull);
	test_expect_refused(tdvf_parse, c, fwlen, "cap");
	free(c);
	/* TD_HOB and TempMem inside guest RAM */
	struct cm_tdvf t;
	struct cm_err e = {0};
	uint8_t mrtd[48];
	fw_parse(&t);
	assert_int_equal(cm_tdvf_mrtd(fw, fwlen, &t, 2ull << 30, CM_PAGE_ORDER_PER_PAGE, mrtd, &e), 0);
	t.s[2].gpa = 0xC0000000ull; /* in the PCI hole of a 2 GiB guest */
	assert_true(cm_tdvf_mrtd(fw, fwlen, &t, 2ull << 30, CM_PAGE_ORDER_PER_PAGE, mrtd, &e) < 0);
	assert_non_null(strstr(e.msg, "RAM"));
	t.s[2].gpa = 0x1000000; /* just above a 16 MiB guest's RAM */
	assert_true(cm_tdvf_mrtd(fw, fwlen, &t, 16u << 20, CM_PAGE_ORDER_PER_PAGE, mrtd, &e) < 0);
	assert_non_null(strstr(e.msg, "RAM"));
	/* a caller-built table gets the cap too */
	t.s[2].gpa = 0x100000000ull;
	t.s[2].mem_size = CM_TDVF_MAX_SECTION_MEM;
	assert_true(cm_tdvf_mrtd(fw, fwlen, &t, 64ull << 30, CM_PAGE_ORDER_PER_PAGE, mrtd, &e) < 0);
	assert_non_null(strstr(e.msg, "cap"));
}

static void test_parse_rejects_bad_guided_table(void **state)
{
	(void)state;
	const struct test_patch patches[] = {
		{fwlen - 0x32, 2, 5, "table length"},
		/* the last entry's length field, 18 bytes below the table end */
		{fwlen - 0x32 - 18, 2, 3, "entry length"},
	};
	test_patches_expect(tdvf_parse, fw, fwlen, patches, sizeof(patches) / sizeof(patches[0]));
}

static void test_parse_rejects_bad_metadata_offset(void **state)
{
	(void)state;
	/* The TDX metadata offset entry: u32 offset | u16 len | GUID e47a6535-... */
	static const uint8_t guid[16] = {0x35, 0x65, 0x7a, 0xe4, 0x4a, 0x98, 0x98, 0x47,
					 0x86, 0x5e, 0x46, 0x85, 0xa7, 0xbf, 0x8e, 0xc2};
	uint8_t *c = malloc(fwlen);
	memcpy(c, fw, fwlen);
	size_t g = fwlen - 0x1000;
	while (g < fwlen - 16 && memcmp(c + g, guid, 16))
		g++;
	assert_true(g < fwlen - 16);
	assert_int_equal(cm_le32(c + g - 6), fwlen - 0x3ff640);
	cm_put_le32(c + g - 6, 8); /* descriptor would run past the end (fuzzer finding) */
	test_expect_refused(tdvf_parse, c, fwlen, "out of range");
	cm_put_le32(c + g - 6, 0x7fffffff);
	test_expect_refused(tdvf_parse, c, fwlen, "out of range");
	cm_put_le32(c + g - 6, 0x1000); /* inside the image, but no metadata GUID there */
	test_expect_refused(tdvf_parse, c, fwlen, "GUID missing");
	memcpy(c, fw, fwlen);
	memset(c + g, 0, 16); /* no metadata offset entry at all */
	test_expect_refused(tdvf_parse, c, fwlen, "no TDX metadata offset entry");
	free(c);
}

static void test_td_hob_and_cfv_need_their_sections(void **state)
{
	(void)state;
	struct cm_tdvf t;
	fw_parse(&t);
	struct cm_tdvf u = t;
	u.s[4].type = CM_TDVF_TEMP_MEM; /* no TD_HOB left */
	expect_td_hob_error(&u, 2ull << 30, "no TD_HOB");
	u = t;
	u.s[2].gpa = 0x100000000ull - 0x10000; /* TempMem in the PCI hole: not RAM */
	expect_td_hob_error(&u, 2ull << 30, "not inside one RAM entry");
	u = t;
	u.s[1].type = CM_TDVF_BFV;
	struct cm_err e = {0};
	const uint8_t *p;
	size_t len;
	assert_true(cm_tdvf_cfv(fw, fwlen, &u, &p, &len, &e) < 0);
	assert_non_null(strstr(e.msg, "no CFV"));
	assert_string_equal(cm_tdvf_type_name(7), "unknown");
}

static void test_page_order_names(void **state)
{
	(void)state;
	enum cm_page_order o;
	assert_int_equal(cm_page_order_parse("per-section", &o), 0);
	assert_int_equal(o, CM_PAGE_ORDER_PER_SECTION);
	assert_string_equal(cm_page_order_name(o), "per-section");
	assert_int_equal(cm_page_order_parse("per-page", &o), 0);
	assert_int_equal(o, CM_PAGE_ORDER_PER_PAGE);
	assert_true(cm_page_order_parse("two-pass", &o) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_debian_ovmf_layout),
		cmocka_unit_test(test_mrtd_both_orders_match_python_reference),
		cmocka_unit_test(test_mrtd_differs_from_ubuntu_firmware_value),
		cmocka_unit_test(test_mrtd_changes_with_one_bfv_byte),
		cmocka_unit_test(test_td_hob_digests_for_fixture_ram_sizes),
		cmocka_unit_test(test_td_hob_100g_layout),
		cmocka_unit_test(test_td_hob_rejects_tiny_memory),
		cmocka_unit_test(test_cfv_digest),
		cmocka_unit_test(test_parse_rejects_truncated_image),
		cmocka_unit_test(test_parse_rejects_bad_descriptor),
		cmocka_unit_test(test_parse_rejects_bad_sections),
		cmocka_unit_test(test_parse_rejects_mr_extend_size_that_wraps),
		cmocka_unit_test(test_mrtd_work_is_bounded),
		cmocka_unit_test(test_parse_rejects_bad_guided_table),
		cmocka_unit_test(test_parse_rejects_bad_metadata_offset),
		cmocka_unit_test(test_td_hob_and_cfv_need_their_sections),
		cmocka_unit_test(test_page_order_names),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
