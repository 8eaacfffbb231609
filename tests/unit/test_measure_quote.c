/* Quote parser: every fixture quote, every field the fixtures document, truncation at
 * every length, and corruption of each structural field. */
#include "tests/unit/test_patch.h"
#include "tests/unit/testutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "measure/core/util.h"
#include "measure/dcap/pck.h"
#include "measure/dcap/quote.h"

#define Q_COCOON "tdx/quotes/cocoon_quote.dat"
#define Q_TDX "tdx/quotes/dcapqvl_tdx_quote.bin"
#define Q_SGX "tdx/quotes/dcapqvl_sgx_quote.bin"
#define Q_V5_OUTDATED "tdx/quotes/dcapqvl_tdx_quote_outdated.bin"
#define Q_V5_GOTDX "tdx/quotes/gotdx_quote_v5_sample.dat"
#define Q_COS "tdx/ccel/cos-113-tdx-quote.dat"

static const char *all_quotes[] = {Q_COCOON, Q_TDX, Q_SGX, Q_V5_OUTDATED, Q_V5_GOTDX, Q_COS};

static void parse_ok(const uint8_t *b, size_t n, struct cm_quote *q)
{
	struct cm_err e = {0};
	int r = cm_quote_parse(b, n, q, &e);
	if (r)
		print_error("parse failed: %s\n", e.msg);
	assert_int_equal(r, 0);
}

/* A fixture quote, read and parsed into q (fails the test when it does not parse). */
static uint8_t *read_parsed(const char *rel, size_t *n, struct cm_quote *q)
{
	uint8_t *b = fixture_read(rel, n);
	parse_ok(b, *n, q);
	return b;
}

/* cm_quote_parse as a test_parse_fn; a refusal's error code is its return value. */
static int quote_parse(const uint8_t *b, size_t n, struct cm_err *e)
{
	struct cm_quote q;
	int r = cm_quote_parse(b, n, &q, e);
	if (r < 0)
		assert_int_equal(e->code, r);
	return r;
}

static void test_cocoon_quote_fields(void **state)
{
	(void)state;
	size_t n;
	struct cm_quote q;
	uint8_t *b = read_parsed(Q_COCOON, &n, &q);
	assert_int_equal(n, 5010);
	assert_int_equal(q.version, 4);
	assert_int_equal(q.tee_type, CM_TEE_TDX);
	assert_int_equal(q.body_type, CM_BODY_TD10);
	assert_int_equal(q.signed_len, 632);
	assert_int_equal(q.sig_data_len, 4304);
	assert_int_equal(q.trailing, 70);
	assert_hex_equal(q.td.tee_tcb_svn, "07010300000000000000000000000000");
	assert_hex_equal(q.td.mr_seam, "49b66faa451d19ebbdbe89371b8daf2b65aa3984ec90110343e9e2eec116af08"
				      "850fa20e3b1aa9a874d77a65380ee7e6");
	assert_true(cm_is_zero(q.td.mr_signer_seam, 48));
	assert_hex_equal(q.td.td_attributes, "0000001000000000");
	assert_hex_equal(q.td.xfam, "e702060000000000");
	assert_hex_equal(q.td.mr_td, "7357a10d2e2724dffe68813e3cc4cfcde6814d749f2fb62e3953e54f6e0b50a2"
				    "19786afe2cd478f684b52c61837e1114");
	assert_hex_equal(q.td.rtmr[0], "251a7f3cfc68006349444307c686485986beea461740437dae618e22a7aaac4e"
				      "c0233ae0190eb1ce92ab8e9966563acc");
	assert_hex_equal(q.td.rtmr[1], "7a6eb32a914226f429922564bb0ae0a7c7c413ba5a8ef055b481f6328108da33"
				      "5013b79c391dcc237f7e563674ce7787");
	assert_hex_equal(q.td.rtmr[2], "aaccda38cf2bdee9965664d6793c9eaa93349564a052f36db45da5db656abe7b"
				      "909d92cad5a29287f2bb78761771fec4");
	assert_true(cm_is_zero(q.td.rtmr[3], 48));
	assert_true(cm_is_zero(q.td.mr_config_id, 48) && cm_is_zero(q.td.mr_owner, 48) &&
		    cm_is_zero(q.td.mr_owner_config, 48));
	assert_hex_equal(q.td.report_data, "d21efaa8d7de2b0f5601df8b24cfbca690c5231e677d0fe35954c8be00614bd2"
					  "7f467a5624a6667aa74506cb14c271a48894c3ef11d2d26b269a2926fc74f87b");
	/* absolute offsets of the signature parts (attestation.md §1.6) */
	assert_ptr_equal(q.signature, b + 636);
	assert_ptr_equal(q.att_key, b + 700);
	assert_ptr_equal(q.qe_report_raw, b + 770);
	assert_ptr_equal(q.qe_report_sig, b + 1154);
	assert_int_equal(q.qe_auth_len, 32);
	assert_ptr_equal(q.qe_auth, b + 1220);
	assert_int_equal(q.cert_type, CM_CERT_PCK_CHAIN);
	assert_ptr_equal(q.cert_data, b + 1258);
	assert_int_equal(q.cert_data_len, 4940 - 1258);
	assert_hex_equal(q.qe_report.mr_signer, "dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5");
	assert_int_equal(q.qe_report.isv_prod_id, 2);
	assert_int_equal(q.qe_report.isv_svn, 6);
	assert_hex_equal(q.qe_report.report_data, "83328f0a268fa9efe0beb0b9a19904ae183d399114aa9ff54301e19dda669ea8");
	struct cm_td_regs regs;
	assert_int_equal(cm_quote_td_regs(&q, &regs), 0);
	uint8_t ih[32];
	assert_int_equal(cm_image_hash(&regs, ih), 0);
	assert_hex_equal(ih, "04b3afd931d28680af91a15b09d672c40ad6b141f7f9089a8d67d595220f7436");
	free(b);
}

static void test_sgx_v3_quote_fields(void **state)
{
	(void)state;
	size_t n;
	struct cm_quote q;
	uint8_t *b = read_parsed(Q_SGX, &n, &q);
	assert_int_equal(q.version, 3);
	assert_int_equal(q.tee_type, CM_TEE_SGX);
	assert_int_equal(q.body_type, CM_BODY_SGX);
	assert_int_equal(q.qe_svn, 10);
	assert_int_equal(q.pce_svn, 15);
	assert_int_equal(q.signed_len, 432);
	assert_int_equal(q.sig_data_len, 4164);
	assert_int_equal(q.trailing, 0);
	assert_hex_equal(q.sgx.cpu_svn, "0b0b1a18ffff04000000000000000000");
	assert_hex_equal(q.sgx.attributes, "0500000000000000e700000000000000");
	assert_hex_equal(q.sgx.mr_enclave, "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb");
	assert_hex_equal(q.sgx.mr_signer, "815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6");
	assert_int_equal(q.sgx.isv_prod_id, 0);
	assert_int_equal(q.sgx.isv_svn, 0);
	assert_memory_equal(q.sgx.report_data, "Hello, world!", 13);
	assert_true(cm_is_zero(q.sgx.report_data + 13, 51));
	assert_hex_equal(q.qe_report.mr_signer, "8c4f5775d796503e96137f77c68a829a0056ac8ded70140b081b094490c57bff");
	assert_int_equal(q.qe_report.isv_prod_id, 1);
	assert_int_equal(q.qe_report.isv_svn, 10);
	assert_int_equal(q.cert_type, CM_CERT_PCK_CHAIN);
	struct cm_td_regs regs;
	assert_int_equal(cm_quote_td_regs(&q, &regs), -EINVAL);
	free(b);
}

static void test_v5_td15_quote_fields(void **state)
{
	(void)state;
	size_t n;
	struct cm_quote q;
	uint8_t *b = read_parsed(Q_V5_GOTDX, &n, &q);
	assert_int_equal(q.version, 5);
	assert_int_equal(q.body_type, CM_BODY_TD15);
	assert_int_equal(q.body_off, 54);
	assert_int_equal(q.signed_len, 702); /* the 6-byte descriptor is signed */
	assert_hex_equal(q.td.tee_tcb_svn, "0b010400000000000000000000000000");
	assert_hex_equal(q.td.tee_tcb_svn2, "0d010400000000000000000000000000");
	assert_hex_equal(q.td.mr_td, "7348651a34b2d2d3462822e3a750ec6110125f36757c78480bbfc69cc0d21fb0"
				    "01a1ced3ee19747dda8f750c3bc8f876");
	assert_hex_equal(q.td.rtmr[2], "6369b9c9a3b791ebcbdc5a0bb9536cfb57f50df2b393b33c8b29616d3568baa6"
				      "1f4b59dc6092e31ea8764bcbdfc69f20");
	assert_true(cm_is_zero(q.td.mr_servicetd, 48));
	assert_int_equal(q.qe_report.isv_svn, 7);
	free(b);

	b = read_parsed(Q_V5_OUTDATED, &n, &q);
	assert_int_equal(q.body_type, CM_BODY_TD15);
	assert_int_equal(q.sig_data_len, 4300);
	assert_int_equal(q.trailing, 0);
	assert_hex_equal(q.td.xfam, "e718060000000000");
	assert_hex_equal(q.td.tee_tcb_svn2, "0d010300000000000000000000000000");
	assert_hex_equal(q.td.report_data, "d2142b643598eb5fae2bc8529dd79a558b29f868ccbb6531cb28dab9dce47728");
	assert_true(cm_is_zero(q.td.report_data + 32, 32));
	free(b);
}

static void test_padded_ccel_quote(void **state)
{
	(void)state;
	size_t n;
	struct cm_quote q;
	uint8_t *b = read_parsed(Q_COS, &n, &q);
	assert_int_equal(n, 8000);
	assert_int_equal(q.sig_data_len, 4299);
	assert_int_equal(q.trailing, 3065);
	assert_true(cm_is_zero(q.td.report_data, 64));
	assert_hex_equal(q.td.mr_td, "dae67181d3d65e073ad8f95b7907d5e927bfe9761c9ff3e9b89734a45d8954db"
				    "a41394c7717cb2735396c1d04231f94a");
	free(b);
}

struct pck_expect {
	const char *quote, *fmspc, *comps, *issuer_cn;
	int pcesvn;
};

static void test_pck_extension_of_each_quote(void **state)
{
	(void)state;
	const struct pck_expect ex[] = {
		{Q_COCOON, "90c06f000000", "03030202040100050000000000000000", "Intel SGX PCK Platform CA", 13},
		{Q_TDX, "b0c06f000000", "03030202040100050000000000000000", "Intel SGX PCK Platform CA", 11},
		{Q_SGX, "00a067110000", "0b0b0202ff0100000000000000000000", "Intel SGX PCK Processor CA", 13},
		{Q_V5_OUTDATED, "90c06f000000", "03030202040100030000000000000000", "Intel SGX PCK Platform CA", 13},
		{Q_V5_GOTDX, "90c06f000000", "04040202040100050000000000000000", "Intel SGX PCK Platform CA", 13},
		{Q_COS, "00806f050000", "07070202030100030000000000000000", "Intel SGX PCK Platform CA", 11},
	};
	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		size_t n;
		struct cm_quote q;
		uint8_t *b = read_parsed(ex[i].quote, &n, &q);
		struct cm_err e = {0};
		STACK_OF(X509) *chain = cm_pem_chain_parse(q.cert_data, q.cert_data_len, &e);
		assert_non_null(chain);
		assert_int_equal(sk_X509_num(chain), 3);
		char subj[512];
		cm_x509_subject(sk_X509_value(chain, 1), subj, sizeof(subj));
		assert_non_null(strstr(subj, ex[i].issuer_cn));
		cm_x509_subject(sk_X509_value(chain, 2), subj, sizeof(subj));
		assert_non_null(strstr(subj, "CN=Intel SGX Root CA"));
		struct cm_pck_ext ext;
		assert_int_equal(cm_pck_ext_from_cert(sk_X509_value(chain, 0), &ext, &e), 0);
		assert_hex_equal(ext.fmspc, ex[i].fmspc);
		assert_hex_equal(ext.comp_svn, ex[i].comps);
		assert_int_equal(ext.pcesvn, ex[i].pcesvn);
		assert_hex_equal(ext.pceid, "0000");
		/* the root has no SGX extension */
		assert_int_equal(cm_pck_ext_from_cert(sk_X509_value(chain, 2), &ext, &e), -ENOENT);
		sk_X509_pop_free(chain, X509_free);
		free(b);
	}
}

static void test_every_truncation_is_rejected(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(all_quotes) / sizeof(all_quotes[0]); i++) {
		size_t n;
		struct cm_quote q;
		uint8_t *b = read_parsed(all_quotes[i], &n, &q);
		size_t needed = q.sig_data_off + q.sig_data_len;
		for (size_t len = 0; len < needed; len++) {
			/* A fresh allocation of exactly len bytes, so ASan sees any over-read. */
			uint8_t *p = malloc(len ? len : 1);
			memcpy(p, b, len);
			struct cm_err e = {0};
			int r = cm_quote_parse(p, len, &q, &e);
			if (r >= 0) {
				print_error("%s: prefix of %zu bytes was accepted\n", all_quotes[i], len);
				fail();
			}
			assert_true(e.msg[0] != 0);
			free(p);
		}
		/* trailing bytes are allowed: every length from needed to the file size parses */
		for (size_t len = needed; len <= n; len++)
			parse_ok(b, len, &q);
		free(b);
	}
}

static void test_header_corruptions_are_rejected(void **state)
{
	(void)state;
	size_t n;
	uint8_t *b = fixture_read(Q_TDX, &n);
	const struct test_patch patches[] = {
		{0, 2, 2, "version 2 at offset 0"},
		{0, 2, 6, "version 6 at offset 0"},
		{2, 2, 3, "attestation key type 3 at offset 2"},
		{4, 4, 0x80, "TEE type 0x00000080 at offset 4"},
		{8, 1, 1, "reserved header bytes"},
		{12, 1, b[12] ^ 1, "vendor ID"},
		{0, 2, 3, "v3 is SGX only"},
	};
	test_patches_expect(quote_parse, b, n, patches, sizeof(patches) / sizeof(patches[0]));
	free(b);
}

static void test_v5_descriptor_corruptions_are_rejected(void **state)
{
	(void)state;
	size_t n;
	uint8_t *b = fixture_read(Q_V5_GOTDX, &n);
	const struct test_patch patches[] = {
		{48, 2, 4, "unknown v5 body type 4"},
		{50, 4, 584, "does not match type 3"},
	};
	test_patches_expect(quote_parse, b, n, patches, sizeof(patches) / sizeof(patches[0]));
	const struct test_patch td10[] = {{48, 2, 1, NULL}, {50, 4, 384, NULL}};
	test_patch_set_expect(quote_parse, b, n, td10, 2, "does not match TEE type");
	free(b);
}

static void test_signature_data_corruptions_are_rejected(void **state)
{
	(void)state;
	size_t n;
	uint8_t *b = fixture_read(Q_COCOON, &n);
	/* offsets: sig_len@632, outer type@764, outer size@766, auth len@1218, inner type@1252 */
	const struct test_patch patches[] = {
		{632, 4, 0xffffffffu, "signature data needs 4294967295 bytes at offset 636"},
		{632, 4, 4305, "declares 4305 bytes but its parts use 4304"},
		{632, 4, 4303, "quote truncated"},
		{764, 2, 5, "require 6"},
		{766, 4, cm_le32(b + 766) + 1, "QE report certification data needs 4171 bytes at offset 770"},
		{1218, 2, 33, "certification data type 25088 at offset 1253"},
		{1218, 2, 0xffff, "QE authentication data needs 65535 bytes at offset 1220"},
		{1252, 2, 7, "certification data type 7 at offset 1252"},
		{1252, 2, 0, "certification data type 0"},
		{1254, 4, 0x7fffffff, "certification data needs"},
	};
	test_patches_expect(quote_parse, b, n, patches, sizeof(patches) / sizeof(patches[0]));
	/* sizes grown together into the trailing padding: the outer size disagrees with its parts */
	const struct test_patch grown[] = {{766, 4, cm_le32(b + 766) + 1, NULL}, {632, 4, 4305, NULL}};
	test_patch_set_expect(quote_parse, b, n, grown, 2,
			      "QE report certification data at offset 770 declares 4171 bytes but its parts use 4170");
	free(b);

	b = fixture_read(Q_SGX, &n);
	/* v3: sig_len@432, QE report@564, auth len@1012, cert type@1014+M */
	size_t auth = cm_le16(b + 1012);
	const struct test_patch v3[] = {
		{1014 + auth, 2, 6, "certification data type 6"},
		{432, 4, cm_le32(b + 432) - 1, "quote truncated"},
	};
	test_patches_expect(quote_parse, b, n, v3, sizeof(v3) / sizeof(v3[0]));
	free(b);
}

static void test_pem_chain_quirks(void **state)
{
	(void)state;
	size_t n;
	struct cm_quote q;
	uint8_t *b = read_parsed(Q_COCOON, &n, &q);
	const uint8_t *pem = q.cert_data;
	size_t plen = q.cert_data_len;
	assert_int_equal(pem[plen - 1], 0); /* the real chain ends with "\n\0" */
	assert_int_equal(pem[plen - 2], '\n');
	struct cm_err e = {0};
	STACK_OF(X509) *sk;

	/* junk after the chain */
	uint8_t *buf = malloc(plen + 16);
	memcpy(buf, pem, plen - 1);
	memcpy(buf + plen - 1, "garbage\n", 8);
	assert_null(cm_pem_chain_parse(buf, plen + 7, &e));
	assert_non_null(strstr(e.msg, "unexpected data"));

	/* a corrupted base64 body in the leaf */
	memcpy(buf, pem, plen);
	buf[100] = buf[100] == 'A' ? 'B' : 'A';
	buf[101] = '*';
	assert_null(cm_pem_chain_parse(buf, plen, &e));
	assert_non_null(strstr(e.msg, "certificate 0"));

	/* no END line */
	assert_null(cm_pem_chain_parse(pem, 200, &e));
	assert_non_null(strstr(e.msg, "no END line"));

	/* a damaged END line of the leaf must not swallow the next certificate (issue 13 §14) */
	memcpy(buf, pem, plen);
	uint8_t *end = memmem(buf, plen, "-----END CERTIFICATE-----", 25);
	assert_non_null(end);
	end[6] = 'X'; /* "-----EXD CERTIFICATE-----": OpenSSL reads on to the next END */
	sk = cm_pem_chain_parse(buf, plen, &e);
	if (sk)
		print_error("damaged END line accepted: %d certificates\n", sk_X509_num(sk));
	assert_null(sk);
	assert_non_null(strstr(e.msg, "certificate 0"));

	/* empty */
	assert_null(cm_pem_chain_parse((const uint8_t *)"\n\0", 2, &e));
	free(buf);

	/* more than CM_PCK_CHAIN_MAX certificates */
	size_t big = plen * 3 + 1;
	buf = malloc(big);
	for (int i = 0; i < 3; i++)
		memcpy(buf + i * (plen - 1), pem, plen - 1);
	sk = cm_pem_chain_parse(buf, 3 * (plen - 1), &e);
	assert_null(sk);
	assert_non_null(strstr(e.msg, "more than 8"));
	free(buf);

	/* a corrupted chain makes the JSON rendering fail, naming the chain */
	uint8_t *c = malloc(n);
	memcpy(c, b, n);
	c[1258 + 40] = '!';
	parse_ok(c, n, &q);
	json_object *o = NULL;
	assert_true(cm_quote_to_json(&q, &o, &e) < 0);
	assert_null(o);
	assert_non_null(strstr(e.msg, "PCK certificate chain"));
	free(c);
	free(b);
}

static void test_json_has_the_documented_keys(void **state)
{
	(void)state;
	static const char *td_keys[] = {"version", "tee", "mrtd", "mrconfigid", "mrowner", "mrownerconfig",
					"rtmr0", "rtmr1", "rtmr2", "rtmr3", "report_data", "td_attributes",
					"xfam", "fmspc", "image_hash"};
	size_t n;
	struct cm_quote q;
	uint8_t *b = read_parsed(Q_COCOON, &n, &q);
	json_object *o = NULL, *v;
	struct cm_err e = {0};
	assert_int_equal(cm_quote_to_json(&q, &o, &e), 0);
	for (size_t i = 0; i < sizeof(td_keys) / sizeof(td_keys[0]); i++)
		assert_true(json_object_object_get_ex(o, td_keys[i], NULL));
	assert_true(json_object_object_get_ex(o, "image_hash", &v));
	assert_string_equal(json_object_get_string(v),
			    "04b3afd931d28680af91a15b09d672c40ad6b141f7f9089a8d67d595220f7436");
	assert_true(json_object_object_get_ex(o, "tee", &v));
	assert_string_equal(json_object_get_string(v), "tdx");
	json_object_put(o);
	free(b);

	b = read_parsed(Q_SGX, &n, &q);
	assert_int_equal(cm_quote_to_json(&q, &o, &e), 0);
	assert_false(json_object_object_get_ex(o, "mrtd", NULL));
	assert_false(json_object_object_get_ex(o, "image_hash", NULL));
	assert_true(json_object_object_get_ex(o, "mrenclave", &v));
	assert_string_equal(json_object_get_string(v),
			    "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb");
	assert_true(json_object_object_get_ex(o, "fmspc", &v));
	assert_string_equal(json_object_get_string(v), "00a067110000");
	json_object_put(o);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cocoon_quote_fields),
		cmocka_unit_test(test_sgx_v3_quote_fields),
		cmocka_unit_test(test_v5_td15_quote_fields),
		cmocka_unit_test(test_padded_ccel_quote),
		cmocka_unit_test(test_pck_extension_of_each_quote),
		cmocka_unit_test(test_every_truncation_is_rejected),
		cmocka_unit_test(test_header_corruptions_are_rejected),
		cmocka_unit_test(test_v5_descriptor_corruptions_are_rejected),
		cmocka_unit_test(test_signature_data_corruptions_are_rejected),
		cmocka_unit_test(test_pem_chain_quirks),
		cmocka_unit_test(test_json_has_the_documented_keys),
	};
	return cmocka_run_group_tests_name("quote", tests, NULL, NULL);
}
