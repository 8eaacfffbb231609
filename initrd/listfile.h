/* cocoon-mkinitrd: list files (listfile.c) over the tree and the ELF closure. */
#ifndef COCOON_INITRD_LISTFILE_H
#define COCOON_INITRD_LISTFILE_H

#include "initrd/tree.h"
#include "measure/core/util.h"

/* Read a list file (format in docs/initrd.md: file/elf/dir/slink/tree lines). */
int mi_add_listfile(struct mi_tree *t, const char *listpath, const char *const *libdirs,
		    struct cm_err *e);

#endif
