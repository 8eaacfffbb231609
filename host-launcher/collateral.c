#include "host-launcher/collateral.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "measure/core/json.h"
#include "measure/dcap/collateral.h"

void cl_collateral_conf_init(struct cl_collateral_conf *cc)
{
	memset(cc, 0, sizeof(*cc));
	snprintf(cc->url, sizeof(cc->url), "https://api.trustedservices.intel.com");
	snprintf(cc->root_crl_url, sizeof(cc->root_crl_url),
		 "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der");
	cc->refresh = 6 * 3600;
}

static int set_url(char *dst, size_t n, const char *key, const char *v, const char *where, struct cm_err *e)
{
	size_t l = strlen(v);
	if ((strncmp(v, "http://", 7) && strncmp(v, "https://", 8)) || l >= n)
		return cm_fail(e, -EINVAL, "%s: key %s: bad value '%s' (an http:// or https:// URL under %zu bytes)",
			       where, key, v, n);
	for (const char *p = v; *p; p++)
		if (!isgraph((unsigned char)*p))
			return cm_fail(e, -EINVAL, "%s: key %s: bad value (no spaces or control characters)", where,
				       key);
	memcpy(dst, v, l + 1);
	while (l > 0 && dst[l - 1] == '/')
		dst[--l] = '\0'; /* paths are appended with their own '/' */
	return 0;
}

static int parse_fmspc(const char *s, size_t n, uint8_t out[6])
{
	return n == 12 && cm_hex_decode_exact(s, 12, out, 6) == 0 ? 0 : -EINVAL;
}

static int add_fmspc(struct cl_collateral_conf *cc, const uint8_t f[6], const char *key, const char *where,
		     struct cm_err *e)
{
	for (size_t i = 0; i < cc->n_fmspc; i++)
		if (!memcmp(cc->fmspc[i], f, 6))
			return 0; /* listed twice: fetched once */
	if (cc->n_fmspc >= CL_COLL_MAX_FMSPCS)
		return cm_fail(e, -E2BIG, "%s: key %s: more than %d FMSPCs", where, key, CL_COLL_MAX_FMSPCS);
	memcpy(cc->fmspc[cc->n_fmspc++], f, 6);
	return 0;
}

int cl_collateral_key(struct cl_collateral_conf *cc, const char *key, const char *v, const char *where,
		      struct cm_err *e)
{
	if (!strcmp(key, "collateral_url"))
		return set_url(cc->url, sizeof(cc->url), key, v, where, e);
	if (!strcmp(key, "collateral_root_crl_url"))
		return set_url(cc->root_crl_url, sizeof(cc->root_crl_url), key, v, where, e);
	if (!strcmp(key, "collateral_root")) {
		if (!*v || strlen(v) >= sizeof(cc->root))
			return cm_fail(e, -EINVAL, "%s: key %s: bad value (a PEM file path)", where, key);
		snprintf(cc->root, sizeof(cc->root), "%s", v);
		return 0;
	}
	if (!strcmp(key, "collateral_refresh")) {
		uint64_t s;
		if (cm_parse_u64(v, 0, 7 * 86400, &s) || (s && s < 10))
			return cm_fail(e, -EINVAL, "%s: key %s: bad value '%s' (0 = never, or 10-604800 seconds)",
				       where, key, v);
		cc->refresh = (unsigned)s;
		return 0;
	}
	if (!strcmp(key, "collateral_fmspc")) {
		uint8_t f[6];
		if (parse_fmspc(v, strlen(v), f))
			return cm_fail(e, -EINVAL, "%s: key %s: bad value '%s' (12 hex digits)", where, key, v);
		if (cc->have_platform)
			memcpy(cc->fmspc[0], f, 6);
		else {
			if (cc->n_fmspc >= CL_COLL_MAX_FMSPCS)
				return cm_fail(e, -E2BIG, "%s: key %s: more than %d FMSPCs", where, key,
					       CL_COLL_MAX_FMSPCS);
			memmove(cc->fmspc[1], cc->fmspc[0], cc->n_fmspc * 6);
			memcpy(cc->fmspc[0], f, 6);
			cc->n_fmspc++;
			cc->have_platform = true;
		}
		return 0;
	}
	if (!strcmp(key, "collateral_peer_fmspcs")) {
		for (const char *p = v; *p;) {
			while (*p == ' ' || *p == ',')
				p++;
			size_t n = strcspn(p, ", ");
			if (!n)
				break;
			uint8_t f[6];
			if (parse_fmspc(p, n, f))
				return cm_fail(e, -EINVAL, "%s: key %s: bad FMSPC '%.*s' (12 hex digits)", where, key,
					       (int)(n < 40 ? n : 40), p);
			int r = add_fmspc(cc, f, key, where, e);
			if (r)
				return r;
			p += n;
		}
		return 0;
	}
	return cm_fail(e, -EINVAL, "%s: unknown key '%s'", where, key);
}

/* ---- PCS responses -> bundle ------------------------------------------------------- */

#define PCS_FAIL(fmt, ...) cm_fail_check(e, -EINVAL, "pcs_response", fmt, __VA_ARGS__)

/* Percent-decoding of an issuer-chain header (URL-encoded PEM); malloc'd. */
static int url_decode(const char *s, const char *what, char **out, struct cm_err *e)
{
	if (!s)
		return PCS_FAIL("%s: the issuer chain header is missing", what);
	size_t n = strlen(s);
	char *o = malloc(n + 1), *q = o;
	if (!o)
		return cm_fail(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			uint8_t b;
			if (i + 2 >= n || cm_hex_decode_exact(s + i + 1, 2, &b, 1)) {
				free(o);
				return PCS_FAIL("%s: bad percent-encoding in the issuer chain header", what);
			}
			*q++ = (char)b;
			i += 2;
		} else if (s[i] == '+') {
			*q++ = ' ';
		} else {
			*q++ = s[i];
		}
	}
	*q = '\0';
	if (memchr(o, '\0', (size_t)(q - o)) || !strstr(o, "-----BEGIN CERTIFICATE-----")) {
		free(o);
		return PCS_FAIL("%s: the issuer chain header holds no PEM certificate", what);
	}
	*out = o;
	return 0;
}

/* A signed PCS body {"<member>":<inner>,"signature":"<hex>"}: the inner text exactly as
 * served (what the signature covers) and the signature hex; pointers into body. */
static int split_signed(const char *body, size_t len, const char *member, const char *what, const char **inner,
			size_t *inner_len, const char **sig, size_t *sig_len, struct cm_err *e)
{
	struct cm_jv root, v;
	int r = cm_json_read(body, len, CL_COLL_BODY_MAX, what, &root, e);
	if (r)
		return cm_err_check(e, r, "pcs_response");
	const char *const keys[] = {member, "signature", NULL};
	const char *s = NULL;
	if (!(r = cm_jv_object(&root, keys, e)) && !(r = cm_jv_need(&root, member, &v, e)) &&
	    !(r = cm_jv_object(&v, NULL, e)) && !(r = cm_jv_need(&root, "signature", &v, e)))
		r = cm_jv_str(&v, 128, 128, &s, e);
	cm_json_release(&root);
	if (r)
		return cm_err_check(e, r, "pcs_response");
	/* The exact framing: the signed text is the member's value as served. */
	char head[64];
	int hl = snprintf(head, sizeof(head), "{\"%s\":", member);
	const char *tail = ",\"signature\":\"";
	size_t tl = strlen(tail);
	if (len < (size_t)hl + tl + 128 + 2 || memcmp(body, head, (size_t)hl) ||
	    memcmp(body + len - 2 - 128 - tl, tail, tl) || memcmp(body + len - 2, "\"}", 2))
		return PCS_FAIL("%s: not in the compact form {\"%s\":{...},\"signature\":\"...\"}", what, member);
	*inner = body + hl;
	*inner_len = len - 2 - 128 - tl - (size_t)hl;
	*sig = body + len - 2 - 128;
	*sig_len = 128;
	return 0;
}

/* A CRL served as DER or as hex DER: hex (malloc'd, NUL-terminated). */
static int crl_hex(const uint8_t *b, size_t n, const char *what, char **out, struct cm_err *e)
{
	if (!b || n == 0)
		return PCS_FAIL("%s: empty", what);
	size_t m = n;
	while (m > 0 && (b[m - 1] == '\n' || b[m - 1] == '\r'))
		m--;
	bool hex = m > 0 && m % 2 == 0;
	for (size_t i = 0; hex && i < m; i++)
		hex = isxdigit(b[i]) != 0;
	if (hex) {
		*out = strndup((const char *)b, m);
		return *out ? 0 : cm_fail(e, -ENOMEM, "out of memory");
	}
	if (b[0] != 0x30)
		return PCS_FAIL("%s: neither DER nor hex DER", what);
	*out = malloc(2 * n + 1);
	if (!*out)
		return cm_fail(e, -ENOMEM, "out of memory");
	cm_hex_encode(b, n, *out, 2 * n + 1);
	return 0;
}

int cl_collateral_bundle(const struct cl_pcs *r, char **json, size_t *len, struct cm_err *e)
{
	*json = NULL;
	const char *tcb, *tcb_sig, *qe, *qe_sig;
	size_t tcb_l, tcb_sl, qe_l, qe_sl;
	char *tcb_chain = NULL, *qe_chain = NULL, *crl_chain = NULL, *pck_crl = NULL, *root_crl = NULL;
	int rc = split_signed(r->tcb, r->tcb_len, "tcbInfo", "TCB info response", &tcb, &tcb_l, &tcb_sig, &tcb_sl, e);
	if (!rc)
		rc = split_signed(r->qe, r->qe_len, "enclaveIdentity", "QE identity response", &qe, &qe_l, &qe_sig,
				  &qe_sl, e);
	if (!rc)
		rc = url_decode(r->tcb_chain, "TCB info response", &tcb_chain, e);
	if (!rc)
		rc = url_decode(r->qe_chain, "QE identity response", &qe_chain, e);
	if (!rc)
		rc = url_decode(r->pck_crl_chain, "PCK CRL response", &crl_chain, e);
	if (!rc)
		rc = crl_hex(r->pck_crl, r->pck_crl_len, "PCK CRL response", &pck_crl, e);
	if (!rc)
		rc = crl_hex(r->root_crl, r->root_crl_len, "root CA CRL response", &root_crl, e);
	if (!rc) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "pck_crl_issuer_chain", json_object_new_string(crl_chain));
		json_object_object_add(o, "root_ca_crl", json_object_new_string(root_crl));
		json_object_object_add(o, "pck_crl", json_object_new_string(pck_crl));
		json_object_object_add(o, "tcb_info_issuer_chain", json_object_new_string(tcb_chain));
		json_object_object_add(o, "tcb_info", json_object_new_string_len(tcb, (int)tcb_l));
		json_object_object_add(o, "tcb_info_signature", json_object_new_string_len(tcb_sig, (int)tcb_sl));
		json_object_object_add(o, "qe_identity_issuer_chain", json_object_new_string(qe_chain));
		json_object_object_add(o, "qe_identity", json_object_new_string_len(qe, (int)qe_l));
		json_object_object_add(o, "qe_identity_signature", json_object_new_string_len(qe_sig, (int)qe_sl));
		const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								     JSON_C_TO_STRING_NOSLASHESCAPE);
		*json = s ? strdup(s) : NULL;
		json_object_put(o);
		if (!*json)
			rc = cm_fail(e, -ENOMEM, "out of memory");
		else
			*len = strlen(*json);
	}
	free(tcb_chain);
	free(qe_chain);
	free(crl_chain);
	free(pck_crl);
	free(root_crl);
	return rc;
}

/* ---- acceptance ---------------------------------------------------------------------- */

int cl_collateral_accept(const char *bundle, size_t len, const char *old, size_t old_len, const uint8_t fmspc[6],
			 X509 *anchor, int64_t now, struct cl_coll_info *info, struct cm_err *e)
{
	struct cm_collateral *c = NULL, *o = NULL;
	int r = cm_collateral_load(bundle, len, anchor, &c, e);
	if (r)
		return r;
	const struct cm_tcb_info *t = cm_collateral_tcb_info(c);
	const struct cm_qe_identity *q = cm_collateral_qe_identity(c);
	char want[13], got[13];
	cm_hex_encode(fmspc, 6, want, sizeof(want));
	cm_hex_encode(t->fmspc, 6, got, sizeof(got));
	if (memcmp(t->fmspc, fmspc, 6))
		r = cm_fail_check(e, -EINVAL, "collateral_fmspc", "the TCB info is for FMSPC %s, not %s", got, want);
	if (!r && (!t->tdx || !q->td))
		r = cm_fail_check(e, -EINVAL, "collateral_not_tdx", "the TCB info / QE identity is %s / %s, not TDX / TD_QE",
				  t->tdx ? "TDX" : "SGX", q->td ? "TD_QE" : "QE");
	if (!r)
		r = cm_collateral_check_time(c, now, e);
	if (!r && old && cm_collateral_load(old, old_len, anchor, &o, NULL) == 0) {
		const struct cm_tcb_info *ot = cm_collateral_tcb_info(o);
		const struct cm_qe_identity *oq = cm_collateral_qe_identity(o);
		if (t->issue_date < ot->issue_date || q->issue_date < oq->issue_date ||
		    t->eval_number < ot->eval_number || q->eval_number < oq->eval_number)
			r = cm_fail_check(e, -EINVAL, "collateral_older",
					  "older than the bundle in use (TCB info issued %lld, evaluation data %d; "
					  "in use: %lld, %d)",
					  (long long)t->issue_date, t->eval_number, (long long)ot->issue_date,
					  ot->eval_number);
	}
	if (!r && info) {
		info->tcb_issue_date = t->issue_date;
		info->qe_issue_date = q->issue_date;
		info->eval_number = t->eval_number;
		cm_collateral_window(c, &info->valid_from, &info->valid_to);
	}
	cm_collateral_free(o);
	cm_collateral_free(c);
	return r;
}

int cl_write_atomic(const char *dir, const char *name, const void *data, size_t len, struct cm_err *e)
{
	char dst[4096];
	if ((size_t)snprintf(dst, sizeof(dst), "%s/%s", dir, name) >= sizeof(dst))
		return cm_fail(e, -ENAMETOOLONG, "%s/%s: path too long", dir, name);
	return cm_write_file_atomic(dst, data, len, 0644, e);
}
