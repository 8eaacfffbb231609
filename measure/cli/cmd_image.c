/* cocoon-measure image --vm VM.json [--tpm] [--json] */
#include <stdlib.h>
#include <unistd.h>

#include "measure/cli/cli.h"
#include "measure/predict/predict_image.h"

static void help(void)
{
	printf("usage: cocoon-measure image --vm VM.json [--tpm] [--json]\n\n"
	       "Compute MRTD, RTMR0-3 and the Cocoon image hash of a TD image from its files:\n"
	       "firmware, kernel, initrd, cmdline, memory size, captured ACPI blobs, spec\n"
	       "directory and the profile switches named in VM.json (docs/measurement.md; also\n"
	       "accepts tdx-measure's metadata.json). Prints every event per register with its\n"
	       "digest and description, and the sha256 of every input file.\n\n"
	       "  --vm FILE   the VM description\n"
	       "  --tpm       also the SHA-256 PCRs of the same boot with a vTPM: \"pcrs\" (PCR 2-9\n"
	       "              from the files, 1 from ACPI blobs captured with the TPM attached,\n"
	       "              0 (and 1 without them) from VM.json's \"tpm_log\" when given),\n"
	       "              \"tpm_events\" per PCR, and \"pcrs_not_predicted\" with the reason for\n"
	       "              each PCR left out. TPM PCRs are no TDX trust anchor (docs/measurement.md)\n"
	       "  --json      machine-readable output\n"
	       "  --help      this text\n\n"
	       "Exit codes: 0 ok, 1 unreadable or malformed input, 2 usage.\n");
}

int cmd_image(int argc, char **argv)
{
	int json = 0, tpm = 0, rc;
	const char *vm = NULL;
	const struct cm_opt opts[] = {
		CM_OPT_STR("vm", 'v', &vm),
		CM_OPT_FLAG("tpm", 't', &tpm),
		CM_OPT_FLAG("json", 'j', &json),
		CM_OPT_HELP('h'),
		CM_OPT_END,
	};
	if (cli_parse_opts("image", argc, argv, opts, help, &rc))
		return rc;
	if (optind != argc)
		return cli_usage_error("image", "unexpected argument '%s'", argv[optind]);
	if (!vm)
		return cli_usage_error("image", "--vm VM.json is required");
	struct cm_err err = {0};
	json_object *o;
	if (cm_measure_image_ex(vm, tpm, &o, &err))
		return cm_cli_error(CLI_INVALID_INPUT, "%s: %s", vm, err.msg);
	rc = cli_emit(o, json);
	json_object_put(o);
	return rc;
}
