/* initrd/: the deterministic newc writer, ELF closure, module closure and compression. */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "initrd/compress.h"
#include "initrd/elfdeps.h"
#include "initrd/kmods.h"
#include "initrd/listfile.h"
#include "initrd/tree.h"

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

/* Remove a test directory tree and free its name. */
static void rm_tree(char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

static void write_file(const char *dir, const char *name, const char *content, mode_t mode)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	test_write_text(p, content);
	assert_int_equal(chmod(p, mode), 0);
}

static void set_mtime(const char *dir, const char *name, time_t t)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	struct timespec ts[2] = {{.tv_sec = t}, {.tv_sec = t}};
	assert_int_equal(utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW), 0);
}

/* A host tree: bin/tool (exec), etc/conf, a symlink, made with the given mtime and modes. */
static char *make_hosttree(time_t mtime, mode_t confmode)
{
	char *d = test_tmpdir();
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/bin", d);
	assert_int_equal(mkdir(p, 0775), 0);
	snprintf(p, sizeof(p), "%s/etc", d);
	assert_int_equal(mkdir(p, 0700), 0);
	write_file(d, "bin/tool", "#!/bin/sh\necho tool\n", 0775);
	write_file(d, "etc/conf", "key=value\n", confmode);
	snprintf(p, sizeof(p), "%s/bin/alias", d);
	assert_int_equal(symlink("tool", p), 0);
	set_mtime(d, "bin/tool", mtime);
	set_mtime(d, "etc/conf", mtime + 7);
	set_mtime(d, "bin/alias", mtime + 3);
	return d;
}

static void build(const char *hostdir, bool reverse, uint64_t epoch, struct mi_buf *out)
{
	struct mi_tree t = {0};
	struct cm_err e = {0};
	if (reverse) {
		assert_int_equal(mi_add_data(&t, "/etc/cocoon/modules", "virtio_blk\n", 11, -1, &e), 0);
		assert_int_equal(mi_add_hosttree(&t, "/", hostdir, &e), 0);
		assert_int_equal(mi_add_symlink(&t, "sbin/init", "/bin/tool", &e), 0);
	} else {
		assert_int_equal(mi_add_symlink(&t, "sbin/init", "/bin/tool", &e), 0);
		assert_int_equal(mi_add_hosttree(&t, "/", hostdir, &e), 0);
		assert_int_equal(mi_add_data(&t, "etc//cocoon/modules", "virtio_blk\n", 11, -1, &e), 0);
	}
	assert_int_equal(mi_tree_write_cpio(&t, epoch, out, &e), 0);
	mi_tree_free(&t);
}

static void test_same_inputs_give_identical_archives(void **state)
{
	(void)state;
	/* Same contents; different mtimes, directory modes, group-write bits, inode numbers
	 * and insertion order. */
	char *a = make_hosttree(1000000, 0664);
	sleep(1);
	char *b = make_hosttree(2000000, 0644);
	struct mi_buf ca = {0}, cb = {0}, za = {0}, zb = {0};
	struct cm_err e = {0};
	build(a, false, 1700000000, &ca);
	build(b, true, 1700000000, &cb);
	assert_int_equal(ca.len, cb.len);
	assert_memory_equal(ca.p, cb.p, ca.len);
	assert_int_equal(mi_compress("zstd", &ca, &za, &e), 0);
	assert_int_equal(mi_compress("zstd", &cb, &zb, &e), 0);
	assert_int_equal(za.len, zb.len);
	assert_memory_equal(za.p, zb.p, za.len);
	mi_buf_free(&ca);
	mi_buf_free(&cb);
	mi_buf_free(&za);
	mi_buf_free(&zb);
	rm_tree(a);
	rm_tree(b);
}

static void test_epoch_and_content_change_the_archive(void **state)
{
	(void)state;
	char *a = make_hosttree(1000000, 0644);
	struct mi_buf c1 = {0}, c2 = {0}, c3 = {0};
	build(a, false, 1700000000, &c1);
	build(a, false, 1700000001, &c2);
	assert_int_equal(c1.len, c2.len);
	assert_true(memcmp(c1.p, c2.p, c1.len) != 0);
	write_file(a, "etc/conf", "key=valuf\n", 0644);
	build(a, false, 1700000000, &c3);
	assert_int_equal(c1.len, c3.len);
	assert_true(memcmp(c1.p, c3.p, c1.len) != 0);
	mi_buf_free(&c1);
	mi_buf_free(&c2);
	mi_buf_free(&c3);
	rm_tree(a);
}

static unsigned long hexfield(const uint8_t *h, int idx)
{
	char f[9];
	memcpy(f, h + 6 + 8 * idx, 8);
	f[8] = '\0';
	return strtoul(f, NULL, 16);
}

static void test_newc_entries_sorted_normalized_and_terminated(void **state)
{
	(void)state;
	char *a = make_hosttree(1000000, 0666);
	struct mi_buf c = {0};
	build(a, true, 1234, &c);
	const char *want[] = {"bin", "bin/alias", "bin/tool", "etc", "etc/cocoon", "etc/cocoon/modules",
			      "etc/conf", "sbin", "sbin/init", "TRAILER!!!"};
	const unsigned long modes[] = {040755, 0120777, 0100755, 040755, 040755, 0100644, 0100644, 040755, 0120777, 0};
	size_t off = 0;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_true(off + 110 <= c.len);
		const uint8_t *h = c.p + off;
		assert_memory_equal(h, "070701", 6);
		unsigned long namesize = hexfield(h, 11), filesize = hexfield(h, 6);
		assert_string_equal((const char *)h + 110, want[i]);
		assert_int_equal(hexfield(h, 1), modes[i]);
		assert_int_equal(hexfield(h, 2), 0); /* uid */
		assert_int_equal(hexfield(h, 3), 0); /* gid */
		for (int k = 7; k <= 10; k++)
			assert_int_equal(hexfield(h, k), 0); /* dev/rdev */
		if (i + 1 < sizeof(want) / sizeof(want[0])) {
			assert_int_equal(hexfield(h, 0), i + 1); /* renumbered inode */
			assert_int_equal(hexfield(h, 5), 1234);  /* mtime */
		}
		off += (110 + namesize + 3) & ~(size_t)3;
		if (modes[i] == 0120777)
			assert_memory_equal(c.p + off, i == 1 ? "tool" : "/bin/tool", filesize);
		off += (filesize + 3) & ~(size_t)3;
	}
	assert_int_equal(off, c.len);
	mi_buf_free(&c);
	rm_tree(a);
}

static void test_paths_with_dot_components_rejected(void **state)
{
	(void)state;
	char out[64];
	struct cm_err e = {0};
	assert_int_equal(mi_path_normalize("//a///b/", out, sizeof(out), &e), 0);
	assert_string_equal(out, "a/b");
	assert_int_equal(mi_path_normalize("a/../etc/shadow", out, sizeof(out), &e), -EINVAL);
	assert_non_null(strstr(e.msg, ".."));
	assert_int_equal(mi_path_normalize("./a", out, sizeof(out), &e), -EINVAL);
	assert_int_equal(mi_path_normalize("///", out, sizeof(out), &e), -EINVAL);
}

static void test_conflicting_duplicate_path_rejected(void **state)
{
	(void)state;
	struct mi_tree t = {0};
	struct cm_err e = {0};
	assert_int_equal(mi_add_data(&t, "etc/x", "1", 1, -1, &e), 0);
	assert_int_equal(mi_add_data(&t, "/etc/x", "1", 1, -1, &e), 0); /* identical: fine */
	assert_int_equal(mi_add_data(&t, "etc/x", "2", 1, -1, &e), -EEXIST);
	assert_non_null(strstr(e.msg, "etc/x"));
	assert_int_equal(mi_add_data(&t, "etc/x/y", "1", 1, -1, &e), -ENOTDIR);
	mi_tree_free(&t);
}

static bool contains(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

static void test_elf_deps_of_this_test_binary(void **state)
{
	(void)state;
	char *interp, **needed;
	size_t n;
	struct cm_err e = {0};
	assert_int_equal(mi_elf_deps("/proc/self/exe", &interp, &needed, &n, &e), 0);
	assert_non_null(interp);
	assert_non_null(strstr(interp, "ld-linux"));
	assert_true(contains(needed, n, "libcmocka.so.0"));
	assert_true(contains(needed, n, "libc.so.6"));
	free(interp);
	for (size_t i = 0; i < n; i++)
		free(needed[i]);
	free(needed);

	/* The closure puts the interpreter and every library in the tree. */
	struct mi_tree t = {0};
	assert_int_equal(mi_add_elf(&t, "bin/t", "/proc/self/exe", NULL, &e), 0);
	bool have_cmocka = false, have_interp = false, have_libc = false;
	for (size_t i = 0; i < t.n; i++) {
		have_cmocka |= strstr(t.v[i].path, "/libcmocka.so.0") != NULL;
		have_libc |= strstr(t.v[i].path, "/libc.so.6") != NULL;
		have_interp |= strstr(t.v[i].path, "ld-linux-x86-64.so.2") != NULL;
	}
	assert_true(have_cmocka && have_libc && have_interp);
	mi_tree_free(&t);
}

static void test_elf_truncated_or_missing_library_reported(void **state)
{
	(void)state;
	char *d = test_tmpdir();
	char p[PATH_MAX];
	uint8_t *exe;
	size_t len;
	struct cm_err e = {0};
	assert_int_equal(cm_read_file("/proc/self/exe", 64u << 20, &exe, &len, &e), 0);
	snprintf(p, sizeof(p), "%s/trunc", d);
	test_write_file(p, exe, 100); /* header only: program headers out of bounds */
	char *interp, **needed;
	size_t n;
	assert_true(mi_elf_deps(p, &interp, &needed, &n, &e) < 0);
	assert_non_null(strstr(e.msg, "out of bounds"));
	/* A library search path without the libraries: the missing one is named. */
	struct mi_tree t = {0};
	const char *dirs[] = {d, NULL};
	assert_int_equal(mi_add_elf(&t, "bin/t", "/proc/self/exe", dirs, &e), -ENOENT);
	assert_non_null(strstr(e.msg, ".so"));
	assert_non_null(strstr(e.msg, "not found"));
	mi_tree_free(&t);
	free(exe);
	rm_tree(d);
}

/* A fake kernel module tree: x depends on y; z is built in. depmod = /bin/true. */
static char *make_kmoddir(void)
{
	char *d = test_tmpdir();
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/6.99.0-test", d);
	assert_int_equal(mkdir(p, 0755), 0);
	char *k = strdup(p);
	snprintf(p, sizeof(p), "%s/kernel", k);
	assert_int_equal(mkdir(p, 0755), 0);
	write_file(k, "kernel/x-mod.ko.xz", "X", 0644);
	write_file(k, "kernel/y.ko.xz", "Y", 0644);
	write_file(k, "kernel/unused.ko.xz", "U", 0644);
	write_file(k, "modules.dep", "kernel/y.ko.xz:\nkernel/x-mod.ko.xz: kernel/y.ko.xz\nkernel/unused.ko.xz:\n", 0644);
	write_file(k, "modules.builtin", "kernel/drivers/z.ko\n", 0644);
	write_file(k, "modules.builtin.modinfo", "z.description=z\n", 0644);
	write_file(k, "modules.order", "kernel/y.ko\nkernel/x-mod.ko\nkernel/unused.ko\n", 0644);
	free(d);
	return k;
}

static const struct mi_entry *entry(const struct mi_tree *t, const char *path)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].path, path) == 0)
			return &t->v[i];
	return NULL;
}

static void test_module_closure_from_modules_dep(void **state)
{
	(void)state;
	char *k = make_kmoddir();
	struct mi_tree t = {0};
	struct cm_err e = {0};
	const char *names[] = {"x_mod", "z"};
	assert_int_equal(mi_add_kmods(&t, k, names, 2, 2, "/bin/true", "etc/cocoon/modules", &e), 0);
	assert_non_null(entry(&t, "lib/modules/6.99.0-test/kernel/x-mod.ko.xz"));
	assert_non_null(entry(&t, "lib/modules/6.99.0-test/kernel/y.ko.xz"));
	assert_null(entry(&t, "lib/modules/6.99.0-test/kernel/unused.ko.xz"));
	assert_non_null(entry(&t, "lib/modules/6.99.0-test/modules.builtin"));
	assert_non_null(entry(&t, "lib/modules/6.99.0-test/modules.builtin.modinfo"));
	const struct mi_entry *l = entry(&t, "etc/cocoon/modules");
	assert_non_null(l);
	assert_int_equal(l->len, strlen("x_mod\nz\n"));
	assert_memory_equal(l->data, "x_mod\nz\n", l->len);
	/* The staging copy is gone; contents were loaded into the tree. */
	const struct mi_entry *y = entry(&t, "lib/modules/6.99.0-test/kernel/y.ko.xz");
	assert_null(y->src);
	assert_int_equal(y->len, 1);
	mi_tree_free(&t);

	const char *bad[] = {"nosuch"};
	assert_int_equal(mi_add_kmods(&t, k, bad, 1, 1, "/bin/true", NULL, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "nosuch"));
	mi_tree_free(&t);
	/* depmod failing is an error, not a silently unindexed initrd. */
	assert_true(mi_add_kmods(&t, k, names, 1, 1, "/bin/false", NULL, &e) < 0);
	assert_non_null(strstr(e.msg, "/bin/false"));
	mi_tree_free(&t);
	/* Shipped-only names (cocoon-mkinitrd -M, the GPU modules): the module and its closure
	 * are in the archive, the list cocoon-init loads at step 3 does not name them. */
	const char *ship[] = {"z", "x_mod"};
	assert_int_equal(mi_add_kmods(&t, k, ship, 2, 1, "/bin/true", "etc/cocoon/modules", &e), 0);
	assert_non_null(entry(&t, "lib/modules/6.99.0-test/kernel/x-mod.ko.xz"));
	assert_non_null(entry(&t, "lib/modules/6.99.0-test/kernel/y.ko.xz"));
	l = entry(&t, "etc/cocoon/modules");
	assert_non_null(l);
	assert_int_equal(l->len, strlen("z\n"));
	assert_memory_equal(l->data, "z\n", l->len);
	mi_tree_free(&t);
	*strrchr(k, '/') = '\0'; /* the test directory above <kver> */
	rm_tree(k);
}

static void test_compression_round_trips_and_is_pinned(void **state)
{
	(void)state;
	struct mi_buf in = {0}, z1 = {0}, z2 = {0};
	struct cm_err e = {0};
	for (int i = 0; i < 20000; i++) {
		char line[32];
		int n = snprintf(line, sizeof(line), "line %d\n", i * 7919 % 10007);
		assert_int_equal(mi_buf_append(&in, line, (size_t)n, &e), 0);
	}
	assert_int_equal(mi_compress("zstd", &in, &z1, &e), 0);
	assert_int_equal(mi_compress("zstd", &in, &z2, &e), 0);
	assert_int_equal(z1.len, z2.len);
	assert_memory_equal(z1.p, z2.p, z1.len);
	uint8_t *back = malloc(in.len);
	assert_int_equal(ZSTD_decompress(back, in.len, z1.p, z1.len), in.len);
	assert_memory_equal(back, in.p, in.len);
	/* Frame header carries the content size and the checksum flag. */
	assert_int_equal(ZSTD_getFrameContentSize(z1.p, z1.len), in.len);

	assert_int_equal(mi_compress("gzip", &in, &z2, &e), 0);
	assert_memory_equal(z2.p, "\x1f\x8b\x08\x00\x00\x00\x00\x00", 8); /* no name, mtime 0 */
	z_stream zs = {0};
	assert_int_equal(inflateInit2(&zs, 31), Z_OK);
	zs.next_in = z2.p;
	zs.avail_in = (uInt)z2.len;
	zs.next_out = back;
	zs.avail_out = (uInt)in.len;
	assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
	assert_int_equal(zs.total_out, in.len);
	inflateEnd(&zs);
	assert_memory_equal(back, in.p, in.len);
	assert_int_equal(mi_compress("lz4", &in, &z2, &e), -EINVAL);
	free(back);
	mi_buf_free(&in);
	mi_buf_free(&z1);
	mi_buf_free(&z2);
}

static void test_listfile_lines_and_errors(void **state)
{
	(void)state;
	char *d = make_hosttree(1000, 0644);
	char list[PATH_MAX], body[3 * PATH_MAX];
	snprintf(body, sizeof(body),
		 "# comment\n"
		 "file init %s/bin/tool 0700\n"
		 "dir run\n"
		 "slink bin/sh /init   # trailing comment\n"
		 "tree opt %s/etc\n",
		 d, d);
	write_file(d, "list", body, 0644);
	snprintf(list, sizeof(list), "%s/list", d);
	struct mi_tree t = {0};
	struct cm_err e = {0};
	assert_int_equal(mi_add_listfile(&t, list, NULL, &e), 0);
	const struct mi_entry *init = entry(&t, "init");
	assert_non_null(init);
	assert_int_equal(init->mode, 0700);
	assert_non_null(entry(&t, "run"));
	assert_non_null(entry(&t, "opt/conf"));
	assert_string_equal(entry(&t, "bin/sh")->target, "/init");
	mi_tree_free(&t);

	write_file(d, "list", "dir a\n\n# c\n\nfile a\n", 0644);
	assert_int_equal(mi_add_listfile(&t, list, NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, ":5:")); /* line numbers count blank lines */
	mi_tree_free(&t);
	rm_tree(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_inputs_give_identical_archives),
		cmocka_unit_test(test_epoch_and_content_change_the_archive),
		cmocka_unit_test(test_newc_entries_sorted_normalized_and_terminated),
		cmocka_unit_test(test_paths_with_dot_components_rejected),
		cmocka_unit_test(test_conflicting_duplicate_path_rejected),
		cmocka_unit_test(test_elf_deps_of_this_test_binary),
		cmocka_unit_test(test_elf_truncated_or_missing_library_reported),
		cmocka_unit_test(test_module_closure_from_modules_dep),
		cmocka_unit_test(test_compression_round_trips_and_is_pinned),
		cmocka_unit_test(test_listfile_lines_and_errors),
	};
	return cmocka_run_group_tests_name("mkinitrd", tests, NULL, NULL);
}
