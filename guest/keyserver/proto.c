/* The key server's wire format (see proto.h). */
#include "guest/keyserver/proto.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "measure/core/json.h"

static bool span_ok(const char *s, size_t n, bool first_strict)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool alnum = first_strict ? (islower(c) || isdigit(c)) : isalnum(c);
		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return false;
	}
	return n > 0;
}

int cks_model_parse(const char *s, struct cks_model *m, struct cm_err *e)
{
	memset(m, 0, sizeof *m);
	size_t len = strnlen(s, CKS_MODEL_MAX + 1);
	const char *at = memchr(s, '@', len), *colon = at ? memchr(at, ':', len - (size_t)(at - s)) : NULL;
	if (len > CKS_MODEL_MAX || !at || !colon)
		return cm_fail_check(e, -EINVAL, "model_string", "model \"%.80s\" is not name@commit:<verity root>", s);
	size_t nl = (size_t)(at - s), cl = (size_t)(colon - at - 1), hl = len - (size_t)(colon + 1 - s);
	bool name_ok = nl <= CKS_NAME_MAX && span_ok(s, nl, true);
	for (size_t i = 0; name_ok && i < nl; i++)
		name_ok = !isupper((unsigned char)s[i]);
	if (!name_ok || cl > CKS_COMMIT_MAX || !span_ok(at + 1, cl, false) || hl != 64)
		return cm_fail_check(e, -EINVAL, "model_string", "model \"%.80s\" is not name@commit:<verity root>", s);
	for (size_t i = 0; i < 64; i++)
		if (!isdigit((unsigned char)colon[1 + i]) && !(colon[1 + i] >= 'a' && colon[1 + i] <= 'f'))
			return cm_fail_check(e, -EINVAL, "model_string", "model \"%.80s\": the verity root must be 64 "
									 "lowercase hex digits", s);
	if (cm_hex_decode_exact(colon + 1, 64, m->root, 32) < 0)
		return cm_fail_check(e, -EINVAL, "model_string", "model \"%.80s\": bad verity root", s);
	memcpy(m->str, s, len);
	memcpy(m->name, s, nl);
	return 0;
}

/* ---- frames ---- */

static int io_all(const struct cks_io *io, void *buf, size_t n, bool wr)
{
	uint8_t *p = buf;
	while (n) {
		int k = wr ? io->write(io->ctx, p, (int)n) : io->read(io->ctx, p, (int)n);
		if (k <= 0)
			return -EIO;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int cks_frame_write(const struct cks_io *io, const char *body, size_t len, struct cm_err *e)
{
	if (len == 0 || len > CKS_FRAME_MAX)
		return cm_fail_check(e, -E2BIG, "frame", "frame of %zu bytes (1..%u)", len, CKS_FRAME_MAX);
	uint8_t hdr[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
	if (io_all(io, hdr, 4, true) < 0 || io_all(io, (void *)body, len, true) < 0)
		return cm_fail_check(e, -EIO, "frame", "write failed (peer gone or timed out)");
	return 0;
}

int cks_frame_read(const struct cks_io *io, char **body, size_t *len, struct cm_err *e)
{
	uint8_t hdr[4];
	*body = NULL;
	if (io_all(io, hdr, 4, false) < 0)
		return cm_fail_check(e, -EIO, "frame", "no frame (peer closed or timed out)");
	uint32_t n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	if (n == 0 || n > CKS_FRAME_MAX)
		return cm_fail_check(e, -EBADMSG, "frame", "frame length %u (1..%u)", n, CKS_FRAME_MAX);
	char *b = malloc(n + 1);
	if (!b)
		return cm_fail(e, -ENOMEM, "out of memory");
	if (io_all(io, b, n, false) < 0) {
		free(b);
		return cm_fail_check(e, -EIO, "frame", "truncated frame (%u bytes announced)", n);
	}
	b[n] = 0;
	*body = b;
	*len = n;
	return 0;
}

/* ---- messages ---- */

static char *emit(json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	char *r = s ? strdup(s) : NULL;
	if (s)
		OPENSSL_cleanse((void *)s, strlen(s)); /* may hold a key */
	json_object_put(o);
	return r;
}

static int read_version(const struct cm_jv *root, const char *const *keys, struct cm_err *e)
{
	struct cm_jv v;
	int64_t ver;
	int r;
	if ((r = cm_jv_object(root, keys, e)) < 0 || (r = cm_jv_need(root, "version", &v, e)) < 0 ||
	    (r = cm_jv_int(&v, 0, 1000, &ver, e)) < 0)
		return r;
	if (ver != CKS_VERSION)
		return cm_jv_fail(&v, e, -EPROTONOSUPPORT, "version %lld not supported (expected %d)", (long long)ver,
				  CKS_VERSION);
	return 0;
}

static int get_model(const struct cm_jv *o, struct cks_model *m, struct cm_err *e)
{
	struct cm_jv v;
	const char *s;
	int r;
	if ((r = cm_jv_need(o, "model", &v, e)) < 0 || (r = cm_jv_str(&v, 1, CKS_MODEL_MAX, &s, e)) < 0)
		return r;
	return cks_model_parse(s, m, e);
}

int cks_request_parse(const char *json, size_t len, struct cks_model *m, struct cm_err *e)
{
	static const char *const keys[] = {"version", "model", NULL};
	struct cm_jv root;
	int r = cm_json_read(json, len, CKS_FRAME_MAX, "key request", &root, e);
	if (r < 0)
		return cm_err_check(e, r, "request_format");
	if ((r = read_version(&root, keys, e)) == 0)
		r = get_model(&root, m, e);
	cm_json_release(&root);
	return r < 0 ? cm_err_check(e, r, e->check ? e->check : "request_format") : 0;
}

char *cks_request_encode(const char *model)
{
	json_object *o = json_object_new_object();
	cm_json_add_int(o, "version", CKS_VERSION);
	cm_json_add_str(o, "model", model);
	return emit(o);
}

int cks_key_parse(const struct cm_jv *o, uint8_t *key, size_t *key_len, struct cm_err *e)
{
	struct cm_jv v;
	const char *s;
	int r;
	if ((r = cm_jv_need(o, "key", &v, e)) < 0 || (r = cm_jv_str(&v, 64, 128, &s, e)) < 0)
		return r;
	*key_len = strlen(s) / 2;
	if ((r = cks_volume_key_len_ok(*key_len, e)) == 0)
		r = cm_jv_hex(&v, key, *key_len, e);
	OPENSSL_cleanse((void *)s, strlen(s)); /* json-c's copy of the key: freed without wiping */
	return r;
}

int cks_response_parse(const char *json, size_t len, struct cks_response *resp, struct cm_err *e)
{
	static const char *const keys[] = {"version", "status", "key", "check", "message", NULL};
	memset(resp, 0, sizeof *resp);
	struct cm_jv root, v;
	const char *s;
	int r = cm_json_read(json, len, CKS_FRAME_MAX, "key response", &root, e);
	if (r < 0)
		return cm_err_check(e, r, "response_format");
	if ((r = read_version(&root, keys, e)) < 0 || (r = cm_jv_need(&root, "status", &v, e)) < 0 ||
	    (r = cm_jv_str(&v, 1, 16, &s, e)) < 0)
		goto out;
	if (strcmp(s, "ok") == 0) {
		resp->ok = true;
		if (cm_jv_get(&root, "check", &v) || cm_jv_get(&root, "message", &v))
			r = cm_jv_fail(&root, e, -EINVAL, "an ok response carries no check or message");
		else
			r = cks_key_parse(&root, resp->key, &resp->key_len, e);
	} else if (strcmp(s, "refused") == 0) {
		if (cm_jv_get(&root, "key", &v))
			r = cm_jv_fail(&root, e, -EINVAL, "a refusal carries no key");
		else if ((r = cm_jv_need(&root, "check", &v, e)) == 0 &&
			 (r = cm_jv_strcpy(&v, resp->check, sizeof resp->check, e)) == 0 &&
			 (r = cm_jv_need(&root, "message", &v, e)) == 0)
			r = cm_jv_strcpy(&v, resp->message, sizeof resp->message, e);
		for (const char *p = resp->check; r == 0 && *p; p++)
			if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_')
				r = cm_fail(e, -EINVAL, "key response: check must be [a-z0-9_]");
		for (char *p = resp->message; r == 0 && *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
				*p = '?'; /* printed on the console */
	} else {
		r = cm_jv_fail(&v, e, -EINVAL, "status must be ok or refused");
	}
out:
	cm_json_release(&root);
	if (r < 0) {
		OPENSSL_cleanse(resp, sizeof *resp);
		return cm_err_check(e, r, "response_format");
	}
	return 0;
}

char *cks_response_encode(const struct cks_response *r)
{
	json_object *o = json_object_new_object();
	cm_json_add_int(o, "version", CKS_VERSION);
	cm_json_add_str(o, "status", r->ok ? "ok" : "refused");
	if (r->ok) {
		cm_json_add_hex(o, "key", r->key, r->key_len);
	} else {
		cm_json_add_str(o, "check", r->check);
		cm_json_add_str(o, "message", r->message);
	}
	return emit(o);
}

/* ---- grants and admin requests ---- */

static int hex_list(const struct cm_jv *obj, const char *key, uint8_t *out, size_t width, size_t *n,
		    struct cm_err *e)
{
	struct cm_jv arr;
	*n = 0;
	if (!cm_jv_get(obj, key, &arr))
		return 0;
	int r = cm_jv_array(&arr, 0, CKS_MAX_ALLOW, n, e);
	for (size_t i = 0; r == 0 && i < *n; i++) {
		struct cm_jv v = cm_jv_elem(&arr, i);
		r = cm_jv_hex(&v, out + i * width, width, e);
	}
	return r;
}

int cks_grant_lists_parse(const struct cm_jv *obj, struct cks_grant *g, struct cm_err *e)
{
	int r;
	if ((r = hex_list(obj, "image_hashes", &g->image_hashes[0][0], 32, &g->n_image_hashes, e)) < 0 ||
	    (r = hex_list(obj, "rtmr3", &g->rtmr3[0][0], 48, &g->n_rtmr3, e)) < 0)
		return r;
	if (!g->n_image_hashes && !g->n_rtmr3)
		return cm_jv_fail(obj, e, -EINVAL, "a grant names the appliances it allows: image_hashes or rtmr3");
	return 0;
}

static void add_hex_list(json_object *o, const char *key, const uint8_t *p, size_t width, size_t n)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, cm_json_hex(p + i * width, width));
	json_object_object_add(o, key, a);
}

void cks_grant_lists_add(json_object *o, const struct cks_grant *g)
{
	add_hex_list(o, "image_hashes", &g->image_hashes[0][0], 32, g->n_image_hashes);
	add_hex_list(o, "rtmr3", &g->rtmr3[0][0], 48, g->n_rtmr3);
}

static int admin_payload(const char *json, size_t len, struct cks_admin *a, struct cm_err *e)
{
	static const char *const keys[] = {"op", "server", "seq", "model", "key", "image_hashes", "rtmr3", NULL};
	struct cm_jv root, v;
	const char *op;
	int64_t seq;
	int r = cm_json_read(json, len, CKS_FRAME_MAX, "admin payload", &root, e);
	if (r < 0)
		return r;
	if ((r = cm_jv_object(&root, keys, e)) < 0 || (r = cm_jv_need(&root, "op", &v, e)) < 0 ||
	    (r = cm_jv_str(&v, 1, 16, &op, e)) < 0 || (r = cm_jv_need(&root, "server", &v, e)) < 0 ||
	    (r = cm_jv_hex(&v, a->server, 32, e)) < 0 || (r = cm_jv_need(&root, "seq", &v, e)) < 0 ||
	    (r = cm_jv_int(&v, 1, INT64_MAX, &seq, e)) < 0)
		goto out;
	a->seq = (uint64_t)seq;
	if (strcmp(op, "add-key") == 0) {
		a->op = CKS_ADMIN_ADD_KEY;
		if ((r = get_model(&root, &a->grant.model, e)) == 0 &&
		    (r = cks_key_parse(&root, a->grant.key, &a->grant.key_len, e)) == 0)
			r = cks_grant_lists_parse(&root, &a->grant, e);
	} else if (strcmp(op, "list") == 0) {
		a->op = CKS_ADMIN_LIST;
		static const char *const lkeys[] = {"op", "server", "seq", NULL};
		r = cm_jv_object(&root, lkeys, e);
	} else {
		r = cm_jv_fail(&v, e, -EINVAL, "op must be add-key or list");
	}
out:
	cm_json_release(&root);
	return r;
}

int cks_admin_parse(const char *json, size_t len, const uint8_t admin_pub[32], struct cks_admin *a,
		    struct cm_err *e)
{
	static const char *const keys[] = {"version", "payload", "signature", NULL};
	memset(a, 0, sizeof *a);
	struct cm_jv root, v;
	const char *payload = NULL;
	uint8_t sig[64];
	int r = cm_json_read(json, len, CKS_FRAME_MAX, "admin request", &root, e);
	if (r < 0)
		return cm_err_check(e, r, "admin_format");
	if ((r = read_version(&root, keys, e)) < 0 || (r = cm_jv_need(&root, "payload", &v, e)) < 0 ||
	    (r = cm_jv_str(&v, 2, CKS_FRAME_MAX, &payload, e)) < 0 || (r = cm_jv_need(&root, "signature", &v, e)) < 0 ||
	    (r = cm_jv_hex(&v, sig, sizeof sig, e)) < 0) {
		cm_json_release(&root);
		return cm_err_check(e, r, "admin_format");
	}
	size_t plen = strlen(payload), clen = sizeof CKS_ADMIN_CONTEXT - 1;
	uint8_t *msg = malloc(clen + plen);
	EVP_PKEY *pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, admin_pub, 32);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!msg || !pub || !md) {
		r = cm_fail(e, -ENOMEM, "out of memory");
	} else {
		memcpy(msg, CKS_ADMIN_CONTEXT, clen);
		memcpy(msg + clen, payload, plen);
		if (EVP_DigestVerifyInit(md, NULL, NULL, NULL, pub) != 1 ||
		    EVP_DigestVerify(md, sig, sizeof sig, msg, clen + plen) != 1)
			r = cm_fail_check(e, -EPERM, "admin_signature",
					  "admin request: the signature does not verify with the pinned admin key");
		else if ((r = admin_payload(payload, plen, a, e)) < 0)
			r = cm_err_check(e, r, "admin_payload");
	}
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pub);
	free(msg);
	cm_json_release(&root);
	if (r < 0)
		OPENSSL_cleanse(a, sizeof *a);
	return r;
}

char *cks_admin_encode(const struct cks_admin *a, EVP_PKEY *admin_key, struct cm_err *e)
{
	json_object *p = json_object_new_object();
	cm_json_add_str(p, "op", a->op == CKS_ADMIN_ADD_KEY ? "add-key" : "list");
	cm_json_add_hex(p, "server", a->server, 32);
	cm_json_add_int(p, "seq", (int64_t)a->seq);
	if (a->op == CKS_ADMIN_ADD_KEY) {
		cm_json_add_str(p, "model", a->grant.model.str);
		cm_json_add_hex(p, "key", a->grant.key, a->grant.key_len);
		cks_grant_lists_add(p, &a->grant);
	}
	char *payload = emit(p), *out = NULL;
	size_t clen = sizeof CKS_ADMIN_CONTEXT - 1, plen = payload ? strlen(payload) : 0;
	uint8_t *msg = payload ? malloc(clen + plen) : NULL, sig[64];
	size_t siglen = sizeof sig;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!msg || !md) {
		cm_fail(e, -ENOMEM, "out of memory");
		goto out;
	}
	memcpy(msg, CKS_ADMIN_CONTEXT, clen);
	memcpy(msg + clen, payload, plen);
	if (EVP_DigestSignInit(md, NULL, NULL, NULL, admin_key) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, msg, clen + plen) != 1 || siglen != sizeof sig) {
		cm_fail(e, -EINVAL, "signing the admin request failed (is the admin key Ed25519?)");
		goto out;
	}
	json_object *o = json_object_new_object();
	cm_json_add_int(o, "version", CKS_VERSION);
	cm_json_add_str(o, "payload", payload);
	cm_json_add_hex(o, "signature", sig, sizeof sig);
	out = emit(o);
out:
	EVP_MD_CTX_free(md);
	if (msg)
		OPENSSL_cleanse(msg, clen + plen);
	free(msg);
	if (payload)
		OPENSSL_cleanse(payload, plen);
	free(payload);
	return out;
}
