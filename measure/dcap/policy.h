/* Verification policy (not DCAP): which TCB statuses are acceptable and which measured
 * values are allowed. File format and verdicts: docs/verification.md.
 *
 * Every allowlist is "empty = any" (as in Cocoon). The default policy accepts only
 * UpToDate, rejects debug TDs/enclaves, requires SEPT_VE_DISABLE and a zero MRSERVICETD,
 * and pins the Intel root key id Cocoon whitelists (CM_COCOON_ROOT_KEY_ID). */
#ifndef COCOON_MEASURE_POLICY_H
#define COCOON_MEASURE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "measure/core/util.h"
#include "measure/dcap/quote.h"
#include "measure/dcap/tcb.h"

#define CM_COCOON_ROOT_KEY_ID \
	"46e403bd34f05a3f2817ab9badcaacc7ffc98e0f261008cd30dae936cace18d5dcf58eef31463613de1570d516200993"

struct cm_policy {
	uint32_t accepted_statuses;  /* bit (1u << enum cm_tcb_status) */
	bool allow_debug;
	bool require_sept_ve_disable; /* TD quotes */
	bool allow_mr_servicetd;      /* non-zero MRSERVICETD (TD 1.5) */
	bool allow_sgx;               /* SGX enclave quotes at all */
	bool allow_any_image;         /* says explicitly: no MRTD/RTMR/image hash allowlist */
	uint32_t min_tcb_eval_number; /* min_tcb_evaluation_data_number of the collateral (0: any) */
	size_t n_mrtd, n_rtmrs, n_image_hashes, n_root_key_ids;
	uint8_t (*mrtd)[48];
	uint8_t (*rtmrs)[4][48];
	uint8_t (*image_hashes)[32];
	uint8_t (*root_key_ids)[48];
	bool has_report_data;
	uint8_t report_data[64];
};

/* Fill the default policy (allocates the root key id list). */
int cm_policy_default(struct cm_policy *p);
/* Parse a policy JSON document; keys left out keep their defaults. Unknown keys fail. */
int cm_policy_parse(const char *json, size_t len, struct cm_policy *p, struct cm_err *e);
int cm_policy_load(const char *path, struct cm_policy *p, struct cm_err *e);
void cm_policy_free(struct cm_policy *p);
/* Whether p names the TD images it accepts: a non-empty mrtd, rtmrs or image_hashes list.
 * Peer policies of cocoon-ratls must, unless allow_any_image is set (docs/ratls.md). */
bool cm_policy_pins_image(const struct cm_policy *p);

/* Apply p to a verified quote. tcb_status and root_key_id come from verification.
 * Returns 0, or -EACCES with *check set ("policy_tcb_status", "policy_debug",
 * "policy_sgx", "policy_td_attributes", "policy_mr_servicetd", "policy_root_key_id",
 * "policy_mrtd", "policy_rtmrs", "policy_image_hash", "policy_report_data"). */
int cm_policy_check(const struct cm_policy *p, const struct cm_quote *q, enum cm_tcb_status tcb_status,
		    const uint8_t root_key_id[48], struct cm_err *e);

/* The collateral the quote verified against must have TCB info and QE identity
 * tcbEvaluationDataNumber >= p->min_tcb_eval_number. -EACCES with the check
 * "policy_tcb_evaluation_data_number" in e when older. */
int cm_policy_check_collateral(const struct cm_policy *p, const struct cm_tcb_info *tcb,
			       const struct cm_qe_identity *qe, struct cm_err *e);

#endif
