/* The adapter between cocoon-ratls and libmeasure's quote verifier: the only file that
 * calls it (measure/dcap/verify.h). Internal to measure/ratls (peer.c). */
#ifndef COCOON_RATLS_DCAP_H
#define COCOON_RATLS_DCAP_H

#include <stdint.h>

#include "measure/core/util.h"
#include "measure/dcap/policy.h"
#include "measure/dcap/quote.h"
#include "measure/ratls/peer.h"

/* A DCAP verification result worth caching (independent of the per-policy checks). */
struct cr_dcap_result {
	int tcb;                   /* enum cm_tcb_status */
	char tcb_status[48];
	uint8_t root_key_id[48];   /* the trust anchor that verified it */
	int64_t valid_until;       /* earliest end of the collateral and PCK certificate windows */
};

struct cr_dcap_policy;

int cr_dcap_policy_load(const struct cr_policy_conf *c, struct cr_dcap_policy **out, struct cm_err *e);
int cr_dcap_policy_reload_collateral(struct cr_dcap_policy *p, const struct cr_policy_conf *c, struct cm_err *e);
void cr_dcap_policy_free(struct cr_dcap_policy *p);

/* The configured libmeasure policy (allowlists, allow_debug, allow_any_image). */
const struct cm_policy *cr_dcap_policy_measure(const struct cr_dcap_policy *p);

/* The newest issueDate (TCB info, QE identity) of the loaded collateral; 0 without any. */
int64_t cr_dcap_policy_newest_issue(const struct cr_dcap_policy *p);

/* Signatures, PCK chain, collateral and TCB evaluation at time t; the collateral must also
 * meet the policy's min_tcb_evaluation_data_number (-EACCES otherwise). */
int cr_dcap_verify(struct cr_dcap_policy *p, const struct cm_quote *q, int64_t t, struct cr_dcap_result *out,
		   struct cm_err *e);
/* The policy's allowlists and accepted TCB statuses. -EACCES when rejected. */
int cr_dcap_policy_check(const struct cr_dcap_policy *p, const struct cm_quote *q, const struct cr_dcap_result *r,
			 const uint8_t image_hash[32], struct cm_err *e);

#endif
