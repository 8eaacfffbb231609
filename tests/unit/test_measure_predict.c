/* RTMR0-2 prediction: ACPI loader/RSDP derivation and RTMR0 for the three tdx-measure
 * fixtures with the Debian OVMF (fixtures README §3), fixed digests (spec §3.2),
 * LoadOptions, OVMF profiles, RTMR0 from a reference log. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/core/digest.h"
#include "measure/eventlog/eventlog.h"
#include "measure/predict/predict.h"
#include "measure/predict/predict_image.h"
#include "tests/unit/testutil.h"

static uint8_t *fw;
static size_t fwlen;
static struct cm_tdvf tdvf;

struct shape {
	const char *dir;
	uint64_t mem;
	const char *hob, *loader, *rsdp, *tables, *rtmr0;
};

static const struct shape shapes[3] = {
	{"canonical-defaults", 2ull << 30,
	 "0e35f1b315ba6c912cf791e5c79dd9d3a2b8704516aa27d4e5aa78fb09ede04aef2bbd02ac7a8734c48562b9c26ba35d",
	 "5a90c1030f1e8a83d9762fd0f4ea0d22e2ea77733c5c5fba869e746c34a2aa0e89ea1274c111cd9fda70cb1b1c9a13b8",
	 "2441521fc5d1c73583df676f308f93dba31808d184f6faa370549eb62fa7d3c4417e01cda010a191d401200a209ac79a",
	 "43294dd0bd554ef1950caa7110c9ce685d454c69a9f124db1e84b764486678e179d5e3b9a83b85a9253eb056e35479a8",
	 "e1cf95c7fedaa78087b3eb237148869f804642b7939d59c8825db269ffadf190d4a7fd4f44d9b10ba7ff44c12dd564f5"},
	{"q35-with-hpet", 4ull << 30,
	 "02a008e63d55a77823c04a5513a5810d4e592dc41bf2596267c09eae5d4b4e3b329ae614973fb192297d8833d37a08fd",
	 "24a4744b48108a29a474565ce1dc36d887abb305f20693470e369665781326239ffbef88c9acb975f931d214a41be46a",
	 "d9f82daaa1b00205fe5cb96591b8801edf02b70046955f1e987a8f5953757f53e95eb7e51f56011228d64e23955da035",
	 "b3e86d66063f4cdeeb6c5897572704f5474698a883c6be7f102b1ca48eb315a20f359f1d0266f888d3f0ed83ae531589",
	 "507b21ccfe504463c9a324a440e19707ef84e03663cf6c6013540ce79131f9675a7852cfa65303d931c2a79389ffff49"},
	{"runtime-capture", 16ull << 30,
	 "794385a0fd4ad1933f2f10bc019228fe275b82a90d9cd73a0561ba3b3cc7ecfae40b1771fd78dc19a34a094bd4a5286b",
	 "84db560c1236915fc523c9bc14355a124290f448db2f302740b06170548dc93ddbf16d0aac71276ae5be29e0761782c4",
	 "727c0e3904042ea889dbeb79d48b7ec3cb922df485d65775a07533e1aa83e3166cbafa24b091e17533ad2f48a543d961",
	 "66bb50e2c4bcde199d3e62344d9e2276d9fa117c861f14fd9bf6a3bcfebf6efc97059e273f08bf5a09fa0853b2492048",
	 "a2749c840579faca6adf0c9c3ab69f277556cda67f8a6b3553c2c7fbf00e9706ec77a6f6960d802433b339ff8b72eefb"},
};

#define CFV_DIGEST "344bc51c980ba621aaa00da3ed7436f7d6e549197dfe699515dfa2c6583d95e6412af21c097d473155875ffd561d6790"
static const char *const fixed_rtmr0[5] = {
	"9dc3a1f80bcec915391dcda5ffbb15e7419f77eab462bbf72b42166fb70d50325e37b36f93537a863769bcf9bedae6fb",
	"6f2e3cbc14f9def86980f5f66fd85e99d63e69a73014ed8a5633ce56eca5b64b692108c56110e22acadcef58c3250f1b",
	"d607c0efb41c0d757d69bca0615c3a9ac0b1db06c557d992e906c6b7dee40e0e031640c7bfd7bcd35844ef9edeadc6f9",
	"08a74f8963b337acb6c93682f934496373679dd26af1089cb4eaf0c30cf260a12e814856385ab8843e56a9acea19e127",
	"18cc6e01f0c6ea99aa23f8a280423e94ad81d96d0aeb5180504fc0f7a40cb3619dd39bd6a95ec1680a86ed6ab0f9828d"};
#define SEPARATOR "394341b7182cd227c5c6b07ef8000cdfd86136c4292b8e576573ad7ed9ae41019f5818b4b971c9effc60e1ad9f1289f0"
#define BOOTORDER "1dd6f7b457ad880d840d41c961283bab688e94e4b59359ea45686581e90feccea3c624b1226113f824f315eb60ae0a7c"
#define BOOT0000 "23ada07f5261f12f34a0bd8e46760962d6b4d576a416f1fea1c64bc656b1d28eacf7047ae6e967c58fd2a98bfa74c298"
#define CALLING "77a0dab2312b4e1e57a84d865a21e5b2ee8d677a21012ada819d0a98988078d3d740f6346bfe0abaa938ca20439a8d71"
#define EBS "214b0bef1379756011344877743fdc2a5382bac6e70362d624ccf3f654407c1b4badf7d8f9295dd3dabdef65b27677e0"
#define EBS_OK "0a2e01c85deae718a530ad8c6d20a84009babe6c8989269e950d8cf440c6e997695e64d455c4174a652cd080f6230b74"

static int setup(void **state)
{
	(void)state;
	struct cm_err e = {0};
	fw = fixture_read("tdx/measure/OVMF.fd", &fwlen);
	return cm_tdvf_parse(fw, fwlen, &tdvf, &e);
}

static int teardown(void **state)
{
	(void)state;
	free(fw);
	return 0;
}

static uint8_t *read_tables(const struct shape *s, size_t *len)
{
	char rel[128];
	snprintf(rel, sizeof(rel), "tdx/measure/%s/acpi_tables.bin", s->dir);
	return fixture_read(rel, len);
}

static void test_acpi_loader_and_rsdp_derivation(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++) {
		size_t tl;
		uint8_t *t = read_tables(&shapes[i], &tl);
		uint8_t *loader, rsdp[20], d[48];
		size_t ll;
		struct cm_err e = {0};
		assert_int_equal(cm_acpi_derive_loader(t, tl, &loader, &ll, &e), 0);
		assert_int_equal(ll, 4096);
		cm_sha384(loader, ll, d);
		assert_hex_equal(d, shapes[i].loader);
		assert_int_equal(cm_acpi_derive_rsdp(t, tl, rsdp, &e), 0);
		cm_sha384(rsdp, 20, d);
		assert_hex_equal(d, shapes[i].rsdp);
		free(loader);
		free(t);
	}
}

static void predict_platform(const struct shape *s, enum cm_ovmf_profile prof, struct cm_prediction *p)
{
	size_t tl;
	uint8_t *t = read_tables(s, &tl);
	struct cm_predict_input in = {
		.profile = prof, .fw = fw, .fw_len = fwlen, .tdvf = &tdvf, .mem = s->mem,
		.acpi_tables = t, .acpi_tables_len = tl};
	struct cm_err e = {0};
	if (cm_predict(&in, p, &e))
		fail_msg("%s", e.msg);
	free(t);
}

static void test_rtmr0_reproduces_fixture_values(void **state)
{
	(void)state;
	struct cm_prediction *p = malloc(sizeof(*p));
	for (int i = 0; i < 3; i++) {
		predict_platform(&shapes[i], CM_OVMF_202411_202502, p);
		assert_int_equal(p->n, 13);
		assert_hex_equal(p->rtmr[0], shapes[i].rtmr0);
		/* every per-event digest of fixtures README §3 */
		assert_hex_equal(p->ev[0].digest, shapes[i].hob);
		assert_hex_equal(p->ev[1].digest, CFV_DIGEST);
		for (int k = 0; k < 5; k++)
			assert_hex_equal(p->ev[2 + k].digest, fixed_rtmr0[k]);
		assert_hex_equal(p->ev[7].digest, SEPARATOR);
		assert_hex_equal(p->ev[8].digest, shapes[i].loader);
		assert_hex_equal(p->ev[9].digest, shapes[i].rsdp);
		assert_hex_equal(p->ev[10].digest, shapes[i].tables);
		assert_hex_equal(p->ev[11].digest, BOOTORDER);
		assert_hex_equal(p->ev[12].digest, BOOT0000);
		for (int k = 0; k < 13; k++)
			assert_int_equal(p->ev[k].reg, 0);
	}
	free(p);
}

static void test_captured_loader_and_rsdp_take_precedence(void **state)
{
	(void)state;
	size_t tl;
	uint8_t *t = read_tables(&shapes[0], &tl);
	/* A captured loader: the derived one with a changed padding byte (other digest, same
	 * ALLOCATE commands: rsdp, then tables). */
	uint8_t *dl, loader[4096], rsdp[20] = {2};
	size_t dll;
	struct cm_err de = {0};
	assert_int_equal(cm_acpi_derive_loader(t, tl, &dl, &dll, &de), 0);
	assert_int_equal(dll, sizeof(loader));
	memcpy(loader, dl, sizeof(loader));
	free(dl);
	loader[4095] = 1;
	struct cm_predict_input in = {
		.profile = CM_OVMF_202411_202502, .fw = fw, .fw_len = fwlen, .tdvf = &tdvf,
		.mem = shapes[0].mem, .acpi_tables = t, .acpi_tables_len = tl,
		.loader = loader, .loader_len = sizeof(loader), .rsdp = rsdp, .rsdp_len = sizeof(rsdp)};
	struct cm_prediction *p = malloc(sizeof(*p));
	struct cm_err e = {0};
	uint8_t d[48];
	assert_int_equal(cm_predict(&in, p, &e), 0);
	cm_sha384(loader, sizeof(loader), d);
	assert_memory_equal(p->ev[8].digest, d, 48);
	cm_sha384(rsdp, sizeof(rsdp), d);
	assert_memory_equal(p->ev[9].digest, d, 48);
	assert_non_null(strstr(p->ev[8].desc, "captured"));
	/* OVMF measures every file the loader ALLOCATEs, in its order: QEMU's TPM log area is
	 * 64 KiB of zeros; a file whose content is unknown is refused by name. */
	static const char tpmlog[] = "etc/tpm/log";
	memmove(loader + 256, loader + 128, 4096 - 256);
	memset(loader + 128, 0, 128);
	loader[128] = 1;
	memcpy(loader + 132, tpmlog, sizeof(tpmlog) - 1);
	assert_int_equal(cm_predict(&in, p, &e), 0);
	assert_non_null(strstr(p->ev[10].desc, "etc/tpm/log"));
	uint8_t *zero = calloc(1, 65536);
	cm_sha384(zero, 65536, d);
	free(zero);
	assert_memory_equal(p->ev[10].digest, d, 48);
	assert_non_null(strstr(p->ev[11].desc, "etc/acpi/tables"));
	memcpy(loader + 132, "etc/vmgenid", 11);
	assert_true(cm_predict(&in, p, &e) < 0);
	assert_non_null(strstr(e.msg, "allocates \"etc/vmgenid\""));
	free(p);
	free(t);
}

static struct cm_prediction *predict_full(enum cm_ovmf_profile prof, enum cm_kernel_mode km,
					  const char *cmdline, const uint8_t *initrd, size_t initrd_len)
{
	static uint8_t *k;
	static size_t kl;
	struct cm_err e = {0};
	if (!k && cm_read_file("build/cache/kernel/vmlinuz", 64u << 20, &k, &kl, &e))
		fail_msg("%s", e.msg);
	size_t tl;
	uint8_t *t = read_tables(&shapes[0], &tl);
	struct cm_predict_input in = {
		.profile = prof, .kernel_mode = km, .fw = fw, .fw_len = fwlen, .tdvf = &tdvf,
		.mem = shapes[0].mem, .acpi_tables = t, .acpi_tables_len = tl,
		.kernel = k, .kernel_len = kl, .initrd = initrd, .initrd_len = initrd_len, .cmdline = cmdline};
	struct cm_prediction *p = malloc(sizeof(*p));
	if (cm_predict(&in, p, &e))
		fail_msg("%s", e.msg);
	free(t);
	return p;
}

static size_t count(const struct cm_prediction *p, int imr)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n; i++)
		n += p->ev[i].reg == imr;
	return n;
}

static void test_full_boot_sequence_202411(void **state)
{
	(void)state;
	static const uint8_t initrd[] = "initrd bytes";
	struct cm_prediction *p = predict_full(CM_OVMF_202411_202502, CM_KERNEL_UNPATCHED, "console=hvc0",
					       initrd, sizeof(initrd));
	assert_int_equal(count(p, 0), 13);
	assert_int_equal(count(p, 1), 5);
	assert_int_equal(count(p, 2), 2);
	assert_int_equal(count(p, 3), 0);
	assert_int_equal(p->n, 20);
	/* chronological order of spec §3.2 */
	assert_int_equal(p->ev[11].reg, 1); /* kernel */
	assert_hex_equal(p->ev[12].digest, BOOTORDER);
	assert_hex_equal(p->ev[13].digest, BOOT0000);
	assert_hex_equal(p->ev[14].digest, CALLING);
	assert_int_equal(p->ev[15].reg, 1);
	assert_hex_equal(p->ev[15].digest, SEPARATOR);
	assert_int_equal(p->ev[16].reg, 2);
	uint8_t d[48];
	cm_sha384(initrd, sizeof(initrd), d);
	assert_memory_equal(p->ev[17].digest, d, 48);
	assert_hex_equal(p->ev[18].digest, EBS);
	assert_hex_equal(p->ev[19].digest, EBS_OK);
	/* RTMR0 does not depend on the kernel */
	assert_hex_equal(p->rtmr[0], shapes[0].rtmr0);
	free(p);
}

static void test_pre202411_separator_in_rtmr0(void **state)
{
	(void)state;
	struct cm_prediction *p = predict_full(CM_OVMF_PRE202411, CM_KERNEL_UNPATCHED, "", NULL, 0);
	assert_int_equal(count(p, 0), 14);
	assert_int_equal(count(p, 1), 4);
	assert_int_equal(count(p, 2), 0); /* no cmdline, no initrd: no LoadOptions event */
	size_t last0 = 0;
	for (size_t i = 0; i < p->n; i++)
		if (p->ev[i].reg == 0)
			last0 = i;
	assert_hex_equal(p->ev[last0].digest, SEPARATOR);
	free(p);
}

static void test_empty_initrd_is_no_initrd_for_ovmf(void **state)
{
	(void)state;
	static const uint8_t none[1];
	struct cm_prediction *a = predict_full(CM_OVMF_202411_202502, CM_KERNEL_UNPATCHED, "x", none, 0);
	struct cm_prediction *b = predict_full(CM_OVMF_202411_202502, CM_KERNEL_UNPATCHED, "x", NULL, 0);
	assert_int_equal(count(a, 2), 1); /* LoadOptions only, without " initrd=initrd" */
	assert_memory_equal(a->rtmr[2], b->rtmr[2], 48);
	free(a);
	free(b);
	/* ... but QEMU still patches the header for an empty -initrd file */
	a = predict_full(CM_OVMF_202411_202502, CM_KERNEL_QEMU_PATCHED, "x", none, 0);
	b = predict_full(CM_OVMF_202411_202502, CM_KERNEL_QEMU_PATCHED, "x", NULL, 0);
	assert_memory_not_equal(a->rtmr[1], b->rtmr[1], 48);
	free(a);
	free(b);
}

static void test_kernel_mode_changes_only_rtmr1(void **state)
{
	(void)state;
	static const uint8_t initrd[4096] = {0};
	struct cm_prediction *a = predict_full(CM_OVMF_202411_202502, CM_KERNEL_UNPATCHED, "x", initrd,
					       sizeof(initrd));
	struct cm_prediction *b = predict_full(CM_OVMF_202411_202502, CM_KERNEL_QEMU_PATCHED, "x", initrd,
					       sizeof(initrd));
	assert_memory_equal(a->rtmr[0], b->rtmr[0], 48);
	assert_memory_not_equal(a->rtmr[1], b->rtmr[1], 48);
	assert_memory_equal(a->rtmr[2], b->rtmr[2], 48);
	free(a);
	free(b);
}

static void test_202505_requires_reference_log(void **state)
{
	(void)state;
	size_t tl;
	uint8_t *t = read_tables(&shapes[0], &tl);
	struct cm_predict_input in = {
		.profile = CM_OVMF_202505, .fw = fw, .fw_len = fwlen, .tdvf = &tdvf, .mem = 2ull << 30,
		.acpi_tables = t, .acpi_tables_len = tl};
	struct cm_prediction *p = malloc(sizeof(*p));
	struct cm_err e = {0};
	assert_true(cm_predict(&in, p, &e) < 0);
	assert_non_null(strstr(e.msg, "rtmr0_log"));
	free(p);
	free(t);
}

/* The replayed CCEL fixture (go-tdx-guest COS 113 TD); returns the log buffer. */
static uint8_t *ccel_fixture(struct cm_eventlog *l)
{
	size_t ll;
	uint8_t *log = fixture_read("tdx/ccel/ccel_data.dat", &ll);
	struct cm_err e = {0};
	assert_int_equal(cm_eventlog_parse(log, ll, l, &e), 0);
	return log;
}

static void test_rtmr0_from_reference_log_matches_quote_value(void **state)
{
	(void)state;
	struct cm_eventlog l;
	struct cm_err e = {0};
	uint8_t *log = ccel_fixture(&l);
	struct cm_pevent ev[32];
	size_t n = cm_pevents_from_log(&l, 0, ev, 32);
	assert_int_equal(n, 16);
	assert_non_null(strstr(ev[13].desc, "from log: Boot0000: UiApp"));
	struct cm_predict_input in = {.profile = CM_OVMF_202505, .rtmr0_events = ev, .n_rtmr0_events = n};
	struct cm_prediction *p = malloc(sizeof(*p));
	assert_int_equal(cm_predict(&in, p, &e), 0);
	assert_hex_equal(p->rtmr[0], "3fa2f61f395b7f5feefb4ec2df61297f109ad8abcd6410c1b7df60f21f37b19297fc35e544039c7e1edece752afd17f6");
	free(p);
	cm_eventlog_free(&l);
	free(log);
}

static void test_fixed_events_equal_a_real_td_log(void **state)
{
	(void)state;
	/* The kernel-independent events we predict appear verbatim in the real COS TD log
	 * (an OVMF with the separator already in RTMR1): Boot0000, "Calling EFI
	 * Application", the RTMR1 separator and both Exit Boot Services actions. */
	struct cm_eventlog l;
	uint8_t *log = ccel_fixture(&l);
	struct cm_prediction *p = predict_full(CM_OVMF_202411_202502, CM_KERNEL_UNPATCHED, "", NULL, 0);
	static const struct {
		size_t log, pred;
	} pairs[] = {{13, 13}, {14, 14}, {15, 15}, {41, 16}, {42, 17}};
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		assert_memory_equal(l.ev[pairs[i].log].digest, p->ev[pairs[i].pred].digest, 48);
		assert_int_equal(l.ev[pairs[i].log].mr_index, p->ev[pairs[i].pred].reg + 1);
		assert_int_equal(l.ev[pairs[i].log].type, p->ev[pairs[i].pred].type);
	}
	free(p);
	cm_eventlog_free(&l);
	free(log);
}

static void test_load_options_encoding(void **state)
{
	(void)state;
	uint8_t *lo, d[48];
	size_t n;
	struct cm_err e = {0};
	assert_int_equal(cm_load_options("console=hvc0", true, &lo, &n, &e), 0);
	assert_int_equal(n, 2 * (12 + 14 + 1));
	assert_int_equal(lo[0], 'c');
	assert_int_equal(lo[1], 0);
	assert_int_equal(lo[n - 2], 0);
	cm_sha384(lo, n, d);
	char hex[97];
	cm_hex_encode(d, 48, hex, sizeof(hex));
	assert_memory_equal(hex, "1208aa5e", 8); /* spec §3.6 example */
	free(lo);
	assert_int_equal(cm_load_options("", false, &lo, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_null(lo);
	assert_int_equal(cm_load_options(NULL, true, &lo, &n, &e), 0);
	assert_int_equal(n, 2 * 15);
	assert_int_equal(lo[0], ' ');
	free(lo);
	assert_int_equal(cm_load_options("\xe9", false, &lo, &n, &e), 0); /* byte -> U+00E9 */
	assert_int_equal(lo[0], 0xe9);
	assert_int_equal(lo[1], 0);
	free(lo);
}

static void test_acpi_bad_blobs_rejected(void **state)
{
	(void)state;
	size_t tl;
	uint8_t *t = read_tables(&shapes[1], &tl);
	uint8_t *loader, rsdp[20];
	size_t ll;
	struct cm_err e = {0};
	/* cut in the middle of the DSDT (FACS is 64 bytes, DSDT follows) */
	assert_true(cm_acpi_derive_loader(t, 200, &loader, &ll, &e) < 0);
	assert_non_null(strstr(e.msg, "DSDT at offset 64 has bad length"));
	uint8_t *c = malloc(tl);
	memcpy(c, t, tl);
	c[64] = 0x01;
	assert_true(cm_acpi_derive_rsdp(c, tl, rsdp, &e) < 0);
	assert_non_null(strstr(e.msg, "no ACPI table signature at offset 64"));
	memcpy(c, t, tl);
	c[tl - 1] = 1;
	assert_true(cm_acpi_derive_loader(c, tl, &loader, &ll, &e) < 0);
	assert_non_null(strstr(e.msg, "unparsed bytes"));
	/* no RSDT: rename it */
	memcpy(c, t, tl);
	for (size_t i = 0; i + 4 < tl; i++)
		if (!memcmp(c + i, "RSDT", 4))
			memcpy(c + i, "XXXX", 4);
	assert_true(cm_acpi_derive_rsdp(c, tl, rsdp, &e) < 0);
	assert_non_null(strstr(e.msg, "RSDT"));
	memset(c, 0, tl);
	assert_true(cm_acpi_derive_loader(c, tl, &loader, &ll, &e) < 0);
	assert_non_null(strstr(e.msg, "no ACPI tables"));
	free(c);
	free(t);
}

static void test_profile_names(void **state)
{
	(void)state;
	enum cm_ovmf_profile p;
	enum cm_kernel_mode m;
	const char *names[] = {"pre202411", "202411-202502", "202505+"};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(cm_ovmf_profile_parse(names[i], &p), 0);
		assert_string_equal(cm_ovmf_profile_name(p), names[i]);
	}
	assert_true(cm_ovmf_profile_parse("2024", &p) < 0);
	assert_int_equal(cm_kernel_mode_parse("qemu-patched", &m), 0);
	assert_string_equal(cm_kernel_mode_name(m), "qemu-patched");
	assert_int_equal(cm_kernel_mode_parse("unpatched", &m), 0);
	assert_true(cm_kernel_mode_parse("patched", &m) < 0);
}

/* ---- VM.json / cm_measure_image ---- */

static char *tmpdir;

static const char *write_vm(const char *name, const char *json)
{
	static char path[512];
	if (!tmpdir)
		tmpdir = test_tmpdir();
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	test_write_text(path, json);
	return path;
}

static json_object *measure_ok(const char *json)
{
	json_object *o;
	struct cm_err e = {0};
	if (cm_measure_image(write_vm("vm.json", json), &o, &e))
		fail_msg("%s", e.msg);
	return o;
}

static void measure_fails(const char *json, const char *needle)
{
	json_object *o;
	struct cm_err e = {0};
	assert_true(cm_measure_image(write_vm("bad.json", json), &o, &e) < 0);
	if (!strstr(e.msg, needle))
		fail_msg("'%s' lacks '%s'", e.msg, needle);
}

static const char *jget(json_object *o, const char *a, const char *b)
{
	json_object *v = json_object_object_get(o, a);
	if (b)
		v = json_object_object_get(v, b);
	return json_object_get_string(v);
}


/* Absolute path of a fixture (VM.json paths are relative to the VM.json). */
static const char *abs_fixture(const char *rel, char out[PATH_MAX])
{
	assert_non_null(realpath(fixture_path(rel), out));
	return out;
}

static char *vm_text(const char *extra)
{
	static char buf[3 * PATH_MAX];
	char fwp[PATH_MAX], acpi[PATH_MAX];
	snprintf(buf, sizeof(buf), "{\"firmware\": \"%s\", \"acpi_tables\": \"%s\", %s}",
		 abs_fixture("tdx/measure/OVMF.fd", fwp),
		 abs_fixture("tdx/measure/canonical-defaults/acpi_tables.bin", acpi), extra);
	return buf;
}

static void test_vm_json_platform_only(void **state)
{
	(void)state;
	json_object *o = measure_ok(vm_text("\"memory\": 2147483648"));
	assert_string_equal(jget(o, "rtmr0", NULL), shapes[0].rtmr0);
	assert_null(json_object_object_get(o, "rtmr1"));
	assert_null(json_object_object_get(o, "image_hash"));
	assert_string_equal(jget(o, "profile", "rtmr0_source"), "predicted");
	assert_string_equal(jget(o, "inputs", "firmware") ? json_object_get_string(json_object_object_get(
		json_object_object_get(json_object_object_get(o, "inputs"), "firmware"), "sha256")) : "",
		"14954040cc754ade0c625ac3470ea46d4c14318b5b1396de4ef77090203d76db");
	json_object_put(o);
}

static void test_vm_json_cmdline_file_equals_cmdline(void **state)
{
	(void)state;
	char extra[1024];
	write_vm("cmdline.txt", "console=hvc0 quiet\n");
	snprintf(extra, sizeof(extra), "\"memory\": \"2G\", \"kernel\": \"%s/build/cache/kernel/vmlinuz\", "
		 "\"cmdline_file\": \"cmdline.txt\", \"debug\": true, \"kernel_mode\": \"qemu-patched\", "
		 "\"page_order\": \"per-section\", \"ovmf_profile\": \"pre202411\"", getenv("PWD"));
	json_object *a = measure_ok(vm_text(extra));
	snprintf(extra, sizeof(extra), "\"memory\": \"2G\", \"kernel\": \"%s/build/cache/kernel/vmlinuz\", "
		 "\"cmdline\": \"console=hvc0 quiet\", \"debug\": true, \"kernel_mode\": \"qemu-patched\", "
		 "\"page_order\": \"per-section\", \"ovmf_profile\": \"pre202411\"", getenv("PWD"));
	json_object *b = measure_ok(vm_text(extra));
	assert_string_equal(jget(a, "rtmr2", NULL), jget(b, "rtmr2", NULL));
	assert_string_equal(jget(a, "image_hash", NULL), jget(b, "image_hash", NULL));
	assert_string_equal(jget(a, "profile", "cmdline"), "console=hvc0 quiet");
	assert_string_equal(jget(a, "profile", "page_order"), "per-section");
	assert_string_equal(jget(a, "profile", "kernel_mode"), "qemu-patched");
	assert_string_equal(jget(a, "profile", "ovmf_profile"), "pre202411");
	/* pre202411: RTMR0 differs from the fixture (separator moved in) */
	assert_string_not_equal(jget(a, "rtmr0", NULL), shapes[0].rtmr0);
	json_object_put(a);
	json_object_put(b);
}

static void test_vm_json_rtmr0_from_log(void **state)
{
	(void)state;
	char extra[PATH_MAX + 256], p[PATH_MAX];
	snprintf(extra, sizeof(extra), "\"memory\": \"2G\", \"ovmf_profile\": \"202505+\", \"rtmr0_log\": \"%s\"",
		 abs_fixture("tdx/ccel/ccel_data.dat", p));
	json_object *o = measure_ok(vm_text(extra));
	assert_string_equal(jget(o, "rtmr0", NULL),
			    "3fa2f61f395b7f5feefb4ec2df61297f109ad8abcd6410c1b7df60f21f37b19297fc35e544039c7e1edece752afd17f6");
	assert_string_equal(jget(o, "profile", "rtmr0_source"), "event-log");
	json_object_put(o);
	snprintf(extra, sizeof(extra), "\"memory\": \"2G\", \"rtmr0_log\": \"%s\"",
		 abs_fixture("tdx/ccel/ccel_table.dat", p));
	measure_fails(vm_text(extra), "rtmr0_log");
}

static void test_vm_json_errors(void **state)
{
	(void)state;
	measure_fails("{\"firmware\": ", "bad.json: VM.json: not valid JSON at byte 13");
	measure_fails("[1, 2]", "VM.json: must be an object");
	/* a member of the wrong type is named, not taken for absent or coerced */
	measure_fails("{\"firmware\": 5, \"memory\": \"2G\"}", "VM.json: firmware: must be a string");
	measure_fails(vm_text("\"memory\": \"2G\", \"debug\": \"no\""), "VM.json: debug: must be true or false");
	measure_fails("{\"boot_config\": {\"memory\": \"2G\", \"cpus\": \"4\"}}",
		      "VM.json: boot_config.cpus: must be an integer");
	measure_fails("{\"memory\": \"2G\"}", "\"firmware\" is required");
	measure_fails(vm_text("\"cpus\": 4"), "\"memory\" is required");
	measure_fails(vm_text("\"memory\": \"2X\""), "bad \"memory\"");
	measure_fails(vm_text("\"memory\": \"2G\", \"ovmf_profile\": \"2024\""), "ovmf_profile");
	measure_fails(vm_text("\"memory\": \"2G\", \"page_order\": \"two-pass\""), "page_order");
	measure_fails(vm_text("\"memory\": \"2G\", \"kernel_mode\": \"patched\""), "kernel_mode");
	measure_fails(vm_text("\"memory\": \"2G\", \"mrowner\": \"00\""), "96 hex digits");
	measure_fails(vm_text("\"memory\": \"2G\", \"initrd\": \"x\""), "without \"kernel\"");
	measure_fails(vm_text("\"memory\": \"2G\", \"cmdline\": \"a\", \"cmdline_file\": \"c\""), "not both");
	measure_fails(vm_text("\"memory\": \"2G\", \"kernel\": \"/nonexistent/vmlinuz\""), "kernel");
	measure_fails("{\"firmware\": \"/etc/hostname\", \"memory\": \"2G\"}", "acpi_tables");
}

static void test_parse_size_units(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(cm_parse_size("2048M", &v), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(cm_parse_size("100G", &v), 0);
	assert_int_equal(v, 100ull << 30);
	assert_int_equal(cm_parse_size("64k", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(cm_parse_size("1TiB", &v), 0);
	assert_int_equal(v, 1ull << 40);
	assert_int_equal(cm_parse_size("17179869184", &v), 0);
	assert_int_equal(v, 16ull << 30);
	assert_true(cm_parse_size("1.5G", &v) < 0);
	assert_true(cm_parse_size("-1", &v) < 0);
	assert_true(cm_parse_size(" -5", &v) < 0); /* strtoull took it as 2^64-5 */
	assert_true(cm_parse_size("+5", &v) < 0);
	assert_true(cm_parse_size(" 5G", &v) < 0);
	assert_true(cm_parse_size("18446744073709551616", &v) < 0);
	assert_true(cm_parse_size("", &v) < 0);
	assert_true(cm_parse_size("G", &v) < 0);
	assert_true(cm_parse_size("2Gx", &v) < 0);
	assert_true(cm_parse_size("99999999999999T", &v) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acpi_loader_and_rsdp_derivation),
		cmocka_unit_test(test_rtmr0_reproduces_fixture_values),
		cmocka_unit_test(test_captured_loader_and_rsdp_take_precedence),
		cmocka_unit_test(test_full_boot_sequence_202411),
		cmocka_unit_test(test_pre202411_separator_in_rtmr0),
		cmocka_unit_test(test_empty_initrd_is_no_initrd_for_ovmf),
		cmocka_unit_test(test_kernel_mode_changes_only_rtmr1),
		cmocka_unit_test(test_202505_requires_reference_log),
		cmocka_unit_test(test_rtmr0_from_reference_log_matches_quote_value),
		cmocka_unit_test(test_fixed_events_equal_a_real_td_log),
		cmocka_unit_test(test_load_options_encoding),
		cmocka_unit_test(test_acpi_bad_blobs_rejected),
		cmocka_unit_test(test_profile_names),
		cmocka_unit_test(test_vm_json_platform_only),
		cmocka_unit_test(test_vm_json_cmdline_file_equals_cmdline),
		cmocka_unit_test(test_vm_json_rtmr0_from_log),
		cmocka_unit_test(test_vm_json_errors),
		cmocka_unit_test(test_parse_size_units),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
