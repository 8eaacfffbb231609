/* Shared plumbing of the cocoon-measure subcommands. */
#ifndef COCOON_MEASURE_CLI_H
#define COCOON_MEASURE_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "measure/core/opts.h"
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

/* Read command cmd's options (cm_opts_parse over opts). Returns 0 to go on (optind is the
 * first operand), or 1 with *rc the exit code: CLI_OK after printing help(), CLI_USAGE after
 * naming the refused option or value. */
int cli_parse_opts(const char *cmd, int argc, char **argv, const struct cm_opt *opts, void (*help)(void), int *rc);

/* "key: <hex>" line for the text output. */
void cli_print_hex(FILE *f, const char *key, const uint8_t *p, size_t n);

/* Print o as JSON (json != 0) or text (one "key: value" line per scalar, nested objects as
 * "parent.key", arrays as indented "- item" lines); returns CLI_OK or CLI_INVALID_INPUT on
 * I/O error. */
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
