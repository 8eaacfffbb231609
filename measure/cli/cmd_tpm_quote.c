/* cocoon-measure tpm-quote FILE --ak AK.pem (--report-data HEX | --pubkey HEX)
 * [--pcr-policy POLICY.json] [--event-log LOG] [--json] */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "measure/cli/cli.h"
#include "measure/core/digest.h"
#include "measure/core/json.h"
#include "measure/tpm/quote.h"

static void help(void)
{
	printf("usage: cocoon-measure tpm-quote FILE --ak AK.pem (--report-data HEX | --pubkey HEX)\n"
	       "                                 [--pcr-policy POLICY.json] [--event-log LOG] [--json]\n\n"
	       "Verify a TPM 2.0 quote made by the appliance's `tpm` attestation backend (the CTQ1\n"
	       "container: TPMS_ATTEST, ECDSA signature, SHA-256 PCR values; docs/formats.md): the\n"
	       "AK's signature, the qualifying data (SHA-256 of the 64-byte REPORTDATA), the PCR\n"
	       "values against the signed PCR digest, then each PCR the policy names.\n"
	       "A TPM the host emulates attests nothing against the host (docs/threat-model.md \"TPM\"):\n"
	       "trust the AK only as far as you trust the TPM that holds it.\n\n"
	       "  --ak FILE           the attestation key's public key (PEM; the guest writes ak.pem)\n"
	       "  --report-data HEX   the expected 64-byte REPORTDATA\n"
	       "  --pubkey HEX        the RA-TLS public key (raw): REPORTDATA = SHA-512(key)\n"
	       "  --pcr-policy FILE   {\"pcrs\": {\"15\": \"<64 hex>\", ...}}\n"
	       "  --event-log FILE    the appliance's event log (/run/cocoon/rtmr3.log): must replay to\n"
	       "                      the quoted PCR 15 (SHA-256 per line, docs/formats.md)\n"
	       "  --json              machine-readable output\n\n"
	       "Exit codes: 0 ok, 1 unreadable or malformed input, 2 usage, 3 does not verify,\n"
	       "4 rejected by the PCR policy.\n");
}

static int hex_arg(const char *s, uint8_t *out, size_t cap, size_t *n)
{
	return cm_hex_decode(s, strlen(s), out, cap, n);
}

int cmd_tpm_quote(int argc, char **argv)
{
	int json = 0, rc;
	const char *ak_path = NULL, *rd_hex = NULL, *pk_hex = NULL, *pol_path = NULL, *log_path = NULL;
	const struct cm_opt opts[] = {
		CM_OPT_FLAG("json", 'j', &json),
		CM_OPT_STR("ak", 'a', &ak_path),
		CM_OPT_STR("report-data", 'r', &rd_hex),
		CM_OPT_STR("pubkey", 'k', &pk_hex),
		CM_OPT_STR("pcr-policy", 'p', &pol_path),
		CM_OPT_STR("event-log", 'l', &log_path),
		CM_OPT_HELP('h'),
		CM_OPT_END,
	};
	if (cli_parse_opts("tpm-quote", argc, argv, opts, help, &rc))
		return rc;
	if (optind != argc - 1)
		return cli_usage_error("tpm-quote", "expected exactly one quote FILE");
	if (!ak_path || !!rd_hex == !!pk_hex)
		return cli_usage_error("tpm-quote", "needs --ak and one of --report-data or --pubkey");
	uint8_t rd[64], q[32], pk[256];
	size_t n;
	if (rd_hex && (hex_arg(rd_hex, rd, sizeof rd, &n) < 0 || n != 64))
		return cli_usage_error("tpm-quote", "--report-data needs 128 hex digits");
	if (pk_hex && (hex_arg(pk_hex, pk, sizeof pk, &n) < 0 || n == 0 || cm_sha512(pk, n, rd) < 0))
		return cli_usage_error("tpm-quote", "--pubkey needs the key in hex");
	cm_tpm_qualifying_data(rd, q);

	struct cm_err err = {0};
	uint8_t *buf = NULL, *pol = NULL, *log = NULL, replay[32];
	size_t len, pol_len, log_len;
	int events = 0;
	struct cm_tpm_pcr_policy policy;
	struct cm_tpm_quote quote;
	EVP_PKEY *ak = NULL;
	json_object *out = NULL;
	const char *path = argv[optind];
	FILE *f = fopen(ak_path, "re");
	if (f) {
		ak = PEM_read_PUBKEY(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (!ak) {
		rc = cm_cli_error(CLI_INVALID_INPUT, "%s: not a PEM public key", ak_path);
		goto done;
	}
	if (cm_read_file(path, CM_TPM_QUOTE_MAX, &buf, &len, &err) ||
	    (pol_path && (cm_read_file(pol_path, 64 * 1024, &pol, &pol_len, &err) ||
			  cm_tpm_pcr_policy_parse((const char *)pol, pol_len, &policy, &err))) ||
	    (log_path && (cm_read_file(log_path, 1u << 20, &log, &log_len, &err) ||
			  cm_tpm_replay_events(log, log_len, replay, &events, &err)))) {
		rc = cm_cli_error(CLI_INVALID_INPUT, "%s", err.msg);
		goto done;
	}
	int r = cm_tpm_quote_verify(buf, len, ak, q, pol_path ? &policy : NULL, &quote, &err);
	if (r == 0 && log_path && (!(quote.mask & (1u << 15)) || memcmp(replay, quote.pcr[15], 32) != 0))
		r = cm_fail_check(&err, -EACCES, "tpm_event_log",
				  "the event log (%d events) does not replay to the quoted PCR 15", events);
	out = json_object_new_object();
	if (r == 0) {
		json_object *pcrs = json_object_new_object();
		char key[4], hex[65];
		for (int i = 0; i < CM_TPM_PCRS; i++)
			if (quote.mask & (1u << i)) {
				snprintf(key, sizeof key, "%d", i);
				cm_hex_encode(quote.pcr[i], 32, hex, sizeof hex);
				json_object_object_add(pcrs, key, json_object_new_string(hex));
			}
		json_object_object_add(out, "verdict", json_object_new_string("ok"));
		json_object_object_add(out, "pcrs", pcrs);
		if (log_path)
			json_object_object_add(out, "events", json_object_new_int(events));
		rc = CLI_OK;
	} else {
		bool malformed = err.check && (strcmp(err.check, "tpm_quote_format") == 0 || strcmp(err.check, "tpm_attest") == 0);
		bool rejected = err.check && (strcmp(err.check, "tpm_pcr_policy") == 0);
		json_object_object_add(out, "verdict",
				       json_object_new_string(malformed ? "malformed" : rejected ? "rejected" : "invalid"));
		json_object_object_add(out, "failed_check", json_object_new_string(err.check ? err.check : "tpm"));
		json_object_object_add(out, "message", json_object_new_string(err.msg));
		rc = malformed ? CLI_INVALID_INPUT : rejected ? CLI_REJECTED : CLI_INVALID_EVIDENCE;
	}
	char qhex[65];
	cm_hex_encode(q, 32, qhex, sizeof qhex);
	json_object_object_add(out, "qualifying_data", json_object_new_string(qhex));
	int erc = cli_emit(out, json);
	if (erc != CLI_OK)
		rc = erc;
	if (rc != CLI_OK)
		fprintf(stderr, "error: %s\n", err.msg);
done:
	json_object_put(out);
	EVP_PKEY_free(ak);
	free(buf);
	free(pol);
	free(log);
	return rc;
}
