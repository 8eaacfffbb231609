/* cocoon-init: PID 1 of the appliance's initrd (DESIGN.md "Boot flow").
 *
 * Turns the untrusted host's disks into a verified, measured runtime or refuses to
 * start: every failure prints one line "cocoon-init: FATAL <step>: <reason>" and
 * powers the TD off (docs/boot.md lists the steps and progress lines). main() is the
 * boot flow: one call per step, in order, on one struct ci_boot (guest/init/boot.h). */
#include <stdio.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build_info.h"
#include "guest/init/boot.h"
#include "guest/init/log.h"
#include "guest/init/status.h"
#include "guest/init/supervisor.h"
#include "guest/init/sys.h"

/* Step 1: devtmpfs, proc, sysfs, /run, devpts, configfs; console and kmsg logging. */
static void step_mounts(void)
{
	struct cm_err e = {0};
	umask(022);
	if (ci_early_mounts(&e) < 0) {
		ci_log_open();
		ci_fatal("mounts", "%s", e.msg);
	}
	ci_log_open();
	ci_log("starting (version %s)", COCOON_VERSION);
	reboot(RB_DISABLE_CAD); /* ctrl-alt-del becomes SIGINT to PID 1: orderly shutdown */
	/* the status channel (status.h): informational, so a failure is logged, not FATAL */
	if (ci_status_start(&e) < 0)
		ci_log("status channel: %s", e.msg);
}

/* Step 2: the measured command line; it decides what a FATAL does (cocoon.debug). */
static void step_cmdline(struct ci_boot *b)
{
	struct cm_err e = {0};
	if (ci_cmdline_load("/proc/cmdline", &b->cmd, &e) < 0)
		ci_fatal("cmdline", "%s", e.msg);
	struct ci_fatal_policy p = {
		.debug_shell = b->cmd.debug, .is_pid1 = true, .measure_shell = ci_boot_measure_debug_shell, .ctx = b};
	ci_fatal_set_policy(&p);
	ci_log("cmdline: roothash %s, %llu root blocks, attest %s%s", b->cmd.roothash_hex,
	       (unsigned long long)b->cmd.rootblocks, b->cmd.attest, b->cmd.debug ? ", debug" : "");
}

/* Each step is recorded (and logged with its CLOCK_MONOTONIC time) as it starts. */
#define STEP(name, call)                \
	do {                            \
		ci_status_step(name);   \
		call;                   \
	} while (0)

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	static struct ci_boot boot; /* lives as long as PID 1: the shutdown hook reads it */
	struct ci_fatal_policy p = {.debug_shell = false, .is_pid1 = getpid() == 1};
	ci_fatal_set_policy(&p);
	if (getpid() != 1) {
		fprintf(stderr, "cocoon-init: must run as PID 1 (the initrd's /init)\n");
		return 2;
	}
	long long t0 = cm_mono_ms();  /* CLOCK_MONOTONIC starts with the kernel: its time to /init */
	step_mounts();                       /* 1  mounts (and the status thread) */
	ci_status_step_at("init", t0);
	STEP("cmdline", step_cmdline(&boot));               /* 2 */
	STEP("modules", ci_boot_modules(&boot));            /* 3 */
	STEP("disks", ci_boot_disks(&boot));                /* 4 */
	STEP("root", ci_boot_root(&boot));                  /* 5 */
	STEP("spec", ci_boot_spec_copy(&boot));             /* 6  private copy of the 9p share */
	STEP("attest", ci_boot_attest(&boot));              /*    backend and RTMR3 event log */
	STEP("spec-measure", ci_boot_spec_measure(&boot));  /*    RTMR3 <- spec.tree, cocoon.json */
	ci_status_vsock(boot.spec.status_vsock_port);       /*    the spec's status port */
	STEP("gpu", ci_boot_gpu(&boot));                    /* 7 */
	STEP("network", ci_boot_network(&boot));            /* 7a before the keys: a seal server over TCP */
	STEP("keys", ci_boot_keys(&boot));                  /* 8  RTMR3 <- tdx_inited */
	ci_boot_status_image_hash(&boot);
	STEP("persistent", ci_boot_persistent(&boot));      /* 9 */
	STEP("models", ci_boot_models(&boot));              /* 10 */
	STEP("switch_root", ci_boot_switch_root(&boot));    /* 11 */
	ci_status_step("services");
	ci_supervise(&boot.spec, ci_boot_close_volumes, &boot, boot.cmd.debug); /* 11 services; shutdown closes the volumes */
}
