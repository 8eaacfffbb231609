/* capture-acpi: boot a probe guest of the node's machine shape (without TDX) and save
 * the ACPI fw_cfg blobs that RTMR0 prediction needs. */
#ifndef COCOON_LAUNCH_ACPI_H
#define COCOON_LAUNCH_ACPI_H

#include "host-launcher/acpi_wire.h"
#include "host-launcher/config.h"
#include "measure/core/util.h"

#define CL_PROBE_CMDLINE "console=ttyS0 loglevel=1 panic=-1 rdinit=/init"

/* Write out_dir/{tables.bin,rsdp.bin,table-loader.bin,acpi.json} from parsed blobs, and
 * out_dir/VM.json for `cocoon-measure image --vm` (cmdline = effective cmdline or NULL). */
int cl_acpi_write(const struct cl_config *c, const struct cl_acpi_blobs *b, const char *cmdline,
		  const char *out_dir, struct cm_err *e);

/* Run the probe (QEMU from c->qemu, output in out_dir: serial.log, console.log,
 * qemu.log), wait up to timeout_s, parse and write the blobs. */
int cl_acpi_capture(const struct cl_config *c, const char *accel, const char *kernel, const char *initrd,
		    const char *out_dir, unsigned timeout_s, struct cm_err *e);

#endif
