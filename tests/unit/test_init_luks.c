/* cocoon-init: the persistent volume's strict LUKS2 validation and blank-disk check
 * (guest/init/luks.c). Headers are produced by libcryptsetup on plain files (no
 * device-mapper needed for format/keyslot/token operations); malicious variants are
 * either made by libcryptsetup itself (extra keyslot, token, label, other PBKDF) or by
 * editing the JSON and re-sealing both header checksums like an attacker would. */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <libcryptsetup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest/init/luks.h"
#include "measure/core/digest.h"

#define VOL_SIZE (40u * 1024 * 1024)

static const uint8_t key[32] = "0123456789abcdef0123456789abcde";

struct vol {
	char *dir;
	char path[300];
	char copy[300];
	int copies;
};

static void vol_init(struct vol *v)
{
	memset(v, 0, sizeof *v);
	v->dir = test_tmpdir();
	snprintf(v->path, sizeof v->path, "%s/disk.img", v->dir);
	int fd = open(v->path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, VOL_SIZE), 0);
	close(fd);
}

static const char *next_copy(struct vol *v)
{
	snprintf(v->copy, sizeof v->copy, "%s/copy%d", v->dir, v->copies++);
	return v->copy;
}

static void vol_free(struct vol *v)
{
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%.300s'", v->dir);
	assert_int_equal(system(cmd), 0);
	free(v->dir);
}

static void vol_format(struct vol *v)
{
	struct cm_err e = {0};
	if (ci_luks_format(v->path, key, sizeof key, false, &e) < 0)
		fail_msg("format: %s", e.msg);
}

/* cmocka fixtures: a blank volume file, or one formatted with the appliance profile. */
static int blank_setup(void **state)
{
	struct vol *v = malloc(sizeof *v);
	vol_init(v);
	*state = v;
	return 0;
}

static int formatted_setup(void **state)
{
	blank_setup(state);
	vol_format(*state);
	return 0;
}

static int vol_teardown(void **state)
{
	vol_free(*state);
	free(*state);
	return 0;
}

/* The volume's header loaded by libcryptsetup, for edits made with its own API. */
static struct crypt_device *vol_load(struct vol *v)
{
	struct crypt_device *cd;
	assert_int_equal(crypt_init(&cd, v->path), 0);
	assert_int_equal(crypt_load(cd, CRYPT_LUKS2, NULL), 0);
	return cd;
}

static uint8_t *read_meta(const char *path)
{
	uint8_t *buf = malloc(CI_LUKS_DATA_OFFSET);
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, CI_LUKS_DATA_OFFSET, 0), CI_LUKS_DATA_OFFSET);
	close(fd);
	return buf;
}

static void write_meta(const char *path, const uint8_t *buf)
{
	int fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, buf, CI_LUKS_DATA_OFFSET, 0), CI_LUKS_DATA_OFFSET);
	close(fd);
}

static void file_sha(const char *path, uint8_t out[32])
{
	uint8_t *b;
	size_t n;
	struct cm_err e = {0};
	assert_int_equal(cm_read_file(path, VOL_SIZE, &b, &n, &e), 0);
	cm_sha256(b, n, out);
	free(b);
}

/* Recompute a header copy's checksum (what an attacker with the disk can do). */
static void reseal(uint8_t *h)
{
	memset(h + 448, 0, 64);
	cm_sha256(h, CI_LUKS_HDR_SIZE, h + 448);
}

/* Replace the nth occurrence of `from` in the JSON text by `to`, in both copies. */
static void edit_json(struct vol *v, const char *from, const char *to, int nth)
{
	uint8_t *buf = read_meta(v->path);
	char *json = (char *)buf + 4096;
	char *p = json;
	for (int i = 0; i <= nth; i++) {
		p = strstr(i ? p + 1 : p, from);
		if (!p)
			fail_msg("no occurrence %d of %s in %s", nth, from, json);
	}
	size_t jl = CI_LUKS_HDR_SIZE - 4096;
	char *out = calloc(1, jl);
	size_t pre = (size_t)(p - json);
	snprintf(out, jl, "%.*s%s%s", (int)pre, json, to, p + strlen(from));
	memcpy(buf + 4096, out, jl);
	memcpy(buf + CI_LUKS_HDR_SIZE + 4096, out, jl);
	free(out);
	reseal(buf);
	reseal(buf + CI_LUKS_HDR_SIZE);
	write_meta(v->path, buf);
	free(buf);
}

/* Expect rejection (for the profile with or without integrity) with a message
 * containing `what`, and the disk byte-identical. */
static void expect_rejected_as(struct vol *v, bool integrity, const char *what)
{
	struct cm_err e = {0};
	uint8_t before[32], after[32];
	file_sha(v->path, before);
	if (ci_luks_copy_and_check(v->path, next_copy(v), integrity, NULL, &e) == 0)
		fail_msg("accepted (integrity %d) a header that should fail with \"%s\"", integrity, what);
	if (!strstr(e.msg, what))
		fail_msg("message \"%s\" lacks \"%s\"", e.msg, what);
	file_sha(v->path, after);
	assert_memory_equal(before, after, 32);
}

static void expect_rejected(struct vol *v, const char *what)
{
	expect_rejected_as(v, false, what);
}

static void test_luks_own_format_passes_strict_check(void **state)
{
	struct vol *v = *state;
	struct cm_err e = {0};
	if (ci_luks_copy_and_check(v->path, next_copy(v), false, NULL, &e) < 0)
		fail_msg("%s", e.msg);
	/* the private copy holds exactly the metadata region */
	uint8_t *a = read_meta(v->path), *b = read_meta(v->copy);
	assert_memory_equal(a, b, CI_LUKS_DATA_OFFSET);
	free(a);
	free(b);
	struct stat st;
	assert_int_equal(stat(v->copy, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* the key opens the keyslot (check only, no device-mapper) */
	struct crypt_device *cd;
	assert_int_equal(crypt_init_data_device(&cd, v->copy, v->path), 0);
	assert_int_equal(crypt_load(cd, CRYPT_LUKS2, NULL), 0);
	assert_int_equal(crypt_activate_by_passphrase(cd, NULL, 0, (const char *)key, sizeof key, 0), 0);
	assert_int_equal(crypt_activate_by_passphrase(cd, NULL, 0, "wrong key wrong key wrong key 32", 32, 0), -EPERM);
	crypt_free(cd);
	/* the copy path must not exist yet (no following an attacker's file) */
	assert_true(ci_luks_copy_and_check(v->path, v->copy, false, NULL, &e) < 0);
}

static void test_luks_rejects_cipher_null(void **state)
{
	struct vol *v = *state;
	edit_json(v, "aes-xts-plain64", "cipher_null-ecb", 0); /* keyslot area */
	expect_rejected(v, "keyslots.0.area.encryption");
	edit_json(v, "cipher_null-ecb", "aes-xts-plain64", 0);
	edit_json(v, "aes-xts-plain64", "cipher_null-ecb", 1); /* data segment */
	expect_rejected(v, "segments.0.encryption");
}

static void test_luks_rejects_second_keyslot(void **state)
{
	struct vol *v = *state;
	struct crypt_pbkdf_type pb = {.type = CRYPT_KDF_PBKDF2, .hash = "sha512", .iterations = 1000,
				      .flags = CRYPT_PBKDF_NO_BENCHMARK};
	struct crypt_device *cd = vol_load(v);
	assert_int_equal(crypt_set_pbkdf_type(cd, &pb), 0);
	assert_int_equal(crypt_keyslot_add_by_passphrase(cd, 1, (const char *)key, sizeof key, "attacker", 8), 1);
	crypt_free(cd);
	expect_rejected(v, "keyslots: unknown key \"1\"");
}

static void test_luks_rejects_tokens(void **state)
{
	struct vol *v = *state;
	struct crypt_device *cd = vol_load(v);
	assert_true(crypt_token_json_set(cd, CRYPT_ANY_TOKEN, "{\"type\":\"evil\",\"keyslots\":[\"0\"]}") >= 0);
	crypt_free(cd);
	expect_rejected(v, "tokens: unknown key \"0\"");
}

/* A cocoon-tpm2 token of the given type on token slot 0 (the members of the real one). */
static void put_tpm2_token(struct vol *v, const char *type)
{
	char json[600];
	snprintf(json, sizeof json,
		 "{\"type\":\"%s\",\"keyslots\":[\"0\"],\"tpm2-blob\":\"AAAA\",\"tpm2-pcr-bank\":\"sha256\","
		 "\"tpm2-pcrs\":[7],\"tpm2-pcr-values\":[\"%064d\"],\"tpm2-policy-hash\":\"%064d\"}",
		 type, 0, 0);
	struct cm_err e = {0};
	if (ci_luks_token_write(v->path, json, &e) < 0)
		fail_msg("%s", e.msg);
}

static void test_luks_tpm2_token_accepted_only_when_expected(void **state)
{
	struct vol *v = *state;
	struct cm_err e = {0};
	/* expected but missing */
	if (ci_luks_copy_and_check(v->path, next_copy(v), false, CI_LUKS_TOKEN_TPM2, &e) == 0)
		fail_msg("accepted a header without the tpm2 token");
	assert_non_null(strstr(e.msg, "tokens"));
	put_tpm2_token(v, CI_LUKS_TOKEN_TPM2);
	/* present and expected: accepted, and the token reads back */
	if (ci_luks_copy_and_check(v->path, next_copy(v), false, CI_LUKS_TOKEN_TPM2, &e) < 0)
		fail_msg("%s", e.msg);
	char *json = NULL;
	assert_int_equal(ci_luks_token_read(v->copy, CI_LUKS_TOKEN_TPM2, &json, &e), 0);
	assert_non_null(strstr(json, "\"tpm2-pcrs\":[7]"));
	free(json);
	/* present but not expected (another key provider): refused */
	expect_rejected(v, "tokens: unknown key \"0\"");
}

static void test_luks_tpm2_token_rejects_variants(void **state)
{
	struct vol *v = *state;
	struct cm_err e = {0};
	put_tpm2_token(v, "systemd-tpm2");
	if (ci_luks_copy_and_check(v->path, next_copy(v), false, CI_LUKS_TOKEN_TPM2, &e) == 0)
		fail_msg("accepted a token of another type");
	assert_non_null(strstr(e.msg, "type"));
	/* the right token plus a second one */
	put_tpm2_token(v, CI_LUKS_TOKEN_TPM2);
	struct crypt_device *cd = vol_load(v);
	assert_true(crypt_token_json_set(cd, 1, "{\"type\":\"evil\",\"keyslots\":[\"0\"]}") >= 0);
	crypt_free(cd);
	if (ci_luks_copy_and_check(v->path, next_copy(v), false, CI_LUKS_TOKEN_TPM2, &e) == 0)
		fail_msg("accepted a second token");
	assert_non_null(strstr(e.msg, "unknown key \"1\""));
}

static void test_luks_rejects_label(void **state)
{
	struct vol *v = *state;
	struct crypt_device *cd = vol_load(v);
	assert_int_equal(crypt_set_label(cd, "mine", NULL), 0);
	crypt_free(cd);
	expect_rejected(v, "label must be empty");
}

static void test_luks_rejects_other_pbkdf_profile(void **state)
{
	struct vol *v = *state;
	struct crypt_device *cd;
	struct crypt_pbkdf_type pb = {.type = CRYPT_KDF_PBKDF2, .hash = "sha256", .iterations = 1000,
				      .flags = CRYPT_PBKDF_NO_BENCHMARK};
	struct crypt_params_luks2 p2 = {.pbkdf = &pb, .data_alignment = CI_LUKS_DATA_OFFSET / 512, .sector_size = 4096};
	assert_int_equal(crypt_init(&cd, v->path), 0);
	assert_int_equal(crypt_set_metadata_size(cd, CI_LUKS_HDR_SIZE, CI_LUKS_KEYSLOTS_SIZE), 0);
	assert_int_equal(crypt_format(cd, CRYPT_LUKS2, "aes", "xts-plain64", NULL, NULL, 64, &p2), 0);
	assert_int_equal(crypt_keyslot_add_by_volume_key(cd, 0, NULL, 0, (const char *)key, sizeof key), 0);
	crypt_free(cd);
	expect_rejected(v, "keyslots.0.af.hash");
}

static void test_luks_rejects_bad_offsets(void **state)
{
	struct vol *v = *state;
	/* dstack's case: same length, parses as 768, inside the header copies */
	edit_json(v, "\"offset\":\"32768\"", "\"offset\":\"00768\"", 0);
	expect_rejected(v, "not a canonical decimal number");
	edit_json(v, "\"offset\":\"00768\"", "\"offset\":\"8192\"", 0);
	expect_rejected(v, "invalid keyslot area");
	edit_json(v, "\"offset\":\"8192\"", "\"offset\":\"16773120\"", 0); /* runs into the data */
	expect_rejected(v, "invalid keyslot area");
	edit_json(v, "\"offset\":\"16773120\"", "\"offset\":\"32768\"", 0);
	edit_json(v, "\"offset\":\"16777216\"", "\"offset\":\"1048576\"", 0); /* data over keyslots */
	expect_rejected(v, "segments.0: offset");
}

static void test_luks_rejects_unexpected_members(void **state)
{
	struct vol *v = *state;
	edit_json(v, "\"config\":{", "\"config\":{\"flags\":[\"allow-discards\"],", 0);
	expect_rejected(v, "config: unknown key \"flags\"");
	edit_json(v, "\"flags\":[\"allow-discards\"],", "", 0);
	edit_json(v, "\"sector_size\":4096", "\"sector_size\":4096,\"integrity\":{\"type\":\"hmac(sha256)\"}", 0);
	expect_rejected(v, "segments.0: unknown key \"integrity\"");
}

/* The integrity profile exactly as libcryptsetup 2.6 writes it in the guest (crypt_format
 * with integrity needs device-mapper, which unit tests do not have): from the plain
 * profile, a 768-bit volume key (keyslot area 96 x 4000 bytes, still aes-xts/512) and
 * the segment's integrity object. tests/integration/init-persistent-integrity.sh checks
 * the real thing. */
static void vk_size(struct vol *v, bool integrity)
{
	const char *ks[2] = {"\"key_size\":64,\"af\"", "\"key_size\":96,\"af\""};
	const char *area[2] = {"\"size\":\"258048\"", "\"size\":\"385024\""};
	edit_json(v, ks[!integrity], ks[integrity], 0);
	edit_json(v, area[!integrity], area[integrity], 0);
}

static void to_integrity(struct vol *v)
{
	vk_size(v, true);
	edit_json(v, "\"sector_size\":4096",
		  "\"sector_size\":4096,\"integrity\":{\"type\":\"hmac(sha256)\",\"journal_encryption\":\"none\","
		  "\"journal_integrity\":\"none\"}",
		  0);
}

static void test_luks_integrity_profile_accepted_only_when_expected(void **state)
{
	struct vol *v = *state;
	struct cm_err e = {0};
	/* the plain profile is refused where the spec asks for integrity (no downgrade) */
	expect_rejected_as(v, true, "keyslots.0.key_size: 64 outside 96..96");
	vk_size(v, true);
	expect_rejected_as(v, true, "segments.0.integrity: missing");
	vk_size(v, false);
	to_integrity(v);
	if (ci_luks_copy_and_check(v->path, next_copy(v), true, NULL, &e) < 0)
		fail_msg("%s", e.msg);
	/* and the integrity profile where the spec turned it off */
	expect_rejected_as(v, false, "keyslots.0.key_size");
}

static void test_luks_integrity_rejects_variants(void **state)
{
	struct vol *v = *state;
	to_integrity(v);
	edit_json(v, "hmac(sha256)", "hmac(sha512)", 0);
	expect_rejected_as(v, true, "segments.0.integrity.type");
	edit_json(v, "hmac(sha512)", "aead", 0); /* integrity handled by the cipher */
	expect_rejected_as(v, true, "segments.0.integrity.type");
	edit_json(v, "\"aead\"", "\"hmac(sha256)\"", 0);
	edit_json(v, "\"journal_encryption\":\"none\"", "\"journal_encryption\":\"cbc(aes)\"", 0);
	expect_rejected_as(v, true, "segments.0.integrity.journal_encryption");
	edit_json(v, "\"journal_encryption\":\"cbc(aes)\"", "\"journal_encryption\":\"none\"", 0);
	edit_json(v, "\"journal_integrity\":\"none\"", "\"journal_integrity\":\"none\",\"key_size\":32", 0);
	expect_rejected_as(v, true, "segments.0.integrity: unknown key \"key_size\"");
	edit_json(v, ",\"key_size\":32", "", 0);
	edit_json(v, "\"key_size\":96,\"af\"", "\"key_size\":64,\"af\"", 0); /* no HMAC key */
	expect_rejected_as(v, true, "keyslots.0.key_size");
	edit_json(v, "\"key_size\":64,\"af\"", "\"key_size\":96,\"af\"", 0);
	edit_json(v, "\"size\":\"385024\"", "\"size\":\"258048\"", 0); /* area too small for 96 x 4000 */
	expect_rejected_as(v, true, "invalid keyslot area");
	edit_json(v, "\"size\":\"258048\"", "\"size\":\"385024\"", 0);
	struct cm_err e = {0};
	if (ci_luks_copy_and_check(v->path, next_copy(v), true, NULL, &e) < 0) /* back to the profile */
		fail_msg("%s", e.msg);
}

static void test_luks_rejects_broken_binary_headers(void **state)
{
	struct vol *v = *state;
	expect_rejected(v, "bad magic"); /* all zero */
	vol_format(v);
	uint8_t *buf = read_meta(v->path);
	buf[4096 + 10] ^= 1; /* JSON byte without resealing */
	write_meta(v->path, buf);
	expect_rejected(v, "checksum mismatch");
	buf[4096 + 10] ^= 1;
	buf[CI_LUKS_HDR_SIZE + 23] ^= 1; /* seqid of copy 1 */
	reseal(buf + CI_LUKS_HDR_SIZE);
	write_meta(v->path, buf);
	expect_rejected(v, "seqid");
	buf[CI_LUKS_HDR_SIZE + 23] ^= 1;
	reseal(buf + CI_LUKS_HDR_SIZE);
	size_t jl = strlen((char *)buf + 4096);
	buf[4096 + jl + 5] = 'x'; /* data after the JSON's NUL, both copies */
	buf[CI_LUKS_HDR_SIZE + 4096 + jl + 5] = 'x';
	reseal(buf);
	reseal(buf + CI_LUKS_HDR_SIZE);
	write_meta(v->path, buf);
	expect_rejected(v, "after the terminating NUL");
	buf[CI_LUKS_HDR_SIZE + 4096 + jl + 5] = 'y'; /* and the two JSON areas differ */
	reseal(buf + CI_LUKS_HDR_SIZE);
	write_meta(v->path, buf);
	expect_rejected(v, "JSON areas differ");
	free(buf);
}

static void test_blank_check_accepts_only_zeroed_unsigned_disks(void **state)
{
	struct vol *v = *state;
	struct cm_err e = {0};
	assert_int_equal(ci_blank_check(v->path, &e), 1);
	int fd = open(v->path, O_WRONLY);
	assert_int_equal(pwrite(fd, "x", 1, VOL_SIZE - 1), 1);
	assert_int_equal(ci_blank_check(v->path, &e), 0);
	assert_non_null(strstr(e.msg, "last MiB"));
	assert_int_equal(pwrite(fd, "\0", 1, VOL_SIZE - 1), 1);
	assert_int_equal(pwrite(fd, "junk", 4, 70000), 4);
	assert_int_equal(ci_blank_check(v->path, &e), 0);
	assert_non_null(strstr(e.msg, "first MiB"));
	assert_int_equal(pwrite(fd, "\0\0\0\0", 4, 70000), 4);
	close(fd);
	vol_format(v);
	assert_int_equal(ci_blank_check(v->path, &e), 0);
	assert_non_null(strstr(e.msg, "crypto_LUKS"));
}

static void test_blank_check_sees_filesystems(void **state)
{
	struct vol *v = *state;
	struct cm_err e = {0};
	char cmd[800];
	snprintf(cmd, sizeof cmd, "mkfs.ext4 -q -F '%s' >/dev/null 2>&1 || /sbin/mkfs.ext4 -q -F '%s'", v->path, v->path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(ci_blank_check(v->path, &e), 0);
	assert_non_null(strstr(e.msg, "ext4"));
}

static void test_blank_check_errors_are_not_blank(void **state)
{
	struct vol *v = *state;
	struct cm_err e = {0};
	assert_int_equal(truncate(v->path, CI_LUKS_DATA_OFFSET), 0);
	assert_int_equal(ci_blank_check(v->path, &e), -ENOSPC);
	assert_true(ci_blank_check("/nonexistent/disk", &e) < 0);
}

int main(void)
{
	crypt_set_log_callback(NULL, NULL, NULL);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_luks_own_format_passes_strict_check, formatted_setup, vol_teardown),
		cmocka_unit_test_setup_teardown(test_luks_rejects_cipher_null, formatted_setup, vol_teardown),
		cmocka_unit_test_setup_teardown(test_luks_rejects_second_keyslot, formatted_setup, vol_teardown),
		cmocka_unit_test_setup_teardown(test_luks_rejects_tokens, formatted_setup, vol_teardown),
		cmocka_unit_test_setup_teardown(test_luks_tpm2_token_accepted_only_when_expected, formatted_setup,
						vol_teardown),
		cmocka_unit_test_setup_teardown(test_luks_tpm2_token_rejects_variants, formatted_setup, vol_teardown),
		cmocka_unit_test_setup_teardown(test_luks_rejects_label, formatted_setup, vol_teardown),
		cmocka_unit_test_setup_teardown(test_luks_rejects_other_pbkdf_profile, blank_setup, vol_teardown),
		cmocka_unit_test_setup_teardown(test_luks_rejects_bad_offsets, formatted_setup, vol_teardown),
		cmocka_unit_test_setup_teardown(test_luks_rejects_unexpected_members, formatted_setup, vol_teardown),
		cmocka_unit_test_setup_teardown(test_luks_integrity_profile_accepted_only_when_expected, formatted_setup,
						vol_teardown),
		cmocka_unit_test_setup_teardown(test_luks_integrity_rejects_variants, formatted_setup, vol_teardown),
		cmocka_unit_test_setup_teardown(test_luks_rejects_broken_binary_headers, blank_setup, vol_teardown),
		cmocka_unit_test_setup_teardown(test_blank_check_accepts_only_zeroed_unsigned_disks, blank_setup, vol_teardown),
		cmocka_unit_test_setup_teardown(test_blank_check_sees_filesystems, blank_setup, vol_teardown),
		cmocka_unit_test_setup_teardown(test_blank_check_errors_are_not_blank, blank_setup, vol_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
