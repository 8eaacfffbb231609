/* NVIDIA RIMs (measure/gpu/rim.c) and the offline OCSP bundle (measure/gpu/ocsp.c): the
 * genuine VBIOS RIM of the fixtures (README §4, G2) verifies at 2025-01-01 and is expired
 * after 2025-06-22; tampered copies fail; the comparison rules (active indices,
 * alternatives, index i vs block i+1, NVDEC0); full verification with a RIM bundle; OCSP
 * responses minted here with the openssl tool. */
#include "tests/unit/test_gpu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "measure/core/json.h"
#include "measure/gpu/gpu.h"
#include "measure/gpu/gpu_impl.h"
#include "measure/gpu/rim.h"
#include "measure/gpu/spdm.h"

#define RIM "gpu/rims/1010_0200_882_96005E0001_PROD.swidtag"
#define RIM_SHA256 "7e8ea28e7961a9ef83b87ca5c5685312014eae871977b720ae08553aa917bc50"
#define G1 "gpu/nvtrust_sample_550/"
#define G2 "gpu/nvat_sample_535/"
#define G1_NONCE "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb"
#define G2_NONCE "27a328247bf7935c993341cf587be6f05986ccce4fe7ba2c54100bd616a58f66"
#define G2_TIME 1735689600       /* 2025-01-01 */
#define SIGNER_EXPIRY 1750584633 /* HCC RIM L4 Signer notAfter 2025-06-22T09:30:33Z */
#define NOW 1796600000

static struct cm_gpu_rim *rim_load(void)
{
	size_t len;
	uint8_t *xml = fixture_read(RIM, &len);
	struct cm_gpu_rim *r = NULL;
	struct cm_err e = {0};
	int rc = cm_gpu_rim_parse(xml, len, &r, &e);
	if (rc)
		print_error("%s\n", e.msg);
	assert_int_equal(rc, 0);
	free(xml);
	return r;
}

/* Parse (and check the signature of) the RIM with from replaced by to; the failure's check. */
static void expect_tampered(const char *from, const char *to, const char *check, const char *what)
{
	size_t len;
	char *xml = (char *)fixture_read(RIM, &len);
	char *at = strstr(xml, from);
	assert_non_null(at);
	size_t nl = len - strlen(from) + strlen(to);
	char *m = malloc(nl + 1);
	size_t pre = (size_t)(at - xml);
	memcpy(m, xml, pre);
	memcpy(m + pre, to, strlen(to));
	memcpy(m + pre + strlen(to), at + strlen(from), len - pre - strlen(from));
	m[nl] = 0;
	struct cm_gpu_rim *r = NULL;
	struct cm_err e = {0};
	int rc = cm_gpu_rim_parse((uint8_t *)m, nl, &r, &e);
	if (rc == 0)
		rc = cm_gpu_rim_verify_signature(r, &e);
	if (rc == 0 || !strstr(e.msg, what) || (check && (!e.check || strcmp(e.check, check) != 0)))
		print_error("want %s '%s', got rc %d check %s: %s\n", check ? check : "-", what, rc,
			    e.check ? e.check : "-", e.msg);
	assert_int_not_equal(rc, 0);
	assert_non_null(strstr(e.msg, what));
	if (check)
		assert_string_equal(e.check, check);
	cm_gpu_rim_free(r);
	free(m);
	free(xml);
}

static void test_rim_parse_and_signature(void **state)
{
	(void)state;
	struct cm_gpu_rim *r = rim_load();
	assert_string_equal(r->colloquial_version, "96.00.5E.00.01");
	assert_string_equal(r->product, "GH100");
	assert_string_equal(r->edition, "GPU");
	assert_string_equal(r->manufacturer_id, "5703");
	assert_hex_equal(r->sha256, RIM_SHA256);
	unsigned active = 0;
	for (unsigned i = 0; i < r->n_meas; i++) {
		active += r->meas[i].active;
		if (r->meas[i].index == 12)
			assert_int_equal(r->meas[i].n_alt, 4);
		if (r->meas[i].index == 7)
			assert_false(r->meas[i].active);
	}
	assert_int_equal(active, 12);
	assert_int_equal(r->c14n_mode, 2 /* XML_C14N_1_1 */);
	assert_int_equal(sk_X509_num(r->certs), 4);
	struct cm_err e = {0};
	assert_int_equal(cm_gpu_rim_verify_signature(r, &e), 0);
	cm_gpu_rim_free(r);
}

static void test_rim_tampered(void **state)
{
	(void)state;
	/* a golden value */
	expect_tampered("c3f65ef79a19c029", "c3f65ef79a19c028", "gpu_rim_signature", "DigestValue");
	/* an attribute that is not a measurement */
	expect_tampered("colloquialVersion=\"96.00.5E.00.01\"", "colloquialVersion=\"96.00.5E.00.02\"",
			"gpu_rim_signature", "DigestValue");
	/* whitespace between elements is signed content too */
	expect_tampered("\n    <ns0:Payload", "\n     <ns0:Payload", "gpu_rim_signature", "DigestValue");
	/* the signature value (r changes) */
	expect_tampered("<ds:SignatureValue>s5JY", "<ds:SignatureValue>s5JZ", "gpu_rim_signature",
			"does not verify");
	/* the signed digest itself */
	expect_tampered("<ds:DigestValue>D3Bc", "<ds:DigestValue>D3Bd", "gpu_rim_signature", "DigestValue");
	/* algorithms */
	expect_tampered("xmldsig-more#ecdsa-sha384", "xmldsig-more#ecdsa-sha256", "gpu_rim_signature",
			"SignatureMethod");
	expect_tampered("<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2006/12/xml-c14n11\"",
			"<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2006/12/xml-c14n12\"",
			"gpu_rim_signature", "CanonicalizationMethod");
	expect_tampered("<ds:Reference URI=\"\">", "<ds:Reference URI=\"#x\">", "gpu_rim_signature", "URI");
	/* structure */
	expect_tampered("<SoftwareIdentity", "<!DOCTYPE x [<!ENTITY a \"b\">]><SoftwareIdentity", NULL, "DTD");
	expect_tampered("<ns0:Payload", "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"/><ns0:Payload",
			NULL, "more than one Signature");
	expect_tampered("<ns0:Entity", "<ns0:Entity><ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"/></ns0:Entity><ns0:Entity",
			NULL, "outside the root's");
	expect_tampered("</SoftwareIdentity>", "</SoftwareIdentit>", NULL, "not well-formed");
	expect_tampered("index=\"1\" active", "index=\"0\" active", NULL, "appears twice");
	expect_tampered("alternatives=\"4\"", "alternatives=\"3\"", NULL, "more hashes");
	expect_tampered("active=\"True\"", "active=\"yes\"", NULL, "active");
	expect_tampered("size=\"48\"", "size=\"32\"", NULL, "size");
}

static void test_rim_chain_time(void **state)
{
	(void)state;
	struct cm_gpu_rim *r = rim_load();
	struct cm_gpu_policy *p;
	struct cm_err e = {0};
	assert_int_equal(cm_gpu_policy_default(&p, NULL), 0);
	X509 *root = p->rim_root;
	assert_int_equal(cm_gpu_rim_verify_chain(r, root, G2_TIME, &e), 0);
	assert_int_equal(cm_gpu_rim_verify_chain(r, root, SIGNER_EXPIRY - 1, &e), 0);
	assert_int_equal(cm_gpu_rim_verify_chain(r, root, SIGNER_EXPIRY + 60, &e), -EACCES);
	assert_string_equal(e.check, "gpu_rim_expired");
	assert_int_equal(cm_gpu_rim_verify_chain(r, root, NOW, &e), -EACCES);
	assert_string_equal(e.check, "gpu_rim_expired");
	assert_int_equal(cm_gpu_rim_verify_chain(r, root, 1672531200 /* 2023-01-01 */, &e), -EACCES);
	assert_string_equal(e.check, "gpu_rim_expired");
	/* another root */
	assert_int_equal(cm_gpu_rim_verify_chain(r, p->device_root, G2_TIME, &e), -EACCES);
	assert_string_equal(e.check, "gpu_rim_chain");
	cm_gpu_policy_free(p);
	cm_gpu_rim_free(r);
}

static void test_rim_compare(void **state)
{
	(void)state;
	struct cm_gpu_rim *r = rim_load();
	size_t len;
	uint8_t *rep_bytes = gpu_report_read(G2 "hopperAttestationReport.txt", &len);
	struct cm_spdm_report *rep = malloc(sizeof(*rep));
	assert_int_equal(cm_spdm_parse(rep_bytes, len, rep, NULL), 0);
	struct cm_gpu_rim_cmp c;
	struct cm_err e = {0};
	assert_int_equal(cm_gpu_rim_compare(r, rep, 0x55, &c, &e), 0);
	assert_int_equal(c.compared, 12);
	assert_int_equal(c.matched, 12);
	assert_false(c.nvdec0_skipped);
	/* RIM index i is SPDM block i+1: shifted by one, nothing matches but zero blocks */
	struct cm_gpu_rim_meas *m12 = NULL;
	for (unsigned i = 0; i < r->n_meas; i++)
		if (r->meas[i].index == 12)
			m12 = &r->meas[i];
	assert_non_null(m12);
	/* alternatives: the block matches one of the four; without it, a mismatch */
	const struct cm_spdm_block *b13 = cm_spdm_block(rep, 13);
	unsigned k = 0;
	while (k < m12->n_alt && memcmp(m12->alt[k], b13->value, 48) != 0)
		k++;
	assert_true(k < m12->n_alt);
	struct cm_gpu_rim_meas saved = *m12;
	m12->alt[k][0] ^= 1;
	assert_int_equal(cm_gpu_rim_compare(r, rep, 0x55, &c, &e), -EACCES);
	assert_string_equal(e.check, "gpu_rim_measurements");
	assert_string_equal(c.mismatches, "12");
	*m12 = saved;
	/* NVDEC0 (RIM index 35): skipped when disabled, compared when enabled, else an error */
	struct cm_gpu_rim_meas *m7 = NULL;
	for (unsigned i = 0; i < r->n_meas; i++)
		if (r->meas[i].index == 7)
			m7 = &r->meas[i];
	m7->index = 35;
	m7->active = true;
	memset(m7->alt[0], 0xee, 48);
	assert_int_equal(cm_gpu_rim_compare(r, rep, 0x55, &c, &e), 0);
	assert_true(c.nvdec0_skipped);
	assert_int_equal(c.compared, 12);
	assert_int_equal(cm_gpu_rim_compare(r, rep, 0xaa, &c, &e), -EACCES);
	assert_string_equal(c.mismatches, "35");
	memcpy(m7->alt[0], cm_spdm_block(rep, 36)->value, 48);
	assert_int_equal(cm_gpu_rim_compare(r, rep, 0xaa, &c, &e), 0);
	assert_int_equal(c.compared, 13);
	assert_int_equal(cm_gpu_rim_compare(r, rep, -1, &c, &e), -EBADMSG);
	assert_int_equal(cm_gpu_rim_compare(r, rep, 0x00, &c, &e), -EBADMSG);
	/* a golden index without a runtime block */
	m7->index = 100;
	assert_int_equal(cm_gpu_rim_compare(r, rep, 0x55, &c, &e), -EACCES);
	assert_string_equal(c.mismatches, "100");
	/* inactive entries are not compared */
	m7->active = false;
	assert_int_equal(cm_gpu_rim_compare(r, rep, 0x55, &c, &e), 0);
	/* the same index active in both RIMs */
	assert_int_equal(cm_gpu_rim_no_conflict(r, r, &e), -EACCES);
	assert_string_equal(e.check, "gpu_rim_index_conflict");
	/* the G1 report (VBIOS 96.00.9F.00.01) does not match this RIM */
	free(rep_bytes);
	rep_bytes = gpu_report_read(G1 "hopperAttestationReport.txt", &len);
	assert_int_equal(cm_spdm_parse(rep_bytes, len, rep, NULL), 0);
	assert_int_equal(cm_gpu_rim_compare(r, rep, 0x55, &c, &e), -EACCES);
	assert_true(c.mismatched > 0);
	free(rep);
	free(rep_bytes);
	cm_gpu_rim_free(r);
}

/* Full verification with a RIM directory; returns rc, check in *check. */
static int verify_with(const char *report, const char *chain, const char *nonce_hex, const char *policy,
		       const char *dir, int64_t t, struct cm_gpu_result *r, struct cm_err *e)
{
	size_t rl, cl, n;
	uint8_t *rep = gpu_report_read(report, &rl), *pem = fixture_read(chain, &cl), *nonce = hex_to_bytes(nonce_hex, &n);
	struct cm_gpu_policy *p = gpu_policy_json(policy);
	assert_int_equal(cm_gpu_policy_set_rim_dir(p, dir, e), 0);
	struct cm_gpu_evidence ev = {rep, rl, pem, cl};
	int rc = cm_gpu_verify(&ev, nonce, p, t, r, e);
	cm_gpu_policy_free(p);
	free(rep);
	free(pem);
	free(nonce);
	return rc;
}

static void expect_verify(const char *report, const char *chain, const char *nonce, const char *policy,
			  const char *dir, int64_t t, const char *check)
{
	struct cm_gpu_result r;
	struct cm_err e = {0};
	int rc = verify_with(report, chain, nonce, policy, dir, t, &r, &e);
	if (check ? (rc == 0 || !e.check || strcmp(e.check, check) != 0) : rc != 0)
		print_error("want %s, got rc %d check %s: %s\n", check ? check : "ok", rc, e.check ? e.check : "-", e.msg);
	if (!check) {
		assert_int_equal(rc, 0);
		assert_true(r.rim_vbios_ok);
		return;
	}
	assert_int_not_equal(rc, 0);
	assert_string_equal(e.check, check);
}

static void test_verify_with_rims(void **state)
{
	(void)state;
	const char *dir = fixture_path("gpu/rims");
	char rims[4096];
	snprintf(rims, sizeof(rims), "%s", dir);
#define G2EV G2 "hopperAttestationReport.txt", G2 "hopperCertChain.txt", G2_NONCE
	/* G2: VBIOS measurements pass at 2025-01-01 */
	expect_verify(G2EV, "{\"fwid_required\": false, \"rim_required\": [\"vbios\"]}", rims, G2_TIME, NULL);
	/* a bundle is given: both RIMs required by default; the driver RIM is not in it */
	expect_verify(G2EV, "{\"fwid_required\": false}", rims, G2_TIME, "gpu_policy_rim_required");
	/* after the signer's expiry */
	expect_verify(G2EV, "{\"fwid_required\": false, \"rim_required\": [\"vbios\"]}", rims, SIGNER_EXPIRY + 60,
		      "gpu_rim_expired");
	/* the explicit time policy: the signer chain checked at a fixed time */
	expect_verify(G2EV, "{\"fwid_required\": false, \"rim_required\": [\"vbios\"], \"rim_time\": 1735689600}", rims,
		      NOW, NULL);
	/* pins */
	expect_verify(G2EV, "{\"fwid_required\": false, \"rim_required\": [\"vbios\"], \"rim_sha256\": [\"" RIM_SHA256 "\"]}",
		      rims, G2_TIME, NULL);
	expect_verify(G2EV,
		      "{\"fwid_required\": false, \"rim_required\": [\"vbios\"], \"rim_sha256\": "
		      "[\"0000000000000000000000000000000000000000000000000000000000000000\"]}",
		      rims, G2_TIME, "gpu_policy_rim_pin");
	/* OCSP required and no response in the bundle */
	expect_verify(G2EV, "{\"fwid_required\": false, \"rim_required\": [\"vbios\"], \"ocsp_required\": true}", rims,
		      G2_TIME, "gpu_policy_ocsp_required");
	/* A RIM under the wrong id: the 96.00.5E RIM named as G1's 96.00.9F VBIOS RIM */
	char *tmp = test_tmpdir(), cmd[8192];
	snprintf(cmd, sizeof(cmd), "cp '%s/1010_0200_882_96005E0001_PROD.swidtag' '%s/NV_GPU_VBIOS_1010_0200_882_96009F0001.xml'",
		 rims, tmp);
	assert_int_equal(system(cmd), 0);
	expect_verify(G1 "hopperAttestationReport.txt", G1 "hopperCertChain.txt", G1_NONCE,
		      "{\"rim_required\": [\"vbios\"], \"rim_time\": 1735689600}", tmp, NOW, "gpu_rim_version");
	/* ... and as G2's driver RIM: not a driver version */
	snprintf(cmd, sizeof(cmd), "cp '%s/1010_0200_882_96005E0001_PROD.swidtag' '%s/NV_GPU_DRIVER_GH100_535.86.09.xml'",
		 rims, tmp);
	assert_int_equal(system(cmd), 0);
	expect_verify(G2EV, "{\"fwid_required\": false, \"rim_time\": 1735689600}", tmp, NOW, "gpu_rim_version");
	gpu_tmpdir_remove(tmp);
	struct cm_gpu_policy *p;
	struct cm_err e = {0};
	assert_int_equal(cm_gpu_policy_default(&p, NULL), 0);
	assert_int_equal(cm_gpu_policy_set_rim_dir(p, "/nonexistent/rims", &e), -ENOTDIR);
	cm_gpu_policy_free(p);
}

/* ---- OCSP ------------------------------------------------------------------------------------ */

static void sh(const char *dir, const char *script)
{
	char cmd[8192];
	snprintf(cmd, sizeof(cmd), "cd '%s' && (%s) >/dev/null 2>&1", dir, script);
	if (system(cmd) != 0) {
		print_error("failed: %s\n", script);
		fail();
	}
}

#define MKCA(name, subj)                                                                                           \
	"openssl ecparam -name secp384r1 -genkey -noout -out " name ".key && "                                      \
	"openssl req -x509 -new -key " name ".key -subj " subj " -days 3650 -sha384 -out " name ".pem "             \
	"-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign,digitalSignature"

static void test_ocsp_bundle(void **state)
{
	(void)state;
	char *d = test_tmpdir();
	sh(d, MKCA("root", "/CN=TestRoot") " && " MKCA("other", "/CN=OtherRoot") " && "
	      "openssl ecparam -name secp384r1 -genkey -noout -out ica.key && "
	      "openssl req -new -key ica.key -subj /CN=TestICA -out ica.csr && "
	      "printf 'basicConstraints=critical,CA:TRUE\\nkeyUsage=critical,keyCertSign\\n' > ext && "
	      "openssl x509 -req -in ica.csr -CA root.pem -CAkey root.key -set_serial 4660 -days 3650 -sha384 "
	      "-extfile ext -out ica.pem && "
	      "printf 'V\\t300101000000Z\\t\\t1234\\tunknown\\t/CN=TestICA\\n' > good.txt && "
	      "printf 'R\\t300101000000Z\\t240101000000Z\\t1234\\tunknown\\t/CN=TestICA\\n' > revoked.txt && "
	      "openssl ocsp -issuer root.pem -cert ica.pem -no_nonce -reqout req.der && mkdir -p good/ocsp bad/ocsp rev/ocsp && "
	      "openssl ocsp -index good.txt -CA root.pem -rsigner root.pem -rkey root.key -reqin req.der -ndays 7 "
	      "-respout good/ocsp/ica.der && "
	      "openssl ocsp -index revoked.txt -CA root.pem -rsigner root.pem -rkey root.key -reqin req.der -ndays 7 "
	      "-respout rev/ocsp/ica.der && "
	      "openssl ocsp -index good.txt -CA root.pem -rsigner other.pem -rkey other.key -reqin req.der -ndays 7 "
	      "-respout bad/ocsp/ica.der && mkdir -p none/ocsp junk/ocsp && echo x > junk/ocsp/x.der");
	X509 *root = gpu_pem_load(d, "root.pem"), *ica = gpu_pem_load(d, "ica.pem"), *other = gpu_pem_load(d, "other.pem");
	STACK_OF(X509) *chain = sk_X509_new_null();
	sk_X509_push(chain, ica);
	sk_X509_push(chain, root);
	int64_t now = (int64_t)time(NULL);
	char path[4096];
	struct cm_err e = {0};
	snprintf(path, sizeof(path), "%s/good", d);
	assert_int_equal(cm_gpu_ocsp_status(path, ica, root, chain, root, now, &e), 1);
	/* stale: after nextUpdate */
	assert_int_equal(cm_gpu_ocsp_status(path, ica, root, chain, root, now + 8 * 86400, &e), -EACCES);
	assert_string_equal(e.check, "gpu_ocsp");
	/* not yet current */
	assert_int_equal(cm_gpu_ocsp_status(path, ica, root, chain, root, now - 3600, &e), -EACCES);
	/* the root itself is not in any response */
	assert_int_equal(cm_gpu_ocsp_status(path, root, root, chain, root, now, &e), 0);
	/* signed under another root than the pinned one */
	snprintf(path, sizeof(path), "%s/bad", d);
	assert_int_equal(cm_gpu_ocsp_status(path, ica, root, chain, root, now, &e), -EACCES);
	assert_string_equal(e.check, "gpu_ocsp");
	/* valid for the other root as anchor? not for this issuer's certificate id: signer unauthorised */
	(void)other;
	snprintf(path, sizeof(path), "%s/rev", d);
	assert_int_equal(cm_gpu_ocsp_status(path, ica, root, chain, root, now, &e), -EACCES);
	assert_string_equal(e.check, "gpu_ocsp_revoked");
	snprintf(path, sizeof(path), "%s/none", d);
	assert_int_equal(cm_gpu_ocsp_status(path, ica, root, chain, root, now, &e), 0);
	snprintf(path, sizeof(path), "%s/junk", d);
	assert_int_equal(cm_gpu_ocsp_status(path, ica, root, chain, root, now, &e), -EBADMSG);
	assert_int_equal(cm_gpu_ocsp_status(NULL, ica, root, chain, root, now, &e), 0);
	sk_X509_free(chain);
	X509_free(root);
	X509_free(ica);
	X509_free(other);
	gpu_tmpdir_remove(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rim_parse_and_signature),
		cmocka_unit_test(test_rim_tampered),
		cmocka_unit_test(test_rim_chain_time),
		cmocka_unit_test(test_rim_compare),
		cmocka_unit_test(test_verify_with_rims),
		cmocka_unit_test(test_ocsp_bundle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
