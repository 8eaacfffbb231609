/* Shared plumbing of the cocoon-launch subcommands (one file each: cmd_*.c; main.c
 * dispatches). */
#ifndef COCOON_LAUNCH_CLI_H
#define COCOON_LAUNCH_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h> /* optind, where cli_parse_opts leaves the operands */

#include "host-launcher/config.h"
#include "measure/core/opts.h"
#include "measure/core/util.h"

#define CLI_MAX_SETS 64
#define CLI_STR_(x) #x
#define CLI_XSTR(x) CLI_STR_(x) /* a macro's value as a string literal */

/* Print "error: msg[: arg]" plus a hint to run `cocoon-launch cmd --help`; returns
 * CL_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *msg, const char *arg);

/* Options shared by the commands that read a config. */
struct cli_cfg_opts {
	const char *sets[CLI_MAX_SETS];
	size_t n_sets;
	int instance;  /* -1 = from the file */
	int no_tdx;
	const char *accel;
	int debug, gpu, sim;
};

/* Load path, apply the --set overrides and the shared options, finish. Returns 0 or an
 * exit code (the error printed). */
int cli_load_config(struct cl_config *c, const char *path, const struct cli_cfg_opts *o);

/* Read command cmd's options (cm_opts_parse over opts). Returns 0 to go on (optind is the
 * first operand), or 1 with *rc the exit code: 0 after printing help, CL_EXIT_USAGE after
 * naming the refused option or value. */
int cli_parse_opts(const char *cmd, int argc, char **argv, const struct cm_opt *opts, const char *help, int *rc);

/* The options of struct cli_cfg_opts, --help among them: the first entries of the table of
 * every command that reads a config. */
#define CLI_CFG_OPTS(o)                                                                    \
	CM_OPT_PARSE("set", 0, (o), cli_opt_set, "KEY=VALUE (at most 64 of them)"),        \
	CM_OPT_PARSE("instance", 0, &(o)->instance, cli_opt_instance, "0-" CLI_XSTR(CL_MAX_INSTANCE)), \
	CM_OPT_FLAG("no-tdx", 0, &(o)->no_tdx),                                            \
	CM_OPT_PARSE("accel", 0, &(o)->accel, cli_opt_accel, "kvm, tcg or auto"),           \
	CM_OPT_FLAG("debug", 0, &(o)->debug),                                              \
	CM_OPT_FLAG("gpu", 0, &(o)->gpu),                                                  \
	CM_OPT_FLAG("sim", 0, &(o)->sim),                                                  \
	CM_OPT_HELP(0)
int cli_opt_set(const char *kv, void *cfg_opts);
int cli_opt_instance(const char *s, void *instance);
int cli_opt_accel(const char *s, void *accel);

/* mkdir -p: missing parents 0755, the last component mode. Returns 0 or -errno. */
int cli_mkdir_p(const char *path, mode_t mode);

/* Subcommands. */
int cmd_check(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_unit(int argc, char **argv);
int cmd_capture_acpi(int argc, char **argv);
int cmd_collateral(int argc, char **argv);

/* One collateral refresh of c's FMSPCs at time now (cmd_collateral.c; also run by
 * run --supervise on the collateral_refresh schedule). Returns an exit code. */
int cli_collateral_refresh(const struct cl_config *c, int64_t now, bool json);
int cmd_status(int argc, char **argv);

#endif
