/* Shared plumbing of the cocoon-launch subcommands (one file each: cmd_*.c; main.c
 * dispatches). */
#ifndef COCOON_LAUNCH_CLI_H
#define COCOON_LAUNCH_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "host-launcher/config.h"
#include "measure/core/util.h"

#define CLI_MAX_SETS 64

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

/* A decimal in 0..max (no sign). Returns 0 or -EINVAL. */
int cli_parse_uint(const char *s, unsigned max, unsigned *out);

enum {
	OPT_SET = 1000, OPT_INSTANCE, OPT_NO_TDX, OPT_ACCEL, OPT_DEBUG, OPT_GPU, OPT_SIM, OPT_JSON,
	OPT_PRINT, OPT_PRINT0, OPT_SUPERVISE, OPT_CONSOLE, OPT_MAX_RESTARTS, OPT_RESTART_DELAY,
	OPT_STOP_TIMEOUT, OPT_SYS, OPT_PROC, OPT_DEV, OPT_OUT, OPT_BIN, OPT_TIMEOUT, OPT_KERNEL,
	OPT_INITRD, OPT_NO_VERIFY, OPT_TIME, OPT_VSOCK, OPT_STUCK_TIMEOUT, OPT_HELP, OPT_STOP,
};

/* One option of command cmd (cm_getopt over lo, whose --help is OPT_HELP): returns the next
 * option, -1 after the last, or OPT_STOP with *rc set: 0 after printing help,
 * CL_EXIT_USAGE after naming an unknown option or a missing value. The caller sets
 * optind = 1 first. */
int cli_next_opt(int argc, char **argv, const struct option *lo, const char *cmd, const char *help, int *rc);

/* cli_next_opt over lo (which starts with SHARED_LONGOPTS) that also applies the shared
 * options to o; OPT_STOP as well with *rc set to the exit code of a bad shared value. */
int cli_next_cfg_opt(int argc, char **argv, const struct option *lo, struct cli_cfg_opts *o, const char *cmd,
		     const char *help, int *rc);

#define SHARED_LONGOPTS                                              \
	{ "set", required_argument, NULL, OPT_SET },                 \
	{ "instance", required_argument, NULL, OPT_INSTANCE },       \
	{ "no-tdx", no_argument, NULL, OPT_NO_TDX },                 \
	{ "accel", required_argument, NULL, OPT_ACCEL },             \
	{ "debug", no_argument, NULL, OPT_DEBUG },                   \
	{ "gpu", no_argument, NULL, OPT_GPU },                       \
	{ "sim", no_argument, NULL, OPT_SIM },                       \
	{ "help", no_argument, NULL, OPT_HELP }

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
