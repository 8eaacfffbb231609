/* The fake_tdx identity (see fake_tdx.h). */
#include "guest/ratls/fake_tdx.h"

#include <errno.h>

#include "measure/ratls/cert.h"

int cr_identity_generate_fake(time_t not_before, EVP_PKEY **key, X509 **cert, uint8_t image_hash[CM_IMAGE_HASH_LEN],
			      struct cm_err *e)
{
	*key = NULL;
	*cert = NULL;
	uint8_t rd[CR_REPORT_DATA_LEN];
	struct cm_td_regs zero = {0};
	EVP_PKEY *k = cr_key_new(e);
	if (!k)
		return -EIO;
	int rc = cr_report_data(k, rd, e);
	if (!rc)
		rc = cr_cert_build(k, rd, sizeof(rd), NULL, 0, not_before, cert, e);
	if (!rc)
		rc = cm_image_hash(&zero, image_hash) ? cm_fail(e, -EIO, "SHA-256 failed") : 0;
	if (rc) {
		X509_free(*cert);
		*cert = NULL;
		EVP_PKEY_free(k);
		return rc;
	}
	*key = k;
	return 0;
}
