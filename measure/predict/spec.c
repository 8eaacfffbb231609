#include "measure/predict/spec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "measure/core/digest.h"
#include "measure/predict/specignore.h"

struct entry {
	char *name;
	bool dir;
	bool exec;
};

struct walk {
	struct cm_err *e;
	size_t entries;
	uint8_t *buf; /* file read buffer, CM_SPEC_FILE_MAX */
};

/* git orders tree entries by name bytes, a directory comparing as "name/". */
static int git_cmp(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;
	size_t la = strlen(a->name), lb = strlen(b->name), n = la < lb ? la : lb;
	int c = memcmp(a->name, b->name, n);
	if (c)
		return c;
	unsigned char ca = la > n ? (unsigned char)a->name[n] : a->dir ? '/' : 0;
	unsigned char cb = lb > n ? (unsigned char)b->name[n] : b->dir ? '/' : 0;
	return (int)ca - (int)cb;
}

static int hash_object(const char *type, const uint8_t *data, size_t len, uint8_t out[32])
{
	char hdr[48];
	int hl = snprintf(hdr, sizeof(hdr), "%s %zu", type, len);
	struct cm_hash *h = cm_hash_new(CM_SHA256);
	if (!h)
		return -ENOMEM;
	int r = cm_hash_update(h, hdr, (size_t)hl + 1); /* includes the NUL */
	if (!r)
		r = cm_hash_update(h, data, len);
	if (!r)
		r = cm_hash_final(h, out);
	cm_hash_free(h);
	return r;
}

static int blob_id(struct walk *w, int dirfd, const char *name, const char *path, uint8_t out[32])
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return cm_fail(w->e, -errno, "spec: cannot open %s (%s)", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return cm_fail(w->e, -EINVAL, "spec: %s is not a regular file", path);
	}
	if ((uint64_t)st.st_size > CM_SPEC_FILE_MAX) {
		close(fd);
		return cm_fail(w->e, -EFBIG, "spec: %s is %lld bytes (limit %u)", path, (long long)st.st_size,
			       CM_SPEC_FILE_MAX);
	}
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, w->buf + n, CM_SPEC_FILE_MAX + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = errno;
			close(fd);
			return cm_fail(w->e, -err, "spec: cannot read %s (%s)", path, strerror(err));
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > CM_SPEC_FILE_MAX) {
			close(fd);
			return cm_fail(w->e, -EFBIG, "spec: %s grew past %u bytes", path, CM_SPEC_FILE_MAX);
		}
	}
	close(fd);
	return hash_object("blob", w->buf, n, out) ? cm_fail(w->e, -EIO, "spec: hashing failed") : 0;
}

static void free_entries(struct entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

/* Tree id of the directory open at dirfd (entry name of parent; the top: parent NULL);
 * *empty is set when git would drop it. */
static int tree_id(struct walk *w, const struct cm_spec_dir *parent, int dirfd, const char *dname, const char *path,
		   int depth, uint8_t out[32], bool *empty)
{
	if (depth > CM_SPEC_MAX_DEPTH) {
		close(dirfd);
		return cm_fail(w->e, -ELOOP, "spec: %s is nested deeper than %d levels", path, CM_SPEC_MAX_DEPTH);
	}
	struct cm_spec_dir *rules;
	int er = cm_spec_dir_enter(parent, dirfd, dname, path, &rules, w->e);
	if (er) {
		close(dirfd);
		return er;
	}
	DIR *d = fdopendir(dirfd);
	if (!d) {
		int err = errno;
		close(dirfd);
		cm_spec_dir_free(rules);
		return cm_fail(w->e, -err, "spec: cannot list %s (%s)", path, strerror(err));
	}
	struct entry *v = NULL;
	size_t n = 0, cap = 0;
	int r = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		char sub[4096];
		snprintf(sub, sizeof(sub), "%s/%s", path, name);
		struct stat st;
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			r = cm_fail(w->e, -errno, "spec: cannot stat %s (%s)", sub, strerror(errno));
			goto out;
		}
		/* runtime/, spec.tree, spec.meta, .gitignore and what it ignores are not measured */
		int verdict = cm_spec_dir_check(rules, name, S_ISDIR(st.st_mode), sub, w->e);
		if (verdict < 0) {
			r = verdict;
			goto out;
		}
		if (verdict != CM_SPEC_MEASURED)
			continue;
		if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
			r = cm_fail(w->e, -EINVAL, "spec: %s is %s; only regular files and directories are allowed",
				    sub, S_ISLNK(st.st_mode) ? "a symlink" : "a special file");
			goto out;
		}
		if (++w->entries > CM_SPEC_MAX_ENTRIES) {
			r = cm_fail(w->e, -EFBIG, "spec: more than %d entries", CM_SPEC_MAX_ENTRIES);
			goto out;
		}
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			struct entry *nv = realloc(v, ncap * sizeof(*v));
			if (!nv) {
				r = cm_fail(w->e, -ENOMEM, "out of memory");
				goto out;
			}
			v = nv;
			cap = ncap;
		}
		v[n].name = strdup(name);
		if (!v[n].name) {
			r = cm_fail(w->e, -ENOMEM, "out of memory");
			goto out;
		}
		v[n].dir = S_ISDIR(st.st_mode);
		v[n].exec = (st.st_mode & S_IXUSR) != 0;
		n++;
		errno = 0;
	}
	if (errno) {
		r = cm_fail(w->e, -errno, "spec: cannot list %s (%s)", path, strerror(errno));
		goto out;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), git_cmp);
	/* Tree body: "<mode> <name>\0<32-byte id>" per non-empty entry. */
	size_t bodycap = 0, bodylen = 0;
	uint8_t *body = NULL;
	for (size_t i = 0; i < n && !r; i++) {
		char sub[4096];
		snprintf(sub, sizeof(sub), "%s/%s", path, v[i].name);
		uint8_t id[32];
		const char *mode;
		if (v[i].dir) {
			int fd = openat(dirfd, v[i].name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				r = cm_fail(w->e, -errno, "spec: cannot open %s (%s)", sub, strerror(errno));
				break;
			}
			bool sub_empty;
			if ((r = tree_id(w, rules, fd, v[i].name, sub, depth + 1, id, &sub_empty)))
				break;
			if (sub_empty)
				continue;
			mode = "40000";
		} else {
			if ((r = blob_id(w, dirfd, v[i].name, sub, id)))
				break;
			mode = v[i].exec ? "100755" : "100644";
		}
		size_t need = strlen(mode) + 1 + strlen(v[i].name) + 1 + 32;
		if (bodylen + need > bodycap) {
			size_t ncap = (bodylen + need) * 2;
			uint8_t *nb = realloc(body, ncap);
			if (!nb) {
				r = cm_fail(w->e, -ENOMEM, "out of memory");
				break;
			}
			body = nb;
			bodycap = ncap;
		}
		int hl = snprintf((char *)body + bodylen, bodycap - bodylen, "%s %s", mode, v[i].name);
		bodylen += (size_t)hl + 1; /* keep the NUL */
		memcpy(body + bodylen, id, 32);
		bodylen += 32;
	}
	if (!r) {
		*empty = bodylen == 0;
		if (hash_object("tree", body ? body : (const uint8_t *)"", bodylen, out))
			r = cm_fail(w->e, -EIO, "spec: hashing failed");
	}
	free(body);
out:
	free_entries(v, n);
	closedir(d);
	cm_spec_dir_free(rules);
	return r;
}

int cm_spec_tree_hash(const char *dir, uint8_t out[CM_SPEC_TREE_LEN], struct cm_err *e)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return cm_fail(e, -errno, "spec: cannot open directory %s (%s)", dir, strerror(errno));
	struct walk w = {.e = e};
	w.buf = malloc(CM_SPEC_FILE_MAX + 1);
	if (!w.buf) {
		close(fd);
		return cm_fail(e, -ENOMEM, "out of memory");
	}
	bool empty;
	int r = tree_id(&w, NULL, fd, NULL, dir, 0, out, &empty);
	free(w.buf);
	return r;
}
