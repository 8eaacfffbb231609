/* capture-acpi: the probe's serial wire format (round trip with a real ACPI blob captured
 * inside a live TD), its failure modes, the fw_cfg directory parser of the probe's port
 * I/O path, and the files capture-acpi writes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host-launcher/acpi.h"
#include "host-launcher/acpi_wire.h"
#include "host-launcher/config.h"
#include "measure/core/digest.h"
#include "tests/unit/testutil.h"

#define TABLES_FIXTURE "tdx/measure/runtime-capture/acpi_tables.bin"
#define TABLES_SHA256 "1bc93916604961f79487bc4a2f99ea9c23d35b5090305027708bdf727369a0e1"

struct blobs {
	uint8_t *p[3];
	size_t n[3];
};

static void make_blobs(struct blobs *b)
{
	b->p[0] = fixture_read(TABLES_FIXTURE, &b->n[0]);
	/* RSDP revision 0 as QEMU writes it before patching (measurement.md 3.4) */
	static uint8_t rsdp[20] = { 'R', 'S', 'D', ' ', 'P', 'T', 'R', ' ', 0, 'B', 'O', 'C', 'H', 'S', ' ', 0, 0x40, 0x12, 0, 0 };
	b->p[1] = malloc(20);
	memcpy(b->p[1], rsdp, 20);
	b->n[1] = 20;
	/* a loader with one ALLOCATE command */
	b->n[2] = 4096;
	b->p[2] = calloc(1, 4096);
	b->p[2][0] = 1;
	memcpy(b->p[2] + 4, "etc/acpi/rsdp", 13);
}

static void free_blobs(struct blobs *b)
{
	for (int i = 0; i < 3; i++)
		free(b->p[i]);
}

/* What cocoon-acpi-probe writes, with optional damage. */
static char *stream(const struct blobs *b, const char *inject_after_first_data, int drop_line, int corrupt_line)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	fputs("[    0.000000] Linux version 6.16\n", f);
	int line = 0;
	for (int i = 0; i < 3; i++) {
		fprintf(f, "COCOON-ACPI-BEGIN %s %zu\n", cl_acpi_blob_names[i], b->n[i]);
		for (size_t off = 0; off < b->n[i]; off += 64) {
			char l[256];
			size_t take = b->n[i] - off < 64 ? b->n[i] - off : 64;
			cl_acpi_format_data(cl_acpi_blob_names[i], (uint32_t)off, b->p[i] + off, take, l);
			line++;
			if (line == drop_line)
				continue;
			if (line == corrupt_line)
				l[strlen(l) - 2] = 'G';
			fputs(l, f);
			if (line == 1 && inject_after_first_data)
				fputs(inject_after_first_data, f);
		}
		fprintf(f, "COCOON-ACPI-END %s\n", cl_acpi_blob_names[i]);
	}
	fputs("COCOON-ACPI-DONE ports 3\n", f);
	fclose(f);
	return out;
}

static void wire_round_trips_a_real_acpi_blob(void **s)
{
	(void)s;
	struct blobs b;
	make_blobs(&b);
	assert_int_equal(b.n[0], 131072);
	char *text = stream(&b, "[    1.234567] random: crng init done\n", 0, 0);
	struct cl_acpi_blobs got;
	char msg[256] = "";
	int r = cl_acpi_parse_log(text, strlen(text), &got, msg, sizeof(msg));
	if (r < 0)
		fail_msg("%s", msg);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(got.size[i], b.n[i]);
		assert_memory_equal(got.data[i], b.p[i], b.n[i]);
	}
	uint8_t d[32];
	cm_sha256(got.data[0], got.size[0], d);
	char hex[65];
	cm_hex_encode(d, 32, hex, sizeof(hex));
	assert_string_equal(hex, TABLES_SHA256);
	cl_acpi_blobs_free(&got);
	free(text);
	free_blobs(&b);
}

/* The stream of the test blobs, with a line dropped or garbled (0: none). */
static char *damaged_stream(int drop_line, int corrupt_line)
{
	struct blobs b;
	make_blobs(&b);
	char *text = stream(&b, NULL, drop_line, corrupt_line);
	free_blobs(&b);
	return text;
}

/* cl_acpi_parse_log refuses text, with its message in msg[cap]. */
static void parse_log_fails(const char *text, char *msg, size_t cap)
{
	struct cl_acpi_blobs got;
	assert_true(cl_acpi_parse_log(text, strlen(text), &got, msg, cap) < 0);
	cl_acpi_blobs_free(&got);
}

/* The stream with a line dropped or garbled is refused with a message containing needle. */
static void expect_damage_refused(int drop_line, int corrupt_line, const char *needle)
{
	char *text = damaged_stream(drop_line, corrupt_line);
	char msg[256];
	parse_log_fails(text, msg, sizeof(msg));
	if (!strstr(msg, needle))
		fail_msg("'%s' lacks '%s'", msg, needle);
	free(text);
}

static void wire_rejects_a_lost_line(void **s)
{
	(void)s;
	expect_damage_refused(7, 0, "etc/acpi/tables data at offset 0x1c0, expected 0x180");
}

static void wire_rejects_garbled_hex(void **s)
{
	(void)s;
	expect_damage_refused(0, 3, "not lowercase hex");
}

static void wire_rejects_a_truncated_capture(void **s)
{
	(void)s;
	char *text = damaged_stream(0, 0);
	char *cut = strstr(text, "COCOON-ACPI-BEGIN etc/table-loader");
	assert_non_null(cut);
	*cut = 0;
	char msg[256];
	parse_log_fails(text, msg, sizeof(msg));
	assert_string_equal(msg, "etc/table-loader was not captured (probe did not run or did not finish)");
	free(text);
}

static void wire_reports_probe_errors(void **s)
{
	(void)s;
	const char *text = "boot\nCOCOON-ACPI-ERROR etc/acpi/tables (errno 2)\n";
	struct cl_acpi_blobs got;
	char msg[256];
	assert_true(cl_acpi_parse_log(text, strlen(text), &got, msg, sizeof(msg)) < 0);
	assert_string_equal(msg, "probe reported: etc/acpi/tables (errno 2)");
	assert_string_equal(got.error, "etc/acpi/tables (errno 2)");
	cl_acpi_blobs_free(&got);
}

static void wire_rejects_size_mismatch(void **s)
{
	(void)s;
	char msg[256];
	parse_log_fails("COCOON-ACPI-BEGIN etc/acpi/rsdp 20\n"
			"COCOON-ACPI-DATA etc/acpi/rsdp 00000000 52534420\n"
			"COCOON-ACPI-END etc/acpi/rsdp\n",
			msg, sizeof(msg));
	assert_non_null(strstr(msg, "etc/acpi/rsdp ended after 4 of 20 bytes"));
}

static void fwcfg_directory_lookup(void **s)
{
	(void)s;
	uint8_t dir[4 + 3 * 64];
	memset(dir, 0, sizeof(dir));
	dir[3] = 3;
	const char *names[3] = { "etc/acpi/rsdp", "etc/acpi/tables", "etc/table-loader" };
	const uint16_t sels[3] = { 0x0022, 0x0023, 0x0024 };
	const uint32_t sizes[3] = { 20, 131072, 4096 };
	for (int i = 0; i < 3; i++) {
		uint8_t *e = dir + 4 + 64 * i;
		e[0] = (uint8_t)(sizes[i] >> 24);
		e[1] = (uint8_t)(sizes[i] >> 16);
		e[2] = (uint8_t)(sizes[i] >> 8);
		e[3] = (uint8_t)sizes[i];
		e[4] = (uint8_t)(sels[i] >> 8);
		e[5] = (uint8_t)sels[i];
		memcpy(e + 8, names[i], strlen(names[i]));
	}
	uint16_t sel;
	uint32_t size;
	assert_int_equal(cl_fwcfg_find(dir, sizeof(dir), "etc/acpi/tables", &sel, &size), 0);
	assert_int_equal(sel, 0x23);
	assert_int_equal(size, 131072);
	assert_int_equal(cl_fwcfg_find(dir, sizeof(dir), "etc/acpi", &sel, &size), -ENOENT);
	dir[3] = 4; /* count larger than the buffer */
	assert_int_equal(cl_fwcfg_find(dir, sizeof(dir), "etc/acpi/tables", &sel, &size), -EINVAL);
}

static void capture_writes_blobs_and_json(void **s)
{
	(void)s;
	struct blobs b;
	make_blobs(&b);
	char *text = stream(&b, NULL, 0, 0);
	struct cl_acpi_blobs got;
	char msg[256];
	assert_int_equal(cl_acpi_parse_log(text, strlen(text), &got, msg, sizeof(msg)), 0);
	struct cl_config c;
	cl_config_init(&c);
	c.vcpus = 8;
	c.memory = 16ull << 30;
	snprintf(c.image_dir, sizeof(c.image_dir), "/srv/img");
	snprintf(c.spec_dir, sizeof(c.spec_dir), "/srv/spec");
	char *dir = test_tmpdir();
	struct cm_err e = { 0 };
	assert_int_equal(cl_acpi_write(&c, &got, "console=hvc0", dir, &e), 0);
	char p[512];
	snprintf(p, sizeof(p), "%s/tables.bin", dir);
	uint8_t *buf;
	size_t len;
	assert_int_equal(cm_read_file(p, 1 << 20, &buf, &len, &e), 0);
	assert_int_equal(len, 131072);
	assert_memory_equal(buf, b.p[0], len);
	free(buf);
	snprintf(p, sizeof(p), "%s/acpi.json", dir);
	assert_int_equal(cm_read_file(p, 1 << 20, &buf, &len, &e), 0);
	assert_non_null(strstr((char *)buf, TABLES_SHA256));
	assert_non_null(strstr((char *)buf, "\"tdx\": false"));
	free(buf);
	snprintf(p, sizeof(p), "%s/VM.json", dir);
	assert_int_equal(cm_read_file(p, 1 << 20, &buf, &len, &e), 0);
	assert_non_null(strstr((char *)buf, "\"firmware\": \"/srv/img/OVMF.fd\""));
	assert_non_null(strstr((char *)buf, "\"acpi_tables\": \"tables.bin\""));
	assert_non_null(strstr((char *)buf, "\"memory\": 17179869184"));
	assert_non_null(strstr((char *)buf, "\"cmdline\": \"console=hvc0\""));
	free(buf);
	cl_acpi_blobs_free(&got);
	free(text);
	free(dir);
	free_blobs(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(wire_round_trips_a_real_acpi_blob),
		cmocka_unit_test(wire_rejects_a_lost_line),
		cmocka_unit_test(wire_rejects_garbled_hex),
		cmocka_unit_test(wire_rejects_a_truncated_capture),
		cmocka_unit_test(wire_reports_probe_errors),
		cmocka_unit_test(wire_rejects_size_mismatch),
		cmocka_unit_test(fwcfg_directory_lookup),
		cmocka_unit_test(capture_writes_blobs_and_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
