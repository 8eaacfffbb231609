/* cocoon-init: disks by virtio serial on a fake /sys (guest/init/disks.c, libudev). */
#include "tests/unit/testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "guest/init/disks.h"

/* libudev reads /sys itself (no prefix): each test mounts a tmpfs over /sys in this
 * process's own mount namespace (main() unshares it; needs root, as the guest's PID 1 has)
 * and lays out what the kernel shows for virtio disks there. */
struct tree {
	char *root; /* the test directory: dev/ holds the device nodes */
	char dev[300];
};

static void put(const char *root, const char *rel, const char *content)
{
	char p[600];
	snprintf(p, sizeof p, "%s/%s", root, rel);
	for (char *s = p + strlen(root) + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	if (!content) {
		mkdir(p, 0755);
		return;
	}
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

/* A block device as sysfs shows it: /sys/devices/virtual/block/[parent/]name with uevent,
 * dev and a subsystem link, /sys/class/block/name linking to it; serial NULL = none. */
static void put_block(const char *name, const char *parent, unsigned maj, unsigned min, const char *serial)
{
	char dir[200], rel[300], text[200], link[300];
	snprintf(dir, sizeof dir, "devices/virtual/block/%s%s%s", parent ? parent : "", parent ? "/" : "", name);
	snprintf(rel, sizeof rel, "%s/uevent", dir);
	snprintf(text, sizeof text, "MAJOR=%u\nMINOR=%u\nDEVNAME=%s\nDEVTYPE=%s\n", maj, min, name,
		 parent ? "partition" : "disk");
	put("/sys", rel, text);
	snprintf(rel, sizeof rel, "%s/dev", dir);
	snprintf(text, sizeof text, "%u:%u\n", maj, min);
	put("/sys", rel, text);
	if (serial) {
		snprintf(rel, sizeof rel, "%s/serial", dir);
		put("/sys", rel, serial);
	}
	if (parent) {
		snprintf(rel, sizeof rel, "%s/partition", dir);
		put("/sys", rel, "1\n");
	}
	snprintf(link, sizeof link, "/sys/%s/subsystem", dir);
	assert_int_equal(symlink("/sys/class/block", link), 0);
	snprintf(link, sizeof link, "/sys/class/block/%s", name);
	snprintf(rel, sizeof rel, "/sys/%s", dir);
	assert_int_equal(symlink(rel, link), 0);
}

/* vda: serial "root" (no newline, as virtio_blk prints it); vda1: a partition that
 * shows the serial too; vdb: "persistent"; vdc: no serial file. */
static void tree_init(struct tree *t)
{
	t->root = test_tmpdir();
	if (mount("tmpfs", "/sys", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755") < 0)
		fail_msg("mount a tmpfs over /sys in the test's mount namespace: %s", strerror(errno));
	put("/sys", "class/block", NULL);
	put_block("vda", NULL, 254, 0, "root");
	put_block("vda1", "vda", 254, 1, "root");
	put_block("vdb", NULL, 254, 16, "persistent");
	put_block("vdc", NULL, 254, 32, NULL);
	snprintf(t->dev, sizeof t->dev, "%s/dev", t->root);
	mkdir(t->dev, 0755);
}

static void tree_free(struct tree *t)
{
	char cmd[400];
	assert_int_equal(umount2("/sys", MNT_DETACH), 0);
	snprintf(cmd, sizeof cmd, "rm -rf '%.300s'", t->root);
	assert_int_equal(system(cmd), 0);
	free(t->root);
}

/* cmocka fixture: the tree above and the disks opened on its dev/ (ci_disks_open). */
struct disks {
	struct tree t;
	struct ci_disks d;
};

static int disks_setup(void **state)
{
	struct disks *k = malloc(sizeof *k);
	assert_non_null(k);
	struct cm_err e = {0};
	tree_init(&k->t);
	assert_int_equal(ci_disks_open(&k->d, k->t.dev, &e), 0);
	*state = k;
	return 0;
}

static int disks_teardown(void **state)
{
	struct disks *k = *state;
	ci_disks_close(&k->d);
	tree_free(&k->t);
	free(k);
	return 0;
}

static void test_disks_scan_matches_whole_disk_serial(void **state)
{
	struct disks *k = *state;
	struct cm_err e = {0};
	char name[64];
	dev_t num = 0;
	assert_int_equal(ci_disk_scan(&k->d, "root", name, sizeof name, &num, &e), 1);
	assert_string_equal(name, "vda"); /* the partition is skipped */
	assert_true(num == makedev(254, 0));
	assert_int_equal(ci_disk_scan(&k->d, "persistent", name, sizeof name, NULL, &e), 1);
	assert_string_equal(name, "vdb");
	assert_int_equal(ci_disk_scan(&k->d, "model-x", name, sizeof name, NULL, &e), 0);
	assert_int_equal(ci_disk_scan(&k->d, "roo", name, sizeof name, NULL, &e), 0); /* exact match only */
}

static void test_disks_duplicate_serial_refused(void **state)
{
	struct disks *k = *state;
	put_block("vdd", NULL, 254, 48, "persistent");
	struct cm_err e = {0};
	char name[64];
	assert_int_equal(ci_disk_scan(&k->d, "persistent", name, sizeof name, NULL, &e), -EEXIST);
	assert_non_null(strstr(e.msg, "two disks carry serial \"persistent\""));
}

static void test_disks_wait_names_the_missing_serial(void **state)
{
	struct disks *k = *state;
	struct cm_err e = {0};
	char path[300];
	assert_int_equal(ci_disk_wait(&k->d, "model-llama", 300, path, sizeof path, &e), -ETIMEDOUT);
	assert_non_null(strstr(e.msg, "serial \"model-llama\" never appeared"));
	/* present in sysfs, but no block device node */
	assert_int_equal(ci_disk_wait(&k->d, "root", 300, path, sizeof path, &e), -ETIMEDOUT);
	assert_non_null(strstr(e.msg, "serial \"root\" (vda) has no device node"));
	assert_int_equal(ci_disk_wait(&k->d, "this-serial-is-too-long", 300, path, sizeof path, &e), -EINVAL);
}

/* A real block device of this machine, to stand in for the guest's /dev/vdX node. */
static int find_block_device(char *name, size_t n, unsigned *maj, unsigned *min)
{
	DIR *dh = opendir("/dev");
	if (!dh)
		return -1;
	struct dirent *de;
	int r = -1;
	while (r < 0 && (de = readdir(dh)) != NULL) {
		char p[300];
		struct stat st;
		snprintf(p, sizeof p, "/dev/%s", de->d_name);
		if (de->d_name[0] != '.' && stat(p, &st) == 0 && S_ISBLK(st.st_mode)) {
			snprintf(name, n, "%.60s", de->d_name);
			*maj = major(st.st_rdev);
			*min = minor(st.st_rdev);
			r = 0;
		}
	}
	closedir(dh);
	return r;
}

struct late {
	unsigned maj, min;
};

static void *appear_later(void *arg)
{
	struct late *l = arg;
	usleep(150 * 1000);
	put_block("vdz", NULL, l->maj, l->min, "model-late");
	return NULL;
}

static void test_disks_wait_finds_a_disk_that_appears_later(void **state)
{
	struct disks *k = *state;
	char real[64], node[600];
	unsigned maj, min;
	/* the device node: a symlink to a real block device with the same numbers, or
	 * (no block device visible) a node made with mknod */
	snprintf(node, sizeof node, "%s/vdz", k->t.dev);
	if (find_block_device(real, sizeof real, &maj, &min) == 0) {
		char target[300];
		snprintf(target, sizeof target, "/dev/%s", real);
		assert_int_equal(symlink(target, node), 0);
	} else {
		maj = 7;
		min = 200;
		assert_int_equal(mknod(node, S_IFBLK | 0600, makedev(maj, min)), 0);
	}
	struct late l = {.maj = maj, .min = min};
	struct cm_err e = {0};
	char path[300];
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, appear_later, &l), 0);
	int r = ci_disk_wait(&k->d, "model-late", 5000, path, sizeof path, &e);
	pthread_join(th, NULL);
	if (r < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(path, node);
	/* wrong numbers: not our disk's node */
	put("/sys", "devices/virtual/block/vdz/uevent", "MAJOR=1\nMINOR=1\nDEVNAME=vdz\nDEVTYPE=disk\n");
	put("/sys", "devices/virtual/block/vdz/dev", "1:1\n");
	assert_int_equal(ci_disk_wait(&k->d, "model-late", 300, path, sizeof path, &e), -ETIMEDOUT);
}

int main(void)
{
	/* A private mount namespace: the tests' tmpfs over /sys is seen by this process only. */
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		fprintf(stderr, "test_init_disks: a private mount namespace needs root (%s)\n", strerror(errno));
		return 1;
	}
	/* systemd's documented test knob: accept a /sys that is not sysfs (our tmpfs). */
	setenv("SYSTEMD_DEVICE_VERIFY_SYSFS", "0", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_disks_scan_matches_whole_disk_serial, disks_setup, disks_teardown),
		cmocka_unit_test_setup_teardown(test_disks_duplicate_serial_refused, disks_setup, disks_teardown),
		cmocka_unit_test_setup_teardown(test_disks_wait_names_the_missing_serial, disks_setup, disks_teardown),
		cmocka_unit_test_setup_teardown(test_disks_wait_finds_a_disk_that_appears_later, disks_setup,
						disks_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
