/* libFuzzer target: TPM TCG2 event log parsing (the SHA-256 bank replayed into PCR 0-23),
 * event decoding and JSON, reference-log events for PCR 0/1, and the PCR value file. */
#include <stddef.h>
#include <stdint.h>

#include "measure/eventlog/eventlog.h"
#include "measure/predict/predict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_err e;
	struct cm_eventlog l;
	if (cm_tpm_eventlog_parse(data, size, &l, &e) == 0) {
		for (size_t i = 0; i < l.n; i++) {
			char d[512];
			cm_event_describe(&l.ev[i], d, sizeof(d));
			json_object_put(cm_event_to_json(&l.ev[i], i));
		}
		struct cm_pevent ev[CM_PREDICT_MAX_EVENTS];
		size_t n = cm_pevents_from_log(&l, 0, ev, CM_PREDICT_MAX_EVENTS);
		cm_pevents_from_log(&l, 1, ev + n, CM_PREDICT_MAX_EVENTS - n);
	}
	cm_eventlog_free(&l);
	uint8_t pcr[CM_TPM_PCRS][32];
	uint32_t mask;
	cm_pcr_values_parse(data, size, pcr, &mask, &e);
	return 0;
}
