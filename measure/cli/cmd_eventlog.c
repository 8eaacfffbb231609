/* cocoon-measure eventlog --ccel TABLE --log DATA [--quote QUOTE] [--json]
 * cocoon-measure eventlog --tpm LOG [--pcrs FILE] [--vm VM.json] [--json] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "measure/cli/cli.h"
#include "measure/core/digest.h"
#include "measure/core/json.h"
#include "measure/core/measurements.h"
#include "measure/dcap/quote.h"
#include "measure/eventlog/eventlog.h"
#include "measure/eventlog/rtmr3.h"
#include "measure/predict/predict_image.h"

static void help(void)
{
	printf("usage: cocoon-measure eventlog [--ccel TABLE] --log DATA [--rtmr3-log FILE]\n"
	       "                                [--quote QUOTE] [--vm VM.json] [--json]\n"
	       "       cocoon-measure eventlog --tpm LOG [--pcrs FILE] [--vm VM.json] [--json]\n\n"
	       "Parse a TDX CC event log (ACPI CCEL table + TCG2 crypto-agile log, e.g.\n"
	       "/sys/firmware/acpi/tables/CCEL and /sys/firmware/acpi/tables/data/CCEL), replay\n"
	       "RTMR0-3, decode every event and report padding, truncation, duplicate separators\n"
	       "and digest/data mismatches. With --quote, compare the replay with the quote's RTMRs.\n\n"
	       "  --ccel TABLE   the 56-byte ACPI CCEL table (optional; checks type and LAML)\n"
	       "  --log DATA     the event log area\n"
	       "  --rtmr3-log FILE  the guest's runtime RTMR3 log (/run/cocoon/rtmr3.log, one\n"
	       "                 message per line), extended after the CCEL's RTMR3 events\n"
	       "  --quote QUOTE  a TDX quote whose RTMR0-3 the replay must match\n"
	       "  --vm VM.json   also predict the image (see 'image --help') and diff the log's\n"
	       "                 events against the predicted ones, register by register\n"
	       "  --tpm LOG      instead: a TPM's TCG2 log (/sys/kernel/security/tpm0/\n"
	       "                 binary_bios_measurements); replays the SHA-256 bank into PCR 0-23\n"
	       "  --pcrs FILE    with --tpm: the TPM's SHA-256 PCR values, one \"<index> <hex>\" a\n"
	       "                 line; the log must replay to each of PCR 0-9 and every PCR it extends\n"
	       "  --vm VM.json   with --tpm: predict the PCRs ('image --tpm') and diff every predicted\n"
	       "                 PCR and its events against the log (and --pcrs); mismatches are also\n"
	       "                 printed to stderr, one line each naming the PCR and the event\n"
	       "  --json         machine-readable output\n"
	       "  --help         this text\n\n"
	       "Exit codes: 0 ok, 1 unreadable or malformed input (the error names the offset),\n"
	       "2 usage, 3 anomalies in the log, or the replay does not match the quote or the\n"
	       "prediction.\n");
}

/* The log's events extended into register mr (CCEL MR index or TPM PCR) as
 * [{index, digest, description}]. */
static json_object *log_events(const struct cm_eventlog *l, uint32_t mr)
{
	json_object *got = json_object_new_array();
	for (size_t i = 0; i < l->n; i++) {
		const struct cm_event *ev = &l->ev[i];
		if (ev->type == CM_EV_NO_ACTION || ev->mr_index != mr)
			continue;
		char desc[512];
		cm_event_describe(ev, desc, sizeof(desc));
		json_object *g = json_object_new_object();
		cm_json_add_int(g, "index", (int64_t)i);
		cm_json_add_hex(g, "digest", ev->digest, ev->digest_len);
		cm_json_add_str(g, "description", desc);
		json_object_array_add(got, g);
	}
	return got;
}

/* Pair the k-th logged event of a register with the k-th predicted one; every pair that
 * differs (or has no partner) goes to diff as {register, position, log_*, predicted_*}.
 * Returns the number of differences. */
static size_t diff_register(const char *reg, json_object *pe, json_object *got, json_object *diff)
{
	size_t np = json_object_array_length(pe), ng = json_object_array_length(got), bad = 0;
	for (size_t k = 0; k < np || k < ng; k++) {
		json_object *p = k < np ? json_object_array_get_idx(pe, k) : NULL;
		json_object *g = k < ng ? json_object_array_get_idx(got, k) : NULL;
		const char *pd = p ? json_object_get_string(json_object_object_get(p, "digest")) : NULL;
		const char *gd = g ? json_object_get_string(json_object_object_get(g, "digest")) : NULL;
		if (pd && gd && !strcmp(pd, gd))
			continue;
		bad++;
		json_object *d = json_object_new_object();
		cm_json_add_str(d, "register", reg);
		cm_json_add_int(d, "position", (int64_t)k);
		if (g) {
			json_object_object_add(d, "log_index", json_object_get(json_object_object_get(g, "index")));
			cm_json_add_str(d, "log_digest", gd);
			json_object_object_add(d, "log_description",
					       json_object_get(json_object_object_get(g, "description")));
		}
		if (p) {
			cm_json_add_str(d, "predicted_digest", pd);
			json_object_object_add(d, "predicted_description",
					       json_object_get(json_object_object_get(p, "description")));
		}
		json_object_array_add(diff, d);
	}
	return bad;
}

/* "log" {size, events, end_offset, padding, end_marker, algorithms} and "events" [...]. */
static void add_log_json(json_object *o, const struct cm_eventlog *l, size_t loglen)
{
	json_object *log_info = json_object_new_object();
	cm_json_add_int(log_info, "size", (int64_t)loglen);
	cm_json_add_int(log_info, "events", (int64_t)l->n);
	cm_json_add_int(log_info, "end_offset", (int64_t)l->end);
	cm_json_add_int(log_info, "padding", (int64_t)l->padding);
	cm_json_add_bool(log_info, "end_marker", l->end_marker);
	json_object *algs = json_object_new_array();
	for (size_t i = 0; i < l->nalgs; i++)
		json_object_array_add(algs, json_object_new_int(l->alg_id[i]));
	json_object_object_add(log_info, "algorithms", algs);
	json_object_object_add(o, "log", log_info);
	json_object *evs = json_object_new_array();
	for (size_t i = 0; i < l->n; i++)
		json_object_array_add(evs, cm_event_to_json(&l->ev[i], i));
	json_object_object_add(o, "events", evs);
}

static void pcr_key(int i, char key[8])
{
	snprintf(key, 8, "%d", i);
}

/* PCR index -> the values given on the command line (--pcrs). */
static bool compare_given(const struct cm_eventlog *l, const uint8_t given[CM_TPM_PCRS][32], uint32_t mask,
			  json_object *o)
{
	bool all = true;
	json_object *m = json_object_new_object();
	for (int i = 0; i < CM_TPM_PCRS; i++) {
		if (!(mask & (1u << i)))
			continue;
		char key[8];
		pcr_key(i, key);
		json_object *x = json_object_new_object();
		cm_json_add_hex(x, "value", given[i], 32);
		/* PCR 0-9 start known and are boot PCRs: the log must account for them; the
		 * others (IMA, DRTM, applications) only when the log extends them. */
		bool covered = i < 10 || l->pcr_extends[i];
		cm_json_add_bool(x, "covered_by_log", covered);
		if (covered) {
			bool eq = !memcmp(given[i], l->pcr[i], 32);
			cm_json_add_hex(x, "replayed", l->pcr[i], 32);
			cm_json_add_bool(x, "match", eq);
			if (!eq) {
				char a[65], b[65];
				cm_hex_encode(given[i], 32, a, sizeof(a));
				cm_hex_encode(l->pcr[i], 32, b, sizeof(b));
				fprintf(stderr, "mismatch: PCR %d is %s, the log replays to %s\n", i, a, b);
			}
			all = all && eq;
		}
		json_object_object_add(m, key, x);
	}
	json_object_object_add(o, "pcr_values", m);
	cm_json_add_bool(o, "matches_pcrs", all);
	return all;
}

static const char *jstr_or(json_object *o, const char *key, const char *dflt)
{
	json_object *v = json_object_object_get(o, key);
	return v ? json_object_get_string(v) : dflt;
}

/* Every predicted PCR against the replay (and the given values), and its events against the
 * log's, one stderr line per difference. */
static bool compare_prediction(const struct cm_eventlog *l, json_object *pred, const uint8_t given[CM_TPM_PCRS][32],
			       uint32_t mask, json_object *o)
{
	bool ok = true;
	json_object *x = json_object_new_object(), *diff = json_object_new_array();
	json_object *pev = json_object_object_get(pred, "tpm_events"), *none = json_object_new_array();
	json_object_object_foreach(json_object_object_get(pred, "pcrs"), key, val)
	{
		int i = atoi(key);
		if (i < 0 || i >= CM_TPM_PCRS)
			continue;
		char rep[65], reg[16];
		cm_hex_encode(l->pcr[i], 32, rep, sizeof(rep));
		const char *pv = json_object_get_string(val);
		json_object *y = json_object_new_object();
		json_object_object_add(y, "predicted", json_object_get(val));
		bool eq = !strcmp(pv, rep);
		cm_json_add_bool(y, "matches_log", eq);
		if (!eq)
			fprintf(stderr, "mismatch: PCR %d predicted %s, the log replays to %s\n", i, pv, rep);
		if (mask & (1u << i)) {
			char gv[65];
			cm_hex_encode(given[i], 32, gv, sizeof(gv));
			bool eb = !strcmp(pv, gv);
			cm_json_add_bool(y, "matches_pcr_value", eb);
			if (!eb)
				fprintf(stderr, "mismatch: PCR %d predicted %s, the TPM has %s\n", i, pv, gv);
			eq = eq && eb;
		}
		json_object_object_add(x, key, y);
		snprintf(reg, sizeof(reg), "pcr%d", i);
		json_object *got = log_events(l, (uint32_t)i), *pe = json_object_object_get(pev, key);
		size_t first = json_object_array_length(diff);
		if (diff_register(reg, pe ? pe : none, got, diff))
			eq = false;
		json_object_put(got);
		for (size_t k = first; k < json_object_array_length(diff); k++) {
			json_object *d = json_object_array_get_idx(diff, k);
			fprintf(stderr, "mismatch: PCR %d event %s: log %s (%s), predicted %s (%s)\n", i,
				jstr_or(d, "position", "?"), jstr_or(d, "log_digest", "-"),
				jstr_or(d, "log_description", "no event"), jstr_or(d, "predicted_digest", "-"),
				jstr_or(d, "predicted_description", "no event"));
		}
		ok = ok && eq;
	}
	json_object_put(none);
	json_object_object_add(o, "prediction", x);
	json_object_object_add(o, "prediction_diff", diff);
	json_object_object_add(o, "pcrs_not_predicted",
			       json_object_get(json_object_object_get(pred, "pcrs_not_predicted")));
	cm_json_add_bool(o, "matches_prediction", ok);
	return ok;
}

/* Read the event log at path into *log and parse it into l (a TPM's log when tpm, else the
 * CCEL). Returns CLI_OK or CLI_INVALID_INPUT (the error printed). */
static int load_log(const char *path, bool tpm, uint8_t **log, size_t *len, struct cm_eventlog *l)
{
	struct cm_err err = {0};
	if (cm_read_file(path, CM_EVENTLOG_MAX_LEN, log, len, &err))
		return cm_cli_error(CLI_INVALID_INPUT, "%s", err.msg);
	if ((tpm ? cm_tpm_eventlog_parse : cm_eventlog_parse)(*log, *len, l, &err))
		return cm_cli_error(CLI_INVALID_INPUT, "%s: malformed %sevent log: %s", path, tpm ? "TPM " : "", err.msg);
	return CLI_OK;
}

static int run_tpm(const char *logp, const char *pcrsp, const char *vm, int json)
{
	struct cm_err err = {0};
	uint8_t *log = NULL, *pb = NULL, given[CM_TPM_PCRS][32];
	size_t loglen = 0, plen = 0;
	uint32_t mask = 0;
	struct cm_eventlog l;
	memset(&l, 0, sizeof(l));
	json_object *o = NULL, *pred = NULL;
	int rc = load_log(logp, true, &log, &loglen, &l);
	if (rc)
		goto out;
	if (pcrsp && (cm_read_file(pcrsp, 65536, &pb, &plen, &err) ||
		      cm_pcr_values_parse(pb, plen, given, &mask, &err))) {
		rc = cm_cli_error(CLI_INVALID_INPUT, "%s: %s", pcrsp, err.msg);
		goto out;
	}
	if (vm && cm_measure_image_ex(vm, true, &pred, &err)) {
		rc = cm_cli_error(CLI_INVALID_INPUT, "%s: %s", vm, err.msg);
		goto out;
	}
	o = json_object_new_object();
	json_object *pcrs = json_object_new_object(), *ext = json_object_new_object();
	for (int i = 0; i < CM_TPM_PCRS; i++) {
		if (i >= 10 && !l.pcr_extends[i])
			continue;
		char key[8];
		pcr_key(i, key);
		cm_json_add_hex(pcrs, key, l.pcr[i], 32);
		cm_json_add_int(ext, key, l.pcr_extends[i]);
	}
	json_object_object_add(o, "pcrs", pcrs);
	json_object_object_add(o, "extends", ext);
	add_log_json(o, &l, loglen);
	json_object_object_add(o, "anomalies", json_object_get(l.anomalies));
	bool bad = json_object_array_length(l.anomalies) > 0;
	if (pcrsp && !compare_given(&l, given, mask, o))
		bad = true;
	if (pred && !compare_prediction(&l, pred, given, mask, o))
		bad = true;
	rc = cli_emit(o, json);
	if (rc == CLI_OK && bad)
		rc = CLI_INVALID_EVIDENCE;
out:
	json_object_put(o);
	json_object_put(pred);
	cm_eventlog_free(&l);
	free(log);
	free(pb);
	return rc;
}

int cmd_eventlog(int argc, char **argv)
{
	int json = 0, rc;
	const char *ccel = NULL, *logp = NULL, *quotep = NULL, *vm = NULL, *r3p = NULL, *tpmp = NULL, *pcrsp = NULL;
	const struct cm_opt opts[] = {
		CM_OPT_STR("ccel", 'c', &ccel),
		CM_OPT_STR("log", 'l', &logp),
		CM_OPT_STR("quote", 'q', &quotep),
		CM_OPT_STR("vm", 'v', &vm),
		CM_OPT_STR("rtmr3-log", 'r', &r3p),
		CM_OPT_STR("tpm", 'T', &tpmp),
		CM_OPT_STR("pcrs", 'p', &pcrsp),
		CM_OPT_FLAG("json", 'j', &json),
		CM_OPT_HELP('h'),
		CM_OPT_END,
	};
	if (cli_parse_opts("eventlog", argc, argv, opts, help, &rc))
		return rc;
	if (optind != argc)
		return cli_usage_error("eventlog", "unexpected argument '%s'", argv[optind]);
	if (tpmp && (logp || ccel || quotep || r3p))
		return cli_usage_error("eventlog", "--tpm takes no --log, --ccel, --quote or --rtmr3-log");
	if (pcrsp && !tpmp)
		return cli_usage_error("eventlog", "--pcrs needs --tpm");
	if (tpmp)
		return run_tpm(tpmp, pcrsp, vm, json);
	if (!logp)
		return cli_usage_error("eventlog", "--log DATA is required");

	struct cm_err err = {0};
	uint8_t *tab = NULL, *log = NULL, *qb = NULL;
	size_t tablen = 0, loglen = 0, qlen = 0;
	struct cm_ccel_table t;
	struct cm_eventlog l;
	memset(&l, 0, sizeof(l));
	json_object *o = NULL;
	rc = CLI_OK;
	if (ccel && (cm_read_file(ccel, 4096, &tab, &tablen, &err) ||
		     cm_ccel_table_parse(tab, tablen, &t, &err))) {
		rc = cm_cli_error(CLI_INVALID_INPUT, "%s: %s", ccel, err.msg);
		goto out;
	}
	if ((rc = load_log(logp, false, &log, &loglen, &l)))
		goto out;
	if (ccel && loglen < t.laml)
		json_object_array_add(l.anomalies,
				      json_object_new_string("log shorter than the CCEL table's LAML (truncated?)"));

	json_object *r3events = NULL;
	if (r3p) {
		/* Runtime RTMR3 extends continue from the firmware's RTMR3 value. */
		uint8_t *r3 = NULL, scratch[48];
		size_t r3len;
		r3events = json_object_new_array();
		if (cm_read_file(r3p, 16u << 20, &r3, &r3len, &err) ||
		    cm_rtmr3_replay(r3, r3len, scratch, r3events, &err)) {
			free(r3);
			json_object_put(r3events);
			rc = cm_cli_error(CLI_INVALID_INPUT, "%s: %s", r3p, err.msg);
			goto out;
		}
		free(r3);
		for (size_t i = 0; i < json_object_array_length(r3events); i++) {
			json_object *ev = json_object_array_get_idx(r3events, i);
			const char *h = json_object_get_string(json_object_object_get(ev, "digest"));
			uint8_t d[48];
			if (!h || cm_hex_decode_exact(h, strlen(h), d, 48))
				continue;
			cm_rtmr_extend(l.rtmr[3], d);
			l.extends[3]++;
			cm_json_add_hex(ev, "rtmr3", l.rtmr[3], 48);
		}
	}
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
	add_log_json(o, &l, loglen);
	if (r3events)
		json_object_object_add(o, "rtmr3_events", r3events);
	json_object_object_add(o, "anomalies", json_object_get(l.anomalies));
	bool bad = json_object_array_length(l.anomalies) > 0;

	if (quotep) {
		struct cm_quote q;
		struct cm_td_regs r;
		if (cm_read_file(quotep, CM_QUOTE_MAX_LEN, &qb, &qlen, &err) ||
		    cm_quote_parse(qb, qlen, &q, &err)) {
			rc = cm_cli_error(CLI_INVALID_INPUT, "%s: %s", quotep, err.msg);
			goto out;
		}
		if (cm_quote_td_regs(&q, &r)) {
			rc = cm_cli_error(CLI_INVALID_INPUT, "%s: not a TD quote", quotep);
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
	if (vm) {
		json_object *pred = NULL;
		if (cm_measure_image(vm, &pred, &err)) {
			rc = cm_cli_error(CLI_INVALID_INPUT, "%s: %s", vm, err.msg);
			goto out;
		}
		bool ok = true;
		json_object *x = json_object_new_object();
		json_object_object_add(o, "prediction", x);
		json_object *diff = json_object_new_array();
		for (int r = 0; r < 4; r++) {
			json_object *pv = json_object_object_get(pred, rk[r]);
			if (!pv) /* not predicted (no kernel) */
				continue;
			json_object *y = json_object_new_object();
			json_object_object_add(y, "predicted", json_object_get(pv));
			bool eq = !strcmp(json_object_get_string(pv),
					  json_object_get_string(json_object_object_get(o, rk[r])));
			cm_json_add_bool(y, "match", eq);
			json_object_object_add(x, rk[r], y);
			ok = ok && eq;
			/* Pair the log's events of this register with the predicted ones. */
			json_object *pe = json_object_object_get(json_object_object_get(pred, "events"), rk[r]);
			json_object *got;
			if (r == 3 && r3events) {
				got = json_object_new_array(); /* {index, digest, description} */
				for (size_t i = 0; i < json_object_array_length(r3events); i++) {
					json_object *ev = json_object_array_get_idx(r3events, i), *g = json_object_new_object();
					cm_json_add_int(g, "index", (int64_t)i);
					json_object_object_add(g, "digest", json_object_get(json_object_object_get(ev, "digest")));
					json_object_object_add(g, "description", json_object_get(json_object_object_get(ev, "event")));
					json_object_array_add(got, g);
				}
			} else {
				got = log_events(&l, (uint32_t)r + 1);
			}
			diff_register(rk[r], pe, got, diff);
			json_object_put(got);
		}
		json_object_object_add(o, "prediction_diff", diff);
		cm_json_add_bool(o, "matches_prediction", ok);
		bad = bad || !ok;
		json_object_put(pred);
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
