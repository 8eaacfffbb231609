/* NVIDIA RIMs: SWID structure, XMLDSig (libxml2 C14N + OpenSSL), measurement comparison
 * (rim.h, specs/gpu.md §4). */
#include "measure/gpu/rim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "measure/core/digest.h"
#include "measure/gpu/bundle.h"
#include "measure/gpu/gpu_impl.h"

#define NS_SWID "http://standards.iso.org/iso/19770/-2/2015/schema.xsd"
#define NS_TCG "https://trustedcomputinggroup.org/resource/tcg-reference-integrity-manifest-rim-information-model/"
#define NS_SHA384 "http://www.w3.org/2001/04/xmlenc#sha384"
#define NS_DS "http://www.w3.org/2000/09/xmldsig#"
#define ALG_ECDSA_SHA384 "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"
#define ALG_SHA384 "http://www.w3.org/2001/04/xmldsig-more#sha384"
#define ALG_ENVELOPED "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

static const struct {
	const char *uri;
	int mode;
} c14n_algs[] = {
	{"http://www.w3.org/2006/12/xml-c14n11", XML_C14N_1_1},
	{"http://www.w3.org/2001/10/xml-exc-c14n#", XML_C14N_EXCLUSIVE_1_0},
	{"http://www.w3.org/TR/2001/REC-xml-c14n-20010315", XML_C14N_1_0},
};

static bool is_el(const xmlNode *n, const char *ns, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href && strcmp((const char *)n->ns->href, ns) == 0 &&
	       strcmp((const char *)n->name, name) == 0;
}

/* The next element sibling from n on (n included); text between elements must be whitespace. */
static xmlNode *next_el(xmlNode *n, bool *junk)
{
	for (; n; n = n->next) {
		if (n->type == XML_ELEMENT_NODE)
			return n;
		if (n->type == XML_TEXT_NODE && !xmlIsBlankNode(n))
			*junk = true;
	}
	return NULL;
}

/* The single element child of parent named ns:name, in order: *cur advances past it. */
static xmlNode *need_child(xmlNode **cur, const char *ns, const char *name, struct cm_err *e)
{
	bool junk = false;
	xmlNode *n = next_el(*cur, &junk);
	if (junk || !is_el(n, ns, name)) {
		cm_fail_check(e, -EBADMSG, "gpu_rim_signature", "gpu RIM: signature: expected %s here", name);
		return NULL;
	}
	*cur = n->next;
	return n;
}

static int attr_copy(xmlNode *n, const char *name, const char *ns, char *out, size_t outsz, bool required,
		     struct cm_err *e)
{
	xmlChar *v = ns ? xmlGetNsProp(n, (const xmlChar *)name, (const xmlChar *)ns) : xmlGetNoNsProp(n, (const xmlChar *)name);
	int rc = 0;
	if (!v)
		rc = required ? cm_fail(e, -EBADMSG, "gpu RIM: %s: missing %s", (const char *)n->name, name) : 0;
	else if (strlen((const char *)v) >= outsz)
		rc = cm_fail(e, -EBADMSG, "gpu RIM: %s: %s longer than %zu bytes", (const char *)n->name, name, outsz - 1);
	else
		strcpy(out, (const char *)v);
	if (!v && !required)
		out[0] = 0;
	xmlFree(v);
	return rc;
}

/* A decimal attribute (cm_parse_u64's digits only) up to max into an unsigned. */
static int parse_uint(const char *s, unsigned max, unsigned *out)
{
	uint64_t v;
	if (cm_parse_u64(s, 0, max, &v))
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

static int parse_resource(struct cm_gpu_rim *r, xmlNode *n, struct cm_err *e)
{
	char type[32], idx[8], active[8], alts[8], size[8];
	if (attr_copy(n, "type", NULL, type, sizeof(type), true, e))
		return e ? e->code : -EBADMSG;
	if (strcmp(type, "Measurement") != 0)
		return 0;
	if (attr_copy(n, "index", NULL, idx, sizeof(idx), true, e) ||
	    attr_copy(n, "active", NULL, active, sizeof(active), true, e) ||
	    attr_copy(n, "alternatives", NULL, alts, sizeof(alts), true, e) ||
	    attr_copy(n, "size", NULL, size, sizeof(size), true, e))
		return -EBADMSG;
	if (r->n_meas >= CM_GPU_RIM_MEAS_MAX)
		return cm_fail(e, -EBADMSG, "gpu RIM: more than %d measurements", CM_GPU_RIM_MEAS_MAX);
	struct cm_gpu_rim_meas *m = &r->meas[r->n_meas];
	if (parse_uint(idx, 253, &m->index))
		return cm_fail(e, -EBADMSG, "gpu RIM: measurement index '%s' (want 0..253)", idx);
	for (unsigned i = 0; i < r->n_meas; i++)
		if (r->meas[i].index == m->index)
			return cm_fail(e, -EBADMSG, "gpu RIM: measurement index %u appears twice", m->index);
	if (strcmp(active, "True") && strcmp(active, "False"))
		return cm_fail(e, -EBADMSG, "gpu RIM: measurement %u: active '%s' (want True or False)", m->index, active);
	m->active = active[0] == 'T';
	if (parse_uint(alts, CM_GPU_RIM_ALT_MAX, &m->n_alt) || m->n_alt == 0)
		return cm_fail(e, -EBADMSG, "gpu RIM: measurement %u: alternatives '%s' (want 1..%d)", m->index, alts,
			       CM_GPU_RIM_ALT_MAX);
	if (strcmp(size, "48") != 0)
		return cm_fail(e, -EBADMSG, "gpu RIM: measurement %u: size '%s' (want 48, SHA-384)", m->index, size);
	m->size = 48;
	for (unsigned k = 0; k < m->n_alt; k++) {
		char name[16], hex[100];
		snprintf(name, sizeof(name), "Hash%u", k);
		if (attr_copy(n, name, NS_SHA384, hex, sizeof(hex), true, e))
			return -EBADMSG;
		if (cm_hex_decode_exact(hex, strlen(hex), m->alt[k], 48))
			return cm_fail(e, -EBADMSG, "gpu RIM: measurement %u: %s is not 96 hex digits", m->index, name);
	}
	char extra[16];
	snprintf(extra, sizeof(extra), "Hash%u", m->n_alt);
	xmlChar *x = xmlGetNsProp(n, (const xmlChar *)extra, (const xmlChar *)NS_SHA384);
	xmlFree(x);
	if (x)
		return cm_fail(e, -EBADMSG, "gpu RIM: measurement %u: more hashes than its %u alternatives", m->index,
			       m->n_alt);
	r->n_meas++;
	return 0;
}

static int parse_payload(struct cm_gpu_rim *r, xmlNode *payload, struct cm_err *e)
{
	for (xmlNode *n = payload->children; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (!is_el(n, NS_SWID, "Resource"))
			return cm_fail(e, -EBADMSG, "gpu RIM: Payload: unexpected element %s", (const char *)n->name);
		int rc = parse_resource(r, n, e);
		if (rc)
			return rc;
	}
	if (r->n_meas == 0)
		return cm_fail(e, -EBADMSG, "gpu RIM: no measurements");
	return 0;
}

/* The base64 text of n into out: exactly want bytes, or at most want with got. */
static int b64_exact(const xmlNode *n, uint8_t *out, size_t want, size_t *got)
{
	xmlChar *txt = xmlNodeGetContent(n);
	size_t dn = 0;
	int rc = txt ? cm_base64_decode((const char *)txt, strlen((const char *)txt), true, out, want, &dn) : -EBADMSG;
	xmlFree(txt);
	if (rc || (!got && dn != want))
		return -EBADMSG;
	if (got)
		*got = dn;
	return 0;
}

static int alg_is(xmlNode *n, const char *want)
{
	xmlChar *a = xmlGetNoNsProp(n, (const xmlChar *)"Algorithm");
	int ok = a && strcmp((const char *)a, want) == 0;
	xmlFree(a);
	return ok;
}

static int c14n_alg(xmlNode *n)
{
	for (size_t i = 0; i < sizeof(c14n_algs) / sizeof(c14n_algs[0]); i++)
		if (alg_is(n, c14n_algs[i].uri))
			return c14n_algs[i].mode;
	return -1;
}

/* An element with no element children (algorithm parameters such as InclusiveNamespaces are
 * not supported). */
static bool leaf_el(xmlNode *n)
{
	for (xmlNode *c = n->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return false;
	return true;
}

#define SIGFAIL(...) cm_fail_check(e, -EBADMSG, "gpu_rim_signature", __VA_ARGS__)

static int parse_signature(struct cm_gpu_rim *r, xmlNode *sig, struct cm_err *e)
{
	xmlNode *cur = sig->children, *si, *sv, *ki;
	if (!(si = need_child(&cur, NS_DS, "SignedInfo", e)) || !(sv = need_child(&cur, NS_DS, "SignatureValue", e)) ||
	    !(ki = need_child(&cur, NS_DS, "KeyInfo", e)))
		return -EBADMSG;
	bool junk = false;
	if (next_el(cur, &junk) || junk)
		return SIGFAIL("gpu RIM: signature: unexpected content after KeyInfo");
	xmlNode *c = si->children, *cm, *sm, *ref;
	if (!(cm = need_child(&c, NS_DS, "CanonicalizationMethod", e)) ||
	    !(sm = need_child(&c, NS_DS, "SignatureMethod", e)) || !(ref = need_child(&c, NS_DS, "Reference", e)))
		return -EBADMSG;
	if (next_el(c, &junk) || junk)
		return SIGFAIL("gpu RIM: signature: SignedInfo holds more than one Reference");
	if ((r->c14n_mode = c14n_alg(cm)) < 0 || !leaf_el(cm))
		return SIGFAIL("gpu RIM: signature: unsupported CanonicalizationMethod");
	if (!alg_is(sm, ALG_ECDSA_SHA384) || !leaf_el(sm))
		return SIGFAIL("gpu RIM: signature: SignatureMethod is not ecdsa-sha384");
	xmlChar *uri = xmlGetNoNsProp(ref, (const xmlChar *)"URI");
	bool whole = uri && !uri[0];
	xmlFree(uri);
	if (!whole)
		return SIGFAIL("gpu RIM: signature: the Reference is not URI=\"\" (the whole document)");
	xmlNode *rc = ref->children, *tr, *dm, *dv;
	if (!(tr = need_child(&rc, NS_DS, "Transforms", e)) || !(dm = need_child(&rc, NS_DS, "DigestMethod", e)) ||
	    !(dv = need_child(&rc, NS_DS, "DigestValue", e)))
		return -EBADMSG;
	if (next_el(rc, &junk) || junk)
		return SIGFAIL("gpu RIM: signature: unexpected content in Reference");
	xmlNode *tc = tr->children, *t1, *t2;
	if (!(t1 = need_child(&tc, NS_DS, "Transform", e)) || !(t2 = need_child(&tc, NS_DS, "Transform", e)))
		return -EBADMSG;
	if (next_el(tc, &junk) || junk || !alg_is(t1, ALG_ENVELOPED) || !leaf_el(t1) ||
	    (r->ref_c14n_mode = c14n_alg(t2)) < 0 || !leaf_el(t2))
		return SIGFAIL("gpu RIM: signature: transforms are not enveloped-signature then a canonicalization");
	if (!alg_is(dm, ALG_SHA384) || !leaf_el(dm))
		return SIGFAIL("gpu RIM: signature: DigestMethod is not sha384");
	if (b64_exact(dv, r->digest, 48, NULL))
		return SIGFAIL("gpu RIM: signature: DigestValue is not 48 bytes of base64");
	if (b64_exact(sv, r->sigval, 96, NULL))
		return SIGFAIL("gpu RIM: signature: SignatureValue is not 96 bytes (r‖s) of base64");
	xmlNode *kc = ki->children, *xd;
	if (!(xd = need_child(&kc, NS_DS, "X509Data", e)))
		return -EBADMSG;
	if (next_el(kc, &junk) || junk)
		return SIGFAIL("gpu RIM: signature: unexpected content in KeyInfo");
	if (!(r->certs = sk_X509_new_null()))
		return cm_fail(e, -ENOMEM, "gpu RIM: out of memory");
	size_t der_max = 8192;
	uint8_t *der = malloc(der_max);
	if (!der)
		return cm_fail(e, -ENOMEM, "gpu RIM: out of memory");
	int ret = 0;
	for (xmlNode *x = next_el(xd->children, &junk); x && !ret; x = next_el(x->next, &junk)) {
		size_t n = 0;
		const uint8_t *p = der;
		X509 *cert = NULL;
		if (!is_el(x, NS_DS, "X509Certificate"))
			ret = SIGFAIL("gpu RIM: signature: X509Data holds %s", (const char *)x->name);
		else if (sk_X509_num(r->certs) >= CM_GPU_RIM_CERTS_MAX)
			ret = SIGFAIL("gpu RIM: signature: more than %d certificates", CM_GPU_RIM_CERTS_MAX);
		else if (b64_exact(x, der, der_max, &n) || !(cert = d2i_X509(NULL, &p, (long)n)) || p != der + n)
			ret = SIGFAIL("gpu RIM: signature: certificate %d is not base64 DER", sk_X509_num(r->certs));
		else if (!sk_X509_push(r->certs, cert))
			ret = cm_fail(e, -ENOMEM, "gpu RIM: out of memory");
		else
			cert = NULL;
		X509_free(cert);
	}
	free(der);
	ERR_clear_error();
	if (!ret && (junk || sk_X509_num(r->certs) == 0))
		ret = SIGFAIL("gpu RIM: signature: no signer certificate in KeyInfo");
	return ret;
}

static unsigned count_signatures(xmlNode *n)
{
	unsigned c = 0;
	for (; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			c += is_el(n, NS_DS, "Signature") + count_signatures(n->children);
	return c;
}

int cm_gpu_rim_parse(const uint8_t *xml, size_t len, struct cm_gpu_rim **out, struct cm_err *e)
{
	*out = NULL;
	if (len > CM_GPU_RIM_FILE_MAX || len > INT32_MAX)
		return cm_fail(e, -E2BIG, "gpu RIM: %zu bytes (at most %u)", len, CM_GPU_RIM_FILE_MAX);
	struct cm_gpu_rim *r = calloc(1, sizeof(*r));
	if (!r)
		return cm_fail(e, -ENOMEM, "gpu RIM: out of memory");
	int rc = cm_sha256(xml, len, r->sha256);
	if (rc) {
		cm_fail(e, rc, "gpu RIM: SHA-256 failed");
		goto fail;
	}
	rc = -EBADMSG;
	/* No DTD at all: refused before libxml2 reads one (entities), and again after parsing
	 * (other encodings). */
	if (memmem(xml, len, "<!DOCTYPE", 9) || memmem(xml, len, "<!ENTITY", 8)) {
		cm_fail(e, rc, "gpu RIM: has a DTD (refused)");
		goto fail;
	}
	xmlDoc *doc = xmlReadMemory((const char *)xml, (int)len, "rim.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	r->doc = doc;
	if (!doc) {
		const xmlError *xe = xmlGetLastError();
		const char *m = xe && xe->message ? xe->message : "?";
		cm_fail(e, rc, "gpu RIM: not well-formed XML (line %d: %.*s)", xe ? xe->line : 0, (int)strcspn(m, "\n"), m);
		xmlResetLastError();
		goto fail;
	}
	if (doc->intSubset || doc->extSubset) {
		cm_fail(e, rc, "gpu RIM: has a DTD (refused)");
		goto fail;
	}
	xmlNode *root = xmlDocGetRootElement(doc), *meta = NULL, *payload = NULL, *sig = NULL;
	if (!is_el(root, NS_SWID, "SoftwareIdentity")) {
		cm_fail(e, rc, "gpu RIM: the root element is not an ISO-19770-2 SoftwareIdentity");
		goto fail;
	}
	for (xmlNode *n = root->children; n; n = n->next) {
		xmlNode **slot = is_el(n, NS_SWID, "Meta")	   ? &meta
				 : is_el(n, NS_SWID, "Payload")  ? &payload
				 : is_el(n, NS_DS, "Signature") ? &sig
								  : NULL;
		if (!slot)
			continue;
		if (*slot) {
			cm_fail(e, rc, "gpu RIM: more than one %s", (const char *)n->name);
			goto fail;
		}
		*slot = n;
	}
	if (!meta || !payload || !sig) {
		cm_fail(e, rc, "gpu RIM: missing %s", !meta ? "Meta" : !payload ? "Payload" : "ds:Signature");
		goto fail;
	}
	if (count_signatures(root) != 1) {
		cm_fail(e, rc, "gpu RIM: a ds:Signature outside the root's enveloped one");
		goto fail;
	}
	if (attr_copy(meta, "colloquialVersion", NULL, r->colloquial_version, sizeof(r->colloquial_version), true, e) ||
	    attr_copy(meta, "product", NULL, r->product, sizeof(r->product), false, e) ||
	    attr_copy(meta, "edition", NULL, r->edition, sizeof(r->edition), false, e) ||
	    attr_copy(meta, "FirmwareManufacturerId", NS_TCG, r->manufacturer_id, sizeof(r->manufacturer_id), false, e) ||
	    parse_payload(r, payload, e) || parse_signature(r, sig, e))
		goto fail;
	*out = r;
	return 0;
fail:
	rc = e ? e->code : rc;
	cm_gpu_rim_free(r);
	return rc < 0 ? rc : -EBADMSG;
}

void cm_gpu_rim_free(struct cm_gpu_rim *r)
{
	if (!r)
		return;
	xmlFreeDoc(r->doc);
	sk_X509_pop_free(r->certs, X509_free);
	free(r);
}

/* ---- signature ---------------------------------------------------------------------------- */

/* The node set that expr selects (xmlXPathFreeObject), or NULL. */
static xmlXPathObject *node_set(xmlDoc *doc, const char *expr)
{
	xmlXPathContext *ctx = xmlXPathNewContext(doc);
	xmlXPathObject *obj = NULL;
	if (ctx && xmlXPathRegisterNs(ctx, (const xmlChar *)"ds", (const xmlChar *)NS_DS) == 0)
		obj = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
	xmlXPathFreeContext(ctx);
	if (obj && obj->type != XPATH_NODESET) {
		xmlXPathFreeObject(obj);
		obj = NULL;
	}
	return obj;
}

/* C14N of the node set that expr selects, into *txt (xmlFree). Returns the length or -1. */
static int c14n(xmlDoc *doc, const char *expr, int mode, xmlChar **txt)
{
	*txt = NULL;
	xmlXPathObject *obj = node_set(doc, expr);
	int n = obj ? xmlC14NDocDumpMemory(doc, obj->nodesetval, mode, NULL, 0, txt) : -1;
	xmlXPathFreeObject(obj);
	return n;
}

static int hash_write(void *ctx, const char *buf, int len)
{
	return len >= 0 && EVP_DigestUpdate(ctx, buf, (size_t)len) == 1 ? len : -1;
}

/* SHA-384 of the C14N of the node set that expr selects, streamed by xmlC14NDocSaveTo. */
static int c14n_sha384(xmlDoc *doc, const char *expr, int mode, uint8_t out[48])
{
	int rc = -1;
	unsigned int n = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	xmlXPathObject *obj = node_set(doc, expr);
	xmlOutputBuffer *buf = md && obj && EVP_DigestInit_ex(md, EVP_sha384(), NULL) == 1
				       ? xmlOutputBufferCreateIO(hash_write, NULL, md, NULL)
				       : NULL;
	if (buf) {
		int w = xmlC14NDocSaveTo(doc, obj->nodesetval, mode, NULL, 0, buf);
		if (xmlOutputBufferClose(buf) >= 0 && w >= 0 && EVP_DigestFinal_ex(md, out, &n) == 1 && n == 48)
			rc = 0;
	}
	xmlXPathFreeObject(obj);
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return rc;
}

int cm_gpu_rim_verify_signature(const struct cm_gpu_rim *r, struct cm_err *e)
{
	xmlChar *si_txt = NULL;
	uint8_t d[48];
	int rc;
	/* URI="" with enveloped-signature: the document without the Signature element. */
	if (c14n_sha384(r->doc, "(//. | //@* | //namespace::*)[not(ancestor-or-self::ds:Signature)]",
			r->ref_c14n_mode, d)) {
		rc = cm_fail(e, -ENOMEM, "gpu RIM: canonicalization of the document failed");
		goto out;
	}
	if (!cm_memeq_ct(d, r->digest, 48)) {
		rc = SIGFAIL("gpu RIM: the document's SHA-384 does not match the signed DigestValue (modified RIM)");
		goto out;
	}
	int n = c14n(r->doc, "(//. | //@* | //namespace::*)[ancestor-or-self::ds:SignedInfo]", r->c14n_mode, &si_txt);
	if (n < 0) {
		rc = cm_fail(e, -ENOMEM, "gpu RIM: canonicalization of SignedInfo failed");
		goto out;
	}
	EVP_PKEY *key = X509_get0_pubkey(sk_X509_value(r->certs, 0));
	if (!cm_gpu_is_p384(key)) {
		rc = SIGFAIL("gpu RIM: the signer key is not ECDSA P-384");
		goto out;
	}
	rc = cm_gpu_p384_verify(key, si_txt, (size_t)n, r->sigval);
	rc = rc == 1 ? 0 : rc == 0 ? SIGFAIL("gpu RIM: SignatureValue does not verify with the signer key")
				   : cm_fail(e, rc, "gpu RIM: signature verification failed");
out:
	xmlFree(si_txt);
	return rc;
}

int cm_gpu_rim_verify_chain(const struct cm_gpu_rim *r, X509 *root, int64_t at, struct cm_err *e)
{
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	for (int i = 1; untrusted && i < sk_X509_num(r->certs); i++)
		if (!sk_X509_push(untrusted, sk_X509_value(r->certs, i))) {
			sk_X509_free(untrusted);
			untrusted = NULL;
		}
	if (!untrusted)
		return cm_fail(e, -ENOMEM, "gpu RIM: out of memory");
	int err = cm_gpu_chain_verify_at(root, sk_X509_value(r->certs, 0), untrusted, at);
	sk_X509_free(untrusted);
	if (err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID)
		return cm_fail_check(e, -EACCES, "gpu_rim_expired",
				     "gpu RIM: signer chain not valid at %lld (%s)", (long long)at,
				     X509_verify_cert_error_string(err));
	if (err)
		return cm_fail_check(e, -EACCES, "gpu_rim_chain",
				     "gpu RIM: signer chain does not verify to the pinned NVIDIA CoRIM root (%s)",
				     X509_verify_cert_error_string(err));
	return 0;
}

/* ---- comparison ----------------------------------------------------------------------------- */

#define NVDEC0_INDEX 35

int cm_gpu_rim_compare(const struct cm_gpu_rim *rim, const struct cm_spdm_report *rep, int nvdec0_status,
		       struct cm_gpu_rim_cmp *c, struct cm_err *e)
{
	memset(c, 0, sizeof(*c));
	size_t ml = 0;
	for (unsigned i = 0; i < rim->n_meas; i++) {
		const struct cm_gpu_rim_meas *m = &rim->meas[i];
		if (!m->active)
			continue;
		if (m->index == NVDEC0_INDEX) {
			if (nvdec0_status == 0x55) {
				c->nvdec0_skipped = true;
				continue;
			}
			if (nvdec0_status != 0xaa)
				return cm_fail_check(e, -EBADMSG, "gpu_rim_measurements",
						     "gpu RIM: index 35 is active but NVDEC0_STATUS is %s", nvdec0_status < 0 ? "absent" : "neither 0xAA nor 0x55");
		}
		c->compared++;
		const struct cm_spdm_block *b = cm_spdm_block(rep, m->index + 1);
		bool ok = false;
		for (unsigned k = 0; b && b->size == m->size && k < m->n_alt && !ok; k++)
			ok = memcmp(b->value, m->alt[k], m->size) == 0;
		if (ok) {
			c->matched++;
			continue;
		}
		c->mismatched++;
		int w = snprintf(c->mismatches + ml, sizeof(c->mismatches) - ml, "%s%u", ml ? "," : "", m->index);
		if (w > 0 && (size_t)w < sizeof(c->mismatches) - ml)
			ml += (size_t)w;
	}
	if (c->compared == 0 && !c->nvdec0_skipped)
		return cm_fail_check(e, -EBADMSG, "gpu_rim_measurements", "gpu RIM: no active measurement");
	if (c->mismatched)
		return cm_fail_check(e, -EACCES, "gpu_rim_measurements",
				     "gpu RIM: %u of %u measurements do not match the report (RIM indices %s)",
				     c->mismatched, c->compared, c->mismatches);
	return 0;
}

int cm_gpu_rim_no_conflict(const struct cm_gpu_rim *driver, const struct cm_gpu_rim *vbios, struct cm_err *e)
{
	for (unsigned i = 0; i < driver->n_meas; i++)
		for (unsigned j = 0; driver->meas[i].active && j < vbios->n_meas; j++)
			if (vbios->meas[j].active && vbios->meas[j].index == driver->meas[i].index)
				return cm_fail_check(e, -EACCES, "gpu_rim_index_conflict",
						     "gpu RIM: index %u is active in both the driver and the VBIOS RIM",
						     driver->meas[i].index);
	return 0;
}
