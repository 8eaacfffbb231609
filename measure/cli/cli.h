/* Shared plumbing of the cocoon-measure subcommands. */
#ifndef COCOON_MEASURE_CLI_H
#define COCOON_MEASURE_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "measure/core/util.h"

/* Exit codes (documented in README.md). */
enum {
	CLI_OK = 0,
	CLI_INVALID_INPUT = 1, /* a file is unreadable or malformed */
	CLI_USAGE = 2,         /* bad command line */
	CLI_INVALID_EVIDENCE = 3, /* evidence parsed but does not verify */
	CLI_REJECTED = 4,      /* evidence verifies but policy rejects it */
};

struct cli_cmd {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

/* Print "error: <msg>" plus a hint to run --help; returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct option;
/* What cli_next_opt returns when the command is to stop: *rc is its exit code. */
#define CLI_OPT_STOP (-2)

/* One option of command cmd (cm_getopt over shortopts and longopts, whose --help is 'h'):
 * returns the next option, -1 after the last, or CLI_OPT_STOP with *rc set: CLI_OK after
 * printing help(), CLI_USAGE after naming an unknown option or a missing value. The caller
 * sets optind = 1 first. */
int cli_next_opt(const char *cmd, int argc, char **argv, const char *shortopts, const struct option *longopts,
		 void (*help)(void), int *rc);

/* A --time value: unix seconds, a decimal >= 0 and nothing else. Returns 0 or -EINVAL. */
int cli_parse_time(const char *s, int64_t *out);

/* "key: <hex>" line for the text output. */
void cli_print_hex(FILE *f, const char *key, const uint8_t *p, size_t n);

/* Text rendering of a JSON result: one "key: value" line per scalar, nested objects
 * as "parent.key", arrays as indented "- item" lines. */

/* Print o as JSON (json != 0) or text; returns CLI_OK or CLI_INVALID_INPUT on I/O error. */
int cli_emit(json_object *o, int json);

/* Subcommands. */
int cmd_quote(int argc, char **argv);
int cmd_eventlog(int argc, char **argv);
int cmd_mrtd(int argc, char **argv);
int cmd_spec(int argc, char **argv);
int cmd_image(int argc, char **argv);
int cmd_cert(int argc, char **argv);
int cmd_gpu(int argc, char **argv);
int cmd_tpm_quote(int argc, char **argv);

#endif
