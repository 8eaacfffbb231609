/* RA-TLS identity from the attestation backend (see identity.h). */
#include "guest/ratls/identity.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "guest/attest/attest.h"
#include "guest/gpu/nvml.h"
#include "measure/dcap/quote.h"
#include "measure/ratls/cert.h"
#include "measure/ratls/gpuext.h"

int cr_identity_gpu_evidence(const char *nvml_lib, EVP_PKEY *key, uint8_t **der, size_t *len, struct cm_err *e)
{
	*der = NULL;
	uint8_t nonce[CM_GPU_NONCE_LEN];
	struct cg_nvml *n = NULL;
	struct cr_gpu_ext *x = calloc(1, sizeof(*x));
	struct cg_evidence *ev = calloc(CM_GPU_MAX, sizeof(*ev));
	int rc = x && ev ? 0 : cm_fail(e, -ENOMEM, "out of memory");
	if (!rc)
		rc = cr_gpu_nonce(key, nonce, e);
	if (!rc)
		rc = cg_nvml_open(nvml_lib, &n, e);
	if (!rc)
		rc = cg_nvml_system(n, &x->sys, e);
	if (!rc && x->sys.count == 0)
		rc = cm_fail_check(e, -ENODEV, "gpu_count", "no GPU");
	for (unsigned i = 0; !rc && i < x->sys.count; i++)
		if (!(rc = cg_nvml_evidence(n, i, nonce, &ev[i], e)))
			x->gpu[i] = ev[i].evidence;
	if (!rc)
		rc = cr_gpu_ext_encode(x, der, len, e);
	cg_nvml_close(n);
	free(ev);
	free(x);
	return rc ? cm_err_prefix(e, "GPU evidence") : 0;
}

int cr_identity_certify(struct ca_backend *b, EVP_PKEY *k, const char *event_log, const char *nvml_lib,
			time_t not_before, X509 **cert, uint8_t image_hash[CM_IMAGE_HASH_LEN], struct cm_err *e)
{
	*cert = NULL;
	uint8_t rd[CR_REPORT_DATA_LEN], *quote = NULL, *log = NULL, *gpu = NULL;
	size_t qlen = 0, loglen = 0, gpulen = 0;
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
		rc = cm_read_file(event_log, CR_EVENTLOG_MAX, &log, &loglen, e);
		if (rc)
			goto out;
	}
	if (nvml_lib && (rc = cr_identity_gpu_evidence(nvml_lib, k, &gpu, &gpulen, e)))
		goto out;
	rc = cr_cert_build_gpu(k, quote, qlen, log, loglen, gpu, gpulen, not_before, cert, e);
out:
	free(quote);
	free(log);
	free(gpu);
	return rc;
}

int cr_identity_generate(struct ca_backend *b, const char *event_log, const char *nvml_lib, time_t not_before,
			 EVP_PKEY **key, X509 **cert, uint8_t image_hash[CM_IMAGE_HASH_LEN], struct cm_err *e)
{
	*key = NULL;
	EVP_PKEY *k = cr_key_new(e);
	if (!k)
		return -EIO;
	int rc = cr_identity_certify(b, k, event_log, nvml_lib, not_before, cert, image_hash, e);
	if (rc)
		EVP_PKEY_free(k);
	else
		*key = k;
	return rc;
}
