#include "guest/attest/simca.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "measure/core/digest.h"
#include "measure/dcap/pck.h"
#include "measure/dcap/quote.h"

static const uint8_t intel_qe_vendor[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
					    0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};
/* Intel's TD QE MRSIGNER (specs/attestation.md §2.3), so sim quotes look like real ones. */
static const uint8_t td_qe_mrsigner[32] = {0xdc, 0x9e, 0x2a, 0x7c, 0x6f, 0x94, 0x8f, 0x17, 0x47, 0x4e, 0x34,
					   0xa7, 0xfc, 0x43, 0xed, 0x03, 0x0f, 0x7c, 0x15, 0x63, 0xf1, 0xba,
					   0xbd, 0xdf, 0x63, 0x40, 0xc8, 0x2e, 0x0e, 0x54, 0xa8, 0xc5};

enum { SER_ROOT = 1, SER_PCK_CA = 2, SER_TCB = 3, SER_PCK = 4 };

struct ca_simca {
	EVP_PKEY *root_key, *pck_ca_key, *tcb_key, *pck_key, *ak;
	X509 *root, *pck_ca, *tcb, *pck;
	X509 *root_copy; /* re-issued root placed in chains (reissued_root_in_chains), else NULL */
	char *collateral, *sgx_collateral;
	size_t collateral_len, sgx_collateral_len;
	bool chain_in_bundle;
	uint8_t pck_comps[16];
	uint16_t pcesvn;
	uint8_t pceid[2];
};

/* ---- a growable string ------------------------------------------------------------------- */

struct sb {
	char *p;
	size_t len, cap;
	bool oom;
};

__attribute__((format(printf, 2, 3))) static void sb_printf(struct sb *b, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		size_t room = b->cap - b->len;
		int n = b->p ? vsnprintf(b->p + b->len, room, fmt, ap) : -2;
		va_end(ap);
		if (n >= 0 && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		if (n == -1 || b->oom)
			goto oom;
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (n > 0 && cap - b->len <= (size_t)n)
			cap *= 2;
		char *q = realloc(b->p, cap);
		if (!q)
			goto oom;
		b->p = q;
		b->cap = cap;
	}
oom:
	b->oom = true;
}

static void sb_hex(struct sb *b, const uint8_t *p, size_t n, bool upper)
{
	for (size_t i = 0; i < n; i++)
		sb_printf(b, upper ? "%02X" : "%02x", p[i]);
}

static void sb_time(struct sb *b, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char s[32];
	gmtime_r(&tt, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	sb_printf(b, "\"%s\"", s);
}

/* ---- defaults -------------------------------------------------------------------------------- */

void ca_simca_params_default(struct ca_simca_params *p, int64_t now)
{
	static const uint8_t comps[16] = {3, 3, 2, 2, 4, 1, 0, 5};
	memset(p, 0, sizeof(*p));
	int64_t from = now - 86400, to = now + 30 * 86400;
	p->cert_from = p->root_crl_from = p->pck_crl_from = p->tcb_from = p->qe_from = p->pck_from = from;
	p->cert_to = p->root_crl_to = p->pck_crl_to = p->tcb_to = p->qe_to = p->pck_to = to;
	static const uint8_t fmspc[6] = {0x00, 0x90, 0x6e, 0xd5, 0x00, 0x00};
	memcpy(p->fmspc, fmspc, 6);
	memcpy(p->tcb_fmspc, fmspc, 6);
	memcpy(p->pck_comps, comps, 16);
	p->pcesvn = 13;
	p->n_levels = 1;
	memcpy(p->levels[0].sgx, comps, 16);
	p->levels[0].pcesvn = 13;
	p->levels[0].tdx[0] = 7;
	p->levels[0].tdx[1] = 1;
	p->levels[0].tdx[2] = 3;
	p->levels[0].status = "UpToDate";
	p->n_modules = 1;
	p->modules[0].version = 1;
	p->modules[0].n_levels = 1;
	p->modules[0].levels[0] = (struct ca_simca_isv_level){4, "UpToDate", NULL};
	p->n_qe_levels = 1;
	p->qe_levels[0] = (struct ca_simca_isv_level){4, "UpToDate", NULL};
}

void ca_simca_td_default(struct ca_simca_td *td)
{
	memset(td, 0, sizeof(*td));
	td->tee_tcb_svn[0] = 7;
	td->tee_tcb_svn[1] = 1;
	td->tee_tcb_svn[2] = 3;
	memcpy(td->tee_tcb_svn2, td->tee_tcb_svn, 16);
	cm_sha384("cocoon-sim TDX module", 21, td->mr_seam);
	td->td_attributes[3] = 0x10; /* SEPT_VE_DISABLE */
	static const uint8_t xfam[8] = {0xe7, 0x02, 0x06, 0, 0, 0, 0, 0};
	memcpy(td->xfam, xfam, 8);
	td->qe_isvsvn = 4;
}

/* ---- keys, signatures, certificates --------------------------------------------------------- */

static EVP_PKEY *p256_new(void)
{
	return EVP_EC_gen("P-256");
}

static int pub_raw(EVP_PKEY *k, uint8_t xy[64])
{
	uint8_t pt[65];
	size_t n = 0;
	if (!EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof(pt), &n) || n != 65 ||
	    pt[0] != 0x04)
		return -EINVAL;
	memcpy(xy, pt + 1, 64);
	return 0;
}

/* ECDSA-P256/SHA-256, raw r||s. */
static int sign_raw(EVP_PKEY *k, const void *msg, size_t len, uint8_t rs[64])
{
	uint8_t der[80];
	size_t dl = sizeof(der);
	int rc = -EIO;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k) == 1 &&
	    EVP_DigestSign(md, der, &dl, msg, len) == 1) {
		const uint8_t *p = der;
		ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)dl);
		if (s && BN_bn2binpad(ECDSA_SIG_get0_r(s), rs, 32) == 32 &&
		    BN_bn2binpad(ECDSA_SIG_get0_s(s), rs + 32, 32) == 32)
			rc = 0;
		ECDSA_SIG_free(s);
	}
	EVP_MD_CTX_free(md);
	return rc;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	int ok = ext && X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -EIO;
}

/* Tiny DER writer for the SGX extension. */
struct der {
	uint8_t b[1024];
	size_t n;
	bool overflow;
};

static void der_put(struct der *d, const uint8_t *p, size_t n)
{
	if (d->n + n > sizeof(d->b)) {
		d->overflow = true;
		return;
	}
	memcpy(d->b + d->n, p, n);
	d->n += n;
}

static void der_tlv(struct der *d, uint8_t tag, const uint8_t *v, size_t n)
{
	uint8_t h[4] = {tag};
	size_t hl;
	if (n < 128) {
		h[1] = (uint8_t)n;
		hl = 2;
	} else if (n < 256) {
		h[1] = 0x81;
		h[2] = (uint8_t)n;
		hl = 3;
	} else {
		h[1] = 0x82;
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
		hl = 4;
	}
	der_put(d, h, hl);
	der_put(d, v, n);
}

static void der_uint(struct der *d, uint8_t tag, unsigned v)
{
	uint8_t be[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v}, b[5];
	size_t i = 0, n = 0;
	while (i < 3 && be[i] == 0)
		i++;
	if (be[i] & 0x80)
		b[n++] = 0; /* keep INTEGER non-negative */
	memcpy(b + n, be + i, 4 - i);
	der_tlv(d, tag, b, n + 4 - i);
}

/* SEQUENCE { OID 1.2.840.113741.1.13.1.<a>[.<b>], value } where value is already DER. */
static void der_item(struct der *d, unsigned a, unsigned b, const struct der *value)
{
	static const uint8_t base[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};
	uint8_t oid[sizeof(base) + 2];
	memcpy(oid, base, sizeof(base));
	size_t ol = sizeof(base);
	oid[ol++] = (uint8_t)a;
	if (b)
		oid[ol++] = (uint8_t)b;
	struct der s = {0};
	der_tlv(&s, 0x06, oid, ol);
	der_put(&s, value->b, value->n);
	der_tlv(d, 0x30, s.b, s.n);
	d->overflow |= s.overflow || value->overflow;
}

static int sgx_extension(X509 *x, const struct ca_simca_params *p)
{
	struct der top = {0}, v = {0}, tcb = {0}, seq = {0};
	uint8_t h[32], ppid[16], cpusvn[16];
	cm_sha256(p->fmspc, 6, h); /* PPID: arbitrary but deterministic */
	memcpy(ppid, h, 16);
	memcpy(cpusvn, p->pck_comps, 16); /* CPUSVN equal to the components, as in every sample */
	der_tlv(&v, 0x04, ppid, 16);
	der_item(&top, 1, 0, &v);
	for (unsigned i = 1; i <= 18; i++) {
		v.n = 0;
		if (i <= 16)
			der_uint(&v, 0x02, p->pck_comps[i - 1]);
		else if (i == 17)
			der_uint(&v, 0x02, p->pcesvn);
		else
			der_tlv(&v, 0x04, cpusvn, 16);
		der_item(&tcb, 2, i, &v);
	}
	seq.n = 0;
	der_tlv(&seq, 0x30, tcb.b, tcb.n);
	der_item(&top, 2, 0, &seq);
	v.n = 0;
	der_tlv(&v, 0x04, p->pceid, 2);
	der_item(&top, 3, 0, &v);
	v.n = 0;
	der_tlv(&v, 0x04, p->fmspc, 6);
	der_item(&top, 4, 0, &v);
	v.n = 0;
	der_uint(&v, 0x0a, 1); /* SGX type: Scalable */
	der_item(&top, 5, 0, &v);
	struct der out = {0};
	der_tlv(&out, 0x30, top.b, top.n);
	if (out.overflow || top.overflow || tcb.overflow || seq.overflow)
		return -EOVERFLOW;
	ASN1_OBJECT *obj = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;
	int rc = -EIO;
	if (obj && os && ASN1_OCTET_STRING_set(os, out.b, (int)out.n) &&
	    (ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os)) && X509_add_ext(x, ext, -1))
		rc = 0;
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
	return rc;
}

static X509 *make_cert(const char *cn, X509 *issuer, EVP_PKEY *issuer_key, EVP_PKEY *key, long serial, int64_t from,
		       int64_t to, int ca, const struct ca_simca_params *sgx)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	if (!x || !name || !X509_set_version(x, 2) || !ASN1_INTEGER_set(X509_get_serialNumber(x), serial) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"Cocoon Sim", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1, 0) ||
	    !X509_set_subject_name(x, name) ||
	    !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) ||
	    !ASN1_TIME_set(X509_getm_notBefore(x), (time_t)from) || !ASN1_TIME_set(X509_getm_notAfter(x), (time_t)to) ||
	    !X509_set_pubkey(x, key))
		goto fail;
	if (add_ext(x, issuer, NID_subject_key_identifier, "hash") ||
	    add_ext(x, issuer, NID_authority_key_identifier, "keyid:always") ||
	    add_ext(x, issuer, NID_basic_constraints,
		    ca == 2 ? "critical,CA:TRUE,pathlen:1" : ca ? "critical,CA:TRUE,pathlen:0" : "critical,CA:FALSE") ||
	    add_ext(x, issuer, NID_key_usage,
		    ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,nonRepudiation"))
		goto fail;
	if (sgx && sgx_extension(x, sgx))
		goto fail;
	if (!X509_sign(x, issuer_key, EVP_sha256()))
		goto fail;
	X509_NAME_free(name);
	return x;
fail:
	X509_NAME_free(name);
	X509_free(x);
	return NULL;
}

static char *crl_hex(X509 *issuer, EVP_PKEY *key, int64_t from, int64_t to, long revoked_serial, int64_t rev_time)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t1 = ASN1_TIME_set(NULL, (time_t)from), *t2 = ASN1_TIME_set(NULL, (time_t)to);
	char *hex = NULL;
	uint8_t *der = NULL;
	if (!crl || !t1 || !t2 || !X509_CRL_set_version(crl, 1) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) || !X509_CRL_set1_lastUpdate(crl, t1) ||
	    !X509_CRL_set1_nextUpdate(crl, t2))
		goto out;
	if (revoked_serial) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *s = ASN1_INTEGER_new();
		ASN1_TIME *rt = ASN1_TIME_set(NULL, (time_t)rev_time);
		int ok = r && s && rt && ASN1_INTEGER_set(s, revoked_serial) && X509_REVOKED_set_serialNumber(r, s) &&
			 X509_REVOKED_set_revocationDate(r, rt) && X509_CRL_add0_revoked(crl, r);
		ASN1_INTEGER_free(s);
		ASN1_TIME_free(rt);
		if (!ok) {
			X509_REVOKED_free(r);
			goto out;
		}
		X509_CRL_sort(crl);
	}
	if (!X509_CRL_sign(crl, key, EVP_sha256()))
		goto out;
	int n = i2d_X509_CRL(crl, &der);
	if (n <= 0)
		goto out;
	hex = malloc(2 * (size_t)n + 1);
	if (hex)
		cm_hex_encode(der, (size_t)n, hex, 2 * (size_t)n + 1);
out:
	OPENSSL_free(der);
	ASN1_TIME_free(t1);
	ASN1_TIME_free(t2);
	X509_CRL_free(crl);
	return hex;
}

static void pem_append(struct sb *b, X509 *x)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long n;
	if (!bio || !PEM_write_bio_X509(bio, x) || (n = BIO_get_mem_data(bio, &data)) <= 0)
		b->oom = true;
	else
		sb_printf(b, "%.*s", (int)n, data);
	BIO_free(bio);
}

static void json_advisories(struct sb *b, const char *adv)
{
	if (!adv || !*adv)
		return;
	sb_printf(b, ",\"advisoryIDs\":[");
	const char *p = adv;
	bool first = true;
	while (*p) {
		size_t n = strcspn(p, ",");
		sb_printf(b, "%s\"%.*s\"", first ? "" : ",", (int)n, p);
		first = false;
		p += n + (p[n] == ',');
	}
	sb_printf(b, "]");
}

static void json_isv_levels(struct sb *b, const struct ca_simca_isv_level *l, int n, int64_t date)
{
	sb_printf(b, "\"tcbLevels\":[");
	for (int i = 0; i < n; i++) {
		sb_printf(b, "%s{\"tcb\":{\"isvsvn\":%u},\"tcbDate\":", i ? "," : "", l[i].isvsvn);
		sb_time(b, date);
		sb_printf(b, ",\"tcbStatus\":\"%s\"", l[i].status);
		json_advisories(b, l[i].advisories);
		sb_printf(b, "}");
	}
	sb_printf(b, "]");
}

static void json_comps(struct sb *b, const char *key, const uint8_t c[16])
{
	sb_printf(b, "\"%s\":[", key);
	for (int i = 0; i < 16; i++)
		sb_printf(b, "%s{\"svn\":%u}", i ? "," : "", c[i]);
	sb_printf(b, "]");
}

static void tcb_info_json(struct sb *b, const struct ca_simca_params *p, bool sgx)
{
	static const uint8_t zero48[48];
	sb_printf(b, "{\"id\":\"%s\",\"version\":3,\"issueDate\":", sgx ? "SGX" : "TDX");
	sb_time(b, p->tcb_from);
	sb_printf(b, ",\"nextUpdate\":");
	sb_time(b, p->tcb_to);
	sb_printf(b, ",\"fmspc\":\"");
	sb_hex(b, p->tcb_fmspc, 6, true);
	sb_printf(b, "\",\"pceId\":\"");
	sb_hex(b, p->pceid, 2, true);
	sb_printf(b, "\",\"tcbType\":0,\"tcbEvaluationDataNumber\":17");
	if (!sgx) { /* TDX only: the module identities */
		sb_printf(b, ",\"tdxModule\":{\"mrsigner\":\"");
		sb_hex(b, zero48, 48, true);
		sb_printf(b, "\",\"attributes\":\"0000000000000000\",\"attributesMask\":\"FFFFFFFFFFFFFFFF\"},"
			     "\"tdxModuleIdentities\":[");
		for (int i = 0; i < p->n_modules; i++) {
			sb_printf(b, "%s{\"id\":\"TDX_%02X\",\"mrsigner\":\"", i ? "," : "", p->modules[i].version);
			sb_hex(b, zero48, 48, true);
			sb_printf(b, "\",\"attributes\":\"0000000000000000\",\"attributesMask\":\"FFFFFFFFFFFFFFFF\",");
			json_isv_levels(b, p->modules[i].levels, p->modules[i].n_levels, p->tcb_from);
			sb_printf(b, "}");
		}
		sb_printf(b, "]");
	}
	sb_printf(b, ",\"tcbLevels\":[");
	for (int i = 0; i < p->n_levels; i++) {
		const struct ca_simca_level *l = &p->levels[i];
		sb_printf(b, "%s{\"tcb\":{", i ? "," : "");
		json_comps(b, "sgxtcbcomponents", l->sgx);
		sb_printf(b, ",\"pcesvn\":%u", l->pcesvn);
		if (!sgx) {
			sb_printf(b, ",");
			json_comps(b, "tdxtcbcomponents", l->tdx);
		}
		sb_printf(b, "},\"tcbDate\":");
		sb_time(b, p->tcb_from);
		sb_printf(b, ",\"tcbStatus\":\"%s\"", l->status);
		json_advisories(b, l->advisories);
		sb_printf(b, "}");
	}
	sb_printf(b, "]}");
}

/* The TD QE (ISVPRODID 2) for TDX collateral; the SGX QE3 (ISVPRODID 1) for SGX. */
static void qe_identity_json(struct sb *b, const struct ca_simca_params *p, bool sgx)
{
	sb_printf(b, "{\"id\":\"%s\",\"version\":2,\"issueDate\":", sgx ? "QE" : "TD_QE");
	sb_time(b, p->qe_from);
	sb_printf(b, ",\"nextUpdate\":");
	sb_time(b, p->qe_to);
	sb_printf(b, ",\"tcbEvaluationDataNumber\":17,\"miscselect\":\"%s\",\"miscselectMask\":\"%s\",",
		  p->qe_miscselect ? p->qe_miscselect : "00000000",
		  p->qe_miscselect_mask ? p->qe_miscselect_mask : "FFFFFFFF");
	sb_printf(b, "\"attributes\":\"11000000000000000000000000000000\","
		     "\"attributesMask\":\"FBFFFFFFFFFFFFFF0000000000000000\",\"mrsigner\":\"");
	sb_hex(b, td_qe_mrsigner, 32, true);
	sb_printf(b, "\",\"isvprodid\":%d,", sgx ? 1 : 2);
	json_isv_levels(b, p->qe_levels, p->n_qe_levels, p->qe_from);
	sb_printf(b, "}");
}

static void add_str(json_object *o, const char *k, const char *v, size_t n)
{
	json_object_object_add(o, k, json_object_new_string_len(v, (int)n));
}

static int signed_body(json_object *o, const char *key, const char *sigkey, EVP_PKEY *k, struct sb *body)
{
	uint8_t rs[64];
	char hex[129];
	if (body->oom || sign_raw(k, body->p, body->len, rs))
		return -EIO;
	cm_hex_encode(rs, 64, hex, sizeof(hex));
	add_str(o, key, body->p, body->len);
	add_str(o, sigkey, hex, 128);
	return 0;
}

/* The root certificate as the chains carry it. */
static X509 *chain_root(const struct ca_simca *ca)
{
	return ca->root_copy ? ca->root_copy : ca->root;
}

static int build_bundle(struct ca_simca *ca, const struct ca_simca_params *p, bool sgx, char **out, size_t *out_len)
{
	int rc = -ENOMEM;
	struct sb pck_chain = {0}, tcb_chain = {0}, tcb = {0}, qe = {0};
	char *root_crl = crl_hex(ca->root, ca->root_key, p->root_crl_from, p->root_crl_to,
				 p->revoke_pck_ca ? SER_PCK_CA : 0, p->cert_from);
	X509 *crl_ca = p->pck_crl_by_tcb_signer ? ca->tcb : ca->pck_ca;
	char *pck_crl = crl_hex(crl_ca, p->pck_crl_by_tcb_signer ? ca->tcb_key : ca->pck_ca_key, p->pck_crl_from,
				p->pck_crl_to, p->revoke_pck ? SER_PCK : 0, p->cert_from);
	EVP_PKEY *signer_key = p->signer == CA_SIMCA_SIGNER_PCK_CA     ? ca->pck_ca_key
			       : p->signer == CA_SIMCA_SIGNER_PCK_LEAF ? ca->pck_key
								       : ca->tcb_key;
	json_object *o = json_object_new_object();
	pem_append(&pck_chain, crl_ca);
	pem_append(&pck_chain, chain_root(ca));
	if (p->signer == CA_SIMCA_SIGNER_PCK_LEAF)
		pem_append(&tcb_chain, ca->pck);
	pem_append(&tcb_chain, p->signer == CA_SIMCA_SIGNER_TCB ? ca->tcb : ca->pck_ca);
	pem_append(&tcb_chain, chain_root(ca));
	tcb_info_json(&tcb, p, sgx);
	qe_identity_json(&qe, p, sgx);
	if (!o || !root_crl || !pck_crl || pck_chain.oom || tcb_chain.oom || tcb.oom || qe.oom)
		goto out;
	add_str(o, "pck_crl_issuer_chain", pck_chain.p, pck_chain.len);
	add_str(o, "root_ca_crl", root_crl, strlen(root_crl));
	add_str(o, "pck_crl", pck_crl, strlen(pck_crl));
	add_str(o, "tcb_info_issuer_chain", tcb_chain.p, tcb_chain.len);
	if (signed_body(o, "tcb_info", "tcb_info_signature", signer_key, &tcb))
		goto out;
	add_str(o, "qe_identity_issuer_chain", tcb_chain.p, tcb_chain.len);
	if (signed_body(o, "qe_identity", "qe_identity_signature", signer_key, &qe))
		goto out;
	if (p->chain_in_bundle) {
		struct sb full = {0};
		pem_append(&full, ca->pck);
		pem_append(&full, ca->pck_ca);
		pem_append(&full, chain_root(ca));
		if (full.oom) {
			free(full.p);
			goto out;
		}
		add_str(o, "pck_certificate_chain", full.p, full.len);
		free(full.p);
	}
	size_t n;
	const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (!s || !(*out = malloc(n + 1)))
		goto out;
	memcpy(*out, s, n + 1);
	*out_len = n;
	rc = 0;
out:
	json_object_put(o);
	free(root_crl);
	free(pck_crl);
	free(pck_chain.p);
	free(tcb_chain.p);
	free(tcb.p);
	free(qe.p);
	return rc;
}

struct ca_simca *ca_simca_new(const struct ca_simca_params *p, struct cm_err *e)
{
	struct ca_simca *ca = calloc(1, sizeof(*ca));
	if (!ca) {
		cm_fail(e, -ENOMEM, "out of memory");
		return NULL;
	}
	if (!(ca->root_key = p256_new()) || !(ca->pck_ca_key = p256_new()) || !(ca->tcb_key = p256_new()) ||
	    !(ca->pck_key = p256_new()) || !(ca->ak = p256_new())) {
		cm_fail(e, -EIO, "sim CA: key generation failed");
		goto fail;
	}
	ca->root = make_cert("Cocoon Sim Root CA", NULL, ca->root_key, ca->root_key, SER_ROOT, p->cert_from, p->cert_to,
			     2, NULL);
	if (ca->root)
		ca->pck_ca = make_cert("Cocoon Sim PCK Platform CA", ca->root, ca->root_key, ca->pck_ca_key, SER_PCK_CA,
				       p->cert_from, p->cert_to, 1, NULL);
	if (ca->root)
		ca->tcb = make_cert("Intel SGX TCB Signing", ca->root, ca->root_key, ca->tcb_key, SER_TCB, p->cert_from,
				    p->cert_to, 0, NULL);
	if (ca->pck_ca)
		ca->pck = make_cert("Cocoon Sim PCK Certificate", ca->pck_ca, ca->pck_ca_key, ca->pck_key, SER_PCK,
				    p->pck_from, p->pck_to, 0, p);
	if (ca->root && p->reissued_root_in_chains)
		ca->root_copy = make_cert("Cocoon Sim Root CA", NULL, ca->root_key, ca->root_key, SER_ROOT + 100,
					  p->cert_from, p->cert_to, 2, NULL);
	if (!ca->root || !ca->pck_ca || !ca->tcb || !ca->pck || (p->reissued_root_in_chains && !ca->root_copy)) {
		cm_fail(e, -EIO, "sim CA: certificate generation failed");
		goto fail;
	}
	ca->chain_in_bundle = p->chain_in_bundle;
	memcpy(ca->pck_comps, p->pck_comps, 16);
	ca->pcesvn = p->pcesvn;
	memcpy(ca->pceid, p->pceid, 2);
	if (build_bundle(ca, p, false, &ca->collateral, &ca->collateral_len) ||
	    build_bundle(ca, p, true, &ca->sgx_collateral, &ca->sgx_collateral_len)) {
		cm_fail(e, -EIO, "sim CA: collateral generation failed");
		goto fail;
	}
	ERR_clear_error();
	return ca;
fail:
	ERR_clear_error();
	ca_simca_free(ca);
	return NULL;
}

int ca_simca_reissue_collateral(struct ca_simca *ca, const struct ca_simca_params *p, struct cm_err *e)
{
	if (!ca->root_key || !ca->pck_ca_key || !ca->tcb_key || !ca->tcb)
		return cm_fail(e, -EINVAL, "sim CA: a loaded CA cannot re-sign collateral");
	char *tdx = NULL, *sgx = NULL;
	size_t tdx_len = 0, sgx_len = 0;
	int rc = build_bundle(ca, p, false, &tdx, &tdx_len);
	rc = rc ? rc : build_bundle(ca, p, true, &sgx, &sgx_len);
	ERR_clear_error();
	if (rc) {
		free(tdx);
		free(sgx);
		return cm_fail(e, -EIO, "sim CA: collateral generation failed");
	}
	free(ca->collateral);
	free(ca->sgx_collateral);
	ca->collateral = tdx;
	ca->collateral_len = tdx_len;
	ca->sgx_collateral = sgx;
	ca->sgx_collateral_len = sgx_len;
	return 0;
}

void ca_simca_free(struct ca_simca *ca)
{
	if (!ca)
		return;
	EVP_PKEY_free(ca->root_key);
	EVP_PKEY_free(ca->pck_ca_key);
	EVP_PKEY_free(ca->tcb_key);
	EVP_PKEY_free(ca->pck_key);
	EVP_PKEY_free(ca->ak);
	X509_free(ca->root);
	X509_free(ca->root_copy);
	X509_free(ca->pck_ca);
	X509_free(ca->tcb);
	X509_free(ca->pck);
	free(ca->collateral);
	free(ca->sgx_collateral);
	free(ca);
}

X509 *ca_simca_root(const struct ca_simca *ca)
{
	return ca->root;
}

const char *ca_simca_collateral(const struct ca_simca *ca, size_t *len)
{
	if (len)
		*len = ca->collateral_len;
	return ca->collateral;
}

const char *ca_simca_sgx_collateral(const struct ca_simca *ca, size_t *len)
{
	if (len)
		*len = ca->sgx_collateral_len;
	return ca->sgx_collateral;
}

/* ---- quotes ------------------------------------------------------------------------------------ */

/* The QE part shared by the v3 layout and the v4/v5 type-6 wrapper: QE report (signed by
 * the PCK key, binding SHA-256(attestation key || auth data)), its signature, 32 bytes of
 * auth data and the certification data (type 5: the PEM chain, real quotes end it with
 * "\n\0"; type 3: encrypted PPID (384), CPUSVN (16), PCESVN (2), PCE-ID (2)). */
struct qe_part {
	struct sb chain;
	size_t pem_len, len;
};

static int qe_part_init(const struct ca_simca *ca, struct qe_part *qp, struct cm_err *e)
{
	memset(qp, 0, sizeof(*qp));
	pem_append(&qp->chain, ca->pck);
	pem_append(&qp->chain, ca->pck_ca);
	pem_append(&qp->chain, chain_root(ca));
	if (qp->chain.oom) {
		free(qp->chain.p);
		return cm_fail(e, -ENOMEM, "out of memory");
	}
	qp->pem_len = ca->chain_in_bundle ? 384 + 16 + 2 + 2 : qp->chain.len + 1;
	qp->len = 384 + 64 + 2 + 32 + 2 + 4 + qp->pem_len;
	return 0;
}

static int qe_part_write(const struct ca_simca *ca, struct qe_part *qp, uint8_t *rep, const uint8_t ak[64],
			 const uint8_t cpu_svn[16], uint32_t miscselect, uint16_t prod_id, uint16_t isv_svn)
{
	uint8_t *auth = rep + 384 + 64 + 2;
	memcpy(rep + 0, cpu_svn, 16);
	cm_put_le32(rep + 16, miscselect);
	rep[48] = 0x11;                             /* attributes: INIT | PROVISIONKEY-style QE flags */
	cm_sha256("cocoon-sim QE", 13, rep + 64);  /* mr_enclave */
	memcpy(rep + 128, td_qe_mrsigner, 32);
	cm_put_le16(rep + 256, prod_id);
	cm_put_le16(rep + 258, isv_svn);
	cm_put_le16(rep + 384 + 64, 32);
	for (int i = 0; i < 32; i++)
		auth[i] = (uint8_t)i;
	int rc = 0;
	struct cm_hash *hh = cm_hash_new(CM_SHA256);
	if (!hh || cm_hash_update(hh, ak, 64) || cm_hash_update(hh, auth, 32) || cm_hash_final(hh, rep + 320))
		rc = -EIO;
	cm_hash_free(hh);
	uint8_t *nested = auth + 32;
	cm_put_le16(nested, ca->chain_in_bundle ? 3 : 5);
	cm_put_le32(nested + 2, (uint32_t)qp->pem_len);
	if (ca->chain_in_bundle) {
		memset(nested + 6, 0x5c, 384); /* stands in for the RSA-3072 encrypted PPID */
		memcpy(nested + 6 + 384, ca->pck_comps, 16);
		cm_put_le16(nested + 6 + 400, ca->pcesvn);
		memcpy(nested + 6 + 402, ca->pceid, 2);
	} else {
		memcpy(nested + 6, qp->chain.p, qp->chain.len);
	}
	free(qp->chain.p);
	qp->chain.p = NULL;
	if (rc || sign_raw(ca->pck_key, rep, 384, rep + 384))
		return -EIO;
	return 0;
}

/* Sign quote[0:signed_len] with the attestation key into sig; finish. */
static int quote_finish(const struct ca_simca *ca, uint8_t *q, size_t signed_len, uint8_t *sig, int rc, size_t total,
			uint8_t **quote, size_t *len, struct cm_err *e)
{
	if (rc || sign_raw(ca->ak, q, signed_len, sig)) {
		free(q);
		ERR_clear_error();
		return cm_fail(e, -EIO, "sim CA: signing the quote failed");
	}
	*quote = q;
	*len = total;
	return 0;
}

int ca_simca_quote(const struct ca_simca *ca, const struct ca_simca_td *td, uint8_t **quote, size_t *len,
		   struct cm_err *e)
{
	struct qe_part qp;
	if (qe_part_init(ca, &qp, e))
		return e ? e->code : -ENOMEM;
	size_t body_off = td->td15 ? 54 : 48, body_len = td->td15 ? 648 : 584;
	size_t signed_len = body_off + body_len;
	size_t sig_len = 64 + 64 + 2 + 4 + qp.len;
	size_t total = signed_len + 4 + sig_len;
	uint8_t *q = calloc(1, total);
	if (!q) {
		free(qp.chain.p);
		return cm_fail(e, -ENOMEM, "out of memory");
	}
	/* header */
	cm_put_le16(q, td->td15 ? 5 : 4);
	cm_put_le16(q + 2, CM_ATT_KEY_ECDSA_P256);
	cm_put_le32(q + 4, CM_TEE_TDX);
	memcpy(q + 12, intel_qe_vendor, 16);
	if (td->td15) {
		cm_put_le16(q + 48, 3);
		cm_put_le32(q + 50, 648);
	}
	/* TD report body */
	uint8_t *b = q + body_off;
	memcpy(b + 0, td->tee_tcb_svn, 16);
	memcpy(b + 16, td->mr_seam, 48);
	memcpy(b + 120, td->td_attributes, 8);
	memcpy(b + 128, td->xfam, 8);
	memcpy(b + 136, td->mr_td, 48);
	memcpy(b + 184, td->mr_config_id, 48);
	memcpy(b + 232, td->mr_owner, 48);
	memcpy(b + 280, td->mr_owner_config, 48);
	memcpy(b + 328, td->rtmr, 4 * 48);
	memcpy(b + 520, td->report_data, 64);
	if (td->td15) {
		memcpy(b + 584, td->tee_tcb_svn2, 16);
		memcpy(b + 600, td->mr_servicetd, 48);
	}
	/* signature data: signature, attestation key, type 6 wrapping the QE part */
	uint8_t *s = q + signed_len;
	cm_put_le32(s, (uint32_t)sig_len);
	s += 4;
	int rc = pub_raw(ca->ak, s + 64);
	cm_put_le16(s + 128, 6);
	cm_put_le32(s + 130, (uint32_t)qp.len);
	rc = rc ? rc : qe_part_write(ca, &qp, s + 134, s + 64, td->tee_tcb_svn, td->qe_miscselect, 2, td->qe_isvsvn);
	free(qp.chain.p);
	return quote_finish(ca, q, signed_len, s, rc, total, quote, len, e);
}

void ca_simca_enclave_default(struct ca_simca_enclave *en)
{
	memset(en, 0, sizeof(*en));
	static const uint8_t cpusvn[16] = {3, 3, 2, 2, 4, 1, 0, 5};
	memcpy(en->cpu_svn, cpusvn, 16);
	en->attributes[0] = 0x05; /* INIT | MODE64BIT, not DEBUG */
	en->attributes[8] = 0x03; /* XFRM: x87 | SSE */
	cm_sha256("cocoon-sim seal enclave", 23, en->mr_enclave);
	cm_sha256("cocoon-sim enclave signer", 25, en->mr_signer);
	en->qe_isvsvn = 4;
}

int ca_simca_sgx_quote(const struct ca_simca *ca, const struct ca_simca_enclave *en, uint8_t **quote, size_t *len,
		       struct cm_err *e)
{
	struct qe_part qp;
	if (qe_part_init(ca, &qp, e))
		return e ? e->code : -ENOMEM;
	size_t signed_len = CM_QUOTE_HEADER_LEN + CM_SGX_REPORT_LEN;
	size_t sig_len = 64 + 64 + qp.len;
	size_t total = signed_len + 4 + sig_len;
	uint8_t *q = calloc(1, total);
	if (!q) {
		free(qp.chain.p);
		return cm_fail(e, -ENOMEM, "out of memory");
	}
	/* v3 header: QE SVN and PCE SVN in bytes 8..11 */
	cm_put_le16(q, 3);
	cm_put_le16(q + 2, CM_ATT_KEY_ECDSA_P256);
	cm_put_le32(q + 4, 0);
	cm_put_le16(q + 8, en->qe_isvsvn);
	cm_put_le16(q + 10, ca->pcesvn);
	memcpy(q + 12, intel_qe_vendor, 16);
	/* enclave report body (sgx_report_body_t) */
	uint8_t *b = q + CM_QUOTE_HEADER_LEN;
	memcpy(b + 0, en->cpu_svn, 16);
	memcpy(b + 48, en->attributes, 16);
	memcpy(b + 64, en->mr_enclave, 32);
	memcpy(b + 128, en->mr_signer, 32);
	cm_put_le16(b + 256, en->isv_prod_id);
	cm_put_le16(b + 258, en->isv_svn);
	memcpy(b + 320, en->report_data, 64);
	/* signature data: signature, attestation key, the QE part directly (v3) */
	uint8_t *s = q + signed_len;
	cm_put_le32(s, (uint32_t)sig_len);
	s += 4;
	int rc = pub_raw(ca->ak, s + 64);
	rc = rc ? rc : qe_part_write(ca, &qp, s + 128, s + 64, en->cpu_svn, 0, 1, en->qe_isvsvn);
	free(qp.chain.p);
	return quote_finish(ca, q, signed_len, s, rc, total, quote, len, e);
}

/* ---- persistence --------------------------------------------------------------------------------- */

static int write_file(const char *dir, const char *name, const void *data, size_t len, mode_t mode, struct cm_err *e)
{
	char path[512];
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return cm_fail(e, -ENAMETOOLONG, "sim CA: path too long");
	int rc = cm_write_file_atomic(path, data, len, mode, e);
	if (rc < 0)
		cm_err_prefix(e, "sim CA");
	return rc;
}

static int write_pem(const char *dir, const char *name, X509 **certs, int nc, EVP_PKEY **keys, int nk,
		     struct cm_err *e)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int ok = bio != NULL;
	for (int i = 0; ok && i < nc; i++)
		ok = PEM_write_bio_X509(bio, certs[i]);
	for (int i = 0; ok && i < nk; i++)
		ok = PEM_write_bio_PrivateKey(bio, keys[i], NULL, NULL, 0, NULL, NULL);
	char *data;
	long n = ok ? BIO_get_mem_data(bio, &data) : 0;
	int rc = n > 0 ? write_file(dir, name, data, (size_t)n, nk ? 0600 : 0644, e)
		       : cm_fail(e, -EIO, "sim CA: PEM encoding failed");
	if (bio)
		BIO_free(bio);
	return rc;
}

int ca_simca_save(const struct ca_simca *ca, const char *dir, struct cm_err *e)
{
	X509 *chain[3] = {ca->pck, ca->pck_ca, ca->root};
	EVP_PKEY *ca_keys[3] = {ca->root_key, ca->pck_ca_key, ca->tcb_key};
	EVP_PKEY *pk[1] = {ca->pck_key}, *ak[1] = {ca->ak};
	if (!ca->root_key)
		return cm_fail(e, -EINVAL, "sim CA: a loaded CA cannot be saved");
	int rc;
	if ((rc = write_pem(dir, "root.pem", chain + 2, 1, NULL, 0, e)) ||
	    (rc = write_pem(dir, "pck_chain.pem", chain, 3, NULL, 0, e)) ||
	    (rc = write_pem(dir, "ca_keys.pem", NULL, 0, ca_keys, 3, e)) ||
	    (rc = write_pem(dir, "pck_key.pem", NULL, 0, pk, 1, e)) ||
	    (rc = write_pem(dir, "ak_key.pem", NULL, 0, ak, 1, e)) ||
	    (rc = write_file(dir, "collateral.json", ca->collateral, ca->collateral_len, 0644, e)) ||
	    (rc = write_file(dir, "sgx_collateral.json", ca->sgx_collateral, ca->sgx_collateral_len, 0644, e)))
		return rc;
	return 0;
}

static EVP_PKEY *read_key(const char *dir, const char *name, struct cm_err *e)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "re");
	if (!f) {
		cm_fail(e, -errno, "sim CA: cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	ERR_clear_error();
	if (!k)
		cm_fail(e, -EBADMSG, "sim CA: %s holds no private key", path);
	return k;
}

struct ca_simca *ca_simca_load(const char *dir, struct cm_err *e)
{
	struct ca_simca *ca = calloc(1, sizeof(*ca));
	char path[512];
	uint8_t *buf = NULL;
	size_t len;
	STACK_OF(X509) *sk = NULL;
	if (!ca) {
		cm_fail(e, -ENOMEM, "out of memory");
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/pck_chain.pem", dir);
	if (cm_read_file(path, 1u << 20, &buf, &len, e))
		goto fail;
	sk = cm_pem_chain_parse(buf, len, e);
	free(buf);
	buf = NULL;
	if (!sk || sk_X509_num(sk) != 3) {
		cm_fail(e, -EBADMSG, "sim CA: %s must hold leaf, CA and root", path);
		goto fail;
	}
	ca->pck = sk_X509_shift(sk);
	ca->pck_ca = sk_X509_shift(sk);
	ca->root = sk_X509_shift(sk);
	snprintf(path, sizeof(path), "%s/collateral.json", dir);
	if (cm_read_file(path, 4u << 20, &buf, &len, e))
		goto fail;
	ca->collateral = (char *)buf;
	ca->collateral_len = len;
	buf = NULL;
	snprintf(path, sizeof(path), "%s/sgx_collateral.json", dir);
	if (cm_read_file(path, 4u << 20, &buf, &len, e))
		goto fail;
	ca->sgx_collateral = (char *)buf;
	ca->sgx_collateral_len = len;
	if (!(ca->pck_key = read_key(dir, "pck_key.pem", e)) || !(ca->ak = read_key(dir, "ak_key.pem", e)))
		goto fail;
	sk_X509_pop_free(sk, X509_free);
	return ca;
fail:
	sk_X509_pop_free(sk, X509_free);
	ca_simca_free(ca);
	return NULL;
}
