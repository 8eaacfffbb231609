/* cocoon-mkinitrd: the entry set and the deterministic newc writer. */
#include "initrd/tree.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void mi_buf_free(struct mi_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

int mi_buf_append(struct mi_buf *b, const void *p, size_t n, struct cm_err *e)
{
	if (n > SIZE_MAX - b->len)
		return cm_fail(e, -EOVERFLOW, "archive too large");
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		while (cap < b->len + n) {
			if (cap > SIZE_MAX / 2)
				return cm_fail(e, -EOVERFLOW, "archive too large");
			cap *= 2;
		}
		uint8_t *np = realloc(b->p, cap);
		if (!np)
			return cm_fail(e, -ENOMEM, "out of memory growing archive to %zu bytes", cap);
		b->p = np;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

static void entry_free(struct mi_entry *en)
{
	free(en->path);
	free(en->src);
	free(en->data);
	free(en->target);
}

void mi_tree_free(struct mi_tree *t)
{
	for (size_t i = 0; i < t->n; i++)
		entry_free(&t->v[i]);
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

int mi_path_normalize(const char *in, char *out, size_t outsz, struct cm_err *e)
{
	size_t o = 0;
	const char *p = in;
	if (outsz == 0)
		return cm_fail(e, -ENOSPC, "no room for path");
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *s = p;
		while (*p && *p != '/')
			p++;
		size_t n = (size_t)(p - s);
		if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return cm_fail(e, -EINVAL, "archive path '%s' has a '.' or '..' component", in);
		if (o + (o ? 1 : 0) + n + 1 > outsz)
			return cm_fail(e, -ENAMETOOLONG, "archive path '%.64s...' too long", in);
		if (o)
			out[o++] = '/';
		memcpy(out + o, s, n);
		o += n;
	}
	if (o == 0)
		return cm_fail(e, -EINVAL, "empty archive path '%s'", in);
	out[o] = '\0';
	return 0;
}

static struct mi_entry *find(struct mi_tree *t, const char *path)
{
	for (size_t i = t->n; i-- > 0;)
		if (strcmp(t->v[i].path, path) == 0)
			return &t->v[i];
	return NULL;
}

static bool same_entry(const struct mi_entry *a, const struct mi_entry *b)
{
	if (a->kind != b->kind || a->mode != b->mode)
		return false;
	switch (a->kind) {
	case MI_DIR:
		return true;
	case MI_SYMLINK:
		return strcmp(a->target, b->target) == 0;
	case MI_REG:
		if (a->src && b->src)
			return strcmp(a->src, b->src) == 0;
		if (!a->src && !b->src)
			return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
		return false;
	}
	return false;
}

static int ensure_parents(struct mi_tree *t, const char *path, struct cm_err *e);

/* Take ownership of en's allocations (freed on any failure). path must be normalized. */
static int add_entry(struct mi_tree *t, struct mi_entry *en, struct cm_err *e)
{
	int rc = ensure_parents(t, en->path, e);
	if (rc < 0)
		goto fail;
	struct mi_entry *old = find(t, en->path);
	if (old) {
		if (old->kind == MI_DIR && en->kind == MI_DIR && en->mode == 0755) {
			entry_free(en); /* implicit parent or repeated directory: keep the first */
			return 0;
		}
		if (old->kind == MI_DIR && en->kind == MI_DIR && old->mode == 0755) {
			old->mode = en->mode; /* explicit mode overrides an implicit parent */
			entry_free(en);
			return 0;
		}
		if (same_entry(old, en)) {
			entry_free(en);
			return 0;
		}
		rc = cm_fail(e, -EEXIST, "archive path '%s' defined twice with different contents", en->path);
		goto fail;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct mi_entry *nv = realloc(t->v, cap * sizeof(*nv));
		if (!nv) {
			rc = cm_fail(e, -ENOMEM, "out of memory");
			goto fail;
		}
		t->v = nv;
		t->cap = cap;
	}
	t->v[t->n++] = *en;
	return 0;
fail:
	entry_free(en);
	return rc;
}

static int ensure_parents(struct mi_tree *t, const char *path, struct cm_err *e)
{
	char buf[MI_MAX_PATH];
	size_t len = strlen(path);
	if (len >= sizeof(buf))
		return cm_fail(e, -ENAMETOOLONG, "archive path too long");
	memcpy(buf, path, len + 1);
	for (char *s = buf; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		struct mi_entry *old = find(t, buf);
		if (old && old->kind != MI_DIR)
			return cm_fail(e, -ENOTDIR, "'%s' is needed as a directory for '%s' but is not one", buf, path);
		if (!old) {
			struct mi_entry d = {.kind = MI_DIR, .mode = 0755, .path = strdup(buf)};
			if (!d.path)
				return cm_fail(e, -ENOMEM, "out of memory");
			int rc = add_entry(t, &d, e);
			if (rc < 0)
				return rc;
		}
		*s = '/';
	}
	return 0;
}

static int new_entry(struct mi_entry *en, enum mi_kind kind, const char *path, unsigned mode,
		     struct cm_err *e)
{
	char norm[MI_MAX_PATH];
	int rc = mi_path_normalize(path, norm, sizeof(norm), e);
	if (rc < 0)
		return rc;
	*en = (struct mi_entry){.kind = kind, .mode = mode & 07777, .path = strdup(norm)};
	if (!en->path)
		return cm_fail(e, -ENOMEM, "out of memory");
	return 0;
}

/* Add en once its payload was allocated (alloc: the new allocation, NULL on failure). */
static int add_allocated(struct mi_tree *t, struct mi_entry *en, const void *alloc, struct cm_err *e)
{
	if (!alloc) {
		entry_free(en);
		return cm_fail(e, -ENOMEM, "out of memory");
	}
	return add_entry(t, en, e);
}

int mi_add_dir(struct mi_tree *t, const char *path, int mode, struct cm_err *e)
{
	struct mi_entry en;
	int rc = new_entry(&en, MI_DIR, path, mode < 0 ? 0755 : (unsigned)mode, e);
	return rc < 0 ? rc : add_entry(t, &en, e);
}

int mi_add_file(struct mi_tree *t, const char *path, const char *host, int mode, struct cm_err *e)
{
	struct stat st;
	if (stat(host, &st) != 0)
		return cm_fail(e, -errno, "%s: %s", host, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return cm_fail(e, -EINVAL, "%s: not a regular file", host);
	if ((uint64_t)st.st_size > MI_MAX_FILE)
		return cm_fail(e, -EFBIG, "%s: larger than %u bytes", host, MI_MAX_FILE);
	unsigned m = mode >= 0 ? (unsigned)mode : ((st.st_mode & 0111) ? 0755 : 0644);
	struct mi_entry en;
	int rc = new_entry(&en, MI_REG, path, m, e);
	if (rc < 0)
		return rc;
	en.src = strdup(host);
	return add_allocated(t, &en, en.src, e);
}

int mi_add_data(struct mi_tree *t, const char *path, const void *data, size_t len, int mode,
		struct cm_err *e)
{
	if (len > MI_MAX_FILE)
		return cm_fail(e, -EFBIG, "inline file %s too large", path);
	struct mi_entry en;
	int rc = new_entry(&en, MI_REG, path, mode < 0 ? 0644 : (unsigned)mode, e);
	if (rc < 0)
		return rc;
	en.data = malloc(len ? len : 1);
	if (en.data && len)
		memcpy(en.data, data, len);
	en.len = len;
	return add_allocated(t, &en, en.data, e);
}

int mi_add_symlink(struct mi_tree *t, const char *path, const char *target, struct cm_err *e)
{
	if (!*target || strlen(target) >= MI_MAX_PATH)
		return cm_fail(e, -EINVAL, "bad symlink target for %s", path);
	struct mi_entry en;
	int rc = new_entry(&en, MI_SYMLINK, path, 0777, e);
	if (rc < 0)
		return rc;
	en.target = strdup(target);
	return add_allocated(t, &en, en.target, e);
}

static int join(char *out, size_t outsz, const char *a, const char *b, struct cm_err *e)
{
	int n = snprintf(out, outsz, "%s/%s", a, b);
	if (n < 0 || (size_t)n >= outsz)
		return cm_fail(e, -ENAMETOOLONG, "path %s/%s too long", a, b);
	return 0;
}

int mi_add_hosttree(struct mi_tree *t, const char *path, const char *hostdir, struct cm_err *e)
{
	bool root = path[strspn(path, "/")] == '\0'; /* "/" or "": the archive root */
	int rc = root ? 0 : mi_add_dir(t, path, -1, e);
	if (rc < 0)
		return rc;
	DIR *d = opendir(hostdir);
	if (!d)
		return cm_fail(e, -errno, "%s: %s", hostdir, strerror(errno));
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char hp[PATH_MAX], ap[MI_MAX_PATH];
		if ((rc = join(hp, sizeof(hp), hostdir, de->d_name, e)) < 0 ||
		    (rc = join(ap, sizeof(ap), root ? "" : path, de->d_name, e)) < 0)
			break;
		struct stat st;
		if (lstat(hp, &st) != 0) {
			rc = cm_fail(e, -errno, "%s: %s", hp, strerror(errno));
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			rc = mi_add_hosttree(t, ap, hp, e);
		} else if (S_ISREG(st.st_mode)) {
			rc = mi_add_file(t, ap, hp, -1, e);
		} else if (S_ISLNK(st.st_mode)) {
			char tgt[MI_MAX_PATH];
			ssize_t n = readlink(hp, tgt, sizeof(tgt) - 1);
			if (n < 0) {
				rc = cm_fail(e, -errno, "%s: %s", hp, strerror(errno));
				break;
			}
			tgt[n] = '\0';
			rc = mi_add_symlink(t, ap, tgt, e);
		} else {
			rc = cm_fail(e, -EINVAL, "%s: unsupported file type (devices come from devtmpfs)", hp);
		}
		if (rc < 0)
			break;
	}
	closedir(d);
	return rc < 0 ? rc : 0;
}

/* ---- newc writer -------------------------------------------------------------------- */

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct mi_entry *)a)->path, ((const struct mi_entry *)b)->path);
}

static int pad4(struct mi_buf *out, struct cm_err *e)
{
	static const uint8_t zero[4];
	size_t r = out->len % 4;
	return r ? mi_buf_append(out, zero, 4 - r, e) : 0;
}

static int header(struct mi_buf *out, uint32_t ino, uint32_t mode, uint32_t nlink, uint64_t mtime,
		  uint64_t size, const char *name, struct cm_err *e)
{
	if (size > UINT32_MAX || mtime > UINT32_MAX)
		return cm_fail(e, -EOVERFLOW, "%s: size or mtime does not fit newc's 32-bit fields", name);
	size_t namesize = strlen(name) + 1;
	if (namesize > MI_MAX_PATH)
		return cm_fail(e, -ENAMETOOLONG, "archive path too long");
	char h[128];
	/* magic ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check */
	snprintf(h, sizeof(h), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", ino, mode,
		 0u, 0u, nlink, (uint32_t)mtime, (uint32_t)size, 0u, 0u, 0u, 0u, (uint32_t)namesize, 0u);
	int rc = mi_buf_append(out, h, 110, e);
	if (rc == 0)
		rc = mi_buf_append(out, name, namesize, e);
	return rc < 0 ? rc : pad4(out, e);
}

int mi_tree_write_cpio(struct mi_tree *t, uint64_t epoch, struct mi_buf *out, struct cm_err *e)
{
	int rc = 0;
	if (t->n)
		qsort(t->v, t->n, sizeof(t->v[0]), cmp_entry);
	for (size_t i = 0; i < t->n && rc == 0; i++) {
		struct mi_entry *en = &t->v[i];
		uint32_t ino = (uint32_t)(i + 1);
		switch (en->kind) {
		case MI_DIR:
			rc = header(out, ino, S_IFDIR | en->mode, 2, epoch, 0, en->path, e);
			break;
		case MI_SYMLINK: {
			size_t tl = strlen(en->target);
			rc = header(out, ino, S_IFLNK | 0777, 1, epoch, tl, en->path, e);
			if (rc == 0)
				rc = mi_buf_append(out, en->target, tl, e);
			if (rc == 0)
				rc = pad4(out, e);
			break;
		}
		case MI_REG: {
			uint8_t *data = en->data;
			size_t len = en->len;
			uint8_t *owned = NULL;
			if (en->src) {
				rc = cm_read_file(en->src, MI_MAX_FILE, &owned, &len, e);
				if (rc < 0)
					break;
				data = owned;
			}
			rc = header(out, ino, S_IFREG | en->mode, 1, epoch, len, en->path, e);
			if (rc == 0)
				rc = mi_buf_append(out, data, len, e);
			if (rc == 0)
				rc = pad4(out, e);
			free(owned);
			break;
		}
		}
	}
	if (rc == 0)
		rc = header(out, 0, 0, 1, 0, 0, "TRAILER!!!", e);
	return rc;
}
