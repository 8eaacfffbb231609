/* Collateral bundles (measure/dcap/collateral.c) and the TCB info / QE identity parsers
 * (measure/dcap/tcb.c) on the fixture bundles and on mutations of them. */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "measure/dcap/collateral.h"
#include "measure/dcap/tcb.h"

#define TDX_COLL "tdx/quotes/dcapqvl_tdx_quote_collateral.json"
#define SGX_COLL "tdx/quotes/dcapqvl_sgx_quote_collateral.json"

static char *bundle_with(const char *key, json_object *value)
{
	size_t len;
	uint8_t *b = fixture_read(TDX_COLL, &len);
	json_object *o = json_tokener_parse((const char *)b);
	free(b);
	assert_non_null(o);
	if (value)
		json_object_object_add(o, key, value);
	else
		json_object_object_del(o, key);
	char *out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return out;
}

/* A string field of the TDX fixture bundle (new copy). */
static char *bundle_field(const char *key)
{
	size_t len;
	uint8_t *raw = fixture_read(TDX_COLL, &len);
	json_object *o = json_tokener_parse((const char *)raw), *v;
	free(raw);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, key, &v));
	char *s = strdup(json_object_get_string(v));
	json_object_put(o);
	return s;
}

static const char *load_check(const char *bundle)
{
	struct cm_collateral *c = NULL;
	struct cm_err e = {0};
	int rc = cm_collateral_load(bundle, strlen(bundle), NULL, &c, &e);
	cm_collateral_free(c);
	return rc ? e.check : NULL;
}

/* load_check of the TDX fixture bundle with key set to value (removed when NULL). */
static const char *load_check_with(const char *key, json_object *value)
{
	char *b = bundle_with(key, value);
	const char *check = load_check(b);
	free(b);
	return check;
}

static void test_fixture_bundles_load(void **state)
{
	(void)state;
	const char *files[] = {TDX_COLL, SGX_COLL, "tdx/quotes/dcapqvl_tdx_quote_outdated_collateral.json"};
	for (int i = 0; i < 3; i++) {
		size_t len;
		uint8_t *b = fixture_read(files[i], &len);
		struct cm_collateral *c;
		struct cm_err e = {0};
		assert_int_equal(cm_collateral_load((const char *)b, len, NULL, &c, &e), 0);
		assert_hex_equal(cm_collateral_root_key_id(c),
				 "46e403bd34f05a3f2817ab9badcaacc7ffc98e0f261008cd30dae936cace18d5dcf58eef31463613de1570d516200993");
		cm_collateral_free(c);
		free(b);
	}
}

static void test_window_of_tdx_bundle(void **state)
{
	(void)state;
	size_t len;
	uint8_t *b = fixture_read(TDX_COLL, &len);
	struct cm_collateral *c;
	struct cm_err e = {0};
	assert_int_equal(cm_collateral_load((const char *)b, len, NULL, &c, &e), 0);
	int64_t from, to;
	cm_collateral_window(c, &from, &to);
	assert_int_equal(from, 1750329147); /* fixtures README: inclusive window */
	assert_int_equal(to, 1752919235);
	assert_int_equal(cm_collateral_check_time(c, from, &e), 0);
	assert_int_equal(cm_collateral_check_time(c, to, &e), 0);
	assert_int_not_equal(cm_collateral_check_time(c, to + 1, &e), 0);
	assert_int_equal(cm_collateral_ca(c), CM_PCK_CA_PLATFORM);
	cm_collateral_free(c);
	free(b);
}

static void test_missing_or_malformed_fields(void **state)
{
	(void)state;
	static const char *const keys[] = {"pck_crl", "root_ca_crl", "tcb_info", "tcb_info_signature",
					   "qe_identity", "qe_identity_issuer_chain", "pck_crl_issuer_chain"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		assert_string_equal(load_check_with(keys[i], NULL), "collateral_format");
	}
	assert_string_equal(load_check_with("pck_crl", json_object_new_string("zz")), "collateral_format");
	assert_string_equal(load_check_with("tcb_info_signature", json_object_new_string("00")), "collateral_format");
	assert_string_equal(load_check("not json"), "collateral_format");
	assert_string_equal(load_check("{}"), "collateral_format");
}

/* Issue 13 §14: json-c's default mode accepts trailing commas, comments and single quotes;
 * the bundle and the signed texts are parsed strictly. */
static void test_lenient_json_is_refused(void **state)
{
	(void)state;
	size_t len;
	uint8_t *raw = fixture_read(TDX_COLL, &len);
	char *b = malloc(len + 16);
	/* a trailing comma, then a comment, before the bundle's closing brace */
	static const char *const tails[] = {",}", "/* c */}", "//c\n}"};
	size_t close = len;
	while (close && raw[close - 1] != '}')
		close--;
	assert_true(close > 0);
	for (size_t i = 0; i < 3; i++) {
		memcpy(b, raw, close - 1);
		strcpy(b + close - 1, tails[i]);
		const char *check = load_check(b);
		assert_non_null(check); /* NULL: the bundle loaded */
		assert_string_equal(check, "collateral_format");
	}
	free(b);
	free(raw);
	static const char *const bad[] = {",}", "/**/}"};
	struct cm_err e = {0};
	for (int k = 0; k < 2; k++) {
		const char *key = k ? "qe_identity" : "tcb_info";
		char *t = bundle_field(key);
		size_t n = strlen(t);
		for (size_t i = 0; i < 2; i++) {
			char *m = malloc(n + 8);
			memcpy(m, t, n - 1);
			strcpy(m + n - 1, bad[i]);
			struct cm_tcb_info ti;
			struct cm_qe_identity qi;
			int rc = k ? cm_qe_identity_parse(m, strlen(m), &qi, &e) : cm_tcb_info_parse(m, strlen(m), &ti, &e);
			assert_int_equal(rc, -EBADMSG);
			free(m);
		}
		/* single-quoted key */
		char *q = strdup(t);
		char *id = strstr(q, "\"id\"");
		assert_non_null(id);
		id[0] = id[3] = '\'';
		struct cm_tcb_info ti;
		struct cm_qe_identity qi;
		int rc = k ? cm_qe_identity_parse(q, n, &qi, &e) : cm_tcb_info_parse(q, n, &ti, &e);
		assert_int_equal(rc, -EBADMSG);
		free(q);
		free(t);
	}
}

static void test_signature_over_exact_bytes(void **state)
{
	(void)state;
	char *t = bundle_field("tcb_info");
	/* one byte changed in the signed text (the JSON stays valid) */
	char *p = strstr(t, "\"tcbEvaluationDataNumber\":17");
	assert_non_null(p);
	p[strlen("\"tcbEvaluationDataNumber\":1")] = '8';
	assert_string_equal(load_check_with("tcb_info", json_object_new_string(t)), "tcb_info_signature");
	/* the original text plus one trailing space: also not the signed bytes */
	size_t n = strlen(t);
	char *t2 = malloc(n + 2);
	memcpy(t2, t, n);
	p = strstr(t2, "\"tcbEvaluationDataNumber\":18");
	p[strlen("\"tcbEvaluationDataNumber\":1")] = '7';
	t2[n] = ' ';
	t2[n + 1] = 0;
	assert_string_equal(load_check_with("tcb_info", json_object_new_string(t2)), "tcb_info_signature");
	free(t2);
	free(t);
}

static void test_crl_issuers_checked(void **state)
{
	(void)state;
	char *pck_crl = bundle_field("pck_crl"), *root_crl = bundle_field("root_ca_crl");
	assert_string_equal(load_check_with("root_ca_crl", json_object_new_string(pck_crl)), "root_ca_crl");
	assert_string_equal(load_check_with("pck_crl", json_object_new_string(root_crl)), "pck_crl");
	free(pck_crl);
	free(root_crl);
}

static void test_tcb_info_parse_fields(void **state)
{
	(void)state;
	char *text = bundle_field("tcb_info");
	struct cm_tcb_info ti;
	struct cm_err e = {0};
	assert_int_equal(cm_tcb_info_parse(text, strlen(text), &ti, &e), 0);
	free(text);
	assert_true(ti.tdx);
	assert_int_equal(ti.version, 3);
	assert_hex_equal(ti.fmspc, "b0c06f000000");
	assert_int_equal(ti.eval_number, 17);
	assert_int_equal(ti.issue_date, 1750328163); /* 2025-06-19T10:16:03Z */
	assert_int_equal(ti.n_modules, 2);
	assert_string_equal(ti.modules[0].id, "TDX_03");
	assert_true(ti.n_levels > 1);
	assert_int_equal(ti.levels[0].sgx[7], 5);
	assert_int_equal(ti.levels[0].pcesvn, 11);
	assert_int_equal(ti.levels[0].tdx[2], 2);
	assert_int_equal(ti.levels[0].status, CM_TCB_UP_TO_DATE);
	cm_tcb_info_free(&ti);
	text = bundle_field("qe_identity");
	struct cm_qe_identity qi;
	assert_int_equal(cm_qe_identity_parse(text, strlen(text), &qi, &e), 0);
	free(text);
	assert_true(qi.td);
	assert_int_equal(qi.isvprodid, 2);
	assert_int_equal(qi.miscselect_mask, 0xffffffffu);
	assert_hex_equal(qi.mrsigner, "dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5");
	assert_int_equal(qi.levels[0].isvsvn, 4);
	cm_qe_identity_free(&qi);
	static const char v2[] = "{\"id\":\"TDX\",\"version\":2}", xyz[] = "{\"id\":\"XYZ\"}";
	assert_int_equal(cm_tcb_info_parse(v2, strlen(v2), &ti, &e), -EBADMSG);
	assert_int_equal(cm_tcb_info_parse(xyz, strlen(xyz), &ti, &e), -EBADMSG);
	/* a malformed field is named by its JSON path */
	text = bundle_field("tcb_info");
	char *st = strstr(text, "\"tcbStatus\":\"");
	assert_non_null(st);
	memcpy(st + 13, "Fine", 4); /* the first level's status */
	assert_int_equal(cm_tcb_info_parse(text, strlen(text), &ti, &e), -EBADMSG);
	free(text);
	assert_non_null(strstr(e.msg, "TCB info: tdxModuleIdentities[0].tcbLevels[0].tcbStatus: unknown tcbStatus"));
}

static void test_iso8601(void **state)
{
	(void)state;
	int64_t t;
	assert_int_equal(cm_parse_iso8601("2025-07-19T10:00:35Z", &t), 0);
	assert_int_equal(t, 1752919235);
	assert_int_equal(cm_parse_iso8601("2025-07-19T10:00:35.123Z", &t), 0);
	assert_int_equal(t, 1752919235);
	assert_int_equal(cm_parse_iso8601("2025-07-19 10:00:35Z", &t), -EINVAL);
	assert_int_equal(cm_parse_iso8601("2025-07-19T10:00:35", &t), -EINVAL);
	assert_int_equal(cm_parse_iso8601("2025-13-19T10:00:35Z", &t), -EINVAL);
	assert_int_equal(cm_parse_iso8601("2025-07-19T10:00:35Zjunk", &t), -EINVAL);
}

static void test_status_names_round_trip(void **state)
{
	(void)state;
	for (int i = 0; i < CM_TCB_STATUS_COUNT; i++) {
		enum cm_tcb_status s;
		assert_int_equal(cm_tcb_status_parse(cm_tcb_status_name((enum cm_tcb_status)i), &s), 0);
		assert_int_equal((int)s, i);
	}
	enum cm_tcb_status s;
	assert_int_equal(cm_tcb_status_parse("uptodate", &s), -EINVAL);
}

static void test_cache_evicts_least_recently_used(void **state)
{
	(void)state;
	size_t l1, l2;
	uint8_t *b1 = fixture_read(TDX_COLL, &l1), *b2 = fixture_read(SGX_COLL, &l2);
	struct cm_collateral_cache *cache = cm_collateral_cache_new(1);
	struct cm_collateral *c;
	struct cm_err e = {0};
	struct cm_cache_stats st;
	assert_int_equal(cm_collateral_cache_get(cache, (char *)b1, l1, NULL, 1752919000, &c, &e), 0);
	assert_int_equal(cm_collateral_cache_get(cache, (char *)b2, l2, NULL, 1752919000, &c, &e), 0);
	assert_int_equal(cm_collateral_cache_get(cache, (char *)b1, l1, NULL, 1752919000, &c, &e), 0);
	cm_collateral_cache_stats(cache, &st);
	assert_int_equal(st.misses, 3);
	assert_int_equal(st.hits, 0);
	assert_int_equal(st.entries, 1);
	assert_int_equal(cm_collateral_cache_get(cache, (char *)b1, l1, NULL, 1752919000, &c, &e), 0);
	cm_collateral_cache_stats(cache, &st);
	assert_int_equal(st.hits, 1);
	/* a different anchor is a different entry (and here: the wrong root) */
	X509 *other = cm_intel_root_new();
	assert_int_equal(cm_collateral_cache_get(cache, (char *)b1, l1, other, 1752919000, &c, &e), 0);
	cm_collateral_cache_stats(cache, &st);
	assert_int_equal(st.hits, 2); /* same key: Intel root passed explicitly */
	X509_free(other);
	cm_collateral_cache_free(cache);
	free(b1);
	free(b2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_bundles_load),
		cmocka_unit_test(test_window_of_tdx_bundle),
		cmocka_unit_test(test_missing_or_malformed_fields),
		cmocka_unit_test(test_signature_over_exact_bytes),
		cmocka_unit_test(test_lenient_json_is_refused),
		cmocka_unit_test(test_crl_issuers_checked),
		cmocka_unit_test(test_tcb_info_parse_fields),
		cmocka_unit_test(test_iso8601),
		cmocka_unit_test(test_status_names_round_trip),
		cmocka_unit_test(test_cache_evicts_least_recently_used),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
