/* Verification throughput with a warm collateral cache: parse + verify one quote per
 * iteration (quote signature, QE report signature, binding, TCB, policy; the bundle and
 * the PCK chain come from the cache). Prints verifications per second.
 *
 * usage: bench_verify QUOTE BUNDLE TIME SECONDS */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "measure/dcap/verify.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: bench_verify QUOTE BUNDLE TIME SECONDS\n");
		return 2;
	}
	struct cm_err e = {0};
	uint8_t *quote, *bundle;
	size_t qlen, blen;
	if (cm_read_file(argv[1], CM_QUOTE_MAX_LEN, &quote, &qlen, &e) ||
	    cm_read_file(argv[2], 4u << 20, &bundle, &blen, &e)) {
		fprintf(stderr, "bench_verify: %s\n", e.msg);
		return 1;
	}
	struct cm_collateral_cache *cache = cm_collateral_cache_new(4);
	struct cm_verify_opts o = {.time = atoll(argv[3]), .cache = cache};
	double secs = atof(argv[4]), t0 = now_s(), t1;
	long n = 0;
	struct cm_verify_result r;
	do {
		for (int i = 0; i < 100; i++, n++) {
			struct cm_quote q;
			if (cm_quote_parse(quote, qlen, &q, &e) ||
			    cm_verify_quote(&q, (const char *)bundle, blen, &o, &r) != 0) {
				fprintf(stderr, "bench_verify: verification failed: %s %s\n",
					r.failed_check ? r.failed_check : "", r.message);
				return 1;
			}
		}
		t1 = now_s();
	} while (t1 - t0 < secs);
	printf("%.0f %s\n", (double)n / (t1 - t0), cm_tcb_status_name(r.tcb.status));
	cm_collateral_cache_free(cache);
	free(quote);
	free(bundle);
	return 0;
}
