#include "measure/cli/cli.h"

#include <stdarg.h>

#include "measure/core/json.h"
#include "measure/core/util.h"

int cli_error(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return code;
}

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

void cli_print_hex(FILE *f, const char *key, const uint8_t *p, size_t n)
{
	char buf[2 * 128 + 1];
	if (2 * n + 1 > sizeof(buf))
		n = (sizeof(buf) - 1) / 2;
	cm_hex_encode(p, n, buf, sizeof(buf));
	fprintf(f, "%-16s %s\n", key, buf);
}

static void print_text(json_object *o, const char *prefix, FILE *f)
{
	json_object_object_foreach(o, key, val)
	{
		char name[256];
		snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? "." : "", key);
		switch (json_object_get_type(val)) {
		case json_type_object:
			print_text(val, name, f);
			break;
		case json_type_array: {
			size_t n = json_object_array_length(val);
			int scalars = n > 0;
			for (size_t i = 0; i < n; i++) {
				json_type t = json_object_get_type(json_object_array_get_idx(val, i));
				if (t != json_type_int && t != json_type_boolean && t != json_type_double)
					scalars = 0;
			}
			if (scalars) { /* numbers on one line: "key: 3,3,2" */
				fprintf(f, "%s: ", name);
				for (size_t i = 0; i < n; i++)
					fprintf(f, "%s%s", i ? "," : "",
						json_object_get_string(json_object_array_get_idx(val, i)));
				fputc('\n', f);
				break;
			}
			fprintf(f, "%s:%s\n", name, n ? "" : " (none)");
			for (size_t i = 0; i < n; i++) {
				json_object *it = json_object_array_get_idx(val, i);
				if (json_object_is_type(it, json_type_object) || json_object_is_type(it, json_type_array))
					fprintf(f, "  - %s\n", json_object_to_json_string_ext(it, JSON_C_TO_STRING_PLAIN |
											   JSON_C_TO_STRING_NOSLASHESCAPE));
				else
					fprintf(f, "  - %s\n", json_object_get_string(it));
			}
			break;
		}
		case json_type_null:
			fprintf(f, "%s: (none)\n", name);
			break;
		default:
			fprintf(f, "%s: %s\n", name, json_object_get_string(val));
		}
	}
}

void cli_print_text(json_object *o, FILE *f)
{
	print_text(o, "", f);
}

int cli_emit(json_object *o, int json)
{
	if (json) {
		if (cm_json_print(o, stdout))
			return cli_error(CLI_INVALID_INPUT, "cannot write output");
	} else {
		cli_print_text(o, stdout);
	}
	return fflush(stdout) == 0 ? CLI_OK : cli_error(CLI_INVALID_INPUT, "cannot write output");
}
