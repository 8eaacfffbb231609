#include <errno.h>
#include <string.h>

#include "measure/core/json.h"
#include "measure/dcap/pck.h"
#include "measure/dcap/quote.h"

static void add_sgx_report(json_object *o, const struct cm_sgx_report *r)
{
	cm_json_add_hex(o, "cpu_svn", r->cpu_svn, 16);
	cm_json_add_int(o, "misc_select", r->misc_select);
	cm_json_add_hex(o, "attributes", r->attributes, 16);
	cm_json_add_hex(o, "mrenclave", r->mr_enclave, 32);
	cm_json_add_hex(o, "mrsigner", r->mr_signer, 32);
	cm_json_add_int(o, "isv_prod_id", r->isv_prod_id);
	cm_json_add_int(o, "isv_svn", r->isv_svn);
	cm_json_add_int(o, "config_svn", r->config_svn);
	cm_json_add_hex(o, "isv_ext_prod_id", r->isv_ext_prod_id, 16);
	cm_json_add_hex(o, "isv_family_id", r->isv_family_id, 16);
	cm_json_add_hex(o, "config_id", r->config_id, 64);
	cm_json_add_hex(o, "report_data", r->report_data, 64);
}

static json_object *td_attribute_names(const uint8_t attr[8])
{
	static const struct { uint64_t bit; const char *name; } names[] = {
		{CM_TD_ATTR_DEBUG, "DEBUG"},
		{CM_TD_ATTR_SEPT_VE_DISABLE, "SEPT_VE_DISABLE"},
		{CM_TD_ATTR_PKS, "PKS"},
		{CM_TD_ATTR_KL, "KL"},
		{CM_TD_ATTR_PERFMON, "PERFMON"},
	};
	uint64_t v = cm_le64(attr);
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (v & names[i].bit)
			json_object_array_add(a, json_object_new_string(names[i].name));
	return a;
}

static int add_pck(json_object *o, const struct cm_quote *q, struct cm_err *e)
{
	if (q->cert_type != CM_CERT_PCK_CHAIN) {
		json_object_object_add(o, "pck_chain", NULL);
		json_object_object_add(o, "fmspc", NULL);
		return 0;
	}
	STACK_OF(X509) *chain = cm_pem_chain_parse(q->cert_data, q->cert_data_len, e);
	if (!chain)
		return cm_err_prefix(e, "PCK certificate chain in the quote");
	json_object *subjects = json_object_new_array();
	for (int i = 0; i < sk_X509_num(chain); i++) {
		char subj[512];
		cm_x509_subject(sk_X509_value(chain, i), subj, sizeof(subj));
		json_object_array_add(subjects, json_object_new_string(subj));
	}
	json_object_object_add(o, "pck_chain", subjects);
	struct cm_pck_ext ext;
	int r = cm_pck_ext_from_cert(sk_X509_value(chain, 0), &ext, e);
	sk_X509_pop_free(chain, X509_free);
	if (r)
		return cm_err_prefix(e, "PCK leaf certificate");
	cm_json_add_hex(o, "fmspc", ext.fmspc, 6);
	cm_json_add_hex(o, "pce_id", ext.pceid, 2);
	json_object *tcb = json_object_new_object();
	json_object *comps = json_object_new_array();
	for (int i = 0; i < 16; i++)
		json_object_array_add(comps, json_object_new_int(ext.comp_svn[i]));
	json_object_object_add(tcb, "sgx_tcb_components", comps);
	cm_json_add_int(tcb, "pcesvn", ext.pcesvn);
	cm_json_add_hex(tcb, "cpusvn", ext.cpusvn, 16);
	json_object_object_add(o, "pck_tcb", tcb);
	cm_json_add_int(o, "sgx_type", ext.sgx_type);
	return 0;
}

int cm_quote_to_json(const struct cm_quote *q, json_object **out, struct cm_err *e)
{
	json_object *o = json_object_new_object();
	if (!o)
		return cm_fail(e, -ENOMEM, "out of memory");
	cm_json_add_int(o, "version", q->version);
	cm_json_add_str(o, "tee", cm_tee_name(q->tee_type));
	cm_json_add_str(o, "body_type", cm_body_type_name(q->body_type));
	cm_json_add_int(o, "att_key_type", q->att_key_type);
	if (q->version == 3) {
		cm_json_add_int(o, "qe_svn", q->qe_svn);
		cm_json_add_int(o, "pce_svn", q->pce_svn);
	}
	cm_json_add_hex(o, "qe_vendor_id", q->qe_vendor_id, 16);
	cm_json_add_hex(o, "user_data", q->user_data, 20);
	if (cm_quote_is_td(q)) {
		const struct cm_td_report *t = &q->td;
		cm_json_add_hex(o, "tee_tcb_svn", t->tee_tcb_svn, 16);
		cm_json_add_hex(o, "mr_seam", t->mr_seam, 48);
		cm_json_add_hex(o, "mr_signer_seam", t->mr_signer_seam, 48);
		cm_json_add_hex(o, "seam_attributes", t->seam_attributes, 8);
		cm_json_add_hex(o, "td_attributes", t->td_attributes, 8);
		json_object_object_add(o, "td_attributes_flags", td_attribute_names(t->td_attributes));
		cm_json_add_hex(o, "xfam", t->xfam, 8);
		cm_json_add_hex(o, "mrtd", t->mr_td, 48);
		cm_json_add_hex(o, "mrconfigid", t->mr_config_id, 48);
		cm_json_add_hex(o, "mrowner", t->mr_owner, 48);
		cm_json_add_hex(o, "mrownerconfig", t->mr_owner_config, 48);
		static const char *rn[4] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};
		for (int i = 0; i < 4; i++)
			cm_json_add_hex(o, rn[i], t->rtmr[i], 48);
		cm_json_add_hex(o, "report_data", t->report_data, 64);
		if (q->body_type == CM_BODY_TD15) {
			cm_json_add_hex(o, "tee_tcb_svn2", t->tee_tcb_svn2, 16);
			cm_json_add_hex(o, "mr_servicetd", t->mr_servicetd, 48);
		}
	} else {
		add_sgx_report(o, &q->sgx);
	}
	cm_json_add_int(o, "signed_len", (int64_t)q->signed_len);
	cm_json_add_int(o, "sig_data_len", q->sig_data_len);
	cm_json_add_int(o, "trailing_bytes", (int64_t)q->trailing);
	json_object *qe = json_object_new_object();
	add_sgx_report(qe, &q->qe_report);
	json_object_object_add(o, "qe_report", qe);
	cm_json_add_hex(o, "qe_auth_data", q->qe_auth, q->qe_auth_len);
	cm_json_add_int(o, "cert_type", q->cert_type);
	int r = add_pck(o, q, e);
	if (r) {
		json_object_put(o);
		return r;
	}
	if (cm_quote_is_td(q)) {
		struct cm_td_regs regs;
		uint8_t ih[CM_IMAGE_HASH_LEN];
		cm_quote_td_regs(q, &regs);
		if ((r = cm_image_hash(&regs, ih))) {
			json_object_put(o);
			return cm_fail(e, r, "cannot compute the image hash");
		}
		cm_json_add_hex(o, "image_hash", ih, sizeof(ih));
	}
	*out = o;
	return 0;
}
