/* RA-TLS identity from the attestation backend (see identity.h). */
#include "guest/ratls/identity.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "guest/attest/attest.h"
#include "measure/dcap/quote.h"
#include "measure/ratls/cert.h"

int cr_identity_generate(struct ca_backend *b, const char *event_log, time_t not_before, EVP_PKEY **key,
			 X509 **cert, uint8_t image_hash[CM_IMAGE_HASH_LEN], struct cm_err *e)
{
	*key = NULL;
	*cert = NULL;
	uint8_t rd[CR_REPORT_DATA_LEN], *quote = NULL, *log = NULL;
	size_t qlen = 0, loglen = 0;
	EVP_PKEY *k = cr_key_new(e);
	if (!k)
		return -EIO;
	int rc = cr_report_data(k, rd, e);
	if (!rc)
		rc = ca_quote(b, rd, &quote, &qlen, e);
	if (rc)
		goto out;
	struct cm_quote q;
	struct cm_td_regs regs;
	if ((rc = cm_quote_parse(quote, qlen, &q, e)) || (rc = cm_quote_td_regs(&q, &regs))) {
		cm_err_prefix(e, "backend quote");
		rc = rc ? rc : -EINVAL;
		goto out;
	}
	if (memcmp(q.td.report_data, rd, sizeof(rd))) {
		rc = cm_fail(e, -EPROTO, "backend quote does not carry the requested REPORTDATA");
		goto out;
	}
	cm_image_hash(&regs, image_hash);
	if (event_log && *event_log) {
		rc = cm_read_file(event_log, 64 * 1024, &log, &loglen, e);
		if (rc)
			goto out;
	}
	rc = cr_cert_build(k, quote, qlen, log, loglen, not_before, cert, e);
out:
	free(quote);
	free(log);
	if (rc)
		EVP_PKEY_free(k);
	else
		*key = k;
	return rc;
}
