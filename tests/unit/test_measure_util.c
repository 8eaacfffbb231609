/* libmeasure core helpers: hex, bounded file reads, digests, RTMR extend, image hash, DER. */
#include "tests/unit/testutil.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "measure/core/der.h"
#include "measure/core/digest.h"
#include "measure/core/measurements.h"
#include "measure/core/util.h"

static void test_hex_roundtrip(void **state)
{
	(void)state;
	uint8_t in[] = {0x00, 0x01, 0xab, 0xff};
	char out[9];
	assert_int_equal(cm_hex_encode(in, 4, out, sizeof(out)), 8);
	assert_string_equal(out, "0001abff");
	uint8_t back[4];
	assert_int_equal(cm_hex_decode_exact("0001ABff", 8, back, 4), 0);
	assert_memory_equal(in, back, 4);
}

static void test_hex_rejects_bad_input(void **state)
{
	(void)state;
	uint8_t b[4] = {0};
	char small[8];
	assert_int_equal(cm_hex_encode(b, 4, small, sizeof(small)), -ENOSPC);
	assert_int_equal(cm_hex_decode_exact("abc", 3, b, 2), -EINVAL);   /* odd */
	assert_int_equal(cm_hex_decode_exact("abcd", 4, b, 4), -EINVAL);  /* wrong length */
	assert_int_equal(cm_hex_decode_exact("zz", 2, b, 1), -EINVAL);    /* not hex */
	assert_int_equal(cm_hex_decode("aabbccddee", 10, b, 4, NULL), -ENOSPC);
}

static void test_read_file_bounded(void **state)
{
	(void)state;
	char *dir = test_tmpdir();
	char path[512];
	snprintf(path, sizeof(path), "%s/f", dir);
	test_write_text(path, "hello");
	uint8_t *buf;
	size_t len;
	struct cm_err e = {0};
	assert_int_equal(cm_read_file(path, 5, &buf, &len, &e), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "hello", 6); /* NUL-terminated */
	free(buf);
	assert_int_equal(cm_read_file(path, 4, &buf, &len, &e), -EFBIG);
	assert_non_null(strstr(e.msg, path));
	assert_int_equal(cm_read_file(dir, 100, &buf, &len, &e), -EISDIR);
	unlink(path);
	assert_int_equal(cm_read_file(path, 100, &buf, &len, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "cannot open"));
	rmdir(dir);
	free(dir);
}

static void test_digests_known_answers(void **state)
{
	(void)state;
	uint8_t d[64];
	assert_int_equal(cm_sha256("abc", 3, d), 0);
	assert_hex_equal(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(cm_sha384("abc", 3, d), 0);
	assert_hex_equal(d, "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
			    "8086072ba1e7cc2358baeca134c825a7");
	assert_int_equal(cm_sha512("abc", 3, d), 0);
	assert_hex_equal(d, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
			    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
	/* streaming equals one-shot, and final resets for reuse */
	struct cm_hash *h = cm_hash_new(CM_SHA384);
	assert_non_null(h);
	for (int round = 0; round < 2; round++) {
		cm_hash_update(h, "a", 1);
		cm_hash_update(h, "bc", 2);
		assert_int_equal(cm_hash_final(h, d), 0);
		assert_hex_equal(d, "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
				    "8086072ba1e7cc2358baeca134c825a7");
	}
	cm_hash_free(h);
}

static void test_rtmr_extend(void **state)
{
	(void)state;
	uint8_t reg[48] = {0}, d[48];
	cm_sha384("abc", 3, d);
	assert_int_equal(cm_rtmr_extend(reg, d), 0);
	assert_hex_equal(reg, "93732e3733514a841c982cfa75ea76ab55fe011acb9cd980ef4523913c65be1b"
			      "0998e04d77f8c174f81a82151619ca40");
	assert_int_equal(cm_rtmr_extend(reg, d), 0);
	assert_hex_equal(reg, "0b815adb5c2824360b25f9c2ca667eee481dc15676327e8c56be97a3275d8f11"
			      "4d89b198e39f5f49e89657ea2a8adb6a");
}

static void test_image_hash_of_zero_registers(void **state)
{
	(void)state;
	struct cm_td_regs r;
	memset(&r, 0, sizeof(r));
	uint8_t h[32];
	assert_int_equal(cm_image_hash(&r, h), 0);
	/* measurement.md §6: fake_tdx (all zero) = SHA-256 of 448 zero bytes */
	assert_hex_equal(h, "5c55c8f4db4010ba9203d83536d0609856af8c847ac039e37e7dde8fbd574b61");
}

static void test_der_reader(void **state)
{
	(void)state;
	/* SEQUENCE { INTEGER 5, OCTET STRING 01 02 } */
	const uint8_t ok[] = {0x30, 0x07, 0x02, 0x01, 0x05, 0x04, 0x02, 0x01, 0x02};
	struct cm_der in = {ok, sizeof(ok)}, seq, v;
	uint8_t tag;
	uint64_t x;
	assert_int_equal(cm_der_next(&in, &tag, &seq), 0);
	assert_int_equal(tag, CM_DER_SEQUENCE);
	assert_int_equal(in.len, 0);
	assert_int_equal(cm_der_next(&seq, &tag, &v), 0);
	assert_int_equal(cm_der_uint(&v, &x), 0);
	assert_int_equal(x, 5);
	assert_int_equal(cm_der_next(&seq, &tag, &v), 0);
	assert_int_equal(tag, CM_DER_OCTET_STRING);
	assert_int_equal(v.len, 2);
	/* truncated, indefinite, non-minimal lengths and negative integers */
	const uint8_t trunc[] = {0x30, 0x08, 0x02, 0x01, 0x05};
	const uint8_t indef[] = {0x30, 0x80, 0x00, 0x00};
	const uint8_t nonmin[] = {0x04, 0x81, 0x01, 0xaa};
	const uint8_t neg[] = {0x02, 0x01, 0x80};
	struct cm_der a = {trunc, sizeof(trunc)}, b = {indef, sizeof(indef)}, c = {nonmin, sizeof(nonmin)},
		      n = {neg, sizeof(neg)};
	assert_int_equal(cm_der_next(&a, &tag, &v), -EBADMSG);
	assert_int_equal(cm_der_next(&b, &tag, &v), -EBADMSG);
	assert_int_equal(cm_der_next(&c, &tag, &v), -EBADMSG);
	assert_int_equal(cm_der_next(&n, &tag, &v), 0);
	assert_int_equal(cm_der_uint(&v, &x), -ERANGE);
}

static void test_err_prefix(void **state)
{
	(void)state;
	struct cm_err e = {0};
	assert_int_equal(cm_fail(&e, -EINVAL, "bad %s", "thing"), -EINVAL);
	assert_int_equal(cm_err_prefix(&e, "in %s", "file"), -EINVAL);
	assert_string_equal(e.msg, "in file: bad thing");
	assert_int_equal(cm_fail(NULL, -EIO, "ignored"), -EIO);
}

/* The number of entries of dir other than "." and "..". */
static int dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	for (struct dirent *de; (de = readdir(d));)
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

static void assert_file_is(const char *path, const char *text, mode_t mode)
{
	uint8_t *buf;
	size_t len;
	struct cm_err e = {0};
	assert_int_equal(cm_read_file(path, 1 << 20, &buf, &len, &e), 0);
	assert_int_equal(len, strlen(text));
	assert_memory_equal(buf, text, len);
	free(buf);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, mode);
}

static void test_write_file_atomic(void **state)
{
	(void)state;
	char *dir = test_tmpdir();
	char path[512], sub[512];
	struct cm_err e = {0};
	snprintf(path, sizeof(path), "%s/f.json", dir);
	/* a new file, then replaced (contents and mode), nothing else left in the directory */
	assert_int_equal(cm_write_file_atomic(path, "first version", 13, 0600, &e), 0);
	assert_file_is(path, "first version", 0600);
	mode_t old_umask = umask(077); /* the mode is exact, not masked */
	assert_int_equal(cm_write_file_atomic(path, "second", 6, 0644, &e), 0);
	umask(old_umask);
	assert_file_is(path, "second", 0644);
	assert_int_equal(cm_write_file_atomic(path, "", 0, 0640, &e), 0);
	assert_file_is(path, "", 0640);
	assert_int_equal(dir_entries(dir), 1);

	/* a bare name is written in the current directory */
	char cwd[PATH_MAX];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(cm_write_file_atomic("bare", "b", 1, 0644, &e), 0);
	assert_int_equal(chdir(cwd), 0);
	snprintf(sub, sizeof(sub), "%s/bare", dir);
	assert_file_is(sub, "b", 0644);
	unlink(sub);

	/* the target directory is missing: the error names the path */
	snprintf(sub, sizeof(sub), "%s/missing/f.json", dir);
	assert_int_equal(cm_write_file_atomic(sub, "x", 1, 0644, &e), -ENOENT);
	assert_non_null(strstr(e.msg, sub));
	assert_non_null(strstr(e.msg, "No such file or directory"));

	/* the path is a directory: the rename fails, the temporary file is removed */
	snprintf(sub, sizeof(sub), "%s/d", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_true(cm_write_file_atomic(sub, "x", 1, 0644, &e) < 0);
	assert_non_null(strstr(e.msg, "cannot rename"));
	assert_non_null(strstr(e.msg, sub));
	assert_int_equal(dir_entries(dir), 2); /* f.json and d */
	assert_int_equal(dir_entries(sub), 0);
	rmdir(sub);

	/* a path too long for its temporary name is refused before anything is created */
	size_t long_len = PATH_MAX - 4;
	char *lp = malloc(long_len + 1);
	assert_non_null(lp);
	int k = snprintf(lp, long_len + 1, "%s/", dir);
	memset(lp + k, 'a', long_len - (size_t)k);
	lp[long_len] = 0;
	assert_int_equal(cm_write_file_atomic(lp, "x", 1, 0644, &e), -ENAMETOOLONG);
	assert_non_null(strstr(e.msg, "path too long"));
	free(lp);
	assert_int_equal(dir_entries(dir), 1);
	assert_file_is(path, "", 0640); /* untouched by the failures */

	unlink(path);
	rmdir(dir);
	free(dir);
}

/* cm_parse_u64: digits only, the whole 64-bit range, nothing strtoull would wrap or skip. */
static void test_parse_u64(void **state)
{
	(void)state;
	uint64_t v = 0;
	assert_int_equal(cm_parse_u64("0", 0, 10, &v), 0);
	assert_true(v == 0);
	assert_int_equal(cm_parse_u64("007", 0, 10, &v), 0);
	assert_true(v == 7);
	assert_int_equal(cm_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(cm_parse_u64("65535", 1, 65535, &v), 0);
	assert_true(v == 65535);
	static const char *const bad[] = {
		"", "-1", "+5", " 5", "5 ", "-0", "0x10", "1e3", "12a", "18446744073709551616",
		"99999999999999999999", "65536", "0",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 42;
		uint64_t hi = i < 10 ? UINT64_MAX : 65535;
		if (cm_parse_u64(bad[i], i == 12 ? 1 : 0, hi, &v) != -EINVAL || v != 42)
			fail_msg("'%s' was taken (%llu)", bad[i], (unsigned long long)v);
	}
	assert_int_equal(cm_parse_u64(NULL, 0, 1, &v), -EINVAL);
}

/* cm_base64_decode: RFC 4648's vectors; strict about length, padding, alphabet, canonical
 * bits and room; white space only when asked. */
static void test_base64_decode(void **state)
{
	(void)state;
	static const struct {
		const char *b64, *text;
	} good[] = {
		{ "Zg==", "f" }, { "Zm8=", "fo" }, { "Zm9v", "foo" }, { "Zm9vYg==", "foob" }, { "Zm9vYmE=", "fooba" },
		{ "Zm9vYmFy", "foobar" },
	};
	uint8_t out[16];
	size_t n;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(cm_base64_decode(good[i].b64, strlen(good[i].b64), false, out, sizeof out, &n), 0);
		assert_int_equal(n, strlen(good[i].text));
		assert_memory_equal(out, good[i].text, n);
	}
	const char *wrapped = "Zm9v\r\n YmFy\t";
	assert_int_equal(cm_base64_decode(wrapped, strlen(wrapped), true, out, sizeof out, &n), 0);
	assert_int_equal(n, 6);
	assert_memory_equal(out, "foobar", 6);
	assert_int_equal(cm_base64_decode(wrapped, strlen(wrapped), false, out, sizeof out, &n), -EBADMSG);
	static const char *const bad[] = {
		"", "Zg=", "Zg", "Z===", "====", "Zg==Zg==", "=Zg=", "Zh==", "Zm9=", "Zm9-", "Zm9_", "Zm 9v", "Zm9v\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = 99;
		if (cm_base64_decode(bad[i], strlen(bad[i]), false, out, sizeof out, &n) != -EBADMSG || n != 99)
			fail_msg("'%s' was taken", bad[i]);
	}
	char nul[] = "Zm\0v";
	assert_int_equal(cm_base64_decode(nul, 4, true, out, sizeof out, &n), -EBADMSG);
	/* room: "Zm9vYmFy" is 6 bytes */
	assert_int_equal(cm_base64_decode("Zm9vYmFy", 8, false, out, 5, &n), -ENOSPC);
	assert_int_equal(cm_base64_decode("Zm9vYmFy", 8, false, out, 6, &n), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_base64_decode),
		cmocka_unit_test(test_hex_roundtrip),
		cmocka_unit_test(test_hex_rejects_bad_input),
		cmocka_unit_test(test_read_file_bounded),
		cmocka_unit_test(test_digests_known_answers),
		cmocka_unit_test(test_rtmr_extend),
		cmocka_unit_test(test_image_hash_of_zero_registers),
		cmocka_unit_test(test_der_reader),
		cmocka_unit_test(test_err_prefix),
		cmocka_unit_test(test_write_file_atomic),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
