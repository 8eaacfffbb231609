/* Disks by virtio serial: uevent netlink + sysfs scan. */
#include "guest/init/disks.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "guest/init/sys.h"

#define RESCAN_MS 250 /* fallback rescan period, in case a uevent is lost (ENOBUFS) */

int ci_disks_open(struct ci_disks *d, const char *sys_root, const char *dev_dir, struct cm_err *e)
{
	memset(d, 0, sizeof *d);
	if (snprintf(d->sys_root, sizeof d->sys_root, "%s", sys_root ? sys_root : "") >= (int)sizeof d->sys_root ||
	    snprintf(d->dev_dir, sizeof d->dev_dir, "%s", dev_dir ? dev_dir : "/dev") >= (int)sizeof d->dev_dir)
		return cm_fail(e, -ENAMETOOLONG, "disk paths too long");
	d->nl_fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
	if (d->nl_fd >= 0) {
		struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = 1};
		if (bind(d->nl_fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
			close(d->nl_fd);
			d->nl_fd = -1;
		}
	}
	/* Without netlink we still find disks by periodic rescans within the bound. */
	return 0;
}

void ci_disks_close(struct ci_disks *d)
{
	if (d->nl_fd >= 0)
		close(d->nl_fd);
	d->nl_fd = -1;
}

int ci_disk_scan(const struct ci_disks *d, const char *serial, char *name, size_t namesz, struct cm_err *e)
{
	char dir[512], path[800], val[64];
	snprintf(dir, sizeof dir, "%s/sys/class/block", d->sys_root);
	DIR *dh = opendir(dir);
	if (!dh) {
		if (errno == ENOENT)
			return 0;
		return cm_fail(e, -errno, "open %s (%s)", dir, strerror(errno));
	}
	int found = 0;
	struct dirent *de;
	while ((de = readdir(dh)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s/partition", dir, de->d_name);
		if (access(path, F_OK) == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s/serial", dir, de->d_name);
		int n = ci_read_text(path, val, sizeof val);
		if (n < 0 || strcmp(val, serial) != 0)
			continue;
		if (found) {
			int r = cm_fail(e, -EEXIST, "two disks carry serial \"%s\" (%s and %s)", serial, name,
					de->d_name);
			closedir(dh);
			return r;
		}
		if (snprintf(name, namesz, "%s", de->d_name) >= (int)namesz) {
			closedir(dh);
			return cm_fail(e, -ENAMETOOLONG, "disk name too long");
		}
		found = 1;
	}
	closedir(dh);
	return found;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Is /dev/<name> a block device with the numbers sysfs reports? */
static int node_ready(const struct ci_disks *d, const char *name, char *path, size_t pathsz)
{
	char p[800], dev[32];
	snprintf(p, sizeof p, "%s/sys/class/block/%s/dev", d->sys_root, name);
	if (ci_read_text(p, dev, sizeof dev) < 0)
		return 0;
	unsigned maj, min;
	if (sscanf(dev, "%u:%u", &maj, &min) != 2)
		return 0;
	if (snprintf(path, pathsz, "%s/%s", d->dev_dir, name) >= (int)pathsz)
		return 0;
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISBLK(st.st_mode))
		return 0;
	return st.st_rdev == makedev(maj, min);
}

static void drain(int fd)
{
	char buf[8192];
	while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
		;
}

int ci_disk_wait(struct ci_disks *d, const char *serial, unsigned timeout_ms, char *path, size_t pathsz,
		 struct cm_err *e)
{
	if (strlen(serial) == 0 || strlen(serial) > CI_SERIAL_MAX)
		return cm_fail(e, -EINVAL, "disk serial \"%s\" must be 1..%d bytes", serial, CI_SERIAL_MAX);
	long long deadline = now_ms() + timeout_ms;
	char name[64] = "";
	for (;;) {
		int r = ci_disk_scan(d, serial, name, sizeof name, e);
		if (r < 0)
			return r;
		if (r == 1 && node_ready(d, name, path, pathsz))
			return 0;
		long long left = deadline - now_ms();
		if (left <= 0)
			break;
		struct pollfd pfd = {.fd = d->nl_fd, .events = POLLIN};
		int wait = left < RESCAN_MS ? (int)left : RESCAN_MS;
		if (d->nl_fd >= 0) {
			if (poll(&pfd, 1, wait) > 0)
				drain(d->nl_fd);
		} else {
			struct timespec ts = {wait / 1000, (wait % 1000) * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
	if (name[0])
		return cm_fail(e, -ETIMEDOUT, "disk with serial \"%s\" (%s) has no device node %s/%s after %u s", serial,
			       name, d->dev_dir, name, timeout_ms / 1000);
	return cm_fail(e, -ETIMEDOUT, "disk with serial \"%s\" never appeared (waited %u s)", serial,
		       timeout_ms / 1000);
}
