/* cocoon-mkinitrd: ELF programs with their interpreter and DT_NEEDED closure (elfdeps.c). */
#ifndef COCOON_INITRD_ELFDEPS_H
#define COCOON_INITRD_ELFDEPS_H

#include <stddef.h>

#include "initrd/tree.h"
#include "measure/core/util.h"

/* Add an ELF executable or library at path plus its program interpreter and the closure of
 * its DT_NEEDED libraries, each found in libdirs (NULL-terminated; NULL = the Debian
 * amd64 defaults) and placed at the same path in the archive. */
int mi_add_elf(struct mi_tree *t, const char *path, const char *host, const char *const *libdirs,
	       struct cm_err *e);

/* Parse an ELF file's PT_INTERP (*interp, malloc'd or NULL) and DT_NEEDED names
 * (*needed, malloc'd array of malloc'd strings, *n entries). */
int mi_elf_deps(const char *host, char **interp, char ***needed, size_t *n, struct cm_err *e);

#endif
