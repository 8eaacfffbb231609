/* libFuzzer target: the VM.json parser of cocoon-measure image (measure/predict/predict_image.c)
 * and its size strings. The input is written to VM.json in a private empty directory, so
 * the relative input paths it names resolve there and do not exist: the run stops after
 * parsing, at the first input it cannot open. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "measure/predict/predict_image.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char vm_json[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char dir[] = "/tmp/fuzz_vmjson.XXXXXX";
	if (!mkdtemp(dir))
		abort();
	snprintf(vm_json, sizeof(vm_json), "%s/VM.json", dir);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_err e;
	char s[64];
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
	memcpy(s, data, n);
	s[n] = 0;
	uint64_t v;
	cm_parse_size(s, &v);
	FILE *f = fopen(vm_json, "w");
	if (!f)
		abort();
	if (fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	json_object *o = NULL;
	if (cm_measure_image(vm_json, &o, &e) == 0)
		json_object_put(o);
	return 0;
}
