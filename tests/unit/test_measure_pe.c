/* PE Authenticode SHA-384 (edk2 rules) on a real signed Debian kernel, checked against
 * an independent computation with Debian's python3-pefile (tests/measure/authenticode.py),
 * and QEMU's legacy setup-header patches. The kernel is fetched by make (pinned .deb). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/predict/pe.h"
#include "tests/unit/test_patch.h"
#include "tests/unit/testutil.h"

#define KERNEL "build/cache/kernel/vmlinuz"

static uint8_t *k;
static size_t klen;

static int setup(void **state)
{
	(void)state;
	struct cm_err e = {0};
	if (cm_read_file(KERNEL, 64u << 20, &k, &klen, &e)) {
		fprintf(stderr, "test_measure_pe: %s (run make, which extracts the pinned guest kernel: make guest-kernel)\n",
			e.msg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(k);
	return 0;
}

static void python_digest(const char *args, char out[97])
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 tests/measure/authenticode.py %s %s", KERNEL, args);
	run_reference(cmd, out, 97);
	assert_int_equal(strlen(out), 96);
}

static void test_authenticode_matches_pefile(void **state)
{
	(void)state;
	uint8_t d[48];
	struct cm_pe_info info;
	struct cm_err e = {0};
	assert_int_equal(cm_pe_authenticode_sha384(k, klen, NULL, 0, d, &info, &e), 0);
	char ref[97];
	python_digest("", ref);
	assert_hex_equal(d, ref);
	assert_true(info.pe32plus);
	assert_true(info.cert_size > 0); /* signed: the certificate table is excluded */
	assert_int_equal(info.cert_offset + info.cert_size, klen);
	assert_true(info.hashed_bytes < klen);
}

static void qemu_patched(uint64_t mem, uint64_t initrd, uint8_t d[48])
{
	uint8_t hdr[CM_LINUX_HDR_LEN];
	memcpy(hdr, k, sizeof(hdr));
	struct cm_qemu_kernel_params p = {.mem = mem, .has_initrd = true, .initrd_size = initrd};
	struct cm_err e = {0};
	assert_int_equal(cm_linux_qemu_patch(hdr, klen, &p, &e), 0);
	assert_int_equal(cm_pe_authenticode_sha384(k, klen, hdr, sizeof(hdr), d, NULL, &e), 0);
}

static void test_qemu_patched_matches_pefile(void **state)
{
	(void)state;
	uint8_t d[48], plain[48];
	char ref[97];
	struct cm_err e = {0};
	qemu_patched(4ull << 30, 12345678, d);
	python_digest("--patch 4294967296 12345678", ref);
	assert_hex_equal(d, ref);
	assert_int_equal(cm_pe_authenticode_sha384(k, klen, NULL, 0, plain, NULL, &e), 0);
	assert_memory_not_equal(d, plain, 48);
}

static void test_qemu_patch_depends_on_small_ram_only(void **state)
{
	(void)state;
	uint8_t a[48], b[48], c[48];
	qemu_patched(2ull << 30, 1000000, a);
	qemu_patched(64ull << 30, 1000000, b);
	qemu_patched(1ull << 30, 1000000, c);
	assert_memory_equal(a, b, 48);     /* 2 GiB and >= 2.75 GiB: below_4g = 2 GiB */
	assert_memory_not_equal(a, c, 48); /* 1 GiB moves initrd_max */
	char ref[97];
	python_digest("--patch 1073741824 1000000", ref);
	assert_hex_equal(c, ref);
}

static void test_qemu_patch_vga_and_errors(void **state)
{
	(void)state;
	uint8_t hdr[CM_LINUX_HDR_LEN];
	struct cm_err e = {0};
	memcpy(hdr, k, sizeof(hdr));
	struct cm_qemu_kernel_params p = {.mem = 4ull << 30, .cmdline = "console=ttyS0 vga=ext"};
	assert_int_equal(cm_linux_qemu_patch(hdr, klen, &p, &e), 0);
	assert_int_equal(cm_le16(hdr + 0x1fa), 0xfffe);
	assert_int_equal(cm_le32(hdr + 0x21c), cm_le32(k + 0x21c)); /* no initrd: untouched */
	p.has_initrd = true;
	p.initrd_size = 5ull << 30;
	memcpy(hdr, k, sizeof(hdr));
	assert_true(cm_linux_qemu_patch(hdr, klen, &p, &e) < 0);
	assert_non_null(strstr(e.msg, "initrd"));
	memcpy(hdr, k, sizeof(hdr));
	hdr[0x202] = 'X';
	assert_true(cm_linux_qemu_patch(hdr, klen, &p, &e) < 0);
	assert_non_null(strstr(e.msg, "HdrS"));
	assert_true(cm_linux_qemu_patch(hdr, 16, &p, &e) < 0);
}

/* The Authenticode hash of img[len], as a test_parse_fn. */
static int pe_hash(const uint8_t *img, size_t len, struct cm_err *e)
{
	uint8_t d[48];
	return cm_pe_authenticode_sha384(img, len, NULL, 0, d, NULL, e);
}

static void test_truncated_kernel_rejected(void **state)
{
	(void)state;
	uint32_t lfanew = cm_le32(k + 0x3c);
	test_expect_refused(pe_hash, k, 0x20, "MZ");
	test_expect_refused(pe_hash, k, lfanew + 10, "e_lfanew");
	test_expect_refused(pe_hash, k, lfanew + 40, "optional header");
	test_expect_refused(pe_hash, k, 0x400, "SizeOfHeaders"); /* headers need more than the first KiB */
	test_expect_refused(pe_hash, k, klen / 2, "beyond the file");
	/* Cutting into the certificate table: the cert size no longer fits. */
	test_expect_refused(pe_hash, k, klen - 16, "certificate table");
}

static void test_corrupt_headers_rejected(void **state)
{
	(void)state;
	uint32_t lfanew = cm_le32(k + 0x3c);
	size_t opt = lfanew + 24;
	const struct test_patch patches[] = {
		{lfanew, 1, 'X', "PE signature"},
		{opt, 2, 0x107, "magic"},
		{opt + 108, 4, 17, "NumberOfRvaAndSizes"},
		{lfanew + 6, 2, 0, "section count"},
		{opt + 60, 4, 0x10, "SizeOfHeaders"},
		{lfanew + 20, 2, 0x20, "SizeOfOptionalHeader"},
		{0x3c, 4, 0x10, "e_lfanew"},
	};
	test_patches_expect(pe_hash, k, klen, patches, sizeof(patches) / sizeof(patches[0]));
}

static void test_unsigned_image_hashes_trailing_bytes(void **state)
{
	(void)state;
	/* Strip the certificate (size field to 0): the former cert bytes become trailing data. */
	uint8_t *c = malloc(klen);
	memcpy(c, k, klen);
	uint32_t lfanew = cm_le32(k + 0x3c);
	size_t dd = lfanew + 24 + 112;
	cm_put_le32(c + dd + 36, 0);
	uint8_t a[48], b[48];
	struct cm_pe_info info;
	struct cm_err e = {0};
	assert_int_equal(cm_pe_authenticode_sha384(c, klen, NULL, 0, a, &info, &e), 0);
	assert_int_equal(cm_pe_authenticode_sha384(k, klen, NULL, 0, b, NULL, &e), 0);
	assert_memory_not_equal(a, b, 48);
	assert_int_equal(info.cert_size, 0);
	free(c);
}

static void test_qemu_patch_vga_modes_and_old_protocol(void **state)
{
	(void)state;
	static const struct {
		const char *cmdline;
		uint16_t mode;
	} v[] = {{"vga=normal", 0xffff}, {"quiet vga=ask", 0xfffd}, {"vga=0x317", 0x317}, {"vga=791", 791}};
	uint8_t hdr[CM_LINUX_HDR_LEN];
	struct cm_err e = {0};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memcpy(hdr, k, sizeof(hdr));
		struct cm_qemu_kernel_params p = {.mem = 4ull << 30, .cmdline = v[i].cmdline};
		assert_int_equal(cm_linux_qemu_patch(hdr, klen, &p, &e), 0);
		assert_int_equal(cm_le16(hdr + 0x1fa), v[i].mode);
	}
	memcpy(hdr, k, sizeof(hdr));
	hdr[0x211] &= (uint8_t)~1; /* not LOADED_HIGH */
	struct cm_qemu_kernel_params p = {.mem = 4ull << 30};
	assert_true(cm_linux_qemu_patch(hdr, klen, &p, &e) < 0);
	assert_non_null(strstr(e.msg, "LOADED_HIGH"));
	/* boot protocol 2.03..2.0b: initrd_max from the header (0x22c) */
	memcpy(hdr, k, sizeof(hdr));
	cm_put_le16(hdr + 0x206, 0x20a);
	cm_put_le32(hdr + 0x22c, 0x37ffffff);
	p.has_initrd = true;
	p.initrd_size = 0x100000;
	assert_int_equal(cm_linux_qemu_patch(hdr, klen, &p, &e), 0);
	assert_int_equal(cm_le32(hdr + 0x218), (0x37ffffff - 0x100000) & ~4095u);
}

static void test_few_data_directories_hash_the_whole_header(void **state)
{
	(void)state;
	/* NumberOfRvaAndSizes = 4: no security directory, so the certificate table is
	 * hashed as trailing data and the header is hashed without a hole. */
	uint8_t *c = malloc(klen);
	memcpy(c, k, klen);
	uint32_t lfanew = cm_le32(k + 0x3c);
	cm_put_le32(c + lfanew + 24 + 108, 4);
	uint8_t a[48];
	struct cm_pe_info info;
	struct cm_err e = {0};
	assert_int_equal(cm_pe_authenticode_sha384(c, klen, NULL, 0, a, &info, &e), 0);
	assert_int_equal(info.cert_size, 0);
	assert_int_equal(info.nrva, 4);
	assert_int_equal(info.hashed_bytes, klen - 4);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_authenticode_matches_pefile),
		cmocka_unit_test(test_qemu_patched_matches_pefile),
		cmocka_unit_test(test_qemu_patch_depends_on_small_ram_only),
		cmocka_unit_test(test_qemu_patch_vga_and_errors),
		cmocka_unit_test(test_truncated_kernel_rejected),
		cmocka_unit_test(test_corrupt_headers_rejected),
		cmocka_unit_test(test_unsigned_image_hashes_trailing_bytes),
		cmocka_unit_test(test_qemu_patch_vga_modes_and_old_protocol),
		cmocka_unit_test(test_few_data_directories_hash_the_whole_header),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
