/* Early mounts, small file helpers and switch_root for cocoon-init. */
#ifndef COCOON_INIT_SYS_H
#define COCOON_INIT_SYS_H

#include <stddef.h>
#include <sys/types.h>

#include "measure/core/util.h"

/* Step 1: devtmpfs /dev, proc, sysfs, tmpfs /run, configfs, devpts. */
int ci_early_mounts(struct cm_err *e);

/* mkdir -p with mode 0755. */
int ci_mkdir_p(const char *path, struct cm_err *e);

/* Copy a directory tree (regular files, directories, symlinks; nothing else) from src
 * to dst (created). Bounded: at most max_files entries, max_bytes content and
 * CI_COPY_MAX_DEPTH nested directories (-ELOOP; the spec tree hash accepts no deeper
 * tree either, CM_SPEC_MAX_DEPTH). The copy holds only what the spec tree hash sees:
 * directories with no file below them are left out, files get mode 0755 or 0644 from
 * the owner-execute bit, directories 0755. */
#define CI_COPY_MAX_DEPTH 32
int ci_copy_tree(const char *src, const char *dst, size_t max_files, size_t max_bytes, struct cm_err *e);

/* Open name (in dirfd) for reading: non-blocking (O_NOFOLLOW), then the descriptor must be
 * a regular file with seen's device and inode (what an earlier fstatat saw), else
 * -ESTALE "... changed while it was copied"; O_NONBLOCK is cleared. Returns the fd. */
struct stat;
int ci_open_regular_at(int dirfd, const char *name, const struct stat *seen, struct cm_err *e);

/* Move /dev /proc /sys /run into newroot, make it "/", chroot, and delete the old
 * initramfs contents (only when the old root is a ramfs/tmpfs). */
int ci_switch_root(const char *newroot, struct cm_err *e);

#endif
