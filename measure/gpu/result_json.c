/* cm_gpu_result_to_json (gpu.h). */
#include "measure/gpu/gpu.h"

static void add_opt_int(json_object *o, const char *key, int v)
{
	if (v < 0)
		json_object_object_add(o, key, NULL);
	else
		cm_json_add_int(o, key, v);
}

void cm_gpu_result_to_json(const struct cm_gpu_result *r, json_object *obj)
{
	const struct {
		const char *key, *val;
	} strs[] = {
		{"driver_version", r->driver_version}, {"vbios_version", r->vbios_version}, {"project", r->project},
		{"project_sku", r->project_sku},	 {"chip_sku", r->chip_sku},
	};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		cm_json_add_str(obj, strs[i].key, strs[i].val);
	if (r->has_fwid)
		cm_json_add_hex(obj, "fwid", r->fwid, sizeof(r->fwid));
	else
		json_object_object_add(obj, "fwid", NULL);
	cm_json_add_str(obj, "hwmodel", r->hwmodel);
	cm_json_add_str(obj, "ueid", r->ueid);
	cm_json_add_str(obj, "driver_rim_id", r->driver_rim_id);
	cm_json_add_str(obj, "vbios_rim_id", r->vbios_rim_id);
	cm_json_add_bool(obj, "driver_rim_measurements_ok", r->rim_driver_ok);
	cm_json_add_bool(obj, "vbios_rim_measurements_ok", r->rim_vbios_ok);
	cm_json_add_int(obj, "measurement_blocks", r->n_blocks);
	cm_json_add_int(obj, "opaque_fields", r->n_opaque_fields);
	const struct {
		const char *key;
		int val;
	} flags[] = {
		{"nvdec0_status", r->nvdec0_status},
		{"feature_flag", r->feature_flag},
		{"opaque_data_version", r->opaque_version},
		{"protected_pcie_status", r->ppcie_status},
	};
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		add_opt_int(obj, flags[i].key, flags[i].val);
	json_object *checks = json_object_new_array();
	for (unsigned i = 0; checks && i < r->n_checks; i++) {
		json_object *c = json_object_new_object();
		if (!c)
			break;
		cm_json_add_str(c, "name", r->checks[i].name);
		cm_json_add_str(c, "status", r->checks[i].status);
		cm_json_add_str(c, "detail", r->checks[i].detail);
		json_object_array_add(checks, c);
	}
	json_object_object_add(obj, "checks", checks);
}
