/* ACPI capture wire format (no library dependencies: linked into the static probe). */
#include "host-launcher/acpi_wire.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const cl_acpi_blob_names[CL_ACPI_NBLOBS] = {
	"etc/acpi/tables", "etc/acpi/rsdp", "etc/table-loader",
};
const char *const cl_acpi_blob_files[CL_ACPI_NBLOBS] = {
	"tables.bin", "rsdp.bin", "table-loader.bin",
};

static const char hexd[] = "0123456789abcdef";

size_t cl_acpi_format_data(const char *name, uint32_t off, const uint8_t *p, size_t n, char *out)
{
	size_t k = (size_t)sprintf(out, "COCOON-ACPI-DATA %s %08x ", name, (unsigned)off);
	for (size_t i = 0; i < n; i++) {
		out[k++] = hexd[p[i] >> 4];
		out[k++] = hexd[p[i] & 15];
	}
	out[k++] = '\n';
	out[k] = 0;
	return k;
}

int cl_fwcfg_find(const uint8_t *dir, size_t len, const char *name, uint16_t *select, uint32_t *size)
{
	if (len < 4)
		return -EINVAL;
	uint32_t count = (uint32_t)dir[0] << 24 | (uint32_t)dir[1] << 16 | (uint32_t)dir[2] << 8 | dir[3];
	if (count > (len - 4) / 64)
		return -EINVAL;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = dir + 4 + 64 * (size_t)i;
		char fname[57];
		memcpy(fname, e + 8, 56);
		fname[56] = 0;
		if (strcmp(fname, name) == 0) {
			*size = (uint32_t)e[0] << 24 | (uint32_t)e[1] << 16 | (uint32_t)e[2] << 8 | e[3];
			*select = (uint16_t)(e[4] << 8 | e[5]);
			return 0;
		}
	}
	return -ENOENT;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

void cl_acpi_blobs_free(struct cl_acpi_blobs *b)
{
	for (int i = 0; i < CL_ACPI_NBLOBS; i++) {
		free(b->data[i]);
		b->data[i] = NULL;
	}
}

static int blob_index(const char *name, size_t n)
{
	for (int i = 0; i < CL_ACPI_NBLOBS; i++)
		if (strlen(cl_acpi_blob_names[i]) == n && !memcmp(cl_acpi_blob_names[i], name, n))
			return i;
	return -1;
}

#define FAIL(...)                                         \
	do {                                              \
		snprintf(msg, msgsz, __VA_ARGS__);        \
		return -EBADMSG;                          \
	} while (0)

int cl_acpi_parse_log(const char *text, size_t len, struct cl_acpi_blobs *b, char *msg, size_t msgsz)
{
	memset(b, 0, sizeof(*b));
	uint32_t next[CL_ACPI_NBLOBS] = { 0 };
	bool begun[CL_ACPI_NBLOBS] = { false }, ended[CL_ACPI_NBLOBS] = { false };
	size_t pos = 0;
	unsigned lineno = 0;
	while (pos < len) {
		size_t end = pos;
		while (end < len && text[end] != '\n')
			end++;
		const char *l = text + pos;
		size_t ll = end - pos;
		pos = end + 1;
		lineno++;
		while (ll && (l[ll - 1] == '\r'))
			ll--;
		/* The marker may follow other text on the line (a console prefix); find it. */
		const char *m = memmem(l, ll, "COCOON-ACPI-", 12);
		if (!m)
			continue;
		ll -= (size_t)(m - l);
		l = m;
		char line[512];
		if (ll >= sizeof(line))
			FAIL("serial line %u: over-long capture line", lineno);
		memcpy(line, l, ll);
		line[ll] = 0;
		char name[64];
		unsigned long a;
		int n = 0;
		if (!strncmp(line, "COCOON-ACPI-ERROR ", 18)) {
			snprintf(b->error, sizeof(b->error), "%.200s", line + 18);
			FAIL("probe reported: %.200s", line + 18);
		} else if (sscanf(line, "COCOON-ACPI-BEGIN %63s %lu%n", name, &a, &n) == 2 && line[n] == 0) {
			int i = blob_index(name, strlen(name));
			if (i < 0)
				FAIL("serial line %u: unknown blob %s", lineno, name);
			if (begun[i])
				FAIL("serial line %u: %s begins twice", lineno, name);
			if (a == 0 || a > CL_ACPI_BLOB_MAX)
				FAIL("serial line %u: %s has bad size %lu", lineno, name, a);
			b->data[i] = malloc(a);
			if (!b->data[i])
				FAIL("out of memory");
			b->size[i] = (uint32_t)a;
			begun[i] = true;
		} else if (sscanf(line, "COCOON-ACPI-DATA %63s %8lx %n", name, &a, &n) == 2) {
			int i = blob_index(name, strlen(name));
			if (i < 0 || !begun[i] || ended[i])
				FAIL("serial line %u: data for %s outside BEGIN/END", lineno, name);
			if (a != next[i])
				FAIL("serial line %u: %s data at offset 0x%lx, expected 0x%x (lost or garbled line)",
				     lineno, name, a, next[i]);
			const char *h = line + n;
			size_t hl = strlen(h);
			if (hl == 0 || hl % 2 || hl / 2 > CL_ACPI_LINE_BYTES || next[i] + hl / 2 > b->size[i])
				FAIL("serial line %u: %s data of bad length", lineno, name);
			for (size_t k = 0; k < hl / 2; k++) {
				int hi = hexval(h[2 * k]), lo = hexval(h[2 * k + 1]);
				if (hi < 0 || lo < 0)
					FAIL("serial line %u: %s data is not lowercase hex", lineno, name);
				b->data[i][next[i] + k] = (uint8_t)(hi << 4 | lo);
			}
			next[i] += (uint32_t)(hl / 2);
		} else if (sscanf(line, "COCOON-ACPI-END %63s%n", name, &n) == 1 && line[n] == 0) {
			int i = blob_index(name, strlen(name));
			if (i < 0 || !begun[i] || ended[i])
				FAIL("serial line %u: END of %s without BEGIN", lineno, name);
			if (next[i] != b->size[i])
				FAIL("serial line %u: %s ended after %u of %u bytes", lineno, name, next[i], b->size[i]);
			ended[i] = true;
		} else if (!strncmp(line, "COCOON-ACPI-DONE", 16)) {
			b->done = 1;
		} else {
			FAIL("serial line %u: malformed capture line", lineno);
		}
	}
	for (int i = 0; i < CL_ACPI_NBLOBS; i++)
		if (!ended[i])
			FAIL("%s was not captured%s", cl_acpi_blob_names[i],
			     begun[i] ? " completely" : " (probe did not run or did not finish)");
	if (!b->done)
		FAIL("probe did not report completion");
	return 0;
}
