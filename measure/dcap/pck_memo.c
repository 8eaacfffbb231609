/* The PCK chain of a quote, verified once per bundle and remembered (PCK_MEMO entries, keyed
 * by the chain's bytes), and the attestation keys of the bundle's last quotes (AK_MEMO
 * prepared verification contexts). */
#include "measure/dcap/collateral_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "measure/core/digest.h"

int cm_collateral_ak_verify(struct cm_collateral *c, const uint8_t ak[64], const uint8_t *msg, size_t len,
			    const uint8_t sig[64])
{
	for (int i = 0; i < AK_MEMO; i++)
		if (c->ak[i].ctx && memcmp(c->ak[i].xy, ak, 64) == 0)
			return cm_ecdsa_p256_verify_ctx(c->ak[i].ctx, msg, len, sig);
	EVP_PKEY *k = cm_p256_key_from_raw(ak);
	if (!k)
		return -EINVAL;
	EVP_PKEY_CTX *ctx = cm_verify_ctx_new(k);
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
	if (!cm_x509_last_is_anchor(sk, c->anchor)) {
		rc = cm_fail_check(e, -EACCES, "pck_chain", "root of the PCK chain is not the trust anchor");
		goto out;
	}
	if (!cm_x509_same_key(ca, c->pck_ca) ||
	    X509_NAME_cmp(X509_get_issuer_name(leaf), X509_get_subject_name(c->pck_ca)) != 0) {
		rc = cm_fail_check(e, -EACCES, "pck_crl_issuer",
				   "the PCK certificate's issuer is not the PCK CRL issuer of the bundle");
		goto out;
	}
	int err = cm_x509_chain_verify(c->anchor, leaf, sk, c->crls);
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
	    !(m->info.verify_ctx = cm_verify_ctx_new(m->info.key))) {
		EVP_PKEY_free(m->info.key);
		m->info.key = NULL;
		rc = cm_fail_check(e, -EBADMSG, "pck_chain", "PCK certificate has no usable EC public key");
		goto out;
	}
	m->info.leaf_from = cm_asn1_unix(X509_get0_notBefore(leaf));
	m->info.leaf_to = cm_asn1_unix(X509_get0_notAfter(leaf));
	m->info.ca_from = cm_asn1_unix(X509_get0_notBefore(ca));
	m->info.ca_to = cm_asn1_unix(X509_get0_notAfter(ca));
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
	int rc = cm_collateral_window_check("pck_cert_not_yet_valid", "pck_cert_expired", "PCK certificate", m->info.leaf_from,
			      m->info.leaf_to, t, e);
	if (!rc)
		rc = cm_collateral_window_check("pck_ca_cert_not_yet_valid", "pck_ca_cert_expired", "PCK CA certificate",
				  m->info.ca_from, m->info.ca_to, t, e);
	if (rc)
		return rc;
	*out = &m->info;
	return 0;
}
