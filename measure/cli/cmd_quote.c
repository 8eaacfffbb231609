/* cocoon-measure quote FILE [--json] */
#include <getopt.h>
#include <stdlib.h>

#include "measure/cli/cli.h"
#include "measure/quote.h"

static void help(void)
{
	printf("usage: cocoon-measure quote FILE [--json]\n\n"
	       "Parse a DCAP quote (SGX v3, TDX v4, TDX v5 with TD 1.0 or TD 1.5 body) and print\n"
	       "its header, report body (MRTD, RTMR0-3, REPORTDATA, TD attributes, XFAM, or the\n"
	       "SGX enclave fields), QE report, the PCK chain subjects, the FMSPC and TCB from the\n"
	       "PCK certificate, and the Cocoon image hash of a TD quote.\n"
	       "FILE may be - for standard input.\n\n"
	       "  --json    machine-readable output (lowercase hex)\n"
	       "  --help    this text\n\n"
	       "Exit codes: 0 ok, 1 unreadable or malformed quote, 2 usage.\n");
}

int cmd_quote(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	int json = 0, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'h': help(); return CLI_OK;
		default: return cli_usage_error("quote", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("quote", "expected exactly one quote FILE");
	const char *path = argv[optind];

	struct cm_err err = {0};
	uint8_t *buf;
	size_t len;
	if (cm_read_file(path, CM_QUOTE_MAX_LEN, &buf, &len, &err))
		return cli_error(CLI_INVALID_INPUT, "%s", err.msg);
	struct cm_quote q;
	json_object *out = NULL;
	int rc = CLI_OK;
	if (cm_quote_parse(buf, len, &q, &err) || cm_quote_to_json(&q, &out, &err))
		rc = cli_error(CLI_INVALID_INPUT, "%s: %s", path, err.msg);
	else
		rc = cli_emit(out, json);
	json_object_put(out);
	free(buf);
	return rc;
}
