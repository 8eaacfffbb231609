#include "measure/cli/cli.h"

#include <errno.h>
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

int cli_next_opt(const char *cmd, int argc, char **argv, const char *shortopts, const struct option *longopts,
		 void (*help)(void), int *rc)
{
	char msg[160];
	int c = cm_getopt(argc, argv, shortopts, longopts, msg, sizeof(msg));
	if (c == 'h') {
		help();
		*rc = CLI_OK;
		return CLI_OPT_STOP;
	}
	if (c == '?') {
		*rc = cli_usage_error(cmd, "%s", msg);
		return CLI_OPT_STOP;
	}
	return c;
}

int cli_parse_time(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 0)
		return -EINVAL;
	*out = v;
	return 0;
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
