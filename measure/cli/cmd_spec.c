/* cocoon-measure spec [DIR] [--debug] [--tpm] [--log FILE] [--json] */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "measure/cli/cli.h"
#include "measure/core/digest.h"
#include "measure/core/json.h"
#include "measure/eventlog/rtmr3.h"
#include "measure/predict/predict_image.h"
#include "measure/tpm/quote.h"

static void help(void)
{
	printf("usage: cocoon-measure spec [DIR] [--debug] [--tpm] [--log FILE] [--json]\n\n"
	       "DIR: compute the spec (config) directory's tree hash (git tree id, sha256 object\n"
	       "format, with Cocoon's exclusions: runtime/, spec.tree, spec.meta, .gitignore files\n"
	       "and what they ignore; docs/auditor-guide.md) and the RTMR3 cocoon-init extends for it:\n"
	       "cocoon:spec.tree=<hash>, cocoon:gpu_verified (when DIR/cocoon.json says \"gpu\":\n"
	       "\"required\"), cocoon:cocoon_debug (with --debug), cocoon:tdx_inited.\n"
	       "--log FILE: replay a guest's RTMR3 event log (/run/cocoon/rtmr3.log: one message\n"
	       "per line). With both, the log must replay to the value predicted from DIR.\n\n"
	       "  --debug      the image runs with cocoon_debug (adds that event)\n"
	       "  --tpm        also PCR 15, where the tpm attestation backend (cocoon.attest=tpm)\n"
	       "               puts the same events (TPM2_PCR_Event: SHA-256 of each message)\n"
	       "  --log FILE   RTMR3 event log to replay\n"
	       "  --json       machine-readable output\n"
	       "  --help       this text\n\n"
	       "Exit codes: 0 ok, 1 unreadable or malformed input, 2 usage,\n"
	       "3 the log does not replay to the value predicted from DIR.\n");
}

int cmd_spec(int argc, char **argv)
{
	int json = 0, debug = 0, tpm = 0, rc;
	const char *logp = NULL;
	const struct cm_opt opts[] = {
		CM_OPT_FLAG("debug", 'd', &debug),
		CM_OPT_STR("log", 'l', &logp),
		CM_OPT_FLAG("tpm", 't', &tpm),
		CM_OPT_FLAG("json", 'j', &json),
		CM_OPT_HELP('h'),
		CM_OPT_END,
	};
	if (cli_parse_opts("spec", argc, argv, opts, help, &rc))
		return rc;
	if (optind < argc - 1 || (optind == argc && !logp))
		return cli_usage_error("spec", "expected a spec DIR and/or --log FILE");
	const char *dir = optind == argc - 1 ? argv[optind] : NULL;
	if (tpm && !dir)
		return cli_usage_error("spec", "--tpm predicts PCR 15 from a spec DIR");
	struct cm_err err = {0};
	json_object *o = json_object_new_object();
	uint8_t predicted[48] = {0}, replayed[48];
	/* The tpm backend's PCR 15 (guest/attest/tpm.c): reset to zeros, then one TPM2_PCR_Event
	 * per message (cm_tpm_event_extend). */
	uint8_t pcr15[CM_SHA256_LEN] = {0};
	rc = CLI_OK;
	if (dir) {
		struct cm_pevent ev[CM_RTMR3_SPEC_EVENTS_MAX];
		size_t n;
		uint8_t tree[32];
		if (cm_rtmr3_spec_events(dir, debug, ev, &n, tree, &err)) {
			rc = cm_cli_error(CLI_INVALID_INPUT, "%s: %s", dir, err.msg);
			goto out;
		}
		json_object *evs = json_object_new_array();
		for (size_t i = 0; i < n; i++) {
			cm_rtmr_extend(predicted, ev[i].digest);
			json_object *x = json_object_new_object();
			cm_json_add_int(x, "index", (int64_t)i);
			cm_json_add_str(x, "event", ev[i].desc);
			cm_json_add_hex(x, "digest", ev[i].digest, 48);
			cm_json_add_hex(x, "rtmr3", predicted, 48);
			if (tpm) {
				cm_tpm_event_extend(pcr15, ev[i].desc, strlen(ev[i].desc));
				cm_json_add_hex(x, "pcr15", pcr15, CM_SHA256_LEN);
			}
			json_object_array_add(evs, x);
		}
		cm_json_add_hex(o, "spec_tree", tree, 32);
		cm_json_add_hex(o, "rtmr3", predicted, 48);
		if (tpm)
			cm_json_add_hex(o, "pcr15", pcr15, CM_SHA256_LEN);
		json_object_object_add(o, "events", evs);
	}
	if (logp) {
		uint8_t *buf;
		size_t len;
		if (cm_read_file(logp, 16u << 20, &buf, &len, &err)) {
			rc = cm_cli_error(CLI_INVALID_INPUT, "%s", err.msg);
			goto out;
		}
		json_object *evs = json_object_new_array();
		int r = cm_rtmr3_replay(buf, len, replayed, evs, &err);
		free(buf);
		if (r) {
			json_object_put(evs);
			rc = cm_cli_error(CLI_INVALID_INPUT, "%s: %s", logp, err.msg);
			goto out;
		}
		if (dir) {
			json_object *x = json_object_new_object();
			cm_json_add_hex(x, "rtmr3", replayed, 48);
			json_object_object_add(x, "events", evs);
			json_object_object_add(o, "log", x);
			bool eq = !memcmp(replayed, predicted, 48);
			cm_json_add_bool(o, "log_matches_spec", eq);
			if (!eq)
				rc = CLI_INVALID_EVIDENCE;
		} else {
			cm_json_add_hex(o, "rtmr3", replayed, 48);
			json_object_object_add(o, "events", evs);
		}
	}
	{
		int er = cli_emit(o, json);
		if (er)
			rc = er;
	}
out:
	json_object_put(o);
	return rc;
}
