/* cocoon-measure cert FILE|HOST:PORT [--policy P] [--root CA.pem] [--collateral BUNDLE]
 * [--time UNIX] [--json]: read or fetch (PoW + TLS 1.3) an RA-TLS certificate and verify
 * it with cocoon-ratls's own verifier (measure/ratls/peer.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "measure/cli/cli.h"
#include "measure/cli/fetch.h"
#include "measure/core/json.h"
#include "measure/dcap/quote.h"
#include "measure/eventlog/rtmr3.h"
#include "measure/ratls/gpuext.h"
#include "measure/ratls/peer.h"
#include "measure/ratls/pow.h"

static void help(void)
{
	printf("usage: cocoon-measure cert FILE|HOST:PORT [--collateral BUNDLE.json] [--root CA.pem]\n"
	       "                           [--policy POLICY.json] [--gpu default|GPU_POLICY.json] [--time UNIX]\n"
	       "                           [--any] [--json]\n\n"
	       "Read an RA-TLS certificate (PEM or DER FILE) or fetch it from a live cocoon-ratls or\n"
	       "Cocoon router at HOST:PORT (answering its proof-of-work challenge, TLS 1.3 with an\n"
	       "unattested client certificate), then verify it with cocoon-ratls's verifier: a single\n"
	       "self-signed Ed25519 certificate, only Cocoon's critical extensions, validity, the quote's\n"
	       "REPORTDATA = SHA-512(public key), DCAP verification of the quote (signatures, PCK chain,\n"
	       "collateral, TCB status), the policy, and the RTMR3 event log extension replayed against\n"
	       "RTMR3. Prints the measurements, the Cocoon image hash and the event log. With --gpu, the\n"
	       "certificate must carry the GPU evidence extension (1.3.6.1.4.1.12345.3.2), and every GPU in\n"
	       "it must verify for the nonce SHA-256(SPKI of the certificate key) under the GPU policy.\n\n"
	       "  --collateral FILE  collateral bundle or directory of bundles (required to verify a quote)\n"
	       "  --root FILE        trust anchor PEM instead of the pinned Intel SGX Root CA\n"
	       "  --policy FILE      policy JSON (docs/verification.md); default: UpToDate only, root pinned\n"
	       "  --gpu POLICY       require and verify the GPU evidence: 'default' (production GPU policy)\n"
	       "                     or a JSON file holding a gpu_policy object (docs/formats.md)\n"
	       "  --time UNIX        verification time (default: now)\n"
	       "  --any              Cocoon's 'any' policy: no quote required (structure checks only)\n"
	       "  --json             machine-readable output\n\n"
	       "Exit codes: 0 ok, 1 unreadable input or connection failure, 2 usage,\n"
	       "3 invalid evidence, 4 rejected by the policy.\n");
}

static X509 *read_cert_file(const char *path)
{
	uint8_t *buf;
	size_t len;
	struct cm_err e = {0};
	if (cm_read_file(path, 1 << 20, &buf, &len, &e))
		return NULL;
	BIO *b = BIO_new_mem_buf(buf, (int)len);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	if (!x) {
		const unsigned char *p = buf;
		x = d2i_X509(NULL, &p, (long)len);
	}
	BIO_free(b);
	free(buf);
	return x;
}

static void add_evidence(json_object *o, X509 *x, int64_t t)
{
	struct cr_cert_info ci;
	struct cm_err e = {0};
	/* validity is reported by the verdict; inspect at notBefore to read the fields */
	int64_t nb = t;
	if (cr_cert_inspect(x, (time_t)nb, &ci, &e) && cr_cert_inspect(x, (time_t)ci.not_before, &ci, &e))
		return;
	cm_json_add_hex(o, "public_key", ci.pubkey, sizeof(ci.pubkey));
	cm_json_add_int(o, "not_before", ci.not_before);
	cm_json_add_int(o, "not_after", ci.not_after);
	cm_json_add_bool(o, "has_quote", ci.quote != NULL);
	struct cm_quote q;
	struct cm_td_regs r;
	if (ci.quote && !cm_quote_parse(ci.quote, ci.quote_len, &q, &e) && !cm_quote_td_regs(&q, &r)) {
		uint8_t ih[32];
		cm_image_hash(&r, ih);
		cm_json_add_hex(o, "image_hash", ih, 32);
		json_object *m = json_object_new_object();
		cm_json_add_hex(m, "mrtd", r.mrtd, 48);
		cm_json_add_hex(m, "mrconfigid", r.mrconfigid, 48);
		cm_json_add_hex(m, "mrowner", r.mrowner, 48);
		cm_json_add_hex(m, "mrownerconfig", r.mrownerconfig, 48);
		for (int i = 0; i < 4; i++) {
			char k[8];
			snprintf(k, sizeof(k), "rtmr%d", i);
			cm_json_add_hex(m, k, r.rtmr[i], 48);
		}
		cm_json_add_hex(m, "report_data", q.td.report_data, 64);
		json_object_object_add(o, "measurements", m);
	}
	cm_json_add_bool(o, "has_gpu_evidence", ci.gpu != NULL);
	if (ci.event_log) {
		json_object *ev = json_object_new_array();
		uint8_t r3[48];
		if (!cm_rtmr3_replay(ci.event_log, ci.event_log_len, r3, ev, &e))
			cm_json_add_hex(o, "event_log_rtmr3", r3, 48);
		json_object_object_add(o, "event_log", ev);
	}
}

int cmd_cert(int argc, char **argv)
{
	int json = 0, any = 0, rc;
	struct cr_policy_conf pc = {.type = CR_POLICY_TDX};
	snprintf(pc.name, sizeof(pc.name), "cli");
	int64_t t = (int64_t)time(NULL);
	const struct cm_opt opts[] = {
		CM_OPT_FLAG("json", 'j', &json),
		CM_OPT_BUF("collateral", 'c', pc.collateral),
		CM_OPT_TIME("time", 't', &t, 0),
		CM_OPT_BUF("policy", 'p', pc.measure_policy),
		CM_OPT_BUF("root", 'r', pc.root),
		CM_OPT_FLAG("any", 'a', &any),
		CM_OPT_HELP('h'),
		CM_OPT_BUF("gpu", 'g', pc.gpu),
		CM_OPT_END,
	};
	if (cli_parse_opts("cert", argc, argv, opts, help, &rc))
		return rc;
	if (optind != argc - 1)
		return cli_usage_error("cert", "expected one FILE or HOST:PORT");
	if (any) {
		if (pc.collateral[0] || pc.root[0] || pc.gpu[0])
			return cli_usage_error("cert", "--any takes no --collateral/--root/--gpu");
		pc.type = CR_POLICY_ANY;
	}
	const char *src = argv[optind];
	struct cm_err e = {0};
	X509 *x = NULL;
	int chain = 1, pow = -1;
	struct stat st;
	if (!stat(src, &st)) {
		if (!(x = read_cert_file(src)))
			return cm_cli_error(CLI_INVALID_INPUT, "%s: not a PEM or DER certificate", src);
	} else if (strchr(src, ':')) {
		if (cr_fetch_peer_cert(src, CR_POW_CLIENT_MAX_DIFFICULTY, 30, &x, &chain, &pow, &e))
			return cm_cli_error(CLI_INVALID_INPUT, "cannot fetch certificate (%s)", e.msg);
	} else {
		return cm_cli_error(CLI_INVALID_INPUT, "%s: no such file", src);
	}

	cr_verifier_set_gpu(cr_gpu_ext_verify); /* --gpu (peer.h) */
	struct cr_verifier *v = cr_verifier_new(1, 60, &e);
	rc = v ? cr_verifier_add_policy(v, &pc, &e) : -ENOMEM;
	if (rc) {
		X509_free(x);
		cr_verifier_free(v);
		return cm_cli_error(CLI_INVALID_INPUT, "policy (%s)", e.msg);
	}
	struct cr_peer p;
	int vr = chain != 1 ? cm_fail_check(&e, -EBADMSG, "certificate_chain",
					    "server sent %d certificates, not one", chain)
			    : cr_peer_verify(v, cr_verifier_policy(v, "cli"), x, (time_t)t, &p, &e);
	json_object *o = json_object_new_object();
	cm_json_add_str(o, "source", src);
	if (pow >= 0)
		cm_json_add_int(o, "pow_difficulty", pow);
	cm_json_add_str(o, "policy", any ? "any" : "tdx");
	cm_json_add_str(o, "verdict", vr == 0 ? "ok" : vr == -EACCES ? "rejected" : "invalid");
	if (vr) {
		cm_json_add_str(o, "failed_check", e.check ? e.check : "certificate");
		cm_json_add_str(o, "message", e.msg);
	} else {
		cm_json_add_bool(o, "attested", p.attested);
		if (p.attested)
			cm_json_add_str(o, "tcb_status", p.tcb_status);
		cm_json_add_bool(o, "event_log_matches_rtmr3", p.has_event_log);
		if (pc.gpu[0])
			cm_json_add_int(o, "gpus_verified", p.gpus);
	}
	add_evidence(o, x, t);
	int out = cli_emit(o, json);
	json_object_put(o);
	X509_free(x);
	cr_verifier_free(v);
	if (out)
		return out;
	return vr == 0 ? CLI_OK : vr == -EACCES ? CLI_REJECTED : CLI_INVALID_EVIDENCE;
}
