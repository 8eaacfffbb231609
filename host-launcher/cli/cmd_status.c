/* cocoon-launch status: ask the guest's status channel (guest/init/status.h) where the
 * boot is, what the services do, the measurements and the tail of cocoon-init's log. */
#include "host-launcher/cli/cli.h"

#include <stdio.h>

#include "host-launcher/argv.h"
#include "host-launcher/run.h"
#include "host-launcher/status.h"
#include "measure/core/json.h"

static const char status_help[] =
	"usage: cocoon-launch status CONFIG [--json] [--timeout S] [--vsock PORT] [--set KEY=VALUE]... [--instance N]\n"
	"Read the guest's status channel: boot phase and step, image hash, RTMR3 and its event log,\n"
	"service states and restarts, GPU verification summary, collateral age, cocoon-init's log tail.\n"
	"  --json         the guest's answer as JSON\n"
	"  --timeout S    wait at most S seconds for the answer (default 15)\n"
	"  --vsock PORT   ask over AF_VSOCK (the config's guest CID, the spec's status vsock_port)\n"
	"                 instead of the virtio-serial port's socket in run_dir (status.sock)\n"
	"Exit: 0 answered, 1 no answer, 2 usage, 3 config.\n";

int cmd_status(int argc, char **argv)
{
	struct cli_cfg_opts o = { .instance = -1 };
	unsigned timeout = 15, port = 0;
	int json = 0, rc = 0;
	const struct cm_opt opts[] = {
		CLI_CFG_OPTS(&o),
		CM_OPT_FLAG("json", 0, &json),
		CM_OPT_UINT("timeout", 0, &timeout, 1, 3600, "seconds"),
		CM_OPT_UINT("vsock", 0, &port, 1, 0xfffffffeu, "(a vsock port)"),
		CM_OPT_END,
	};
	if (cli_parse_opts("status", argc, argv, opts, status_help, &rc))
		return rc;
	if (argc - optind != 1)
		return cli_usage_error("status", "exactly one CONFIG expected", NULL);
	struct cl_config c;
	rc = cli_load_config(&c, argv[optind], &o);
	if (rc)
		return rc;
	char path[CL_PATH_MAX + 16];
	cl_status_path(&c, path, sizeof(path));
	struct cl_status_addr a = { .path = path };
	if (port) {
		if (!c.vsock_cid)
			return cm_cli_error(CL_EXIT_CONFIG, "--vsock: the config has no vsock_cid");
		a = (struct cl_status_addr){ .cid = cl_config_cid(&c), .port = port };
	}
	json_object *st = NULL;
	struct cm_err e = { 0 };
	if (cl_status_query(&a, timeout * 1000, &st, &e) < 0)
		return cm_cli_error(CL_EXIT_FAIL, "%s", e.msg);
	if (json)
		cm_json_print(st, stdout);
	else
		cl_status_print(st, stdout);
	json_object_put(st);
	return 0;
}
