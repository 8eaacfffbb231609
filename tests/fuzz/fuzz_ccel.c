/* libFuzzer target: CCEL table and TCG2 event log parsing, replay, event decoding and
 * the JSON rendering of every event. */
#include <stddef.h>
#include <stdint.h>

#include "measure/eventlog/eventlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_ccel_table t;
	struct cm_err e;
	cm_ccel_table_parse(data, size < CM_CCEL_TABLE_LEN ? size : CM_CCEL_TABLE_LEN, &t, &e);
	struct cm_eventlog l;
	if (cm_eventlog_parse(data, size, &l, &e) == 0) {
		for (size_t i = 0; i < l.n; i++) {
			char d[512];
			cm_event_describe(&l.ev[i], d, sizeof(d));
			json_object_put(cm_event_to_json(&l.ev[i], i));
		}
	}
	cm_eventlog_free(&l);
	return 0;
}
