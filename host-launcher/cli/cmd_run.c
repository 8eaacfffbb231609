/* cocoon-launch run: build the QEMU argv of a node and exec it, supervise it or print it. */
#include "host-launcher/cli/cli.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "host-launcher/argv.h"
#include "host-launcher/check.h"
#include "host-launcher/cocoon_conf.h"
#include "host-launcher/image.h"
#include "host-launcher/run.h"
#include "measure/core/json.h"

static const char run_help[] =
	"usage: cocoon-launch run CONFIG [options]\n"
	"Build the QEMU argv for the node and exec QEMU (or print it).\n"
	"  --set KEY=VALUE   override a config key (repeatable)\n"
	"  --instance N      instance number (ports and vsock CID move by N*10)\n"
	"  --no-tdx          same machine shape without TDX (tests only: NOT confidential)\n"
	"  --accel kvm|tcg|auto   accelerator (TDX needs kvm; auto = kvm if /dev/kvm opens, else tcg)\n"
	"  --debug --gpu --sim     cmdline variants: append ' cocoon.debug', ' cocoon.gpu=required',\n"
	"                    ' cocoon.attest=sim' to the measured cmdline (changes RTMR2 and the image hash)\n"
	"  --print           print the argv shell-quoted, one argument per line, and exit\n"
	"  --print0          print the argv NUL-separated (for scripts) and exit\n"
	"  --json            with --print: a JSON array\n"
	"  --supervise       keep QEMU running: restart with exponential backoff, console to a file,\n"
	"                    SIGTERM/SIGINT -> QMP system_powerdown, then SIGTERM, then SIGKILL\n"
	"  --console stdio|file   where hvc0 goes (default stdio; file under --supervise)\n"
	"  --max-restarts N  --restart-delay S  --stop-timeout S   supervision knobs (-1/1/60)\n"
	"  --stuck-timeout S with --supervise: a boot whose status channel shows no new boot step\n"
	"                    (or no answer) for S seconds is stuck and restarted (default 600, 0 = off)\n"
	"  --no-verify       skip the sha256 check of OVMF.fd/vmlinuz/initrd.img/cmdline (tests only)\n"
	"Exit: QEMU's status in the foreground; 0 stopped, 1 refused, 2 usage, 3 config, 4 gave up,\n"
	"5 QEMU not startable.\n";

static void note_variants(const struct cl_config *c)
{
	const bool sel[3] = { c->debug, c->gpu_required, c->sim };
	for (int i = 0; i < 3; i++)
		if (sel[i])
			fprintf(stderr,
				"note: cmdline variant '%s' appends '%s' to the measured cmdline: RTMR2 and the image "
				"hash change (predict them with this cmdline, not the production one)\n",
				cl_variants[i].name, cl_variants[i].append);
}

struct run_opts {
	struct cli_cfg_opts cfg;
	int print, print0, json, supervise, no_verify;
	const char *console; /* NULL: the config's (file under --supervise) */
	struct cl_supervise_opts so;
};

/* --console: stdio or file. */
static int parse_console(const char *s, void *console)
{
	if (strcmp(s, "stdio") && strcmp(s, "file"))
		return -EINVAL;
	*(const char **)console = s;
	return 0;
}

/* --max-restarts: -1 (unlimited) or a count. */
static int parse_max_restarts(const char *s, void *max)
{
	uint64_t u;
	if (!strcmp(s, "-1"))
		*(int *)max = -1;
	else if (cm_parse_u64(s, 0, 1000000, &u) == 0)
		*(int *)max = (int)u;
	else
		return -EINVAL;
	return 0;
}

/* Returns -1 to go on, or the exit code (0 after --help). */
static int parse_options(int argc, char **argv, struct run_opts *r)
{
	int rc = 0;
	const struct cm_opt opts[] = {
		CLI_CFG_OPTS(&r->cfg),
		CM_OPT_FLAG("print", 0, &r->print),
		CM_OPT_FLAG("print0", 0, &r->print0),
		CM_OPT_FLAG("json", 0, &r->json),
		CM_OPT_FLAG("supervise", 0, &r->supervise),
		CM_OPT_PARSE("console", 0, &r->console, parse_console, "stdio or file"),
		CM_OPT_PARSE("max-restarts", 0, &r->so.max_restarts, parse_max_restarts, "-1 or a count up to 1000000"),
		CM_OPT_UINT("restart-delay", 0, &r->so.restart_delay, 1, 3600, "seconds"),
		CM_OPT_UINT("stop-timeout", 0, &r->so.stop_timeout, 0, 3600, "seconds"),
		CM_OPT_UINT("stuck-timeout", 0, &r->so.stuck_timeout, 0, 86400, "seconds"),
		CM_OPT_FLAG("no-verify", 0, &r->no_verify),
		CM_OPT_END,
	};
	if (cli_parse_opts("run", argc, argv, opts, run_help, &rc))
		return rc;
	if (argc - optind != 1)
		return cli_usage_error("run", "exactly one CONFIG expected", NULL);
	return -1;
}

/* The accelerator ("auto" resolved); NULL when TDX is asked for without KVM. */
static const char *choose_accel(const struct cl_config *c)
{
	const char *accel = c->accel;
	if (!strcmp(accel, "auto"))
		accel = (c->tdx || cl_kvm_usable("/dev") == 0) ? "kvm" : "tcg";
	if (c->tdx && strcmp(accel, "kvm"))
		return NULL;
	if (!c->tdx)
		fprintf(stderr, "warning: --no-tdx: this guest is NOT a trust domain and NOT confidential; "
				"for tests only (accel %s)\n", accel);
	return accel;
}

/* The manifest pins OVMF.fd, vmlinuz, initrd.img and cmdline: a boot verifies them all
 * (unless --no-verify); --print goes on without a manifest. Returns 0 or an exit code. */
static int verify_image(const struct cl_config *c, const struct run_opts *r, struct cl_manifest *m,
			bool *have_manifest)
{
	const bool dry = r->print || r->print0;
	struct cm_err e = { 0 };
	if (c->profile == CL_PROFILE_COCOON) {
		/* Cocoon's images ship no manifest.json; what they are is proven by the quote */
		*have_manifest = false;
		fprintf(stderr, "note: profile cocoon boots Cocoon's image files unverified (no manifest.json); "
				"check the image hash of the TD's quote against Cocoon's published one\n");
		return 0;
	}
	*have_manifest = cl_manifest_load(m, c->image_dir, &e) == 0;
	if (!*have_manifest) {
		if (!dry && !r->no_verify)
			return cm_cli_error(CL_EXIT_FAIL, "%s", e.msg);
		if (dry)
			fprintf(stderr, "warning: %s (printing anyway)\n", e.msg);
	} else if (!dry && !r->no_verify) {
		static const enum cl_artifact boot[] = { CL_ART_OVMF, CL_ART_KERNEL, CL_ART_INITRD, CL_ART_CMDLINE };
		for (size_t i = 0; i < sizeof(boot) / sizeof(boot[0]); i++)
			if (cl_artifact_verify(m, c->image_dir, boot[i], &e) < 0)
				return cm_cli_error(CL_EXIT_FAIL, "refusing to start: %s", e.msg);
	}
	return 0;
}

/* The -append text: the image's cmdline plus the variants, or (--print of an image
 * without a cmdline file) $(cat FILE). Returns 0 or an exit code. */
static int set_cmdline(const struct cl_config *c, const struct run_opts *r, const struct cl_manifest *m,
		       struct cl_boot *b, char *cmdline, size_t cmdlinesz, char *file, size_t filesz)
{
	char base[CL_CMDLINE_MAX];
	struct cm_err e = { 0 };
	if (cl_config_cmdline_read(c, base, sizeof(base), &e) < 0) {
		if (!r->print && !r->print0)
			return cm_cli_error(CL_EXIT_FAIL, "%s", e.msg);
		if (c->debug || c->gpu_required || c->sim)
			return cm_cli_error(CL_EXIT_FAIL, "%s (needed to append the cmdline variants)", e.msg);
		fprintf(stderr, "warning: %s; printing $(cat FILE) in its place\n", e.msg);
		cl_config_artifact(c, CL_ART_CMDLINE, file, filesz);
		b->cmdline_file = file;
		return 0;
	}
	if (cl_cmdline_build(c, m, base, cmdline, cmdlinesz, &e) < 0)
		return cm_cli_error(CL_EXIT_FAIL, "%s", e.msg);
	b->cmdline = cmdline;
	return 0;
}

/* --print0 (NUL-separated), --print --json (an array) or --print (shell-quoted). */
static int print_argv(const struct cl_argv *a, const struct run_opts *r)
{
	if (r->print0) {
		for (size_t i = 0; i < a->n; i++)
			fwrite(a->v[i], 1, strlen(a->v[i]) + 1, stdout);
	} else if (r->json) {
		json_object *arr = json_object_new_array();
		for (size_t i = 0; i < a->n; i++)
			json_object_array_add(arr, json_object_new_string(a->v[i]));
		cm_json_print(arr, stdout);
		json_object_put(arr);
	} else {
		cl_argv_print(a, stdout);
	}
	return 0;
}

static int collateral_refresh(void *ctx)
{
	return cli_collateral_refresh(ctx, (int64_t)time(NULL), false);
}

/* Create the run and log directories, then supervise QEMU or exec it. */
static int start(const struct cl_config *c, const struct cl_argv *a, struct run_opts *r)
{
	int k;
	if ((k = cli_mkdir_p(c->run_dir, 0700)) < 0 || (k = cli_mkdir_p(c->log_dir, 0750)) < 0)
		return cm_cli_error(CL_EXIT_FAIL, "cannot create %s or %s (%s)", c->run_dir, c->log_dir, strerror(-k));
	struct cm_err e = { 0 };
	if (cl_cocoon_write_runtime(c, &e) < 0) /* Cocoon's runtime vars (cocoon_conf.h) */
		return cm_cli_error(CL_EXIT_FAIL, "refusing to start: %s", e.msg);
	fflush(NULL);
	if (r->supervise) {
		char qmp[CL_PATH_MAX + 16], status[CL_PATH_MAX + 16];
		cl_qmp_path(c, qmp, sizeof(qmp));
		cl_status_path(c, status, sizeof(status));
		r->so.qmp_path = qmp;
		if (c->collateral.n_fmspc && c->collateral.refresh) { /* docs/operator-guide.md "Collateral" */
			r->so.refresh = collateral_refresh;
			r->so.refresh_ctx = (void *)c;
			r->so.refresh_period = c->collateral.refresh;
		}
		r->so.status_path = status;
		return cl_supervise(a, &r->so);
	}
	execvp(a->v[0], a->v);
	int err = errno;
	fprintf(stderr, "error: cannot execute %s (%s)\n", a->v[0], strerror(err));
	return CL_EXIT_EXEC;
}

int cmd_run(int argc, char **argv)
{
	struct run_opts r = {
		.cfg = { .instance = -1 },
		.so = { .max_restarts = -1, .restart_delay = 1, .stop_timeout = 60, .stuck_timeout = 600 },
	};
	int rc = parse_options(argc, argv, &r);
	if (rc >= 0)
		return rc;
	struct cl_config c;
	rc = cli_load_config(&c, argv[optind], &r.cfg);
	if (rc)
		return rc;
	const char *accel = choose_accel(&c);
	if (!accel)
		return cm_cli_error(CL_EXIT_USAGE, "TDX needs --accel kvm (use --no-tdx for a TCG test boot)");
	note_variants(&c);
	struct cl_manifest m;
	bool have_manifest;
	rc = verify_image(&c, &r, &m, &have_manifest);
	if (rc)
		return rc;
	char cmdline[CL_CMDLINE_MAX + 128], cmdline_file[CL_PATH_MAX + 32];
	struct cl_boot b = { .accel = accel, .console = r.console ? r.console : (r.supervise ? "file" : c.console) };
	rc = set_cmdline(&c, &r, have_manifest ? &m : NULL, &b, cmdline, sizeof(cmdline), cmdline_file,
			 sizeof(cmdline_file));
	if (rc)
		return rc;
	struct cl_argv a;
	struct cm_err e = { 0 };
	if (cl_build_argv(&c, &b, &a, &e) < 0)
		return cm_cli_error(CL_EXIT_USAGE, "%s", e.msg);
	rc = r.print || r.print0 ? print_argv(&a, &r) : start(&c, &a, &r);
	cl_argv_free(&a);
	return rc;
}
