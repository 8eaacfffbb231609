#include "measure/dcap/verify.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "measure/core/digest.h"
#include "measure/core/json.h"
#include "measure/core/measurements.h"

const char *cm_verdict_name(enum cm_verdict v)
{
	return v == CM_VERDICT_OK ? "ok" : v == CM_VERDICT_REJECTED ? "rejected" : "invalid";
}

/* The verdict v, with the failed check and message of e for a failure. */
static int finish(struct cm_verify_result *r, enum cm_verdict v, const struct cm_err *e)
{
	r->verdict = v;
	r->failed_check = v == CM_VERDICT_OK ? NULL : e->check;
	snprintf(r->message, sizeof(r->message), "%s", v == CM_VERDICT_OK ? "" : e->msg);
	return v == CM_VERDICT_OK ? 0 : -EACCES;
}

/* ---- the steps (docs/verification.md), each failing with its check name ---- */

/* The quote's measurements into the result; the structure the parser leaves to us (§6.1). */
static int quote_structure(const struct cm_quote *q, struct cm_verify_result *r, struct cm_err *e)
{
	r->is_td = cm_quote_is_td(q);
	if (r->is_td) {
		if (cm_quote_td_regs(q, &r->regs) || cm_image_hash(&r->regs, r->image_hash))
			return cm_fail_check(e, -EACCES, "quote_format", "cannot read the TD registers");
		memcpy(r->report_data, q->td.report_data, 64);
	} else {
		memcpy(r->report_data, q->sgx.report_data, 64);
		memcpy(r->mr_enclave, q->sgx.mr_enclave, 32);
		memcpy(r->mr_signer, q->sgx.mr_signer, 32);
	}
	if (q->att_key_type != CM_ATT_KEY_ECDSA_P256)
		return cm_fail_check(e, -EACCES, "quote_format",
				     "attestation key type is not ECDSA-256-with-P-256");
	return 0;
}

/* The QE report is signed by the PCK key. */
static int qe_report_signature(const struct cm_quote *q, const struct cm_pck_info *pck, struct cm_err *e)
{
	if (cm_ecdsa_p256_verify_ctx(pck->verify_ctx, q->qe_report_raw, CM_SGX_REPORT_LEN, q->qe_report_sig) != 1)
		return cm_fail_check(e, -EACCES, "qe_report_signature",
				     "QE report signature does not verify with the PCK key");
	return 0;
}

/* The attestation key is bound by the QE report: REPORTDATA[0..32) = SHA-256(key || QE auth data). */
static int attestation_key_binding(const struct cm_quote *q, struct cm_err *e)
{
	uint8_t h[32];
	struct cm_hash *hh = cm_hash_new(CM_SHA256);
	int bad = !hh || cm_hash_update(hh, q->att_key, 64) || cm_hash_update(hh, q->qe_auth, q->qe_auth_len) ||
		  cm_hash_final(hh, h);
	cm_hash_free(hh);
	if (bad)
		return cm_fail_check(e, -EACCES, "internal", "hash failure");
	if (!cm_memeq_ct(h, q->qe_report.report_data, 32))
		return cm_fail_check(e, -EACCES, "qe_report_data_binding",
				     "QE report data is not SHA-256(attestation key || QE auth data)");
	return 0;
}

/* The quote is signed by the attestation key over header [+ descriptor] + body. */
static int quote_signature(struct cm_collateral *c, const struct cm_quote *q, struct cm_err *e)
{
	int ok = cm_collateral_ak_verify(c, q->att_key, q->raw, q->signed_len, q->signature);
	if (ok == -EINVAL)
		return cm_fail_check(e, -EACCES, "quote_signature", "attestation key is not a valid P-256 point");
	if (ok != 1)
		return cm_fail_check(e, -EACCES, "quote_signature",
				     "quote signature does not verify with the attestation key");
	return 0;
}

/* Intel's TCB status (§2.7); Revoked is invalid evidence, not a policy matter. */
static int tcb_status(const struct cm_collateral *c, const struct cm_quote *q, const struct cm_pck_info *pck,
		      struct cm_verify_result *r, struct cm_err *e)
{
	int rc = cm_tcb_evaluate(cm_collateral_tcb_info(c), cm_collateral_qe_identity(c), q, &pck->ext, &r->tcb, e);
	if (rc)
		return rc;
	r->has_tcb = true;
	if (r->tcb.status == CM_TCB_REVOKED)
		return cm_fail_check(e, -EACCES, "tcb_revoked", "TCB status is Revoked");
	return 0;
}

/* The appraisal policy (o->policy, or libmeasure's default), on the quote and on the
 * collateral's tcbEvaluationDataNumber. */
static int policy(const struct cm_quote *q, struct cm_collateral *c, const struct cm_verify_opts *o,
		  const struct cm_verify_result *r, struct cm_err *e)
{
	struct cm_policy defp;
	const struct cm_policy *p = o->policy;
	if (!p) {
		if (cm_policy_default(&defp))
			return cm_fail_check(e, -ENOMEM, "internal", "out of memory");
		p = &defp;
	}
	int rc = cm_policy_check(p, q, r->tcb.status, r->root_key_id, e);
	if (!rc)
		rc = cm_policy_check_collateral(p, cm_collateral_tcb_info(c), cm_collateral_qe_identity(c), e);
	if (p == &defp)
		cm_policy_free(&defp);
	return rc;
}

int cm_verify_quote_with(const struct cm_quote *q, struct cm_collateral *c, const struct cm_verify_opts *o,
			 struct cm_verify_result *r)
{
	struct cm_err e = {0};
	memset(r, 0, sizeof(*r));
	r->pck_ca = cm_collateral_ca(c);
	r->has_root_key_id = true;
	memcpy(r->root_key_id, cm_collateral_root_key_id(c), 48);
	int64_t from;
	cm_collateral_window(c, &from, &r->collateral_expiry);
	const struct cm_pck_info *pck;
	/* 1. structure, 2. collateral windows, 3. PCK chain with CRLs */
	if (quote_structure(q, r, &e) || cm_collateral_check_time(c, o->time, &e) ||
	    cm_collateral_pck(c, q, o->time, &pck, &e))
		return finish(r, CM_VERDICT_INVALID, &e);
	r->has_pck = true;
	r->pck = pck->ext;
	/* 4. QE report signature, 5. attestation key binding, 6. quote signature, 7. TCB status */
	if (qe_report_signature(q, pck, &e) || attestation_key_binding(q, &e) || quote_signature(c, q, &e) ||
	    tcb_status(c, q, pck, r, &e))
		return finish(r, CM_VERDICT_INVALID, &e);
	/* 8. policy */
	if (policy(q, c, o, r, &e))
		return finish(r, CM_VERDICT_REJECTED, &e);
	return finish(r, CM_VERDICT_OK, &e);
}

int cm_verify_quote(const struct cm_quote *q, const char *bundle, size_t bundle_len, const struct cm_verify_opts *o,
		    struct cm_verify_result *r)
{
	struct cm_err e = {0};
	struct cm_collateral *c = NULL;
	int rc;
	if (o->cache)
		rc = cm_collateral_cache_get(o->cache, bundle, bundle_len, o->anchor, o->time, &c, &e);
	else
		rc = cm_collateral_load(bundle, bundle_len, o->anchor, &c, &e);
	if (rc) {
		memset(r, 0, sizeof(*r));
		if (!e.check) /* a failure below the named checks (e.g. out of memory) */
			cm_err_check(&e, rc, "collateral_format");
		return finish(r, CM_VERDICT_INVALID, &e);
	}
	rc = cm_verify_quote_with(q, c, o, r);
	if (!o->cache)
		cm_collateral_free(c);
	return rc;
}

void cm_verify_result_to_json(const struct cm_verify_result *r, json_object *obj)
{
	cm_json_add_str(obj, "verdict", cm_verdict_name(r->verdict));
	if (r->failed_check)
		cm_json_add_str(obj, "failed_check", r->failed_check);
	else
		json_object_object_add(obj, "failed_check", NULL);
	cm_json_add_str(obj, "message", r->message);
	if (r->has_tcb) {
		cm_json_add_str(obj, "tcb_status", cm_tcb_status_name(r->tcb.status));
		cm_json_add_str(obj, "platform_tcb_status", cm_tcb_status_name(r->tcb.platform_status));
		if (r->tcb.has_module_status)
			cm_json_add_str(obj, "tdx_module_tcb_status", cm_tcb_status_name(r->tcb.module_status));
		cm_json_add_str(obj, "qe_tcb_status", cm_tcb_status_name(r->tcb.qe_status));
	} else {
		json_object_object_add(obj, "tcb_status", NULL);
	}
	json_object *adv = json_object_new_array();
	for (int i = 0; r->has_tcb && i < r->tcb.n_adv; i++)
		json_object_array_add(adv, json_object_new_string(r->tcb.adv[i]));
	json_object_object_add(obj, "advisory_ids", adv);
	if (r->has_pck) {
		cm_json_add_hex(obj, "fmspc", r->pck.fmspc, 6);
		cm_json_add_hex(obj, "pce_id", r->pck.pceid, 2);
	}
	cm_json_add_str(obj, "pck_ca", cm_pck_ca_name(r->pck_ca));
	if (r->has_root_key_id)
		cm_json_add_hex(obj, "root_key_id", r->root_key_id, 48);
	if (r->collateral_expiry)
		cm_json_add_int(obj, "collateral_expiry", r->collateral_expiry);
}
