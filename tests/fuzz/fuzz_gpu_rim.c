/* libFuzzer target: the NVIDIA RIM reader (measure/gpu/rim.c): libxml2 parse with the SWID
 * structure checks, then for what parses the XMLDSig checks (C14N of the document and of
 * SignedInfo, digest, signature), the signer chain and the index-conflict check. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "measure/gpu/gpu_impl.h"
#include "measure/gpu/rim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_gpu_rim *r;
	struct cm_err e;
	static X509 *root;
	if (!root && !(root = cm_gpu_pem_cert(cm_gpu_rim_root_pem)))
		abort();
	if (cm_gpu_rim_parse(data, size, &r, &e) != 0)
		return 0;
	if (r->n_meas == 0 || sk_X509_num(r->certs) == 0)
		abort();
	cm_gpu_rim_verify_signature(r, &e);
	cm_gpu_rim_verify_chain(r, root, 1735689600, &e);
	cm_gpu_rim_no_conflict(r, r, &e);
	cm_gpu_rim_free(r);
	return 0;
}
