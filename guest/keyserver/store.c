/* The key server's key store (see store.h). */
#include "guest/keyserver/store.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "measure/core/digest.h"
#include "measure/core/json.h"

#define NONCE 12
#define TAG 16
#define RECORD_MAX (64 * 1024)

int cks_store_open(struct cks_store *s, const char *dir, const uint8_t *secret, size_t secret_len,
		   struct cm_err *e)
{
	memset(s, 0, sizeof *s);
	if (secret_len < 32)
		return cm_fail(e, -EINVAL, "key store: the server secret must have at least 32 bytes (%zu)", secret_len);
	if (snprintf(s->dir, sizeof s->dir, "%s", dir) >= (int)sizeof s->dir)
		return cm_fail(e, -ENAMETOOLONG, "key store: path too long");
	char sub[300];
	snprintf(sub, sizeof sub, "%s/grants", dir);
	if ((mkdir(dir, 0700) < 0 && errno != EEXIST) || (mkdir(sub, 0700) < 0 && errno != EEXIST))
		return cm_fail(e, -errno, "key store: mkdir %s (%s)", sub, strerror(errno));
	EVP_PKEY_CTX *k = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	size_t outlen = sizeof s->wrap;
	int ok = k && EVP_PKEY_derive_init(k) == 1 && EVP_PKEY_CTX_set_hkdf_md(k, EVP_sha256()) == 1 &&
		 EVP_PKEY_CTX_set1_hkdf_key(k, secret, (int)secret_len) == 1 &&
		 EVP_PKEY_CTX_add1_hkdf_info(k, (const unsigned char *)CKS_WRAP_INFO, sizeof CKS_WRAP_INFO - 1) == 1 &&
		 EVP_PKEY_derive(k, s->wrap, &outlen) == 1;
	EVP_PKEY_CTX_free(k);
	return ok ? 0 : cm_fail(e, -EIO, "key store: HKDF failed");
}

void cks_store_close(struct cks_store *s)
{
	OPENSSL_cleanse(s->wrap, sizeof s->wrap);
}

/* nonce || ciphertext || tag of pt under the wrapping key, AAD aad. */
static int seal(const struct cks_store *s, const char *aad, const uint8_t *pt, size_t len, uint8_t *out,
		struct cm_err *e)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, ok = c && RAND_bytes(out, NONCE) == 1 &&
			EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, s->wrap, out) == 1 &&
			EVP_EncryptUpdate(c, NULL, &n, (const uint8_t *)aad, (int)strlen(aad)) == 1 &&
			EVP_EncryptUpdate(c, out + NONCE, &n, pt, (int)len) == 1 && (size_t)n == len &&
			EVP_EncryptFinal_ex(c, out + NONCE + len, &n) == 1 &&
			EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG, out + NONCE + len) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : cm_fail(e, -EIO, "key store: AES-GCM seal failed");
}

static int unseal(const struct cks_store *s, const char *aad, const uint8_t *in, size_t len, uint8_t *pt,
		  struct cm_err *e)
{
	if (len < NONCE + TAG)
		return cm_fail_check(e, -EBADMSG, "store_unseal", "key store: sealed record too short");
	size_t n_pt = len - NONCE - TAG;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, ok = c && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, s->wrap, in) == 1 &&
			EVP_DecryptUpdate(c, NULL, &n, (const uint8_t *)aad, (int)strlen(aad)) == 1 &&
			EVP_DecryptUpdate(c, pt, &n, in + NONCE, (int)n_pt) == 1 &&
			EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG, (void *)(in + NONCE + n_pt)) == 1 &&
			EVP_DecryptFinal_ex(c, pt + n, &n) == 1;
	EVP_CIPHER_CTX_free(c);
	if (!ok) {
		OPENSSL_cleanse(pt, n_pt);
		return cm_fail_check(e, -EBADMSG, "store_unseal",
				     "key store: a record does not unseal (another server secret, or changed on disk)");
	}
	return (int)n_pt;
}

/* Replace path with text (mode 0600). */
static int write_file(const char *path, const char *text, struct cm_err *e)
{
	int r = cm_write_file_atomic(path, text, strlen(text), 0600, e);
	if (r < 0)
		cm_err_prefix(e, "key store");
	return r;
}

/* {"version": 1, ["model": model,] "sealed": hex} of pt, written to path. */
static int put_sealed(const struct cks_store *s, const char *path, const char *model, const char *aad,
		      const uint8_t *pt, size_t len, struct cm_err *e)
{
	uint8_t *buf = malloc(len + NONCE + TAG);
	if (!buf)
		return cm_fail(e, -ENOMEM, "out of memory");
	int r = seal(s, aad, pt, len, buf, e);
	if (r == 0) {
		json_object *o = json_object_new_object();
		cm_json_add_int(o, "version", 1);
		if (model)
			cm_json_add_str(o, "model", model);
		cm_json_add_hex(o, "sealed", buf, len + NONCE + TAG);
		r = write_file(path, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY), e);
		json_object_put(o);
	}
	free(buf);
	return r;
}

/* The unsealed bytes of the record at path (malloc'd, *len), after checking its model. */
static int get_sealed(const struct cks_store *s, const char *path, const char *model, const char *aad,
		      uint8_t **pt, size_t *len, struct cm_err *e)
{
	static const char *const keys[] = {"version", "model", "sealed", NULL};
	struct cm_jv root, v;
	const char *hex;
	*pt = NULL;
	int r = cm_json_read_file(path, RECORD_MAX, path, &root, e);
	if (r < 0)
		return r;
	if ((r = cm_jv_object(&root, keys, e)) < 0 || (r = cm_jv_need(&root, "sealed", &v, e)) < 0 ||
	    (r = cm_jv_str(&v, 2 * (NONCE + TAG), RECORD_MAX, &hex, e)) < 0)
		goto out;
	if (model) {
		const char *m;
		struct cm_jv mv;
		if ((r = cm_jv_need(&root, "model", &mv, e)) < 0 || (r = cm_jv_str(&mv, 1, CKS_MODEL_MAX, &m, e)) < 0)
			goto out;
		if (strcmp(m, model) != 0) {
			r = cm_fail_check(e, -EBADMSG, "store_unseal", "key store: %s holds another model", path);
			goto out;
		}
	}
	size_t n = strlen(hex) / 2;
	uint8_t *raw = malloc(n), *out = malloc(n + 1);
	if (!raw || !out || cm_hex_decode_exact(hex, strlen(hex), raw, n) < 0) {
		r = cm_fail(e, -EINVAL, "key store: %s: bad sealed hex", path);
	} else if ((r = unseal(s, aad, raw, n, out, e)) >= 0) {
		out[r] = 0;
		*len = (size_t)r;
		*pt = out;
		out = NULL;
		r = 0;
	}
	free(raw);
	free(out);
out:
	cm_json_release(&root);
	return r;
}

static void grant_path(const struct cks_store *s, const char *model, char *path, size_t n)
{
	uint8_t d[32];
	char hex[65];
	cm_digest(CM_SHA256, model, strlen(model), d);
	cm_hex_encode(d, 32, hex, sizeof hex);
	snprintf(path, n, "%s/grants/%s.json", s->dir, hex);
}

int cks_store_put(struct cks_store *s, const struct cks_grant *g, struct cm_err *e)
{
	char path[400], aad[CKS_MODEL_MAX + 8];
	grant_path(s, g->model.str, path, sizeof path);
	snprintf(aad, sizeof aad, "grant:%s", g->model.str);
	json_object *o = json_object_new_object();
	cm_json_add_hex(o, "key", g->key, g->key_len);
	cks_grant_lists_add(o, g);
	const char *pt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	int r = put_sealed(s, path, g->model.str, aad, (const uint8_t *)pt, strlen(pt), e);
	OPENSSL_cleanse((void *)pt, strlen(pt));
	json_object_put(o);
	return r;
}

static int parse_grant(const char *model, const uint8_t *pt, size_t len, struct cks_grant *g, struct cm_err *e)
{
	static const char *const keys[] = {"key", "image_hashes", "rtmr3", NULL};
	struct cm_jv root;
	int r = cks_model_parse(model, &g->model, e);
	if (r < 0 || (r = cm_json_read((const char *)pt, len, RECORD_MAX, "grant", &root, e)) < 0)
		return r;
	if ((r = cm_jv_object(&root, keys, e)) == 0 && (r = cks_key_parse(&root, g->key, &g->key_len, e)) == 0)
		r = cks_grant_lists_parse(&root, g, e);
	cm_json_release(&root);
	return r;
}

int cks_store_get(struct cks_store *s, const char *model, struct cks_grant *g, struct cm_err *e)
{
	char path[400], aad[CKS_MODEL_MAX + 8];
	memset(g, 0, sizeof *g);
	grant_path(s, model, path, sizeof path);
	if (access(path, F_OK) < 0)
		return cm_fail_check(e, -ENOENT, "unknown_model", "no key for model %.*s", CKS_MODEL_MAX, model);
	snprintf(aad, sizeof aad, "grant:%s", model);
	uint8_t *pt;
	size_t len;
	int r = get_sealed(s, path, model, aad, &pt, &len, e);
	if (r < 0)
		return r;
	r = parse_grant(model, pt, len, g, e);
	OPENSSL_cleanse(pt, len);
	free(pt);
	if (r < 0) {
		OPENSSL_cleanse(g, sizeof *g);
		return cm_err_check(e, r, "store_unseal");
	}
	return 0;
}

int cks_store_list(struct cks_store *s, struct cks_grant **out, size_t *n, struct cm_err *e)
{
	char sub[300];
	*out = NULL;
	*n = 0;
	snprintf(sub, sizeof sub, "%s/grants", s->dir);
	DIR *d = opendir(sub);
	if (!d)
		return cm_fail(e, -errno, "key store: %s (%s)", sub, strerror(errno));
	int r = 0;
	struct dirent *de;
	while (r == 0 && (de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l != 69 || strcmp(de->d_name + 64, ".json") != 0)
			continue;
		char path[600], model[CKS_MODEL_MAX + 1] = "";
		snprintf(path, sizeof path, "%s/%s", sub, de->d_name);
		struct cm_jv root, v;
		if ((r = cm_json_read_file(path, RECORD_MAX, path, &root, e)) < 0)
			break;
		if ((r = cm_jv_need(&root, "model", &v, e)) == 0)
			r = cm_jv_strcpy(&v, model, sizeof model, e);
		cm_json_release(&root);
		struct cks_grant *g = r == 0 ? realloc(*out, (*n + 1) * sizeof **out) : NULL;
		if (r == 0 && !g)
			r = cm_fail(e, -ENOMEM, "out of memory");
		if (r < 0)
			break;
		*out = g;
		if ((r = cks_store_get(s, model, &g[*n], e)) == 0) {
			OPENSSL_cleanse(g[*n].key, sizeof g[*n].key);
			(*n)++;
		}
	}
	closedir(d);
	if (r < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return r;
}

int cks_store_seq(struct cks_store *s, uint64_t seq, struct cm_err *e)
{
	char path[400], buf[32] = "";
	snprintf(path, sizeof path, "%s/admin.seq", s->dir);
	uint64_t last = 0;
	FILE *f = fopen(path, "re");
	if (f) {
		bool ok = fgets(buf, sizeof buf, f) != NULL;
		fclose(f);
		size_t n = ok ? strcspn(buf, "\n") : 0;
		ok = ok && buf[n] == '\n'; /* "N\n", as written below */
		buf[n] = 0;
		ok = ok && cm_parse_u64(buf, 0, UINT64_MAX, &last) == 0;
		if (!ok)
			return cm_fail(e, -EINVAL, "key store: %s unreadable", path);
	}
	if (seq <= last)
		return cm_fail_check(e, -EPERM, "admin_replay", "admin request seq %llu is not above %llu (replayed?)",
				     (unsigned long long)seq, (unsigned long long)last);
	snprintf(buf, sizeof buf, "%llu\n", (unsigned long long)seq);
	return write_file(path, buf, e);
}

int cks_store_identity(struct cks_store *s, EVP_PKEY **key, struct cm_err *e)
{
	char path[400];
	uint8_t *pt = NULL, raw[32];
	size_t len = 0, rl = sizeof raw;
	*key = NULL;
	snprintf(path, sizeof path, "%s/identity.json", s->dir);
	int r = 0;
	if (access(path, F_OK) == 0) {
		if ((r = get_sealed(s, path, NULL, "identity", &pt, &len, e)) < 0)
			return r;
		if (len == 32)
			*key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, pt, 32);
		OPENSSL_cleanse(pt, len);
		free(pt);
		return *key ? 0 : cm_fail(e, -EINVAL, "key store: %s: not an Ed25519 key", path);
	}
	EVP_PKEY *k = NULL;
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	if (!c || EVP_PKEY_keygen_init(c) != 1 || EVP_PKEY_keygen(c, &k) != 1 ||
	    EVP_PKEY_get_raw_private_key(k, raw, &rl) != 1)
		r = cm_fail(e, -EIO, "key store: Ed25519 key generation failed");
	EVP_PKEY_CTX_free(c);
	if (r == 0)
		r = put_sealed(s, path, NULL, "identity", raw, sizeof raw, e);
	OPENSSL_cleanse(raw, sizeof raw);
	if (r < 0)
		EVP_PKEY_free(k);
	else
		*key = k;
	return r;
}
