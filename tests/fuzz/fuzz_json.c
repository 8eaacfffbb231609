/* libFuzzer target: libmeasure's strict JSON reader (measure/core/json.c), the one entry point
 * of every JSON input in the tree. Walks the whole document through the typed getters and the
 * path builder, so every value kind and nesting depth reaches them. */
#include <stddef.h>
#include <stdint.h>

#include "measure/core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const struct cm_jv *v, int depth)
{
	struct cm_err e;
	char path[96];
	cm_jv_path(v, path, sizeof(path));
	const char *s;
	int64_t i;
	bool b;
	uint8_t h[8];
	size_t n;
	(void)cm_jv_str(v, 0, 64, &s, &e);
	(void)cm_jv_int(v, -1000, 1000, &i, &e);
	(void)cm_jv_bool(v, &b, &e);
	(void)cm_jv_hex(v, h, sizeof(h), &e);
	static const char *const keys[] = {"a", "b", NULL};
	(void)cm_jv_object(v, keys, &e);
	if (depth > 64)
		return;
	if (cm_jv_array(v, 0, SIZE_MAX, &n, &e) == 0) {
		for (size_t k = 0; k < n; k++) {
			struct cm_jv c = cm_jv_elem(v, k);
			walk(&c, depth + 1);
		}
	} else if (cm_jv_object(v, NULL, &e) == 0) {
		json_object_object_foreach(v->o, key, val)
		{
			struct cm_jv c = cm_jv_member(v, key, val);
			walk(&c, depth + 1);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_jv root;
	struct cm_err e;
	if (cm_json_read((const char *)data, size, 1u << 20, "fuzz", &root, &e) == 0)
		walk(&root, 0);
	cm_json_release(&root);
	return 0;
}
