/* Host preflight checks. */
#include "host-launcher/check.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#include "host-launcher/image.h"

extern char **environ;

void cl_host_default(struct cl_host *h)
{
	h->sys = "/sys";
	h->proc = "/proc";
	h->dev = "/dev";
	h->vsock_connect = NULL;
}

const char *cl_status_name(enum cl_status s)
{
	switch (s) {
	case CL_PASS: return "ok";
	case CL_WARN: return "warn";
	case CL_FAIL: return "FAIL";
	default: return "skip";
	}
}

static struct cl_check *add(struct cl_report *r, const char *name, enum cl_status st, bool required,
			    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static struct cl_check *add(struct cl_report *r, const char *name, enum cl_status st, bool required,
			    const char *fmt, ...)
{
	if (r->n >= CL_MAX_CHECKS)
		return NULL;
	struct cl_check *c = &r->c[r->n++];
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->status = st;
	c->required = required;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
	if (st == CL_FAIL && required)
		r->ok = false;
	return c;
}

int cl_qemu_parse_version(const char *text, unsigned *major, unsigned *minor, unsigned *micro)
{
	const char *p = strstr(text, "QEMU emulator version ");
	if (!p)
		return -EINVAL;
	p += strlen("QEMU emulator version ");
	*micro = 0;
	int n = 0;
	if (sscanf(p, "%u.%u%n", major, minor, &n) != 2)
		return -EINVAL;
	if (p[n] == '.')
		sscanf(p + n + 1, "%u", micro);
	return 0;
}

int cl_capture_output(char *const argv[], char *out, size_t max, int *status)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) != 0)
		return -errno;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	pid_t pid;
	int r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (r != 0) {
		close(pfd[0]);
		return -r;
	}
	size_t n = 0;
	for (;;) {
		char tmp[4096];
		ssize_t k = read(pfd[0], tmp, sizeof(tmp));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		size_t take = (size_t)k;
		if (n + take > max - 1)
			take = max - 1 - n;
		memcpy(out + n, tmp, take);
		n += take;
	}
	out[n] = 0;
	close(pfd[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	*status = st;
	return 0;
}

int cl_vsock_connect(uint32_t cid, uint32_t port, int timeout_ms)
{
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port };
	int r = 0;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (errno != EINPROGRESS) {
			r = -errno;
		} else {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			int k = poll(&p, 1, timeout_ms);
			if (k == 0) {
				r = -ETIMEDOUT;
			} else if (k < 0) {
				r = -errno;
			} else {
				int soerr = 0;
				socklen_t sl = sizeof(soerr);
				getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
				r = -soerr;
			}
		}
	}
	close(fd);
	return r;
}

int cl_kvm_usable(const char *dev)
{
	char path[CL_PATH_MAX];
	snprintf(path, sizeof(path), "%s/kvm", dev);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* Read a small sysfs/proc text file, trailing newline stripped. */
static int read_text(const char *path, char *out, size_t outsz)
{
	long n = cm_read_upto(path, out, outsz - 1);
	if (n < 0)
		return (int)n;
	out[n] = 0;
	while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = 0;
	return 0;
}

static int link_basename(const char *path, char *out, size_t outsz)
{
	char buf[CL_PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	const char *b = strrchr(buf, '/');
	b = b ? b + 1 : buf;
	size_t l = strlen(b);
	if (l >= outsz)
		return -ENAMETOOLONG;
	memcpy(out, b, l + 1);
	return 0;
}

static void check_tdx(const struct cl_host *h, bool need, struct cl_report *r)
{
	char path[CL_PATH_MAX], val[64];
	snprintf(path, sizeof(path), "%s/module/kvm_intel/parameters/tdx", h->sys);
	int k = read_text(path, val, sizeof(val));
	if (k < 0) {
		char kvmi[CL_PATH_MAX];
		snprintf(kvmi, sizeof(kvmi), "%s/module/kvm_intel", h->sys);
		struct stat st;
		if (stat(kvmi, &st) != 0)
			add(r, "tdx", need ? CL_FAIL : CL_WARN, need,
			    "TDX is absent: kvm_intel is not loaded (no %s); this host cannot run a TD", kvmi);
		else
			add(r, "tdx", need ? CL_FAIL : CL_WARN, need,
			    "TDX is absent: the host kernel's kvm_intel has no tdx parameter (%s missing); "
			    "a host kernel with TDX host support (Linux >= 6.16) is needed", path);
	} else if (!strcmp(val, "Y") || !strcmp(val, "y") || !strcmp(val, "1")) {
		add(r, "tdx", CL_PASS, need, "TDX enabled in KVM (%s = %s)", path, val);
	} else {
		add(r, "tdx", need ? CL_FAIL : CL_WARN, need,
		    "TDX is disabled in KVM (%s = %s); load kvm_intel with tdx=1 (TDX must also be enabled "
		    "in the BIOS)", path, val);
	}
}

static void check_qemu(const struct cl_config *c, bool need_tdx, struct cl_report *r)
{
	const char *q = c ? c->qemu : "qemu-system-x86_64";
	char out[8192];
	int st;
	char *argv1[] = { (char *)q, "--version", NULL };
	int k = cl_capture_output(argv1, out, sizeof(out), &st);
	unsigned ma, mi, mc;
	if (k < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		add(r, "qemu", CL_FAIL, true, "cannot run %s --version (%s)", q,
		    k < 0 ? strerror(-k) : "non-zero exit");
		return;
	}
	if (cl_qemu_parse_version(out, &ma, &mi, &mc) < 0) {
		add(r, "qemu", CL_FAIL, true, "%s --version printed no 'QEMU emulator version'", q);
		return;
	}
	bool new_enough = ma > 10 || (ma == 10 && mi >= 1);
	if (!new_enough)
		add(r, "qemu", need_tdx ? CL_FAIL : CL_WARN, need_tdx,
		    "QEMU %u.%u.%u is older than 10.1 (no upstream TDX); install trixie-backports qemu-system-x86",
		    ma, mi, mc);
	else
		add(r, "qemu", CL_PASS, true, "QEMU %u.%u.%u", ma, mi, mc);
	char *argv2[] = { (char *)q, "-object", "help", NULL };
	k = cl_capture_output(argv2, out, sizeof(out), &st);
	if (k < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		add(r, "qemu-tdx-object", need_tdx ? CL_FAIL : CL_WARN, need_tdx,
		    "cannot run %s -object help", q);
	else if (strstr(out, "tdx-guest"))
		add(r, "qemu-tdx-object", CL_PASS, need_tdx, "%s supports -object tdx-guest", q);
	else
		add(r, "qemu-tdx-object", need_tdx ? CL_FAIL : CL_WARN, need_tdx,
		    "%s has no tdx-guest object (QEMU built without TDX)", q);
}

static void check_image(const struct cl_config *c, struct cl_report *r)
{
	struct cl_manifest m;
	struct cm_err e = { 0 };
	if (cl_manifest_load(&m, c->image_dir, &e) < 0) {
		add(r, "manifest", CL_FAIL, true, "%s", e.msg);
		return;
	}
	add(r, "manifest", CL_PASS, true, "%s/manifest.json parsed", c->image_dir);
	for (int a = 0; a < CL_ART_N; a++) {
		char name[32];
		snprintf(name, sizeof(name), a == CL_ART_OVMF ? "firmware" : "image:%s", cl_artifact_names[a]);
		if (cl_artifact_verify(&m, c->image_dir, (enum cl_artifact)a, &e) < 0) {
			add(r, name, CL_FAIL, true, "%s", e.msg);
		} else {
			char hex[65];
			cm_hex_encode(m.sha256[a], 32, hex, sizeof(hex));
			add(r, name, CL_PASS, true, "%s sha256 %s matches manifest.json", cl_artifact_names[a], hex);
		}
	}
}

static void check_gpu(const struct cl_config *c, const struct cl_host *h, struct cl_report *r)
{
	for (size_t i = 0; i < c->n_gpus; i++) {
		char name[32], path[CL_PATH_MAX], drv[64], grp[64];
		const char *a = c->gpus[i];
		snprintf(name, sizeof(name), "gpu:%s", a);
		snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", h->sys, a);
		struct stat st;
		if (stat(path, &st) != 0) {
			add(r, name, CL_FAIL, true, "no PCI device %s (%s missing)", a, path);
			continue;
		}
		snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver", h->sys, a);
		if (link_basename(path, drv, sizeof(drv)) < 0) {
			add(r, name, CL_FAIL, true, "%s is bound to no driver; bind it to vfio-pci", a);
			continue;
		}
		if (strcmp(drv, "vfio-pci")) {
			add(r, name, CL_FAIL, true, "%s is bound to %s, not vfio-pci", a, drv);
			continue;
		}
		snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/iommu_group", h->sys, a);
		if (link_basename(path, grp, sizeof(grp)) < 0) {
			add(r, name, CL_FAIL, true, "%s has no IOMMU group (IOMMU off? boot with intel_iommu=on)", a);
			continue;
		}
		/* iommufd needs the VFIO device cdev (Linux >= 6.6, CONFIG_VFIO_DEVICE_CDEV). */
		snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/vfio-dev", h->sys, a);
		if (stat(path, &st) != 0) {
			add(r, name, CL_FAIL, true,
			    "%s bound to vfio-pci, IOMMU group %s, but no vfio-dev cdev (%s missing; iommufd needs "
			    "CONFIG_VFIO_DEVICE_CDEV)", a, grp, path);
			continue;
		}
		add(r, name, CL_PASS, true, "%s bound to vfio-pci, IOMMU group %s", a, grp);
	}
	if (c->n_gpus) {
		char path[CL_PATH_MAX];
		snprintf(path, sizeof(path), "%s/iommu", h->dev);
		struct stat st;
		if (stat(path, &st) != 0)
			add(r, "iommufd", CL_FAIL, true, "%s missing (load the iommufd module)", path);
		else
			add(r, "iommufd", CL_PASS, true, "%s present", path);
	}
}

static void check_disks(const struct cl_config *c, struct cl_report *r)
{
	struct stat st;
	if (stat(c->spec_dir, &st) != 0 || !S_ISDIR(st.st_mode))
		add(r, "spec", CL_FAIL, true, "spec_dir %s is not a directory", c->spec_dir);
	else
		add(r, "spec", CL_PASS, true, "spec_dir %s", c->spec_dir);
	if (c->persistent_disk[0]) {
		const char *p = c->persistent_disk;
		if (stat(p, &st) != 0) {
			add(r, "disk:persistent", CL_FAIL, true, "%s missing (create it: truncate -s SIZE %s)", p, p);
		} else if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
			add(r, "disk:persistent", CL_FAIL, true, "%s is not a regular file or block device", p);
		} else if (access(p, R_OK | W_OK) != 0) {
			add(r, "disk:persistent", CL_FAIL, true, "%s is not readable and writable", p);
		} else {
			uint64_t size = (uint64_t)st.st_size;
			if (S_ISBLK(st.st_mode)) {
				int fd = open(p, O_RDONLY | O_CLOEXEC);
				off_t end = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
				if (fd >= 0)
					close(fd);
				size = end > 0 ? (uint64_t)end : 0;
			}
			if (c->persistent_size && size < c->persistent_size)
				add(r, "disk:persistent", CL_FAIL, true, "%s is %" PRIu64 " bytes, smaller than "
				    "persistent_size %" PRIu64, p, size, c->persistent_size);
			else
				add(r, "disk:persistent", CL_PASS, true, "%s, %" PRIu64 " bytes", p, size);
		}
	}
	for (size_t i = 0; i < c->n_models; i++) {
		const char *paths[2] = { c->models[i].data, c->models[i].hash };
		for (int k = 0; k < 2; k++) {
			if (!paths[k][0])
				continue;
			char name[32];
			snprintf(name, sizeof(name), "disk:model-%s%s", c->models[i].name, k ? "-verity" : "");
			if (stat(paths[k], &st) != 0 || access(paths[k], R_OK) != 0)
				add(r, name, CL_FAIL, true, "%s missing or unreadable", paths[k]);
			else if (st.st_size == 0 && S_ISREG(st.st_mode))
				add(r, name, CL_FAIL, true, "%s is empty", paths[k]);
			else
				add(r, name, CL_PASS, true, "%s, %lld bytes", paths[k], (long long)st.st_size);
		}
	}
}

static void check_memory(const struct cl_config *c, const struct cl_host *h, struct cl_report *r)
{
	char path[CL_PATH_MAX];
	snprintf(path, sizeof(path), "%s/meminfo", h->proc);
	FILE *f = fopen(path, "re");
	unsigned long long avail_kb = 0;
	bool found = false;
	if (f) {
		char line[256];
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "MemAvailable: %llu kB", &avail_kb) == 1) {
				found = true;
				break;
			}
		fclose(f);
	}
	if (!found) {
		add(r, "memory", CL_FAIL, true, "cannot read MemAvailable from %s", path);
		return;
	}
	uint64_t avail = (uint64_t)avail_kb * 1024;
	if (!c) {
		add(r, "memory", CL_PASS, false, "%llu MiB available", avail_kb / 1024);
		return;
	}
	if (avail < c->memory)
		add(r, "memory", CL_FAIL, true, "%llu MiB available, the guest needs %" PRIu64 " MiB",
		    avail_kb / 1024, c->memory >> 20);
	else
		add(r, "memory", CL_PASS, true, "%llu MiB available, the guest needs %" PRIu64 " MiB",
		    avail_kb / 1024, c->memory >> 20);
}

void cl_check_host(const struct cl_config *c, const struct cl_host *h, struct cl_report *r)
{
	memset(r, 0, sizeof(*r));
	r->ok = true;
	const bool need_tdx = c ? c->tdx : true;
	char path[CL_PATH_MAX];

	int k = cl_kvm_usable(h->dev);
	if (k < 0)
		add(r, "kvm", need_tdx ? CL_FAIL : CL_WARN, need_tdx, "%s/kvm is not usable (%s)%s", h->dev,
		    strerror(-k), need_tdx ? "" : "; --no-tdx boots fall back to TCG");
	else
		add(r, "kvm", CL_PASS, need_tdx, "%s/kvm opens read-write", h->dev);
	check_tdx(h, need_tdx, r);
	check_qemu(c, need_tdx, r);

	/* vhost-vsock for the guest CID, and the quote generation service on the host */
	bool want_vsock = c ? c->vsock_cid != 0 : true;
	if (want_vsock) {
		snprintf(path, sizeof(path), "%s/vhost-vsock", h->dev);
		struct stat st;
		if (stat(path, &st) != 0)
			add(r, "vhost-vsock", CL_FAIL, true, "%s missing (modprobe vhost_vsock)", path);
		else
			add(r, "vhost-vsock", CL_PASS, true, "%s present", path);
	}
	uint32_t qport = c ? c->qgs_port : 4050;
	int (*conn)(uint32_t, uint32_t, int) = h->vsock_connect ? h->vsock_connect : cl_vsock_connect;
	k = conn(2, qport, 1000);
	if (k < 0)
		add(r, "qgs", need_tdx ? CL_FAIL : CL_WARN, need_tdx,
		    "quote generation service not reachable on vsock CID 2 port %" PRIu32 " (%s); install and "
		    "start Intel's QGS (tdx-qgs) or quotes cannot be made", qport, strerror(-k));
	else
		add(r, "qgs", CL_PASS, need_tdx, "quote generation service answers on vsock CID 2 port %" PRIu32,
		    qport);

	if (c) {
		check_image(c, r);
		check_gpu(c, h, r);
		check_disks(c, r);
	}
	check_memory(c, h, r);
}
