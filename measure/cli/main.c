/* cocoon-measure: the auditor's tool. One subcommand per kind of evidence. */
#include <stdio.h>
#include <string.h>

#include "build_info.h"
#include "measure/cli/cli.h"

static const struct cli_cmd commands[] = {
	{"quote", "parse (and verify) a TDX/SGX DCAP quote, print its measurements and image hash", cmd_quote},
	{"eventlog", "replay and decode a CCEL event log, optionally against a quote", cmd_eventlog},
	{"mrtd", "compute the MRTD of an OVMF/TDVF firmware image", cmd_mrtd},
	{"spec", "spec directory tree hash and RTMR3 events; replay an RTMR3 log", cmd_spec},
	{"image", "MRTD, RTMR0-3 and image hash of a TD image described by VM.json", cmd_image},
	{"gpu", "verify NVIDIA GPU evidence (SPDM report, device chain, RIMs) against a GPU policy", cmd_gpu},
	{"cert", "read or fetch an RA-TLS certificate and verify it as cocoon-ratls does", cmd_cert},
	{"tpm-quote", "verify a TPM 2.0 quote of the tpm backend against an AK and a PCR policy", cmd_tpm_quote},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: cocoon-measure COMMAND [ARGS] [--json]\n\n"
		   "Reproduce and check Cocoon TD measurements from published files and evidence.\n\n"
		   "commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nRun 'cocoon-measure COMMAND --help' for a command's options.\n"
		   "Exit codes: 0 ok, 1 invalid input, 2 usage, 3 evidence does not verify,\n"
		   "4 evidence rejected by policy.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		usage(stdout);
		return CLI_OK;
	}
	if (!strcmp(cmd, "--version")) {
		printf("cocoon-measure %s\n", COCOON_VERSION);
		return CLI_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "error: unknown command '%s' (see: cocoon-measure --help)\n", cmd);
	return CLI_USAGE;
}
