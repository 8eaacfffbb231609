/* Strict LUKS2 for the persistent volume. */
#include "guest/init/luks.h"

#include <blkid/blkid.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <libcryptsetup.h>
#include <linux/fs.h>
#include <stddef.h>
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

/* The LUKS2 binary header (cryptsetup's struct luks2_hdr_disk, lib/luks2/luks2.h): integers
 * big-endian, strings NUL-padded. */
struct luks2_hdr_disk {
	uint8_t magic[6];
	uint16_t version;
	uint64_t hdr_size;   /* binary header + JSON area */
	uint64_t seqid;
	char label[48];
	char checksum_alg[32];
	uint8_t salt[64];
	char uuid[40];
	char subsystem[48];
	uint64_t hdr_offset; /* offset of this header copy on the device */
	uint8_t _padding[184];
	uint8_t csum[64];    /* over hdr_size bytes with this field zeroed */
	uint8_t _padding4096[7 * 512];
} __attribute__((packed));
_Static_assert(sizeof(struct luks2_hdr_disk) == 4096, "LUKS2 binary header is 4096 bytes");
_Static_assert(offsetof(struct luks2_hdr_disk, hdr_offset) == 256 && offsetof(struct luks2_hdr_disk, csum) == 448,
	       "LUKS2 binary header layout");

static int check_binary(const uint8_t *buf, int idx, uint64_t *seqid, struct cm_err *e)
{
	static const uint8_t magic[2][6] = {{'L', 'U', 'K', 'S', 0xba, 0xbe}, {'S', 'K', 'U', 'L', 0xba, 0xbe}};
	static const char alg[32] = "sha256";
	struct luks2_hdr_disk h;
	memcpy(&h, buf, sizeof h);
	uint64_t off = (uint64_t)idx * CI_LUKS_HDR_SIZE;
	if (memcmp(h.magic, magic[idx], sizeof h.magic) != 0)
		return cm_fail(e, -EINVAL, "LUKS2 header %d (offset %llu): bad magic", idx, (unsigned long long)off);
	if (be16toh(h.version) != 2)
		return cm_fail(e, -EINVAL, "LUKS2 header %d: version %u, expected 2", idx, be16toh(h.version));
	if (be64toh(h.hdr_size) != CI_LUKS_HDR_SIZE)
		return cm_fail(e, -EINVAL, "LUKS2 header %d: hdr_size %llu, expected %u", idx,
			       (unsigned long long)be64toh(h.hdr_size), CI_LUKS_HDR_SIZE);
	*seqid = be64toh(h.seqid);
	if (!cm_is_zero(h.label, sizeof h.label))
		return cm_fail(e, -EINVAL, "LUKS2 header %d: label must be empty", idx);
	if (memcmp(h.checksum_alg, alg, sizeof alg) != 0)
		return cm_fail(e, -EINVAL, "LUKS2 header %d: checksum_alg must be sha256", idx);
	if (!cm_is_zero(h.subsystem, sizeof h.subsystem))
		return cm_fail(e, -EINVAL, "LUKS2 header %d: subsystem must be empty", idx);
	if (be64toh(h.hdr_offset) != off)
		return cm_fail(e, -EINVAL, "LUKS2 header %d: hdr_offset %llu, expected %llu", idx,
			       (unsigned long long)be64toh(h.hdr_offset), (unsigned long long)off);
	/* Checksum: SHA-256 over the whole hdr_size area with the csum field zeroed. */
	const size_t csum_at = offsetof(struct luks2_hdr_disk, csum), csum_end = csum_at + sizeof h.csum;
	uint8_t zero[sizeof h.csum] = {0}, d[32];
	struct cm_hash *hh = cm_hash_new(CM_SHA256);
	if (!hh)
		return cm_fail(e, -ENOMEM, "out of memory");
	int r = (cm_hash_update(hh, buf, csum_at) < 0 || cm_hash_update(hh, zero, sizeof zero) < 0 ||
		 cm_hash_update(hh, buf + csum_end, CI_LUKS_HDR_SIZE - csum_end) < 0 || cm_hash_final(hh, d) < 0);
	cm_hash_free(hh);
	if (r)
		return cm_fail(e, -EIO, "sha256 failed");
	if (memcmp(d, h.csum, sizeof d) != 0 || !cm_is_zero(h.csum + sizeof d, sizeof h.csum - sizeof d))
		return cm_fail(e, -EINVAL, "LUKS2 header %d: checksum mismatch", idx);
	return 0;
}

/* ---- JSON (through the project's strict reader: errors name the JSON path) ---- */

/* An object with exactly the members keys. */
static int exact_keys(const struct cm_jv *o, const char *const *keys, struct cm_err *e)
{
	int r = cm_jv_object(o, keys, e);
	struct cm_jv m;
	for (const char *const *k = keys; r == 0 && *k; k++)
		r = cm_jv_need(o, *k, &m, e);
	return r;
}

static int want_str(const struct cm_jv *o, const char *k, const char *val, struct cm_err *e)
{
	struct cm_jv m;
	const char *s;
	int r;
	if ((r = cm_jv_need(o, k, &m, e)) < 0 || (r = cm_jv_str(&m, 0, 256, &s, e)) < 0)
		return r;
	if (strcmp(s, val) != 0)
		return cm_jv_fail(&m, e, -EINVAL, "must be \"%s\"", val);
	return 0;
}

static int want_int(const struct cm_jv *o, const char *k, int64_t lo, int64_t hi, struct cm_err *e)
{
	struct cm_jv m;
	int64_t v;
	int r = cm_jv_need(o, k, &m, e);
	return r < 0 ? r : cm_jv_int(&m, lo, hi, &v, e);
}

/* 64-bit quantities are JSON strings of decimal digits: parse strictly. */
static int want_u64str(const struct cm_jv *o, const char *k, uint64_t *out, struct cm_err *e)
{
	struct cm_jv m;
	const char *s;
	int r;
	if ((r = cm_jv_need(o, k, &m, e)) < 0 || (r = cm_jv_str(&m, 0, 64, &s, e)) < 0)
		return r;
	if (strlen(s) > 19 || (s[0] == '0' && s[1]) || cm_parse_u64(s, 0, UINT64_MAX, out))
		return cm_jv_fail(&m, e, -EINVAL, "\"%.24s\" is not a canonical decimal number", s);
	return 0;
}

static int want_b64(const struct cm_jv *o, const char *k, struct cm_err *e)
{
	struct cm_jv m;
	const char *s;
	int r;
	if ((r = cm_jv_need(o, k, &m, e)) < 0 || (r = cm_jv_str(&m, 4, 256, &s, e)) < 0)
		return r;
	uint8_t bin[192]; /* 256 characters of base64 */
	size_t n;
	if (cm_base64_decode(s, strlen(s), false, bin, sizeof bin, &n))
		return cm_jv_fail(&m, e, -EINVAL, "is not base64");
	return 0;
}

static int want_list0(const struct cm_jv *o, const char *k, struct cm_err *e)
{
	struct cm_jv m, x;
	const char *s;
	size_t n;
	int r;
	if ((r = cm_jv_need(o, k, &m, e)) < 0 || (r = cm_jv_array(&m, 1, 1, &n, e)) < 0)
		return r;
	x = cm_jv_elem(&m, 0);
	if ((r = cm_jv_str(&x, 0, 8, &s, e)) < 0)
		return r;
	return strcmp(s, "0") == 0 ? 0 : cm_jv_fail(&x, e, -EINVAL, "must be \"0\"");
}

/* The container objects (keyslots, segments, digests) hold exactly the member "0". */
static int only_zero(const struct cm_jv *root, const char *k, struct cm_jv *container, struct cm_jv *zero,
		     struct cm_err *e)
{
	static const char *const keys[] = {"0", NULL};
	int r = cm_jv_need(root, k, container, e);
	if (r == 0)
		r = exact_keys(container, keys, e);
	if (r == 0)
		r = cm_jv_need(container, "0", zero, e);
	return r;
}

static int check_config(const struct cm_jv *root, struct cm_err *e)
{
	static const char *const keys[] = {"json_size", "keyslots_size", NULL};
	struct cm_jv cfg;
	uint64_t json_size, ks_size;
	int r;
	/* sizes exactly as formatted; no flags, no requirements */
	if ((r = cm_jv_need(root, "config", &cfg, e)) < 0 || (r = exact_keys(&cfg, keys, e)) < 0 ||
	    (r = want_u64str(&cfg, "json_size", &json_size, e)) < 0 ||
	    (r = want_u64str(&cfg, "keyslots_size", &ks_size, e)) < 0)
		return r;
	if (json_size != CI_LUKS_HDR_SIZE - sizeof(struct luks2_hdr_disk))
		return cm_jv_fail(&cfg, e, -EINVAL, "json_size %llu, expected %zu", (unsigned long long)json_size,
				  CI_LUKS_HDR_SIZE - sizeof(struct luks2_hdr_disk));
	if (ks_size != CI_LUKS_KEYSLOTS_SIZE)
		return cm_jv_fail(&cfg, e, -EINVAL, "keyslots_size %llu, expected %u", (unsigned long long)ks_size,
				  CI_LUKS_KEYSLOTS_SIZE);
	return 0;
}

static int check_keyslot(const struct cm_jv *root, int64_t vk, struct cm_err *e)
{
	static const char *const ks_keys[] = {"type", "key_size", "af", "area", "kdf", NULL};
	static const char *const af_keys[] = {"type", "stripes", "hash", NULL};
	static const char *const area_keys[] = {"type", "offset", "size", "encryption", "key_size", NULL};
	static const char *const kdf_keys[] = {"type", "hash", "iterations", "salt", NULL};
	struct cm_jv c, ks, af, area, kdf;
	uint64_t aoff, asize;
	int r;
	if ((r = only_zero(root, "keyslots", &c, &ks, e)) < 0 || (r = exact_keys(&ks, ks_keys, e)) < 0 ||
	    (r = want_str(&ks, "type", "luks2", e)) < 0 || (r = want_int(&ks, "key_size", vk, vk, e)) < 0)
		return r;
	if ((r = cm_jv_need(&ks, "af", &af, e)) < 0 || (r = exact_keys(&af, af_keys, e)) < 0 ||
	    (r = want_str(&af, "type", "luks1", e)) < 0 || (r = want_int(&af, "stripes", 4000, 4000, e)) < 0 ||
	    (r = want_str(&af, "hash", "sha512", e)) < 0)
		return r;
	if ((r = cm_jv_need(&ks, "area", &area, e)) < 0 || (r = exact_keys(&area, area_keys, e)) < 0 ||
	    (r = want_str(&area, "type", "raw", e)) < 0 || (r = want_str(&area, "encryption", "aes-xts-plain64", e)) < 0 ||
	    (r = want_int(&area, "key_size", CI_LUKS_VK_BYTES, CI_LUKS_VK_BYTES, e)) < 0 ||
	    (r = want_u64str(&area, "offset", &aoff, e)) < 0 || (r = want_u64str(&area, "size", &asize, e)) < 0)
		return r;
	/* The key material (the whole volume key, 4000 stripes) must lie inside the keyslot
	 * area, after both header copies. The area cipher is aes-xts with a 512-bit key in
	 * both profiles; with integrity the volume key is longer (cipher + HMAC key). */
	if (aoff < 2 * CI_LUKS_HDR_SIZE || aoff % 4096 || asize < (uint64_t)vk * 4000 || asize > CI_LUKS_KEYSLOTS_SIZE ||
	    aoff + asize > CI_LUKS_DATA_OFFSET)
		return cm_jv_fail(&area, e, -EINVAL, "invalid keyslot area (offset %llu, size %llu)",
				  (unsigned long long)aoff, (unsigned long long)asize);
	if ((r = cm_jv_need(&ks, "kdf", &kdf, e)) < 0 || (r = exact_keys(&kdf, kdf_keys, e)) < 0 ||
	    (r = want_str(&kdf, "type", "pbkdf2", e)) < 0 || (r = want_str(&kdf, "hash", "sha512", e)) < 0 ||
	    (r = want_int(&kdf, "iterations", CI_LUKS_PBKDF_ITER, CI_LUKS_PBKDF_ITER, e)) < 0 ||
	    (r = want_b64(&kdf, "salt", e)) < 0)
		return r;
	return 0;
}

static int check_segment(const struct cm_jv *root, bool integrity, struct cm_err *e)
{
	static const char *const plain_keys[] = {"type", "offset", "size", "iv_tweak", "encryption", "sector_size", NULL};
	static const char *const integ_keys[] = {"type",       "offset",      "size",	   "iv_tweak",
						 "encryption", "sector_size", "integrity", NULL};
	static const char *const in_keys[] = {"type", "journal_encryption", "journal_integrity", NULL};
	struct cm_jv c, seg, in;
	uint64_t soff, tweak;
	int r;
	if ((r = only_zero(root, "segments", &c, &seg, e)) < 0 ||
	    (r = exact_keys(&seg, integrity ? integ_keys : plain_keys, e)) < 0 ||
	    (r = want_str(&seg, "type", "crypt", e)) < 0 || (r = want_u64str(&seg, "offset", &soff, e)) < 0 ||
	    (r = want_str(&seg, "size", "dynamic", e)) < 0 || (r = want_u64str(&seg, "iv_tweak", &tweak, e)) < 0 ||
	    (r = want_str(&seg, "encryption", "aes-xts-plain64", e)) < 0 ||
	    (r = want_int(&seg, "sector_size", 4096, 4096, e)) < 0)
		return r;
	if (integrity &&
	    ((r = cm_jv_need(&seg, "integrity", &in, e)) < 0 || (r = exact_keys(&in, in_keys, e)) < 0 ||
	     (r = want_str(&in, "type", CI_LUKS_INTEGRITY, e)) < 0 || (r = want_str(&in, "journal_encryption", "none", e)) < 0 ||
	     (r = want_str(&in, "journal_integrity", "none", e)) < 0))
		return r;
	if (soff != CI_LUKS_DATA_OFFSET || tweak != 0)
		return cm_jv_fail(&seg, e, -EINVAL, "offset %llu / iv_tweak %llu, expected %u / 0",
				  (unsigned long long)soff, (unsigned long long)tweak, CI_LUKS_DATA_OFFSET);
	return 0;
}

/* digest 0 binds keyslot 0 to segment 0 */
static int check_digest(const struct cm_jv *root, struct cm_err *e)
{
	static const char *const keys[] = {"type", "keyslots", "segments", "hash", "iterations", "salt", "digest", NULL};
	struct cm_jv c, dg;
	int r;
	if ((r = only_zero(root, "digests", &c, &dg, e)) < 0 || (r = exact_keys(&dg, keys, e)) < 0 ||
	    (r = want_str(&dg, "type", "pbkdf2", e)) < 0 || (r = want_list0(&dg, "keyslots", e)) < 0 ||
	    (r = want_list0(&dg, "segments", e)) < 0 || (r = want_str(&dg, "hash", "sha512", e)) < 0 ||
	    (r = want_int(&dg, "iterations", 1000, 10000000, e)) < 0 || (r = want_b64(&dg, "salt", e)) < 0 ||
	    (r = want_b64(&dg, "digest", e)) < 0)
		return r;
	return 0;
}

/* tokens: {} without a token type; with one, exactly token "0" of that type, bound to
 * keyslot 0, with the members of CI_LUKS_TOKEN_TPM2 (the content is the key provider's to
 * parse, strictly, guest/keys/tpm2.h). */
static int check_tokens(const struct cm_jv *root, const char *token_type, struct cm_err *e)
{
	static const char *const none[] = {NULL};
	static const char *const tpm2[] = {"type",	    "keyslots",		"tpm2-blob",	    "tpm2-pcr-bank",
					   "tpm2-pcrs",	    "tpm2-pcr-values", "tpm2-policy-hash", NULL};
	struct cm_jv tokens, c, t;
	int r;
	if (!token_type) {
		if ((r = cm_jv_need(root, "tokens", &tokens, e)) < 0 || (r = exact_keys(&tokens, none, e)) < 0)
			return r;
		return 0;
	}
	if (strcmp(token_type, CI_LUKS_TOKEN_TPM2) != 0)
		return cm_fail(e, -EINVAL, "LUKS2: unknown token type %.32s", token_type);
	if ((r = only_zero(root, "tokens", &c, &t, e)) < 0 || (r = exact_keys(&t, tpm2, e)) < 0 ||
	    (r = want_str(&t, "type", token_type, e)) < 0 || (r = want_list0(&t, "keyslots", e)) < 0)
		return r;
	return 0;
}

static int check_json(const struct cm_jv *root, bool integrity, const char *token_type, struct cm_err *e)
{
	static const char *const top[] = {"keyslots", "tokens", "segments", "digests", "config", NULL};
	int r;
	if ((r = exact_keys(root, top, e)) < 0 || (r = check_tokens(root, token_type, e)) < 0 ||
	    (r = check_config(root, e)) < 0 ||
	    (r = check_keyslot(root, integrity ? CI_LUKS_VK_BYTES_INTEGRITY : CI_LUKS_VK_BYTES, e)) < 0 ||
	    (r = check_segment(root, integrity, e)) < 0 || (r = check_digest(root, e)) < 0)
		return r;
	return 0;
}

int ci_luks_check_metadata(const uint8_t *buf, size_t len, bool integrity, const char *token_type, struct cm_err *e)
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
	const size_t bin = sizeof(struct luks2_hdr_disk), jlen = CI_LUKS_HDR_SIZE - bin;
	const uint8_t *j0 = buf + bin, *j1 = buf + CI_LUKS_HDR_SIZE + bin;
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
	r = check_json(&root, integrity, token_type, e);
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

int ci_luks_check_loaded(const char *header_file, bool integrity, const char *token_type, struct cm_err *e)
{
	struct crypt_device *cd = NULL;
	/* Tokens are data here: never let libcryptsetup load a token plugin for a type the
	 * host wrote into the header. */
	crypt_token_external_disable();
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
		for (int t = 0; t < 32; t++) {
			const char *type = NULL;
			crypt_token_info ti = crypt_token_status(cd, t, &type);
			bool want = t == 0 && token_type;
			if (!want && ti != CRYPT_TOKEN_INACTIVE) {
				why = token_type ? "a token other than token 0 is present" : "a token is present";
				break;
			}
			if (want && (ti != CRYPT_TOKEN_EXTERNAL_UNKNOWN || !type || strcmp(type, token_type) != 0)) {
				why = "token 0 is not the key provider's token";
				break;
			}
		}
	crypt_free(cd);
	if (why)
		return cm_fail(e, -EINVAL, "LUKS2: %s", why);
	return 0;
}

int ci_luks_copy_and_check(const char *dev, const char *copy_path, bool integrity, const char *token_type,
			   struct cm_err *e)
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
	if ((r = ci_luks_check_metadata(buf, got, integrity, token_type, e)) < 0)
		goto out;
	int fd = open(copy_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		r = cm_fail(e, -errno, "create %s (%s)", copy_path, strerror(errno));
		goto out;
	}
	int w = cm_write_all(fd, buf, got);
	if (close(fd) < 0 || w < 0) {
		r = cm_fail(e, -EIO, "write %s", copy_path);
		goto out;
	}
	r = ci_luks_check_loaded(copy_path, integrity, token_type, e);
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

int ci_luks_token_read(const char *header_copy, const char *token_type, char **json, struct cm_err *e)
{
	*json = NULL;
	struct crypt_device *cd = NULL;
	crypt_token_external_disable(); /* as in ci_luks_check_loaded */
	int r = crypt_init(&cd, header_copy);
	if (r < 0)
		return cm_fail(e, r, "LUKS2: cannot open header copy %s (%s)", header_copy, strerror(-r));
	crypt_set_log_callback(cd, quiet_log, NULL);
	const char *j = NULL, *type = NULL;
	if ((r = crypt_load(cd, CRYPT_LUKS2, NULL)) < 0 || (r = crypt_token_json_get(cd, 0, &j)) < 0 ||
	    crypt_token_status(cd, 0, &type) != CRYPT_TOKEN_EXTERNAL_UNKNOWN || !type || strcmp(type, token_type) != 0) {
		crypt_free(cd);
		return cm_fail(e, r < 0 ? r : -EINVAL, "LUKS2: no %s token in the header", token_type);
	}
	*json = strdup(j);
	crypt_free(cd);
	return *json ? 0 : cm_fail(e, -ENOMEM, "out of memory");
}

int ci_luks_token_write(const char *dev, const char *json, struct cm_err *e)
{
	struct crypt_device *cd = NULL;
	int r = crypt_init(&cd, dev);
	if (r < 0)
		return cm_fail(e, r, "LUKS2 token: open %s (%s)", dev, strerror(-r));
	crypt_set_log_callback(cd, quiet_log, NULL);
	if ((r = crypt_load(cd, CRYPT_LUKS2, NULL)) >= 0)
		r = crypt_token_json_set(cd, 0, json);
	crypt_free(cd);
	if (r < 0)
		return cm_fail(e, r, "LUKS2 token: cannot store token 0 on %s (%s)", dev, strerror(-r));
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
