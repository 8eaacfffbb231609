/* libFuzzer target: cocoon-init's spec (cocoon.json) parser and the kernel command
 * line parser (guest/init/appspec.c, cmdline.c). First byte: 'c' = cmdline, else spec. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guest/init/appspec.h"
#include "guest/cmdline/cmdline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_err e;
	if (size > 0 && data[0] == 'c') {
		char *s = malloc(size);
		if (!s)
			return 0;
		memcpy(s, data + 1, size - 1);
		s[size - 1] = '\0';
		struct ci_cmdline c;
		ci_cmdline_parse(s, &c, &e);
		free(s);
		return 0;
	}
	struct ci_spec *sp = malloc(sizeof *sp);
	if (!sp)
		return 0;
	if (ci_spec_parse((const char *)data, size, sp, &e) == 0)
		ci_spec_free(sp);
	free(sp);
	return 0;
}
