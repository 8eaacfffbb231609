/* libFuzzer target: quote parsing, the embedded PEM chain, the PCK SGX extension and
 * the JSON rendering of everything parsed. */
#include <stddef.h>
#include <stdint.h>

#include "measure/dcap/quote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_quote q;
	struct cm_err e;
	if (cm_quote_parse(data, size, &q, &e) != 0)
		return 0;
	json_object *o = NULL;
	if (cm_quote_to_json(&q, &o, &e) == 0)
		json_object_put(o);
	return 0;
}
