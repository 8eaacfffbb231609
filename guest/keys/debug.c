/* The debug key provider: a fixed, public key derivation for development images.
 * Refused unless the measured cmdline has cocoon.debug; opening it extends RTMR3 with
 * "cocoon:cocoon_debug", so a quote always shows that its keys are public.
 *
 * key(name) = first len bytes of SHA-512("cocoon debug key v1" || 0x00 || name). */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "guest/keys/keys.h"
#include "measure/core/digest.h"
#include "measure/eventlog/rtmr3.h"

#define DEBUG_KEY_LABEL "cocoon debug key v1"

static int debug_open(struct ck_provider *p, struct cm_err *e)
{
	if (!p->env.debug)
		return cm_fail(e, -EPERM, "the debug key provider needs cocoon.debug on the kernel command line");
	if (!p->env.attest)
		return cm_fail(e, -EINVAL, "no attestation backend to measure the debug key");
	return ca_extend_event(p->env.attest, 3, CM_EVENT_DEBUG, e);
}

static int debug_derive(struct ck_provider *p, const char *key_name, uint8_t *out, size_t len, struct cm_err *e)
{
	(void)p;
	uint8_t msg[sizeof DEBUG_KEY_LABEL + CK_NAME_MAX];
	size_t n = strlen(key_name);
	memcpy(msg, DEBUG_KEY_LABEL, sizeof DEBUG_KEY_LABEL); /* includes the 0x00 separator */
	memcpy(msg + sizeof DEBUG_KEY_LABEL, key_name, n);
	uint8_t d[64];
	if (cm_sha512(msg, sizeof DEBUG_KEY_LABEL + n, d) < 0)
		return cm_fail(e, -EIO, "sha512 failed");
	memcpy(out, d, len);
	OPENSSL_cleanse(d, sizeof d);
	return 0;
}

const struct ck_ops ck_debug_ops = {
	.name = "debug",
	.open = debug_open,
	.derive = debug_derive,
	.close = NULL,
};
