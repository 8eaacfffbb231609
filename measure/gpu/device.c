/* The GPU device chain, the report signature and the certificate claims (specs/gpu.md §2.3, §3). */
#include "measure/gpu/gpu_impl.h"

#include <errno.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "measure/core/der.h"
#include "measure/dcap/collateral.h"
#include "measure/dcap/pck.h"

X509 *cm_gpu_pem_cert(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	ERR_clear_error();
	return x;
}

int cm_gpu_chain_verify_at(X509 *root, X509 *leaf, STACK_OF(X509) *untrusted, int64_t at)
{
	return cm_x509_verify_chain_at(root, leaf, untrusted, NULL, &at, X509_V_FLAG_X509_STRICT);
}

bool cm_gpu_is_p384(EVP_PKEY *key)
{
	char group[32] = "";
	size_t n = 0;
	bool ok = key && EVP_PKEY_get_base_id(key) == EVP_PKEY_EC &&
		  EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &n) &&
		  strcmp(group, "secp384r1") == 0;
	ERR_clear_error();
	return ok;
}

int cm_gpu_p384_verify(EVP_PKEY *key, const uint8_t *msg, size_t len, const uint8_t sig[96])
{
	uint8_t der[112], *p = der;
	int rc = -ENOMEM, n;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, 48, NULL), *ss = BN_bin2bn(sig + 48, 48, NULL);
	if (!md || !s || !r || !ss || !ECDSA_SIG_set0(s, r, ss)) {
		BN_free(r);
		BN_free(ss);
		goto out;
	}
	n = i2d_ECDSA_SIG(s, &p);
	if (n <= 0 || n > (int)sizeof(der))
		goto out;
	if (EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, key) != 1) {
		rc = -EINVAL;
		goto out;
	}
	rc = EVP_DigestVerify(md, der, (size_t)n, msg, len) == 1;
out:
	ECDSA_SIG_free(s);
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return rc;
}

int cm_gpu_device_chain(STACK_OF(X509) *chain, X509 *root, int64_t now, struct cm_err *e)
{
	int n = sk_X509_num(chain);
	if (n != CM_GPU_CHAIN_LEN)
		return cm_fail_check(e, -EBADMSG, "gpu_chain", "gpu chain: %d certificates (want %d, leaf first)", n,
				     CM_GPU_CHAIN_LEN);
	uint8_t *a = NULL, *b = NULL;
	int na = i2d_X509(sk_X509_value(chain, n - 1), &a), nb = i2d_X509(root, &b);
	bool same = na > 0 && na == nb && memcmp(a, b, (size_t)na) == 0;
	OPENSSL_free(a);
	OPENSSL_free(b);
	if (!same)
		return cm_fail_check(e, -EACCES, "gpu_chain",
				     "gpu chain: the last certificate is not the pinned NVIDIA Device Identity CA");
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	for (int i = 1; untrusted && i < n - 1; i++)
		if (!sk_X509_push(untrusted, sk_X509_value(chain, i))) {
			sk_X509_free(untrusted);
			untrusted = NULL;
		}
	if (!untrusted)
		return cm_fail(e, -ENOMEM, "gpu chain: out of memory");
	int err = cm_gpu_chain_verify_at(root, sk_X509_value(chain, 0), untrusted, now);
	sk_X509_free(untrusted);
	if (err)
		return cm_fail_check(e, -EACCES, "gpu_chain", "gpu chain: does not verify to the pinned root (%s)",
				     X509_verify_cert_error_string(err));
	if (!cm_gpu_is_p384(X509_get0_pubkey(sk_X509_value(chain, 0))))
		return cm_fail_check(e, -EACCES, "gpu_chain", "gpu chain: the leaf key is not ECDSA P-384");
	return 0;
}

/* The value of the leaf's extension oid: 1 found, 0 absent, or a failure (twice). */
static int ext_value(X509 *leaf, const char *oid_txt, struct cm_der *out, struct cm_err *e)
{
	ASN1_OBJECT *oid = OBJ_txt2obj(oid_txt, 1);
	int i = oid ? X509_get_ext_by_OBJ(leaf, oid, -1) : -1;
	int again = i >= 0 ? X509_get_ext_by_OBJ(leaf, oid, i) : -1;
	ASN1_OBJECT_free(oid);
	if (i < 0)
		return 0;
	if (again >= 0)
		return cm_fail_check(e, -EBADMSG, "gpu_fwid", "gpu chain: the leaf has extension %s twice", oid_txt);
	const ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(X509_get_ext(leaf, i));
	*out = (struct cm_der){ASN1_STRING_get0_data(os), (size_t)ASN1_STRING_length(os)};
	return 1;
}

/* One DER SEQUENCE spanning in: its contents. */
static int whole_seq(struct cm_der in, struct cm_der *seq)
{
	uint8_t tag;
	return cm_der_next(&in, &tag, seq) == 0 && tag == CM_DER_SEQUENCE && in.len == 0 ? 0 : -EBADMSG;
}

/* Blackwell: the first FWID of the fwids [6] list of the DICE TcbInfo (TCG DICE Attestation
 * Architecture: SEQUENCE { vendor [0], model [1], ..., fwids [6] SEQUENCE OF SEQUENCE {
 * hashAlg OID, digest OCTET STRING } ... }). */
static int tcbinfo_fwid(struct cm_der v, uint8_t out[48])
{
	struct cm_der seq, f, fw, oid, dig;
	uint8_t tag;
	if (whole_seq(v, &seq))
		return -EBADMSG;
	while (seq.len) {
		if (cm_der_next(&seq, &tag, &f))
			return -EBADMSG;
		if (tag != 0xa6)
			continue;
		if (cm_der_next(&f, &tag, &fw) || tag != CM_DER_SEQUENCE || cm_der_next(&fw, &tag, &oid) ||
		    tag != CM_DER_OID || cm_der_next(&fw, &tag, &dig) || tag != CM_DER_OCTET_STRING || dig.len != 48)
			return -EBADMSG;
		memcpy(out, dig.p, 48);
		return 0;
	}
	return -EBADMSG;
}

int cm_gpu_leaf_fwid(X509 *leaf, uint8_t out[48], struct cm_err *e)
{
	struct cm_der v, seq;
	int rc = ext_value(leaf, "2.23.133.5.4.1", &v, e);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		/* Hopper: SEQUENCE { INTEGER, SubjectPublicKeyInfo, SEQUENCE { AlgorithmIdentifier,
		 * OCTET STRING (48) } }: one DER value spanning the extension, ending in the FWID. */
		if (whole_seq(v, &seq) || seq.len < 50 || seq.p[seq.len - 50] != CM_DER_OCTET_STRING ||
		    seq.p[seq.len - 49] != 48)
			return cm_fail_check(e, -EBADMSG, "gpu_fwid", "gpu chain: malformed FWID extension in the leaf");
		memcpy(out, seq.p + seq.len - 48, 48);
		return 0;
	}
	if ((rc = ext_value(leaf, "2.23.133.5.4.1.1", &v, e)) <= 0)
		return rc < 0 ? rc : -ENOENT;
	if (tcbinfo_fwid(v, out))
		return cm_fail_check(e, -EBADMSG, "gpu_fwid", "gpu chain: malformed DICE TcbInfo (FWID) extension in the leaf");
	return 0;
}

int cm_gpu_claims(STACK_OF(X509) *chain, struct cm_gpu_result *res, struct cm_err *e)
{
	X509 *leaf = sk_X509_value(chain, 0), *brom = sk_X509_value(chain, 1);
	int n = X509_NAME_get_text_by_NID(X509_get_subject_name(brom), NID_commonName, res->hwmodel,
					  sizeof(res->hwmodel));
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
	char *dec = bn ? BN_bn2dec(bn) : NULL;
	int rc = 0;
	if (n <= 0)
		rc = cm_fail_check(e, -EBADMSG, "gpu_chain", "gpu chain: certificate 1 has no common name");
	else if (!dec || strlen(dec) >= sizeof(res->ueid))
		rc = cm_fail_check(e, -EBADMSG, "gpu_chain", "gpu chain: unusable leaf serial number");
	else
		strcpy(res->ueid, dec);
	OPENSSL_free(dec);
	BN_free(bn);
	ERR_clear_error();
	return rc;
}
