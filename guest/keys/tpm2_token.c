/* The tpm2 provider's spec settings, TDX refusal and LUKS2 token (tpm2.h): JSON only, no
 * tpm2-tss, so that this part is in libcocoon-keys and its fuzz target. */
#include "guest/keys/tpm2.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "measure/core/json.h"

#define CONF_MAX 4096

static int pcr_array(const struct cm_jv *v, uint32_t *mask, struct cm_err *e)
{
	size_t n;
	int r = cm_jv_array(v, 1, CK_TPM2_PCRS, &n, e);
	int prev = -1;
	*mask = 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct cm_jv x = cm_jv_elem(v, i);
		int64_t p;
		if ((r = cm_jv_int(&x, 0, CK_TPM2_PCRS - 1, &p, e)) < 0)
			break;
		if (p <= prev)
			return cm_jv_fail(&x, e, -EINVAL, "PCRs must be ascending and unique");
		prev = (int)p;
		*mask |= 1u << p;
	}
	return r;
}

int ck_tpm2_conf_parse(const char *json, size_t len, struct ck_tpm2_conf *c, struct cm_err *e)
{
	static const char *const keys[] = {"pcrs", "tcti", "allow_with_tdx", NULL};
	memset(c, 0, sizeof *c);
	c->pcrs = CK_TPM2_DEFAULT_PCRS;
	struct cm_jv o, v;
	int r = cm_json_read(json, len, CONF_MAX, CK_TPM2_CONF_FILE, &o, e);
	if (r < 0)
		return r;
	if ((r = cm_jv_object(&o, keys, e)) < 0)
		goto out;
	if (cm_jv_get(&o, "pcrs", &v) && (r = pcr_array(&v, &c->pcrs, e)) < 0)
		goto out;
	if (cm_jv_get(&o, "tcti", &v)) {
		const char *s;
		if ((r = cm_jv_str(&v, 1, sizeof c->tcti - 1, &s, e)) < 0)
			goto out;
		if (strncmp(s, "device:", 7) != 0 && strncmp(s, "swtpm:", 6) != 0) {
			r = cm_jv_fail(&v, e, -EINVAL, "must be device:PATH or swtpm:path=SOCKET");
			goto out;
		}
		snprintf(c->tcti, sizeof c->tcti, "%s", s);
	}
	if (cm_jv_get(&o, "allow_with_tdx", &v))
		r = cm_jv_bool(&v, &c->allow_with_tdx, e);
out:
	cm_json_release(&o);
	return r;
}

int ck_tpm2_conf_load(const char *spec_dir, struct ck_tpm2_conf *c, struct cm_err *e)
{
	memset(c, 0, sizeof *c);
	c->pcrs = CK_TPM2_DEFAULT_PCRS;
	if (!spec_dir)
		return 0;
	char path[512];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", spec_dir, CK_TPM2_CONF_FILE) >= sizeof path)
		return cm_fail(e, -ENAMETOOLONG, "spec path too long");
	uint8_t *buf;
	size_t len;
	struct cm_err ignore = {0};
	int r = cm_read_file(path, CONF_MAX, &buf, &len, &ignore);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return cm_fail(e, r, "%s: %s", CK_TPM2_CONF_FILE, ignore.msg);
	r = ck_tpm2_conf_parse((const char *)buf, len, c, e);
	free(buf);
	return r;
}

int ck_tpm2_allowed(const struct ck_tpm2_conf *c, const char *backend, struct cm_err *e)
{
	/* A production TD's TPM is the host's (QEMU + swtpm): sealing to it hides nothing from
	 * the host. Only an explicit, measured "allow_with_tdx": true lets it through. */
	if (backend && strcmp(backend, "tdx") == 0 && !c->allow_with_tdx)
		return cm_fail(e, -EPERM,
			       "the tpm2 key provider is refused with the tdx attestation backend: a TPM the host emulates "
			       "gives no confidentiality against the host (set \"allow_with_tdx\": true in the spec's "
			       "%s to use it anyway)",
			       CK_TPM2_CONF_FILE);
	return 0;
}

void ck_tpm2_pcr_list(uint32_t mask, char *out, size_t n)
{
	size_t at = 0;
	if (n)
		out[0] = 0;
	for (int i = 0; i < CK_TPM2_PCRS; i++)
		if (mask & (1u << i)) {
			int w = snprintf(out + at, n - at, "%s%d", at ? ", " : "", i);
			if (w < 0 || (size_t)w >= n - at)
				return;
			at += (size_t)w;
		}
}

static int b64_decode(const struct cm_jv *v, uint8_t *out, size_t cap, size_t *len, struct cm_err *e)
{
	const char *s;
	int r = cm_jv_str(v, 4, 4 * ((cap + 2) / 3), &s, e);
	if (r < 0)
		return r;
	if (cm_base64_decode(s, strlen(s), false, out, cap, len))
		return cm_jv_fail(v, e, -EINVAL, "is not canonical base64");
	return 0;
}

int ck_tpm2_token_parse(const char *json, size_t len, struct ck_tpm2_token *t, struct cm_err *e)
{
	static const char *const keys[] = {"type",	      "keyslots",	 "tpm2-blob",	     "tpm2-pcr-bank",
					   "tpm2-pcrs",	      "tpm2-pcr-values", "tpm2-policy-hash", NULL};
	memset(t, 0, sizeof *t);
	struct cm_jv o, v, x;
	const char *s;
	size_t n;
	int r = cm_json_read(json, len, CK_TPM2_TOKEN_MAX, "cocoon-tpm2 token", &o, e);
	if (r < 0)
		return r;
	if ((r = cm_jv_object(&o, keys, e)) < 0)
		goto out;
	for (const char *const *k = keys; *k; k++)
		if ((r = cm_jv_need(&o, *k, &v, e)) < 0)
			goto out;
	cm_jv_need(&o, "type", &v, e);
	if ((r = cm_jv_str(&v, 1, 64, &s, e)) < 0 || strcmp(s, CK_TPM2_TOKEN_TYPE) != 0) {
		r = r < 0 ? r : cm_jv_fail(&v, e, -EINVAL, "must be \"" CK_TPM2_TOKEN_TYPE "\"");
		goto out;
	}
	cm_jv_need(&o, "keyslots", &v, e);
	if ((r = cm_jv_array(&v, 1, 1, &n, e)) < 0)
		goto out;
	x = cm_jv_elem(&v, 0);
	if ((r = cm_jv_str(&x, 1, 8, &s, e)) < 0 || strcmp(s, "0") != 0) {
		r = r < 0 ? r : cm_jv_fail(&x, e, -EINVAL, "must be \"0\"");
		goto out;
	}
	cm_jv_need(&o, "tpm2-pcr-bank", &v, e);
	if ((r = cm_jv_str(&v, 1, 16, &s, e)) < 0 || strcmp(s, "sha256") != 0) {
		r = r < 0 ? r : cm_jv_fail(&v, e, -EINVAL, "must be \"sha256\"");
		goto out;
	}
	cm_jv_need(&o, "tpm2-pcrs", &v, e);
	if ((r = pcr_array(&v, &t->pcrs, e)) < 0)
		goto out;
	cm_jv_need(&o, "tpm2-pcr-values", &v, e);
	size_t want = (size_t)__builtin_popcount(t->pcrs);
	if ((r = cm_jv_array(&v, want, want, &n, e)) < 0)
		goto out;
	for (int i = 0, k = 0; i < CK_TPM2_PCRS; i++)
		if (t->pcrs & (1u << i)) {
			x = cm_jv_elem(&v, (size_t)k++);
			if ((r = cm_jv_hex(&x, t->values[i], 32, e)) < 0)
				goto out;
		}
	cm_jv_need(&o, "tpm2-policy-hash", &v, e);
	if ((r = cm_jv_hex(&v, t->policy, 32, e)) < 0)
		goto out;
	cm_jv_need(&o, "tpm2-blob", &v, e);
	r = b64_decode(&v, t->blob, sizeof t->blob, &t->blob_len, e);
out:
	cm_json_release(&o);
	return r;
}

int ck_tpm2_token_encode(const struct ck_tpm2_token *t, char **json, struct cm_err *e)
{
	*json = NULL;
	if (!t->pcrs || t->blob_len == 0 || t->blob_len > CK_TPM2_BLOB_MAX)
		return cm_fail(e, -EINVAL, "cocoon-tpm2 token: nothing sealed");
	json_object *o = json_object_new_object(), *ks = json_object_new_array(), *pcrs = json_object_new_array(),
		    *vals = json_object_new_array();
	char b64[4 * ((CK_TPM2_BLOB_MAX + 2) / 3) + 1], hex[65];
	EVP_EncodeBlock((unsigned char *)b64, t->blob, (int)t->blob_len);
	json_object_array_add(ks, json_object_new_string("0"));
	for (int i = 0; i < CK_TPM2_PCRS; i++)
		if (t->pcrs & (1u << i)) {
			json_object_array_add(pcrs, json_object_new_int(i));
			cm_hex_encode(t->values[i], 32, hex, sizeof hex);
			json_object_array_add(vals, json_object_new_string(hex));
		}
	cm_hex_encode(t->policy, 32, hex, sizeof hex);
	json_object_object_add(o, "type", json_object_new_string(CK_TPM2_TOKEN_TYPE));
	json_object_object_add(o, "keyslots", ks);
	json_object_object_add(o, "tpm2-blob", json_object_new_string(b64));
	json_object_object_add(o, "tpm2-pcr-bank", json_object_new_string("sha256"));
	json_object_object_add(o, "tpm2-pcrs", pcrs);
	json_object_object_add(o, "tpm2-pcr-values", vals);
	json_object_object_add(o, "tpm2-policy-hash", json_object_new_string(hex));
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	*json = s ? strdup(s) : NULL;
	json_object_put(o);
	return *json ? 0 : cm_fail(e, -ENOMEM, "out of memory");
}
