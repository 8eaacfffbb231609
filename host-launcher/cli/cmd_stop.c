/* cocoon-launch stop: orderly guest shutdown through QMP. */
#include "host-launcher/cli/cli.h"

#include <stdio.h>

#include "host-launcher/argv.h"
#include "host-launcher/run.h"

static const char stop_help[] =
	"usage: cocoon-launch stop CONFIG [--set KEY=VALUE]... [--instance N] [--timeout S]\n"
	"Ask the guest to power off (QMP system_powerdown) and wait until QEMU exits (default 90 s).\n";

int cmd_stop(int argc, char **argv)
{
	struct cli_cfg_opts o = { .instance = -1 };
	unsigned timeout = 90;
	int rc = 0;
	const struct cm_opt opts[] = {
		CLI_CFG_OPTS(&o),
		CM_OPT_UINT("timeout", 0, &timeout, 0, 3600, "seconds"),
		CM_OPT_END,
	};
	if (cli_parse_opts("stop", argc, argv, opts, stop_help, &rc))
		return rc;
	if (argc - optind != 1)
		return cli_usage_error("stop", "exactly one CONFIG expected", NULL);
	struct cl_config c;
	rc = cli_load_config(&c, argv[optind], &o);
	if (rc)
		return rc;
	char qmp[CL_PATH_MAX + 16];
	cl_qmp_path(&c, qmp, sizeof(qmp));
	struct cm_err e = { 0 };
	if (cl_qmp_command(qmp, "system_powerdown", true, timeout, &e) < 0)
		return cm_cli_error(CL_EXIT_FAIL, "%s", e.msg);
	printf("%s %u stopped\n", cl_node_type_name(c.type), c.instance);
	return 0;
}
