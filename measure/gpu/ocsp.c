/* The offline OCSP bundle: NVIDIA-signed OCSP responses (DER, one per file, <dir>/ocsp/NAME.der)
 * that the operator fetched and shipped with the RIMs (specs/gpu.md §3.4 option (c)). A response
 * counts when it is signed by a certificate that chains to the pinned root (the CA itself or
 * its delegated OCSP signer) and cert's status in it is current at the verification time
 * (thisUpdate at most 5 minutes ahead, nextUpdate present and not passed). No nonce: the
 * validity window is the replay bound. */
#include "measure/gpu/gpu_impl.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>

#define OCSP_FILE_MAX (64u << 10)
#define OCSP_FILES_MAX 256
#define OCSP_SKEW 300

/* The status of cert in one response: 1 good, 0 not in it; negative with e on a bad response
 * or a revoked / unknown cert. */
static int one(const char *path, const uint8_t *der, size_t len, X509 *cert, X509 *issuer, STACK_OF(X509) *chain,
	       X509 *root, int64_t now, struct cm_err *e)
{
	const uint8_t *p = der;
	OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	OCSP_BASICRESP *bs = NULL;
	X509_STORE *st = NULL;
	int rc = 0;
	if (!resp || p != der + len || OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL ||
	    !(bs = OCSP_response_get1_basic(resp))) {
		rc = cm_fail_check(e, -EBADMSG, "gpu_ocsp", "gpu OCSP: %s is not a successful DER OCSP response", path);
		goto out;
	}
	int idx = -1;
	for (int i = 0; i < OCSP_resp_count(bs) && idx < 0; i++) {
		OCSP_SINGLERESP *sr = OCSP_resp_get0(bs, i);
		ASN1_OBJECT *md_oid = NULL;
		OCSP_id_get0_info(NULL, &md_oid, NULL, NULL, (OCSP_CERTID *)OCSP_SINGLERESP_get0_id(sr));
		const EVP_MD *md = md_oid ? EVP_get_digestbyobj(md_oid) : NULL;
		OCSP_CERTID *id = md ? OCSP_cert_to_id(md, cert, issuer) : NULL;
		if (id && OCSP_id_cmp(id, OCSP_SINGLERESP_get0_id(sr)) == 0)
			idx = i;
		OCSP_CERTID_free(id);
	}
	if (idx < 0)
		goto out;
	if (!(st = X509_STORE_new()) || !X509_STORE_add_cert(st, root)) {
		rc = cm_fail(e, -ENOMEM, "gpu OCSP: out of memory");
		goto out;
	}
	X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(st), (time_t)now);
	if (OCSP_basic_verify(bs, chain, st, 0) != 1) {
		rc = cm_fail_check(e, -EACCES, "gpu_ocsp", "gpu OCSP: the response in %s is not signed under the pinned root",
				   path);
		goto out;
	}
	int reason = 0;
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	int status = OCSP_single_get0_status(OCSP_resp_get0(bs, idx), &reason, &rev, &thisupd, &nextupd);
	time_t late = (time_t)now + OCSP_SKEW, t = (time_t)now;
	if (!thisupd || !nextupd || X509_cmp_time(thisupd, &late) >= 0 || X509_cmp_time(nextupd, &t) <= 0) {
		rc = cm_fail_check(e, -EACCES, "gpu_ocsp", "gpu OCSP: the response in %s is not current at %lld", path,
				   (long long)now);
		goto out;
	}
	if (status == V_OCSP_CERTSTATUS_GOOD)
		rc = 1;
	else
		rc = cm_fail_check(e, -EACCES, "gpu_ocsp_revoked", "gpu OCSP: %s says the certificate is %s", path,
				   status == V_OCSP_CERTSTATUS_REVOKED ? "revoked" : "unknown");
out:
	X509_STORE_free(st);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	ERR_clear_error();
	return rc;
}

int cm_gpu_ocsp_status(const char *dir, X509 *cert, X509 *issuer, STACK_OF(X509) *chain, X509 *root,
		       int64_t now, struct cm_err *e)
{
	char path[4096];
	if (!dir || snprintf(path, sizeof(path), "%s/ocsp", dir) >= (int)sizeof(path))
		return 0;
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : cm_fail_check(e, -errno, "gpu_ocsp", "gpu OCSP: cannot read %s", path);
	int rc = 0, files = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n < 5 || strcmp(de->d_name + n - 4, ".der") != 0)
			continue;
		if (++files > OCSP_FILES_MAX) {
			rc = cm_fail_check(e, -E2BIG, "gpu_ocsp", "gpu OCSP: more than %d responses in %s", OCSP_FILES_MAX, path);
			break;
		}
		char f[4352];
		uint8_t *buf;
		size_t len;
		snprintf(f, sizeof(f), "%s/%s", path, de->d_name);
		if ((rc = cm_read_file(f, OCSP_FILE_MAX, &buf, &len, e))) {
			cm_err_check(e, rc, "gpu_ocsp");
			break;
		}
		rc = one(f, buf, len, cert, issuer, chain, root, now, e);
		free(buf);
	}
	closedir(d);
	return rc;
}
