/* cocoon-measure gpu --report R --chain C [--nonce N] | --bundle FILE [--system FILE]
 * [--rim DIR] [--time UNIX] [--policy P] [--json] */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "measure/cli/cli.h"
#include "measure/core/json.h"
#include "measure/gpu/bundle.h"
#include "measure/gpu/gpu.h"
#include "measure/gpu/spdm.h"

static void help(void)
{
	printf("usage: cocoon-measure gpu --report R --chain C [--nonce HEX] [options]\n"
	       "       cocoon-measure gpu --bundle FILE [--system FILE] [options]\n\n"
	       "Verify NVIDIA GPU confidential-computing evidence offline, as cocoon-init does:\n"
	       "the SPDM 1.1 GET_MEASUREMENTS report (strict parse, request nonce), the device\n"
	       "chain to the pinned NVIDIA Device Identity CA, the leaf's ECDSA-P384 signature\n"
	       "over the report, the FWID, the opaque data (driver and VBIOS versions, project,\n"
	       "SKU), then with --rim the driver and VBIOS RIMs (XML signature, chain to the\n"
	       "pinned NVIDIA CoRIM root, version, measurements) and the offline OCSP responses\n"
	       "of the bundle (DIR/ocsp/*.der), and the policy. Prints the claims and every\n"
	       "check with verdict, failed_check and message.\n\n"
	       "  --report FILE   the report (raw bytes as NVML returns them, or hex text)\n"
	       "  --chain FILE    the device certificate chain (PEM, leaf first)\n"
	       "  --nonce HEX     the 32-byte nonce given to NVML (without it the report's own\n"
	       "                  request nonce is used: freshness is not checked, and said so)\n"
	       "  --bundle FILE   a JSON array of {nonce, evidence, certificate, ...} (NVIDIA's\n"
	       "                  multi-GPU evidence files); every entry is verified\n"
	       "  --system FILE   with --bundle: the NVML system state the evidence was collected\n"
	       "                  on (cocoon-init's GPU step; docs/gpu.md): checked against the\n"
	       "                  policy first, then one entry per GPU, each entry's vbios_version\n"
	       "                  and the system's driver_version equal to what its report signs;\n"
	       "                  the output adds the first failed_check and its message\n"
	       "  --rim DIR       the offline RIM bundle (NV_GPU_DRIVER_*.xml / NV_GPU_VBIOS_*.xml\n"
	       "                  or .swidtag; ocsp/*.der)\n"
	       "  --time UNIX     verification time in unix seconds (default: now)\n"
	       "  --policy FILE   GPU policy JSON (docs/verification.md; default: production)\n"
	       "  --json          machine-readable output (lowercase hex)\n"
	       "  --help          this text\n\n"
	       "Exit codes: 0 ok, 1 unreadable or malformed input, 2 usage,\n"
	       "3 invalid evidence (verdict \"invalid\"), 4 rejected by the policy (verdict \"rejected\").\n");
}

/* The report file: hex text (NVIDIA's samples) when it is nothing but hex digits and
 * whitespace, else the raw bytes. */
static int load_report(const char *path, uint8_t **out, size_t *len, struct cm_err *e)
{
	uint8_t *buf;
	size_t n;
	int rc = cm_read_file(path, 2 * CM_GPU_REPORT_MAX + 64, &buf, &n, e);
	if (rc)
		return rc;
	size_t h = 0;
	bool hex = n > 0;
	for (size_t i = 0; i < n && hex; i++) {
		if (isxdigit(buf[i]))
			buf[h++] = buf[i];
		else if (!isspace(buf[i]))
			hex = false;
	}
	if (!hex) {
		*out = buf;
		*len = n;
		return 0;
	}
	if (cm_hex_decode((const char *)buf, h, buf, h / 2, len)) {
		free(buf);
		return cm_fail(e, -EBADMSG, "%s: odd number of hex digits", path);
	}
	*out = buf;
	return 0;
}

/* Verify one GPU; adds its verdict and claims to obj; returns its CLI code. A bundle entry's
 * unsigned driver_version / vbios_version (meta, may be NULL) must be what the report signs. */
static int one(const struct cm_gpu_evidence *ev, const uint8_t *nonce, bool nonce_given,
	       const struct cm_gpu_bundle_entry *meta, const struct cm_gpu_system *sys, const struct cm_gpu_policy *p,
	       int64_t t, json_object *obj)
{
	struct cm_gpu_result *r = malloc(sizeof(*r));
	if (!r)
		return cm_cli_error(CLI_INVALID_INPUT, "out of memory");
	uint8_t own[CM_GPU_NONCE_LEN] = {0};
	if (!nonce_given) {
		if (ev->report_len >= 4 + CM_GPU_NONCE_LEN)
			memcpy(own, ev->report + 4, CM_GPU_NONCE_LEN);
		nonce = own;
	}
	struct cm_err err = {0};
	int rc = cm_gpu_verify(ev, nonce, p, t, r, &err);
	/* --system: the versions NVML reported must be the ones the GPU signed (a driver stack
	 * lying to NVML, or a report of another GPU, shows here), as NVIDIA's verifier checks. */
	if (rc == 0 && sys && strcmp(r->driver_version, sys->driver_version) != 0)
		rc = cm_fail_check(&err, -EACCES, "gpu_driver_version", "report says driver %s, NVML %s",
				   r->driver_version, sys->driver_version);
	else if (rc == 0 && sys && (!meta->vbios_version[0] || strcasecmp(meta->vbios_version, r->vbios_version) != 0))
		rc = cm_fail_check(&err, -EACCES, "gpu_vbios_version", "report says VBIOS %s, NVML %s", r->vbios_version,
				   meta->vbios_version[0] ? meta->vbios_version : "(none)");
	else if (rc == 0 && meta &&
	    ((meta->driver_version[0] && strcasecmp(meta->driver_version, r->driver_version) != 0) ||
	     (meta->vbios_version[0] && strcasecmp(meta->vbios_version, r->vbios_version) != 0)))
		rc = cm_fail_check(&err, -EBADMSG, "gpu_bundle_metadata",
				   "bundle entry: driver_version '%s' / vbios_version '%s' differ from the signed report's %s / %s",
				   meta->driver_version, meta->vbios_version, r->driver_version, r->vbios_version);
	for (unsigned i = 0; !nonce_given && i < r->n_checks; i++)
		if (strcmp(r->checks[i].name, "nonce") == 0) {
			r->checks[i].status = "skipped";
			snprintf(r->checks[i].detail, sizeof(r->checks[i].detail),
				 "no nonce given: the report's own request nonce was used (freshness not checked)");
		}
	const char *verdict = rc == 0 ? "ok" : cm_gpu_check_is_policy(err.check) ? "rejected" : "invalid";
	cm_json_add_str(obj, "verdict", verdict);
	if (rc)
		cm_json_add_str(obj, "failed_check", err.check ? err.check : "gpu_error");
	else
		json_object_object_add(obj, "failed_check", NULL);
	cm_json_add_str(obj, "message", rc ? err.msg : "");
	cm_json_add_hex(obj, "nonce", nonce, CM_GPU_NONCE_LEN);
	cm_json_add_bool(obj, "nonce_checked", nonce_given);
	cm_gpu_result_to_json(r, obj);
	bool malformed = rc && err.check && strcmp(err.check, "gpu_report") == 0;
	free(r);
	return rc == 0 ? CLI_OK : malformed ? CLI_INVALID_INPUT : strcmp(verdict, "rejected") == 0 ? CLI_REJECTED
													 : CLI_INVALID_EVIDENCE;
}

/* The worse of two CLI codes (invalid input > invalid evidence > rejected > ok). */
static int worse(int a, int b)
{
	static const int rank[] = {[CLI_OK] = 0, [CLI_REJECTED] = 1, [CLI_INVALID_EVIDENCE] = 2, [CLI_INVALID_INPUT] = 3};
	return rank[b] > rank[a] ? b : a;
}

/* For the text output: checks as "checks.<name>: <status>: <detail>" lines. */
static void checks_as_lines(json_object *obj)
{
	json_object *arr, *m = json_object_new_object();
	if (!m || !json_object_object_get_ex(obj, "checks", &arr)) {
		json_object_put(m);
		return;
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *c = json_object_array_get_idx(arr, i), *f[3];
		char line[CM_ERR_MAX + 32];
		if (!json_object_object_get_ex(c, "name", &f[0]) || !json_object_object_get_ex(c, "status", &f[1]) ||
		    !json_object_object_get_ex(c, "detail", &f[2]))
			continue;
		snprintf(line, sizeof(line), "%s: %s", json_object_get_string(f[1]), json_object_get_string(f[2]));
		cm_json_add_str(m, json_object_get_string(f[0]), line);
	}
	json_object_object_add(obj, "checks", m);
}

static int load_policy(const char *path, const char *rim, struct cm_gpu_policy **p, struct cm_err *e)
{
	int rc;
	if (path) {
		struct cm_jv root;
		if ((rc = cm_json_read_file(path, 1u << 20, path, &root, e)))
			return rc;
		rc = cm_gpu_policy_parse(&root, p, e);
		cm_json_release(&root);
	} else {
		rc = cm_gpu_policy_default(p, e);
	}
	if (!rc && rim)
		rc = cm_gpu_policy_set_rim_dir(*p, rim, e);
	return rc;
}

/* --system: the state against the policy and the entry count, before any entry ("verdict",
 * "failed_check", "message" set on failure). CLI_OK or the failure's code. */
static int system_check(const struct cm_gpu_system *sys, size_t n, const struct cm_gpu_policy *p, json_object *out)
{
	struct cm_err se = {0};
	int code = CLI_OK;
	json_object_object_add(out, "system", cm_gpu_system_to_json(sys));
	if (cm_gpu_check_system(sys, p, &se))
		code = CLI_REJECTED; /* a well-formed state the policy refuses */
	else if (n != sys->count) {
		cm_fail_check(&se, -EINVAL, "gpu_count", "the system has %u GPU(s), the bundle %zu entries", sys->count, n);
		code = CLI_INVALID_EVIDENCE;
	}
	if (code != CLI_OK) {
		cm_json_add_str(out, "verdict", code == CLI_REJECTED ? "rejected" : "invalid");
		cm_json_add_str(out, "failed_check", se.check ? se.check : "gpu_system");
		cm_json_add_str(out, "message", se.msg);
		cm_json_add_int(out, "gpus_total", (int64_t)n);
		cm_json_add_int(out, "gpus_ok", 0);
		json_object_object_add(out, "gpus", json_object_new_array());
	}
	return code;
}

/* --system: the first failed GPU's check and message ("GPU i: ...") at the top. */
static void first_failure(json_object *out, json_object *gpus)
{
	for (size_t i = 0; i < json_object_array_length(gpus); i++) {
		json_object *g = json_object_array_get_idx(gpus, i), *c, *m;
		if (!json_object_object_get_ex(g, "failed_check", &c) || !c)
			continue;
		char msg[CM_ERR_MAX + 16];
		snprintf(msg, sizeof(msg), "GPU %zu: %s", i,
			 json_object_object_get_ex(g, "message", &m) ? json_object_get_string(m) : "");
		cm_json_add_str(out, "failed_check", json_object_get_string(c));
		cm_json_add_str(out, "message", msg);
		return;
	}
	json_object_object_add(out, "failed_check", NULL);
	cm_json_add_str(out, "message", "");
}

static int run_bundle(const char *path, const struct cm_gpu_system *sys, const struct cm_gpu_policy *p, int64_t t,
		      json_object *out)
{
	struct cm_err err = {0};
	uint8_t *buf;
	size_t len, n;
	struct cm_gpu_bundle_entry *b;
	if (cm_read_file(path, CM_GPU_BUNDLE_MAX, &buf, &len, &err))
		return cm_cli_error(CLI_INVALID_INPUT, "%s", err.msg);
	int rc = cm_gpu_bundle_parse((const char *)buf, len, path, &b, &n, &err);
	free(buf);
	if (rc)
		return cm_cli_error(CLI_INVALID_INPUT, "%s", err.msg);
	if (sys && (rc = system_check(sys, n, p, out)) != CLI_OK) {
		cm_gpu_bundle_free(b, n);
		return rc;
	}
	json_object *gpus = json_object_new_array();
	int code = CLI_OK;
	unsigned ok = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *g = json_object_new_object();
		struct cm_gpu_evidence ev = {b[i].report, b[i].report_len, b[i].chain, b[i].chain_len};
		int c = one(&ev, b[i].nonce, true, &b[i], sys, p, t, g);
		ok += c == CLI_OK;
		code = worse(code, c);
		json_object_array_add(gpus, g);
	}
	struct cm_err ce = {0};
	bool count_ok = cm_gpu_check_count(p, (unsigned)n, &ce) == 0;
	const char *verdict = code == CLI_OK && count_ok ? "ok" : code == CLI_OK || code == CLI_REJECTED ? "rejected" : "invalid";
	if (!count_ok)
		code = worse(code, CLI_REJECTED);
	cm_json_add_str(out, "verdict", verdict);
	cm_json_add_int(out, "gpus_total", (int64_t)n);
	cm_json_add_int(out, "gpus_ok", ok);
	if (!count_ok)
		cm_json_add_str(out, "count_check", ce.msg);
	if (sys)
		first_failure(out, gpus);
	json_object_object_add(out, "gpus", gpus);
	cm_gpu_bundle_free(b, n);
	return code;
}

int cmd_gpu(int argc, char **argv)
{
	const char *report = NULL, *chain = NULL, *nonce_hex = NULL, *bundle = NULL, *rim = NULL, *policy = NULL,
		   *system = NULL;
	int json = 0, rc;
	int64_t t = (int64_t)time(NULL);
	const struct cm_opt opts[] = {
		CM_OPT_STR("report", 'r', &report),
		CM_OPT_STR("chain", 'c', &chain),
		CM_OPT_STR("nonce", 'n', &nonce_hex),
		CM_OPT_STR("bundle", 'b', &bundle),
		CM_OPT_STR("rim", 'R', &rim),
		CM_OPT_TIME("time", 't', &t, 0),
		CM_OPT_STR("policy", 'p', &policy),
		CM_OPT_FLAG("json", 'j', &json),
		CM_OPT_STR("system", 's', &system),
		CM_OPT_HELP('h'),
		CM_OPT_END,
	};
	if (cli_parse_opts("gpu", argc, argv, opts, help, &rc))
		return rc;
	if (optind != argc)
		return cli_usage_error("gpu", "unexpected argument '%s'", argv[optind]);
	if (bundle ? (report || chain || nonce_hex) : (!report || !chain))
		return cli_usage_error("gpu", "give --report and --chain (and --nonce), or --bundle alone");
	if (system && !bundle)
		return cli_usage_error("gpu", "--system goes with --bundle");
	uint8_t nonce[CM_GPU_NONCE_LEN];
	if (nonce_hex && cm_hex_decode_exact(nonce_hex, strlen(nonce_hex), nonce, sizeof(nonce)))
		return cli_usage_error("gpu", "--nonce needs 64 hex digits");

	struct cm_err err = {0};
	struct cm_gpu_policy *p = NULL;
	uint8_t *rep = NULL, *pem = NULL;
	size_t rep_len = 0, pem_len = 0;
	json_object *out = json_object_new_object();
	if (load_policy(policy, rim, &p, &err)) {
		rc = cm_cli_error(CLI_INVALID_INPUT, "%s", err.msg);
		goto done;
	}
	cm_json_add_int(out, "verification_time", t);
	if (bundle) {
		struct cm_gpu_system sys;
		if (system) {
			struct cm_jv root;
			if (!(rc = cm_json_read_file(system, 64u * 1024, system, &root, &err))) {
				rc = cm_gpu_system_parse(&root, &sys, &err);
				cm_json_release(&root);
			}
			if (rc) {
				rc = cm_cli_error(CLI_INVALID_INPUT, "%s", err.msg);
				goto done;
			}
		}
		rc = run_bundle(bundle, system ? &sys : NULL, p, t, out);
	} else {
		if (load_report(report, &rep, &rep_len, &err) || cm_read_file(chain, 1u << 20, &pem, &pem_len, &err)) {
			rc = cm_cli_error(CLI_INVALID_INPUT, "%s", err.msg);
			goto done;
		}
		struct cm_gpu_evidence ev = {rep, rep_len, pem, pem_len};
		rc = one(&ev, nonce, nonce_hex != NULL, NULL, NULL, p, t, out);
		if (!json)
			checks_as_lines(out);
	}
	if (!json_object_object_get_ex(out, "verdict", NULL))
		goto done; /* the bundle itself was unreadable: the error is printed */
	int emit = cli_emit(out, json);
	if (emit != CLI_OK)
		rc = emit;
done:
	json_object_put(out);
	cm_gpu_policy_free(p);
	free(rep);
	free(pem);
	return rc;
}
