/* ACPI capture wire format, shared by the guest probe (cocoon-acpi-probe, static, no
 * libraries) and the host parser. The probe writes text lines to its serial port:
 *
 *   COCOON-ACPI-BEGIN <name> <size>
 *   COCOON-ACPI-DATA <name> <offset, 8 hex digits> <hex of up to 64 bytes>
 *   COCOON-ACPI-END <name>
 *   COCOON-ACPI-DONE <count>            or   COCOON-ACPI-ERROR <message>
 *
 * Names are the fw_cfg file names (etc/acpi/tables, etc/acpi/rsdp, etc/table-loader).
 * Every byte is covered by exactly one DATA line at its offset; the host rejects gaps,
 * overlaps, bad hex and size mismatches, so a kernel message mixed into the stream
 * cannot silently corrupt a blob. Also: the fw_cfg file directory parser used by the
 * probe's port-I/O fallback. */
#ifndef COCOON_LAUNCH_ACPI_WIRE_H
#define COCOON_LAUNCH_ACPI_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define CL_ACPI_NBLOBS 3
#define CL_ACPI_BLOB_MAX (4u << 20)
#define CL_ACPI_LINE_BYTES 64

extern const char *const cl_acpi_blob_names[CL_ACPI_NBLOBS];   /* fw_cfg names */
extern const char *const cl_acpi_blob_files[CL_ACPI_NBLOBS];   /* output file names */

/* Format the DATA line for bytes [off, off+n) (n <= 64) into out (>= 200 bytes). */
size_t cl_acpi_format_data(const char *name, uint32_t off, const uint8_t *p, size_t n, char *out);

/* fw_cfg file directory (selector 0x19): u32 BE count, then 64-byte entries
 * { u32 BE size, u16 BE select, u16 reserved, char name[56] }. Finds name; 0 or -ENOENT /
 * -EINVAL for a malformed directory. */
int cl_fwcfg_find(const uint8_t *dir, size_t len, const char *name, uint16_t *select, uint32_t *size);

struct cl_acpi_blobs {
	uint8_t *data[CL_ACPI_NBLOBS];
	uint32_t size[CL_ACPI_NBLOBS];
	int done;            /* COCOON-ACPI-DONE seen */
	char error[256];     /* COCOON-ACPI-ERROR message, "" if none */
};

/* Parse a serial log. Returns 0 when all three blobs are complete; a negative code and
 * a message otherwise. Free with cl_acpi_blobs_free, also after a failure. */
int cl_acpi_parse_log(const char *text, size_t len, struct cl_acpi_blobs *b, char *msg, size_t msgsz);
void cl_acpi_blobs_free(struct cl_acpi_blobs *b);

#endif
