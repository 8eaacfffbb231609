/* libFuzzer target: the RTMR3 event log a peer embeds in its RA-TLS certificate
 * (extension 1.3.6.1.4.1.12345.3.1), as cr_peer_verify() handles it. The input is the
 * log. It is replayed (measure/eventlog/rtmr3.c, with the per-event JSON), then carried in a
 * certificate for a fixed Ed25519 key whose sim quote (a software PCK CA made once at
 * a fixed time) has REPORTDATA bound to the key and RTMR3 = the replay (or zero when the
 * log does not replay), and that certificate goes through cr_peer_verify() under a
 * `tdx` policy anchored at the sim root. A log that replays must be accepted up to the
 * policy (the event log check must pass); one that does not must fail at "event_log". */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "guest/attest/simca.h"
#include "measure/eventlog/rtmr3.h"
#include "measure/ratls/cert.h"
#include "measure/ratls/peer.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIXED_NOW 1767225600 /* 2026-01-01T00:00:00Z */

static struct ca_simca *ca;
static struct cr_verifier *v;
static const struct cr_policy *pol;
static EVP_PKEY *key;
static uint8_t report_data[CR_REPORT_DATA_LEN];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct cm_err e = {0};
	struct ca_simca_params p;
	ca_simca_params_default(&p, FIXED_NOW);
	char dir[] = "/tmp/fuzz_ratls_eventlog.XXXXXX";
	static const uint8_t seed[32] = {'c', 'o', 'c', 'o', 'o', 'n', '-', 'r', 'a', 't', 'l', 's'};
	if (!(ca = ca_simca_new(&p, &e)) || !mkdtemp(dir) || ca_simca_save(ca, dir, &e)) {
		fprintf(stderr, "fuzz_ratls_eventlog: sim CA: %s\n", e.msg);
		abort();
	}
	struct cr_policy_conf c = {.name = "tdx", .type = CR_POLICY_TDX};
	snprintf(c.root, sizeof(c.root), "%s/root.pem", dir);
	snprintf(c.collateral, sizeof(c.collateral), "%s/collateral.json", dir);
	if (!(v = cr_verifier_new(0, 3600, &e)) || cr_verifier_add_policy(v, &c, &e)) {
		fprintf(stderr, "fuzz_ratls_eventlog: verifier: %s\n", e.msg);
		abort();
	}
	pol = cr_verifier_policy(v, "tdx");
	key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed));
	if (!key || cr_report_data(key, report_data, &e))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_err e = {0};
	uint8_t r3[48];
	json_object *events = json_object_new_array();
	bool replays = cm_rtmr3_replay(data, size, r3, events, &e) == 0;
	json_object_put(events);
	if (size > CR_EVENTLOG_MAX)
		return 0; /* cr_cert_inspect refuses it before any parsing */

	struct ca_simca_td td;
	ca_simca_td_default(&td);
	memcpy(td.report_data, report_data, sizeof(report_data));
	if (replays)
		memcpy(td.rtmr[3], r3, 48);
	else
		memset(td.rtmr[3], 0, 48);
	uint8_t *quote = NULL;
	size_t qlen = 0;
	X509 *x = NULL;
	if (ca_simca_quote(ca, &td, &quote, &qlen, &e) ||
	    cr_cert_build(key, quote, qlen, data, size, FIXED_NOW - 60, &x, &e)) {
		fprintf(stderr, "fuzz_ratls_eventlog: %s\n", e.msg);
		abort();
	}
	struct cr_peer peer;
	int rc = cr_peer_verify(v, pol, x, FIXED_NOW, &peer, &e);
	const char *fc = peer.failed_check ? peer.failed_check : "";
	if (replays && !strcmp(fc, "event_log"))
		abort(); /* a replaying log bound by RTMR3 was refused */
	if (!replays && size > 0 && (rc == 0 || strcmp(fc, "event_log")))
		abort(); /* a log that does not replay got past the event log check */
	ERR_clear_error();
	X509_free(x);
	free(quote);
	return 0;
}
