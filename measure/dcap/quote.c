#include "measure/dcap/quote.h"

#include <errno.h>
#include <string.h>

static const uint8_t intel_qe_vendor_id[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
					       0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};

/* Field offsets (Intel's sgx_quote_header_t, sgx_report_body_t, sgx_report2_body(_v1_5)_t). */
enum quote_header_off {
	HDR_VERSION = 0, HDR_ATT_KEY_TYPE = 2, HDR_TEE_TYPE = 4, HDR_QE_SVN = 8, HDR_PCE_SVN = 10,
	HDR_QE_VENDOR_ID = 12, HDR_USER_DATA = 28,
};
enum sgx_report_off {
	SGX_CPU_SVN = 0, SGX_MISC_SELECT = 16, SGX_ISV_EXT_PROD_ID = 32, SGX_ATTRIBUTES = 48, SGX_MR_ENCLAVE = 64,
	SGX_MR_SIGNER = 128, SGX_CONFIG_ID = 192, SGX_ISV_PROD_ID = 256, SGX_ISV_SVN = 258, SGX_CONFIG_SVN = 260,
	SGX_ISV_FAMILY_ID = 304, SGX_REPORT_DATA = 320,
};
enum td_report_off {
	TD_TEE_TCB_SVN = 0, TD_MR_SEAM = 16, TD_MR_SIGNER_SEAM = 64, TD_SEAM_ATTRIBUTES = 112, TD_TD_ATTRIBUTES = 120,
	TD_XFAM = 128, TD_MR_TD = 136, TD_MR_CONFIG_ID = 184, TD_MR_OWNER = 232, TD_MR_OWNER_CONFIG = 280,
	TD_RTMR = 328, TD_REPORT_DATA = 520,
	TD15_TEE_TCB_SVN2 = 584, TD15_MR_SERVICETD = 600, /* TD 1.5 only */
};
_Static_assert(HDR_USER_DATA + 20 == CM_QUOTE_HEADER_LEN, "quote header layout");
_Static_assert(SGX_REPORT_DATA + 64 == CM_SGX_REPORT_LEN, "SGX report body layout");
_Static_assert(TD_REPORT_DATA + 64 == CM_TD10_BODY_LEN, "TD 1.0 report body layout");
_Static_assert(TD15_MR_SERVICETD + 48 == CM_TD15_BODY_LEN, "TD 1.5 report body layout");

/* A bounded cursor over [pos, end) of the quote; offsets in messages are absolute. */
struct cur {
	const uint8_t *buf;
	size_t pos, end;
	struct cm_err *e;
};

static int need(struct cur *c, size_t n, const char *field)
{
	if (c->end - c->pos < n)
		return cm_fail(c->e, -EBADMSG,
			       "quote truncated: %s needs %zu bytes at offset %zu, %zu left", field, n,
			       c->pos, c->end - c->pos);
	return 0;
}

static int take(struct cur *c, size_t n, const char *field, const uint8_t **out)
{
	int r = need(c, n, field);
	if (r)
		return r;
	*out = c->buf + c->pos;
	c->pos += n;
	return 0;
}

static int take16(struct cur *c, const char *field, uint16_t *v)
{
	const uint8_t *p;
	int r = take(c, 2, field, &p);
	if (!r)
		*v = cm_le16(p);
	return r;
}

static int take32(struct cur *c, const char *field, uint32_t *v)
{
	const uint8_t *p;
	int r = take(c, 4, field, &p);
	if (!r)
		*v = cm_le32(p);
	return r;
}

static void parse_sgx_report(const uint8_t *p, struct cm_sgx_report *r)
{
	memcpy(r->cpu_svn, p + SGX_CPU_SVN, 16);
	r->misc_select = cm_le32(p + SGX_MISC_SELECT);
	memcpy(r->isv_ext_prod_id, p + SGX_ISV_EXT_PROD_ID, 16);
	memcpy(r->attributes, p + SGX_ATTRIBUTES, 16);
	memcpy(r->mr_enclave, p + SGX_MR_ENCLAVE, 32);
	memcpy(r->mr_signer, p + SGX_MR_SIGNER, 32);
	memcpy(r->config_id, p + SGX_CONFIG_ID, 64);
	r->isv_prod_id = cm_le16(p + SGX_ISV_PROD_ID);
	r->isv_svn = cm_le16(p + SGX_ISV_SVN);
	r->config_svn = cm_le16(p + SGX_CONFIG_SVN);
	memcpy(r->isv_family_id, p + SGX_ISV_FAMILY_ID, 16);
	memcpy(r->report_data, p + SGX_REPORT_DATA, 64);
}

static void parse_td_report(const uint8_t *p, bool td15, struct cm_td_report *r)
{
	memcpy(r->tee_tcb_svn, p + TD_TEE_TCB_SVN, 16);
	memcpy(r->mr_seam, p + TD_MR_SEAM, 48);
	memcpy(r->mr_signer_seam, p + TD_MR_SIGNER_SEAM, 48);
	memcpy(r->seam_attributes, p + TD_SEAM_ATTRIBUTES, 8);
	memcpy(r->td_attributes, p + TD_TD_ATTRIBUTES, 8);
	memcpy(r->xfam, p + TD_XFAM, 8);
	memcpy(r->mr_td, p + TD_MR_TD, 48);
	memcpy(r->mr_config_id, p + TD_MR_CONFIG_ID, 48);
	memcpy(r->mr_owner, p + TD_MR_OWNER, 48);
	memcpy(r->mr_owner_config, p + TD_MR_OWNER_CONFIG, 48);
	memcpy(r->rtmr, p + TD_RTMR, 4 * 48);
	memcpy(r->report_data, p + TD_REPORT_DATA, 64);
	if (td15) {
		memcpy(r->tee_tcb_svn2, p + TD15_TEE_TCB_SVN2, 16);
		memcpy(r->mr_servicetd, p + TD15_MR_SERVICETD, 48);
	} else {
		memset(r->tee_tcb_svn2, 0, 16);
		memset(r->mr_servicetd, 0, 48);
	}
}

static int parse_header(struct cur *c, struct cm_quote *q)
{
	const uint8_t *h;
	int r = take(c, CM_QUOTE_HEADER_LEN, "header", &h);
	if (r)
		return r;
	q->version = cm_le16(h + HDR_VERSION);
	q->att_key_type = cm_le16(h + HDR_ATT_KEY_TYPE);
	q->tee_type = cm_le32(h + HDR_TEE_TYPE);
	q->qe_svn = cm_le16(h + HDR_QE_SVN);
	q->pce_svn = cm_le16(h + HDR_PCE_SVN);
	memcpy(q->qe_vendor_id, h + HDR_QE_VENDOR_ID, 16);
	memcpy(q->user_data, h + HDR_USER_DATA, 20);
	if (q->version < 3 || q->version > 5)
		return cm_fail(c->e, -EPROTONOSUPPORT,
			       "unsupported quote version %u at offset 0 (expected 3, 4 or 5)", q->version);
	if (q->att_key_type != CM_ATT_KEY_ECDSA_P256)
		return cm_fail(c->e, -EPROTONOSUPPORT,
			       "unsupported attestation key type %u at offset 2 (expected 2, ECDSA-256 P-256)",
			       q->att_key_type);
	if (q->tee_type != CM_TEE_SGX && q->tee_type != CM_TEE_TDX)
		return cm_fail(c->e, -EPROTONOSUPPORT,
			       "unknown TEE type 0x%08x at offset 4 (expected 0 SGX or 0x81 TDX)", q->tee_type);
	if (q->version == 3 && q->tee_type != CM_TEE_SGX)
		return cm_fail(c->e, -EBADMSG, "version 3 quote with TEE type 0x%08x at offset 4 (v3 is SGX only)",
			       q->tee_type);
	if (q->version >= 4 && (q->qe_svn || q->pce_svn))
		return cm_fail(c->e, -EBADMSG, "reserved header bytes 8..11 are not zero in a v%u quote",
			       q->version);
	if (memcmp(q->qe_vendor_id, intel_qe_vendor_id, 16) != 0)
		return cm_fail(c->e, -EBADMSG, "QE vendor ID at offset 12 is not Intel's");
	return 0;
}

static int parse_body(struct cur *c, struct cm_quote *q)
{
	int r;
	if (q->version == 5) {
		uint16_t type;
		uint32_t size;
		size_t at = c->pos;
		if ((r = take16(c, "v5 body descriptor type", &type)) || (r = take32(c, "v5 body descriptor size", &size)))
			return r;
		size_t expect = type == CM_BODY_SGX ? CM_SGX_REPORT_LEN
			      : type == CM_BODY_TD10 ? CM_TD10_BODY_LEN
			      : type == CM_BODY_TD15 ? CM_TD15_BODY_LEN : 0;
		if (!expect)
			return cm_fail(c->e, -EBADMSG, "unknown v5 body type %u at offset %zu (expected 1, 2 or 3)",
				       type, at);
		if (size != expect)
			return cm_fail(c->e, -EBADMSG, "v5 body size %u at offset %zu does not match type %u (%zu)",
				       size, at + 2, type, expect);
		if ((type == CM_BODY_SGX) != (q->tee_type == CM_TEE_SGX))
			return cm_fail(c->e, -EBADMSG, "v5 body type %u at offset %zu does not match TEE type 0x%x",
				       type, at, q->tee_type);
		q->body_type = (enum cm_body_type)type;
	} else {
		q->body_type = q->tee_type == CM_TEE_TDX ? CM_BODY_TD10 : CM_BODY_SGX;
	}
	q->body_off = c->pos;
	q->body_len = q->body_type == CM_BODY_SGX ? CM_SGX_REPORT_LEN
		    : q->body_type == CM_BODY_TD10 ? CM_TD10_BODY_LEN : CM_TD15_BODY_LEN;
	const uint8_t *b;
	if ((r = take(c, q->body_len, "report body", &b)))
		return r;
	if (q->body_type == CM_BODY_SGX)
		parse_sgx_report(b, &q->sgx);
	else
		parse_td_report(b, q->body_type == CM_BODY_TD15, &q->td);
	q->signed_len = c->pos;
	return 0;
}

/* QE report, its signature, auth data and the nested certification data; shared by
 * the v3 layout and the v4/v5 type-6 wrapper. */
static int parse_qe_part(struct cur *c, struct cm_quote *q)
{
	int r;
	const uint8_t *p;
	if ((r = take(c, CM_SGX_REPORT_LEN, "QE report", &p)))
		return r;
	q->qe_report_raw = p;
	parse_sgx_report(p, &q->qe_report);
	if ((r = take(c, 64, "QE report signature", &q->qe_report_sig)))
		return r;
	if ((r = take16(c, "QE authentication data size", &q->qe_auth_len)))
		return r;
	if ((r = take(c, q->qe_auth_len, "QE authentication data", &q->qe_auth)))
		return r;
	size_t at = c->pos;
	if ((r = take16(c, "certification data type", &q->cert_type)) ||
	    (r = take32(c, "certification data size", &q->cert_data_len)))
		return r;
	if (q->cert_type < CM_CERT_PPID_CLEARTEXT || q->cert_type > CM_CERT_PCK_CHAIN)
		return cm_fail(c->e, -EBADMSG,
			       "certification data type %u at offset %zu is not allowed here (expected 1..5)",
			       q->cert_type, at);
	if ((r = take(c, q->cert_data_len, "certification data", &q->cert_data)))
		return r;
	return 0;
}

int cm_quote_parse(const uint8_t *buf, size_t len, struct cm_quote *q, struct cm_err *e)
{
	memset(q, 0, sizeof(*q));
	q->raw = buf;
	q->len = len;
	if (!buf)
		return cm_fail(e, -EINVAL, "no quote");
	if (len > CM_QUOTE_MAX_LEN)
		return cm_fail(e, -EFBIG, "quote too large (%zu bytes, limit %u)", len, CM_QUOTE_MAX_LEN);
	struct cur c = {.buf = buf, .pos = 0, .end = len, .e = e};
	int r;
	if ((r = parse_header(&c, q)) || (r = parse_body(&c, q)))
		return r;
	if ((r = take32(&c, "signature data length", &q->sig_data_len)))
		return r;
	q->sig_data_off = c.pos;
	if ((r = need(&c, q->sig_data_len, "signature data")))
		return r;
	q->trailing = len - c.pos - q->sig_data_len;
	/* From here on, every field must lie inside the declared signature data. */
	c.end = c.pos + q->sig_data_len;
	if ((r = take(&c, 64, "quote signature", &q->signature)) ||
	    (r = take(&c, 64, "attestation key", &q->att_key)))
		return r;
	if (q->version == 3) {
		if ((r = parse_qe_part(&c, q)))
			return r;
	} else {
		uint16_t outer;
		uint32_t outer_len;
		size_t at = c.pos;
		if ((r = take16(&c, "certification data type", &outer)) ||
		    (r = take32(&c, "certification data size", &outer_len)))
			return r;
		if (outer != CM_CERT_QE_REPORT)
			return cm_fail(e, -EBADMSG,
				       "certification data type %u at offset %zu (v%u quotes require 6, QE report)",
				       outer, at, q->version);
		if ((r = need(&c, outer_len, "QE report certification data")))
			return r;
		size_t outer_end = c.pos + outer_len;
		c.end = outer_end;
		if ((r = parse_qe_part(&c, q)))
			return r;
		if (c.pos != outer_end)
			return cm_fail(e, -EBADMSG,
				       "QE report certification data at offset %zu declares %u bytes but its parts use %zu",
				       at + 6, outer_len, c.pos - (at + 6));
		c.end = q->sig_data_off + q->sig_data_len;
	}
	if (c.pos != c.end)
		return cm_fail(e, -EBADMSG,
			       "signature data at offset %zu declares %u bytes but its parts use %zu",
			       q->sig_data_off, q->sig_data_len, c.pos - q->sig_data_off);
	return 0;
}

bool cm_quote_is_td(const struct cm_quote *q)
{
	return q->body_type == CM_BODY_TD10 || q->body_type == CM_BODY_TD15;
}

int cm_quote_td_regs(const struct cm_quote *q, struct cm_td_regs *r)
{
	if (!cm_quote_is_td(q))
		return -EINVAL;
	memcpy(r->mrtd, q->td.mr_td, 48);
	memcpy(r->mrconfigid, q->td.mr_config_id, 48);
	memcpy(r->mrowner, q->td.mr_owner, 48);
	memcpy(r->mrownerconfig, q->td.mr_owner_config, 48);
	memcpy(r->rtmr, q->td.rtmr, sizeof(r->rtmr));
	return 0;
}

const char *cm_body_type_name(enum cm_body_type t)
{
	switch (t) {
	case CM_BODY_SGX: return "sgx";
	case CM_BODY_TD10: return "td10";
	case CM_BODY_TD15: return "td15";
	}
	return "unknown";
}

const char *cm_tee_name(uint32_t tee_type)
{
	return tee_type == CM_TEE_TDX ? "tdx" : tee_type == CM_TEE_SGX ? "sgx" : "unknown";
}
