/* Helpers shared by the event log unit tests (test_measure_eventlog.c for CCEL logs,
 * test_measure_tpm.c for TPM logs). */
#ifndef COCOON_TEST_EVENTLOG_H
#define COCOON_TEST_EVENTLOG_H

#include <json-c/json.h>

#include "measure/eventlog/eventlog.h"
#include "tests/unit/testutil.h"

/* cm_eventlog_parse or cm_tpm_eventlog_parse. */
typedef int (*eventlog_parse_fn)(const uint8_t *log, size_t len, struct cm_eventlog *l, struct cm_err *e);

/* Parse log[len] into l with parse, which must succeed (fails the test with its error). */
static inline void eventlog_parse_ok(eventlog_parse_fn parse, const uint8_t *log, size_t len, struct cm_eventlog *l)
{
	struct cm_err e = {0};
	int rc = parse(log, len, l, &e);
	if (rc)
		print_error("%s\n", e.msg);
	assert_int_equal(rc, 0);
}

/* The anomalies of a parsed log as JSON text. */
static inline const char *eventlog_anomalies(const struct cm_eventlog *l)
{
	return json_object_to_json_string(l->anomalies);
}

#endif
