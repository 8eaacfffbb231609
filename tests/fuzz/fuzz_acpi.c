/* libFuzzer target: the etc/acpi/tables walk behind the derived etc/table-loader and RSDP
 * (measure/predict/predict.c), as cocoon-measure image reads VM.json's acpi_tables. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "measure/predict/predict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_err e;
	uint8_t *loader, rsdp[20];
	size_t n;
	if (cm_acpi_derive_loader(data, size, &loader, &n, &e) == 0)
		free(loader);
	cm_acpi_derive_rsdp(data, size, rsdp, &e);
	return 0;
}
