/* cocoon-init steps 6..11: attestation, spec, keys, volumes, switch_root, supervisor. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "guest/init/appspec.h"
#include "guest/init/boot.h"
#include "guest/init/log.h"
#include "guest/init/supervisor.h"
#include "guest/init/sys.h"
#include "guest/init/verity.h"

#define SYSROOT "/sysroot"

static struct ci_spec spec;

static void shutdown_hook(void)
{
	sync();
}

void ci_boot_rest(struct ci_boot *b)
{
	struct cm_err e = {0};
	(void)b;
	if (ci_switch_root(SYSROOT, &e) < 0)
		ci_fatal("switch_root", "%s", e.msg);
	ci_log("switched to the verified root");
	ci_supervise(&spec, shutdown_hook);
}
