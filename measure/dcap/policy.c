#include "measure/dcap/policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "measure/core/digest.h"
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

static int hex_field(json_object *v, uint8_t *out, size_t n)
{
	if (!json_object_is_type(v, json_type_string))
		return -EINVAL;
	return cm_hex_decode_exact(json_object_get_string(v), (size_t)json_object_get_string_len(v), out, n);
}

/* A list of hex strings of n bytes each (rtmrs: a list of 4-lists). */
static int hex_list(json_object *v, const char *key, size_t n, size_t per, void **out, size_t *count,
		    struct cm_err *e)
{
	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) > POLICY_LIST_MAX)
		return cm_fail(e, -EINVAL, "policy: \"%s\" must be an array (at most %d entries)", key, POLICY_LIST_MAX);
	size_t len = json_object_array_length(v);
	uint8_t *buf = calloc(len ? len : 1, n * per);
	if (!buf)
		return cm_fail(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < len; i++) {
		json_object *it = json_object_array_get_idx(v, i);
		if (per == 1) {
			if (hex_field(it, buf + i * n, n))
				goto bad;
			continue;
		}
		if (!json_object_is_type(it, json_type_array) || json_object_array_length(it) != per)
			goto bad;
		for (size_t j = 0; j < per; j++)
			if (hex_field(json_object_array_get_idx(it, j), buf + (i * per + j) * n, n))
				goto bad;
	}
	free(*out);
	*out = buf;
	*count = len;
	return 0;
bad:
	free(buf);
	return cm_fail(e, -EINVAL, "policy: \"%s\" entries must be %s%zu-byte hex strings", key,
		       per == 1 ? "" : "lists of four ", n);
}

static int get_bool(json_object *v, const char *key, bool *out, struct cm_err *e)
{
	if (!json_object_is_type(v, json_type_boolean))
		return cm_fail(e, -EINVAL, "policy: \"%s\" must be true or false", key);
	*out = json_object_get_boolean(v);
	return 0;
}

int cm_policy_parse(const char *json, size_t len, struct cm_policy *p, struct cm_err *e)
{
	int rc = cm_policy_default(p);
	if (rc)
		return cm_fail(e, rc, "out of memory");
	json_tokener *tok = json_tokener_new();
	json_object *o = NULL;
	if (tok && len < POLICY_MAX_LEN) {
		o = json_tokener_parse_ex(tok, json, (int)len);
		size_t end = json_tokener_get_parse_end(tok);
		while (end < len && (json[end] == '\n' || json[end] == ' ' || json[end] == '\r' || json[end] == '\t'))
			end++;
		if (json_tokener_get_error(tok) != json_tokener_success || end != len) {
			json_object_put(o);
			o = NULL;
		}
	}
	json_tokener_free(tok);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		cm_policy_free(p);
		return cm_fail(e, -EINVAL, "policy: not a JSON object");
	}
	rc = 0;
	json_object_object_foreach(o, key, v)
	{
		if (rc)
			break;
		if (strcmp(key, "accepted_tcb_statuses") == 0) {
			if (!json_object_is_type(v, json_type_array)) {
				rc = cm_fail(e, -EINVAL, "policy: \"%s\" must be an array of status names", key);
				break;
			}
			p->accepted_statuses = 0;
			for (size_t i = 0; i < json_object_array_length(v); i++) {
				json_object *s = json_object_array_get_idx(v, i);
				enum cm_tcb_status st;
				if (!json_object_is_type(s, json_type_string) ||
				    cm_tcb_status_parse(json_object_get_string(s), &st) || st == CM_TCB_NOT_SUPPORTED ||
				    st == CM_TCB_REVOKED) {
					rc = cm_fail(e, -EINVAL, "policy: unknown or unacceptable TCB status \"%s\"",
						     json_object_get_string(s));
					break;
				}
				p->accepted_statuses |= 1u << st;
			}
		} else if (strcmp(key, "allow_debug") == 0) {
			rc = get_bool(v, key, &p->allow_debug, e);
		} else if (strcmp(key, "require_sept_ve_disable") == 0) {
			rc = get_bool(v, key, &p->require_sept_ve_disable, e);
		} else if (strcmp(key, "allow_mr_servicetd") == 0) {
			rc = get_bool(v, key, &p->allow_mr_servicetd, e);
		} else if (strcmp(key, "allow_sgx") == 0) {
			rc = get_bool(v, key, &p->allow_sgx, e);
		} else if (strcmp(key, "allow_any_image") == 0) {
			rc = get_bool(v, key, &p->allow_any_image, e);
		} else if (strcmp(key, "min_tcb_evaluation_data_number") == 0) {
			int64_t n = json_object_get_int64(v);
			if (!json_object_is_type(v, json_type_int) || n < 0 || n > UINT32_MAX)
				rc = cm_fail(e, -EINVAL, "policy: \"%s\" must be an integer 0..%u", key, UINT32_MAX);
			else
				p->min_tcb_eval_number = (uint32_t)n;
		} else if (strcmp(key, "mrtd") == 0) {
			rc = hex_list(v, key, 48, 1, (void **)&p->mrtd, &p->n_mrtd, e);
		} else if (strcmp(key, "rtmrs") == 0) {
			rc = hex_list(v, key, 48, 4, (void **)&p->rtmrs, &p->n_rtmrs, e);
		} else if (strcmp(key, "image_hashes") == 0) {
			rc = hex_list(v, key, 32, 1, (void **)&p->image_hashes, &p->n_image_hashes, e);
		} else if (strcmp(key, "root_key_ids") == 0) {
			rc = hex_list(v, key, 48, 1, (void **)&p->root_key_ids, &p->n_root_key_ids, e);
		} else if (strcmp(key, "report_data") == 0) {
			if (json_object_is_type(v, json_type_null)) {
				p->has_report_data = false;
			} else if (hex_field(v, p->report_data, 64)) {
				rc = cm_fail(e, -EINVAL, "policy: \"report_data\" must be 64 bytes of hex");
			} else {
				p->has_report_data = true;
			}
		} else {
			rc = cm_fail(e, -EINVAL, "policy: unknown key \"%s\"", key);
		}
	}
	json_object_put(o);
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

bool cm_policy_pins_image(const struct cm_policy *p)
{
	return p->n_mrtd || p->n_rtmrs || p->n_image_hashes;
}

int cm_policy_check_collateral(const struct cm_policy *p, const struct cm_tcb_info *tcb,
			       const struct cm_qe_identity *qe, const char **check, struct cm_err *e)
{
	int64_t min = p->min_tcb_eval_number;
	if (tcb->eval_number < min || qe->eval_number < min) {
		*check = "policy_tcb_evaluation_data_number";
		return cm_fail(e, -EACCES,
			       "collateral tcbEvaluationDataNumber (TCB info %d, QE identity %d) is below the "
			       "policy minimum %lld", tcb->eval_number, qe->eval_number, (long long)min);
	}
	return 0;
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

#define REJECT(chk, ...) (*check = (chk), cm_fail(e, -EACCES, __VA_ARGS__))

int cm_policy_check(const struct cm_policy *p, const struct cm_quote *q, enum cm_tcb_status tcb_status,
		    const uint8_t root_key_id[48], const char **check, struct cm_err *e)
{
	if ((unsigned)tcb_status >= 32 || !(p->accepted_statuses & (1u << tcb_status)))
		return REJECT("policy_tcb_status", "TCB status %s is not accepted by the policy",
			      cm_tcb_status_name(tcb_status));
	bool td = cm_quote_is_td(q);
	if (!td && !p->allow_sgx)
		return REJECT("policy_sgx", "SGX enclave quotes are not accepted by the policy");
	uint64_t attr = td ? cm_le64(q->td.td_attributes) : cm_le64(q->sgx.attributes);
	bool debug = td ? (attr & CM_TD_ATTR_DEBUG) != 0 : (attr & 2) != 0;
	if (debug && !p->allow_debug)
		return REJECT("policy_debug", "debug %s is not accepted by the policy", td ? "TD" : "enclave");
	if (td) {
		/* Reserved (dcap-qvl validate_attrs / TDAttributes::parse): TUD bits 1..7, SEC bits other
		 * than SEPT_VE_DISABLE/PKS/KL, and OTHER bits 32..62; bit 63 (PERFMON) is allowed. Intel's
		 * QVL leaves TD attributes to the appraisal policy (docs/verification.md). */
		uint64_t reserved =
			0x7ffffffffffffffeull & ~(CM_TD_ATTR_SEPT_VE_DISABLE | CM_TD_ATTR_PKS | CM_TD_ATTR_KL);
		if (attr & reserved)
			return REJECT("policy_td_attributes", "reserved TD attribute bits are set (%016llx)",
				      (unsigned long long)attr);
		if (p->require_sept_ve_disable && !(attr & CM_TD_ATTR_SEPT_VE_DISABLE))
			return REJECT("policy_td_attributes", "TD attribute SEPT_VE_DISABLE is clear");
		if (q->body_type == CM_BODY_TD15 && !p->allow_mr_servicetd && !cm_is_zero(q->td.mr_servicetd, 48))
			return REJECT("policy_mr_servicetd", "MRSERVICETD is not zero");
	}
	if (!in_list((const uint8_t *)p->root_key_ids, p->n_root_key_ids, 48, root_key_id))
		return REJECT("policy_root_key_id", "root key id is not in the policy's allowlist");
	if (!td && (p->n_mrtd || p->n_rtmrs || p->n_image_hashes))
		return REJECT("policy_mrtd", "the policy has TD allowlists and the quote is an SGX quote");
	if (td) {
		if (!in_list((const uint8_t *)p->mrtd, p->n_mrtd, 48, q->td.mr_td))
			return REJECT("policy_mrtd", "MRTD is not in the policy's allowlist");
		if (!in_list((const uint8_t *)p->rtmrs, p->n_rtmrs, 4 * 48, &q->td.rtmr[0][0]))
			return REJECT("policy_rtmrs", "RTMR0..3 are not in the policy's allowlist");
		if (p->n_image_hashes) {
			struct cm_td_regs regs;
			uint8_t ih[CM_IMAGE_HASH_LEN];
			if (cm_quote_td_regs(q, &regs) || cm_image_hash(&regs, ih))
				return REJECT("policy_image_hash", "cannot compute the image hash");
			if (!in_list((const uint8_t *)p->image_hashes, p->n_image_hashes, 32, ih))
				return REJECT("policy_image_hash", "image hash is not in the policy's allowlist");
		}
	}
	const uint8_t *rd = td ? q->td.report_data : q->sgx.report_data;
	if (p->has_report_data && !cm_memeq_ct(rd, p->report_data, 64))
		return REJECT("policy_report_data", "REPORTDATA does not equal the required value");
	return 0;
}
