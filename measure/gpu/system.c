/* The NVML system state as a JSON document (gpu.h): what cocoon-init read through NVML,
 * handed to the verifier (`cocoon-measure gpu --system FILE`). OpenSSL-free, libxml2-free:
 * cocoon-init links it. */
#include <errno.h>
#include <string.h>

#include "measure/core/json.h"
#include "measure/gpu/gpu.h"

static const char *const multi_names[] = {[CM_GPU_MULTI_NONE] = "none", [CM_GPU_MULTI_PPCIE] = "ppcie",
					  [CM_GPU_MULTI_NVLE] = "nvle"};

json_object *cm_gpu_system_to_json(const struct cm_gpu_system *s)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	cm_json_add_bool(o, "cc_on", s->cc_on);
	cm_json_add_bool(o, "devtools_on", s->devtools_on);
	cm_json_add_bool(o, "production_env", s->production_env);
	cm_json_add_str(o, "multi_gpu_mode", multi_names[s->multi]);
	cm_json_add_str(o, "driver_version", s->driver_version);
	for (unsigned i = 0; i < s->count && i < CM_GPU_MAX; i++)
		json_object_array_add(a, json_object_new_int64(s->arch[i]));
	json_object_object_add(o, "architectures", a);
	return o;
}

int cm_gpu_system_parse(const struct cm_jv *v, struct cm_gpu_system *s, struct cm_err *e)
{
	static const char *const keys[] = {"cc_on",	     "devtools_on",    "production_env", "multi_gpu_mode",
					   "driver_version", "architectures", NULL};
	struct cm_jv m;
	const char *multi;
	size_t n;
	memset(s, 0, sizeof(*s));
	int rc = cm_jv_object(v, keys, e);
	if (!rc && !(rc = cm_jv_need(v, "cc_on", &m, e)))
		rc = cm_jv_bool(&m, &s->cc_on, e);
	if (!rc && !(rc = cm_jv_need(v, "devtools_on", &m, e)))
		rc = cm_jv_bool(&m, &s->devtools_on, e);
	if (!rc && !(rc = cm_jv_need(v, "production_env", &m, e)))
		rc = cm_jv_bool(&m, &s->production_env, e);
	if (!rc && !(rc = cm_jv_need(v, "driver_version", &m, e)) &&
	    !(rc = cm_jv_str(&m, 1, sizeof(s->driver_version) - 1, &(const char *){NULL}, e)))
		rc = cm_jv_strcpy(&m, s->driver_version, sizeof(s->driver_version), e);
	if (!rc && !(rc = cm_jv_need(v, "multi_gpu_mode", &m, e)) && !(rc = cm_jv_str(&m, 1, 16, &multi, e))) {
		size_t k = 0;
		while (k < sizeof(multi_names) / sizeof(multi_names[0]) && strcmp(multi, multi_names[k]))
			k++;
		if (k == sizeof(multi_names) / sizeof(multi_names[0]))
			return cm_jv_fail(&m, e, -EINVAL, "must be none, ppcie or nvle");
		s->multi = (enum cm_gpu_multi)k;
	}
	if (!rc && !(rc = cm_jv_need(v, "architectures", &m, e)) && !(rc = cm_jv_array(&m, 0, CM_GPU_MAX, &n, e))) {
		for (size_t i = 0; i < n && !rc; i++) {
			struct cm_jv a = cm_jv_elem(&m, i);
			int64_t arch;
			if (!(rc = cm_jv_int(&a, 0, UINT32_MAX, &arch, e)))
				s->arch[i] = (unsigned)arch;
		}
		s->count = (unsigned)n;
	}
	return rc;
}
