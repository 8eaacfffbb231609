/* cocoon-launch unit: systemd template unit and instance drop-in. */
#include "host-launcher/cli/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host-launcher/run.h"
#include "host-launcher/unit.h"

static const char unit_help[] =
	"usage: cocoon-launch unit CONFIG --instance N [--out DIR] [--bin PATH]\n"
	"Write the systemd template unit cocoon-<type>@.service and the drop-in of instance N\n"
	"(default DIR /etc/systemd/system, PATH = this program's absolute path).\n";

int cmd_unit(int argc, char **argv)
{
	struct cli_cfg_opts o = { .instance = -1 };
	const char *out = "/etc/systemd/system", *bin = NULL;
	int rc = 0;
	const struct cm_opt opts[] = {
		CLI_CFG_OPTS(&o),
		CM_OPT_STR("out", 0, &out),
		CM_OPT_STR("bin", 0, &bin),
		CM_OPT_END,
	};
	if (cli_parse_opts("unit", argc, argv, opts, unit_help, &rc))
		return rc;
	if (argc - optind != 1)
		return cli_usage_error("unit", "exactly one CONFIG expected", NULL);
	if (o.instance < 0)
		return cli_usage_error("unit", "--instance N is required", NULL);
	if (o.no_tdx || o.debug || o.sim || o.gpu || o.accel)
		return cli_usage_error("unit", "units run the configured production boot; put variants in the config",
				   NULL);
	char cfgabs[PATH_MAX], binabs[PATH_MAX];
	if (!realpath(argv[optind], cfgabs))
		return cm_cli_error(CL_EXIT_CONFIG, "cannot resolve %s (%s)", argv[optind], strerror(errno));
	if (!bin) {
		ssize_t n = readlink("/proc/self/exe", binabs, sizeof(binabs) - 1);
		if (n < 0)
			return cm_cli_error(CL_EXIT_FAIL, "cannot find this program's path; pass --bin");
		binabs[n] = 0;
		bin = binabs;
	}
	struct cl_config c;
	rc = cli_load_config(&c, cfgabs, &o);
	if (rc)
		return rc;
	struct cm_err e = { 0 };
	if (cl_unit_write(&c, cfgabs, bin, out, &e) < 0)
		return cm_cli_error(CL_EXIT_FAIL, "%s", e.msg);
	return 0;
}
