/* Shared plumbing of the cocoon-launch subcommands: errors, the config options every
 * command takes, mkdir -p. */
#include "host-launcher/cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host-launcher/run.h"

int cli_usage_error(const char *cmd, const char *msg, const char *arg)
{
	fprintf(stderr, "error: %s%s%s\n(see cocoon-launch %s --help)\n", msg, arg ? ": " : "", arg ? arg : "",
		cmd);
	return CL_EXIT_USAGE;
}
static int add_set(struct cli_cfg_opts *o, const char *kv)
{
	if (o->n_sets >= CLI_MAX_SETS)
		return -E2BIG;
	o->sets[o->n_sets++] = kv;
	return 0;
}

int cli_load_config(struct cl_config *c, const char *path, const struct cli_cfg_opts *o)
{
	struct cm_err e = { 0 };
	cl_config_init(c);
	if (cl_config_load(c, path, &e) < 0)
		return cm_cli_error(CL_EXIT_CONFIG, "%s", e.msg);
	for (size_t i = 0; i < o->n_sets; i++)
		if (cl_config_set(c, o->sets[i], &e) < 0)
			return cm_cli_error(CL_EXIT_CONFIG, "%s", e.msg);
	if (o->instance >= 0) {
		char kv[32];
		snprintf(kv, sizeof(kv), "instance=%d", o->instance);
		if (cl_config_set(c, kv, &e) < 0)
			return cm_cli_error(CL_EXIT_CONFIG, "--instance: %s", e.msg);
	}
	if (o->no_tdx)
		c->tdx = false;
	if (o->accel)
		snprintf(c->accel, sizeof(c->accel), "%s", o->accel);
	if (o->debug)
		c->debug = true;
	if (o->gpu)
		c->gpu_required = true;
	if (o->sim)
		c->sim = true;
	if (cl_config_finish(c, &e) < 0)
		return cm_cli_error(CL_EXIT_CONFIG, "%s: %s", path, e.msg);
	return 0;
}

int cli_parse_uint(const char *s, unsigned max, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v > max || s[0] == '-')
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}
static int shared_opt(int ch, const char *arg, struct cli_cfg_opts *o, const char *cmd, int *rc)
{
	unsigned u;
	switch (ch) {
	case OPT_SET:
		if (add_set(o, arg) < 0)
			*rc = cli_usage_error(cmd, "too many --set options", NULL);
		return 1;
	case OPT_INSTANCE:
		if (cli_parse_uint(arg, CL_MAX_INSTANCE, &u) < 0)
			*rc = cli_usage_error(cmd, "--instance wants 0-99", arg);
		else
			o->instance = (int)u;
		return 1;
	case OPT_NO_TDX: o->no_tdx = 1; return 1;
	case OPT_ACCEL:
		if (strcmp(arg, "kvm") && strcmp(arg, "tcg") && strcmp(arg, "auto"))
			*rc = cli_usage_error(cmd, "--accel wants kvm, tcg or auto", arg);
		o->accel = arg;
		return 1;
	case OPT_DEBUG: o->debug = 1; return 1;
	case OPT_GPU: o->gpu = 1; return 1;
	case OPT_SIM: o->sim = 1; return 1;
	default: return 0;
	}
}

int cli_next_opt(int argc, char **argv, const struct option *lo, const char *cmd, const char *help, int *rc)
{
	char msg[160];
	int ch = cm_getopt(argc, argv, "", lo, msg, sizeof(msg));
	if (ch == OPT_HELP) {
		fputs(help, stdout);
		*rc = 0;
		return OPT_STOP;
	}
	if (ch == '?') {
		*rc = cli_usage_error(cmd, msg, NULL);
		return OPT_STOP;
	}
	return ch;
}

int cli_next_cfg_opt(int argc, char **argv, const struct option *lo, struct cli_cfg_opts *o, const char *cmd,
		     const char *help, int *rc)
{
	int ch;
	while ((ch = cli_next_opt(argc, argv, lo, cmd, help, rc)) != -1) {
		if (ch == OPT_STOP || !shared_opt(ch, optarg, o, cmd, rc))
			return ch;
		if (*rc)
			return OPT_STOP;
	}
	return -1;
}

int cli_mkdir_p(const char *path, mode_t mode)
{
	char buf[CL_PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}
