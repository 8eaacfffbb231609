/* cocoon-measure quote FILE [--collateral BUNDLE.json [--time UNIX] [--policy POLICY.json]
 * [--root CA.pem]] [--json] */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "measure/cli/cli.h"
#include "measure/core/json.h"
#include "measure/dcap/quote.h"
#include "measure/dcap/verify.h"

static void help(void)
{
	printf("usage: cocoon-measure quote FILE [--collateral BUNDLE.json [--time UNIX] [--policy POLICY.json]\n"
	       "                             [--root CA.pem]] [--json]\n\n"
	       "Parse a DCAP quote (SGX v3, TDX v4, TDX v5 with TD 1.0 or TD 1.5 body) and print\n"
	       "its header, report body (MRTD, RTMR0-3, REPORTDATA, TD attributes, XFAM, or the\n"
	       "SGX enclave fields), QE report, the PCK chain subjects, the FMSPC and TCB from the\n"
	       "PCK certificate, and the Cocoon image hash of a TD quote.\n"
	       "With --collateral, also verify it offline (DCAP: signatures, PCK chain and CRLs,\n"
	       "collateral signatures and validity, TCB status, then the policy) and add verdict,\n"
	       "failed_check, message, tcb_status, advisory_ids, fmspc, root_key_id.\n"
	       "FILE may be - for standard input.\n\n"
	       "  --collateral FILE  collateral bundle (JSON: pck_crl_issuer_chain, root_ca_crl, pck_crl,\n"
	       "                     tcb_info_issuer_chain, tcb_info, tcb_info_signature, qe_identity_*)\n"
	       "  --time UNIX        verification time in unix seconds (default: now)\n"
	       "  --policy FILE      policy JSON (docs/verification.md; default: UpToDate only, no debug,\n"
	       "                     Intel root key id pinned)\n"
	       "  --root FILE        trust anchor PEM instead of the pinned Intel SGX Root CA\n"
	       "  --json             machine-readable output (lowercase hex)\n"
	       "  --help             this text\n\n"
	       "Exit codes: 0 ok, 1 unreadable or malformed input, 2 usage,\n"
	       "3 invalid evidence (verdict \"invalid\"), 4 rejected by the policy (verdict \"rejected\").\n");
}

int cmd_quote(int argc, char **argv)
{
	int json = 0, rc;
	const char *coll_path = NULL, *policy_path = NULL, *root_path = NULL;
	int64_t t = -1; /* -1: not given (now) */
	const struct cm_opt opts[] = {
		CM_OPT_FLAG("json", 'j', &json),
		CM_OPT_STR("collateral", 'c', &coll_path),
		CM_OPT_TIME("time", 't', &t, 0),
		CM_OPT_STR("policy", 'p', &policy_path),
		CM_OPT_STR("root", 'r', &root_path),
		CM_OPT_HELP('h'),
		CM_OPT_END,
	};
	if (cli_parse_opts("quote", argc, argv, opts, help, &rc))
		return rc;
	if (optind != argc - 1)
		return cli_usage_error("quote", "expected exactly one quote FILE");
	if (!coll_path && (policy_path || root_path || t >= 0))
		return cli_usage_error("quote", "--time, --policy and --root need --collateral");
	if (t < 0)
		t = (int64_t)time(NULL);
	const char *path = argv[optind];

	struct cm_err err = {0};
	uint8_t *buf = NULL, *coll = NULL;
	size_t len, coll_len = 0;
	struct cm_policy policy;
	bool have_policy = false;
	X509 *root = NULL;
	struct cm_quote q;
	json_object *out = NULL;
	rc = CLI_OK;
	if (cm_read_file(path, CM_QUOTE_MAX_LEN, &buf, &len, &err)) {
		rc = cm_cli_error(CLI_INVALID_INPUT, "%s", err.msg);
		goto done;
	}
	if (coll_path && cm_read_file(coll_path, 4u << 20, &coll, &coll_len, &err)) {
		rc = cm_cli_error(CLI_INVALID_INPUT, "%s", err.msg);
		goto done;
	}
	if (policy_path) {
		if (cm_policy_load(policy_path, &policy, &err)) {
			rc = cm_cli_error(CLI_INVALID_INPUT, "%s", err.msg);
			goto done;
		}
		have_policy = true;
	}
	if (root_path && !(root = cm_x509_load_pem_file(root_path, &err))) {
		rc = cm_cli_error(CLI_INVALID_INPUT, "%s: %s", root_path, err.msg);
		goto done;
	}
	if (cm_quote_parse(buf, len, &q, &err) || cm_quote_to_json(&q, &out, &err)) {
		rc = cm_cli_error(CLI_INVALID_INPUT, "%s: %s", path, err.msg);
		goto done;
	}
	int verdict_rc = CLI_OK;
	if (coll_path) {
		struct cm_verify_opts o = {.time = t, .anchor = root, .policy = have_policy ? &policy : NULL};
		struct cm_verify_result r;
		cm_verify_quote(&q, (const char *)coll, coll_len, &o, &r);
		cm_json_add_int(out, "verification_time", t);
		cm_verify_result_to_json(&r, out);
		verdict_rc = r.verdict == CM_VERDICT_OK	      ? CLI_OK
			     : r.verdict == CM_VERDICT_REJECTED ? CLI_REJECTED
								: CLI_INVALID_EVIDENCE;
	}
	rc = cli_emit(out, json);
	if (rc == CLI_OK)
		rc = verdict_rc;
done:
	json_object_put(out);
	X509_free(root);
	if (have_policy)
		cm_policy_free(&policy);
	free(coll);
	free(buf);
	return rc;
}
