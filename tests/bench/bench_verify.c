/* Verification throughput. Parse + verify one quote per iteration (quote signature, QE report
 * signature, binding, TCB, policy), in one of two modes:
 *   warm: the bundle and the PCK chain come from the collateral cache; prints
 *         "<verifications/s> <status>".
 *   cold: no collateral cache, no PCK memo: every verification loads and verifies the bundle
 *         (JSON, issuer chains, signatures, CRLs) and the quote's PCK chain; prints
 *         "<verifications/s> <floor/s> <us per ECDSA verification> <status>", where the floor
 *         is the rate of the ECDSA-P256 verifications a cold verification must do
 *         (FLOOR_ECDSA of them), timed in the same run on the quote's own signature.
 *
 * usage: bench_verify QUOTE BUNDLE TIME SECONDS [warm|cold] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "measure/dcap/verify.h"

/* The signatures a verifier cannot skip on a cold verification: root CA CRL, TCB signing
 * certificate, TCB info, QE identity, PCK CA certificate, PCK CRL, PCK leaf certificate,
 * QE report, quote (the QE identity's signer is the TCB signing certificate; the anchor's
 * self-signature is optional). */
#define FLOOR_ECDSA 9

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Verifications per second for secs seconds (cache NULL: cold). */
static double run(const uint8_t *quote, size_t qlen, const uint8_t *bundle, size_t blen, struct cm_verify_opts *o,
		  double secs, struct cm_verify_result *r)
{
	struct cm_err e = {0};
	double t0 = now_s(), t1;
	long n = 0;
	do {
		for (int i = 0; i < 20; i++, n++) {
			struct cm_quote q;
			if (cm_quote_parse(quote, qlen, &q, &e) ||
			    cm_verify_quote(&q, (const char *)bundle, blen, o, r) != 0) {
				fprintf(stderr, "bench_verify: verification failed: %s %s\n",
					r->failed_check ? r->failed_check : "", r->message);
				exit(1);
			}
		}
		t1 = now_s();
	} while (t1 - t0 < secs);
	return (double)n / (t1 - t0);
}

/* Seconds per ECDSA-P256 verification as the library does one without a prepared context
 * (key from raw coordinates kept, context and hashing per call): the quote's signature. */
static double ecdsa_seconds(const uint8_t *quote, size_t qlen, double secs)
{
	struct cm_err e = {0};
	struct cm_quote q;
	if (cm_quote_parse(quote, qlen, &q, &e)) {
		fprintf(stderr, "bench_verify: %s\n", e.msg);
		exit(1);
	}
	EVP_PKEY *k = cm_p256_key_from_raw(q.att_key);
	double t0 = now_s(), t1;
	long n = 0;
	do {
		for (int i = 0; i < 100; i++, n++)
			if (!k || cm_ecdsa_p256_verify(k, q.raw, q.signed_len, q.signature) != 1) {
				fprintf(stderr, "bench_verify: the quote signature does not verify\n");
				exit(1);
			}
		t1 = now_s();
	} while (t1 - t0 < secs);
	EVP_PKEY_free(k);
	return (t1 - t0) / (double)n;
}

int main(int argc, char **argv)
{
	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: bench_verify QUOTE BUNDLE TIME SECONDS [warm|cold]\n");
		return 2;
	}
	bool cold = argc == 6 && strcmp(argv[5], "cold") == 0;
	struct cm_err e = {0};
	uint8_t *quote, *bundle;
	size_t qlen, blen;
	if (cm_read_file(argv[1], CM_QUOTE_MAX_LEN, &quote, &qlen, &e) ||
	    cm_read_file(argv[2], 4u << 20, &bundle, &blen, &e)) {
		fprintf(stderr, "bench_verify: %s\n", e.msg);
		return 1;
	}
	struct cm_collateral_cache *cache = cold ? NULL : cm_collateral_cache_new(4);
	struct cm_verify_opts o = {.time = atoll(argv[3]), .cache = cache};
	double secs = atof(argv[4]);
	struct cm_verify_result r;
	double rate = run(quote, qlen, bundle, blen, &o, secs, &r);
	if (cold) {
		double t = ecdsa_seconds(quote, qlen, secs / 2);
		printf("%.0f %.0f %.1f %s\n", rate, 1.0 / (FLOOR_ECDSA * t), t * 1e6, cm_tcb_status_name(r.tcb.status));
	} else {
		printf("%.0f %s\n", rate, cm_tcb_status_name(r.tcb.status));
	}
	cm_collateral_cache_free(cache);
	free(quote);
	free(bundle);
	return 0;
}
