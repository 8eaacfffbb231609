/* cocoon-launch: host preflight, QEMU for TDX (and for tests), supervision, systemd
 * units and ACPI capture for RTMR0 prediction. See docs/operator-guide.md. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "host-launcher/acpi.h"
#include "host-launcher/argv.h"
#include "host-launcher/check.h"
#include "host-launcher/config.h"
#include "host-launcher/image.h"
#include "host-launcher/run.h"
#include "host-launcher/unit.h"
#include "measure/core/json.h"

#ifndef COCOON_VERSION
#define COCOON_VERSION "unknown"
#endif

#define MAX_SETS 64

static int err_exit(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int err_exit(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return code;
}

static int usage_error(const char *cmd, const char *msg, const char *arg)
{
	fprintf(stderr, "error: %s%s%s\n(see cocoon-launch %s --help)\n", msg, arg ? ": " : "", arg ? arg : "",
		cmd);
	return CL_EXIT_USAGE;
}

/* Options shared by the commands that read a config. */
struct cfg_opts {
	const char *sets[MAX_SETS];
	size_t n_sets;
	int instance;  /* -1 = from the file */
	int no_tdx;
	const char *accel;
	int debug, gpu, sim;
};

static int add_set(struct cfg_opts *o, const char *kv)
{
	if (o->n_sets >= MAX_SETS)
		return -E2BIG;
	o->sets[o->n_sets++] = kv;
	return 0;
}

static int load_config(struct cl_config *c, const char *path, const struct cfg_opts *o)
{
	struct cm_err e = { 0 };
	cl_config_init(c);
	if (cl_config_load(c, path, &e) < 0)
		return err_exit(CL_EXIT_CONFIG, "%s", e.msg);
	for (size_t i = 0; i < o->n_sets; i++)
		if (cl_config_set(c, o->sets[i], &e) < 0)
			return err_exit(CL_EXIT_CONFIG, "%s", e.msg);
	if (o->instance >= 0) {
		char kv[32];
		snprintf(kv, sizeof(kv), "instance=%d", o->instance);
		if (cl_config_set(c, kv, &e) < 0)
			return err_exit(CL_EXIT_CONFIG, "--instance: %s", e.msg);
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
		return err_exit(CL_EXIT_CONFIG, "%s: %s", path, e.msg);
	return 0;
}

static int parse_uint_arg(const char *s, unsigned max, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v > max || s[0] == '-')
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

enum {
	OPT_SET = 1000, OPT_INSTANCE, OPT_NO_TDX, OPT_ACCEL, OPT_DEBUG, OPT_GPU, OPT_SIM, OPT_JSON,
	OPT_PRINT, OPT_PRINT0, OPT_SUPERVISE, OPT_CONSOLE, OPT_MAX_RESTARTS, OPT_RESTART_DELAY,
	OPT_STOP_TIMEOUT, OPT_SYS, OPT_PROC, OPT_DEV, OPT_OUT, OPT_BIN, OPT_TIMEOUT, OPT_KERNEL,
	OPT_INITRD, OPT_NO_VERIFY, OPT_HELP,
};

/* Handle a shared option; returns 1 if handled, 0 if not, or an exit code (< 0 inverted). */
static int shared_opt(int ch, const char *arg, struct cfg_opts *o, const char *cmd, int *rc)
{
	unsigned u;
	switch (ch) {
	case OPT_SET:
		if (add_set(o, arg) < 0)
			*rc = usage_error(cmd, "too many --set options", NULL);
		return 1;
	case OPT_INSTANCE:
		if (parse_uint_arg(arg, CL_MAX_INSTANCE, &u) < 0)
			*rc = usage_error(cmd, "--instance wants 0-99", arg);
		else
			o->instance = (int)u;
		return 1;
	case OPT_NO_TDX: o->no_tdx = 1; return 1;
	case OPT_ACCEL:
		if (strcmp(arg, "kvm") && strcmp(arg, "tcg") && strcmp(arg, "auto"))
			*rc = usage_error(cmd, "--accel wants kvm, tcg or auto", arg);
		o->accel = arg;
		return 1;
	case OPT_DEBUG: o->debug = 1; return 1;
	case OPT_GPU: o->gpu = 1; return 1;
	case OPT_SIM: o->sim = 1; return 1;
	default: return 0;
	}
}

#define SHARED_LONGOPTS                                              \
	{ "set", required_argument, NULL, OPT_SET },                 \
	{ "instance", required_argument, NULL, OPT_INSTANCE },       \
	{ "no-tdx", no_argument, NULL, OPT_NO_TDX },                 \
	{ "accel", required_argument, NULL, OPT_ACCEL },             \
	{ "debug", no_argument, NULL, OPT_DEBUG },                   \
	{ "gpu", no_argument, NULL, OPT_GPU },                       \
	{ "sim", no_argument, NULL, OPT_SIM },                       \
	{ "help", no_argument, NULL, OPT_HELP }

/* ---- check ------------------------------------------------------------------------ */

static const char check_help[] =
	"usage: cocoon-launch check [CONFIG] [--set KEY=VALUE]... [--instance N] [--no-tdx] [--json]\n"
	"Host preflight: one line per check and a verdict. Exit 0 when every required check\n"
	"passes, 1 otherwise. Without CONFIG only the host is checked (TDX, KVM, QEMU, QGS, memory).\n"
	"Test options: --sys DIR --proc DIR --dev DIR (roots of sysfs, procfs and /dev).\n";

static int cmd_check(int argc, char **argv)
{
	static const struct option lo[] = {
		SHARED_LONGOPTS,
		{ "json", no_argument, NULL, OPT_JSON },
		{ "sys", required_argument, NULL, OPT_SYS },
		{ "proc", required_argument, NULL, OPT_PROC },
		{ "dev", required_argument, NULL, OPT_DEV },
		{ 0, 0, 0, 0 },
	};
	struct cfg_opts o = { .instance = -1 };
	struct cl_host h;
	cl_host_default(&h);
	int json = 0, ch, rc = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (shared_opt(ch, optarg, &o, "check", &rc)) {
			if (rc)
				return rc;
			continue;
		}
		switch (ch) {
		case OPT_JSON: json = 1; break;
		case OPT_SYS: h.sys = optarg; break;
		case OPT_PROC: h.proc = optarg; break;
		case OPT_DEV: h.dev = optarg; break;
		case OPT_HELP: fputs(check_help, stdout); return 0;
		default: return usage_error("check", "bad option", NULL);
		}
	}
	if (argc - optind > 1)
		return usage_error("check", "at most one CONFIG", argv[optind + 1]);
	struct cl_config c;
	const struct cl_config *cp = NULL;
	if (optind < argc) {
		rc = load_config(&c, argv[optind], &o);
		if (rc)
			return rc;
		cp = &c;
	}
	static struct cl_report r;
	cl_check_host(cp, &h, &r);
	if (json) {
		json_object *root = json_object_new_object(), *arr = json_object_new_array();
		for (size_t i = 0; i < r.n; i++) {
			json_object *x = json_object_new_object();
			cm_json_add_str(x, "name", r.c[i].name);
			cm_json_add_str(x, "status", r.c[i].status == CL_FAIL ? "fail" : cl_status_name(r.c[i].status));
			cm_json_add_bool(x, "required", r.c[i].required);
			cm_json_add_str(x, "detail", r.c[i].detail);
			json_object_array_add(arr, x);
		}
		json_object_object_add(root, "checks", arr);
		cm_json_add_str(root, "verdict", r.ok ? "pass" : "fail");
		cm_json_print(root, stdout);
		json_object_put(root);
	} else {
		for (size_t i = 0; i < r.n; i++)
			printf("%-4s %-22s %s%s\n", cl_status_name(r.c[i].status), r.c[i].name, r.c[i].detail,
			       r.c[i].status == CL_FAIL && !r.c[i].required ? " (not required)" : "");
		size_t fails = 0;
		for (size_t i = 0; i < r.n; i++)
			fails += r.c[i].status == CL_FAIL && r.c[i].required;
		if (r.ok)
			printf("verdict: PASS: this host can run the %s\n",
			       cp && !cp->tdx ? "node without TDX (NOT confidential)" : "confidential node");
		else
			printf("verdict: FAIL: %zu required check(s) failed; cocoon-launch run will not start a %s "
			       "node here\n", fails, cp && !cp->tdx ? "" : "confidential");
	}
	return r.ok ? CL_EXIT_OK : CL_EXIT_FAIL;
}

/* ---- run ---------------------------------------------------------------------------- */

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

static int mkdir_p(const char *path, mode_t mode)
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

static int cmd_run(int argc, char **argv)
{
	static const struct option lo[] = {
		SHARED_LONGOPTS,
		{ "print", no_argument, NULL, OPT_PRINT },
		{ "print0", no_argument, NULL, OPT_PRINT0 },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "supervise", no_argument, NULL, OPT_SUPERVISE },
		{ "console", required_argument, NULL, OPT_CONSOLE },
		{ "max-restarts", required_argument, NULL, OPT_MAX_RESTARTS },
		{ "restart-delay", required_argument, NULL, OPT_RESTART_DELAY },
		{ "stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT },
		{ "no-verify", no_argument, NULL, OPT_NO_VERIFY },
		{ 0, 0, 0, 0 },
	};
	struct cfg_opts o = { .instance = -1 };
	int print = 0, print0 = 0, json = 0, supervise = 0, no_verify = 0, ch, rc = 0;
	const char *console = NULL;
	struct cl_supervise_opts so = { .max_restarts = -1, .restart_delay = 1, .stop_timeout = 60 };
	unsigned u;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (shared_opt(ch, optarg, &o, "run", &rc)) {
			if (rc)
				return rc;
			continue;
		}
		switch (ch) {
		case OPT_PRINT: print = 1; break;
		case OPT_PRINT0: print0 = 1; break;
		case OPT_JSON: json = 1; break;
		case OPT_SUPERVISE: supervise = 1; break;
		case OPT_NO_VERIFY: no_verify = 1; break;
		case OPT_CONSOLE:
			if (strcmp(optarg, "stdio") && strcmp(optarg, "file"))
				return usage_error("run", "--console wants stdio or file", optarg);
			console = optarg;
			break;
		case OPT_MAX_RESTARTS:
			if (!strcmp(optarg, "-1"))
				so.max_restarts = -1;
			else if (parse_uint_arg(optarg, 1000000, &u) < 0)
				return usage_error("run", "--max-restarts wants -1 or a count", optarg);
			else
				so.max_restarts = (int)u;
			break;
		case OPT_RESTART_DELAY:
			if (parse_uint_arg(optarg, 3600, &u) < 0 || u == 0)
				return usage_error("run", "--restart-delay wants 1-3600 seconds", optarg);
			so.restart_delay = u;
			break;
		case OPT_STOP_TIMEOUT:
			if (parse_uint_arg(optarg, 3600, &u) < 0)
				return usage_error("run", "--stop-timeout wants 0-3600 seconds", optarg);
			so.stop_timeout = u;
			break;
		case OPT_HELP: fputs(run_help, stdout); return 0;
		default: return usage_error("run", "bad option", NULL);
		}
	}
	if (argc - optind != 1)
		return usage_error("run", "exactly one CONFIG expected", NULL);
	const char *cfgpath = argv[optind];
	struct cl_config c;
	rc = load_config(&c, cfgpath, &o);
	if (rc)
		return rc;
	const bool dry = print || print0;

	/* accelerator */
	const char *accel = c.accel;
	if (!strcmp(accel, "auto"))
		accel = (c.tdx || cl_kvm_usable("/dev") == 0) ? "kvm" : "tcg";
	if (c.tdx && strcmp(accel, "kvm"))
		return err_exit(CL_EXIT_USAGE, "TDX needs --accel kvm (use --no-tdx for a TCG test boot)");
	if (!c.tdx)
		fprintf(stderr, "warning: --no-tdx: this guest is NOT a trust domain and NOT confidential; "
				"for tests only (accel %s)\n", accel);
	note_variants(&c);

	/* image: the manifest pins OVMF.fd, vmlinuz, initrd.img and cmdline */
	struct cm_err e = { 0 };
	struct cl_manifest m;
	bool have_manifest = cl_manifest_load(&m, c.image_dir, &e) == 0;
	if (!have_manifest) {
		if (!dry && !no_verify)
			return err_exit(CL_EXIT_FAIL, "%s", e.msg);
		if (dry)
			fprintf(stderr, "warning: %s (printing anyway)\n", e.msg);
	} else if (!dry && !no_verify) {
		static const enum cl_artifact boot[] = { CL_ART_OVMF, CL_ART_KERNEL, CL_ART_INITRD, CL_ART_CMDLINE };
		for (size_t i = 0; i < sizeof(boot) / sizeof(boot[0]); i++)
			if (cl_artifact_verify(&m, c.image_dir, boot[i], &e) < 0)
				return err_exit(CL_EXIT_FAIL, "refusing to start: %s", e.msg);
	}
	char base[CL_CMDLINE_MAX], cmdline[CL_CMDLINE_MAX + 128];
	char cmdline_file[CL_PATH_MAX + 32];
	struct cl_boot b = { .accel = accel, .console = console ? console : (supervise ? "file" : c.console) };
	if (cl_cmdline_read(c.image_dir, base, sizeof(base), &e) < 0) {
		if (!dry)
			return err_exit(CL_EXIT_FAIL, "%s", e.msg);
		if (c.debug || c.gpu_required || c.sim)
			return err_exit(CL_EXIT_FAIL, "%s (needed to append the cmdline variants)", e.msg);
		fprintf(stderr, "warning: %s; printing $(cat FILE) in its place\n", e.msg);
		cl_artifact_path(c.image_dir, CL_ART_CMDLINE, cmdline_file, sizeof(cmdline_file));
		b.cmdline_file = cmdline_file;
	} else {
		if (cl_cmdline_build(&c, have_manifest ? &m : NULL, base, cmdline, sizeof(cmdline), &e) < 0)
			return err_exit(CL_EXIT_FAIL, "%s", e.msg);
		b.cmdline = cmdline;
	}
	struct cl_argv a;
	if (cl_build_argv(&c, &b, &a, &e) < 0)
		return err_exit(CL_EXIT_USAGE, "%s", e.msg);

	if (print0) {
		for (size_t i = 0; i < a.n; i++)
			fwrite(a.v[i], 1, strlen(a.v[i]) + 1, stdout);
		cl_argv_free(&a);
		return 0;
	}
	if (print) {
		if (json) {
			json_object *arr = json_object_new_array();
			for (size_t i = 0; i < a.n; i++)
				json_object_array_add(arr, json_object_new_string(a.v[i]));
			cm_json_print(arr, stdout);
			json_object_put(arr);
		} else {
			cl_argv_print(&a, stdout);
		}
		cl_argv_free(&a);
		return 0;
	}

	int k;
	if ((k = mkdir_p(c.run_dir, 0700)) < 0 || (k = mkdir_p(c.log_dir, 0750)) < 0) {
		cl_argv_free(&a);
		return err_exit(CL_EXIT_FAIL, "cannot create %s or %s (%s)", c.run_dir, c.log_dir, strerror(-k));
	}
	fflush(NULL);
	if (supervise) {
		char qmp[CL_PATH_MAX + 16];
		cl_qmp_path(&c, qmp, sizeof(qmp));
		so.qmp_path = qmp;
		rc = cl_supervise(&a, &so);
		cl_argv_free(&a);
		return rc;
	}
	execvp(a.v[0], a.v);
	rc = errno;
	fprintf(stderr, "error: cannot execute %s (%s)\n", a.v[0], strerror(rc));
	cl_argv_free(&a);
	return CL_EXIT_EXEC;
}

/* ---- stop --------------------------------------------------------------------------- */

static const char stop_help[] =
	"usage: cocoon-launch stop CONFIG [--set KEY=VALUE]... [--instance N] [--timeout S]\n"
	"Ask the guest to power off (QMP system_powerdown) and wait until QEMU exits (default 90 s).\n";

static int cmd_stop(int argc, char **argv)
{
	static const struct option lo[] = {
		SHARED_LONGOPTS,
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ 0, 0, 0, 0 },
	};
	struct cfg_opts o = { .instance = -1 };
	unsigned timeout = 90;
	int ch, rc = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (shared_opt(ch, optarg, &o, "stop", &rc)) {
			if (rc)
				return rc;
			continue;
		}
		switch (ch) {
		case OPT_TIMEOUT:
			if (parse_uint_arg(optarg, 3600, &timeout) < 0)
				return usage_error("stop", "--timeout wants 0-3600 seconds", optarg);
			break;
		case OPT_HELP: fputs(stop_help, stdout); return 0;
		default: return usage_error("stop", "bad option", NULL);
		}
	}
	if (argc - optind != 1)
		return usage_error("stop", "exactly one CONFIG expected", NULL);
	struct cl_config c;
	rc = load_config(&c, argv[optind], &o);
	if (rc)
		return rc;
	char qmp[CL_PATH_MAX + 16];
	cl_qmp_path(&c, qmp, sizeof(qmp));
	struct cm_err e = { 0 };
	if (cl_qmp_command(qmp, "system_powerdown", true, timeout, &e) < 0)
		return err_exit(CL_EXIT_FAIL, "%s", e.msg);
	printf("%s %u stopped\n", cl_node_type_name(c.type), c.instance);
	return 0;
}

/* ---- unit --------------------------------------------------------------------------- */

static const char unit_help[] =
	"usage: cocoon-launch unit CONFIG --instance N [--out DIR] [--bin PATH]\n"
	"Write the systemd template unit cocoon-<type>@.service and the drop-in of instance N\n"
	"(default DIR /etc/systemd/system, PATH = this program's absolute path).\n";

static int cmd_unit(int argc, char **argv)
{
	static const struct option lo[] = {
		SHARED_LONGOPTS,
		{ "out", required_argument, NULL, OPT_OUT },
		{ "bin", required_argument, NULL, OPT_BIN },
		{ 0, 0, 0, 0 },
	};
	struct cfg_opts o = { .instance = -1 };
	const char *out = "/etc/systemd/system", *bin = NULL;
	int ch, rc = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (shared_opt(ch, optarg, &o, "unit", &rc)) {
			if (rc)
				return rc;
			continue;
		}
		switch (ch) {
		case OPT_OUT: out = optarg; break;
		case OPT_BIN: bin = optarg; break;
		case OPT_HELP: fputs(unit_help, stdout); return 0;
		default: return usage_error("unit", "bad option", NULL);
		}
	}
	if (argc - optind != 1)
		return usage_error("unit", "exactly one CONFIG expected", NULL);
	if (o.instance < 0)
		return usage_error("unit", "--instance N is required", NULL);
	if (o.no_tdx || o.debug || o.sim || o.gpu || o.accel)
		return usage_error("unit", "units run the configured production boot; put variants in the config",
				   NULL);
	char cfgabs[PATH_MAX], binabs[PATH_MAX];
	if (!realpath(argv[optind], cfgabs))
		return err_exit(CL_EXIT_CONFIG, "cannot resolve %s (%s)", argv[optind], strerror(errno));
	if (!bin) {
		ssize_t n = readlink("/proc/self/exe", binabs, sizeof(binabs) - 1);
		if (n < 0)
			return err_exit(CL_EXIT_FAIL, "cannot find this program's path; pass --bin");
		binabs[n] = 0;
		bin = binabs;
	}
	struct cl_config c;
	rc = load_config(&c, cfgabs, &o);
	if (rc)
		return rc;
	struct cm_err e = { 0 };
	if (cl_unit_write(&c, cfgabs, bin, out, &e) < 0)
		return err_exit(CL_EXIT_FAIL, "%s", e.msg);
	return 0;
}

/* ---- capture-acpi ------------------------------------------------------------------- */

static const char acpi_help[] =
	"usage: cocoon-launch capture-acpi CONFIG --kernel VMLINUZ --initrd PROBE_INITRD [--out DIR]\n"
	"       [--timeout S] [--set KEY=VALUE]... [--accel kvm|tcg]\n"
	"Boot a probe guest of the node's machine shape without TDX and capture the fw_cfg files\n"
	"etc/acpi/tables, etc/acpi/rsdp and etc/table-loader into DIR (default ./acpi) as\n"
	"tables.bin, rsdp.bin, table-loader.bin plus acpi.json (sizes, sha256). The probe initrd\n"
	"has cocoon-acpi-probe as /init. TDX guests can differ: see docs/operator-guide.md.\n";

static int cmd_capture_acpi(int argc, char **argv)
{
	static const struct option lo[] = {
		SHARED_LONGOPTS,
		{ "out", required_argument, NULL, OPT_OUT },
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "initrd", required_argument, NULL, OPT_INITRD },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ 0, 0, 0, 0 },
	};
	struct cfg_opts o = { .instance = -1 };
	const char *out = "acpi", *kernel = NULL, *initrd = NULL;
	unsigned timeout = 300;
	int ch, rc = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (shared_opt(ch, optarg, &o, "capture-acpi", &rc)) {
			if (rc)
				return rc;
			continue;
		}
		switch (ch) {
		case OPT_OUT: out = optarg; break;
		case OPT_KERNEL: kernel = optarg; break;
		case OPT_INITRD: initrd = optarg; break;
		case OPT_TIMEOUT:
			if (parse_uint_arg(optarg, 36000, &timeout) < 0 || !timeout)
				return usage_error("capture-acpi", "--timeout wants seconds", optarg);
			break;
		case OPT_HELP: fputs(acpi_help, stdout); return 0;
		default: return usage_error("capture-acpi", "bad option", NULL);
		}
	}
	if (argc - optind != 1)
		return usage_error("capture-acpi", "exactly one CONFIG expected", NULL);
	if (!kernel || !initrd)
		return usage_error("capture-acpi", "--kernel and --initrd are required", NULL);
	o.no_tdx = 1;
	struct cl_config c;
	rc = load_config(&c, argv[optind], &o);
	if (rc)
		return rc;
	const char *accel = c.accel;
	if (!strcmp(accel, "auto"))
		accel = cl_kvm_usable("/dev") == 0 ? "kvm" : "tcg";
	int k = mkdir_p(out, 0755);
	if (k < 0)
		return err_exit(CL_EXIT_FAIL, "cannot create %s (%s)", out, strerror(-k));
	char outabs[PATH_MAX];
	if (!realpath(out, outabs))
		return err_exit(CL_EXIT_FAIL, "cannot resolve %s", out);
	struct cm_err e = { 0 };
	if (cl_acpi_capture(&c, accel, kernel, initrd, outabs, timeout, &e) < 0)
		return err_exit(CL_EXIT_FAIL, "%s", e.msg);
	return 0;
}

/* ---- dispatch ----------------------------------------------------------------------- */

static const struct {
	const char *name, *summary;
	int (*run)(int, char **);
} cmds[] = {
	{ "check", "host preflight with a verdict", cmd_check },
	{ "run", "build the QEMU argv and run (or --print) the node", cmd_run },
	{ "stop", "orderly guest shutdown through QMP", cmd_stop },
	{ "unit", "write systemd units for an instance", cmd_unit },
	{ "capture-acpi", "capture the ACPI blobs of this machine shape", cmd_capture_acpi },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: cocoon-launch COMMAND [options]   (cocoon-launch COMMAND --help)\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-13s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "  %-13s %s\n", "version", "print the version");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("cocoon-launch %s\n", COCOON_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].run(argc - 1, argv + 1);
	fprintf(stderr, "error: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return CL_EXIT_USAGE;
}
