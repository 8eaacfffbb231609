/* cocoon-launch capture-acpi: boot a probe guest and capture its ACPI fw_cfg blobs. */
#include "host-launcher/cli/cli.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host-launcher/acpi.h"
#include "host-launcher/check.h"
#include "host-launcher/run.h"

static const char acpi_help[] =
	"usage: cocoon-launch capture-acpi CONFIG --kernel VMLINUZ --initrd PROBE_INITRD [--out DIR]\n"
	"       [--timeout S] [--set KEY=VALUE]... [--accel kvm|tcg]\n"
	"Boot a probe guest of the node's machine shape without TDX and capture the fw_cfg files\n"
	"etc/acpi/tables, etc/acpi/rsdp and etc/table-loader into DIR (default ./acpi) as\n"
	"tables.bin, rsdp.bin, table-loader.bin plus acpi.json (sizes, sha256). The probe initrd\n"
	"has cocoon-acpi-probe as /init. TDX guests can differ: see docs/operator-guide.md.\n";

int cmd_capture_acpi(int argc, char **argv)
{
	struct cli_cfg_opts o = { .instance = -1 };
	const char *out = "acpi", *kernel = NULL, *initrd = NULL;
	unsigned timeout = 300;
	int rc = 0;
	const struct cm_opt opts[] = {
		CLI_CFG_OPTS(&o),
		CM_OPT_STR("out", 0, &out),
		CM_OPT_STR("kernel", 0, &kernel),
		CM_OPT_STR("initrd", 0, &initrd),
		CM_OPT_UINT("timeout", 0, &timeout, 1, 36000, "seconds"),
		CM_OPT_END,
	};
	if (cli_parse_opts("capture-acpi", argc, argv, opts, acpi_help, &rc))
		return rc;
	if (argc - optind != 1)
		return cli_usage_error("capture-acpi", "exactly one CONFIG expected", NULL);
	if (!kernel || !initrd)
		return cli_usage_error("capture-acpi", "--kernel and --initrd are required", NULL);
	/* DIR reaches QEMU inside -chardev file,path=DIR/...: the config paths' check. */
	if (cl_path_check(out) < 0)
		return cm_cli_error(CL_EXIT_USAGE, "--out: bad value '%s' (a path without commas or control characters)",
				 out);
	o.no_tdx = 1;
	struct cl_config c;
	rc = cli_load_config(&c, argv[optind], &o);
	if (rc)
		return rc;
	const char *accel = c.accel;
	if (!strcmp(accel, "auto"))
		accel = cl_kvm_usable("/dev") == 0 ? "kvm" : "tcg";
	int k = cli_mkdir_p(out, 0755);
	if (k < 0)
		return cm_cli_error(CL_EXIT_FAIL, "cannot create %s (%s)", out, strerror(-k));
	char outabs[PATH_MAX];
	if (!realpath(out, outabs))
		return cm_cli_error(CL_EXIT_FAIL, "cannot resolve %s", out);
	struct cm_err e = { 0 };
	if (cl_acpi_capture(&c, accel, kernel, initrd, outabs, timeout, &e) < 0)
		return cm_cli_error(CL_EXIT_FAIL, "%s", e.msg);
	return 0;
}
