/* RA-TLS certificate builder: Cocoon's structure, checked with the OpenSSL API and CLI. */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/x509v3.h>

#include "measure/core/digest.h"
#include "measure/ratls/cert.h"

static uint8_t *quote_fixture(size_t *len)
{
	return fixture_read("tdx/quotes/dcapqvl_tdx_quote.bin", len);
}

static X509 *build(EVP_PKEY **key, uint8_t **quote, size_t *qlen, time_t nb)
{
	struct cm_err e = {0};
	*key = cr_key_new(&e);
	assert_non_null(*key);
	*quote = quote_fixture(qlen);
	X509 *x = NULL;
	const char log[] = "cocoon:spec.tree=00\ncocoon:tdx_inited\n";
	assert_int_equal(cr_cert_build(*key, *quote, *qlen, (const uint8_t *)log, strlen(log), nb, &x, &e), 0);
	return x;
}

static X509_EXTENSION *ext_by_oid(X509 *x, const char *oid)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	int i = X509_get_ext_by_OBJ(x, o, -1);
	ASN1_OBJECT_free(o);
	return i < 0 ? NULL : X509_get_ext(x, i);
}

static void test_cert_has_cocoon_extensions_in_order(void **state)
{
	(void)state;
	EVP_PKEY *key;
	uint8_t *quote;
	size_t qlen;
	X509 *x = build(&key, &quote, &qlen, time(NULL));
	assert_int_equal(X509_get_version(x), X509_VERSION_3);
	const char *want[] = {CR_OID_QUOTE, CR_OID_CLAIMS, "2.5.29.19", "2.5.29.15", "2.5.29.37", "2.5.29.14",
			      "2.5.29.17", CR_OID_EVENTLOG};
	const int crit[] = {1, 1, 1, 1, 1, 0, 0, 0};
	assert_int_equal(X509_get_ext_count(x), 8);
	for (int i = 0; i < 8; i++) {
		X509_EXTENSION *ext = X509_get_ext(x, i);
		char oid[64];
		OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(ext), 1);
		assert_string_equal(oid, want[i]);
		assert_int_equal(X509_EXTENSION_get_critical(ext), crit[i]);
	}
	/* raw quote, not DER-wrapped again */
	ASN1_OCTET_STRING *q = X509_EXTENSION_get_data(ext_by_oid(x, CR_OID_QUOTE));
	assert_int_equal(ASN1_STRING_length(q), qlen);
	assert_memory_equal(ASN1_STRING_get0_data(q), quote, qlen);
	/* claims = raw 32-byte public key */
	uint8_t pk[32];
	struct cm_err e = {0};
	assert_int_equal(cr_key_raw_public(key, pk, &e), 0);
	ASN1_OCTET_STRING *c = X509_EXTENSION_get_data(ext_by_oid(x, CR_OID_CLAIMS));
	assert_int_equal(ASN1_STRING_length(c), 32);
	assert_memory_equal(ASN1_STRING_get0_data(c), pk, 32);
	free(quote);
	X509_free(x);
	EVP_PKEY_free(key);
}

static void test_cert_is_self_signed_ed25519_one_day(void **state)
{
	(void)state;
	EVP_PKEY *key;
	uint8_t *quote;
	size_t qlen;
	time_t nb = 1700000000;
	X509 *x = build(&key, &quote, &qlen, nb);
	EVP_PKEY *pub = X509_get0_pubkey(x);
	assert_int_equal(EVP_PKEY_id(pub), EVP_PKEY_ED25519);
	assert_int_equal(X509_verify(x, pub), 1);
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)), 0);
	char *s = X509_NAME_oneline(X509_get_subject_name(x), NULL, 0);
	assert_string_equal(s, "/C=AE/ST=DUBAI/O=TDLib Development/OU=Security/CN=localhost");
	OPENSSL_free(s);
	int days, secs;
	assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)), 1);
	assert_int_equal(days * 86400 + secs, 86400);
	assert_int_equal(ASN1_TIME_cmp_time_t(X509_get0_notBefore(x), nb), 0);
	/* 128-bit random serial */
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	assert_true(BN_num_bits(bn) > 64 && BN_num_bits(bn) <= 128);
	BN_free(bn);
	/* CA:FALSE, digitalSignature, serverAuth+clientAuth */
	assert_int_equal(X509_check_ca(x), 0);
	assert_true(X509_get_key_usage(x) == KU_DIGITAL_SIGNATURE);
	assert_true(X509_get_extended_key_usage(x) == (XKU_SSL_SERVER | XKU_SSL_CLIENT));
	/* SAN: dNSName 127.0.0.1 (Cocoon clients set1_host("127.0.0.1")) and the IPs */
	assert_int_equal(X509_check_host(x, "127.0.0.1", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(x, "localhost", 0, 0, NULL), 1);
	assert_int_equal(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
	assert_int_equal(X509_check_ip_asc(x, "::1", 0), 1);
	free(quote);
	X509_free(x);
	EVP_PKEY_free(key);
}

static void test_report_data_is_sha512_of_raw_public_key(void **state)
{
	(void)state;
	struct cm_err e = {0};
	EVP_PKEY *key = cr_key_new(&e);
	uint8_t pk[32], rd[64], want[64];
	assert_int_equal(cr_key_raw_public(key, pk, &e), 0);
	assert_int_equal(cr_report_data(key, rd, &e), 0);
	assert_int_equal(cm_sha512(pk, 32, want), 0);
	assert_memory_equal(rd, want, 64);
	EVP_PKEY_free(key);
	/* not Ed25519: refused */
	EVP_PKEY *ec = EVP_EC_gen("P-256");
	assert_int_equal(cr_report_data(ec, rd, &e), -EINVAL);
	assert_int_equal(cr_cert_build(ec, NULL, 0, NULL, 0, 0, &(X509 *){NULL}, &e), -EINVAL);
	EVP_PKEY_free(ec);
}

static void test_cert_rejects_oversized_quote(void **state)
{
	(void)state;
	struct cm_err e = {0};
	EVP_PKEY *key = cr_key_new(&e);
	uint8_t *big = calloc(1, CR_QUOTE_MAX + 1);
	X509 *x = NULL;
	assert_int_equal(cr_cert_build(key, big, CR_QUOTE_MAX + 1, NULL, 0, 0, &x, &e), -EINVAL);
	assert_null(x);
	free(big);
	EVP_PKEY_free(key);
}

static void test_cert_write_load_roundtrip_key_0600(void **state)
{
	(void)state;
	EVP_PKEY *key;
	uint8_t *quote;
	size_t qlen;
	X509 *x = build(&key, &quote, &qlen, time(NULL));
	char *dir = test_tmpdir();
	struct cm_err e = {0};
	assert_int_equal(cr_cert_write(dir, key, x, &e), 0);
	char p[600];
	struct stat st;
	snprintf(p, sizeof(p), "%s/key.pem", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	EVP_PKEY *k2;
	X509 *x2;
	assert_int_equal(cr_cert_load(dir, &k2, &x2, &e), 0);
	assert_int_equal(X509_cmp(x, x2), 0);
	assert_int_equal(EVP_PKEY_eq(key, k2), 1);

	/* The OpenSSL CLI sees the same structure. */
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "openssl x509 -in %s/cert.pem -noout -text > %s/text.txt 2>&1", dir, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(p, sizeof(p), "%s/text.txt", dir);
	uint8_t *txt;
	size_t tlen;
	assert_int_equal(cm_read_file(p, 1 << 20, &txt, &tlen, &e), 0);
	const char *needles[] = {
		"Version: 3 (0x2)",
		"Signature Algorithm: ED25519",
		"Issuer: C = AE, ST = DUBAI, O = TDLib Development, OU = Security, CN = localhost",
		"Subject: C = AE, ST = DUBAI, O = TDLib Development, OU = Security, CN = localhost",
		"Public Key Algorithm: ED25519",
		"1.3.6.1.4.1.12345.1: critical",
		"1.3.6.1.4.1.12345.2: critical",
		"X509v3 Basic Constraints: critical\n                CA:FALSE",
		"X509v3 Key Usage: critical\n                Digital Signature",
		"X509v3 Extended Key Usage: critical\n                TLS Web Server Authentication, TLS Web Client Authentication",
		"DNS:localhost, DNS:127.0.0.1, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1",
		"1.3.6.1.4.1.12345.3.1: \n",
	};
	for (size_t i = 0; i < sizeof(needles) / sizeof(needles[0]); i++)
		if (!strstr((char *)txt, needles[i]))
			fail_msg("openssl x509 -text lacks \"%s\":\n%s", needles[i], txt);
	free(txt);
	free(dir);
	free(quote);
	X509_free(x);
	X509_free(x2);
	EVP_PKEY_free(key);
	EVP_PKEY_free(k2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cert_has_cocoon_extensions_in_order),
		cmocka_unit_test(test_cert_is_self_signed_ed25519_one_day),
		cmocka_unit_test(test_report_data_is_sha512_of_raw_public_key),
		cmocka_unit_test(test_cert_rejects_oversized_quote),
		cmocka_unit_test(test_cert_write_load_roundtrip_key_0600),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
