/* Step 4: find virtio disks by serial without udevd (image.md §6.2). A uevent
 * netlink socket is opened before the first sysfs scan, so a disk that appears
 * between scan and wait is not missed; the wait is bounded. */
#ifndef COCOON_INIT_DISKS_H
#define COCOON_INIT_DISKS_H

#include <stddef.h>

#include "measure/core/util.h"

#define CI_SERIAL_MAX 20 /* VIRTIO_BLK_ID_BYTES */

struct ci_disks {
	int nl_fd;             /* NETLINK_KOBJECT_UEVENT, or -1 (then sysfs polling only) */
	char sys_root[256];    /* "" or a test prefix in front of /sys/class/block */
	char dev_dir[256];     /* "/dev" */
};

/* sys_root: prefix for /sys/class/block ("" in the guest); dev_dir: "/dev". */
int ci_disks_open(struct ci_disks *d, const char *sys_root, const char *dev_dir, struct cm_err *e);
void ci_disks_close(struct ci_disks *d);

/* One scan: the whole-disk entry of /sys/class/block whose serial equals serial.
 * Returns 1 and the kernel name (e.g. "vdb") when found, 0 when absent, -EEXIST
 * when two disks carry the serial (refused: ambiguous host input), -errno else. */
int ci_disk_scan(const struct ci_disks *d, const char *serial, char *name, size_t namesz, struct cm_err *e);

/* Wait up to timeout_ms for the disk with this serial and its device node; writes
 * "/dev/vdX" to path. The error names the serial that never appeared. */
int ci_disk_wait(struct ci_disks *d, const char *serial, unsigned timeout_ms, char *path, size_t pathsz,
		 struct cm_err *e);

#endif
