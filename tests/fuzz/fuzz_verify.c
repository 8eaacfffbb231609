/* libFuzzer target over quote + collateral parsing and verification.
 *
 * Input starting with '{': a collateral bundle (loaded against the Intel root) and, on
 * the same bytes, the TCB info, QE identity and policy parsers. Anything else: a quote,
 * parsed and verified against the fixture bundle B0C06F (loaded once from $FIXTURES) at
 * its valid time, through a warm collateral cache. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/verify.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cm_collateral_cache *cache;
static char *bundle;
static size_t bundle_len;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *fx = getenv("FIXTURES");
	char path[1024];
	snprintf(path, sizeof(path), "%s/tdx/quotes/dcapqvl_tdx_quote_collateral.json", fx ? fx : "../shared/fixtures");
	uint8_t *buf;
	struct cm_err e = {0};
	if (cm_read_file(path, 4u << 20, &buf, &bundle_len, &e) == 0)
		bundle = (char *)buf;
	else
		fprintf(stderr, "fuzz_verify: %s (quote inputs are only parsed)\n", e.msg);
	cache = cm_collateral_cache_new(2);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_err e = {0};
	if (size && data[0] == '{') {
		const char *s = (const char *)data;
		struct cm_collateral *c = NULL;
		const char *check = NULL;
		if (cm_collateral_load(s, size, NULL, &c, &check, &e) == 0) {
			cm_collateral_check_time(c, 1752919234, &check, &e);
			cm_collateral_free(c);
		}
		struct cm_tcb_info ti;
		if (cm_tcb_info_parse(s, size, &ti, &e) == 0)
			cm_tcb_info_free(&ti);
		struct cm_qe_identity qi;
		if (cm_qe_identity_parse(s, size, &qi, &e) == 0)
			cm_qe_identity_free(&qi);
		struct cm_policy p;
		if (cm_policy_parse(s, size, &p, &e) == 0)
			cm_policy_free(&p);
		return 0;
	}
	struct cm_quote q;
	if (cm_quote_parse(data, size, &q, &e) || !bundle)
		return 0;
	struct cm_verify_opts o = {.time = 1752919234, .cache = cache};
	struct cm_verify_result r;
	cm_verify_quote(&q, bundle, bundle_len, &o, &r);
	json_object *j = json_object_new_object();
	cm_verify_result_to_json(&r, j);
	json_object_put(j);
	return 0;
}
