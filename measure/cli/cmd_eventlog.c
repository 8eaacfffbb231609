/* cocoon-measure eventlog --ccel TABLE --log DATA [--quote QUOTE] [--json] */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "measure/cli/cli.h"
#include "measure/eventlog.h"
#include "measure/json.h"
#include "measure/measurements.h"
#include "measure/quote.h"

static void help(void)
{
	printf("usage: cocoon-measure eventlog [--ccel TABLE] --log DATA [--quote QUOTE] [--json]\n\n"
	       "Parse a TDX CC event log (ACPI CCEL table + TCG2 crypto-agile log, e.g.\n"
	       "/sys/firmware/acpi/tables/CCEL and /sys/firmware/acpi/tables/data/CCEL), replay\n"
	       "RTMR0-3, decode every event and report padding, truncation, duplicate separators\n"
	       "and digest/data mismatches. With --quote, compare the replay with the quote's RTMRs.\n\n"
	       "  --ccel TABLE   the 56-byte ACPI CCEL table (optional; checks type and LAML)\n"
	       "  --log DATA     the event log area\n"
	       "  --quote QUOTE  a TDX quote whose RTMR0-3 the replay must match\n"
	       "  --json         machine-readable output\n"
	       "  --help         this text\n\n"
	       "Exit codes: 0 ok, 1 unreadable or malformed input (the error names the offset),\n"
	       "2 usage, 3 anomalies in the log or replay does not match the quote.\n");
}

int cmd_eventlog(int argc, char **argv)
{
	static const struct option opts[] = {
		{"ccel", required_argument, NULL, 'c'},
		{"log", required_argument, NULL, 'l'},
		{"quote", required_argument, NULL, 'q'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	int json = 0, c;
	const char *ccel = NULL, *logp = NULL, *quotep = NULL;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:l:q:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': ccel = optarg; break;
		case 'l': logp = optarg; break;
		case 'q': quotep = optarg; break;
		case 'j': json = 1; break;
		case 'h': help(); return CLI_OK;
		default: return cli_usage_error("eventlog", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage_error("eventlog", "unexpected argument '%s'", argv[optind]);
	if (!logp)
		return cli_usage_error("eventlog", "--log DATA is required");

	struct cm_err err = {0};
	uint8_t *tab = NULL, *log = NULL, *qb = NULL;
	size_t tablen = 0, loglen = 0, qlen = 0;
	struct cm_ccel_table t;
	struct cm_eventlog l;
	memset(&l, 0, sizeof(l));
	json_object *o = NULL;
	int rc = CLI_OK;
	if (ccel && (cm_read_file(ccel, 4096, &tab, &tablen, &err) ||
		     cm_ccel_table_parse(tab, tablen, &t, &err))) {
		rc = cli_error(CLI_INVALID_INPUT, "%s: %s", ccel, err.msg);
		goto out;
	}
	if (cm_read_file(logp, CM_EVENTLOG_MAX_LEN, &log, &loglen, &err)) {
		rc = cli_error(CLI_INVALID_INPUT, "%s", err.msg);
		goto out;
	}
	if (cm_eventlog_parse(log, loglen, &l, &err)) {
		rc = cli_error(CLI_INVALID_INPUT, "%s: malformed event log: %s", logp, err.msg);
		goto out;
	}
	if (ccel && loglen < t.laml)
		json_object_array_add(l.anomalies,
				      json_object_new_string("log shorter than the CCEL table's LAML (truncated?)"));

	o = json_object_new_object();
	if (ccel) {
		json_object *x = json_object_new_object();
		cm_json_add_int(x, "revision", t.revision);
		cm_json_add_str(x, "oem_id", t.oem_id);
		cm_json_add_int(x, "cc_type", t.cc_type);
		cm_json_add_int(x, "cc_subtype", t.cc_subtype);
		cm_json_add_int(x, "laml", (int64_t)t.laml);
		cm_json_add_int(x, "lasa", (int64_t)t.lasa);
		json_object_object_add(o, "ccel", x);
	}
	static const char *const rk[4] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};
	for (int i = 0; i < 4; i++)
		cm_json_add_hex(o, rk[i], l.rtmr[i], 48);
	json_object *ext = json_object_new_array();
	for (int i = 0; i < 4; i++)
		json_object_array_add(ext, json_object_new_int((int)l.extends[i]));
	json_object_object_add(o, "extends", ext);
	json_object *log_info = json_object_new_object();
	cm_json_add_int(log_info, "size", (int64_t)loglen);
	cm_json_add_int(log_info, "events", (int64_t)l.n);
	cm_json_add_int(log_info, "end_offset", (int64_t)l.end);
	cm_json_add_int(log_info, "padding", (int64_t)l.padding);
	cm_json_add_bool(log_info, "end_marker", l.end_marker);
	json_object *algs = json_object_new_array();
	for (size_t i = 0; i < l.nalgs; i++)
		json_object_array_add(algs, json_object_new_int(l.alg_id[i]));
	json_object_object_add(log_info, "algorithms", algs);
	json_object_object_add(o, "log", log_info);
	json_object *evs = json_object_new_array();
	for (size_t i = 0; i < l.n; i++)
		json_object_array_add(evs, cm_event_to_json(&l.ev[i], i));
	json_object_object_add(o, "events", evs);
	json_object_object_add(o, "anomalies", json_object_get(l.anomalies));
	bool bad = json_object_array_length(l.anomalies) > 0;

	if (quotep) {
		struct cm_quote q;
		struct cm_td_regs r;
		if (cm_read_file(quotep, CM_QUOTE_MAX_LEN, &qb, &qlen, &err) ||
		    cm_quote_parse(qb, qlen, &q, &err)) {
			rc = cli_error(CLI_INVALID_INPUT, "%s: %s", quotep, err.msg);
			goto out;
		}
		if (cm_quote_td_regs(&q, &r)) {
			rc = cli_error(CLI_INVALID_INPUT, "%s: not a TD quote", quotep);
			goto out;
		}
		bool all = true;
		json_object *m = json_object_new_object();
		for (int i = 0; i < 4; i++) {
			json_object *x = json_object_new_object();
			bool eq = !memcmp(l.rtmr[i], r.rtmr[i], 48);
			cm_json_add_hex(x, "replayed", l.rtmr[i], 48);
			cm_json_add_hex(x, "quote", r.rtmr[i], 48);
			cm_json_add_bool(x, "match", eq);
			json_object_object_add(m, rk[i], x);
			all = all && eq;
		}
		cm_json_add_bool(o, "matches_quote", all);
		json_object_object_add(o, "quote_registers", m);
		bad = bad || !all;
	}
	rc = cli_emit(o, json);
	if (rc == CLI_OK && bad)
		rc = CLI_INVALID_EVIDENCE;
out:
	json_object_put(o);
	cm_eventlog_free(&l);
	free(tab);
	free(log);
	free(qb);
	return rc;
}
