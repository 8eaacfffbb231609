/* The `tpm2` key provider: seal and unseal with tpm2-tss ESAPI (tpm2.h).
 *
 * THREAT STATEMENT: a TPM emulated by the host gives no confidentiality against the host
 * (it can set the PCRs and unseal). For platforms where the TPM is trusted only; refused
 * with the tdx backend unless the measured spec allows it (ck_tpm2_allowed). */
#include "guest/keys/tpm2.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <tss2/tss2_mu.h>

#include "guest/attest/tpm.h"
#include "measure/core/digest.h"

#define HKDF_SALT "cocoon tpm2 v1"

/* SHA-256 over the values of the PCRs in mask, ascending (TPM2_PolicyPCR's pcrDigest). */
static int pcr_digest(uint32_t mask, const uint8_t v[CK_TPM2_PCRS][32], TPM2B_DIGEST *d)
{
	struct cm_hash *h = cm_hash_new(CM_SHA256);
	bool ok = h != NULL;
	for (int i = 0; ok && i < CK_TPM2_PCRS; i++)
		if (mask & (1u << i))
			ok = cm_hash_update(h, v[i], 32) == 0;
	ok = ok && cm_hash_final(h, d->buffer) == 0;
	cm_hash_free(h);
	d->size = 32;
	return ok ? 0 : -EIO;
}

/* The policy digest of PolicyPCR(mask, values), computed by the TPM in a trial session. */
static int trial_policy(struct ca_tpm *t, uint32_t mask, const uint8_t v[CK_TPM2_PCRS][32], uint8_t out[32],
			struct cm_err *e)
{
	TPMT_SYM_DEF sym = {.algorithm = TPM2_ALG_NULL};
	ESYS_TR s = ESYS_TR_NONE;
	TPML_PCR_SELECTION sel;
	TPM2B_DIGEST d, *pd = NULL;
	ca_tpm_pcr_selection(mask, &sel);
	if (pcr_digest(mask, v, &d) < 0)
		return cm_fail(e, -EIO, "sha256 failed");
	TSS2_RC rc = Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
					   NULL, TPM2_SE_TRIAL, &sym, TPM2_ALG_SHA256, &s);
	if (rc)
		return ca_tpm_fail(e, rc, "TPM2_StartAuthSession (trial)");
	if ((rc = Esys_PolicyPCR(t->esys, s, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &d, &sel)) == 0 &&
	    (rc = Esys_PolicyGetDigest(t->esys, s, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pd)) == 0) {
		if (pd->size == 32)
			memcpy(out, pd->buffer, 32);
		else
			rc = TSS2_ESYS_RC_MALFORMED_RESPONSE;
	}
	Esys_Free(pd);
	ca_tpm_flush(t, &s);
	return rc ? ca_tpm_fail(e, rc, "TPM2_PolicyPCR (trial)") : 0;
}

int ck_tpm2_seal(const char *tcti, uint32_t pcrs, const uint8_t root[CK_TPM2_ROOT_LEN], struct ck_tpm2_token *tok,
		 struct cm_err *e)
{
	memset(tok, 0, sizeof *tok);
	if (!pcrs || (pcrs >> CK_TPM2_PCRS))
		return cm_fail(e, -EINVAL, "tpm2: no PCRs to seal to");
	struct ca_tpm t;
	int r = ca_tpm_connect(tcti, &t, e);
	if (r < 0)
		return r;
	ESYS_TR srk = ESYS_TR_NONE, hs = ESYS_TR_NONE;
	TPM2B_PRIVATE *priv = NULL;
	TPM2B_PUBLIC *pub = NULL;
	TPM2B_CREATION_DATA *cd = NULL;
	TPM2B_DIGEST *ch = NULL;
	TPMT_TK_CREATION *tk = NULL;
	TPM2B_SENSITIVE_CREATE sens = {.sensitive.data.size = CK_TPM2_ROOT_LEN};
	memcpy(sens.sensitive.data.buffer, root, CK_TPM2_ROOT_LEN);
	TPM2B_PUBLIC tmpl = {.publicArea = {
		.type = TPM2_ALG_KEYEDHASH,
		.nameAlg = TPM2_ALG_SHA256,
		/* policy only (no userWithAuth), never leaves this TPM, no dictionary lockout */
		.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_NODA,
		.authPolicy.size = 32,
		.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL,
	}};
	TPM2B_DATA outside = {0};
	TPML_PCR_SELECTION none = {0};
	tok->pcrs = pcrs;
	if ((r = ca_tpm_pcr_read(&t, pcrs, tok->values, e)) < 0 ||
	    (r = trial_policy(&t, pcrs, (const uint8_t(*)[32])tok->values, tok->policy, e)) < 0 ||
	    (r = ca_tpm_srk(&t, &srk, e)) < 0 ||
	    (r = ca_tpm_session(&t, srk, TPM2_SE_HMAC, TPMA_SESSION_DECRYPT | TPMA_SESSION_ENCRYPT, &hs, e)) < 0)
		goto out;
	memcpy(tmpl.publicArea.authPolicy.buffer, tok->policy, 32);
	TSS2_RC rc = Esys_Create(t.esys, srk, hs, ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl, &outside, &none, &priv, &pub,
				 &cd, &ch, &tk);
	if (rc) {
		r = ca_tpm_fail(e, rc, "TPM2_Create (sealed object)");
		goto out;
	}
	size_t off = 0;
	if ((rc = Tss2_MU_TPM2B_PRIVATE_Marshal(priv, tok->blob, sizeof tok->blob, &off)) ||
	    (rc = Tss2_MU_TPM2B_PUBLIC_Marshal(pub, tok->blob, sizeof tok->blob, &off))) {
		r = ca_tpm_fail(e, rc, "marshal the sealed object");
		goto out;
	}
	tok->blob_len = off;
out:
	OPENSSL_cleanse(&sens, sizeof sens);
	Esys_Free(priv);
	Esys_Free(pub);
	Esys_Free(cd);
	Esys_Free(ch);
	Esys_Free(tk);
	ca_tpm_flush(&t, &hs);
	ca_tpm_flush(&t, &srk);
	ca_tpm_disconnect(&t);
	if (r < 0)
		memset(tok, 0, sizeof *tok);
	return r;
}

/* The PCRs whose current values differ from the token's, named with both values. */
static int check_pcrs(struct ca_tpm *t, const struct ck_tpm2_token *tok, struct cm_err *e)
{
	uint8_t now[CK_TPM2_PCRS][32];
	int r = ca_tpm_pcr_read(t, tok->pcrs, now, e);
	if (r < 0)
		return r;
	uint32_t changed = 0;
	int first = -1;
	for (int i = 0; i < CK_TPM2_PCRS; i++)
		if ((tok->pcrs & (1u << i)) && memcmp(now[i], tok->values[i], 32) != 0) {
			changed |= 1u << i;
			if (first < 0)
				first = i;
		}
	if (!changed)
		return 0;
	char list[96], was[65], is[65];
	ck_tpm2_pcr_list(changed, list, sizeof list);
	cm_hex_encode(tok->values[first], 32, was, sizeof was);
	cm_hex_encode(now[first], 32, is, sizeof is);
	return cm_fail(e, -EACCES,
		       "tpm2: PCR %s changed since the secret was sealed, the TPM will not unseal it (PCR %d was %.16s..., "
		       "is %.16s...)",
		       list, first, was, is);
}

int ck_tpm2_unseal(const char *tcti, const struct ck_tpm2_token *tok, uint8_t root[CK_TPM2_ROOT_LEN], struct cm_err *e)
{
	TPM2B_PRIVATE priv = {0};
	TPM2B_PUBLIC pub = {0};
	size_t off = 0;
	if (tok->blob_len > sizeof tok->blob || Tss2_MU_TPM2B_PRIVATE_Unmarshal(tok->blob, tok->blob_len, &off, &priv) ||
	    Tss2_MU_TPM2B_PUBLIC_Unmarshal(tok->blob, tok->blob_len, &off, &pub) || off != tok->blob_len)
		return cm_fail(e, -EBADMSG, "tpm2: the sealed blob is malformed");
	if (pub.publicArea.type != TPM2_ALG_KEYEDHASH || pub.publicArea.authPolicy.size != 32 ||
	    memcmp(pub.publicArea.authPolicy.buffer, tok->policy, 32) != 0 ||
	    (pub.publicArea.objectAttributes & TPMA_OBJECT_USERWITHAUTH))
		return cm_fail(e, -EBADMSG, "tpm2: the sealed object is not bound to the token's PCR policy");
	struct ca_tpm t;
	int r = ca_tpm_connect(tcti, &t, e);
	if (r < 0)
		return r;
	ESYS_TR srk = ESYS_TR_NONE, obj = ESYS_TR_NONE, ps = ESYS_TR_NONE;
	TPM2B_SENSITIVE_DATA *out = NULL;
	TPML_PCR_SELECTION sel;
	TPM2B_DIGEST empty = {0};
	TSS2_RC rc;
	ca_tpm_pcr_selection(tok->pcrs, &sel);
	if ((r = check_pcrs(&t, tok, e)) < 0 || (r = ca_tpm_srk(&t, &srk, e)) < 0)
		goto out;
	if ((rc = Esys_Load(t.esys, srk, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &priv, &pub, &obj))) {
		ca_tpm_fail(e, rc, "TPM2_Load");
		r = cm_fail(e, -EBADMSG, "tpm2: the sealed blob does not load (not sealed by this TPM, or altered): %s",
			    e ? e->msg : "");
		goto out;
	}
	if ((r = ca_tpm_session(&t, srk, TPM2_SE_POLICY, TPMA_SESSION_ENCRYPT, &ps, e)) < 0)
		goto out;
	if ((rc = Esys_PolicyPCR(t.esys, ps, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &empty, &sel))) {
		r = ca_tpm_fail(e, rc, "TPM2_PolicyPCR");
		goto out;
	}
	if ((rc = Esys_Unseal(t.esys, obj, ps, ESYS_TR_NONE, ESYS_TR_NONE, &out))) {
		r = ca_tpm_fail(e, rc, "tpm2: TPM2_Unseal (PolicyPCR)");
		goto out;
	}
	if (out->size != CK_TPM2_ROOT_LEN) {
		r = cm_fail(e, -EBADMSG, "tpm2: the sealed secret is %u bytes, expected %d", out->size, CK_TPM2_ROOT_LEN);
		goto out;
	}
	memcpy(root, out->buffer, CK_TPM2_ROOT_LEN);
out:
	if (out) {
		OPENSSL_cleanse(out, sizeof *out);
		Esys_Free(out);
	}
	ca_tpm_flush(&t, &ps);
	ca_tpm_flush(&t, &obj);
	ca_tpm_flush(&t, &srk);
	ca_tpm_disconnect(&t);
	return r;
}

/* ---- the provider -------------------------------------------------------------------- */

struct tpm2_priv {
	uint8_t root[CK_TPM2_ROOT_LEN];
	char *new_token; /* JSON of a token sealed by this boot (blank volume) */
};

static int tpm2_open(struct ck_provider *p, struct cm_err *e)
{
	struct ck_tpm2_conf c;
	struct ck_tpm2_token *tok = NULL;
	int r = ck_tpm2_conf_load(p->env.spec_dir, &c, e);
	if (r < 0)
		return r;
	if ((r = ck_tpm2_allowed(&c, p->env.attest ? p->env.attest->ops->name : NULL, e)) < 0)
		return r;
	struct tpm2_priv *s = calloc(1, sizeof *s);
	if (!s || !(tok = calloc(1, sizeof *tok))) {
		free(s);
		return cm_fail(e, -ENOMEM, "out of memory");
	}
	const char *tcti = c.tcti[0] ? c.tcti : NULL;
	if (p->env.sealed_token) {
		r = ck_tpm2_token_parse(p->env.sealed_token, strlen(p->env.sealed_token), tok, e);
		if (r == 0)
			r = ck_tpm2_unseal(tcti, tok, s->root, e);
	} else if (RAND_bytes(s->root, sizeof s->root) != 1) {
		r = cm_fail(e, -EIO, "tpm2: no random bytes");
	} else if ((r = ck_tpm2_seal(tcti, c.pcrs, s->root, tok, e)) == 0) {
		r = ck_tpm2_token_encode(tok, &s->new_token, e);
	}
	free(tok);
	if (r < 0) {
		OPENSSL_cleanse(s->root, sizeof s->root);
		free(s->new_token);
		free(s);
		return r;
	}
	p->priv = s;
	return 0;
}

static int tpm2_derive(struct ck_provider *p, const char *key_name, uint8_t *out, size_t len, struct cm_err *e)
{
	struct tpm2_priv *s = p->priv;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	bool ok = ctx && EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) == 1 &&
		  EVP_PKEY_CTX_set1_hkdf_salt(ctx, (const unsigned char *)HKDF_SALT, sizeof HKDF_SALT - 1) == 1 &&
		  EVP_PKEY_CTX_set1_hkdf_key(ctx, s->root, sizeof s->root) == 1 &&
		  EVP_PKEY_CTX_add1_hkdf_info(ctx, (const unsigned char *)key_name, (int)strlen(key_name)) == 1 &&
		  EVP_PKEY_derive(ctx, out, &len) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok ? 0 : cm_fail(e, -EIO, "tpm2: HKDF failed");
}

static void tpm2_close(struct ck_provider *p)
{
	struct tpm2_priv *s = p->priv;
	if (!s)
		return;
	free(s->new_token);
	OPENSSL_cleanse(s, sizeof *s);
	free(s);
	p->priv = NULL;
}

static const char *tpm2_new_token(struct ck_provider *p)
{
	return p->priv ? ((struct tpm2_priv *)p->priv)->new_token : NULL;
}

const struct ck_ops ck_tpm2_ops = {
	.name = "tpm2",
	.open = tpm2_open,
	.derive = tpm2_derive,
	.close = tpm2_close,
	.new_token = tpm2_new_token,
};
