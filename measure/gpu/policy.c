/* The GPU policy (JSON, strict) and the NVML system pre-check (gpu.h; docs/verification.md). */
#include "measure/gpu/gpu_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const struct {
	const char *name;
	unsigned id; /* NVML architecture id */
	const char *chip; /* hwmodel prefix of its device chain */
} archs[] = {
	{"hopper", 9, "GH100 "},
	{"blackwell", 10, "GB100 "},
};

const char *cm_gpu_arch_chip(unsigned id)
{
	for (size_t i = 0; i < sizeof(archs) / sizeof(archs[0]); i++)
		if (archs[i].id == id)
			return archs[i].chip;
	return NULL;
}

int cm_gpu_policy_default(struct cm_gpu_policy **out, struct cm_err *e)
{
	struct cm_gpu_policy *p = calloc(1, sizeof(*p));
	if (!p)
		return cm_fail(e, -ENOMEM, "gpu policy: out of memory");
	p->count_min = 1;
	p->count_max = CM_GPU_MAX;
	p->arch_mask = 1u << 9;
	p->cc_required = p->production_required = p->fwid_required = true;
	p->rim_required = -1;
	p->device_root = cm_gpu_pem_cert(cm_gpu_device_root_pem);
	p->rim_root = cm_gpu_pem_cert(cm_gpu_rim_root_pem);
	if (!p->device_root || !p->rim_root) {
		cm_gpu_policy_free(p);
		return cm_fail(e, -ENOMEM, "gpu policy: cannot load the pinned NVIDIA roots");
	}
	*out = p;
	return 0;
}

void cm_gpu_policy_free(struct cm_gpu_policy *p)
{
	if (!p)
		return;
	X509_free(p->device_root);
	X509_free(p->rim_root);
	free(p->rim_dir);
	free(p);
}

int cm_gpu_policy_set_rim_dir(struct cm_gpu_policy *p, const char *dir, struct cm_err *e)
{
	char *copy = NULL;
	struct stat st;
	if (dir && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)))
		return cm_fail(e, -ENOTDIR, "gpu RIM bundle: %s is not a directory", dir);
	if (dir && !(copy = strdup(dir)))
		return cm_fail(e, -ENOMEM, "gpu policy: out of memory");
	free(p->rim_dir);
	p->rim_dir = copy;
	return 0;
}

int cm_gpu_policy_set_roots(struct cm_gpu_policy *p, X509 *device_root, X509 *rim_root)
{
	if ((device_root && !X509_up_ref(device_root)) || (rim_root && !X509_up_ref(rim_root)))
		return -ENOMEM;
	if (device_root) {
		X509_free(p->device_root);
		p->device_root = device_root;
	}
	if (rim_root) {
		X509_free(p->rim_root);
		p->rim_root = rim_root;
	}
	return 0;
}

static int bool_key(const struct cm_jv *v, const char *key, bool *out, struct cm_err *e)
{
	struct cm_jv m;
	return cm_jv_get(v, key, &m) ? cm_jv_bool(&m, out, e) : 0;
}

static int str_list(const struct cm_jv *v, const char *key, char (*out)[32], size_t *n, struct cm_err *e)
{
	struct cm_jv m;
	if (!cm_jv_get(v, key, &m))
		return 0;
	int rc = cm_jv_array(&m, 1, CM_GPU_VERSIONS_MAX, n, e);
	for (size_t i = 0; i < *n && !rc; i++) {
		struct cm_jv it = cm_jv_elem(&m, i);
		const char *s;
		rc = cm_jv_str(&it, 1, 31, &s, e);
		if (!rc)
			strcpy(out[i], s);
	}
	return rc;
}

static int arch_list(const struct cm_jv *v, uint32_t *mask, struct cm_err *e)
{
	struct cm_jv m;
	size_t n;
	if (!cm_jv_get(v, "architectures", &m))
		return 0;
	int rc = cm_jv_array(&m, 1, 8, &n, e);
	*mask = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		struct cm_jv it = cm_jv_elem(&m, i);
		const char *s;
		size_t k = 0;
		if ((rc = cm_jv_str(&it, 1, 31, &s, e)))
			break;
		while (k < sizeof(archs) / sizeof(archs[0]) && strcmp(archs[k].name, s) != 0)
			k++;
		if (k == sizeof(archs) / sizeof(archs[0]))
			rc = cm_jv_fail(&it, e, -EINVAL, "unknown architecture '%s' (hopper, blackwell)", s);
		else
			*mask |= 1u << archs[k].id;
	}
	return rc;
}

static int rim_required(const struct cm_jv *v, int *out, struct cm_err *e)
{
	struct cm_jv m;
	size_t n;
	if (!cm_jv_get(v, "rim_required", &m))
		return 0;
	int rc = cm_jv_array(&m, 0, 2, &n, e);
	*out = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		struct cm_jv it = cm_jv_elem(&m, i);
		const char *s;
		if ((rc = cm_jv_str(&it, 1, 16, &s, e)))
			break;
		int bit = strcmp(s, "driver") == 0 ? CM_GPU_RIM_DRIVER : strcmp(s, "vbios") == 0 ? CM_GPU_RIM_VBIOS : 0;
		if (!bit || (*out & bit))
			rc = cm_jv_fail(&it, e, -EINVAL, "want \"driver\" or \"vbios\", each once");
		*out |= bit;
	}
	return rc;
}

static int rim_time(const struct cm_jv *v, struct cm_gpu_policy *p, struct cm_err *e)
{
	struct cm_jv m;
	if (!cm_jv_get(v, "rim_time", &m))
		return 0;
	if (json_object_is_type(m.o, json_type_string)) {
		const char *s;
		int rc = cm_jv_str(&m, 1, 32, &s, e);
		if (rc)
			return rc;
		if (strcmp(s, "verification") != 0)
			return cm_jv_fail(&m, e, -EINVAL, "want \"verification\" or unix seconds");
		p->rim_time_fixed = false;
		return 0;
	}
	p->rim_time_fixed = true;
	return cm_jv_int(&m, 0, INT64_MAX, &p->rim_time, e);
}

static int rim_pins(const struct cm_jv *v, struct cm_gpu_policy *p, struct cm_err *e)
{
	struct cm_jv m;
	if (!cm_jv_get(v, "rim_sha256", &m))
		return 0;
	int rc = cm_jv_array(&m, 1, CM_GPU_RIM_PINS_MAX, &p->n_rim_pins, e);
	for (size_t i = 0; i < p->n_rim_pins && !rc; i++) {
		struct cm_jv it = cm_jv_elem(&m, i);
		rc = cm_jv_hex(&it, p->rim_pins[i], 32, e);
	}
	return rc;
}

int cm_gpu_policy_parse(const struct cm_jv *v, struct cm_gpu_policy **out, struct cm_err *e)
{
	static const char *const keys[] = {
		"count_min", "count_max", "architectures", "cc_required", "devtools_allowed",
		"production_required", "ppcie_allowed", "nvle_allowed", "fwid_required", "ocsp_required",
		"rim_required", "rim_time", "rim_sha256", "driver_versions", "vbios_versions", NULL,
	};
	struct cm_gpu_policy *p;
	*out = NULL;
	int rc = cm_jv_object(v, keys, e);
	if (rc || (rc = cm_gpu_policy_default(&p, e)))
		return rc;
	int64_t lo = p->count_min, hi = p->count_max;
	struct cm_jv m;
	if ((cm_jv_get(v, "count_min", &m) && (rc = cm_jv_int(&m, 1, CM_GPU_MAX, &lo, e))) ||
	    (cm_jv_get(v, "count_max", &m) && (rc = cm_jv_int(&m, 1, CM_GPU_MAX, &hi, e))))
		goto fail;
	if (lo > hi) {
		rc = cm_jv_fail(v, e, -EINVAL, "count_min %lld is above count_max %lld", (long long)lo, (long long)hi);
		goto fail;
	}
	p->count_min = (unsigned)lo;
	p->count_max = (unsigned)hi;
	if ((rc = arch_list(v, &p->arch_mask, e)) || (rc = bool_key(v, "cc_required", &p->cc_required, e)) ||
	    (rc = bool_key(v, "devtools_allowed", &p->devtools_allowed, e)) ||
	    (rc = bool_key(v, "production_required", &p->production_required, e)) ||
	    (rc = bool_key(v, "ppcie_allowed", &p->ppcie_allowed, e)) ||
	    (rc = bool_key(v, "nvle_allowed", &p->nvle_allowed, e)) ||
	    (rc = bool_key(v, "fwid_required", &p->fwid_required, e)) ||
	    (rc = bool_key(v, "ocsp_required", &p->ocsp_required, e)) || (rc = rim_required(v, &p->rim_required, e)) ||
	    (rc = rim_time(v, p, e)) || (rc = rim_pins(v, p, e)) ||
	    (rc = str_list(v, "driver_versions", p->drivers, &p->n_drivers, e)) ||
	    (rc = str_list(v, "vbios_versions", p->vbios, &p->n_vbios, e)))
		goto fail;
	*out = p;
	return 0;
fail:
	cm_gpu_policy_free(p);
	return rc;
}

bool cm_gpu_version_allowed(char (*list)[32], size_t n, const char *v)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(list[i], v) == 0)
			return true;
	return false;
}

int cm_gpu_check_count(const struct cm_gpu_policy *p, unsigned count, struct cm_err *e)
{
	if (count < p->count_min || count > p->count_max)
		return cm_fail_check(e, -EACCES, "gpu_count", "gpu system: %u GPUs (policy: %u..%u)", count,
				     p->count_min, p->count_max);
	return 0;
}

int cm_gpu_check_system(const struct cm_gpu_system *s, const struct cm_gpu_policy *p, struct cm_err *e)
{
	if (p->cc_required && !s->cc_on)
		return cm_fail_check(e, -EACCES, "gpu_cc_mode", "gpu system: confidential computing mode is off");
	if (!p->devtools_allowed && s->devtools_on)
		return cm_fail_check(e, -EACCES, "gpu_devtools", "gpu system: developer tools mode is on");
	if (p->production_required && !s->production_env)
		return cm_fail_check(e, -EACCES, "gpu_environment", "gpu system: not the production environment");
	if ((s->multi == CM_GPU_MULTI_PPCIE && !p->ppcie_allowed) || (s->multi == CM_GPU_MULTI_NVLE && !p->nvle_allowed) ||
	    (s->multi != CM_GPU_MULTI_NONE && s->multi != CM_GPU_MULTI_PPCIE && s->multi != CM_GPU_MULTI_NVLE))
		return cm_fail_check(e, -EACCES, "gpu_multi_gpu_mode", "gpu system: multi-GPU mode %s not allowed",
				     s->multi == CM_GPU_MULTI_PPCIE ? "protected PCIe" : s->multi == CM_GPU_MULTI_NVLE ? "NVLE" : "unknown");
	int rc = cm_gpu_check_count(p, s->count, e);
	if (rc)
		return rc;
	for (unsigned i = 0; i < s->count; i++)
		if (s->arch[i] >= 32 || !(p->arch_mask & (1u << s->arch[i])))
			return cm_fail_check(e, -EACCES, "gpu_arch", "gpu system: GPU %u has architecture %u, not allowed", i,
					     s->arch[i]);
	if (!cm_gpu_version_allowed((char (*)[32])p->drivers, p->n_drivers, s->driver_version))
		return cm_fail_check(e, -EACCES, "gpu_policy_driver", "gpu system: driver %s not allowed", s->driver_version);
	return 0;
}
