/* Early mounts, tree copy and switch_root. */
#include "guest/init/sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "guest/init/boot.h"
#include "guest/init/log.h"
#include "measure/predict/specignore.h"

#ifndef RAMFS_MAGIC
#define RAMFS_MAGIC 0x858458f6
#endif
#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

int ci_mkdir_p(const char *path, struct cm_err *e)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
		return cm_fail(e, -ENAMETOOLONG, "path too long: %.80s", path);
	for (char *p = tmp + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
				return cm_fail(e, -errno, "mkdir %s (%s)", tmp, strerror(errno));
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

struct mnt {
	const char *src, *dst, *type;
	unsigned long flags;
	const char *data;
	int optional;
};

int ci_early_mounts(struct cm_err *e)
{
	static const struct mnt m[] = {
		{"devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755", 0},
		{"proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 0},
		{"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 0},
		{"tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755", 0},
		{"devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620", 1},
		{"tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", 1},
		/* configfs may be a module (loaded later); mounted again after module loading. */
		{"configfs", "/sys/kernel/config", "configfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 1},
	};
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
		mkdir(m[i].dst, 0755);
		if (mount(m[i].src, m[i].dst, m[i].type, m[i].flags, m[i].data) < 0 && errno != EBUSY) {
			if (m[i].optional)
				continue;
			return cm_fail(e, -errno, "mount %s on %s (%s)", m[i].type, m[i].dst, strerror(errno));
		}
	}
	return 0;
}

int ci_open_regular_at(int dirfd, const char *name, const struct stat *seen, struct cm_err *e)
{
	/* O_NONBLOCK: a FIFO or device swapped in since the fstatat must not block PID 1 in
	 * open(); the descriptor is then checked to be the very file that was seen. */
	int fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return cm_fail(e, -errno, "open %s (%s)", name, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int err = errno;
		close(fd);
		return cm_fail(e, -err, "stat %s (%s)", name, strerror(err));
	}
	if (!S_ISREG(st.st_mode) || st.st_dev != seen->st_dev || st.st_ino != seen->st_ino) {
		close(fd);
		return cm_fail(e, -ESTALE, "%s changed while it was copied (now %s)", name,
			       S_ISREG(st.st_mode) ? "another file" : "not a regular file");
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		int err = errno;
		close(fd);
		return cm_fail(e, -err, "fcntl %s (%s)", name, strerror(err));
	}
	return fd;
}

/* One regular file: content from the checked descriptor, mode 0755 or 0644 from the
 * owner-execute bit (all the spec tree hash sees of a mode). */
static int copy_file(int sdir, int ddir, const char *name, const struct stat *seen, size_t *bytes,
		     size_t max_bytes, const char *rel, struct cm_err *e)
{
	int in = ci_open_regular_at(sdir, name, seen, e);
	if (in < 0)
		return cm_err_prefix(e, "copy %s", rel);
	struct stat st;
	int r = fstat(in, &st) < 0 ? cm_fail(e, -errno, "stat %s/%s (%s)", rel, name, strerror(errno)) : 0;
	mode_t mode = (st.st_mode & S_IXUSR) ? 0755 : 0644;
	int out = r ? -1 : openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (!r && (out < 0 || fchmod(out, mode) < 0))
		r = cm_fail(e, -errno, "copy %s/%s (%s)", rel, name, strerror(errno));
	char buf[65536];
	ssize_t n = 0;
	while (!r && (n = read(in, buf, sizeof buf)) > 0) {
		*bytes += (size_t)n;
		if (*bytes > max_bytes)
			r = cm_fail(e, -E2BIG, "more than %zu bytes", max_bytes);
		else if (write(out, buf, (size_t)n) != n)
			r = cm_fail(e, -EIO, "write %s/%s (%s)", rel, name, strerror(errno));
	}
	if (n < 0 && r == 0)
		r = cm_fail(e, -errno, "read %s/%s (%s)", rel, name, strerror(errno));
	close(in);
	if (out >= 0 && close(out) < 0 && r == 0)
		r = cm_fail(e, -errno, "close %s/%s (%s)", rel, name, strerror(errno));
	return r;
}

/* Copies the directory open at sfd (entry name of the directory whose rules are parent;
 * the top: parent NULL) into dfd; *kept counts the entries copied (a directory counts
 * only when something below it was: git, and so the spec tree hash, drops empty
 * directories, and the copy must hold nothing the hash does not see). The spec's rules
 * (measure/predict/specignore.h) choose what is copied: what .gitignore files ignore,
 * the .gitignore files and top-level spec.tree / spec.meta are not; the top-level
 * runtime/ is copied as is (raw: no rules below it). */
static int copy_rec(int sfd, int dfd, int depth, size_t *files, size_t max_files, size_t *bytes, size_t max_bytes,
		    const char *rel, const struct cm_spec_dir *parent, const char *dname, bool raw, size_t *kept,
		    struct cm_err *e)
{
	struct cm_spec_dir *rules = NULL;
	int r = raw ? 0 : cm_spec_dir_enter(parent, sfd, dname, rel, &rules, e);
	if (r < 0) {
		close(sfd);
		return r;
	}
	DIR *d = fdopendir(sfd);
	if (!d) {
		close(sfd);
		cm_spec_dir_free(rules);
		return cm_fail(e, -errno, "opendir %s (%s)", rel, strerror(errno));
	}
	*kept = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (++*files > max_files) {
			r = cm_fail(e, -E2BIG, "more than %zu entries", max_files);
			break;
		}
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = cm_fail(e, -errno, "stat %s/%s (%s)", rel, de->d_name, strerror(errno));
			break;
		}
		char sub[PATH_MAX];
		snprintf(sub, sizeof sub, "%s/%s", rel, de->d_name);
		int verdict = rules ? cm_spec_dir_check(rules, de->d_name, S_ISDIR(st.st_mode), sub, e) : CM_SPEC_MEASURED;
		if (verdict < 0) {
			r = verdict;
			break;
		}
		if (verdict == CM_SPEC_EXCLUDED)
			continue;
		if (S_ISDIR(st.st_mode)) {
			/* The source is host-controlled: bound the recursion (each level holds
			 * ~70 KiB of stack in PID 1). */
			if (depth >= CI_COPY_MAX_DEPTH) {
				r = cm_fail(e, -ELOOP, "%s/%s is nested deeper than %d levels", rel, de->d_name,
					    CI_COPY_MAX_DEPTH);
				break;
			}
			bool created = mkdirat(dfd, de->d_name, 0755) == 0;
			if (!created && errno != EEXIST) {
				r = cm_fail(e, -errno, "mkdir %s/%s (%s)", rel, de->d_name, strerror(errno));
				break;
			}
			int s2 = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int d2 = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (s2 < 0 || d2 < 0 || fchmod(d2, 0755) < 0) {
				r = cm_fail(e, -errno, "open %s/%s (%s)", rel, de->d_name, strerror(errno));
				if (s2 >= 0)
					close(s2);
				if (d2 >= 0)
					close(d2);
				break;
			}
			size_t below;
			r = copy_rec(s2, d2, depth + 1, files, max_files, bytes, max_bytes, sub, rules, de->d_name,
				     raw || verdict == CM_SPEC_RUNTIME, &below, e);
			close(d2);
			if (r < 0)
				break;
			if (below > 0)
				++*kept;
			else if (created && unlinkat(dfd, de->d_name, AT_REMOVEDIR) < 0) {
				r = cm_fail(e, -errno, "rmdir %s (%s)", sub, strerror(errno));
				break;
			}
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlinkat(dirfd(d), de->d_name, target, sizeof target - 1);
			if (n < 0) {
				r = cm_fail(e, -errno, "readlink %s/%s (%s)", rel, de->d_name, strerror(errno));
				break;
			}
			target[n] = '\0';
			if (symlinkat(target, dfd, de->d_name) < 0) {
				r = cm_fail(e, -errno, "symlink %s/%s (%s)", rel, de->d_name, strerror(errno));
				break;
			}
			++*kept;
		} else if (S_ISREG(st.st_mode)) {
			r = copy_file(dirfd(d), dfd, de->d_name, &st, bytes, max_bytes, rel, e);
			if (r < 0)
				break;
			++*kept;
		} else {
			r = cm_fail(e, -EINVAL, "%s/%s is not a regular file, directory or symlink", rel, de->d_name);
			break;
		}
	}
	closedir(d);
	cm_spec_dir_free(rules);
	return r;
}

int ci_copy_tree(const char *src, const char *dst, size_t max_files, size_t max_bytes, struct cm_err *e)
{
	int r = ci_mkdir_p(dst, e);
	if (r < 0)
		return r;
	int s = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s < 0)
		return cm_fail(e, -errno, "open %s (%s)", src, strerror(errno));
	int d = open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d < 0) {
		close(s);
		return cm_fail(e, -errno, "open %s (%s)", dst, strerror(errno));
	}
	size_t files = 0, bytes = 0, kept;
	r = copy_rec(s, d, 0, &files, max_files, &bytes, max_bytes, src, NULL, NULL, false, &kept, e);
	close(d);
	return r;
}

/* Delete the old root's contents without crossing into other filesystems. */
static void delete_tree(int dfd, dev_t rootdev)
{
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != rootdev)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				delete_tree(sub, rootdev);
			unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
		} else {
			unlinkat(dirfd(d), de->d_name, 0);
		}
	}
	closedir(d);
}

int ci_switch_root(const char *newroot, struct cm_err *e)
{
	static const char *const api[] = {"/dev", "/proc", "/sys", "/run"};
	char path[PATH_MAX];
	int oldroot = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (oldroot < 0)
		return cm_fail(e, -errno, "open / (%s)", strerror(errno));
	for (size_t i = 0; i < sizeof api / sizeof api[0]; i++) {
		snprintf(path, sizeof path, "%s%s", newroot, api[i]);
		mkdir(path, 0755);
		if (mount(api[i], path, NULL, MS_MOVE, NULL) < 0) {
			close(oldroot);
			return cm_fail(e, -errno, "move %s to %s (%s)", api[i], path, strerror(errno));
		}
	}
	if (chdir(newroot) < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 || chdir("/") < 0) {
		int err = -errno;
		close(oldroot);
		return cm_fail(e, err, "make %s the root (%s)", newroot, strerror(-err));
	}
	struct statfs sfs;
	struct stat st;
	if (fstatfs(oldroot, &sfs) == 0 && fstat(oldroot, &st) == 0 &&
	    ((unsigned long)sfs.f_type == RAMFS_MAGIC || (unsigned long)sfs.f_type == TMPFS_MAGIC))
		delete_tree(oldroot, st.st_dev); /* closes oldroot */
	else
		close(oldroot);
	return 0;
}

void ci_boot_switch_root(struct ci_boot *b)
{
	struct cm_err e = {0};
	ci_disks_close(&b->disks);
	if (ci_switch_root(CI_SYSROOT, &e) < 0)
		ci_fatal("switch_root", "%s", e.msg);
	ci_log("switched to the verified root");
}
