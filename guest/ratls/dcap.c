/* Adapter to libmeasure's quote verifier (see dcap.h).
 * TRANSITIONAL: measure/verify.h has not landed in main yet; until it does, `tdx`
 * policies fail closed ("quote_verification": verifier not built in). */
#include "guest/ratls/dcap.h"

#include <errno.h>
#include <stdlib.h>

struct cr_dcap_policy {
	int unused;
};

int cr_dcap_policy_load(const struct cr_policy_conf *c, struct cr_dcap_policy **out, struct cm_err *e)
{
	(void)c;
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : cm_fail(e, -ENOMEM, "out of memory");
}

int cr_dcap_policy_reload_collateral(struct cr_dcap_policy *p, const struct cr_policy_conf *c, struct cm_err *e)
{
	(void)p;
	(void)c;
	(void)e;
	return 0;
}

void cr_dcap_policy_free(struct cr_dcap_policy *p)
{
	free(p);
}

int cr_dcap_verify(struct cr_dcap_policy *p, const struct cm_quote *q, int64_t t, struct cr_dcap_result *out,
		   const char **check, struct cm_err *e)
{
	(void)p;
	(void)q;
	(void)t;
	(void)out;
	*check = "quote_verification";
	return cm_fail(e, -EBADMSG, "quote verifier not available in this build");
}

bool cr_dcap_same_anchor(const struct cr_dcap_policy *p, const struct cr_dcap_result *r)
{
	(void)p;
	(void)r;
	return false;
}

int cr_dcap_policy_check(const struct cr_dcap_policy *p, const struct cm_quote *q, const struct cr_dcap_result *r,
			 const uint8_t image_hash[32], const char **check, struct cm_err *e)
{
	(void)p;
	(void)q;
	(void)r;
	(void)image_hash;
	*check = "policy";
	return cm_fail(e, -EACCES, "no policy");
}
