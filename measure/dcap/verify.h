/* Offline DCAP quote verification (SGX v3, TDX v4/v5): quote + collateral bundle +
 * explicit time + trust anchor -> structured verdict (specs/attestation.md §1.7, §2, §6).
 * Verdicts and check names: docs/verification.md. */
#ifndef COCOON_MEASURE_VERIFY_H
#define COCOON_MEASURE_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <openssl/x509.h>

#include "measure/dcap/collateral.h"
#include "measure/dcap/policy.h"
#include "measure/dcap/quote.h"
#include "measure/dcap/tcb.h"

enum cm_verdict {
	CM_VERDICT_OK = 0,
	CM_VERDICT_INVALID,  /* broken, untrusted, expired or unsupported evidence */
	CM_VERDICT_REJECTED, /* valid evidence that the policy does not accept */
};
const char *cm_verdict_name(enum cm_verdict v); /* "ok", "invalid", "rejected" */

struct cm_verify_opts {
	int64_t time;                      /* verification time, unix seconds (required) */
	X509 *anchor;                      /* trust anchor; NULL = pinned Intel SGX Root CA */
	const struct cm_policy *policy;    /* NULL = cm_policy_default() */
	struct cm_collateral_cache *cache; /* NULL = load the bundle for this call only */
};

struct cm_verify_result {
	enum cm_verdict verdict;
	const char *failed_check;  /* stable name, NULL when ok */
	char message[CM_ERR_MAX];
	bool has_tcb;              /* TCB evaluated */
	struct cm_tcb_eval tcb;    /* status, component statuses, advisory IDs */
	bool has_pck;
	struct cm_pck_ext pck;     /* FMSPC, PCE-ID, TCB components of the PCK certificate */
	enum cm_pck_ca pck_ca;
	bool has_root_key_id;
	uint8_t root_key_id[48];
	int64_t collateral_expiry; /* earliest nextUpdate/notAfter of the collateral (0 if unknown) */
	/* Measured values (copied from the quote; only meaningful when verdict is ok). */
	bool is_td;
	struct cm_td_regs regs;    /* TD: MRTD, MRCONFIGID, MROWNER, MROWNERCONFIG, RTMR0..3 */
	uint8_t image_hash[32];    /* TD: Cocoon image hash */
	uint8_t report_data[64];   /* TD or enclave REPORTDATA */
	uint8_t mr_enclave[32], mr_signer[32]; /* SGX */
};

/* Verify a parsed quote against a bundle (JSON text). Returns 0 when the verdict is ok,
 * -EACCES otherwise; r is always filled. */
int cm_verify_quote(const struct cm_quote *q, const char *bundle, size_t bundle_len,
		    const struct cm_verify_opts *o, struct cm_verify_result *r);

/* The same with an already loaded bundle. */
int cm_verify_quote_with(const struct cm_quote *q, struct cm_collateral *c, const struct cm_verify_opts *o,
			 struct cm_verify_result *r);

/* Adds verdict, failed_check, message, tcb_status, advisory_ids, component statuses,
 * fmspc, pce_id, pck_ca, root_key_id and collateral_expiry to obj. Measured values are not
 * rendered (cm_quote_to_json has them). */
void cm_verify_result_to_json(const struct cm_verify_result *r, json_object *obj);

#endif
