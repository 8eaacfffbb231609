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
int cli_opt_set(const char *kv, void *cfg_opts)
{
	struct cli_cfg_opts *o = cfg_opts;
	if (o->n_sets >= CLI_MAX_SETS)
		return -E2BIG;
	o->sets[o->n_sets++] = kv;
	return 0;
}

int cli_opt_instance(const char *s, void *instance)
{
	uint64_t u;
	if (cm_parse_u64(s, 0, CL_MAX_INSTANCE, &u) < 0)
		return -EINVAL;
	*(int *)instance = (int)u;
	return 0;
}

int cli_opt_accel(const char *s, void *accel)
{
	if (strcmp(s, "kvm") && strcmp(s, "tcg") && strcmp(s, "auto"))
		return -EINVAL;
	*(const char **)accel = s;
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

int cli_parse_opts(const char *cmd, int argc, char **argv, const struct cm_opt *opts, const char *help, int *rc)
{
	char msg[256];
	switch (cm_opts_parse(argc, argv, opts, msg, sizeof(msg))) {
	case CM_OPTS_DONE:
		return 0;
	case CM_OPTS_HELP:
		fputs(help, stdout);
		*rc = 0;
		return 1;
	default:
		*rc = cli_usage_error(cmd, msg, NULL);
		return 1;
	}
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
