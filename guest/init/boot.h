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

/* Steps 6..11 after the root is mounted at /sysroot; never returns. */
__attribute__((noreturn)) void ci_boot_rest(struct ci_boot *b);

#endif
