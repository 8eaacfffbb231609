/* cocoon-init: disks by virtio serial on a fake /sys/class/block (guest/init/disks.c). */
#include "tests/unit/testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "guest/init/disks.h"

struct tree {
	char *root;
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

/* vda: serial "root" (no newline, as virtio_blk prints it); vda1: a partition;
 * vdb: "persistent"; vdc: no serial file. */
static void tree_init(struct tree *t)
{
	t->root = test_tmpdir();
	put(t->root, "sys/class/block/vda/serial", "root");
	put(t->root, "sys/class/block/vda/dev", "254:0\n");
	put(t->root, "sys/class/block/vda1/serial", "root");
	put(t->root, "sys/class/block/vda1/partition", "1\n");
	put(t->root, "sys/class/block/vdb/serial", "persistent");
	put(t->root, "sys/class/block/vdb/dev", "254:16\n");
	put(t->root, "sys/class/block/vdc/dev", "254:32\n");
	snprintf(t->dev, sizeof t->dev, "%s/dev", t->root);
	mkdir(t->dev, 0755);
}

static void tree_free(struct tree *t)
{
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%.300s'", t->root);
	assert_int_equal(system(cmd), 0);
	free(t->root);
}

static void test_disks_scan_matches_whole_disk_serial(void **state)
{
	(void)state;
	struct tree t;
	tree_init(&t);
	struct ci_disks d;
	struct cm_err e = {0};
	char name[64];
	assert_int_equal(ci_disks_open(&d, t.root, t.dev, &e), 0);
	assert_int_equal(ci_disk_scan(&d, "root", name, sizeof name, &e), 1);
	assert_string_equal(name, "vda"); /* the partition is skipped */
	assert_int_equal(ci_disk_scan(&d, "persistent", name, sizeof name, &e), 1);
	assert_string_equal(name, "vdb");
	assert_int_equal(ci_disk_scan(&d, "model-x", name, sizeof name, &e), 0);
	assert_int_equal(ci_disk_scan(&d, "roo", name, sizeof name, &e), 0); /* exact match only */
	ci_disks_close(&d);
	tree_free(&t);
}

static void test_disks_duplicate_serial_refused(void **state)
{
	(void)state;
	struct tree t;
	tree_init(&t);
	put(t.root, "sys/class/block/vdd/serial", "persistent");
	struct ci_disks d;
	struct cm_err e = {0};
	char name[64];
	assert_int_equal(ci_disks_open(&d, t.root, t.dev, &e), 0);
	assert_int_equal(ci_disk_scan(&d, "persistent", name, sizeof name, &e), -EEXIST);
	assert_non_null(strstr(e.msg, "two disks carry serial \"persistent\""));
	ci_disks_close(&d);
	tree_free(&t);
}

static void test_disks_wait_names_the_missing_serial(void **state)
{
	(void)state;
	struct tree t;
	tree_init(&t);
	struct ci_disks d;
	struct cm_err e = {0};
	char path[300];
	assert_int_equal(ci_disks_open(&d, t.root, t.dev, &e), 0);
	assert_int_equal(ci_disk_wait(&d, "model-llama", 300, path, sizeof path, &e), -ETIMEDOUT);
	assert_non_null(strstr(e.msg, "serial \"model-llama\" never appeared"));
	/* present in sysfs, but no block device node */
	assert_int_equal(ci_disk_wait(&d, "root", 300, path, sizeof path, &e), -ETIMEDOUT);
	assert_non_null(strstr(e.msg, "serial \"root\" (vda) has no device node"));
	assert_int_equal(ci_disk_wait(&d, "this-serial-is-too-long", 300, path, sizeof path, &e), -EINVAL);
	ci_disks_close(&d);
	tree_free(&t);
}

/* A real block device of this machine, to stand in for the guest's /dev/vdX node. */
static int find_block_device(char *name, size_t n, unsigned *maj, unsigned *min)
{
	DIR *dh = opendir("/sys/class/block");
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
	const char *root;
	char dev_content[32];
};

static void *appear_later(void *arg)
{
	struct late *l = arg;
	usleep(150 * 1000);
	put(l->root, "sys/class/block/vdz/dev", l->dev_content);
	put(l->root, "sys/class/block/vdz/serial", "model-late");
	return NULL;
}

static void test_disks_wait_finds_a_disk_that_appears_later(void **state)
{
	(void)state;
	struct tree t;
	tree_init(&t);
	char real[64], node[600];
	unsigned maj, min;
	struct late l = {.root = t.root};
	/* the device node: a symlink to a real block device with the same numbers, or
	 * (no block device visible) a node made with mknod */
	snprintf(node, sizeof node, "%s/vdz", t.dev);
	if (find_block_device(real, sizeof real, &maj, &min) == 0) {
		char target[300];
		snprintf(target, sizeof target, "/dev/%s", real);
		assert_int_equal(symlink(target, node), 0);
	} else {
		maj = 7;
		min = 200;
		assert_int_equal(mknod(node, S_IFBLK | 0600, makedev(maj, min)), 0);
	}
	snprintf(l.dev_content, sizeof l.dev_content, "%u:%u\n", maj, min);
	struct ci_disks d;
	struct cm_err e = {0};
	char path[300];
	assert_int_equal(ci_disks_open(&d, t.root, t.dev, &e), 0);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, appear_later, &l), 0);
	int r = ci_disk_wait(&d, "model-late", 5000, path, sizeof path, &e);
	pthread_join(th, NULL);
	if (r < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(path, node);
	/* wrong numbers: not our disk's node */
	put(t.root, "sys/class/block/vdz/dev", "1:1\n");
	assert_int_equal(ci_disk_wait(&d, "model-late", 300, path, sizeof path, &e), -ETIMEDOUT);
	ci_disks_close(&d);
	tree_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disks_scan_matches_whole_disk_serial),
		cmocka_unit_test(test_disks_duplicate_serial_refused),
		cmocka_unit_test(test_disks_wait_names_the_missing_serial),
		cmocka_unit_test(test_disks_wait_finds_a_disk_that_appears_later),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
