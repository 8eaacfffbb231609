#include "measure/dcap/collateral.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "measure/core/digest.h"
#include "measure/core/json.h"

#define PCK_MEMO 16
#define AK_MEMO 4
#define BUNDLE_MAX (4u << 20)
/* root CA, root CA CRL, TCB signing cert, TCB info, QE identity signing cert, QE identity,
 * PCK CA, PCK CRL */
#define WINDOWS_MAX 8
#define TCB_SIGNER_CN "Intel SGX TCB Signing"

/* One validity window, checked in table order. */
struct window {
	const char *nyv, *exp, *what;
	int64_t from, to;
};

struct pck_memo {
	bool used;
	uint8_t id[32]; /* SHA-256 of the PEM chain bytes */
	struct cm_pck_info info;
};

struct cm_collateral {
	uint8_t id[32]; /* SHA-256 of the bundle bytes */
	X509 *anchor;
	EVP_PKEY *anchor_key;
	uint8_t root_key_id[48];
	X509 *pck_ca;
	X509_CRL *root_crl, *pck_crl;
	STACK_OF(X509_CRL) *crls;
	STACK_OF(X509) *ext_pck_chain; /* optional pck_certificate_chain */
	enum cm_pck_ca ca;
	struct cm_tcb_info tcb;
	struct cm_qe_identity qe;
	int n_windows;
	bool windows_overflow; /* add_window found the table full: the load fails */
	struct window windows[WINDOWS_MAX];
	int memo_next;
	struct pck_memo memo[PCK_MEMO];
	int ak_next;
	struct {
		uint8_t xy[64];
		EVP_PKEY_CTX *ctx;
	} ak[AK_MEMO];
};

/* ---- small crypto helpers -------------------------------------------------------------- */

X509 *cm_x509_load_pem_file(const char *path, struct cm_err *e)
{
	uint8_t *buf;
	size_t len;
	if (cm_read_file(path, 1u << 20, &buf, &len, e))
		return NULL;
	STACK_OF(X509) *sk = cm_pem_chain_parse(buf, len, e);
	free(buf);
	if (!sk)
		return NULL;
	if (sk_X509_num(sk) != 1) {
		cm_fail(e, -EBADMSG, "%s: expected exactly one certificate", path);
		sk_X509_pop_free(sk, X509_free);
		return NULL;
	}
	X509 *x = sk_X509_shift(sk);
	sk_X509_free(sk);
	return x;
}

int cm_root_key_id(X509 *cert, uint8_t out[48])
{
	EVP_PKEY *k = X509_get0_pubkey(cert);
	uint8_t pt[133];
	size_t n = 0;
	if (!k || !EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof(pt), &n)) {
		ERR_clear_error();
		return -EINVAL;
	}
	return cm_sha384(pt, n, out);
}

EVP_PKEY *cm_p256_key_from_raw(const uint8_t xy[64])
{
	uint8_t pt[65];
	pt[0] = 0x04;
	memcpy(pt + 1, xy, 64);
	OSSL_PARAM params[] = {
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0),
		OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt)),
		OSSL_PARAM_END,
	};
	EVP_PKEY *k = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 || EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		k = NULL;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return k;
}

static EVP_PKEY_CTX *verify_ctx_new(EVP_PKEY *key)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
	if (ctx && EVP_PKEY_verify_init(ctx) != 1) {
		EVP_PKEY_CTX_free(ctx);
		ctx = NULL;
	}
	ERR_clear_error();
	return ctx;
}

int cm_ecdsa_p256_verify_ctx(EVP_PKEY_CTX *ctx, const uint8_t *msg, size_t len, const uint8_t sig[64])
{
	/* SHA-256 then EVP_PKEY_verify on the digest with a prepared context: measurably
	 * faster than EVP_DigestVerify (no fetch and context setup per call), see tests/bench. */
	uint8_t h[32], der[80], *p = der;
	int rc = -ENOMEM, n;
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, 32, NULL), *ss = BN_bin2bn(sig + 32, 32, NULL);
	if (!s || !r || !ss || !ECDSA_SIG_set0(s, r, ss)) {
		BN_free(r);
		BN_free(ss);
		goto out;
	}
	n = i2d_ECDSA_SIG(s, &p);
	if (n <= 0 || n > (int)sizeof(der) || cm_sha256(msg, len, h))
		goto out;
	rc = EVP_PKEY_verify(ctx, der, (size_t)n, h, sizeof(h)) == 1;
out:
	ECDSA_SIG_free(s);
	ERR_clear_error();
	return rc;
}

int cm_ecdsa_p256_verify(EVP_PKEY *key, const uint8_t *msg, size_t len, const uint8_t sig[64])
{
	EVP_PKEY_CTX *ctx = verify_ctx_new(key);
	if (!ctx)
		return -ENOMEM;
	int rc = cm_ecdsa_p256_verify_ctx(ctx, msg, len, sig);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

int cm_collateral_ak_verify(struct cm_collateral *c, const uint8_t ak[64], const uint8_t *msg, size_t len,
			    const uint8_t sig[64])
{
	for (int i = 0; i < AK_MEMO; i++)
		if (c->ak[i].ctx && memcmp(c->ak[i].xy, ak, 64) == 0)
			return cm_ecdsa_p256_verify_ctx(c->ak[i].ctx, msg, len, sig);
	EVP_PKEY *k = cm_p256_key_from_raw(ak);
	if (!k)
		return -EINVAL;
	EVP_PKEY_CTX *ctx = verify_ctx_new(k);
	EVP_PKEY_free(k); /* the context holds its own reference */
	if (!ctx)
		return -ENOMEM;
	int slot = c->ak_next;
	c->ak_next = (c->ak_next + 1) % AK_MEMO;
	EVP_PKEY_CTX_free(c->ak[slot].ctx);
	memcpy(c->ak[slot].xy, ak, 64);
	c->ak[slot].ctx = ctx;
	return cm_ecdsa_p256_verify_ctx(ctx, msg, len, sig);
}

const char *cm_pck_ca_name(enum cm_pck_ca ca)
{
	return ca == CM_PCK_CA_PLATFORM ? "platform" : ca == CM_PCK_CA_PROCESSOR ? "processor" : "unknown";
}

static int64_t asn1_unix(const ASN1_TIME *t)
{
	struct tm tm;
	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return INT64_MIN;
	return (int64_t)timegm(&tm);
}

/* ---- load -------------------------------------------------------------------------------- */


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
	(void)add_window(c, nyv, exp, what, asn1_unix(X509_get0_notBefore(x)), asn1_unix(X509_get0_notAfter(x)));
}

/* Verify leaf via untrusted to the anchor, with CRLs, ignoring time (windows are checked
 * separately with named results). Returns the X509_V_ERR code (0 = ok). */
static int chain_verify(X509 *anchor, X509 *leaf, STACK_OF(X509) *untrusted, STACK_OF(X509_CRL) *crls)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int err = X509_V_ERR_OUT_OF_MEM;
	if (st && ctx && X509_STORE_add_cert(st, anchor) && X509_STORE_CTX_init(ctx, st, leaf, untrusted)) {
		X509_STORE_CTX_set0_crls(ctx, crls);
		X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
		X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_NO_CHECK_TIME |
						       (crls ? X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL : 0));
		int ok = X509_verify_cert(ctx);
		err = ok == 1 ? 0 : X509_STORE_CTX_get_error(ctx);
		if (ok != 1 && err == 0)
			err = X509_V_ERR_UNSPECIFIED;
	}
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	ERR_clear_error();
	return err;
}

/* The root copy a chain carries must be the trust anchor itself, byte for byte (Intel's QVL
 * compares it with the trusted root), not merely a certificate with its key and subject. */
static bool is_anchor(X509 *x, X509 *anchor)
{
	uint8_t *a = NULL, *b = NULL;
	int na = i2d_X509(x, &a), nb = i2d_X509(anchor, &b);
	bool eq = na > 0 && na == nb && memcmp(a, b, (size_t)na) == 0;
	OPENSSL_free(a);
	OPENSSL_free(b);
	return eq;
}

/* The PCK CA copy in a quote's chain and the bundle's PCK CRL issuer: same key and subject
 * (both are verified to the anchor; Intel re-issues CA certificates with the same key). */
static bool same_key(X509 *a, X509 *b)
{
	return EVP_PKEY_eq(X509_get0_pubkey(a), X509_get0_pubkey(b)) == 1 &&
	       X509_NAME_cmp(X509_get_subject_name(a), X509_get_subject_name(b)) == 0;
}

static bool last_is_anchor(STACK_OF(X509) *sk, X509 *anchor)
{
	return sk_X509_num(sk) > 0 && is_anchor(sk_X509_value(sk, sk_X509_num(sk) - 1), anchor);
}

static bool is_ca(X509 *x)
{
	return (X509_get_extension_flags(x) & EXFLAG_CA) != 0;
}

static bool cn_is(X509 *x, const char *want)
{
	char cn[256] = "";
	int n = X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
	return n > 0 && (size_t)n == strlen(want) && strcmp(cn, want) == 0;
}

/* "... PCK Platform CA" / "... PCK Processor CA" (Intel's CNs; the sim CA's end the same way). */
static enum cm_pck_ca pck_ca_kind(X509 *x)
{
	char cn[256] = "";
	int n = X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
	static const char plat[] = "PCK Platform CA", proc[] = "PCK Processor CA";
	if (n >= (int)sizeof(plat) - 1 && strcmp(cn + n - (sizeof(plat) - 1), plat) == 0)
		return CM_PCK_CA_PLATFORM;
	if (n >= (int)sizeof(proc) - 1 && strcmp(cn + n - (sizeof(proc) - 1), proc) == 0)
		return CM_PCK_CA_PROCESSOR;
	return CM_PCK_CA_UNKNOWN;
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
	if (!last_is_anchor(sk, c->anchor)) {
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
	if (kind == ISSUER_TCB_SIGNER && (is_ca(x) || !cn_is(x, TCB_SIGNER_CN))) {
		rc = cm_fail_check(e, -EACCES, who,
				   "%s: the signer is not a CA:FALSE \"" TCB_SIGNER_CN "\" certificate", name);
		goto out;
	}
	if (kind == ISSUER_PCK_CA && (!is_ca(x) || pck_ca_kind(x) == CM_PCK_CA_UNKNOWN)) {
		rc = cm_fail_check(e, -EACCES, who,
				   "%s: the CRL issuer is not a CA:TRUE PCK Platform or Processor CA", name);
		goto out;
	}
	int err = chain_verify(c->anchor, x, sk, c->crls);
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
		bool anchored = sk && last_is_anchor(sk, c->anchor);
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
	const char *s = get_str(&o, "root_ca_crl", &n);
	if (!s || !(c->root_crl = crl_from_hex(s, n))) {
		rc = cm_fail_check(e, -EBADMSG, "collateral_format", "root_ca_crl is missing or not hex DER");
		goto fail;
	}
	if ((rc = crl_check(c->root_crl, c->anchor, "root CA CRL", "root_ca_crl", e)))
		goto fail;
	(void)add_window(c, "root_ca_crl_not_yet_valid", "root_ca_crl_expired", "root CA CRL",
		   asn1_unix(X509_CRL_get0_lastUpdate(c->root_crl)), asn1_unix(X509_CRL_get0_nextUpdate(c->root_crl)));
	c->crls = sk_X509_CRL_new_null();
	if (!c->crls || !sk_X509_CRL_push(c->crls, c->root_crl) || !X509_CRL_up_ref(c->root_crl)) {
		rc = cm_fail_check(e, -ENOMEM, "collateral_format", "out of memory");
		goto fail;
	}

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
	s = get_str(&o, "pck_crl", &n);
	if (!s || !(c->pck_crl = crl_from_hex(s, n))) {
		rc = cm_fail_check(e, -EBADMSG, "collateral_format", "pck_crl is missing or not hex DER");
		goto fail;
	}
	if ((rc = crl_check(c->pck_crl, c->pck_ca, "PCK CRL", "pck_crl", e)))
		goto fail;
	(void)add_window(c, "pck_crl_not_yet_valid", "pck_crl_expired", "PCK CRL",
		   asn1_unix(X509_CRL_get0_lastUpdate(c->pck_crl)), asn1_unix(X509_CRL_get0_nextUpdate(c->pck_crl)));
	if (!sk_X509_CRL_push(c->crls, c->pck_crl) || !X509_CRL_up_ref(c->pck_crl)) {
		rc = cm_fail_check(e, -ENOMEM, "collateral_format", "out of memory");
		goto fail;
	}
	c->ca = pck_ca_kind(c->pck_ca);

	s = get_str(&o, "pck_certificate_chain", &n);
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

static int window_check(const char *nyv, const char *exp, const char *what, int64_t from, int64_t to, int64_t t,
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
		int rc = window_check(w->nyv, w->exp, w->what, w->from, w->to, t, e);
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

/* ---- PCK chain ----------------------------------------------------------------------------- */

static int pck_verify(struct cm_collateral *c, const struct cm_quote *q, const uint8_t id[32], struct pck_memo *m,
		      struct cm_err *e)
{
	STACK_OF(X509) *sk = NULL;
	int rc = 0;
	if (q->cert_type == CM_CERT_PCK_CHAIN) {
		sk = cm_pem_chain_parse(q->cert_data, q->cert_data_len, e);
		if (!sk)
			return cm_fail_check(e, -EBADMSG, "pck_chain", "PCK chain in the quote: %s",
					     e ? e->msg : "malformed");
	} else if (c->ext_pck_chain) {
		sk = X509_chain_up_ref(c->ext_pck_chain);
		if (!sk)
			return cm_fail_check(e, -ENOMEM, "pck_chain", "out of memory");
	} else {
		return cm_fail_check(e, -EBADMSG, "pck_chain",
				     "quote carries certification data type %u and the bundle has no pck_certificate_chain",
				     q->cert_type);
	}
	/* Intel's shape, [PCK, PCK CA, root] (Intel's QVL reports a missing root) */
	int num = sk_X509_num(sk);
	if (num != 3) {
		rc = cm_fail_check(e, -EBADMSG, "pck_chain",
				   "PCK chain has %d certificate(s); need [PCK, PCK CA, root]%s", num,
				   num == 2 ? ": the root CA certificate is missing" : "");
		goto out;
	}
	X509 *leaf = sk_X509_value(sk, 0), *ca = sk_X509_value(sk, 1);
	if (!last_is_anchor(sk, c->anchor)) {
		rc = cm_fail_check(e, -EACCES, "pck_chain", "root of the PCK chain is not the trust anchor");
		goto out;
	}
	if (!same_key(ca, c->pck_ca) ||
	    X509_NAME_cmp(X509_get_issuer_name(leaf), X509_get_subject_name(c->pck_ca)) != 0) {
		rc = cm_fail_check(e, -EACCES, "pck_crl_issuer",
				   "the PCK certificate's issuer is not the PCK CRL issuer of the bundle");
		goto out;
	}
	int err = chain_verify(c->anchor, leaf, sk, c->crls);
	if (err == X509_V_ERR_CERT_REVOKED) {
		rc = cm_fail_check(e, -EACCES, "pck_revoked", "PCK certificate (or its CA) is revoked");
		goto out;
	}
	if (err) {
		rc = cm_fail_check(e, -EACCES, "pck_chain", "PCK chain does not verify: %s",
				   X509_verify_cert_error_string(err));
		goto out;
	}
	if ((rc = cm_pck_ext_from_cert(leaf, &m->info.ext, e))) {
		cm_err_check(e, rc, "pck_extension");
		goto out;
	}
	m->info.key = X509_get_pubkey(leaf);
	if (!m->info.key || EVP_PKEY_get_base_id(m->info.key) != EVP_PKEY_EC ||
	    !(m->info.verify_ctx = verify_ctx_new(m->info.key))) {
		EVP_PKEY_free(m->info.key);
		m->info.key = NULL;
		rc = cm_fail_check(e, -EBADMSG, "pck_chain", "PCK certificate has no usable EC public key");
		goto out;
	}
	m->info.leaf_from = asn1_unix(X509_get0_notBefore(leaf));
	m->info.leaf_to = asn1_unix(X509_get0_notAfter(leaf));
	m->info.ca_from = asn1_unix(X509_get0_notBefore(ca));
	m->info.ca_to = asn1_unix(X509_get0_notAfter(ca));
	memcpy(m->id, id, 32);
	m->used = true;
out:
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

int cm_collateral_pck(struct cm_collateral *c, const struct cm_quote *q, int64_t t, const struct cm_pck_info **out,
		      struct cm_err *e)
{
	uint8_t id[32];
	if (q->cert_type == CM_CERT_PCK_CHAIN)
		cm_sha256(q->cert_data, q->cert_data_len, id);
	else
		memset(id, 0, sizeof(id)); /* the bundle's own chain */
	struct pck_memo *m = NULL;
	for (int i = 0; i < PCK_MEMO && !m; i++)
		if (c->memo[i].used && memcmp(c->memo[i].id, id, 32) == 0)
			m = &c->memo[i];
	if (!m) {
		m = &c->memo[c->memo_next];
		c->memo_next = (c->memo_next + 1) % PCK_MEMO;
		EVP_PKEY_free(m->info.key);
		EVP_PKEY_CTX_free(m->info.verify_ctx);
		memset(m, 0, sizeof(*m));
		int rc = pck_verify(c, q, id, m, e);
		if (rc)
			return rc;
	}
	int rc = window_check("pck_cert_not_yet_valid", "pck_cert_expired", "PCK certificate", m->info.leaf_from,
			      m->info.leaf_to, t, e);
	if (!rc)
		rc = window_check("pck_ca_cert_not_yet_valid", "pck_ca_cert_expired", "PCK CA certificate",
				  m->info.ca_from, m->info.ca_to, t, e);
	if (rc)
		return rc;
	*out = &m->info;
	return 0;
}

/* ---- cache ----------------------------------------------------------------------------------- */

struct cache_entry {
	struct cm_collateral *c;
	uint8_t fmspc[6];
	enum cm_pck_ca ca;
	int64_t expires;
	uint64_t last_used;
};

struct cm_collateral_cache {
	size_t max;
	uint64_t tick;
	struct cm_cache_stats stats;
	struct cache_entry *e;
};

struct cm_collateral_cache *cm_collateral_cache_new(size_t max_entries)
{
	if (max_entries == 0)
		max_entries = 1;
	struct cm_collateral_cache *cache = calloc(1, sizeof(*cache));
	if (!cache)
		return NULL;
	cache->e = calloc(max_entries, sizeof(*cache->e));
	if (!cache->e) {
		free(cache);
		return NULL;
	}
	cache->max = max_entries;
	return cache;
}

void cm_collateral_cache_free(struct cm_collateral_cache *cache)
{
	if (!cache)
		return;
	for (size_t i = 0; i < cache->max; i++)
		cm_collateral_free(cache->e[i].c);
	free(cache->e);
	free(cache);
}

/* SHA-384(04||X||Y) of the Intel SGX Root CA key (specs/attestation.md §2.8). */
static const uint8_t intel_root_key_id[48] = {
	0x46, 0xe4, 0x03, 0xbd, 0x34, 0xf0, 0x5a, 0x3f, 0x28, 0x17, 0xab, 0x9b, 0xad, 0xca, 0xac, 0xc7,
	0xff, 0xc9, 0x8e, 0x0f, 0x26, 0x10, 0x08, 0xcd, 0x30, 0xda, 0xe9, 0x36, 0xca, 0xce, 0x18, 0xd5,
	0xdc, 0xf5, 0x8e, 0xef, 0x31, 0x46, 0x36, 0x13, 0xde, 0x15, 0x70, 0xd5, 0x16, 0x20, 0x09, 0x93};

static void drop(struct cm_collateral_cache *cache, struct cache_entry *en)
{
	cm_collateral_free(en->c);
	memset(en, 0, sizeof(*en));
	cache->stats.entries--;
}

int cm_collateral_cache_get(struct cm_collateral_cache *cache, const char *bundle, size_t len, X509 *anchor,
			    int64_t t, struct cm_collateral **out, struct cm_err *e)
{
	uint8_t id[32], rk[48];
	cm_sha256(bundle, len, id);
	if (anchor ? cm_root_key_id(anchor, rk) != 0 : (memcpy(rk, intel_root_key_id, 48), 0))
		return cm_fail_check(e, -EINVAL, "trust_anchor", "trust anchor has no usable EC public key");
	cache->tick++;
	for (size_t i = 0; i < cache->max; i++) {
		struct cache_entry *en = &cache->e[i];
		if (!en->c || memcmp(en->c->id, id, 32) != 0 || memcmp(en->c->root_key_id, rk, 48) != 0)
			continue;
		if (t > en->expires) {
			cache->stats.expired++;
			drop(cache, en);
			break;
		}
		cache->stats.hits++;
		en->last_used = cache->tick;
		*out = en->c;
		return 0;
	}
	cache->stats.misses++;
	struct cm_collateral *c;
	int rc = cm_collateral_load(bundle, len, anchor, &c, e);
	if (rc)
		return rc;
	struct cache_entry *slot = NULL;
	for (size_t i = 0; i < cache->max && !slot; i++)
		if (!cache->e[i].c)
			slot = &cache->e[i];
	if (!slot) {
		slot = &cache->e[0];
		for (size_t i = 1; i < cache->max; i++)
			if (cache->e[i].last_used < slot->last_used)
				slot = &cache->e[i];
		drop(cache, slot);
	}
	int64_t from;
	slot->c = c;
	memcpy(slot->fmspc, c->tcb.fmspc, 6);
	slot->ca = c->ca;
	cm_collateral_window(c, &from, &slot->expires);
	slot->last_used = cache->tick;
	cache->stats.entries++;
	*out = c;
	return 0;
}

struct cm_collateral *cm_collateral_cache_find(struct cm_collateral_cache *cache, const uint8_t fmspc[6],
					       enum cm_pck_ca ca, int64_t t)
{
	for (size_t i = 0; i < cache->max; i++) {
		struct cache_entry *en = &cache->e[i];
		if (en->c && memcmp(en->fmspc, fmspc, 6) == 0 && en->ca == ca && t <= en->expires) {
			en->last_used = ++cache->tick;
			return en->c;
		}
	}
	return NULL;
}

void cm_collateral_cache_stats(const struct cm_collateral_cache *cache, struct cm_cache_stats *out)
{
	*out = cache->stats;
}
