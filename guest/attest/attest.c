/* Attestation backend by name (attest.h): ca_open picks the backend's operations; the
 * backend object itself is backend.c. */
#include "guest/attest/attest.h"

#include <errno.h>
#include <string.h>

extern const struct ca_ops ca_tdx_ops;
/* guest/attest/tpm.c, linked (as an object, with tpm2-tss) only into the programs that need
 * it: the weak reference is NULL elsewhere and keeps tss2 out of them. */
extern const struct ca_ops ca_tpm_ops __attribute__((weak));
#ifdef CA_HAVE_SIM
/* guest/attest/sim.c (built when guest/attest/sim.mk is present). */
extern const struct ca_ops ca_sim_ops;
#endif

int ca_open(const char *name, const char *event_log, struct ca_backend **out, struct cm_err *e)
{
	*out = NULL;
	if (!name)
		return cm_fail(e, -EINVAL, "no attestation backend named");
	if (strcmp(name, "tdx") == 0)
		return ca_open_ops(&ca_tdx_ops, event_log, NULL, out, e);
	if (strcmp(name, "sim") == 0) {
#ifdef CA_HAVE_SIM
		return ca_open_ops(&ca_sim_ops, event_log, NULL, out, e);
#else
		return cm_fail(e, -ENOTSUP, "attestation backend \"sim\" is not built into this binary");
#endif
	}
	if (strcmp(name, "tpm") == 0) {
		if (!&ca_tpm_ops)
			return cm_fail(e, -ENOTSUP, "attestation backend \"tpm\" is not built into this binary");
		return ca_open_ops(&ca_tpm_ops, event_log, NULL, out, e);
	}
	return cm_fail(e, -EINVAL, "unknown attestation backend \"%.32s\" (tdx, sim or tpm)", name);
}
