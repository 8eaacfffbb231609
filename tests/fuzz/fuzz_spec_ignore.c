/* libFuzzer target: a .gitignore of a spec directory (measure/predict/specignore.h), and
 * its patterns matched against the names of the input's last line ("dir/sub name"). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "measure/predict/specignore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_spec_patterns *p = NULL;
	struct cm_err e;
	if (cm_spec_ignore_parse((const char *)data, size, "fuzz/.gitignore", &p, &e) == 0 && p) {
		const uint8_t *nl = size ? memrchr(data, '\n', size - 1) : NULL;
		size_t off = nl ? (size_t)(nl - data) + 1 : 0;
		char *last = strndup((const char *)data + off, size - off);
		if (last) {
			char *sp = strchr(last, ' ');
			const char *below = sp ? last : "";
			const char *name = sp ? sp + 1 : last;
			if (sp)
				*sp = '\0';
			cm_spec_patterns_match(p, below, name, true);
			cm_spec_patterns_match(p, below, name, false);
			free(last);
		}
	}
	cm_spec_patterns_free(p);
	return 0;
}
