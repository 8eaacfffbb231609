/* GPU evidence verification throughput (issue 15 §5): full verification of one GPU's evidence
 * per iteration (SPDM parse, nonce, device chain to the pinned root, report signature, FWID
 * when present, opaque data, VBIOS RIM: XML parse, C14N, digest, signature, signer chain,
 * measurement comparison, policy), next to the floor: the ECDSA-P384 verifications such a
 * verification cannot skip (FLOOR_P384 of them), each timed in the same run as the library does
 * one (EVP_DigestVerify over the report, SHA-384 included).
 * Prints "<verifications/s> <floor/s> <us per P-384 verification> <status>" (CPU time).
 *
 * usage: bench_gpu REPORT(hex) CHAIN NONCE RIM_DIR TIME SECONDS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "measure/core/json.h"
#include "measure/gpu/gpu.h"
#include "measure/gpu/gpu_impl.h"

#include <openssl/pem.h>

/* Device chain: leaf <- BROM <- Provisioner ICA <- GH100 Identity <- root (4); the report (1);
 * the RIM's SignedInfo (1); RIM chain: L4 signer <- L3 <- CA <- root (3). */
#define FLOOR_P384 9
#define POLICY "{\"fwid_required\": false, \"rim_required\": [\"vbios\"]}"

/* Process CPU time, as `openssl speed` counts: the build machine is shared, and wall time
 * would measure the other jobs too. */
static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t *read_or_die(const char *path, size_t *len)
{
	struct cm_err e = {0};
	uint8_t *b;
	if (cm_read_file(path, 1 << 20, &b, len, &e)) {
		fprintf(stderr, "bench_gpu: %s\n", e.msg);
		exit(1);
	}
	return b;
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: bench_gpu REPORT(hex) CHAIN NONCE RIM_DIR TIME SECONDS\n");
		return 2;
	}
	size_t hl, cl, rl;
	char *hex = (char *)read_or_die(argv[1], &hl);
	uint8_t *chain = read_or_die(argv[2], &cl), nonce[CM_GPU_NONCE_LEN];
	size_t k = 0;
	for (size_t i = 0; i < hl; i++)
		if (!strchr(" \r\n\t", hex[i]))
			hex[k++] = hex[i];
	uint8_t *report = malloc(k / 2 + 1);
	struct cm_err e = {0};
	if (!report || cm_hex_decode(hex, k, report, k / 2, &rl) ||
	    cm_hex_decode_exact(argv[3], strlen(argv[3]), nonce, sizeof(nonce))) {
		fprintf(stderr, "bench_gpu: bad report or nonce hex\n");
		return 1;
	}
	int64_t t = strtoll(argv[5], NULL, 10);
	double secs = strtod(argv[6], NULL);
	struct cm_jv root;
	struct cm_gpu_policy *p;
	if (cm_json_read(POLICY, strlen(POLICY), 4096, "policy", &root, &e) || cm_gpu_policy_parse(&root, &p, &e) ||
	    cm_gpu_policy_set_rim_dir(p, argv[4], &e)) {
		fprintf(stderr, "bench_gpu: %s\n", e.msg);
		return 1;
	}
	cm_json_release(&root);
	struct cm_gpu_evidence ev = {report, rl, chain, cl};
	struct cm_gpu_result *r = malloc(sizeof(*r));
	double t0 = now_s(), t1;
	long n = 0;
	do {
		for (int i = 0; i < 5; i++, n++)
			if (cm_gpu_verify(&ev, nonce, p, t, r, &e) || !r->rim_vbios_ok) {
				fprintf(stderr, "bench_gpu: verification failed: %s %s\n", e.check ? e.check : "", e.msg);
				return 1;
			}
		t1 = now_s();
	} while (t1 - t0 < secs);
	double rate = (double)n / (t1 - t0);
	/* The floor: the report's own signature with the leaf key, as the library verifies it. */
	BIO *b = BIO_new_mem_buf(chain, (int)cl);
	X509 *leaf = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (!leaf) {
		fprintf(stderr, "bench_gpu: no leaf certificate\n");
		return 1;
	}
	long m = 0;
	t0 = now_s();
	do {
		for (int i = 0; i < 20; i++, m++)
			if (cm_gpu_p384_verify(X509_get0_pubkey(leaf), report, rl - 96, report + rl - 96) != 1) {
				fprintf(stderr, "bench_gpu: report signature invalid\n");
				return 1;
			}
		t1 = now_s();
	} while (t1 - t0 < secs);
	double per = (t1 - t0) / (double)m;
	printf("%.0f %.0f %.1f ok\n", rate, 1.0 / (per * FLOOR_P384), per * 1e6);
	X509_free(leaf);
	free(r);
	cm_gpu_policy_free(p);
	free(report);
	free(chain);
	free(hex);
	return 0;
}
