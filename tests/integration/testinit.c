/* testinit: a deliberately small PID 1 for the boot harness's self-test (not cocoon-init).
 *
 * It proves that the pinned Debian kernel, the initrd built by cocoon-mkinitrd (ELF
 * closure, module closure + regenerated indexes) and the harness's disks work under QEMU
 * TCG: it loads every module listed in /etc/cocoon/modules with libkmod, finds the virtio
 * disks by serial, opens the root disk's appended dm-verity tree with libcryptsetup,
 * mounts the erofs root through it, mounts the 9p share tagged "spec", opens an AF_VSOCK
 * socket, prints one "testinit: ok <step> ..." line per step (or "testinit: FAIL <step>:
 * <reason>") and powers off. Cmdline keys: testinit.roothash=<hex> testinit.rootblocks=<N>. */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libcryptsetup.h>
#include <libkmod.h>
#include <linux/vm_sockets.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("testinit: ", stdout);
	vfprintf(stdout, fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	va_end(ap);
}

static void __attribute__((noreturn)) poweroff(void)
{
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

static void __attribute__((noreturn, format(printf, 2, 3))) fail(const char *step, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("testinit: FAIL %s: ", step);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
	va_end(ap);
	poweroff();
}

static char *read_small(const char *path, char *buf, size_t sz)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ssize_t n = read(fd, buf, sz - 1);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

static const char *cmdline_value(const char *cmdline, const char *key)
{
	static char val[256];
	size_t kl = strlen(key);
	for (const char *p = cmdline; (p = strstr(p, key)) != NULL; p += kl) {
		if ((p == cmdline || p[-1] == ' ') && p[kl] == '=') {
			size_t n = strcspn(p + kl + 1, " \n");
			if (n >= sizeof(val))
				return NULL;
			memcpy(val, p + kl + 1, n);
			val[n] = '\0';
			return val;
		}
	}
	return NULL;
}

static void load_modules(void)
{
	struct kmod_ctx *ctx = kmod_new(NULL, (const char *[]){NULL});
	if (!ctx || kmod_load_resources(ctx) < 0)
		fail("modules", "libkmod cannot load /lib/modules indexes");
	FILE *f = fopen("/etc/cocoon/modules", "r");
	if (!f)
		fail("modules", "/etc/cocoon/modules: %s", strerror(errno));
	char name[256];
	int count = 0;
	while (fgets(name, sizeof(name), f)) {
		name[strcspn(name, "\n")] = '\0';
		if (!name[0])
			continue;
		struct kmod_list *list = NULL, *it;
		int r = kmod_module_new_from_lookup(ctx, name, &list);
		if (r < 0 || !list)
			fail("modules", "%s: not found by libkmod (%d)", name, r);
		kmod_list_foreach(it, list)
		{
			struct kmod_module *m = kmod_module_get_module(it);
			int st = kmod_module_get_initstate(m);
			if (st != KMOD_MODULE_BUILTIN && st != KMOD_MODULE_LIVE) {
				r = kmod_module_probe_insert_module(m, 0, NULL, NULL, NULL, NULL);
				if (r < 0 && r != -EEXIST)
					fail("modules", "%s: insert failed: %s", name, strerror(-r));
			}
			kmod_module_unref(m);
		}
		kmod_module_unref_list(list);
		count++;
	}
	fclose(f);
	kmod_unref(ctx);
	say("ok modules %d loaded", count);
}

static void find_disk(const char *serial, char *dev, size_t devsz)
{
	for (int tries = 0; tries < 100; tries++) {
		glob_t g;
		if (glob("/sys/class/block/*/serial", 0, NULL, &g) == 0) {
			for (size_t i = 0; i < g.gl_pathc; i++) {
				char buf[64];
				if (read_small(g.gl_pathv[i], buf, sizeof(buf)) && strcmp(buf, serial) == 0) {
					char *name = g.gl_pathv[i] + strlen("/sys/class/block/");
					*strchr(name, '/') = '\0';
					snprintf(dev, devsz, "/dev/%s", name);
					globfree(&g);
					say("ok disk %s=%s", serial, dev);
					return;
				}
			}
			globfree(&g);
		}
		nanosleep(&(struct timespec){.tv_nsec = 100000000}, NULL);
	}
	fail("disk", "no virtio disk with serial '%s' appeared", serial);
}

static void open_verity_root(const char *dev, const char *cmdline)
{
	const char *hex = cmdline_value(cmdline, "testinit.roothash");
	char hash[128];
	if (!hex || strlen(hex) != 64)
		fail("verity", "testinit.roothash missing or not 64 hex digits");
	snprintf(hash, sizeof(hash), "%s", hex);
	const char *blocks = cmdline_value(cmdline, "testinit.rootblocks");
	if (!blocks)
		fail("verity", "testinit.rootblocks missing");
	uint64_t n = strtoull(blocks, NULL, 10);
	unsigned char key[32];
	for (int i = 0; i < 32; i++)
		sscanf(hash + 2 * i, "%2hhx", &key[i]);
	setenv("DM_DISABLE_UDEV", "1", 1);
	struct crypt_device *cd = NULL;
	struct crypt_params_verity p = {.data_device = dev, .data_size = n, .hash_area_offset = n * 4096,
					.data_block_size = 4096, .hash_block_size = 4096};
	int r = crypt_init(&cd, dev);
	if (r == 0)
		r = crypt_load(cd, CRYPT_VERITY, &p);
	if (r < 0)
		fail("verity", "crypt_load on %s: %s", dev, strerror(-r));
	r = crypt_activate_by_volume_key(cd, "root", (const char *)key, sizeof(key), CRYPT_ACTIVATE_READONLY);
	if (r < 0)
		fail("verity", "activation with the root hash: %s", strerror(-r));
	crypt_free(cd);
	say("ok verity /dev/mapper/root");
}

int main(void)
{
	mkdir("/dev", 0755);
	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	mkdir("/run", 0755);
	mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	int fd = open("/dev/console", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	say("started as pid %d", (int)getpid());
	char cmdline[4096];
	if (!read_small("/proc/cmdline", cmdline, sizeof(cmdline)))
		fail("cmdline", "cannot read /proc/cmdline");

	load_modules();
	char root[64], persistent[64], model[64];
	find_disk("root", root, sizeof(root));
	find_disk("persistent", persistent, sizeof(persistent));
	find_disk("model-x", model, sizeof(model));

	open_verity_root(root, cmdline);
	mkdir("/mnt", 0755);
	mkdir("/mnt/root", 0755);
	if (mount("/dev/mapper/root", "/mnt/root", "erofs", MS_RDONLY, NULL) != 0)
		fail("erofs", "mount /dev/mapper/root: %s", strerror(errno));
	char buf[256];
	if (!read_small("/mnt/root/etc/testfile", buf, sizeof(buf)))
		fail("erofs", "/etc/testfile missing in the root");
	say("ok erofs testfile=%s", buf);

	mkdir("/mnt/spec", 0755);
	if (mount("spec", "/mnt/spec", "9p", MS_RDONLY, "trans=virtio,version=9p2000.L") != 0)
		fail("9p", "mount spec: %s", strerror(errno));
	if (!read_small("/mnt/spec/hello", buf, sizeof(buf)))
		fail("9p", "/hello missing in the spec share");
	say("ok 9p hello=%s", buf);

	mkdir("/mnt/tmp", 0755);
	mkdir("/run/upper", 0755);
	mkdir("/run/work", 0755);
	if (mount("overlay", "/mnt/tmp", "overlay", 0, "lowerdir=/mnt/root,upperdir=/run/upper,workdir=/run/work") != 0)
		fail("overlay", "mount: %s", strerror(errno));
	say("ok overlay");

	int s = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (s < 0)
		fail("vsock", "socket(AF_VSOCK): %s", strerror(errno));
	close(s);
	say("ok vsock");
	say("ALL OK");
	poweroff();
}
