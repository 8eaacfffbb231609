/* libFuzzer target for cocoon-launch's untrusted text inputs: the INI configuration
 * (plus --set overrides), manifest.json, and the capture-acpi serial log. The input's
 * first byte modulo 4 picks the parser (0 acpi log, 1 --set, 2 manifest, 3 config); seeds are the example and golden configs. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host-launcher/acpi_wire.h"
#include "host-launcher/config.h"
#include "host-launcher/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	struct cm_err e;
	switch (data[0] % 4) {
	default: { /* 3: a config file, whole input ('#' and '[' select it, so the seeds do) */
		struct cl_config c;
		cl_config_init(&c);
		if (cl_config_parse(&c, (const char *)data, size, "fuzz.conf", &e) == 0)
			cl_config_finish(&c, &e);
		break;
	}
	case 1: { /* one --set override */
		char *s = strndup(text, len);
		if (s) {
			struct cl_config c;
			cl_config_init(&c);
			cl_config_set(&c, s, &e);
			free(s);
		}
		break;
	}
	case 2: {
		struct cl_manifest m;
		cl_manifest_parse(&m, text, len, &e);
		break;
	}
	case 0: {
		struct cl_acpi_blobs b;
		char msg[256];
		cl_acpi_parse_log(text, len, &b, msg, sizeof(msg));
		cl_acpi_blobs_free(&b);
		break;
	}
	}
	return 0;
}
