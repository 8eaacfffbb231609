/* libFuzzer target: a peer's RA-TLS certificate as cocoon-ratls receives it in the TLS
 * handshake (DER), through cr_cert_inspect() at a fixed time and cr_peer_verify() under
 * the `any` policy, a `tdx` policy anchored at a sim root (measure/ratls/peer.c, the
 * quote parser and verifier of libmeasure behind it, the RTMR3 event log replay) and the
 * `fake_tdx` policy (Cocoon's 64-byte REPORTDATA quote; never a real attestation).
 *
 * The sim root, collateral and policy are read from $COCOON_SIM_DIR (default
 * build/fuzz/ratls_sim: the state directory the seed rule in tests/fuzz/module.mk mints
 * its certificates with); without it the `tdx` policy uses the pinned Intel root.
 * cr_peer_verify() runs at the certificate's own notBefore + 60 s (what the seeds were
 * made for, deterministic per input), so well-formed inputs reach the DCAP checks.
 * A mutated certificate rarely keeps a valid signature, so each parsed input is also
 * verified once more re-keyed and re-signed with a fixed Ed25519 key (as any peer can
 * sign what it sends): its extensions and quote then reach the checks behind the
 * signature.
 * The attestation cache is off: every input is verified from scratch. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "measure/ratls/peer.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIXED_NOW 1767225600 /* 2026-01-01T00:00:00Z */

static struct cr_verifier *v;
static const struct cr_policy *p_any, *p_tdx, *p_fake;
static EVP_PKEY *key;

static void add(const struct cr_policy_conf *c)
{
	struct cm_err e = {0};
	if (cr_verifier_add_policy(v, c, &e)) {
		fprintf(stderr, "fuzz_ratls_cert: policy %s: %s\n", c->name, e.msg);
		abort();
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct cm_err e = {0};
	v = cr_verifier_new(0, 3600, &e);
	if (!v)
		abort();
	struct cr_policy_conf any = {.name = "any", .type = CR_POLICY_ANY};
	struct cr_policy_conf tdx = {.name = "tdx", .type = CR_POLICY_TDX};
	add(&any);
	const char *dir = getenv("COCOON_SIM_DIR");
	dir = dir && *dir ? dir : "build/fuzz/ratls_sim";
	snprintf(tdx.root, sizeof(tdx.root), "%s/root.pem", dir);
	if (access(tdx.root, R_OK) == 0) {
		snprintf(tdx.collateral, sizeof(tdx.collateral), "%s/collateral.json", dir);
		snprintf(tdx.measure_policy, sizeof(tdx.measure_policy), "%s/policy.json", dir);
		if (access(tdx.measure_policy, R_OK) != 0)
			tdx.measure_policy[0] = 0;
	} else {
		fprintf(stderr, "fuzz_ratls_cert: no sim root in %s, `tdx` uses the Intel root\n", dir);
		tdx.root[0] = 0;
	}
	add(&tdx);
	struct cr_policy_conf fake = {.name = "fake_tdx", .type = CR_POLICY_FAKE_TDX};
	add(&fake);
	p_any = cr_verifier_policy(v, "any");
	p_tdx = cr_verifier_policy(v, "tdx");
	p_fake = cr_verifier_policy(v, "fake_tdx");
	static const uint8_t seed[32] = {'f', 'u', 'z', 'z'};
	if (!(key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed))))
		abort();
	return 0;
}

static void verify(X509 *x)
{
	struct cm_err e = {0};
	struct cr_cert_info ci;
	int rc = cr_cert_inspect(x, FIXED_NOW, &ci, &e);
	if (rc && rc != -EBADMSG)
		abort();
	struct tm tm;
	const ASN1_TIME *nb = X509_get0_notBefore(x);
	if (nb && ASN1_TIME_to_tm(nb, &tm) == 1) {
		time_t now = timegm(&tm) + 60;
		struct cr_peer peer;
		if (cr_peer_verify(v, p_any, x, now, &peer, &e) == 0 && peer.attested)
			abort(); /* `any` never reports an attested peer */
		rc = cr_peer_verify(v, p_tdx, x, now, &peer, &e);
		if (rc == 0 && (!peer.attested || peer.fake_tdx))
			abort();
		if (rc && !peer.failed_check)
			abort();
		rc = cr_peer_verify(v, p_fake, x, now, &peer, &e);
		if (rc == 0 && (peer.attested || !peer.fake_tdx))
			abort(); /* a fake peer is never reported as attested */
		if (rc && !peer.failed_check)
			abort();
	}
	ERR_clear_error();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	X509 *x = d2i_X509(NULL, &p, (long)size);
	if (!x) {
		ERR_clear_error();
		return 0;
	}
	verify(x);
	if (X509_set_pubkey(x, key) == 1 && X509_set_issuer_name(x, X509_get_subject_name(x)) == 1 &&
	    X509_sign(x, key, NULL) > 0)
		verify(x);
	ERR_clear_error();
	X509_free(x);
	return 0;
}
