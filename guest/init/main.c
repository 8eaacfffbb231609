/* cocoon-init: PID 1 of the appliance's initrd (DESIGN.md "Boot flow").
 *
 * Turns the untrusted host's disks into a verified, measured runtime or refuses to
 * start: every failure prints one line "cocoon-init: FATAL <step>: <reason>" and
 * powers the TD off (docs/boot.md lists the steps and progress lines). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest/init/boot.h"
#include "guest/cmdline/cmdline.h"
#include "guest/init/disks.h"
#include "guest/init/log.h"
#include "guest/init/modules.h"
#include "guest/init/sys.h"
#include "guest/init/verity.h"

#define SYSROOT "/sysroot"
#define LOWER "/run/cocoon/lower"
#define OVL "/run/cocoon/overlay"

static struct ci_boot boot;

static int measure_debug_shell(struct cm_err *e) { return ci_boot_measure_debug_shell(&boot, e); }

static void step_cmdline(void)
{
	struct cm_err e = {0};
	if (ci_cmdline_load("/proc/cmdline", &boot.cmd, &e) < 0)
		ci_fatal("cmdline", "%s", e.msg);
	struct ci_fatal_policy p = {
		.debug_shell = boot.cmd.debug, .is_pid1 = true, .measure_shell = measure_debug_shell};
	ci_fatal_set_policy(&p);
	ci_log("cmdline: roothash %s, %llu root blocks, attest %s%s", boot.cmd.roothash_hex,
	       (unsigned long long)boot.cmd.rootblocks, boot.cmd.attest, boot.cmd.debug ? ", debug" : "");
}

static void step_modules(void)
{
	struct cm_err e = {0};
	if (access(CI_MODULES_LIST, F_OK) != 0) {
		ci_log("modules: no %s, nothing to load", CI_MODULES_LIST);
		return;
	}
	int n = ci_modules_load(CI_MODULES_LIST, NULL, &e);
	if (n < 0)
		ci_fatal("modules", "%s", e.msg);
	ci_log("modules: %d loaded", n);
	/* configfs may have been a module: mount it now (TSM reports need it). */
	if (mount("configfs", "/sys/kernel/config", "configfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 &&
	    errno != EBUSY && errno != ENODEV && errno != ENOENT)
		ci_log("configfs: not mounted (%s)", strerror(errno));
}

void ci_boot_wait_disk(const char *serial, char *path, size_t pathsz)
{
	struct cm_err e = {0};
	if (ci_disk_wait(&boot.disks, serial, boot.cmd.timeout_s * 1000u, path, pathsz, &e) < 0)
		ci_fatal("disks", "%s", e.msg);
	ci_log("disk %s: %s", serial, path);
}

static void step_root(void)
{
	struct cm_err e = {0};
	char dev[300], mapper[300];
	if (ci_disks_open(&boot.disks, "/dev", &e) < 0)
		ci_fatal("disks", "%s", e.msg);
	ci_boot_wait_disk("root", dev, sizeof dev);
	struct ci_verity v = {
		.name = "root",
		.data_dev = dev,
		.hash_dev = dev,
		.hash_offset = boot.cmd.rootblocks * CI_VERITY_BLOCK,
		.data_blocks = boot.cmd.rootblocks,
	};
	memcpy(v.roothash, boot.cmd.roothash, 32);
	if (ci_verity_open(&v, mapper, sizeof mapper, &e) < 0)
		ci_fatal("root", "%s", e.msg);
	if (ci_mkdir_p(LOWER, &e) < 0 || ci_mkdir_p(OVL, &e) < 0 || ci_mkdir_p(SYSROOT, &e) < 0)
		ci_fatal("root", "%s", e.msg);
	if (mount(mapper, LOWER, "erofs", MS_RDONLY | MS_NODEV, NULL) < 0)
		ci_fatal("root", "mount erofs %s on %s (%s)", mapper, LOWER, strerror(errno));
	if (mount("tmpfs", OVL, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0 ||
	    ci_mkdir_p(OVL "/upper", &e) < 0 || ci_mkdir_p(OVL "/work", &e) < 0)
		ci_fatal("root", "overlay tmpfs on %s (%s)", OVL, errno ? strerror(errno) : e.msg);
	if (mount("overlay", SYSROOT, "overlay", 0,
		  "lowerdir=" LOWER ",upperdir=" OVL "/upper,workdir=" OVL "/work") < 0)
		ci_fatal("root", "mount overlay on %s (%s)", SYSROOT, strerror(errno));
	ci_log("root verified %s", boot.cmd.roothash_hex);
}

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct cm_err e = {0};
	struct ci_fatal_policy p = {.debug_shell = false, .is_pid1 = getpid() == 1};
	ci_fatal_set_policy(&p);
	if (getpid() != 1) {
		fprintf(stderr, "cocoon-init: must run as PID 1 (the initrd's /init)\n");
		return 2;
	}
	umask(022);
	if (ci_early_mounts(&e) < 0) {
		ci_log_open();
		ci_fatal("mounts", "%s", e.msg);
	}
	ci_log_open();
	ci_log("starting (version %s)", COCOON_VERSION);
	reboot(RB_DISABLE_CAD); /* ctrl-alt-del becomes SIGINT to PID 1: orderly shutdown */

	step_cmdline();
	step_modules();
	step_root();
	ci_boot_rest(&boot);
	/* not reached */
	ci_poweroff();
}
