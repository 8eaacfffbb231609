/* CCEL table + TCG2 event log parsing, replay and anomaly detection on the real
 * go-tdx-guest fixture (COS 113 TD) and mutations of it. */
#include <stdlib.h>
#include <string.h>

#include "measure/core/measurements.h"
#include "measure/dcap/quote.h"
#include "measure/eventlog/eventlog.h"
#include "tests/unit/test_patch.h"
#include "tests/unit/test_eventlog.h"
#include "tests/unit/testutil.h"

#define LOG_END 18101 /* fixtures README §2 */

static uint8_t *logbuf, *tab;
static size_t loglen, tablen;

static int setup(void **state)
{
	(void)state;
	logbuf = fixture_read("tdx/ccel/ccel_data.dat", &loglen);
	tab = fixture_read("tdx/ccel/ccel_table.dat", &tablen);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(logbuf);
	free(tab);
	return 0;
}

static uint8_t *dup_log(void)
{
	uint8_t *c = malloc(loglen);
	memcpy(c, logbuf, loglen);
	return c;
}

static void test_ccel_table_fields(void **state)
{
	(void)state;
	struct cm_ccel_table t;
	struct cm_err e = {0};
	assert_int_equal(cm_ccel_table_parse(tab, tablen, &t, &e), 0);
	assert_int_equal(t.revision, 1);
	assert_int_equal(t.cc_type, 2);
	assert_int_equal(t.cc_subtype, 0);
	assert_int_equal(t.laml, 262144);
	assert_int_equal(t.lasa, 0xbedbf000);
	assert_string_equal(t.oem_id, "INTEL ");
	assert_true(t.checksum_ok);
}

static void test_ccel_table_rejects_bad_tables(void **state)
{
	(void)state;
	struct cm_ccel_table t;
	struct cm_err e = {0};
	uint8_t c[56];
	assert_true(cm_ccel_table_parse(tab, 55, &t, &e) < 0);
	assert_non_null(strstr(e.msg, "truncated"));
	memcpy(c, tab, 56);
	c[0] = 'X';
	assert_true(cm_ccel_table_parse(c, 56, &t, &e) < 0);
	assert_non_null(strstr(e.msg, "signature"));
	memcpy(c, tab, 56);
	c[50] ^= 1;
	assert_true(cm_ccel_table_parse(c, 56, &t, &e) < 0);
	assert_non_null(strstr(e.msg, "checksum"));
	memcpy(c, tab, 56);
	c[4] = 60;
	assert_true(cm_ccel_table_parse(c, 56, &t, &e) < 0);
	assert_non_null(strstr(e.msg, "length"));
	memcpy(c, tab, 56);
	c[36] = 1; /* SEV */
	c[9] = (uint8_t)(c[9] + 1);
	assert_true(cm_ccel_table_parse(c, 56, &t, &e) < 0);
	assert_non_null(strstr(e.msg, "TDX"));
}

static void test_replay_matches_readme_and_quote(void **state)
{
	(void)state;
	struct cm_eventlog l;
	struct cm_err e = {0};
	eventlog_parse_ok(cm_eventlog_parse, logbuf, loglen, &l);
	assert_hex_equal(l.rtmr[0], "3fa2f61f395b7f5feefb4ec2df61297f109ad8abcd6410c1b7df60f21f37b19297fc35e544039c7e1edece752afd17f6");
	assert_hex_equal(l.rtmr[1], "f62dbc072bd5d3f3438b7b35c39a727f5aea2ffc2473f43723953f530daf62504f0a7944aa62c41a86e8a878c2b122c1");
	assert_hex_equal(l.rtmr[2], "4969684dc87381fc3b3134176c8d8806eaf0a901859f5f70cfae8d17714b46c10a8de219048c9fc09f11f381a6fbe7c1");
	uint8_t zero[48] = {0};
	assert_memory_equal(l.rtmr[3], zero, 48);
	size_t qlen;
	uint8_t *qb = fixture_read("tdx/ccel/cos-113-tdx-quote.dat", &qlen);
	struct cm_quote q;
	struct cm_td_regs r;
	assert_int_equal(cm_quote_parse(qb, qlen, &q, &e), 0);
	assert_int_equal(cm_quote_td_regs(&q, &r), 0);
	for (int i = 0; i < 4; i++)
		assert_memory_equal(l.rtmr[i], r.rtmr[i], 48);
	free(qb);
	cm_eventlog_free(&l);
}

static void test_structure_counts_and_padding(void **state)
{
	(void)state;
	struct cm_eventlog l;
	eventlog_parse_ok(cm_eventlog_parse, logbuf, loglen, &l);
	assert_int_equal(l.n, 43);
	assert_int_equal(l.extends[0], 16);
	assert_int_equal(l.extends[1], 7);
	assert_int_equal(l.extends[2], 20);
	assert_int_equal(l.extends[3], 0);
	assert_int_equal(l.end, LOG_END);
	assert_true(l.end_marker);
	assert_int_equal(l.padding, loglen - LOG_END);
	assert_int_equal(l.nalgs, 1);
	assert_int_equal(l.alg_id[0], 0x000c);
	assert_int_equal(json_object_array_length(l.anomalies), 0);
	unsigned sep[4] = {0};
	for (size_t i = 0; i < l.n; i++)
		if (l.ev[i].type == CM_EV_SEPARATOR)
			sep[l.ev[i].mr_index - 1]++;
	assert_int_equal(sep[0], 1);
	assert_int_equal(sep[1], 1);
	cm_eventlog_free(&l);
}

static void expect_desc(const struct cm_eventlog *l, size_t i, const char *type, const char *desc)
{
	char d[512];
	cm_event_describe(&l->ev[i], d, sizeof(d));
	assert_string_equal(cm_event_type_name(l->ev[i].type), type);
	if (!strstr(d, desc))
		fail_msg("event %zu: '%s' lacks '%s'", i, d, desc);
}

static void test_events_decode(void **state)
{
	(void)state;
	struct cm_eventlog l;
	eventlog_parse_ok(cm_eventlog_parse, logbuf, loglen, &l);
	expect_desc(&l, 0, "EV_EFI_HANDOFF_TABLES2", "TdxTable");
	expect_desc(&l, 1, "EV_EFI_PLATFORM_FIRMWARE_BLOB2", "base 0xffe00000, 0x20000 bytes");
	expect_desc(&l, 2, "EV_EFI_VARIABLE_DRIVER_CONFIG", "SecureBoot = 0");
	expect_desc(&l, 3, "EV_EFI_VARIABLE_DRIVER_CONFIG", "PK");
	expect_desc(&l, 6, "EV_EFI_VARIABLE_DRIVER_CONFIG", "dbx");
	expect_desc(&l, 7, "EV_SEPARATOR", "separator");
	expect_desc(&l, 8, "EV_PLATFORM_CONFIG_FLAGS", "ACPI DATA");
	expect_desc(&l, 11, "EV_EFI_VARIABLE_BOOT", "BootOrder = 0001,0000");
	expect_desc(&l, 13, "EV_EFI_VARIABLE_BOOT", "Boot0000: UiApp");
	expect_desc(&l, 14, "EV_EFI_ACTION", "Calling EFI Application from Boot Option");
	expect_desc(&l, 16, "EV_EFI_GPT_EVENT", "GPT");
	expect_desc(&l, 17, "EV_EFI_BOOT_SERVICES_APPLICATION", "\\EFI\\BOOT\\BOOTX64.EFI");
	expect_desc(&l, 20, "EV_EFI_VARIABLE_AUTHORITY", "SbatLevel");
	expect_desc(&l, 38, "EV_IPL", "grub_cmd: linux /syslinux/vmlinuz.A");
	expect_desc(&l, 42, "EV_EFI_ACTION", "Exit Boot Services Returned with Success");
	assert_int_equal(l.ev[14].content_check, 1);
	assert_int_equal(l.ev[13].content_check, 1);
	json_object *j = cm_event_to_json(&l.ev[7], 7);
	assert_string_equal(json_object_get_string(json_object_object_get(j, "type_name")), "EV_SEPARATOR");
	assert_int_equal(json_object_get_int(json_object_object_get(j, "imr")), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(j, "content_check")), "match");
	json_object_put(j);
	cm_eventlog_free(&l);
}

static void test_truncation_anywhere_fails_with_offset_or_ends_at_boundary(void **state)
{
	(void)state;
	struct cm_eventlog full;
	eventlog_parse_ok(cm_eventlog_parse, logbuf, loglen, &full);
	size_t boundaries = 0, errors = 0;
	for (size_t cut = 0; cut <= LOG_END; cut += (cut < 400 ? 1 : 13)) {
		struct cm_eventlog l;
		struct cm_err ce = {0};
		int rc = cm_eventlog_parse(logbuf, cut, &l, &ce);
		int boundary = cut == LOG_END;
		for (size_t i = 0; i < full.n; i++)
			if (full.ev[i].offset == cut)
				boundary = 1;
		if (boundary) {
			assert_int_equal(rc, 0);
			assert_false(l.end_marker);
			boundaries++;
		} else {
			assert_true(rc < 0);
			if (!strstr(ce.msg, "offset"))
				fail_msg("cut %zu: error without offset: %s", cut, ce.msg);
			errors++;
		}
		cm_eventlog_free(&l);
	}
	assert_true(boundaries >= 2);
	assert_true(errors > 1000);
	/* Exactly at each event boundary: a prefix replay. */
	struct cm_eventlog l;
	eventlog_parse_ok(cm_eventlog_parse, logbuf, full.ev[8].offset, &l);
	assert_int_equal(l.n, 8);
	assert_int_equal(l.extends[0], 8);
	cm_eventlog_free(&l);
	cm_eventlog_free(&full);
}

static void test_duplicate_separator_reported(void **state)
{
	(void)state;
	/* Insert a copy of the RTMR0 separator event (70 bytes at 8577) right after it. */
	size_t at = 8577, n = 8647 - 8577;
	uint8_t *c = malloc(loglen);
	memcpy(c, logbuf, at + n);
	memcpy(c + at + n, logbuf + at, n);
	memcpy(c + at + 2 * n, logbuf + at + n, loglen - at - 2 * n);
	struct cm_eventlog l;
	eventlog_parse_ok(cm_eventlog_parse, c, loglen, &l);
	assert_int_equal(l.n, 44);
	assert_non_null(strstr(eventlog_anomalies(&l), "duplicate EV_SEPARATOR for RTMR0"));
	cm_eventlog_free(&l);
	free(c);
}

static void test_digest_data_mismatch_reported(void **state)
{
	(void)state;
	uint8_t *c = dup_log();
	c[9378 + 62 + 4] ^= 0x20; /* 'C' of "Calling EFI Application..." */
	struct cm_eventlog l;
	eventlog_parse_ok(cm_eventlog_parse, c, loglen, &l);
	assert_int_equal(l.ev[14].content_check, -1);
	assert_non_null(strstr(eventlog_anomalies(&l), "event 14 at offset 9378 (EV_EFI_ACTION): digest does not match"));
	/* The replay itself is unchanged: only digests are extended. */
	assert_hex_equal(l.rtmr[1], "f62dbc072bd5d3f3438b7b35c39a727f5aea2ffc2473f43723953f530daf62504f0a7944aa62c41a86e8a878c2b122c1");
	cm_eventlog_free(&l);
	free(c);
}

static void test_padding_variants(void **state)
{
	(void)state;
	uint8_t *c = dup_log();
	struct cm_eventlog l;
	c[LOG_END + 1000] = 0x00; /* junk inside the 0xFF fill */
	eventlog_parse_ok(cm_eventlog_parse, c, loglen, &l);
	assert_non_null(strstr(eventlog_anomalies(&l), "non-padding byte 0x00 at offset 19101"));
	cm_eventlog_free(&l);
	memset(c + LOG_END, 0, loglen - LOG_END); /* zero fill instead of 0xFF */
	eventlog_parse_ok(cm_eventlog_parse, c, loglen, &l);
	assert_false(l.end_marker);
	assert_int_equal(l.padding, loglen - LOG_END);
	assert_int_equal(l.n, 43);
	cm_eventlog_free(&l);
	/* Three 0xFF bytes after the last event: padding, not a truncated event. */
	eventlog_parse_ok(cm_eventlog_parse, logbuf, LOG_END + 3, &l);
	assert_true(l.end_marker);
	assert_int_equal(l.padding, 3);
	cm_eventlog_free(&l);
	/* Unpadded: log ends right after the last event. */
	eventlog_parse_ok(cm_eventlog_parse, logbuf, LOG_END, &l);
	assert_int_equal(l.padding, 0);
	assert_int_equal(l.n, 43);
	cm_eventlog_free(&l);
	free(c);
}

/* cm_eventlog_parse as a test_parse_fn. */
static int eventlog_parse(const uint8_t *buf, size_t len, struct cm_err *e)
{
	struct cm_eventlog l;
	int rc = cm_eventlog_parse(buf, len, &l, e);
	cm_eventlog_free(&l);
	return rc;
}

static void test_bad_headers_fail_naming_offset(void **state)
{
	(void)state;
	const struct test_patch patches[] = {
		{32, 1, 'X', "Spec ID Event03"},
		{4, 1, 1, "offset 0"},                                      /* first event not EV_NO_ACTION */
		{60, 2, 0x000b, "no SHA-384"},                              /* Spec ID lists SHA-256 instead of SHA-384 */
		{62, 2, 32, "digest size"},                                 /* SHA-384 with 32-byte digests */
		{65 + 12, 2, 0x0004, "event at offset 65: algorithm 0x0004"}, /* event 0 digest algorithm SHA-1 */
		{65 + 8, 4, 3, "event at offset 65: digest count 3"},       /* digest count */
		{65 + 62, 4, 0x7fffffff, "event at offset 65 truncated"},   /* event size far beyond the log */
	};
	test_patches_expect(eventlog_parse, logbuf, loglen, patches, sizeof(patches) / sizeof(patches[0]));
}

static void test_out_of_range_mr_index_not_replayed(void **state)
{
	(void)state;
	uint8_t *c = dup_log();
	cm_put_le32(c + 173, 7);
	struct cm_eventlog l;
	eventlog_parse_ok(cm_eventlog_parse, c, loglen, &l);
	assert_int_equal(l.extends[0], 15);
	assert_non_null(strstr(eventlog_anomalies(&l), "MR index 7 out of range"));
	cm_eventlog_free(&l);
	free(c);
}

static void test_many_events_grow_the_array(void **state)
{
	(void)state;
	/* Spec ID header (65 bytes) + 150 copies of the "Calling EFI Application" event. */
	size_t ev0 = 9378, evn = 9484 - 9378, n = 150;
	size_t len = 65 + n * evn;
	uint8_t *c = malloc(len);
	memcpy(c, logbuf, 65);
	for (size_t i = 0; i < n; i++)
		memcpy(c + 65 + i * evn, logbuf + ev0, evn);
	struct cm_eventlog l;
	eventlog_parse_ok(cm_eventlog_parse, c, len, &l);
	assert_int_equal(l.n, n);
	assert_int_equal(l.extends[1], n);
	assert_int_equal(l.ev[n - 1].offset, 65 + (n - 1) * evn);
	assert_int_equal(json_object_array_length(l.anomalies), 0);
	cm_eventlog_free(&l);
	free(c);
}

static void test_bad_spec_id_algorithm_list(void **state)
{
	(void)state;
	const struct test_patch patches[] = {
		{56, 4, 0, "algorithm count 0 at offset 56"},                 /* numberOfAlgorithms */
		{64, 1, 0xff, "vendor info"},                                 /* vendorInfoSize beyond the Spec ID event */
		{28, 4, 0x7fffffff, "Spec ID event at offset 0 truncated"}, /* Spec ID event size */
	};
	test_patches_expect(eventlog_parse, logbuf, loglen, patches, sizeof(patches) / sizeof(patches[0]));
	test_expect_refused(eventlog_parse, logbuf, 20, "offset 0");
}

/* Rebuild the fixture as a SHA-256 + SHA-384 crypto-agile log (as vTPM firmware
 * writes); event `only256` (if < n) carries the SHA-256 digest alone. */
static uint8_t *two_alg_log(size_t *outlen, size_t only256)
{
	struct cm_eventlog l;
	eventlog_parse_ok(cm_eventlog_parse, logbuf, loglen, &l);
	uint8_t *b = calloc(1, loglen + l.n * 64 + 64);
	size_t p = 0;
	/* Spec ID event: header of the fixture, algorithm list {0x000b/32, 0x000c/48}. */
	uint32_t sz0 = cm_le32(logbuf + 28);
	memcpy(b, logbuf, 32 + 28); /* header + Spec ID up to numberOfAlgorithms */
	p = 32 + 24;
	cm_put_le32(b + p, 2);
	cm_put_le16(b + p + 4, 0x000b);
	cm_put_le16(b + p + 6, 32);
	cm_put_le16(b + p + 8, 0x000c);
	cm_put_le16(b + p + 10, 48);
	size_t vend = 32 + 28 + 4; /* vendorInfoSize in the fixture */
	size_t vlen = 1 + logbuf[vend];
	memcpy(b + p + 12, logbuf + vend, vlen);
	p += 12 + vlen;
	cm_put_le32(b + 28, (uint32_t)(p - 32));
	assert_true(p - 32 == sz0 + 4);
	for (size_t i = 0; i < l.n; i++) {
		const struct cm_event *ev = &l.ev[i];
		cm_put_le32(b + p, ev->mr_index);
		cm_put_le32(b + p + 4, ev->type);
		cm_put_le32(b + p + 8, i == only256 ? 1 : 2);
		p += 12;
		cm_put_le16(b + p, 0x000b);
		memset(b + p + 2, 0x5a, 32);
		p += 34;
		if (i != only256) {
			cm_put_le16(b + p, 0x000c);
			memcpy(b + p + 2, ev->digest, 48);
			p += 50;
		}
		cm_put_le32(b + p, ev->data_len);
		memcpy(b + p + 4, ev->data, ev->data_len);
		p += 4 + ev->data_len;
	}
	cm_eventlog_free(&l);
	*outlen = p;
	return b;
}

static void test_two_algorithm_log_replays_sha384(void **state)
{
	(void)state;
	size_t len;
	uint8_t *b = two_alg_log(&len, (size_t)-1);
	struct cm_eventlog l;
	struct cm_err e = {0};
	eventlog_parse_ok(cm_eventlog_parse, b, len, &l);
	assert_int_equal(l.nalgs, 2);
	assert_int_equal(l.n, 43);
	assert_hex_equal(l.rtmr[0], "3fa2f61f395b7f5feefb4ec2df61297f109ad8abcd6410c1b7df60f21f37b19297fc35e544039c7e1edece752afd17f6");
	assert_int_equal(l.padding, 0);
	cm_eventlog_free(&l);
	free(b);
	b = two_alg_log(&len, 5);
	assert_true(cm_eventlog_parse(b, len, &l, &e) < 0);
	assert_non_null(strstr(e.msg, "has no SHA-384 digest"));
	cm_eventlog_free(&l);
	free(b);
}

static void test_event_type_names(void **state)
{
	(void)state;
	assert_string_equal(cm_event_type_name(CM_EV_EFI_VARIABLE_BOOT2), "EV_EFI_VARIABLE_BOOT2");
	assert_string_equal(cm_event_type_name(CM_EV_S_CRTM_VERSION), "EV_S_CRTM_VERSION");
	assert_string_equal(cm_event_type_name(0x1234), "EV_UNKNOWN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ccel_table_fields),
		cmocka_unit_test(test_ccel_table_rejects_bad_tables),
		cmocka_unit_test(test_replay_matches_readme_and_quote),
		cmocka_unit_test(test_structure_counts_and_padding),
		cmocka_unit_test(test_events_decode),
		cmocka_unit_test(test_truncation_anywhere_fails_with_offset_or_ends_at_boundary),
		cmocka_unit_test(test_duplicate_separator_reported),
		cmocka_unit_test(test_digest_data_mismatch_reported),
		cmocka_unit_test(test_padding_variants),
		cmocka_unit_test(test_bad_headers_fail_naming_offset),
		cmocka_unit_test(test_out_of_range_mr_index_not_replayed),
		cmocka_unit_test(test_many_events_grow_the_array),
		cmocka_unit_test(test_bad_spec_id_algorithm_list),
		cmocka_unit_test(test_two_algorithm_log_replays_sha384),
		cmocka_unit_test(test_event_type_names),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
