/* Step 4: find virtio disks by serial without udevd (image.md §6.2), with libudev:
 * an enumeration of the block devices in sysfs and a monitor on the kernel's uevent
 * netlink source. The monitor is opened before the first enumeration, so a disk that
 * appears between enumeration and wait is not missed; the wait is bounded. */
#ifndef COCOON_INIT_DISKS_H
#define COCOON_INIT_DISKS_H

#include <stddef.h>
#include <sys/types.h>

#include "measure/core/util.h"

#define CI_SERIAL_MAX 20 /* VIRTIO_BLK_ID_BYTES */

struct udev;
struct udev_monitor;

struct ci_disks {
	struct udev *udev;
	struct udev_monitor *mon; /* kernel uevents of disks, or NULL (then periodic rescans only) */
	char dev_dir[256];        /* "/dev" (a test directory in the unit tests) */
};

/* dev_dir: where the device nodes are ("/dev"). Devices come from /sys (libudev). */
int ci_disks_open(struct ci_disks *d, const char *dev_dir, struct cm_err *e);
void ci_disks_close(struct ci_disks *d);

/* One enumeration: the whole disk (DEVTYPE=disk) of subsystem block whose sysfs serial
 * equals serial. Returns 1 with the kernel name (e.g. "vdb") and its device number
 * (devnum may be NULL) when found, 0 when absent, -EEXIST when two disks carry the
 * serial (refused: ambiguous host input), -errno else. */
int ci_disk_scan(const struct ci_disks *d, const char *serial, char *name, size_t namesz, dev_t *devnum,
		 struct cm_err *e);

/* Wait up to timeout_ms for the disk with this serial and its device node; writes
 * "/dev/vdX" to path. The error names the serial that never appeared. */
int ci_disk_wait(struct ci_disks *d, const char *serial, unsigned timeout_ms, char *path, size_t pathsz,
		 struct cm_err *e);

#endif
