/* cocoon-launch: host preflight, QEMU for TDX (and for tests), supervision, systemd
 * units, ACPI capture for RTMR0 prediction, and publishing to Cocoon's root contract.
 * See docs/operator-guide.md and docs/publishing.md. */
#include <stdio.h>
#include <string.h>

#include "build_info.h"
#include "host-launcher/cli/cli.h"
#include "host-launcher/cli/cmd_ton.h"
#include "host-launcher/run.h"


static const struct {
	const char *name, *summary;
	int (*run)(int, char **);
} cmds[] = {
	{ "check", "host preflight with a verdict", cmd_check },
	{ "run", "build the QEMU argv and run (or --print) the node", cmd_run },
	{ "stop", "orderly guest shutdown through QMP", cmd_stop },
	{ "status", "the guest's status channel: boot step, services, measurements", cmd_status },
	{ "unit", "write systemd units for an instance", cmd_unit },
	{ "capture-acpi", "capture the ACPI blobs of this machine shape", cmd_capture_acpi },
	{ "collateral", "fetch, verify and install DCAP collateral", cmd_collateral },
	{ "publish", "prepare the root-contract message allowing a hash", cl_cmd_publish },
	{ "registry", "is a hash allowed? read the root contract's state", cl_cmd_registry },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: cocoon-launch COMMAND [options]   (cocoon-launch COMMAND --help)\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-13s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "  %-13s %s\n", "version", "print the version");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("cocoon-launch %s\n", COCOON_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].run(argc - 1, argv + 1);
	fprintf(stderr, "error: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return CL_EXIT_USAGE;
}
