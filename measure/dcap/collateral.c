/* The collateral bundle (collateral.h): loaded and verified once against a trust anchor:
 * issuer chains of Intel's shape, signatures over the exact JSON text, CRLs, and every
 * validity window, each failure under its check name. */
#include "measure/dcap/collateral_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "measure/core/digest.h"
#include "measure/core/json.h"


/* The string member key of the bundle, or NULL (the callers name what is missing). */
static const char *get_str(const struct cm_jv *o, const char *key, size_t *len)
{
	struct cm_jv v;
	const char *s;
	if (!cm_jv_get(o, key, &v) || cm_jv_str(&v, 0, BUNDLE_MAX, &s, NULL))
		return NULL;
	*len = strlen(s);
	return s;
}

static X509_CRL *crl_from_hex(const char *hex, size_t len)
{
	if (len == 0 || len % 2 || len / 2 > (1u << 20))
		return NULL;
	uint8_t *der = malloc(len / 2);
	size_t n;
	X509_CRL *crl = NULL;
	if (der && cm_hex_decode(hex, len, der, len / 2, &n) == 0) {
		const uint8_t *p = der;
		crl = d2i_X509_CRL(NULL, &p, (long)n);
		if (crl && p != der + n) {
			X509_CRL_free(crl);
			crl = NULL;
		}
	}
	free(der);
	ERR_clear_error();
	return crl;
}

static int add_window(struct cm_collateral *c, const char *nyv, const char *exp, const char *what, int64_t from,
		      int64_t to)
{
	if (c->n_windows >= WINDOWS_MAX) {
		c->windows_overflow = true;
		return -E2BIG;
	}
	c->windows[c->n_windows++] = (struct window){nyv, exp, what, from, to};
	return 0;
}

/* Every window recorded and readable. */
static int windows_check(const struct cm_collateral *c, struct cm_err *e)
{
	if (c->windows_overflow)
		return cm_fail_check(e, -EBADMSG, "collateral_format", "more than %d validity windows",
				     WINDOWS_MAX);
	for (int i = 0; i < c->n_windows; i++)
		if (c->windows[i].from == INT64_MIN || c->windows[i].to == INT64_MIN)
			return cm_fail_check(e, -EBADMSG, "collateral_format", "%s has an unreadable validity time",
					     c->windows[i].what);
	return 0;
}

static void add_cert_window(struct cm_collateral *c, const char *nyv, const char *exp, const char *what, X509 *x)
{
	(void)add_window(c, nyv, exp, what, cm_asn1_unix(X509_get0_notBefore(x)), cm_asn1_unix(X509_get0_notAfter(x)));
}

/* What signs a piece of collateral: the TCB signing certificate (TCB info, QE identity) or
 * a PCK CA (the PCK CRL). */
enum issuer_kind { ISSUER_TCB_SIGNER, ISSUER_PCK_CA };

/* An issuer chain of Intel's shape, exactly [issuer, root]: the root is the anchor, the issuer
 * verifies to it, and is a CA:FALSE "Intel SGX TCB Signing" certificate (ISSUER_TCB_SIGNER,
 * check "collateral_signer") or a CA:TRUE PCK Platform/Processor CA (ISSUER_PCK_CA, check
 * "pck_crl"). */
static int issuer_chain(struct cm_collateral *c, const char *pem, size_t len, const char *name,
			enum issuer_kind kind, X509 **signer, struct cm_err *e)
{
	STACK_OF(X509) *sk = cm_pem_chain_parse((const uint8_t *)pem, len, e);
	if (!sk)
		return cm_fail_check(e, -EBADMSG, "collateral_format", "%s: %s", name, e ? e->msg : "bad PEM");
	int rc = 0;
	const char *who = kind == ISSUER_TCB_SIGNER ? "collateral_signer" : "pck_crl";
	if (!cm_x509_last_is_anchor(sk, c->anchor)) {
		rc = cm_fail_check(e, -EACCES, "trust_anchor", "%s: root certificate is not the trust anchor",
				   name);
		goto out;
	}
	if (sk_X509_num(sk) != 2) {
		rc = cm_fail_check(e, -EACCES, who, "%s: expected exactly [issuer, root], got %d certificates",
				   name, sk_X509_num(sk));
		goto out;
	}
	X509 *x = sk_X509_value(sk, 0);
	if (kind == ISSUER_TCB_SIGNER && (cm_x509_is_ca(x) || !cm_x509_cn_is(x, TCB_SIGNER_CN))) {
		rc = cm_fail_check(e, -EACCES, who,
				   "%s: the signer is not a CA:FALSE \"" TCB_SIGNER_CN "\" certificate", name);
		goto out;
	}
	if (kind == ISSUER_PCK_CA && (!cm_x509_is_ca(x) || cm_x509_pck_ca_kind(x) == CM_PCK_CA_UNKNOWN)) {
		rc = cm_fail_check(e, -EACCES, who,
				   "%s: the CRL issuer is not a CA:TRUE PCK Platform or Processor CA", name);
		goto out;
	}
	int err = cm_x509_chain_verify(c->anchor, x, sk, c->crls);
	if (err) {
		rc = cm_fail_check(e, -EACCES,
				   err == X509_V_ERR_CERT_REVOKED ? "collateral_cert_revoked" : "collateral_chain",
				   "%s: certificate chain does not verify (%s)", name,
				   X509_verify_cert_error_string(err));
		goto out;
	}
	*signer = sk_X509_shift(sk);
out:
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

static int signed_json(struct cm_collateral *c, const struct cm_jv *o, const char *chain_key, const char *body_key,
		       const char *sig_key, const char *name, const char *sig_check, X509 **signer, char **body,
		       size_t *body_len, struct cm_err *e)
{
	size_t cl, bl, sl;
	const char *chain = get_str(o, chain_key, &cl), *b = get_str(o, body_key, &bl), *sig = get_str(o, sig_key, &sl);
	if (!chain || !b || !sig)
		return cm_fail_check(e, -EBADMSG, "collateral_format", "collateral bundle lacks %s, %s or %s",
				     chain_key, body_key, sig_key);
	uint8_t rs[64];
	if (cm_hex_decode_exact(sig, sl, rs, 64))
		return cm_fail_check(e, -EBADMSG, "collateral_format", "%s is not 64 bytes of hex", sig_key);
	int rc = issuer_chain(c, chain, cl, chain_key, ISSUER_TCB_SIGNER, signer, e);
	if (rc)
		return rc;
	if (cm_ecdsa_p256_verify(X509_get0_pubkey(*signer), (const uint8_t *)b, bl, rs) != 1)
		return cm_fail_check(e, -EACCES, sig_check,
				     "%s signature does not verify over the served JSON text", name);
	*body = malloc(bl + 1);
	if (!*body)
		return cm_fail_check(e, -ENOMEM, "collateral_format", "out of memory");
	memcpy(*body, b, bl);
	(*body)[bl] = 0;
	*body_len = bl;
	return 0;
}

static int crl_check(X509_CRL *crl, X509 *issuer, const char *name, const char *chk, struct cm_err *e)
{
	if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0)
		return cm_fail_check(e, -EACCES, chk, "%s issuer is not %s", name, "the expected CA");
	if (X509_CRL_verify(crl, X509_get0_pubkey(issuer)) != 1) {
		ERR_clear_error();
		return cm_fail_check(e, -EACCES, chk, "%s signature does not verify", name);
	}
	if (!X509_CRL_get0_nextUpdate(crl))
		return cm_fail_check(e, -EACCES, chk, "%s has no nextUpdate", name);
	return 0;
}

/* The CRL in the bundle member key (hex DER, named name in messages; key is also its check):
 * into *crl, checked against issuer, its validity window recorded under the checks nyv and
 * exp, and added to c->crls (made on first use). */
static int bundle_crl(struct cm_collateral *c, const struct cm_jv *o, const char *key, const char *name, X509 *issuer,
		      const char *nyv, const char *exp, X509_CRL **crl, struct cm_err *e)
{
	size_t n;
	const char *s = get_str(o, key, &n);
	if (!s || !(*crl = crl_from_hex(s, n)))
		return cm_fail_check(e, -EBADMSG, "collateral_format", "%s is missing or not hex DER", key);
	int rc = crl_check(*crl, issuer, name, key, e);
	if (rc)
		return rc;
	(void)add_window(c, nyv, exp, name, cm_asn1_unix(X509_CRL_get0_lastUpdate(*crl)),
			 cm_asn1_unix(X509_CRL_get0_nextUpdate(*crl)));
	if (!c->crls)
		c->crls = sk_X509_CRL_new_null();
	if (!c->crls || !sk_X509_CRL_push(c->crls, *crl) || !X509_CRL_up_ref(*crl))
		return cm_fail_check(e, -ENOMEM, "collateral_format", "out of memory");
	return 0;
}

int cm_collateral_load(const char *bundle, size_t len, X509 *anchor, struct cm_collateral **out,
		       struct cm_err *e)
{
	*out = NULL;
	if (len > BUNDLE_MAX)
		return cm_fail_check(e, -EFBIG, "collateral_format", "collateral bundle too large (%zu bytes)",
				     len);
	struct cm_collateral *c = calloc(1, sizeof(*c));
	if (!c)
		return cm_fail_check(e, -ENOMEM, "collateral_format", "out of memory");
	int rc;
	struct cm_jv o = {0};
	X509 *tcb_signer = NULL, *qe_signer = NULL;
	char *tcb_body = NULL, *qe_body = NULL;
	size_t tcb_len = 0, qe_len = 0, n;
	cm_sha256(bundle, len, c->id);
	c->anchor = anchor ? anchor : cm_intel_root_new();
	if (!c->anchor || (anchor && !X509_up_ref(anchor))) {
		rc = cm_fail_check(e, -ENOMEM, "collateral_format", "out of memory");
		goto fail;
	}
	c->anchor_key = X509_get0_pubkey(c->anchor);
	if (!c->anchor_key || cm_root_key_id(c->anchor, c->root_key_id)) {
		rc = cm_fail_check(e, -EINVAL, "trust_anchor", "trust anchor has no usable EC public key");
		goto fail;
	}
	if (X509_verify(c->anchor, c->anchor_key) != 1) { /* the chains' root copies equal it */
		ERR_clear_error();
		rc = cm_fail_check(e, -EACCES, "trust_anchor", "trust anchor's self-signature does not verify");
		goto fail;
	}
	add_cert_window(c, "root_ca_not_yet_valid", "root_ca_expired", "root CA certificate", c->anchor);

	struct cm_err je;
	if (cm_json_read(bundle, len, BUNDLE_MAX, "collateral bundle", &o, &je) ||
	    cm_jv_object(&o, NULL, &je)) {
		rc = cm_fail_check(e, -EBADMSG, "collateral_format", "%s", je.msg);
		goto fail;
	}

	/* First: every issuer chain must end in the trust anchor (a wrong root is reported as
	 * such, not as a CRL or signature failure). */
	static const char *const chains[] = {"tcb_info_issuer_chain", "qe_identity_issuer_chain",
					     "pck_crl_issuer_chain"};
	for (size_t i = 0; i < sizeof(chains) / sizeof(chains[0]); i++) {
		size_t pl;
		const char *pem = get_str(&o, chains[i], &pl);
		STACK_OF(X509) *sk = pem ? cm_pem_chain_parse((const uint8_t *)pem, pl, e) : NULL;
		bool anchored = sk && cm_x509_last_is_anchor(sk, c->anchor);
		bool parsed = sk != NULL;
		sk_X509_pop_free(sk, X509_free);
		if (!parsed) {
			rc = cm_fail_check(e, -EBADMSG, "collateral_format", "%s is missing or not a PEM chain",
					   chains[i]);
			goto fail;
		}
		if (!anchored) {
			rc = cm_fail_check(e, -EACCES, "trust_anchor", "%s does not end in the trust anchor",
					   chains[i]);
			goto fail;
		}
	}

	/* Root CA CRL: signed by the anchor. */
	if ((rc = bundle_crl(c, &o, "root_ca_crl", "root CA CRL", c->anchor, "root_ca_crl_not_yet_valid",
			     "root_ca_crl_expired", &c->root_crl, e)))
		goto fail;

	/* TCB info and QE identity: chains and signatures over the exact inner text. */
	if ((rc = signed_json(c, &o, "tcb_info_issuer_chain", "tcb_info", "tcb_info_signature", "TCB info",
			      "tcb_info_signature", &tcb_signer, &tcb_body, &tcb_len, e)))
		goto fail;
	add_cert_window(c, "tcb_signing_cert_not_yet_valid", "tcb_signing_cert_expired", "TCB signing certificate",
			tcb_signer);
	if ((rc = cm_tcb_info_parse(tcb_body, tcb_len, &c->tcb, e))) {
		cm_err_check(e, rc, "tcb_info_format");
		goto fail;
	}
	(void)add_window(c, "tcb_info_not_yet_valid", "tcb_info_expired", "TCB info", c->tcb.issue_date, c->tcb.next_update);
	if ((rc = signed_json(c, &o, "qe_identity_issuer_chain", "qe_identity", "qe_identity_signature", "QE identity",
			      "qe_identity_signature", &qe_signer, &qe_body, &qe_len, e)))
		goto fail;
	if (X509_cmp(qe_signer, tcb_signer) != 0)
		add_cert_window(c, "qe_identity_signing_cert_not_yet_valid", "qe_identity_signing_cert_expired",
				"QE identity signing certificate", qe_signer);
	if ((rc = cm_qe_identity_parse(qe_body, qe_len, &c->qe, e))) {
		cm_err_check(e, rc, "qe_identity_format");
		goto fail;
	}
	(void)add_window(c, "qe_identity_not_yet_valid", "qe_identity_expired", "QE identity", c->qe.issue_date,
		   c->qe.next_update);

	/* PCK CRL: signed by the PCK CA of pck_crl_issuer_chain, which chains to the anchor. */
	size_t cl;
	const char *chain = get_str(&o, "pck_crl_issuer_chain", &cl);
	if (!chain) {
		rc = cm_fail_check(e, -EBADMSG, "collateral_format",
				   "collateral bundle lacks pck_crl_issuer_chain");
		goto fail;
	}
	if ((rc = issuer_chain(c, chain, cl, "pck_crl_issuer_chain", ISSUER_PCK_CA, &c->pck_ca, e)))
		goto fail;
	add_cert_window(c, "pck_ca_cert_not_yet_valid", "pck_ca_cert_expired", "PCK CA certificate", c->pck_ca);
	if ((rc = bundle_crl(c, &o, "pck_crl", "PCK CRL", c->pck_ca, "pck_crl_not_yet_valid", "pck_crl_expired",
			     &c->pck_crl, e)))
		goto fail;
	c->ca = cm_x509_pck_ca_kind(c->pck_ca);

	const char *s = get_str(&o, "pck_certificate_chain", &n);
	if (s && n && !(c->ext_pck_chain = cm_pem_chain_parse((const uint8_t *)s, n, e))) {
		rc = cm_fail_check(e, -EBADMSG, "collateral_format", "pck_certificate_chain: %s",
				   e ? e->msg : "bad PEM");
		goto fail;
	}
	if ((rc = windows_check(c, e)))
		goto fail;
	*out = c;
	c = NULL;
fail:
	cm_json_release(&o);
	X509_free(tcb_signer);
	X509_free(qe_signer);
	free(tcb_body);
	free(qe_body);
	cm_collateral_free(c);
	return rc;
}

void cm_collateral_free(struct cm_collateral *c)
{
	if (!c)
		return;
	X509_free(c->anchor);
	X509_free(c->pck_ca);
	X509_CRL_free(c->root_crl);
	X509_CRL_free(c->pck_crl);
	sk_X509_CRL_pop_free(c->crls, X509_CRL_free);
	sk_X509_pop_free(c->ext_pck_chain, X509_free);
	cm_tcb_info_free(&c->tcb);
	cm_qe_identity_free(&c->qe);
	for (int i = 0; i < PCK_MEMO; i++) {
		EVP_PKEY_free(c->memo[i].info.key);
		EVP_PKEY_CTX_free(c->memo[i].info.verify_ctx);
	}
	for (int i = 0; i < AK_MEMO; i++)
		EVP_PKEY_CTX_free(c->ak[i].ctx);
	free(c);
}

int cm_collateral_window_check(const char *nyv, const char *exp, const char *what, int64_t from, int64_t to, int64_t t,
			struct cm_err *e)
{
	if (t < from)
		return cm_fail_check(e, -EKEYEXPIRED, nyv, "%s is not yet valid at %lld (valid from %lld)", what,
				     (long long)t, (long long)from);
	if (t > to)
		return cm_fail_check(e, -EKEYEXPIRED, exp, "%s expired before %lld (valid until %lld)", what,
				     (long long)t, (long long)to);
	return 0;
}

int cm_collateral_check_time(const struct cm_collateral *c, int64_t t, struct cm_err *e)
{
	for (int i = 0; i < c->n_windows; i++) {
		const struct window *w = &c->windows[i];
		int rc = cm_collateral_window_check(w->nyv, w->exp, w->what, w->from, w->to, t, e);
		if (rc)
			return rc;
	}
	return 0;
}

const struct cm_tcb_info *cm_collateral_tcb_info(const struct cm_collateral *c) { return &c->tcb; }
const struct cm_qe_identity *cm_collateral_qe_identity(const struct cm_collateral *c) { return &c->qe; }
enum cm_pck_ca cm_collateral_ca(const struct cm_collateral *c) { return c->ca; }
const uint8_t *cm_collateral_root_key_id(const struct cm_collateral *c) { return c->root_key_id; }

void cm_collateral_window(const struct cm_collateral *c, int64_t *from, int64_t *to)
{
	int64_t f = INT64_MIN, t = INT64_MAX;
	for (int i = 0; i < c->n_windows; i++) {
		if (c->windows[i].from > f)
			f = c->windows[i].from;
		if (c->windows[i].to < t)
			t = c->windows[i].to;
	}
	*from = f;
	*to = t;
}
