/* Strict LUKS2 for the persistent volume. */
#include "guest/init/luks.h"

#include <blkid/blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <libcryptsetup.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "measure/core/digest.h"
#include "measure/core/json.h"

/* ---- binary headers ---- */

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static int check_binary(const uint8_t *h, int idx, uint64_t *seqid, struct cm_err *e)
{
	static const uint8_t magic0[6] = {'L', 'U', 'K', 'S', 0xba, 0xbe};
	static const uint8_t magic1[6] = {'S', 'K', 'U', 'L', 0xba, 0xbe};
	uint64_t off = (uint64_t)idx * CI_LUKS_HDR_SIZE;
	if (memcmp(h, idx ? magic1 : magic0, 6) != 0)
		return cm_fail(e, -EINVAL, "LUKS2 header %d (offset %llu): bad magic", idx, (unsigned long long)off);
	if (h[6] != 0 || h[7] != 2)
		return cm_fail(e, -EINVAL, "LUKS2 header %d: version %u, expected 2", idx, (h[6] << 8) | h[7]);
	if (be64(h + 8) != CI_LUKS_HDR_SIZE)
		return cm_fail(e, -EINVAL, "LUKS2 header %d: hdr_size %llu, expected %u", idx,
			       (unsigned long long)be64(h + 8), CI_LUKS_HDR_SIZE);
	*seqid = be64(h + 16);
	if (!cm_is_zero(h + 24, 48))
		return cm_fail(e, -EINVAL, "LUKS2 header %d: label must be empty", idx);
	static const uint8_t alg[32] = "sha256";
	if (memcmp(h + 72, alg, 32) != 0)
		return cm_fail(e, -EINVAL, "LUKS2 header %d: checksum_alg must be sha256", idx);
	if (!cm_is_zero(h + 208, 48))
		return cm_fail(e, -EINVAL, "LUKS2 header %d: subsystem must be empty", idx);
	if (be64(h + 256) != off)
		return cm_fail(e, -EINVAL, "LUKS2 header %d: hdr_offset %llu, expected %llu", idx,
			       (unsigned long long)be64(h + 256), (unsigned long long)off);
	/* Checksum: SHA-256 over the whole hdr_size area with the csum field zeroed. */
	uint8_t zero[64] = {0}, d[32];
	struct cm_hash *hh = cm_hash_new(CM_SHA256);
	if (!hh)
		return cm_fail(e, -ENOMEM, "out of memory");
	int r = (cm_hash_update(hh, h, 448) < 0 || cm_hash_update(hh, zero, 64) < 0 ||
		 cm_hash_update(hh, h + 512, CI_LUKS_HDR_SIZE - 512) < 0 || cm_hash_final(hh, d) < 0);
	cm_hash_free(hh);
	if (r)
		return cm_fail(e, -EIO, "sha256 failed");
	if (memcmp(d, h + 448, 32) != 0 || !cm_is_zero(h + 480, 32))
		return cm_fail(e, -EINVAL, "LUKS2 header %d: checksum mismatch", idx);
	return 0;
}

/* ---- JSON ---- */

static int exact_keys(json_object *o, const char *const *keys, const char *where, struct cm_err *e)
{
	if (!json_object_is_type(o, json_type_object))
		return cm_fail(e, -EINVAL, "LUKS2 JSON: %s must be an object", where);
	size_t want = 0;
	for (const char *const *k = keys; *k; k++, want++)
		if (!json_object_object_get_ex(o, *k, NULL))
			return cm_fail(e, -EINVAL, "LUKS2 JSON: %s lacks \"%s\"", where, *k);
	if ((size_t)json_object_object_length(o) != want) {
		json_object_object_foreach(o, key, val)
		{
			(void)val;
			bool known = false;
			for (const char *const *k = keys; *k; k++)
				if (strcmp(*k, key) == 0)
					known = true;
			if (!known)
				return cm_fail(e, -EINVAL, "LUKS2 JSON: %s has unexpected \"%.40s\"", where, key);
		}
		return cm_fail(e, -EINVAL, "LUKS2 JSON: %s has duplicate members", where);
	}
	return 0;
}

static json_object *member(json_object *o, const char *k)
{
	json_object *v = NULL;
	json_object_object_get_ex(o, k, &v);
	return v;
}

static int want_str(json_object *o, const char *k, const char *val, const char *where, struct cm_err *e)
{
	json_object *v = member(o, k);
	if (!v || !json_object_is_type(v, json_type_string) || strcmp(json_object_get_string(v), val) != 0)
		return cm_fail(e, -EINVAL, "LUKS2 JSON: %s.%s must be \"%s\"", where, k, val);
	return 0;
}

static int want_int(json_object *o, const char *k, int64_t lo, int64_t hi, int64_t *out, const char *where,
		    struct cm_err *e)
{
	json_object *v = member(o, k);
	if (!v || !json_object_is_type(v, json_type_int))
		return cm_fail(e, -EINVAL, "LUKS2 JSON: %s.%s must be an integer", where, k);
	int64_t i = json_object_get_int64(v);
	if (i < lo || i > hi)
		return cm_fail(e, -EINVAL, "LUKS2 JSON: %s.%s = %lld outside %lld..%lld", where, k, (long long)i,
			       (long long)lo, (long long)hi);
	if (out)
		*out = i;
	return 0;
}

/* 64-bit quantities are JSON strings of decimal digits: parse strictly. */
static int want_u64str(json_object *o, const char *k, uint64_t *out, const char *where, struct cm_err *e)
{
	json_object *v = member(o, k);
	if (!v || !json_object_is_type(v, json_type_string))
		return cm_fail(e, -EINVAL, "LUKS2 JSON: %s.%s must be a decimal string", where, k);
	const char *s = json_object_get_string(v);
	size_t n = strlen(s);
	if (n == 0 || n > 19 || (s[0] == '0' && n > 1))
		return cm_fail(e, -EINVAL, "LUKS2 JSON: %s.%s = \"%.24s\" is not a canonical number", where, k, s);
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return cm_fail(e, -EINVAL, "LUKS2 JSON: %s.%s = \"%.24s\" is not a number", where, k, s);
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*out = x;
	return 0;
}

static int want_b64(json_object *o, const char *k, const char *where, struct cm_err *e)
{
	json_object *v = member(o, k);
	if (!v || !json_object_is_type(v, json_type_string))
		return cm_fail(e, -EINVAL, "LUKS2 JSON: %s.%s must be a base64 string", where, k);
	const char *s = json_object_get_string(v);
	size_t n = strlen(s);
	if (n == 0 || n > 256 || n % 4 != 0)
		return cm_fail(e, -EINVAL, "LUKS2 JSON: %s.%s has a bad length", where, k);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
			  c == '/' || (c == '=' && i >= n - 2);
		if (!ok)
			return cm_fail(e, -EINVAL, "LUKS2 JSON: %s.%s is not base64", where, k);
	}
	return 0;
}

static int want_list0(json_object *o, const char *k, const char *where, struct cm_err *e)
{
	json_object *v = member(o, k);
	if (!v || !json_object_is_type(v, json_type_array) || json_object_array_length(v) != 1)
		return cm_fail(e, -EINVAL, "LUKS2 JSON: %s.%s must be [\"0\"]", where, k);
	json_object *x = json_object_array_get_idx(v, 0);
	if (!json_object_is_type(x, json_type_string) || strcmp(json_object_get_string(x), "0") != 0)
		return cm_fail(e, -EINVAL, "LUKS2 JSON: %s.%s must be [\"0\"]", where, k);
	return 0;
}

/* The container objects must hold exactly the member "0". */
static json_object *only_zero(json_object *root, const char *k, struct cm_err *e, int *r)
{
	json_object *o = member(root, k);
	static const char *const zero[] = {"0", NULL};
	*r = exact_keys(o, zero, k, e);
	return *r < 0 ? NULL : member(o, "0");
}

static int check_integrity(json_object *seg, struct cm_err *e)
{
	static const char *const keys[] = {"type", "journal_encryption", "journal_integrity", NULL};
	json_object *in = member(seg, "integrity");
	int r;
	if ((r = exact_keys(in, keys, "segments.0.integrity", e)) < 0 ||
	    (r = want_str(in, "type", CI_LUKS_INTEGRITY, "segments.0.integrity", e)) < 0 ||
	    (r = want_str(in, "journal_encryption", "none", "segments.0.integrity", e)) < 0 ||
	    (r = want_str(in, "journal_integrity", "none", "segments.0.integrity", e)) < 0)
		return r;
	return 0;
}

static int check_json(json_object *root, bool integrity, struct cm_err *e)
{
	static const char *const top[] = {"keyslots", "tokens", "segments", "digests", "config", NULL};
	static const char *const ks_keys[] = {"type", "key_size", "af", "area", "kdf", NULL};
	static const char *const af_keys[] = {"type", "stripes", "hash", NULL};
	static const char *const area_keys[] = {"type", "offset", "size", "encryption", "key_size", NULL};
	static const char *const kdf_keys[] = {"type", "hash", "iterations", "salt", NULL};
	static const char *const seg_plain[] = {"type", "offset", "size", "iv_tweak", "encryption", "sector_size", NULL};
	static const char *const seg_integ[] = {"type",	      "offset",	     "size",	  "iv_tweak",
						"encryption", "sector_size", "integrity", NULL};
	const char *const *seg_keys = integrity ? seg_integ : seg_plain;
	const int64_t vk = integrity ? CI_LUKS_VK_BYTES_INTEGRITY : CI_LUKS_VK_BYTES;
	static const char *const dg_keys[] = {"type", "keyslots", "segments", "hash", "iterations", "salt", "digest", NULL};
	static const char *const cfg_keys[] = {"json_size", "keyslots_size", NULL};
	static const char *const none[] = {NULL};
	int r;
	if ((r = exact_keys(root, top, "top level", e)) < 0)
		return r;
	if ((r = exact_keys(member(root, "tokens"), none, "tokens", e)) < 0)
		return r;
	/* config: sizes exactly as formatted; no flags, no requirements. */
	json_object *cfg = member(root, "config");
	uint64_t json_size, ks_size;
	if ((r = exact_keys(cfg, cfg_keys, "config", e)) < 0 || (r = want_u64str(cfg, "json_size", &json_size, "config", e)) < 0 ||
	    (r = want_u64str(cfg, "keyslots_size", &ks_size, "config", e)) < 0)
		return r;
	if (json_size != CI_LUKS_HDR_SIZE - 4096)
		return cm_fail(e, -EINVAL, "LUKS2 JSON: config.json_size %llu, expected %u", (unsigned long long)json_size,
			       CI_LUKS_HDR_SIZE - 4096);
	if (ks_size != CI_LUKS_KEYSLOTS_SIZE)
		return cm_fail(e, -EINVAL, "LUKS2 JSON: config.keyslots_size %llu, expected %u",
			       (unsigned long long)ks_size, CI_LUKS_KEYSLOTS_SIZE);
	/* keyslot 0 */
	json_object *ks = only_zero(root, "keyslots", e, &r);
	if (!ks)
		return r;
	if ((r = exact_keys(ks, ks_keys, "keyslots.0", e)) < 0 || (r = want_str(ks, "type", "luks2", "keyslots.0", e)) < 0 ||
	    (r = want_int(ks, "key_size", vk, vk, NULL, "keyslots.0", e)) < 0)
		return r;
	json_object *af = member(ks, "af");
	if ((r = exact_keys(af, af_keys, "keyslots.0.af", e)) < 0 || (r = want_str(af, "type", "luks1", "keyslots.0.af", e)) < 0 ||
	    (r = want_int(af, "stripes", 4000, 4000, NULL, "keyslots.0.af", e)) < 0 ||
	    (r = want_str(af, "hash", "sha512", "keyslots.0.af", e)) < 0)
		return r;
	json_object *area = member(ks, "area");
	uint64_t aoff, asize;
	if ((r = exact_keys(area, area_keys, "keyslots.0.area", e)) < 0 ||
	    (r = want_str(area, "type", "raw", "keyslots.0.area", e)) < 0 ||
	    (r = want_str(area, "encryption", "aes-xts-plain64", "keyslots.0.area", e)) < 0 ||
	    (r = want_int(area, "key_size", CI_LUKS_VK_BYTES, CI_LUKS_VK_BYTES, NULL, "keyslots.0.area", e)) < 0 ||
	    (r = want_u64str(area, "offset", &aoff, "keyslots.0.area", e)) < 0 ||
	    (r = want_u64str(area, "size", &asize, "keyslots.0.area", e)) < 0)
		return r;
	/* The key material (the whole volume key, 4000 stripes) must lie inside the keyslot
	 * area, after both header copies. The area cipher is aes-xts with a 512-bit key in
	 * both profiles; with integrity the volume key is longer (cipher + HMAC key). */
	if (aoff < 2 * CI_LUKS_HDR_SIZE || aoff % 4096 || asize < (uint64_t)vk * 4000 ||
	    asize > CI_LUKS_KEYSLOTS_SIZE || aoff + asize > CI_LUKS_DATA_OFFSET)
		return cm_fail(e, -EINVAL, "LUKS2 JSON: invalid keyslot area (offset %llu, size %llu)",
			       (unsigned long long)aoff, (unsigned long long)asize);
	json_object *kdf = member(ks, "kdf");
	if ((r = exact_keys(kdf, kdf_keys, "keyslots.0.kdf", e)) < 0 ||
	    (r = want_str(kdf, "type", "pbkdf2", "keyslots.0.kdf", e)) < 0 ||
	    (r = want_str(kdf, "hash", "sha512", "keyslots.0.kdf", e)) < 0 ||
	    (r = want_int(kdf, "iterations", CI_LUKS_PBKDF_ITER, CI_LUKS_PBKDF_ITER, NULL, "keyslots.0.kdf", e)) < 0 ||
	    (r = want_b64(kdf, "salt", "keyslots.0.kdf", e)) < 0)
		return r;
	/* segment 0 */
	json_object *seg = only_zero(root, "segments", e, &r);
	if (!seg)
		return r;
	uint64_t soff, tweak;
	if ((r = exact_keys(seg, seg_keys, "segments.0", e)) < 0 || (r = want_str(seg, "type", "crypt", "segments.0", e)) < 0 ||
	    (r = want_u64str(seg, "offset", &soff, "segments.0", e)) < 0 ||
	    (r = want_str(seg, "size", "dynamic", "segments.0", e)) < 0 ||
	    (r = want_u64str(seg, "iv_tweak", &tweak, "segments.0", e)) < 0 ||
	    (r = want_str(seg, "encryption", "aes-xts-plain64", "segments.0", e)) < 0 ||
	    (r = want_int(seg, "sector_size", 4096, 4096, NULL, "segments.0", e)) < 0)
		return r;
	if (integrity && (r = check_integrity(seg, e)) < 0)
		return r;
	if (soff != CI_LUKS_DATA_OFFSET || tweak != 0)
		return cm_fail(e, -EINVAL, "LUKS2 JSON: segments.0 offset %llu / iv_tweak %llu, expected %u / 0",
			       (unsigned long long)soff, (unsigned long long)tweak, CI_LUKS_DATA_OFFSET);
	/* digest 0 binds keyslot 0 to segment 0 */
	json_object *dg = only_zero(root, "digests", e, &r);
	if (!dg)
		return r;
	if ((r = exact_keys(dg, dg_keys, "digests.0", e)) < 0 || (r = want_str(dg, "type", "pbkdf2", "digests.0", e)) < 0 ||
	    (r = want_list0(dg, "keyslots", "digests.0", e)) < 0 || (r = want_list0(dg, "segments", "digests.0", e)) < 0 ||
	    (r = want_str(dg, "hash", "sha512", "digests.0", e)) < 0 ||
	    (r = want_int(dg, "iterations", 1000, 10000000, NULL, "digests.0", e)) < 0 ||
	    (r = want_b64(dg, "salt", "digests.0", e)) < 0 || (r = want_b64(dg, "digest", "digests.0", e)) < 0)
		return r;
	return 0;
}

int ci_luks_check_metadata(const uint8_t *buf, size_t len, bool integrity, struct cm_err *e)
{
	if (len < 2 * CI_LUKS_HDR_SIZE)
		return cm_fail(e, -EINVAL, "LUKS2 metadata: %zu bytes, need %u", len, 2 * CI_LUKS_HDR_SIZE);
	uint64_t s0, s1;
	int r = check_binary(buf, 0, &s0, e);
	if (r < 0)
		return r;
	if ((r = check_binary(buf + CI_LUKS_HDR_SIZE, 1, &s1, e)) < 0)
		return r;
	if (s0 != s1)
		return cm_fail(e, -EINVAL, "LUKS2 headers: seqid %llu and %llu differ", (unsigned long long)s0,
			       (unsigned long long)s1);
	const uint8_t *j0 = buf + 4096, *j1 = buf + CI_LUKS_HDR_SIZE + 4096;
	size_t jlen = CI_LUKS_HDR_SIZE - 4096;
	if (memcmp(j0, j1, jlen) != 0)
		return cm_fail(e, -EINVAL, "LUKS2 headers: the two JSON areas differ");
	size_t n = strnlen((const char *)j0, jlen);
	if (n == jlen)
		return cm_fail(e, -EINVAL, "LUKS2 JSON area is not NUL-terminated");
	if (!cm_is_zero(j0 + n, jlen - n))
		return cm_fail(e, -EINVAL, "LUKS2 JSON area has data after the terminating NUL");
	struct cm_jv root;
	if ((r = cm_json_read((const char *)j0, n, jlen, "LUKS2 JSON area", &root, e)) < 0)
		return r;
	r = check_json(root.o, integrity, e);
	cm_json_release(&root);
	return r;
}

/* ---- libcryptsetup ---- */

static void quiet_log(int level, const char *msg, void *usrptr)
{
	(void)level;
	(void)msg;
	(void)usrptr;
}

int ci_luks_check_loaded(const char *header_file, bool integrity, struct cm_err *e)
{
	struct crypt_device *cd = NULL;
	int r = crypt_init(&cd, header_file);
	if (r < 0)
		return cm_fail(e, r, "LUKS2: cannot open header copy %s (%s)", header_file, strerror(-r));
	crypt_set_log_callback(cd, quiet_log, NULL);
	r = crypt_load(cd, CRYPT_LUKS2, NULL);
	if (r < 0) {
		crypt_free(cd);
		return cm_fail(e, r, "LUKS2: libcryptsetup rejects the header (%s)", strerror(-r));
	}
	const char *why = NULL;
	const char *cipher = crypt_get_cipher(cd), *mode = crypt_get_cipher_mode(cd);
	if (strcmp(crypt_get_type(cd), CRYPT_LUKS2) != 0)
		why = "not LUKS2";
	else if (!cipher || !mode || strcmp(cipher, "aes") != 0 || strcmp(mode, "xts-plain64") != 0)
		why = "cipher is not aes-xts-plain64";
	else if (crypt_get_volume_key_size(cd) != (int)(integrity ? CI_LUKS_VK_BYTES_INTEGRITY : CI_LUKS_VK_BYTES))
		why = integrity ? "volume key is not 768 bits (aes-xts 512 + hmac 256)" : "volume key is not 512 bits";
	else if (crypt_get_data_offset(cd) * 512 != CI_LUKS_DATA_OFFSET)
		why = "data offset is not 16 MiB";
	else if (crypt_get_sector_size(cd) != 4096)
		why = "sector size is not 4096";
	if (!why) {
		for (int i = 0; i < crypt_keyslot_max(CRYPT_LUKS2); i++) {
			crypt_keyslot_info ki = crypt_keyslot_status(cd, i);
			if ((i == 0) != (ki == CRYPT_SLOT_ACTIVE || ki == CRYPT_SLOT_ACTIVE_LAST)) {
				why = "keyslot 0 must be the only active keyslot";
				break;
			}
		}
	}
	if (!why) {
		struct crypt_params_integrity ip = {0};
		int ir = crypt_get_integrity_info(cd, &ip);
		bool has = ir == 0 && ip.integrity && ip.integrity[0];
		if (integrity && (!has || strcmp(ip.integrity, CI_LUKS_INTEGRITY) != 0 ||
				  ip.integrity_key_size != CI_LUKS_VK_BYTES_INTEGRITY - CI_LUKS_VK_BYTES ||
				  ip.tag_size != CI_LUKS_TAG_BYTES))
			why = "integrity is not " CI_LUKS_INTEGRITY " with a 256-bit key and 32-byte tags";
		else if (!integrity && (ir != 0 || has || ip.tag_size != 0))
			why = "the volume has integrity, the spec asks for none";
	}
	if (!why) {
		size_t ksz = 0;
		const char *enc = crypt_keyslot_get_encryption(cd, 0, &ksz);
		if (!enc || strcmp(enc, "aes-xts-plain64") != 0 || ksz != CI_LUKS_VK_BYTES)
			why = "keyslot 0 encryption is not aes-xts-plain64";
	}
	if (!why)
		for (int t = 0; t < 32; t++)
			if (crypt_token_status(cd, t, NULL) != CRYPT_TOKEN_INACTIVE) {
				why = "a token is present";
				break;
			}
	crypt_free(cd);
	if (why)
		return cm_fail(e, -EINVAL, "LUKS2: %s", why);
	return 0;
}

int ci_luks_copy_and_check(const char *dev, const char *copy_path, bool integrity, struct cm_err *e)
{
	int in = open(dev, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return cm_fail(e, -errno, "open %s (%s)", dev, strerror(errno));
	uint8_t *buf = malloc(CI_LUKS_DATA_OFFSET);
	if (!buf) {
		close(in);
		return cm_fail(e, -ENOMEM, "out of memory");
	}
	size_t got = 0;
	while (got < CI_LUKS_DATA_OFFSET) {
		ssize_t n = pread(in, buf + got, CI_LUKS_DATA_OFFSET - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(in);
	int r;
	if (got != CI_LUKS_DATA_OFFSET) {
		r = cm_fail(e, -EIO, "%s: cannot read the %u-byte LUKS2 metadata region", dev, CI_LUKS_DATA_OFFSET);
		goto out;
	}
	/* Validate the bytes we hold, write them to the private copy, open only the copy. */
	if ((r = ci_luks_check_metadata(buf, got, integrity, e)) < 0)
		goto out;
	int fd = open(copy_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		r = cm_fail(e, -errno, "create %s (%s)", copy_path, strerror(errno));
		goto out;
	}
	size_t put = 0;
	while (put < got) {
		ssize_t n = write(fd, buf + put, got - put);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		put += (size_t)n;
	}
	if (close(fd) < 0 || put != got) {
		r = cm_fail(e, -EIO, "write %s", copy_path);
		goto out;
	}
	r = ci_luks_check_loaded(copy_path, integrity, e);
out:
	free(buf);
	return r;
}

int ci_luks_open(const char *dev, const char *header_copy, const char *name, const uint8_t *key, size_t keylen,
		 struct cm_err *e)
{
	struct crypt_device *cd = NULL;
	int r = crypt_init_data_device(&cd, header_copy, dev);
	if (r < 0)
		return cm_fail(e, r, "LUKS2: cannot use %s with header %s (%s)", dev, header_copy, strerror(-r));
	r = crypt_load(cd, CRYPT_LUKS2, NULL);
	if (r >= 0)
		r = crypt_activate_by_passphrase(cd, name, 0, (const char *)key, keylen, 0);
	crypt_free(cd);
	if (r == -EPERM)
		return cm_fail(e, r, "LUKS2: the derived key does not open %s", dev);
	if (r < 0)
		return cm_fail(e, r, "LUKS2: cannot activate %s (%s)", dev, strerror(-r));
	return 0;
}

/* Integrity tags of a fresh volume are uninitialised: every sector reads as an
 * authentication failure until written once. Write the whole mapped device with zeros
 * through a temporary mapping without the dm-integrity journal (data and tags written
 * once instead of twice). A crash during the wipe leaves a header without a file
 * system: the next boot halts at mount; zero the disk to start over (docs/boot.md). */
#define WIPE_NAME "cocoon-persistent-wipe"

static int wipe_tags(struct crypt_device *cd, const uint8_t *key, size_t keylen, struct cm_err *e)
{
	int r = crypt_activate_by_passphrase(cd, WIPE_NAME, 0, (const char *)key, keylen,
					     CRYPT_ACTIVATE_NO_JOURNAL | CRYPT_ACTIVATE_PRIVATE);
	if (r < 0)
		return cm_fail(e, r, "LUKS2 format: cannot map the new volume to initialise its integrity tags (%s)",
			       strerror(-r));
	r = crypt_wipe(cd, "/dev/mapper/" WIPE_NAME, CRYPT_WIPE_ZERO, 0, 0, 1024 * 1024, 0, NULL, NULL);
	int d = crypt_deactivate(cd, WIPE_NAME);
	if (r < 0)
		return cm_fail(e, r, "LUKS2 format: initialising the integrity tags failed (%s)", strerror(-r));
	if (d < 0)
		return cm_fail(e, d, "LUKS2 format: cannot remove the mapping %s (%s)", WIPE_NAME, strerror(-d));
	return 0;
}

int ci_luks_format(const char *dev, const uint8_t *key, size_t keylen, bool integrity, struct cm_err *e)
{
	struct crypt_device *cd = NULL;
	struct crypt_pbkdf_type pbkdf = {
		.type = CRYPT_KDF_PBKDF2,
		.hash = "sha512",
		.iterations = CI_LUKS_PBKDF_ITER,
		.flags = CRYPT_PBKDF_NO_BENCHMARK,
	};
	struct crypt_params_luks2 p2 = {
		.pbkdf = &pbkdf,
		.integrity = integrity ? CI_LUKS_INTEGRITY : NULL,
		.data_alignment = CI_LUKS_DATA_OFFSET / 512,
		.sector_size = 4096,
	};
	size_t vk = integrity ? CI_LUKS_VK_BYTES_INTEGRITY : CI_LUKS_VK_BYTES;
	int r = crypt_init(&cd, dev);
	if (r < 0)
		return cm_fail(e, r, "LUKS2 format: open %s (%s)", dev, strerror(-r));
	if ((r = crypt_set_metadata_size(cd, CI_LUKS_HDR_SIZE, CI_LUKS_KEYSLOTS_SIZE)) < 0 ||
	    (r = crypt_format(cd, CRYPT_LUKS2, "aes", "xts-plain64", NULL, NULL, vk, &p2)) < 0 ||
	    (r = crypt_set_pbkdf_type(cd, &pbkdf)) < 0 ||
	    (r = crypt_keyslot_add_by_volume_key(cd, 0, NULL, 0, (const char *)key, keylen)) < 0) {
		crypt_free(cd);
		return cm_fail(e, r, "LUKS2 format of %s failed (%s)", dev, strerror(-r));
	}
	r = integrity ? wipe_tags(cd, key, keylen, e) : 0;
	crypt_free(cd);
	return r;
}

/* ---- blank detection ---- */

static int zero_range(int fd, uint64_t off, size_t len, bool *zero)
{
	uint8_t buf[65536];
	*zero = true;
	while (len > 0) {
		size_t want = len < sizeof buf ? len : sizeof buf;
		ssize_t n = pread(fd, buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)want)
			return n < 0 ? -errno : -EIO;
		if (!cm_is_zero(buf, want)) {
			*zero = false;
			return 0;
		}
		off += want;
		len -= want;
	}
	return 0;
}

int ci_blank_check(const char *dev, struct cm_err *e)
{
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cm_fail(e, -errno, "open %s (%s)", dev, strerror(errno));
	struct stat st;
	uint64_t size = 0;
	if (fstat(fd, &st) < 0) {
		int err = -errno;
		close(fd);
		return cm_fail(e, err, "stat %s", dev);
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
			int err = -errno;
			close(fd);
			return cm_fail(e, err, "size of %s (%s)", dev, strerror(-err));
		}
	} else {
		size = (uint64_t)st.st_size;
	}
	if (size < CI_LUKS_DATA_OFFSET + 2 * CI_BLANK_EDGE) {
		close(fd);
		return cm_fail(e, -ENOSPC, "%s: %llu bytes is too small for a persistent volume", dev,
			       (unsigned long long)size);
	}
	bool z1, z2;
	int r = zero_range(fd, 0, CI_BLANK_EDGE, &z1);
	if (r == 0)
		r = zero_range(fd, size - CI_BLANK_EDGE, CI_BLANK_EDGE, &z2);
	close(fd);
	if (r < 0)
		return cm_fail(e, r, "read %s (%s)", dev, strerror(-r));

	blkid_probe pr = blkid_new_probe_from_filename(dev);
	if (!pr)
		return cm_fail(e, -EIO, "blkid: cannot probe %s", dev);
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID);
	blkid_probe_enable_partitions(pr, 1);
	int b = blkid_do_safeprobe(pr);
	const char *type = NULL;
	char what[64] = "";
	if (b == 0) {
		if (blkid_probe_lookup_value(pr, "TYPE", &type, NULL) == 0 && type)
			snprintf(what, sizeof what, "%s", type);
		else if (blkid_probe_lookup_value(pr, "PTTYPE", &type, NULL) == 0 && type)
			snprintf(what, sizeof what, "partition table %s", type);
		else
			snprintf(what, sizeof what, "a signature");
	}
	blkid_free_probe(pr);
	if (b == -2) {
		cm_fail(e, 0, "libblkid finds ambiguous signatures");
		return 0;
	}
	if (b < 0)
		return cm_fail(e, -EIO, "libblkid cannot probe %s", dev);
	if (b == 0) {
		cm_fail(e, 0, "libblkid finds %s", what);
		return 0;
	}
	if (!z1 || !z2) {
		cm_fail(e, 0, "the %s MiB is not zero", !z1 ? "first" : "last");
		return 0;
	}
	return 1;
}
