/* Disks by virtio serial: libudev enumeration + kernel uevent monitor (no udevd). */
#include "guest/init/disks.h"

#include <errno.h>
#include <libudev.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "guest/init/boot.h"
#include "guest/init/log.h"

#define RESCAN_MS 250 /* fallback rescan period, in case a uevent is lost (ENOBUFS) */

int ci_disks_open(struct ci_disks *d, const char *dev_dir, struct cm_err *e)
{
	memset(d, 0, sizeof *d);
	if (snprintf(d->dev_dir, sizeof d->dev_dir, "%s", dev_dir ? dev_dir : "/dev") >= (int)sizeof d->dev_dir)
		return cm_fail(e, -ENAMETOOLONG, "disk paths too long");
	d->udev = udev_new();
	if (!d->udev)
		return cm_fail(e, -ENOMEM, "libudev context (%s)", strerror(errno));
	/* The kernel's own uevents: no udevd runs in the initrd. */
	d->mon = udev_monitor_new_from_netlink(d->udev, "kernel");
	if (d->mon && (udev_monitor_filter_add_match_subsystem_devtype(d->mon, "block", "disk") < 0 ||
		       udev_monitor_enable_receiving(d->mon) < 0)) {
		udev_monitor_unref(d->mon);
		d->mon = NULL;
	}
	/* Without the monitor we still find disks by periodic rescans within the bound. */
	return 0;
}

void ci_disks_close(struct ci_disks *d)
{
	d->mon = udev_monitor_unref(d->mon);
	d->udev = udev_unref(d->udev);
}

int ci_disk_scan(const struct ci_disks *d, const char *serial, char *name, size_t namesz, dev_t *devnum,
		 struct cm_err *e)
{
	struct udev_enumerate *en = udev_enumerate_new(d->udev);
	if (!en)
		return cm_fail(e, -ENOMEM, "libudev enumeration (%s)", strerror(errno));
	int r = udev_enumerate_add_match_subsystem(en, "block");
	if (r >= 0)
		r = udev_enumerate_add_match_property(en, "DEVTYPE", "disk"); /* no partitions */
	if (r >= 0)
		r = udev_enumerate_scan_devices(en);
	if (r < 0) {
		udev_enumerate_unref(en);
		return cm_fail(e, r, "enumerate block devices (%s)", strerror(-r));
	}
	int found = 0;
	struct udev_list_entry *le;
	udev_list_entry_foreach(le, udev_enumerate_get_list_entry(en))
	{
		struct udev_device *dev = udev_device_new_from_syspath(d->udev, udev_list_entry_get_name(le));
		if (!dev)
			continue; /* gone since the enumeration */
		const char *val = udev_device_get_sysattr_value(dev, "serial");
		const char *sysname = udev_device_get_sysname(dev);
		if (val && sysname && strcmp(val, serial) == 0) {
			if (found)
				r = cm_fail(e, -EEXIST, "two disks carry serial \"%s\" (%s and %s)", serial, name,
					    sysname);
			else if (snprintf(name, namesz, "%s", sysname) >= (int)namesz)
				r = cm_fail(e, -ENAMETOOLONG, "disk name too long");
			else if (devnum)
				*devnum = udev_device_get_devnum(dev);
			found = 1;
		}
		udev_device_unref(dev);
		if (r < 0)
			break;
	}
	udev_enumerate_unref(en);
	return r < 0 ? r : found;
}

/* Is <dev_dir>/<name> a block device with the number sysfs reports? */
static int node_ready(const struct ci_disks *d, const char *name, dev_t devnum, char *path, size_t pathsz)
{
	if (devnum == 0 || snprintf(path, pathsz, "%s/%s", d->dev_dir, name) >= (int)pathsz)
		return 0;
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISBLK(st.st_mode))
		return 0;
	return st.st_rdev == devnum;
}

/* Wait for a uevent (consumed: the next enumeration sees its effect) or wait_ms. */
static void wait_for_change(struct ci_disks *d, int wait_ms)
{
	if (!d->mon) {
		struct timespec ts = {wait_ms / 1000, (wait_ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
		return;
	}
	struct pollfd pfd = {.fd = udev_monitor_get_fd(d->mon), .events = POLLIN};
	if (poll(&pfd, 1, wait_ms) <= 0)
		return;
	struct udev_device *dev;
	while ((dev = udev_monitor_receive_device(d->mon)) != NULL)
		udev_device_unref(dev);
}

int ci_disk_wait(struct ci_disks *d, const char *serial, unsigned timeout_ms, char *path, size_t pathsz,
		 struct cm_err *e)
{
	if (strlen(serial) == 0 || strlen(serial) > CI_SERIAL_MAX)
		return cm_fail(e, -EINVAL, "disk serial \"%s\" must be 1..%d bytes", serial, CI_SERIAL_MAX);
	long long deadline = cm_mono_ms() + timeout_ms;
	char name[64] = "";
	for (;;) {
		dev_t devnum = 0;
		int r = ci_disk_scan(d, serial, name, sizeof name, &devnum, e);
		if (r < 0)
			return r;
		if (r == 1 && node_ready(d, name, devnum, path, pathsz))
			return 0;
		long long left = deadline - cm_mono_ms();
		if (left <= 0)
			break;
		wait_for_change(d, left < RESCAN_MS ? (int)left : RESCAN_MS);
	}
	if (name[0])
		return cm_fail(e, -ETIMEDOUT, "disk with serial \"%s\" (%s) has no device node %s/%s after %u s", serial,
			       name, d->dev_dir, name, timeout_ms / 1000);
	return cm_fail(e, -ETIMEDOUT, "disk with serial \"%s\" never appeared (waited %u s)", serial,
		       timeout_ms / 1000);
}

void ci_boot_disks(struct ci_boot *b)
{
	struct cm_err e = {0};
	if (ci_disks_open(&b->disks, "/dev", &e) < 0)
		ci_fatal("disks", "%s", e.msg);
}

void ci_boot_wait_disk(struct ci_boot *b, const char *serial, char *path, size_t pathsz)
{
	struct cm_err e = {0};
	if (ci_disk_wait(&b->disks, serial, b->cmd.timeout_s * 1000u, path, pathsz, &e) < 0)
		ci_fatal("disks", "%s", e.msg);
	ci_log("disk %s: %s", serial, path);
}
