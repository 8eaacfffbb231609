/* TPM measured boot in libmeasure: the TCG2 log of a real swtpm boot (tests/unit/golden/tpm/)
 * parsed and replayed into the SHA-256 PCRs the guest read, the PCR value file, small crafted
 * logs (StartupLocality, duplicate separators, PCR index range, no SHA-256 bank), and
 * cm_predict_tpm against the same boot. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/core/digest.h"
#include "measure/core/util.h"
#include "measure/eventlog/eventlog.h"
#include "measure/predict/predict.h"
#include "tests/unit/test_eventlog.h"
#include "tests/unit/testutil.h"

#define GOLDEN "tests/unit/golden/tpm/"
#define BOOT_KERNEL "build/cache/kernel/vmlinuz"
#define BOOT_KERNEL_SHA256 "0ce26f6d17d639542ca6c45951e318f2cdce6ec31ab431b9dae5f8b5d7507ba9"
#define BOOT_INITRD_LEN 18095510u
#define BOOT_MEM (1ull << 30)
#define BOOT_CMDLINE                                                                                  \
	"console=ttyS0 panic=-1 loglevel=4 "                                                          \
	"cocoon.roothash=5520c84bf911338d1c322364d50145ee23ee893101924fef57cbf7e6df32ce2f "           \
	"cocoon.rootblocks=486 cocoon.attest=sim cocoon.timeout=10 "

static uint8_t *logbuf;
static size_t loglen;
static uint8_t pcrs[CM_TPM_PCRS][32];
static uint32_t pcr_mask;

static uint8_t *read_golden(const char *name, size_t *len)
{
	uint8_t *b;
	struct cm_err e = {0};
	char path[256];
	snprintf(path, sizeof(path), GOLDEN "%s", name);
	if (cm_read_file(path, 1u << 20, &b, len, &e))
		fail_msg("%s", e.msg);
	return b;
}

static int setup(void **state)
{
	(void)state;
	logbuf = read_golden("binary_bios_measurements", &loglen);
	size_t n;
	uint8_t *t = read_golden("pcr-sha256.txt", &n);
	struct cm_err e = {0};
	if (cm_pcr_values_parse(t, n, pcrs, &pcr_mask, &e))
		fail_msg("%s", e.msg);
	free(t);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(logbuf);
	return 0;
}

static void test_tpm_log_replays_to_the_booted_pcrs(void **state)
{
	(void)state;
	struct cm_eventlog l;
	eventlog_parse_ok(cm_tpm_eventlog_parse, logbuf, loglen, &l);
	assert_int_equal(l.kind, CM_EVENTLOG_TPM);
	assert_int_equal(l.n, 28);
	assert_int_equal(l.nalgs, 4);
	assert_string_equal(eventlog_anomalies(&l), "[ ]");
	assert_int_equal(pcr_mask, 0xffffff);
	for (int i = 0; i < 10; i++)
		assert_memory_equal(l.pcr[i], pcrs[i], 32);
	/* PCR 8 is never extended; 10 holds IMA's aggregate, which is in IMA's log, not this one. */
	assert_int_equal(l.pcr_extends[8], 0);
	assert_int_equal(l.pcr_extends[10], 0);
	assert_memory_not_equal(l.pcr[10], pcrs[10], 32);
	assert_int_equal(l.ev[0].mr_index, 0);
	assert_int_equal(l.ev[0].type, CM_EV_S_CRTM_VERSION);
	assert_int_equal(l.ev[0].digest_len, 32);
	/* Separators, actions and variables are bound to their data in the SHA-256 bank. */
	size_t bound = 0;
	for (size_t i = 0; i < l.n; i++) {
		assert_true(l.ev[i].content_check >= 0);
		bound += l.ev[i].content_check > 0;
	}
	assert_int_equal(bound, 18); /* 8 separators, 3 actions, 7 variables */
	cm_eventlog_free(&l);
}

static void test_tpm_log_one_bit_changes_the_replay(void **state)
{
	(void)state;
	uint8_t *c = malloc(loglen);
	memcpy(c, logbuf, loglen);
	struct cm_eventlog l;
	eventlog_parse_ok(cm_tpm_eventlog_parse, c, loglen, &l);
	size_t off = l.ev[13].offset; /* PCR 4: the kernel */
	assert_int_equal(l.ev[13].type, CM_EV_EFI_BOOT_SERVICES_APPLICATION);
	cm_eventlog_free(&l);
	/* The SHA-256 digest follows the header (12 bytes) and the SHA-1 digest (2 + 20). */
	c[off + 12 + 22 + 2] ^= 1;
	eventlog_parse_ok(cm_tpm_eventlog_parse, c, loglen, &l);
	assert_memory_not_equal(l.pcr[4], pcrs[4], 32);
	assert_memory_equal(l.pcr[9], pcrs[9], 32);
	cm_eventlog_free(&l);
	free(c);
}

/* A TPM log has no padding: a cut anywhere but between events is an error naming the offset
 * (also where the cut-off tail would be all zero or all 0xFF, which a CCEL log area tolerates). */
static void test_tpm_log_truncated_anywhere_is_an_error_or_a_prefix(void **state)
{
	(void)state;
	struct cm_eventlog full;
	eventlog_parse_ok(cm_tpm_eventlog_parse, logbuf, loglen, &full);
	for (size_t cut = 0; cut < loglen; cut++) {
		struct cm_eventlog l;
		struct cm_err ce = {0};
		int rc = cm_tpm_eventlog_parse(logbuf, cut, &l, &ce);
		bool boundary = cut == full.ev[0].offset;
		for (size_t i = 1; i < full.n; i++)
			boundary = boundary || cut == full.ev[i].offset;
		if (boundary) {
			assert_int_equal(rc, 0);
		} else {
			assert_true(rc < 0);
			assert_non_null(strstr(ce.msg, "offset"));
		}
		cm_eventlog_free(&l);
	}
	cm_eventlog_free(&full);
}

static void test_tpm_log_needs_the_sha256_bank(void **state)
{
	(void)state;
	struct cm_eventlog l;
	struct cm_err e = {0};
	/* The TDX CCEL fixture has SHA-384 only. */
	size_t n;
	uint8_t *ccel = fixture_read("tdx/ccel/ccel_data.dat", &n);
	assert_true(cm_tpm_eventlog_parse(ccel, n, &l, &e) < 0);
	assert_non_null(strstr(e.msg, "no SHA-256 (0x000b)"));
	cm_eventlog_free(&l);
	free(ccel);
	/* ... and the TPM log, whose banks include SHA-384, parses as a CC log (RTMR view). */
	eventlog_parse_ok(cm_eventlog_parse, logbuf, loglen, &l);
	cm_eventlog_free(&l);
}

/* A SHA-256-only log: Spec ID event + events appended with add(). */
struct mini {
	uint8_t b[1024];
	size_t n;
};

static void mini_init(struct mini *m)
{
	memset(m, 0, sizeof(*m));
	cm_put_le32(m->b + 4, CM_EV_NO_ACTION);
	uint8_t *s = m->b + 32;
	memcpy(s, "Spec ID Event03", 16);
	s[20] = 2;                /* spec version 2.0 */
	s[23] = 2;                /* uintnSize */
	cm_put_le32(s + 24, 1);   /* one algorithm */
	cm_put_le16(s + 28, 0x0b);
	cm_put_le16(s + 30, 32);
	/* vendor info size 0 at s + 32 */
	cm_put_le32(m->b + 28, 33);
	m->n = 32 + 33;
}

static void mini_add(struct mini *m, uint32_t pcr, uint32_t type, const void *data, uint32_t len)
{
	uint8_t *p = m->b + m->n;
	cm_put_le32(p, pcr);
	cm_put_le32(p + 4, type);
	cm_put_le32(p + 8, 1);
	cm_put_le16(p + 12, 0x0b);
	assert_int_equal(cm_sha256(data, len, p + 14), 0);
	cm_put_le32(p + 46, len);
	memcpy(p + 50, data, len);
	m->n += 50 + len;
}

/* The log of m parses, with an anomaly that contains needle. */
static void expect_mini_anomaly(const struct mini *m, const char *needle)
{
	struct cm_eventlog l;
	eventlog_parse_ok(cm_tpm_eventlog_parse, m->b, m->n, &l);
	if (!strstr(eventlog_anomalies(&l), needle))
		fail_msg("anomalies %s lack '%s'", eventlog_anomalies(&l), needle);
	cm_eventlog_free(&l);
}

static void test_tpm_log_startup_locality_sets_pcr0(void **state)
{
	(void)state;
	struct mini m;
	mini_init(&m);
	static const uint8_t loc[17] = "StartupLocality\0\3";
	mini_add(&m, 0, CM_EV_NO_ACTION, loc, sizeof(loc));
	static const char ver[] = "v";
	mini_add(&m, 0, CM_EV_S_CRTM_VERSION, ver, 1);
	struct cm_eventlog l;
	eventlog_parse_ok(cm_tpm_eventlog_parse, m.b, m.n, &l);
	uint8_t want[32] = {0}, d[32];
	want[31] = 3;
	cm_sha256(ver, 1, d);
	cm_pcr_extend(want, d);
	assert_memory_equal(l.pcr[0], want, 32);
	assert_int_equal(l.pcr_extends[0], 1);
	cm_eventlog_free(&l);
	/* Once PCR 0 is extended, a StartupLocality is an anomaly. */
	mini_add(&m, 0, CM_EV_NO_ACTION, loc, sizeof(loc));
	expect_mini_anomaly(&m, "StartupLocality after PCR 0 was extended");
}

static void test_tpm_log_anomalies(void **state)
{
	(void)state;
	struct mini m;
	mini_init(&m);
	static const uint8_t sep[4] = {0};
	mini_add(&m, 4, CM_EV_SEPARATOR, sep, 4);
	struct cm_eventlog l;
	eventlog_parse_ok(cm_tpm_eventlog_parse, m.b, m.n, &l);
	assert_string_equal(eventlog_anomalies(&l), "[ ]");
	cm_eventlog_free(&l);
	mini_add(&m, 4, CM_EV_SEPARATOR, sep, 4);
	mini_add(&m, 24, CM_EV_SEPARATOR, sep, 4);
	eventlog_parse_ok(cm_tpm_eventlog_parse, m.b, m.n, &l);
	assert_non_null(strstr(eventlog_anomalies(&l), "duplicate EV_SEPARATOR for PCR 4"));
	assert_non_null(strstr(eventlog_anomalies(&l), "PCR index 24 out of range"));
	assert_int_equal(l.pcr_extends[4], 2);
	cm_eventlog_free(&l);
	/* A separator whose digest is not the hash of its data. */
	mini_init(&m);
	mini_add(&m, 7, CM_EV_SEPARATOR, sep, 4);
	m.b[m.n - 1] = 1;
	expect_mini_anomaly(&m, "digest does not match its event data");
}

static void test_tpm_event_json_names_the_pcr(void **state)
{
	(void)state;
	struct cm_eventlog l;
	eventlog_parse_ok(cm_tpm_eventlog_parse, logbuf, loglen, &l);
	json_object *j = cm_event_to_json(&l.ev[25], 25);
	assert_int_equal(json_object_get_int(json_object_object_get(j, "pcr")), 9);
	assert_null(json_object_object_get(j, "imr"));
	assert_int_equal(strlen(json_object_get_string(json_object_object_get(j, "digest"))), 64);
	assert_non_null(strstr(json_object_get_string(json_object_object_get(j, "description")), "Linux initrd"));
	json_object_put(j);
	cm_eventlog_free(&l);
}

static void pcr_values_fail(const char *text, const char *why)
{
	uint8_t v[CM_TPM_PCRS][32];
	uint32_t mask;
	struct cm_err e = {0};
	assert_true(cm_pcr_values_parse((const uint8_t *)text, strlen(text), v, &mask, &e) < 0);
	if (!strstr(e.msg, why))
		fail_msg("'%s': error '%s' lacks '%s'", text, e.msg, why);
}

static void test_pcr_values_file(void **state)
{
	(void)state;
	static const char good[] =
		"# comment\n\n"
		"0 0101271704CCC2360DDBB08438D591C23FB8A0A9CB0CEBC60CEFEA7868833F8E\n"
		"  7 : 0xb5710bf57d25623e4019027da116821fa99f5c81e9e38b87671cc574f9281439  \r\n"
		"23=0000000000000000000000000000000000000000000000000000000000000000";
	uint8_t v[CM_TPM_PCRS][32];
	uint32_t mask;
	struct cm_err e = {0};
	assert_int_equal(cm_pcr_values_parse((const uint8_t *)good, strlen(good), v, &mask, &e), 0);
	assert_int_equal(mask, 1u | 1u << 7 | 1u << 23);
	assert_memory_equal(v[0], pcrs[0], 32);
	assert_memory_equal(v[7], pcrs[7], 32);
	pcr_values_fail("24 0000000000000000000000000000000000000000000000000000000000000000\n", "line 1: no PCR index");
	pcr_values_fail("x 00\n", "line 1: no PCR index");
	pcr_values_fail("\n1 00112233\n", "line 2: PCR 1 needs 64 hex digits");
	pcr_values_fail("1 0000000000000000000000000000000000000000000000000000000000000000 extra\n",
			"PCR 1 needs 64 hex digits");
	pcr_values_fail("1 000000000000000000000000000000000000000000000000000000000000000g\n",
			"PCR 1 needs 64 hex digits");
	pcr_values_fail("1 0000000000000000000000000000000000000000000000000000000000000000\n"
			"1 0000000000000000000000000000000000000000000000000000000000000000\n",
			"line 2: PCR 1 given twice");
}

/* cm_predict_tpm with the boot's kernel, cmdline, memory and an initrd of the booted size:
 * the kernel's PCR 4 event depends on the initrd's size only (QEMU's header patch). */
static void test_tpm_prediction_matches_the_boot(void **state)
{
	(void)state;
	uint8_t *k;
	size_t kl;
	struct cm_err e = {0};
	if (cm_read_file(BOOT_KERNEL, 64u << 20, &k, &kl, &e))
		fail_msg("%s (make guest-kernel)", e.msg);
	uint8_t ks[32];
	char ksh[65];
	cm_sha256(k, kl, ks);
	cm_hex_encode(ks, 32, ksh, sizeof(ksh));
	if (strcmp(ksh, BOOT_KERNEL_SHA256)) {
		/* the kernel is pinned (image lock): re-pinning it re-captures the golden boot, loudly */
		free(k);
		fail_msg("the pinned kernel (sha256 %s) is not the golden boot's (%s): regenerate tests/unit/golden/tpm "
			 "(docs/testing.md)",
			 ksh, BOOT_KERNEL_SHA256);
	}
	uint8_t *initrd = calloc(1, BOOT_INITRD_LEN);
	struct cm_predict_input in = {
		.kernel_mode = CM_KERNEL_QEMU_PATCHED, .mem = BOOT_MEM, .kernel = k, .kernel_len = kl,
		.initrd = initrd, .initrd_len = BOOT_INITRD_LEN, .cmdline = BOOT_CMDLINE};
	struct cm_prediction *p = malloc(sizeof(*p));
	assert_int_equal(cm_predict_tpm(&in, p, &e), 0);
	assert_int_equal(p->alg, CM_SHA256);
	for (int i = 2; i <= 8; i++) {
		assert_true(p->pcr_known[i]);
		assert_memory_equal(p->pcr[i], pcrs[i], 32);
	}
	/* PCR 9: the LoadOptions event equals the log's; the initrd event is of other bytes. */
	struct cm_eventlog l;
	eventlog_parse_ok(cm_tpm_eventlog_parse, logbuf, loglen, &l);
	size_t k9 = 0;
	for (size_t i = 0; i < p->n; i++)
		if (p->ev[i].reg == 9 && k9++ == 0)
			assert_memory_equal(p->ev[i].digest, l.ev[24].digest, 32);
	assert_int_equal(k9, 2);
	assert_memory_not_equal(p->pcr[9], pcrs[9], 32);
	/* PCR 0 and 1 are explained, not predicted, without a reference log ... */
	for (int i = 0; i <= 1; i++) {
		assert_false(p->pcr_known[i]);
		assert_non_null(strstr(p->pcr_unknown[i], "reference TPM log"));
	}
	assert_false(p->pcr_known[10]);
	assert_non_null(strstr(p->pcr_unknown[10], "IMA"));
	/* ... and taken from one when given. */
	struct cm_pevent ref[64];
	size_t nref = cm_pevents_from_log(&l, 0, ref, 64);
	assert_int_equal(nref, 4);
	nref += cm_pevents_from_log(&l, 1, ref + nref, 64 - nref);
	assert_int_equal(nref, 11);
	in.tpm_events = ref;
	in.n_tpm_events = nref;
	assert_int_equal(cm_predict_tpm(&in, p, &e), 0);
	for (int i = 0; i <= 1; i++) {
		assert_true(p->pcr_known[i]);
		assert_memory_equal(p->pcr[i], pcrs[i], 32);
	}
	/* PCR 1 from the ACPI blobs captured with the TPM attached (the reference log then
	 * only gives PCR 0): loader, rsdp, the TPM log area, tables, BootOrder, Boot0000,
	 * separator. */
	size_t tl, rl, ll;
	uint8_t *tables = read_golden("acpi-tables.bin", &tl), *rsdp = read_golden("acpi-rsdp.bin", &rl);
	uint8_t *loader = read_golden("acpi-table-loader.bin", &ll);
	struct cm_predict_input in1 = in;
	in1.acpi_tables = tables;
	in1.acpi_tables_len = tl;
	in1.rsdp = rsdp;
	in1.rsdp_len = rl;
	in1.loader = loader;
	in1.loader_len = ll;
	in1.tpm_events = NULL;
	in1.n_tpm_events = 0;
	struct cm_prediction *p1 = malloc(sizeof(*p1));
	assert_int_equal(cm_predict_tpm(&in1, p1, &e), 0);
	assert_false(p1->pcr_known[0]);
	assert_true(p1->pcr_known[1]);
	assert_memory_equal(p1->pcr[1], pcrs[1], 32);
	size_t n1 = 0;
	for (size_t i = 0; i < p1->n; i++)
		n1 += p1->ev[i].reg == 1;
	assert_int_equal(n1, 7);
	/* Without the captured loader (derived: no etc/tpm/log) PCR 1 is not predicted. */
	in1.loader = NULL;
	assert_int_equal(cm_predict_tpm(&in1, p1, &e), 0);
	assert_false(p1->pcr_known[1]);
	assert_non_null(strstr(p1->pcr_unknown[1], "table_loader"));
	free(p1);
	free(tables);
	free(rsdp);
	free(loader);
	/* The JSON: PCR index -> hex, the reasons, the events per PCR. */
	json_object *ev, *unknown, *o = cm_tpm_prediction_json(p, &ev, &unknown);
	assert_int_equal(json_object_object_length(o), 10);
	assert_int_equal(json_object_array_length(json_object_object_get(ev, "7")), 6);
	assert_null(json_object_object_get(ev, "8"));
	assert_non_null(json_object_object_get(unknown, "17"));
	json_object_put(o);
	json_object_put(ev);
	json_object_put(unknown);
	cm_eventlog_free(&l);
	free(p);
	free(initrd);
	free(k);
}

/* The TPM prediction needs the kernel (PCR 4, 9). */
static void test_tpm_prediction_needs_a_kernel(void **state)
{
	(void)state;
	struct cm_predict_input in = {.mem = BOOT_MEM};
	struct cm_prediction *p = malloc(sizeof(*p));
	struct cm_err e = {0};
	assert_true(cm_predict_tpm(&in, p, &e) < 0);
	assert_non_null(strstr(e.msg, "kernel"));
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tpm_log_replays_to_the_booted_pcrs),
		cmocka_unit_test(test_tpm_log_one_bit_changes_the_replay),
		cmocka_unit_test(test_tpm_log_truncated_anywhere_is_an_error_or_a_prefix),
		cmocka_unit_test(test_tpm_log_needs_the_sha256_bank),
		cmocka_unit_test(test_tpm_log_startup_locality_sets_pcr0),
		cmocka_unit_test(test_tpm_log_anomalies),
		cmocka_unit_test(test_tpm_event_json_names_the_pcr),
		cmocka_unit_test(test_pcr_values_file),
		cmocka_unit_test(test_tpm_prediction_matches_the_boot),
		cmocka_unit_test(test_tpm_prediction_needs_a_kernel),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
