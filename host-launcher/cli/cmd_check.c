/* cocoon-launch check: host preflight with a verdict (text or JSON). */
#include "host-launcher/cli/cli.h"

#include <stdbool.h>
#include <stdio.h>

#include <json-c/json.h>

#include "host-launcher/check.h"
#include "host-launcher/run.h"
#include "measure/core/json.h"

static const char check_help[] =
	"usage: cocoon-launch check [CONFIG] [--set KEY=VALUE]... [--instance N] [--no-tdx] [--json]\n"
	"Host preflight: one line per check and a verdict. Exit 0 when every required check\n"
	"passes, 1 otherwise. Without CONFIG only the host is checked (TDX, KVM, QEMU, QGS, memory).\n"
	"Test options: --sys DIR --proc DIR --dev DIR (roots of sysfs, procfs and /dev).\n";

int cmd_check(int argc, char **argv)
{
	struct cli_cfg_opts o = { .instance = -1 };
	struct cl_host h;
	cl_host_default(&h);
	int json = 0, rc = 0;
	const struct cm_opt opts[] = {
		CLI_CFG_OPTS(&o),
		CM_OPT_FLAG("json", 0, &json),
		CM_OPT_STR("sys", 0, &h.sys),
		CM_OPT_STR("proc", 0, &h.proc),
		CM_OPT_STR("dev", 0, &h.dev),
		CM_OPT_END,
	};
	if (cli_parse_opts("check", argc, argv, opts, check_help, &rc))
		return rc;
	if (argc - optind > 1)
		return cli_usage_error("check", "at most one CONFIG", argv[optind + 1]);
	struct cl_config c;
	const struct cl_config *cp = NULL;
	if (optind < argc) {
		rc = cli_load_config(&c, argv[optind], &o);
		if (rc)
			return rc;
		cp = &c;
	}
	static struct cl_report r;
	cl_check_host(cp, &h, &r);
	bool cocoon = cp && cp->cocoon;
	if (json) {
		json_object *root = json_object_new_object(), *arr = json_object_new_array();
		if (cocoon) {
			json_object *keys = json_object_new_array();
			for (size_t i = 0; i < cp->n_ckeys; i++) {
				json_object *x = json_object_new_object();
				cm_json_add_str(x, "key", cp->ckeys[i].key);
				cm_json_add_str(x, "handling", cp->ckeys[i].handling);
				cm_json_add_str(x, "detail", cp->ckeys[i].detail);
				json_object_array_add(keys, x);
			}
			json_object_object_add(root, "cocoon_keys", keys);
		}
		for (size_t i = 0; i < r.n; i++) {
			json_object *x = json_object_new_object();
			cm_json_add_str(x, "name", r.c[i].name);
			cm_json_add_str(x, "status", r.c[i].status == CL_FAIL ? "fail" : cl_status_name(r.c[i].status));
			cm_json_add_bool(x, "required", r.c[i].required);
			cm_json_add_str(x, "detail", r.c[i].detail);
			json_object_array_add(arr, x);
		}
		json_object_object_add(root, "checks", arr);
		cm_json_add_str(root, "verdict", r.ok ? "pass" : "fail");
		cm_json_print(root, stdout);
		json_object_put(root);
	} else {
		if (cocoon) {
			printf("Cocoon worker.conf keys (ours = a cocoon-launch key, runtime = SPEC/runtime/ for the guest, "
			       "default = Cocoon's default):\n");
			for (size_t i = 0; i < cp->n_ckeys; i++)
				printf("  %-22s %-8s %s\n", cp->ckeys[i].key, cp->ckeys[i].handling, cp->ckeys[i].detail);
		}
		for (size_t i = 0; i < r.n; i++)
			printf("%-4s %-22s %s%s\n", cl_status_name(r.c[i].status), r.c[i].name, r.c[i].detail,
			       r.c[i].status == CL_FAIL && !r.c[i].required ? " (not required)" : "");
		size_t fails = 0;
		for (size_t i = 0; i < r.n; i++)
			fails += r.c[i].status == CL_FAIL && r.c[i].required;
		if (r.ok)
			printf("verdict: PASS: this host can run the %s\n",
			       cp && !cp->tdx ? "node without TDX (NOT confidential)" : "confidential node");
		else
			printf("verdict: FAIL: %zu required check(s) failed; cocoon-launch run will not start a %s "
			       "node here\n", fails, cp && !cp->tdx ? "" : "confidential");
	}
	return r.ok ? CL_EXIT_OK : CL_EXIT_FAIL;
}
