/* cocoon-mkinitrd's archive tree (tree.c): a deterministic initramfs.
 *
 * An mi_tree collects entries (regular files read from the host at write time, inline
 * data, directories, symlinks) under normalized archive paths ("bin/init", no leading
 * slash, no "." or ".." components). mi_tree_write_cpio() emits a newc archive with the
 * entries sorted bytewise by path, every mtime = epoch, uid/gid 0, inodes renumbered
 * 1..n in sorted order, device numbers 0, modes normalized (directories 0755, regular
 * files 0755 if any execute bit was set else 0644, symlinks 0777, unless a mode was given
 * explicitly). The same inputs (file contents and the entry set) give the same bytes
 * regardless of host mtimes, owners, inode numbers or the order entries were added.
 *
 * Errors follow the project convention (measure/util.h): negative errno, struct cm_err. */
#ifndef COCOON_INITRD_TREE_H
#define COCOON_INITRD_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "measure/core/util.h"

#define MI_MAX_FILE (512u * 1024 * 1024) /* largest single file accepted */
#define MI_MAX_PATH 1024u

enum mi_kind { MI_REG, MI_DIR, MI_SYMLINK };

struct mi_entry {
	char *path;       /* normalized archive path */
	enum mi_kind kind;
	unsigned mode;    /* permission bits (07777), already normalized */
	char *src;        /* MI_REG: host file to read, or NULL when data is inline */
	uint8_t *data;    /* MI_REG inline data */
	size_t len;
	char *target;     /* MI_SYMLINK */
};

struct mi_tree {
	struct mi_entry *v;
	size_t n, cap;
};

struct mi_buf {
	uint8_t *p;
	size_t len, cap;
};

void mi_tree_free(struct mi_tree *t);
void mi_buf_free(struct mi_buf *b);
int mi_buf_append(struct mi_buf *b, const void *p, size_t n, struct cm_err *e);

/* Normalize an archive path into out (strip leading '/', collapse "//", reject "." and ".."
 * components and empty paths). */
int mi_path_normalize(const char *in, char *out, size_t outsz, struct cm_err *e);

/* Add entries; parent directories are created implicitly (0755). mode < 0 means "derive":
 * for a host file, 0755 if it has any execute bit else 0644. Adding the same path twice is
 * allowed only when both definitions are identical (same kind, mode, source/target). */
int mi_add_dir(struct mi_tree *t, const char *path, int mode, struct cm_err *e);
int mi_add_file(struct mi_tree *t, const char *path, const char *host, int mode, struct cm_err *e);
int mi_add_data(struct mi_tree *t, const char *path, const void *data, size_t len, int mode,
		struct cm_err *e);
int mi_add_symlink(struct mi_tree *t, const char *path, const char *target, struct cm_err *e);
/* Recursively add a host directory's contents under path (regular files, directories,
 * symlinks kept as symlinks; other file types are an error). */
int mi_add_hosttree(struct mi_tree *t, const char *path, const char *hostdir, struct cm_err *e);

/* The newc archive of the tree (entries sorted), appended to out. */
int mi_tree_write_cpio(struct mi_tree *t, uint64_t epoch, struct mi_buf *out, struct cm_err *e);

#endif
