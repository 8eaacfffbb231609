/* cocoon-launch collateral (host-launcher/collateral.h): the collateral_* config keys, the
 * PCS API v4 responses turned into the bundle (the Intel fixture bundle, served the way
 * the PCS serves it, comes back as the same bundle), the refusals of malformed responses,
 * the acceptance checks and the atomic write. The HTTP side and the refusal of expired,
 * revoked, older and wrong-FMSPC bundles end to end: tests/collateral/collateral_test.sh. */
#include "tests/unit/testutil.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "host-launcher/collateral.h"
#include "host-launcher/config.h"

#define TA 1752919234 /* the fixture's verification time */
static const uint8_t FMSPC_A[6] = {0xb0, 0xc0, 0x6f, 0, 0, 0};

static void test_config_keys(void **state)
{
	(void)state;
	struct cl_config c;
	cl_config_init(&c);
	struct cm_err e = {0};
	const char *ini = "[node]\ncollateral_peer_fmspcs = 00906ED50000, 90c06f000000,00906ed50000\n"
			  "collateral_fmspc = B0C06F000000\ncollateral_url = http://pccs.local:8081/\n"
			  "collateral_refresh = 3600\n";
	assert_int_equal(cl_config_parse(&c, ini, strlen(ini), "t.conf", &e), 0);
	assert_int_equal(c.collateral.n_fmspc, 3); /* the duplicate peer counted once */
	assert_true(c.collateral.have_platform);
	assert_memory_equal(c.collateral.fmspc[0], FMSPC_A, 6); /* the platform's first */
	assert_string_equal(c.collateral.url, "http://pccs.local:8081");
	assert_int_equal(c.collateral.refresh, 3600);
	assert_string_equal(c.collateral.root_crl_url,
			    "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der");
	static const char *const bad[][2] = {
		{"collateral_fmspc=B0C06F00000", "12 hex digits"},
		{"collateral_fmspc=B0C06F00000G", "12 hex digits"},
		{"collateral_peer_fmspcs=00906ED50000,xyz", "bad FMSPC 'xyz'"},
		{"collateral_url=ftp://x", "http:// or https://"},
		{"collateral_url=http://a b", "no spaces"},
		{"collateral_refresh=5", "10-604800"},
		{"collateral_refresh=-1", "10-604800"},
		{"collateral_root=", "PEM file path"},
		{"collateral_other=1", "unknown key 'collateral_other'"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(cl_config_set(&c, bad[i][0], &e), -EINVAL);
		if (!strstr(e.msg, bad[i][1]))
			fail_msg("%s: '%s' lacks '%s'", bad[i][0], e.msg, bad[i][1]);
	}
	cl_config_init(&c);
	char kv[64];
	for (int i = 0; i < CL_COLL_MAX_FMSPCS; i++) {
		snprintf(kv, sizeof(kv), "collateral_peer_fmspcs=0000000000%02x", i);
		assert_int_equal(cl_config_set(&c, kv, &e), 0);
	}
	assert_int_equal(cl_config_set(&c, "collateral_peer_fmspcs=00000000ffff", &e), -E2BIG);
	assert_int_equal(cl_config_set(&c, "collateral_fmspc=00000000ffff", &e), -E2BIG);
}

/* The fixture bundle as the PCS serves it. */
struct served {
	char *tcb, *tcb_chain, *qe, *qe_chain, *crl_chain;
	uint8_t *pck_crl, *root_crl;
	size_t pck_crl_len, root_crl_len;
	json_object *fixture;
};

static char *urlencode(const char *s)
{
	char *o = malloc(3 * strlen(s) + 1), *q = o;
	assert_non_null(o);
	for (; *s; s++)
		q += isalnum((unsigned char)*s) ? sprintf(q, "%c", *s) : sprintf(q, "%%%02X", (unsigned char)*s);
	*q = 0;
	return o;
}

static const char *field(json_object *o, const char *k)
{
	json_object *v;
	assert_true(json_object_object_get_ex(o, k, &v));
	return json_object_get_string(v);
}

static void serve(struct served *s)
{
	size_t len;
	uint8_t *b = fixture_read("tdx/quotes/dcapqvl_tdx_quote_collateral.json", &len);
	s->fixture = json_tokener_parse((const char *)b);
	free(b);
	assert_non_null(s->fixture);
	json_object *f = s->fixture;
	assert_true(asprintf(&s->tcb, "{\"tcbInfo\":%s,\"signature\":\"%s\"}", field(f, "tcb_info"),
			     field(f, "tcb_info_signature")) > 0);
	assert_true(asprintf(&s->qe, "{\"enclaveIdentity\":%s,\"signature\":\"%s\"}", field(f, "qe_identity"),
			     field(f, "qe_identity_signature")) > 0);
	s->tcb_chain = urlencode(field(f, "tcb_info_issuer_chain"));
	s->qe_chain = urlencode(field(f, "qe_identity_issuer_chain"));
	s->crl_chain = urlencode(field(f, "pck_crl_issuer_chain"));
	s->pck_crl = hex_to_bytes(field(f, "pck_crl"), &s->pck_crl_len);
	s->root_crl = hex_to_bytes(field(f, "root_ca_crl"), &s->root_crl_len);
}

static struct cl_pcs pcs_of(const struct served *s)
{
	return (struct cl_pcs){
		.tcb = s->tcb, .tcb_len = strlen(s->tcb), .tcb_chain = s->tcb_chain,
		.qe = s->qe, .qe_len = strlen(s->qe), .qe_chain = s->qe_chain,
		.pck_crl = s->pck_crl, .pck_crl_len = s->pck_crl_len, .pck_crl_chain = s->crl_chain,
		.root_crl = s->root_crl, .root_crl_len = s->root_crl_len,
	};
}

static void served_free(struct served *s)
{
	free(s->tcb);
	free(s->qe);
	free(s->tcb_chain);
	free(s->qe_chain);
	free(s->crl_chain);
	free(s->pck_crl);
	free(s->root_crl);
	json_object_put(s->fixture);
}

static void test_bundle_from_pcs_responses(void **state)
{
	(void)state;
	struct served s;
	serve(&s);
	struct cl_pcs r = pcs_of(&s);
	char *json;
	size_t len;
	struct cm_err e = {0};
	assert_int_equal(cl_collateral_bundle(&r, &json, &len, &e), 0);
	json_object *got = json_tokener_parse(json);
	assert_true(json_object_equal(got, s.fixture)); /* every field, the signed text exactly */
	json_object_put(got);
	struct cl_coll_info info;
	assert_int_equal(cl_collateral_accept(json, len, NULL, 0, FMSPC_A, NULL, TA, &info, &e), 0);
	assert_int_equal(info.tcb_issue_date, 1750328163);
	assert_int_equal(info.eval_number, 17);
	assert_true(info.valid_from <= TA && TA <= info.valid_to);
	/* the same bundle again is not older; an old bundle that does not load is replaced */
	assert_int_equal(cl_collateral_accept(json, len, json, len, FMSPC_A, NULL, TA, NULL, &e), 0);
	assert_int_equal(cl_collateral_accept(json, len, "{}", 2, FMSPC_A, NULL, TA, NULL, &e), 0);
	static const uint8_t other[6] = {0x90, 0xc0, 0x6f, 0, 0, 0};
	assert_int_equal(cl_collateral_accept(json, len, NULL, 0, other, NULL, TA, NULL, &e), -EINVAL);
	assert_string_equal(e.check, "collateral_fmspc");
	assert_true(cl_collateral_accept(json, len, NULL, 0, FMSPC_A, NULL, TA + 400 * 86400, NULL, &e) < 0);
	assert_non_null(strstr(e.check, "_expired"));
	free(json);
	/* the root CA CRL as hex text (what some PCCS serve) */
	char *hex = malloc(2 * s.root_crl_len + 2);
	cm_hex_encode(s.root_crl, s.root_crl_len, hex, 2 * s.root_crl_len + 1);
	strcat(hex, "\n");
	r.root_crl = (const uint8_t *)hex;
	r.root_crl_len = strlen(hex);
	assert_int_equal(cl_collateral_bundle(&r, &json, &len, &e), 0);
	got = json_tokener_parse(json);
	assert_true(json_object_equal(got, s.fixture));
	json_object_put(got);
	free(json);
	free(hex);
	served_free(&s);
}

static void expect_refused(struct cl_pcs r, const char *what)
{
	char *json = NULL;
	size_t len;
	struct cm_err e = {0};
	assert_true(cl_collateral_bundle(&r, &json, &len, &e) < 0);
	assert_null(json);
	assert_string_equal(e.check, "pcs_response");
	if (!strstr(e.msg, what))
		fail_msg("'%s' lacks '%s'", e.msg, what);
}

static void test_malformed_responses_are_refused(void **state)
{
	(void)state;
	struct served s;
	serve(&s);
	struct cl_pcs r = pcs_of(&s);
	/* re-serialized with spaces: the signed text cannot be recovered exactly */
	char *spaced;
	assert_true(asprintf(&spaced, "{\"tcbInfo\": %s, \"signature\": \"%s\"}", field(s.fixture, "tcb_info"),
			     field(s.fixture, "tcb_info_signature")) > 0);
	r.tcb = spaced;
	r.tcb_len = strlen(spaced);
	expect_refused(r, "not in the compact form");
	free(spaced);
	r = pcs_of(&s);
	r.tcb_len -= 1; /* truncated */
	expect_refused(r, "TCB info response: not valid JSON");
	r = pcs_of(&s);
	r.qe = "{\"enclaveIdentity\":{},\"signature\":\"00\"}";
	r.qe_len = strlen(r.qe);
	expect_refused(r, "QE identity response");
	r = pcs_of(&s);
	r.tcb_chain = NULL;
	expect_refused(r, "the issuer chain header is missing");
	r = pcs_of(&s);
	r.qe_chain = "%2";
	expect_refused(r, "bad percent-encoding");
	r = pcs_of(&s);
	r.pck_crl_chain = "hello";
	expect_refused(r, "holds no PEM certificate");
	r = pcs_of(&s);
	r.root_crl = (const uint8_t *)"<html>";
	r.root_crl_len = 6;
	expect_refused(r, "root CA CRL response: neither DER nor hex DER");
	r = pcs_of(&s);
	r.pck_crl_len = 0;
	expect_refused(r, "PCK CRL response: empty");
	served_free(&s);
}

static void test_write_atomic(void **state)
{
	(void)state;
	char *d = test_tmpdir();
	struct cm_err e = {0};
	assert_int_equal(cl_write_atomic(d, "b.json", "one", 3, &e), 0);
	assert_int_equal(cl_write_atomic(d, "b.json", "second", 6, &e), 0);
	char p[512];
	snprintf(p, sizeof(p), "%s/b.json", d);
	uint8_t *buf;
	size_t len;
	assert_int_equal(cm_read_file(p, 100, &buf, &len, &e), 0);
	assert_int_equal(len, 6);
	assert_memory_equal(buf, "second", 6);
	free(buf);
	DIR *dir = opendir(d);
	int n = 0;
	for (struct dirent *de; (de = readdir(dir));)
		n += de->d_name[0] != '.'; /* no temporary file left (they start with '.') */
	closedir(dir);
	assert_int_equal(n, 1);
	snprintf(p, sizeof(p), "%s/missing", d);
	assert_true(cl_write_atomic(p, "b.json", "x", 1, &e) < 0);
	assert_non_null(strstr(e.msg, "cannot create a file in"));
	snprintf(p, sizeof(p), "rm -rf '%s'", d);
	assert_int_equal(system(p), 0);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_keys),
		cmocka_unit_test(test_bundle_from_pcs_responses),
		cmocka_unit_test(test_malformed_responses_are_refused),
		cmocka_unit_test(test_write_atomic),
	};
	return cmocka_run_group_tests_name("launch_collateral", tests, NULL, NULL);
}
