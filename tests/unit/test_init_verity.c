/* cocoon-init: verity superblock pinning and the root hash check on the top hash
 * block (guest/init/verity.c), on images made by libcryptsetup exactly like the
 * rootfs (data || hash area at data_blocks * 4096, fixed salt and UUID). */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <libcryptsetup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest/init/verity.h"

#define SALT "00010203040506070809101a1b1c1d1e1f"
#define UUID "16961134-6412-4db8-96f9-3dd00bd6ffa3"

struct img {
	char *dir;
	char path[300];
	uint8_t roothash[32];
	uint64_t blocks;
};

/* The pinned verity spec of the image m. */
static struct ci_verity spec_of(const struct img *m)
{
	struct ci_verity v = {
		.name = "root",
		.data_dev = m->path,
		.hash_dev = m->path,
		.hash_offset = m->blocks * 4096,
		.data_blocks = m->blocks,
	};
	memcpy(v.roothash, m->roothash, 32);
	return v;
}

/* data: `blocks` blocks of a pattern; hash area appended at blocks * 4096. Returns the
 * image's spec (spec_of). */
static struct ci_verity img_make(struct img *m, uint64_t blocks, const char *hash_name)
{
	memset(m, 0, sizeof *m);
	m->dir = test_tmpdir();
	m->blocks = blocks;
	snprintf(m->path, sizeof m->path, "%s/rootfs.img", m->dir);
	int fd = open(m->path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	uint8_t blk[4096];
	for (uint64_t i = 0; i < blocks; i++) {
		for (int j = 0; j < 4096; j++)
			blk[j] = (uint8_t)(i * 31 + (uint64_t)j);
		assert_int_equal(pwrite(fd, blk, sizeof blk, (off_t)(i * 4096)), 4096);
	}
	close(fd);
	uint8_t salt[17];
	size_t sl;
	uint8_t *s = hex_to_bytes(SALT, &sl);
	memcpy(salt, s, sl);
	free(s);
	struct crypt_device *cd;
	struct crypt_params_verity p = {
		.hash_name = hash_name,
		.data_device = m->path,
		.salt = (const char *)salt,
		.salt_size = (uint32_t)sl,
		.hash_type = 1,
		.data_block_size = 4096,
		.hash_block_size = 4096,
		.data_size = blocks,
		.hash_area_offset = blocks * 4096,
		.flags = CRYPT_VERITY_CREATE_HASH,
	};
	assert_int_equal(crypt_init(&cd, m->path), 0);
	assert_int_equal(crypt_format(cd, CRYPT_VERITY, NULL, NULL, UUID, NULL, 0, &p), 0);
	char vk[64];
	size_t len = sizeof vk;
	assert_int_equal(crypt_volume_key_get(cd, CRYPT_ANY_SLOT, vk, &len, NULL, 0), 0);
	assert_int_equal(len, strcmp(hash_name, "sha256") == 0 ? 32 : 64);
	memcpy(m->roothash, vk, 32);
	crypt_free(cd);
	return spec_of(m);
}

static void img_free(struct img *m)
{
	unlink(m->path);
	rmdir(m->dir);
	free(m->dir);
}

static int load_and_check(const struct ci_verity *v, struct cm_err *e)
{
	struct crypt_device *cd;
	int r = ci_verity_load_pinned(v, &cd, e);
	if (r < 0)
		return r;
	r = ci_verity_check_roothash(v, cd, e);
	crypt_free(cd);
	return r;
}

/* Both checks pass on v. */
static void assert_accepted(const struct ci_verity *v)
{
	struct cm_err e = {0};
	if (load_and_check(v, &e) < 0)
		fail_msg("%llu blocks: %s", (unsigned long long)v->data_blocks, e.msg);
}

static void test_verity_accepts_matching_image(void **state)
{
	(void)state;
	/* 1 level (64 blocks), 2 levels (1000), 3 levels (20000 blocks: 157 -> 2 -> 1) */
	uint64_t sizes[] = {2, 64, 1000, 20000};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		struct img m;
		struct ci_verity v = img_make(&m, sizes[i], "sha256");
		assert_accepted(&v);
		img_free(&m);
	}
}

/* One data block: dm-verity has no hash level, the root hash is SHA-256(salt || block 0). */
static void test_verity_accepts_one_block_volume(void **state)
{
	(void)state;
	struct img m;
	struct cm_err e = {0};
	struct ci_verity v = img_make(&m, 1, "sha256");
	assert_accepted(&v);
	v.roothash[5] ^= 1;
	assert_true(load_and_check(&v, &e) < 0);
	assert_non_null(strstr(e.msg, "does not match"));
	img_free(&m);
}

static void test_verity_wrong_root_hash_named(void **state)
{
	(void)state;
	struct img m;
	struct cm_err e = {0};
	struct ci_verity v = img_make(&m, 64, "sha256");
	v.roothash[5] ^= 1;
	assert_int_equal(load_and_check(&v, &e), -EPERM);
	char hex[65];
	cm_hex_encode(v.roothash, 32, hex, sizeof hex);
	assert_non_null(strstr(e.msg, hex));
	assert_non_null(strstr(e.msg, "does not match the hash tree"));
	img_free(&m);
}

static void test_verity_tampered_tree_detected(void **state)
{
	(void)state;
	struct img m;
	struct cm_err e = {0};
	struct ci_verity v = img_make(&m, 1000, "sha256");
	int fd = open(m.path, O_RDWR);
	uint8_t b;
	off_t top = (off_t)(m.blocks * 4096 + 4096 + 100);
	assert_int_equal(pread(fd, &b, 1, top), 1);
	b ^= 0x80;
	assert_int_equal(pwrite(fd, &b, 1, top), 1);
	close(fd);
	assert_int_equal(load_and_check(&v, &e), -EPERM);
	img_free(&m);
}

static void test_verity_superblock_pins(void **state)
{
	(void)state;
	struct img m;
	struct cm_err e = {0};
	struct crypt_device *cd;
	struct ci_verity v = img_make(&m, 64, "sha256");
	v.data_blocks = 63; /* the host cannot shorten (or lengthen) the verified area */
	assert_int_equal(ci_verity_load_pinned(&v, &cd, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "64 data blocks, expected 63"));
	v = spec_of(&m);
	v.hash_offset = 4096; /* no superblock there */
	assert_true(ci_verity_load_pinned(&v, &cd, &e) < 0);
	assert_non_null(strstr(e.msg, "no verity superblock"));
	v = spec_of(&m);
	v.data_blocks = 0;
	assert_int_equal(ci_verity_load_pinned(&v, &cd, &e), -EINVAL);
	img_free(&m);

	v = img_make(&m, 64, "sha512");
	assert_int_equal(ci_verity_load_pinned(&v, &cd, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "hash sha512, expected sha256"));
	img_free(&m);
}

int main(void)
{
	crypt_set_log_callback(NULL, NULL, NULL);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verity_accepts_matching_image),
		cmocka_unit_test(test_verity_accepts_one_block_volume),
		cmocka_unit_test(test_verity_wrong_root_hash_named),
		cmocka_unit_test(test_verity_tampered_tree_detected),
		cmocka_unit_test(test_verity_superblock_pins),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
