#include "measure/dcap/policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "measure/core/digest.h"
#include "measure/core/json.h"
#include "measure/core/measurements.h"

#define POLICY_MAX_LEN (1u << 20)
#define POLICY_LIST_MAX 4096

int cm_policy_default(struct cm_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->accepted_statuses = 1u << CM_TCB_UP_TO_DATE;
	p->require_sept_ve_disable = true;
	p->allow_sgx = true;
	p->root_key_ids = malloc(48);
	if (!p->root_key_ids)
		return -ENOMEM;
	cm_hex_decode_exact(CM_COCOON_ROOT_KEY_ID, 96, p->root_key_ids[0], 48);
	p->n_root_key_ids = 1;
	return 0;
}

void cm_policy_free(struct cm_policy *p)
{
	if (!p)
		return;
	free(p->mrtd);
	free(p->rtmrs);
	free(p->image_hashes);
	free(p->root_key_ids);
	memset(p, 0, sizeof(*p));
}

/* A list of hex strings of n bytes each (rtmrs: a list of 4-lists). */
static int hex_list(const struct cm_jv *v, size_t n, size_t per, void **out, size_t *count, struct cm_err *e)
{
	size_t len;
	int rc = cm_jv_array(v, 0, POLICY_LIST_MAX, &len, e);
	if (rc)
		return rc;
	uint8_t *buf = calloc(len ? len : 1, n * per);
	if (!buf)
		return cm_fail(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < len && !rc; i++) {
		struct cm_jv it = cm_jv_elem(v, i);
		if (per == 1) {
			rc = cm_jv_hex(&it, buf + i * n, n, e);
			continue;
		}
		size_t m;
		rc = cm_jv_array(&it, per, per, &m, e);
		for (size_t j = 0; j < per && !rc; j++) {
			struct cm_jv x = cm_jv_elem(&it, j);
			rc = cm_jv_hex(&x, buf + (i * per + j) * n, n, e);
		}
	}
	if (rc) {
		free(buf);
		return rc;
	}
	free(*out);
	*out = buf;
	*count = len;
	return 0;
}

static int accepted_statuses(const struct cm_jv *v, uint32_t *out, struct cm_err *e)
{
	size_t n;
	int rc = cm_jv_array(v, 0, POLICY_LIST_MAX, &n, e);
	*out = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		struct cm_jv s = cm_jv_elem(v, i);
		const char *name;
		enum cm_tcb_status st;
		if ((rc = cm_jv_str(&s, 0, 64, &name, e)))
			break;
		if (cm_tcb_status_parse(name, &st) || st == CM_TCB_NOT_SUPPORTED || st == CM_TCB_REVOKED)
			return cm_jv_fail(&s, e, -EINVAL, "unknown or unacceptable TCB status \"%s\"", name);
		*out |= 1u << st;
	}
	return rc;
}

static int policy_member(struct cm_policy *p, const struct cm_jv *o, const char *key, json_object *val,
			 struct cm_err *e)
{
	const struct {
		const char *key;
		bool *val;
	} bools[] = {
		{"allow_debug", &p->allow_debug},
		{"require_sept_ve_disable", &p->require_sept_ve_disable},
		{"allow_mr_servicetd", &p->allow_mr_servicetd},
		{"allow_sgx", &p->allow_sgx},
		{"allow_any_image", &p->allow_any_image},
	};
	struct cm_jv v = cm_jv_member(o, key, val);
	if (strcmp(key, "accepted_tcb_statuses") == 0)
		return accepted_statuses(&v, &p->accepted_statuses, e);
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++)
		if (strcmp(key, bools[i].key) == 0)
			return cm_jv_bool(&v, bools[i].val, e);
	if (strcmp(key, "min_tcb_evaluation_data_number") == 0) {
		int64_t n;
		int rc = cm_jv_int(&v, 0, UINT32_MAX, &n, e);
		if (!rc)
			p->min_tcb_eval_number = (uint32_t)n;
		return rc;
	}
	if (strcmp(key, "mrtd") == 0)
		return hex_list(&v, 48, 1, (void **)&p->mrtd, &p->n_mrtd, e);
	if (strcmp(key, "rtmrs") == 0)
		return hex_list(&v, 48, 4, (void **)&p->rtmrs, &p->n_rtmrs, e);
	if (strcmp(key, "image_hashes") == 0)
		return hex_list(&v, 32, 1, (void **)&p->image_hashes, &p->n_image_hashes, e);
	if (strcmp(key, "root_key_ids") == 0)
		return hex_list(&v, 48, 1, (void **)&p->root_key_ids, &p->n_root_key_ids, e);
	if (strcmp(key, "report_data") == 0) {
		p->has_report_data = val != NULL; /* null: no requirement */
		return val ? cm_jv_hex(&v, p->report_data, 64, e) : 0;
	}
	return cm_jv_fail(o, e, -EINVAL, "unknown key \"%s\"", key);
}

int cm_policy_parse(const char *json, size_t len, struct cm_policy *p, struct cm_err *e)
{
	int rc = cm_policy_default(p);
	if (rc)
		return cm_fail(e, rc, "out of memory");
	struct cm_jv o;
	rc = cm_json_read(json, len, POLICY_MAX_LEN - 1, "policy", &o, e);
	if (rc == 0 && (rc = cm_jv_object(&o, NULL, e)) == 0) {
		json_object_object_foreach(o.o, key, val)
		{
			if ((rc = policy_member(p, &o, key, val, e)))
				break;
		}
	}
	cm_json_release(&o);
	if (rc)
		cm_policy_free(p);
	return rc;
}

int cm_policy_load(const char *path, struct cm_policy *p, struct cm_err *e)
{
	uint8_t *buf;
	size_t len;
	int rc = cm_read_file(path, POLICY_MAX_LEN, &buf, &len, e);
	if (rc)
		return rc;
	rc = cm_policy_parse((const char *)buf, len, p, e);
	if (rc)
		cm_err_prefix(e, "%s", path);
	free(buf);
	return rc;
}

static bool in_list(const uint8_t *list, size_t count, size_t n, const uint8_t *v)
{
	if (count == 0)
		return true;
	for (size_t i = 0; i < count; i++)
		if (memcmp(list + i * n, v, n) == 0)
			return true;
	return false;
}


int cm_policy_check(const struct cm_policy *p, const struct cm_quote *q, enum cm_tcb_status tcb_status,
		    const uint8_t root_key_id[48], struct cm_err *e)
{
	if ((unsigned)tcb_status >= 32 || !(p->accepted_statuses & (1u << tcb_status)))
		return cm_fail_check(e, -EACCES, "policy_tcb_status", "TCB status %s is not accepted by the policy",
				     cm_tcb_status_name(tcb_status));
	bool td = cm_quote_is_td(q);
	if (!td && !p->allow_sgx)
		return cm_fail_check(e, -EACCES, "policy_sgx", "SGX enclave quotes are not accepted by the policy");
	uint64_t attr = td ? cm_le64(q->td.td_attributes) : cm_le64(q->sgx.attributes);
	bool debug = td ? (attr & CM_TD_ATTR_DEBUG) != 0 : (attr & 2) != 0;
	if (debug && !p->allow_debug)
		return cm_fail_check(e, -EACCES, "policy_debug", "debug %s is not accepted by the policy",
				     td ? "TD" : "enclave");
	if (td) {
		/* Reserved (dcap-qvl validate_attrs / TDAttributes::parse): TUD bits 1..7, SEC bits other
		 * than SEPT_VE_DISABLE/PKS/KL, and OTHER bits 32..62; bit 63 (PERFMON) is allowed. Intel's
		 * QVL leaves TD attributes to the appraisal policy (docs/verification.md). */
		uint64_t reserved =
			0x7ffffffffffffffeull & ~(CM_TD_ATTR_SEPT_VE_DISABLE | CM_TD_ATTR_PKS | CM_TD_ATTR_KL);
		if (attr & reserved)
			return cm_fail_check(e, -EACCES, "policy_td_attributes",
					     "reserved TD attribute bits are set (%016llx)",
					     (unsigned long long)attr);
		if (p->require_sept_ve_disable && !(attr & CM_TD_ATTR_SEPT_VE_DISABLE))
			return cm_fail_check(e, -EACCES, "policy_td_attributes",
					     "TD attribute SEPT_VE_DISABLE is clear");
		if (q->body_type == CM_BODY_TD15 && !p->allow_mr_servicetd && !cm_is_zero(q->td.mr_servicetd, 48))
			return cm_fail_check(e, -EACCES, "policy_mr_servicetd", "MRSERVICETD is not zero");
	}
	if (!in_list((const uint8_t *)p->root_key_ids, p->n_root_key_ids, 48, root_key_id))
		return cm_fail_check(e, -EACCES, "policy_root_key_id",
				     "root key id is not in the policy's allowlist");
	if (!td && (p->n_mrtd || p->n_rtmrs || p->n_image_hashes))
		return cm_fail_check(e, -EACCES, "policy_mrtd",
				     "the policy has TD allowlists and the quote is an SGX quote");
	if (td) {
		if (!in_list((const uint8_t *)p->mrtd, p->n_mrtd, 48, q->td.mr_td))
			return cm_fail_check(e, -EACCES, "policy_mrtd", "MRTD is not in the policy's allowlist");
		if (!in_list((const uint8_t *)p->rtmrs, p->n_rtmrs, 4 * 48, &q->td.rtmr[0][0]))
			return cm_fail_check(e, -EACCES, "policy_rtmrs",
					     "RTMR0..3 are not in the policy's allowlist");
		if (p->n_image_hashes) {
			struct cm_td_regs regs;
			uint8_t ih[CM_IMAGE_HASH_LEN];
			if (cm_quote_td_regs(q, &regs) || cm_image_hash(&regs, ih))
				return cm_fail_check(e, -EACCES, "policy_image_hash",
						     "cannot compute the image hash");
			if (!in_list((const uint8_t *)p->image_hashes, p->n_image_hashes, 32, ih))
				return cm_fail_check(e, -EACCES, "policy_image_hash",
						     "image hash is not in the policy's allowlist");
		}
	}
	const uint8_t *rd = td ? q->td.report_data : q->sgx.report_data;
	if (p->has_report_data && !cm_memeq_ct(rd, p->report_data, 64))
		return cm_fail_check(e, -EACCES, "policy_report_data",
				     "REPORTDATA does not equal the required value");
	return 0;
}

bool cm_policy_pins_image(const struct cm_policy *p)
{
	return p->n_mrtd || p->n_rtmrs || p->n_image_hashes;
}

int cm_policy_check_collateral(const struct cm_policy *p, const struct cm_tcb_info *tcb,
			       const struct cm_qe_identity *qe, struct cm_err *e)
{
	int64_t min = p->min_tcb_eval_number;
	if (tcb->eval_number < min || qe->eval_number < min)
		return cm_fail_check(e, -EACCES, "policy_tcb_evaluation_data_number",
				     "collateral tcbEvaluationDataNumber (TCB info %d, QE identity %d) is below the "
				     "policy minimum %lld", tcb->eval_number, qe->eval_number, (long long)min);
	return 0;
}
