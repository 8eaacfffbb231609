/* NVIDIA GPU evidence (measure/gpu/) against the public fixtures (fixtures/README.md §4):
 * G1-G4 with their documented outcomes, the cross-pairing and nonce negatives, bit flips,
 * the strict SPDM and opaque-data parsers, the policy and the NVML system pre-check. */
#include "tests/unit/test_gpu.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "measure/core/json.h"
#include "measure/dcap/pck.h"
#include "measure/gpu/bundle.h"
#include "measure/gpu/gpu.h"
#include "measure/gpu/gpu_impl.h"
#include "measure/gpu/spdm.h"

#define G1 "gpu/nvtrust_sample_550/"
#define G2 "gpu/nvat_sample_535/"
#define G3 "gpu/invalid_signature/"
#define G1_NONCE "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb"
#define G2_NONCE "27a328247bf7935c993341cf587be6f05986ccce4fe7ba2c54100bd616a58f66"
#define G4_NONCE "4760e30534a0621357d458b1a7936551b5dc4cd1e69718adf7ed9fb0252a537e"
#define G2_TIME 1735689600 /* 2025-01-01 */
#define NOW 1796600000     /* 2026-12 */

struct ev {
	uint8_t *report, *chain;
	size_t report_len, chain_len;
	struct cm_gpu_evidence e;
};

static void ev_load(struct ev *x, const char *report, const char *chain)
{
	x->report = gpu_report_read(report, &x->report_len);
	x->chain = fixture_read(chain, &x->chain_len);
	x->e = (struct cm_gpu_evidence){x->report, x->report_len, x->chain, x->chain_len};
}

static void ev_free(struct ev *x)
{
	free(x->report);
	free(x->chain);
}

/* The G1 evidence with the default policy, for the tests that take it as their state. */
struct g1 {
	struct ev x;
	struct cm_gpu_policy *p;
};

static int g1_setup(void **state)
{
	struct g1 *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	ev_load(&f->x, G1 "hopperAttestationReport.txt", G1 "hopperCertChain.txt");
	assert_int_equal(cm_gpu_policy_default(&f->p, NULL), 0);
	*state = f;
	return 0;
}

static int g1_teardown(void **state)
{
	struct g1 *f = *state;
	cm_gpu_policy_free(f->p);
	ev_free(&f->x);
	free(f);
	return 0;
}

static int verify(struct ev *x, const char *nonce_hex, struct cm_gpu_policy *p, int64_t t, struct cm_gpu_result *r,
		  struct cm_err *e)
{
	size_t n;
	uint8_t *nonce = hex_to_bytes(nonce_hex, &n);
	assert_int_equal(n, CM_GPU_NONCE_LEN);
	int rc = cm_gpu_verify(&x->e, nonce, p, t, r, e);
	free(nonce);
	return rc;
}

static void expect_fail(struct ev *x, const char *nonce, struct cm_gpu_policy *p, int64_t t, const char *check)
{
	struct cm_gpu_result r;
	struct cm_err e = {0};
	int rc = verify(x, nonce, p, t, &r, &e);
	if (rc == 0 || !e.check || strcmp(e.check, check) != 0)
		print_error("want %s, got rc %d check %s: %s\n", check, rc, e.check ? e.check : "(none)", e.msg);
	assert_int_not_equal(rc, 0);
	assert_non_null(e.check);
	assert_string_equal(e.check, check);
}

/* expect_fail for the evidence of two fixture files under a policy (JSON text, or NULL for
 * the default policy). */
static void ev_expect_fail(const char *report, const char *chain, const char *policy_json, const char *nonce, int64_t t,
			   const char *check)
{
	struct ev x;
	struct cm_gpu_policy *p;
	ev_load(&x, report, chain);
	if (policy_json)
		p = gpu_policy_json(policy_json);
	else
		assert_int_equal(cm_gpu_policy_default(&p, NULL), 0);
	expect_fail(&x, nonce, p, t, check);
	cm_gpu_policy_free(p);
	ev_free(&x);
}

static const char *check_status(const struct cm_gpu_result *r, const char *name)
{
	for (unsigned i = 0; i < r->n_checks; i++)
		if (strcmp(r->checks[i].name, name) == 0)
			return r->checks[i].status;
	return "(absent)";
}

/* The versions, UEID and RIM ids a verified report claims, its opaque field count, and an
 * NVDEC0 status of 0x55. */
static void assert_report_claims(const struct cm_gpu_result *r, const char *driver, const char *vbios, const char *ueid,
				 const char *driver_rim_id, const char *vbios_rim_id, unsigned n_opaque_fields)
{
	assert_string_equal(r->driver_version, driver);
	assert_string_equal(r->vbios_version, vbios);
	assert_string_equal(r->ueid, ueid);
	assert_string_equal(r->driver_rim_id, driver_rim_id);
	assert_string_equal(r->vbios_rim_id, vbios_rim_id);
	assert_int_equal(r->n_opaque_fields, n_opaque_fields);
	assert_int_equal(r->nvdec0_status, 0x55);
}

/* G1: signature, chain, FWID pass; the claims of the fixtures README. */
static void test_g1_pass(void **state)
{
	struct g1 *f = *state;
	struct cm_gpu_result r;
	struct cm_err e = {0};
	int rc = verify(&f->x, G1_NONCE, f->p, NOW, &r, &e);
	if (rc)
		print_error("%s\n", e.msg);
	assert_int_equal(rc, 0);
	assert_report_claims(&r, "550.90.07", "96.00.9F.00.01", "478176379286082186618948445787393647364802107249",
			     "NV_GPU_DRIVER_GH100_550.90.07", "NV_GPU_VBIOS_1010_0200_882_96009F0001", 14);
	assert_string_equal(r.project, "1010");
	assert_string_equal(r.project_sku, "0200");
	assert_string_equal(r.chip_sku, "882");
	assert_true(r.has_fwid);
	assert_hex_equal(r.fwid, "f5c384aebb579217a2c66b17ed0f28e6a9b8d639041acd7b4721cec004f7275494ba94bb5cdfdb3055ee051762b1f75d");
	assert_string_equal(r.hwmodel, "GH100 A01 GSP BROM");
	assert_int_equal(r.n_blocks, 64);
	assert_false(r.rim_driver_ok || r.rim_vbios_ok);
	assert_string_equal(check_status(&r, "signature"), "pass");
	assert_string_equal(check_status(&r, "fwid"), "pass");
	/* No OCSP bundle and no RIMs: said so, not silently passed. */
	assert_string_equal(check_status(&r, "chain_ocsp"), "skipped");
	assert_string_equal(check_status(&r, "driver_rim_fetch"), "skipped");
}

/* G1 with nvtrust's BaseSettings.NONCE: nonce mismatch. */
static void test_g1_nonce_mismatch(void **state)
{
	struct g1 *f = *state;
	expect_fail(&f->x, "4cff7f5380ead8fad8ec2c531c110aca4302a88f603792801a8ca29ee151af2e", f->p, NOW, "gpu_nonce");
	/* without a struct cm_err (allowed by the error convention): the same verdicts */
	struct cm_gpu_result r;
	assert_int_equal(verify(&f->x, G1_NONCE, f->p, NOW, &r, NULL), 0);
	assert_int_equal(verify(&f->x, "4cff7f5380ead8fad8ec2c531c110aca4302a88f603792801a8ca29ee151af2e", f->p, NOW, &r,
				NULL),
			 -EACCES);
	assert_string_equal(r.checks[r.n_checks - 1].status, "fail");
	struct cm_gpu_policy *rims = gpu_policy_json("{\"rim_required\": [\"vbios\"]}");
	assert_int_equal(cm_gpu_policy_set_rim_dir(rims, fixture_path("gpu/rims"), NULL), 0);
	assert_int_equal(verify(&f->x, G1_NONCE, rims, NOW, &r, NULL), -EACCES); /* no RIM for 96.00.9F */
	cm_gpu_policy_free(rims);
}

/* G2: valid evidence without FWID: rejected by the default policy (FWID required), accepted
 * without; 32 zero bytes as nonce fail. */
static void test_g2_fwid_policy_and_nonce(void **state)
{
	(void)state;
	struct ev x;
	ev_load(&x, G2 "hopperAttestationReport.txt", G2 "hopperCertChain.txt");
	struct cm_gpu_policy *p, *lax = gpu_policy_json("{\"fwid_required\": false}");
	assert_int_equal(cm_gpu_policy_default(&p, NULL), 0);
	expect_fail(&x, G2_NONCE, p, G2_TIME, "gpu_policy_fwid");
	assert_true(cm_gpu_check_is_policy("gpu_policy_fwid"));
	struct cm_gpu_result r;
	struct cm_err e = {0};
	assert_int_equal(verify(&x, G2_NONCE, lax, G2_TIME, &r, &e), 0);
	assert_false(r.has_fwid);
	assert_string_equal(check_status(&r, "fwid"), "skipped");
	assert_report_claims(&r, "535.86.09", "96.00.5E.00.01", "395803620356496203949105887342232667833655422354",
			     "NV_GPU_DRIVER_GH100_535.86.09", "NV_GPU_VBIOS_1010_0200_882_96005E0001", 12);
	expect_fail(&x, "0000000000000000000000000000000000000000000000000000000000000000", lax, G2_TIME, "gpu_nonce");
	cm_gpu_policy_free(p);
	cm_gpu_policy_free(lax);
	ev_free(&x);
}

/* G3: invalid signature (and its FWID does not match its leaf). */
static void test_g3_invalid_signature(void **state)
{
	(void)state;
	ev_expect_fail(G3 "hopperAttestationReportInvalidSignature.txt", G3 "hopperCertChainExpired.txt", NULL, G1_NONCE,
		       NOW, "gpu_signature");
	/* The FWID does not match either. */
	struct ev x;
	ev_load(&x, G3 "hopperAttestationReportInvalidSignature.txt", G3 "hopperCertChainExpired.txt");
	struct cm_spdm_report *rep = malloc(sizeof(*rep));
	struct cm_gpu_opaque od;
	assert_int_equal(cm_spdm_parse(x.report, x.report_len, rep, NULL), 0);
	assert_int_equal(cm_gpu_opaque_parse(rep->opaque, rep->opaque_len, &od, NULL), 0);
	assert_string_equal(od.driver_version, "560.00");
	assert_string_equal(od.vbios_version, "96.00.A5.00.01");
	assert_string_equal(od.project, "G520");
	assert_true(od.has_fwid);
	STACK_OF(X509) *chain = cm_pem_chain_parse(x.chain, x.chain_len, NULL);
	assert_non_null(chain);
	uint8_t fwid[48];
	assert_int_equal(cm_gpu_leaf_fwid(sk_X509_value(chain, 0), fwid, NULL), 0);
	assert_memory_not_equal(fwid, od.fwid, 48);
	sk_X509_pop_free(chain, X509_free);
	free(rep);
	ev_free(&x);
}

/* The 535 report with the 550 chain: signature invalid. */
static void test_cross_pairing(void **state)
{
	(void)state;
	ev_expect_fail(G2 "hopperAttestationReport.txt", G1 "hopperCertChain.txt", "{\"fwid_required\": false}", G2_NONCE,
		       G2_TIME, "gpu_signature");
}

/* One flipped bit anywhere in the signed bytes or the signature breaks the signature; in the
 * leaf certificate, the chain. */
static void test_bit_flips(void **state)
{
	struct g1 *f = *state;
	struct ev *x = &f->x;
	struct cm_gpu_policy *p = f->p;
	/* a measurement byte, the responder nonce, a byte of the driver version, the signature */
	const size_t offs[] = {37 + 8 + 10, 37 + 8 + 3520 + 5, x->report_len - 96 - 20, x->report_len - 1, x->report_len - 60};
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		x->report[offs[i]] ^= 0x01;
		expect_fail(x, G1_NONCE, p, NOW, "gpu_signature");
		x->report[offs[i]] ^= 0x01;
	}
	/* a request-nonce bit: the nonce check fails first */
	x->report[10] ^= 0x80;
	expect_fail(x, G1_NONCE, p, NOW, "gpu_nonce");
	x->report[10] ^= 0x80;
	/* a base64 character in the middle of the leaf certificate (its signature or body) */
	char *mid = strstr((char *)x->chain, "-----BEGIN CERTIFICATE-----\n") + 28 + 300;
	*mid = *mid == 'A' ? 'B' : 'A';
	expect_fail(x, G1_NONCE, p, NOW, "gpu_chain");
}

/* The device chain: five certificates, the last the pinned root. */
static void test_chain_shape(void **state)
{
	struct g1 *f = *state;
	struct ev *x = &f->x;
	struct cm_gpu_policy *p = f->p;
	/* without the root copy: 4 certificates */
	char *last = NULL, *s = (char *)x->chain;
	while ((s = strstr(s, "-----BEGIN CERTIFICATE-----")))
		last = s++;
	size_t saved = x->e.chain_len;
	x->e.chain_len = (size_t)(last - (char *)x->chain);
	expect_fail(x, G1_NONCE, p, NOW, "gpu_chain");
	x->e.chain_len = saved;
	/* another anchor than the one the chain ends in */
	X509 *other = cm_gpu_pem_cert(cm_gpu_rim_root_pem);
	assert_int_equal(cm_gpu_policy_set_roots(p, other, NULL), 0);
	X509_free(other);
	expect_fail(x, G1_NONCE, p, NOW, "gpu_chain");
	/* a malformed chain */
	x->e.chain_len = 40;
	expect_fail(x, G1_NONCE, p, NOW, "gpu_chain");
}

/* G4: all eight GPUs of the PPCIe bundle verify when PPCIe is allowed; the default policy
 * refuses protected PCIe mode. */
static void test_g4_ppcie_bundle(void **state)
{
	(void)state;
	static const char *const ueids[] = {
		"655333107904478077882826344426270545524203067314", "729021024941865510702082019550403894617170069653",
		"522873818359063613972122709944121513760891589695", "462819874314720887924195175206697753480402871124",
		"506338746900295561561926459361913061201783443419", "403427253750358462440132022969133710217707183397",
		"618983330924126676401521472365604059490426982447", "462496802410983848477057609082198727668509984363",
	};
	size_t len, n;
	char *json = (char *)fixture_read("gpu/ppcie_8gpu/gpu_evidence.json", &len);
	struct cm_gpu_bundle_entry *b;
	struct cm_err e = {0};
	assert_int_equal(cm_gpu_bundle_parse(json, len, "bundle", &b, &n, &e), 0);
	assert_int_equal(n, 8);
	struct cm_gpu_policy *p = gpu_policy_json("{\"ppcie_allowed\": true}"), *def;
	assert_int_equal(cm_gpu_policy_default(&def, NULL), 0);
	struct cm_gpu_result r;
	for (size_t i = 0; i < n; i++) {
		struct cm_gpu_evidence ev = {b[i].report, b[i].report_len, b[i].chain, b[i].chain_len};
		assert_string_equal(b[i].driver_version, "590.12");
		assert_int_equal(cm_gpu_verify(&ev, b[i].nonce, p, NOW, &r, &e), 0);
		assert_string_equal(r.ueid, ueids[i]);
		assert_string_equal(r.driver_version, "590.12");
		assert_string_equal(r.vbios_version, "96.00.A5.00.01");
		assert_string_equal(r.project, "G520");
		assert_string_equal(r.chip_sku, "885");
		assert_int_equal(r.feature_flag, 2);
		assert_int_equal(r.opaque_version, 1);
		assert_int_equal(r.nvdec0_status, 0x55);
		assert_true(r.has_fwid);
		assert_int_equal(cm_gpu_verify(&ev, b[i].nonce, def, NOW, &r, &e), -EACCES);
		assert_string_equal(e.check, "gpu_policy_ppcie");
	}
	uint8_t nonce[32];
	assert_int_equal(cm_hex_decode_exact(G4_NONCE, 64, nonce, 32), 0);
	assert_memory_equal(b[0].nonce, nonce, 32);
	/* The system pre-check of a single-GPU policy rejects the PPCIe system itself. */
	struct cm_gpu_system sys = {.cc_on = false, .production_env = true, .multi = CM_GPU_MULTI_PPCIE, .count = 8};
	for (int i = 0; i < 8; i++)
		sys.arch[i] = 9;
	sys.cc_on = true;
	assert_int_equal(cm_gpu_check_system(&sys, def, &e), -EACCES);
	assert_string_equal(e.check, "gpu_multi_gpu_mode");
	assert_int_equal(cm_gpu_check_system(&sys, p, &e), 0);
	cm_gpu_bundle_free(b, n);
	cm_gpu_policy_free(p);
	cm_gpu_policy_free(def);
	free(json);
}

static void expect_parse_fail(const uint8_t *rep, size_t len, const char *what)
{
	struct cm_spdm_report *r = malloc(sizeof(*r));
	struct cm_err e = {0};
	int rc = cm_spdm_parse(rep, len, r, &e);
	if (rc == 0 || !strstr(e.msg, what))
		print_error("want '%s', got rc %d: %s\n", what, rc, e.msg);
	assert_int_not_equal(rc, 0);
	assert_non_null(strstr(e.msg, what));
	free(r);
}

/* The strict SPDM parser: lengths, versions, trailing bytes, duplicate indices. */
static void test_spdm_strict(void **state)
{
	(void)state;
	size_t len;
	uint8_t *rep = gpu_report_read(G1 "hopperAttestationReport.txt", &len);
	struct cm_spdm_report *r = malloc(sizeof(*r));
	assert_int_equal(cm_spdm_parse(rep, len, r, NULL), 0);
	assert_int_equal(r->n_blocks, 64);
	assert_int_equal(r->blocks[0].index, 1);
	assert_int_equal(r->blocks[0].size, 48);
	assert_int_equal(r->signed_len, len - 96);
	assert_ptr_equal(cm_spdm_block(r, 64), &r->blocks[63]);
	assert_null(cm_spdm_block(r, 65));
	uint8_t *big = malloc(len + 1);
	memcpy(big, rep, len);
	big[len] = 0;
	expect_parse_fail(big, len + 1, "after the opaque data");
	expect_parse_fail(rep, len - 1, "after the opaque data");
	expect_parse_fail(rep, 36, "shorter than");
	expect_parse_fail(rep, 40, "response header truncated");
	rep[0] = 0x12;
	expect_parse_fail(rep, len, "request version");
	rep[0] = 0x11;
	rep[3] = 0x01; /* one measurement index only: the report would not cover the others */
	expect_parse_fail(rep, len, "all measurements");
	rep[3] = 0xff;
	rep[2] = 0x00;
	expect_parse_fail(rep, len, "no signature");
	rep[2] = 0x01;
	rep[37] = 0x10;
	expect_parse_fail(rep, len, "response version");
	rep[37] = 0x11;
	rep[37 + 4] = 63; /* NumberOfBlocks */
	expect_parse_fail(rep, len, "NumberOfBlocks says 63");
	rep[37 + 4] = 64;
	rep[37 + 8 + 55] = 1; /* block 2 claims index 1 */
	expect_parse_fail(rep, len, "appears twice");
	rep[37 + 8 + 55] = 2;
	rep[37 + 8 + 1] = 2; /* not DMTF */
	expect_parse_fail(rep, len, "specification");
	rep[37 + 8 + 1] = 1;
	rep[37 + 8 + 4 + 1] = 47; /* value size != measurement size - 3 */
	expect_parse_fail(rep, len, "value size");
	rep[37 + 8 + 4 + 1] = 48;
	rep[37 + 7] = 0xff; /* L1 beyond the report */
	expect_parse_fail(rep, len, "exceeds the report");
	rep[37 + 7] = 0;
	assert_int_equal(cm_spdm_parse(rep, len, r, NULL), 0);
	free(big);
	free(r);
	free(rep);
}

/* The opaque data: types, sizes, duplicates, unknown types, the VBIOS string. */
static void test_opaque(void **state)
{
	(void)state;
	char v[15];
	cm_gpu_vbios_format((const uint8_t[8]){0x00, 0x9f, 0x00, 0x96, 0x01, 0x00, 0x00, 0x00}, v);
	assert_string_equal(v, "96.00.9F.00.01");
	cm_gpu_vbios_format((const uint8_t[8]){0x00, 0x5e, 0x00, 0x96, 0x01, 0x00, 0x00, 0x00}, v);
	assert_string_equal(v, "96.00.5E.00.01");
	struct cm_gpu_opaque o;
	struct cm_err e = {0};
	/* driver "550.90.07\0", unknown type 200, NVDEC0 */
	const uint8_t ok[] = {3, 0, 10, 0, '5', '5', '0', '.', '9', '0', '.', '0', '7', 0, 200, 0, 2, 0, 1, 2, 11, 0, 1, 0, 0xaa};
	assert_int_equal(cm_gpu_opaque_parse(ok, sizeof(ok), &o, &e), 0);
	assert_string_equal(o.driver_version, "550.90.07");
	assert_int_equal(o.nvdec0_status, 0xaa);
	assert_int_equal(o.n_fields, 3);
	assert_int_equal(o.feature_flag, -1);
	char id[64];
	assert_int_equal(cm_gpu_driver_rim_id(&o, false, id, sizeof(id)), 0);
	assert_string_equal(id, "NV_GPU_DRIVER_GH100_550.90.07");
	assert_int_equal(cm_gpu_driver_rim_id(&o, true, id, sizeof(id)), 0);
	assert_string_equal(id, "NV_GPU_CC_DRIVER_GB100_550.90.07");
	assert_int_equal(cm_gpu_vbios_rim_id(&o, id, sizeof(id)), -ENOENT);
	const uint8_t dup[] = {11, 0, 1, 0, 0x55, 11, 0, 1, 0, 0xaa};
	assert_int_equal(cm_gpu_opaque_parse(dup, sizeof(dup), &o, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "twice"));
	const uint8_t trunc[] = {3, 0, 10, 0, '5'};
	assert_int_equal(cm_gpu_opaque_parse(trunc, sizeof(trunc), &o, &e), -EBADMSG);
	const uint8_t badfwid[] = {20, 0, 2, 0, 1, 2};
	assert_int_equal(cm_gpu_opaque_parse(badfwid, sizeof(badfwid), &o, &e), -EBADMSG);
	const uint8_t ctl[] = {17, 0, 2, 0, '1', '\n'};
	assert_int_equal(cm_gpu_opaque_parse(ctl, sizeof(ctl), &o, &e), -EBADMSG);
	const uint8_t vb[] = {6, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0};
	assert_int_equal(cm_gpu_opaque_parse(vb, sizeof(vb), &o, &e), -EBADMSG);
}

static void expect_policy_fail(const char *json, const char *what)
{
	struct cm_err e = {0};
	struct cm_gpu_policy *p;
	int rc = gpu_policy_try(json, &p, &e);
	if (rc == 0 || !strstr(e.msg, what))
		print_error("want '%s', got rc %d: %s\n", what, rc, e.msg);
	assert_int_not_equal(rc, 0);
	assert_null(p);
	assert_non_null(strstr(e.msg, what));
}

/* The policy: strict (unknown keys, types, ranges refused), allow-lists enforced. */
static void test_policy(void **state)
{
	struct g1 *f = *state;
	expect_policy_fail("{\"ppcie\": true}", "ppcie");
	expect_policy_fail("{\"architectures\": [\"ampere\"]}", "unknown architecture");
	expect_policy_fail("{\"count_min\": 3, \"count_max\": 2}", "above count_max");
	expect_policy_fail("{\"count_max\": 9}", "count_max");
	expect_policy_fail("{\"rim_required\": [\"driver\", \"driver\"]}", "each once");
	expect_policy_fail("{\"rim_time\": \"build\"}", "rim_time");
	expect_policy_fail("{\"rim_sha256\": [\"00\"]}", "rim_sha256");
	expect_policy_fail("{\"fwid_required\": 1}", "fwid_required");
	expect_policy_fail("[]", "object");
	static const struct {
		const char *json, *check;
	} refused[] = {
		/* the allow-lists pass (VBIOS case-insensitively); both RIMs required, no bundle */
		{"{\"count_min\": 1, \"count_max\": 8, \"architectures\": [\"hopper\"],"
		 " \"cc_required\": true, \"devtools_allowed\": false,"
		 " \"production_required\": true, \"ppcie_allowed\": false, \"nvle_allowed\": false,"
		 " \"fwid_required\": true, \"ocsp_required\": false, \"rim_required\": [\"driver\", \"vbios\"],"
		 " \"rim_time\": \"verification\", \"driver_versions\": [\"550.90.07\"],"
		 " \"vbios_versions\": [\"96.00.9f.00.01\"]}",
		 "gpu_policy_rim_required"},
		{"{\"driver_versions\": [\"580.95.05\"]}", "gpu_policy_driver"},
		{"{\"vbios_versions\": [\"96.00.5E.00.01\"]}", "gpu_policy_vbios"},
		{"{\"architectures\": [\"blackwell\"]}", "gpu_arch"},
		{"{\"ocsp_required\": true}", "gpu_policy_ocsp_required"},
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct cm_gpu_policy *p = gpu_policy_json(refused[i].json);
		expect_fail(&f->x, G1_NONCE, p, NOW, refused[i].check);
		cm_gpu_policy_free(p);
	}
}

static void expect_system(const struct cm_gpu_system *s, const struct cm_gpu_policy *p, const char *check)
{
	struct cm_err e = {0};
	int rc = cm_gpu_check_system(s, p, &e);
	if (!check) {
		assert_int_equal(rc, 0);
		return;
	}
	assert_int_equal(rc, -EACCES);
	assert_string_equal(e.check, check);
}

/* The NVML system pre-check against the default (production) policy. */
static void test_check_system(void **state)
{
	(void)state;
	struct cm_gpu_policy *p;
	assert_int_equal(cm_gpu_policy_default(&p, NULL), 0);
	struct cm_gpu_system ok = {.cc_on = true, .production_env = true, .count = 2, .arch = {9, 9}};
	strcpy(ok.driver_version, "580.95.05");
	expect_system(&ok, p, NULL);
	struct cm_gpu_system s = ok;
	s.cc_on = false;
	expect_system(&s, p, "gpu_cc_mode");
	s = ok;
	s.devtools_on = true;
	expect_system(&s, p, "gpu_devtools");
	s = ok;
	s.production_env = false;
	expect_system(&s, p, "gpu_environment");
	s = ok;
	s.multi = CM_GPU_MULTI_NVLE;
	expect_system(&s, p, "gpu_multi_gpu_mode");
	s = ok;
	s.count = 0;
	expect_system(&s, p, "gpu_count");
	s = ok;
	s.count = 9;
	expect_system(&s, p, "gpu_count");
	s = ok;
	s.arch[1] = 10;
	expect_system(&s, p, "gpu_arch");
	cm_gpu_policy_free(p);
	p = gpu_policy_json("{\"count_min\": 2, \"count_max\": 2, \"architectures\": [\"hopper\", \"blackwell\"],"
			" \"devtools_allowed\": true, \"driver_versions\": [\"580.95.05\"]}");
	expect_system(&s, p, NULL);
	s.devtools_on = true;
	expect_system(&s, p, NULL);
	strcpy(s.driver_version, "550.163.01");
	expect_system(&s, p, "gpu_policy_driver");
	s = ok;
	s.count = 1;
	expect_system(&s, p, "gpu_count");
	cm_gpu_policy_free(p);
}

/* A certificate with extension oid = DER hex (colon-separated), minted with openssl. */
static X509 *cert_with_ext(const char *dir, const char *name, const char *oid, const char *der)
{
	char cmd[4096], path[64];
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && openssl ecparam -name secp384r1 -genkey -noout -out %s.key 2>/dev/null && "
		 "openssl req -x509 -new -key %s.key -subj /CN=t -days 1 -out %s.pem -addext '%s=DER:%s' 2>/dev/null",
		 dir, name, name, name, oid, der);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s.pem", name);
	return gpu_pem_load(dir, path);
}

/* Blackwell's FWID: the first fwids [6] entry of the 2.23.133.5.4.1.1 DICE TcbInfo (synthetic
 * certificates: no Blackwell evidence among the fixtures). */
static void test_blackwell_fwid(void **state)
{
	(void)state;
	char *d = test_tmpdir();
	/* SEQUENCE { [0] "NVIDIA", [6] { SEQUENCE { sha384, OCTET STRING 48 x 0x11 } } } */
	char der[1024] = "30:49:80:06:4e:56:49:44:49:41:a6:3f:30:3d:06:09:60:86:48:01:65:03:04:02:02:04:30";
	for (int i = 0; i < 48; i++)
		strcat(der, ":11");
	X509 *bw = cert_with_ext(d, "bw", "2.23.133.5.4.1.1", der);
	uint8_t fwid[48], want[48];
	memset(want, 0x11, 48);
	struct cm_err e = {0};
	assert_int_equal(cm_gpu_leaf_fwid(bw, fwid, &e), 0);
	assert_memory_equal(fwid, want, 48);
	/* no fwids [6] */
	X509 *nofw = cert_with_ext(d, "nofw", "2.23.133.5.4.1.1", "30:08:80:06:4e:56:49:44:49:41");
	assert_int_equal(cm_gpu_leaf_fwid(nofw, fwid, &e), -EBADMSG);
	assert_string_equal(e.check, "gpu_fwid");
	/* a 32-byte digest */
	X509 *short_fw = cert_with_ext(d, "short", "2.23.133.5.4.1.1",
				       "30:19:a6:17:30:15:06:01:01:04:10:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00");
	assert_int_equal(cm_gpu_leaf_fwid(short_fw, fwid, &e), -EBADMSG);
	/* neither extension */
	X509 *none = cert_with_ext(d, "none", "1.2.3.4", "05:00");
	assert_int_equal(cm_gpu_leaf_fwid(none, fwid, &e), -ENOENT);
	X509_free(bw);
	X509_free(nofw);
	X509_free(short_fw);
	X509_free(none);
	gpu_tmpdir_remove(d);
}

/* The bundle reader: strict keys, base64, nonce length. */
static void test_bundle_strict(void **state)
{
	(void)state;
	struct cm_gpu_bundle_entry *b;
	size_t n;
	struct cm_err e = {0};
	const char *bad[] = {
		"[]",
		"{}",
		"[{\"nonce\": \"00\", \"evidence\": \"AAAA\", \"certificate\": \"AAAA\"}]",
		"[{\"nonce\": \"" G4_NONCE "\", \"evidence\": \"AA=A\", \"certificate\": \"AAAA\"}]",
		"[{\"nonce\": \"" G4_NONCE "\", \"evidence\": \"AAAA\", \"certificate\": \"AAAA\", \"extra\": 1}]",
		"[{\"nonce\": \"" G4_NONCE "\", \"evidence\": \"AAAA\"}]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(cm_gpu_bundle_parse(bad[i], strlen(bad[i]), "b", &b, &n, &e), 0);
	const char *good = "[{\"nonce\": \"" G4_NONCE "\", \"evidence\": \"AAEC\\nAw==\", \"certificate\": \"YQ==\", \"arch\": \"HOPPER\"}]";
	assert_int_equal(cm_gpu_bundle_parse(good, strlen(good), "b", &b, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(b[0].report_len, 4);
	assert_int_equal(b[0].report[3], 3);
	assert_int_equal(b[0].chain_len, 1);
	assert_string_equal(b[0].arch, "HOPPER");
	cm_gpu_bundle_free(b, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_g1_pass, g1_setup, g1_teardown),
		cmocka_unit_test_setup_teardown(test_g1_nonce_mismatch, g1_setup, g1_teardown),
		cmocka_unit_test(test_g2_fwid_policy_and_nonce),
		cmocka_unit_test(test_g3_invalid_signature),
		cmocka_unit_test(test_cross_pairing),
		cmocka_unit_test_setup_teardown(test_bit_flips, g1_setup, g1_teardown),
		cmocka_unit_test_setup_teardown(test_chain_shape, g1_setup, g1_teardown),
		cmocka_unit_test(test_g4_ppcie_bundle),
		cmocka_unit_test(test_spdm_strict),
		cmocka_unit_test(test_opaque),
		cmocka_unit_test_setup_teardown(test_policy, g1_setup, g1_teardown),
		cmocka_unit_test(test_check_system),
		cmocka_unit_test(test_bundle_strict),
		cmocka_unit_test(test_blackwell_fwid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
