#include "measure/cli/cli.h"

#include <stdarg.h>
#include <stdlib.h>

#include "measure/core/json.h"
#include "measure/core/util.h"

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " (see: cocoon-measure %s --help)\n", cmd);
	va_end(ap);
	return CLI_USAGE;
}

int cli_parse_opts(const char *cmd, int argc, char **argv, const struct cm_opt *opts, void (*help)(void), int *rc)
{
	char msg[256];
	switch (cm_opts_parse(argc, argv, opts, msg, sizeof(msg))) {
	case CM_OPTS_DONE:
		return 0;
	case CM_OPTS_HELP:
		help();
		*rc = CLI_OK;
		return 1;
	default:
		*rc = cli_usage_error(cmd, "%s", msg);
		return 1;
	}
}

void cli_print_hex(FILE *f, const char *key, const uint8_t *p, size_t n)
{
	char buf[2 * 128 + 1];
	if (2 * n + 1 > sizeof(buf))
		n = (sizeof(buf) - 1) / 2;
	cm_hex_encode(p, n, buf, sizeof(buf));
	fprintf(f, "%-16s %s\n", key, buf);
}


int cli_emit(json_object *o, int json)
{
	return cm_json_emit(o, json, stdout) ? cm_cli_error(CLI_INVALID_INPUT, "cannot write output") : CLI_OK;
}
