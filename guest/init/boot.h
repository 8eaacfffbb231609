/* State shared by the boot steps of cocoon-init (main.c, stage2.c). */
#ifndef COCOON_INIT_BOOT_H
#define COCOON_INIT_BOOT_H

#include <stddef.h>

#include "guest/cmdline/cmdline.h"
#include "guest/init/disks.h"

struct ci_boot {
	struct ci_cmdline cmd;
	struct ci_disks disks;
};

/* Wait for a disk by serial or halt (FATAL disks). */
void ci_boot_wait_disk(const char *serial, char *path, size_t pathsz);

/* cocoon.debug's FATAL hook (ci_fatal_policy.measure_shell): RTMR3 <- "cocoon:debug_shell"
 * through the boot's attestation backend, opened first (backend b->cmd.attest, event log
 * /run/cocoon/rtmr3.log) when the FATAL came before step 6. */
int ci_boot_measure_debug_shell(const struct ci_boot *b, struct cm_err *e);

/* The same on an explicit backend slot (*backend opened with name and event_log when
 * NULL; the log's directory is created). Logs "rtmr3 extend ..." on success. */
struct ca_backend;
int ci_debug_shell_measure(struct ca_backend **backend, const char *name, const char *event_log,
			   struct cm_err *e);

/* Steps 6..11 after the root is mounted at /sysroot; never returns. */
__attribute__((noreturn)) void ci_boot_rest(struct ci_boot *b);

#endif
