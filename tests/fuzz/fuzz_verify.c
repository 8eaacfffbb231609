/* libFuzzer target over quote + collateral parsing and verification.
 *
 * Input starting with '{': a collateral bundle (loaded against the Intel root); the same
 * bytes, and a bundle's inner tcb_info / qe_identity texts, go through the TCB info and QE
 * identity parsers and, when they parse, through the TCB evaluation with fixture Q1 (the
 * signature would stop a mutated document before that); plus the policy parser.
 * Anything else: a quote, parsed and verified against the fixture bundle B0C06F (loaded
 * once from $FIXTURES) at its valid time, through a warm collateral cache. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/dcap/verify.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cm_collateral_cache *cache;
static char *bundle;
static size_t bundle_len;
/* Fixture Q1 with its verified collateral and PCK chain. */
static uint8_t *q1_buf;
static struct cm_quote q1;
static struct cm_collateral *q1_coll;
static const struct cm_pck_info *q1_pck;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *fx = getenv("FIXTURES");
	char path[1024];
	uint8_t *buf;
	size_t qlen;
	struct cm_err e = {0};
	fx = fx ? fx : "../shared/fixtures";
	snprintf(path, sizeof(path), "%s/tdx/quotes/dcapqvl_tdx_quote_collateral.json", fx);
	if (cm_read_file(path, 4u << 20, &buf, &bundle_len, &e) == 0)
		bundle = (char *)buf;
	else
		fprintf(stderr, "fuzz_verify: %s (quotes are only parsed, TCB evaluation skipped)\n", e.msg);
	cache = cm_collateral_cache_new(2);
	snprintf(path, sizeof(path), "%s/tdx/quotes/dcapqvl_tdx_quote.bin", fx);
	if (bundle && cm_read_file(path, CM_QUOTE_MAX_LEN, &q1_buf, &qlen, &e) == 0 &&
	    cm_quote_parse(q1_buf, qlen, &q1, &e) == 0 &&
	    cm_collateral_load(bundle, bundle_len, NULL, &q1_coll, &e) == 0 &&
	    cm_collateral_pck(q1_coll, &q1, 1752919234, &q1_pck, &e) != 0)
		q1_pck = NULL;
	return 0;
}

static void eval_doc(const char *s, size_t len)
{
	struct cm_err e = {0};
	struct cm_tcb_eval ev;
	struct cm_tcb_info ti;
	if (cm_tcb_info_parse(s, len, &ti, &e) == 0) {
		if (q1_pck)
			cm_tcb_evaluate(&ti, cm_collateral_qe_identity(q1_coll), &q1, &q1_pck->ext, &ev, &e);
		cm_tcb_info_free(&ti);
	}
	struct cm_qe_identity qi;
	if (cm_qe_identity_parse(s, len, &qi, &e) == 0) {
		if (q1_pck)
			cm_tcb_evaluate(cm_collateral_tcb_info(q1_coll), &qi, &q1, &q1_pck->ext, &ev, &e);
		cm_qe_identity_free(&qi);
	}
}

static void fuzz_documents(const uint8_t *data, size_t size)
{
	struct cm_err e = {0};
	const char *s = (const char *)data;
	struct cm_collateral *c = NULL;
	if (cm_collateral_load(s, size, NULL, &c, &e) == 0) {
		cm_collateral_check_time(c, 1752919234, &e);
		cm_collateral_free(c);
	}
	eval_doc(s, size);
	char *z = malloc(size + 1); /* json_tokener_parse needs a NUL-terminated copy */
	if (z) {
		memcpy(z, data, size);
		z[size] = 0;
		json_object *o = json_tokener_parse(z), *v;
		static const char *const inner[] = {"tcb_info", "qe_identity"};
		for (int i = 0; o && i < 2; i++)
			if (json_object_object_get_ex(o, inner[i], &v) && json_object_is_type(v, json_type_string))
				eval_doc(json_object_get_string(v), (size_t)json_object_get_string_len(v));
		json_object_put(o);
		free(z);
	}
	struct cm_policy p;
	if (cm_policy_parse(s, size, &p, &e) == 0)
		cm_policy_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size && data[0] == '{') {
		fuzz_documents(data, size);
		return 0;
	}
	struct cm_err e = {0};
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
