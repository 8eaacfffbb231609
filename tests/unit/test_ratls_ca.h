/* Shared fixtures of the cocoon-ratls unit tests: a software PCK CA (guest/attest/simca.h)
 * on disk and attested certificates minted with it. Header-only (static functions). */
#ifndef COCOON_TEST_RATLS_TESTCA_H
#define COCOON_TEST_RATLS_TESTCA_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guest/attest/simca.h"
#include "measure/core/digest.h"
#include "measure/eventlog/rtmr3.h"
#include "measure/ratls/cert.h"
#include "measure/ratls/peer.h"
#include "tests/unit/testutil.h"

struct testca {
	struct ca_simca *ca;
	char *dir;
	char root[600], collateral[600];
};

static const char test_event_log[] = "cocoon:spec.tree=0123abcd\ncocoon:tdx_inited\n";

/* A CA made from p (NULL: the defaults at now), saved to a new directory. */
static struct testca *testca_new_with(const struct ca_simca_params *params)
{
	struct testca *t = calloc(1, sizeof(*t));
	struct ca_simca_params p;
	struct cm_err e = {0};
	ca_simca_params_default(&p, (int64_t)time(NULL));
	if (params)
		p = *params;
	t->ca = ca_simca_new(&p, &e);
	if (!t->ca)
		fail_msg("simca: %s", e.msg);
	t->dir = test_tmpdir();
	if (ca_simca_save(t->ca, t->dir, &e))
		fail_msg("simca save: %s", e.msg);
	snprintf(t->root, sizeof(t->root), "%s/root.pem", t->dir);
	snprintf(t->collateral, sizeof(t->collateral), "%s/collateral.json", t->dir);
	return t;
}

static struct testca *testca_new(void)
{
	return testca_new_with(NULL);
}

static void testca_free(struct testca *t)
{
	ca_simca_free(t->ca);
	free(t->dir);
	free(t);
}

/* A quote whose REPORTDATA is SHA-512(raw public key of `bind`), RTMR3 = replay of `log`
 * (testca_quote: the test event log), MRTD tweaked by `variant` (to get distinct image
 * hashes). */
static uint8_t *testca_quote_log(struct testca *t, EVP_PKEY *bind, int variant, const char *log, size_t *len)
{
	struct ca_simca_td td;
	struct cm_err e = {0};
	ca_simca_td_default(&td);
	assert_int_equal(cr_report_data(bind, td.report_data, &e), 0);
	td.mr_td[0] ^= (uint8_t)variant;
	assert_int_equal(cm_rtmr3_replay((const uint8_t *)log, strlen(log), td.rtmr[3], NULL, &e), 0);
	uint8_t *q = NULL;
	if (ca_simca_quote(t->ca, &td, &q, len, &e))
		fail_msg("simca quote: %s", e.msg);
	return q;
}

static uint8_t *testca_quote(struct testca *t, EVP_PKEY *bind, int variant, size_t *len)
{
	return testca_quote_log(t, bind, variant, test_event_log, len);
}

/* An attested certificate for a new key (returned in *key). */
static X509 *testca_cert(struct testca *t, EVP_PKEY **key, int variant, time_t not_before)
{
	struct cm_err e = {0};
	*key = cr_key_new(&e);
	size_t qlen;
	uint8_t *q = testca_quote(t, *key, variant, &qlen);
	X509 *x = NULL;
	assert_int_equal(cr_cert_build(*key, q, qlen, (const uint8_t *)test_event_log, strlen(test_event_log),
				       not_before, &x, &e),
			 0);
	free(q);
	return x;
}

/* Add the extension oid (critical or not, value "x") to x and sign it again with k (inline:
 * not every test uses it). */
static inline X509 *testca_resign_with_ext(X509 *x, EVP_PKEY *k, const char *oid, int critical)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	ASN1_OCTET_STRING_set(os, (const unsigned char *)"x", 1);
	X509_EXTENSION *ext = X509_EXTENSION_create_by_OBJ(NULL, o, critical, os);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	assert_true(X509_sign(x, k, NULL) > 0);
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(o);
	return x;
}

static struct cr_verifier *testca_verifier(struct testca *t, const char *measure_policy, size_t cache)
{
	struct cm_err e = {0};
	struct cr_verifier *v = cr_verifier_new(cache, 3600, &e);
	assert_non_null(v);
	struct cr_policy_conf c = {.type = CR_POLICY_TDX};
	snprintf(c.name, sizeof(c.name), "sim");
	snprintf(c.root, sizeof(c.root), "%s", t->root);
	snprintf(c.collateral, sizeof(c.collateral), "%s", t->collateral);
	if (measure_policy)
		snprintf(c.measure_policy, sizeof(c.measure_policy), "%s", measure_policy);
	if (cr_verifier_add_policy(v, &c, &e))
		fail_msg("policy: %s", e.msg);
	struct cr_policy_conf any = {.type = CR_POLICY_ANY};
	snprintf(any.name, sizeof(any.name), "any");
	assert_int_equal(cr_verifier_add_policy(v, &any, &e), 0);
	return v;
}

#endif
