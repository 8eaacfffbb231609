/* The multi-GPU evidence bundle (bundle.h). */
#include "measure/gpu/bundle.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "measure/core/json.h"
#include "measure/gpu/spdm.h"

static int b64_member(const struct cm_jv *obj, const char *key, size_t max, uint8_t **out, size_t *n, struct cm_err *e)
{
	struct cm_jv m;
	const char *s;
	int rc = cm_jv_need(obj, key, &m, e);
	if (rc || (rc = cm_jv_str(&m, 4, max / 3 * 4 + 4, &s, e)))
		return rc;
	size_t len = strlen(s);
	if (!(*out = malloc(len / 4 * 3 + 3)))
		return cm_fail(e, -ENOMEM, "out of memory");
	if (cm_base64_decode(s, len, true, *out, max, n))
		return cm_jv_fail(&m, e, -EBADMSG, "not base64 (at most %zu bytes)", max);
	return 0;
}

static int opt_str(const struct cm_jv *obj, const char *key, char *out, size_t n, struct cm_err *e)
{
	struct cm_jv m;
	return cm_jv_get(obj, key, &m) ? cm_jv_strcpy(&m, out, n, e) : 0;
}

int cm_gpu_bundle_parse(const char *json, size_t len, const char *doc, struct cm_gpu_bundle_entry **out,
			size_t *n, struct cm_err *e)
{
	static const char *const keys[] = {"arch", "nonce", "evidence", "certificate", "driver_version",
					   "vbios_version", "version", NULL};
	struct cm_jv root, m;
	*out = NULL;
	*n = 0;
	int rc = cm_json_read(json, len, CM_GPU_BUNDLE_MAX, doc, &root, e);
	if (rc)
		return rc;
	size_t count;
	struct cm_gpu_bundle_entry *b = NULL;
	if ((rc = cm_jv_array(&root, 1, CM_GPU_MAX, &count, e)))
		goto out;
	if (!(b = calloc(count, sizeof(*b)))) {
		rc = cm_fail(e, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < count && !rc; i++) {
		struct cm_jv it = cm_jv_elem(&root, i);
		struct cm_gpu_bundle_entry *x = &b[i];
		if ((rc = cm_jv_object(&it, keys, e)) ||
		    (rc = b64_member(&it, "evidence", CM_GPU_REPORT_MAX, &x->report, &x->report_len, e)) ||
		    (rc = b64_member(&it, "certificate", 16384, &x->chain, &x->chain_len, e)) ||
		    (rc = cm_jv_need(&it, "nonce", &m, e)) || (rc = cm_jv_hex(&m, x->nonce, CM_GPU_NONCE_LEN, e)) ||
		    (rc = opt_str(&it, "arch", x->arch, sizeof(x->arch), e)) ||
		    (rc = opt_str(&it, "driver_version", x->driver_version, sizeof(x->driver_version), e)) ||
		    (rc = opt_str(&it, "vbios_version", x->vbios_version, sizeof(x->vbios_version), e)))
			break;
		if (cm_jv_get(&it, "version", &m) && (rc = cm_jv_str(&m, 0, 16, &(const char *){NULL}, e)))
			break;
	}
	if (rc) {
		cm_gpu_bundle_free(b, count);
		goto out;
	}
	*out = b;
	*n = count;
out:
	cm_json_release(&root);
	return rc;
}

void cm_gpu_bundle_free(struct cm_gpu_bundle_entry *b, size_t n)
{
	for (size_t i = 0; b && i < n; i++) {
		free(b[i].report);
		free(b[i].chain);
	}
	free(b);
}
