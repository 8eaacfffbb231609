/* Step 3: load the kernel modules listed in the initrd (libkmod, dependencies
 * resolved from modules.dep, built-ins and already-loaded modules skipped). */
#ifndef COCOON_INIT_MODULES_H
#define COCOON_INIT_MODULES_H

#include <stddef.h>

#include "measure/core/util.h"

#define CI_MODULES_LIST "/etc/cocoon/modules"

/* Parse one list line in place: strips comments ('#') and blanks; returns the module
 * name (NULL for an empty line) or sets *bad when the name has characters outside
 * [A-Za-z0-9_-]. */
char *ci_modules_line(char *line, int *bad);

/* Load every module named in list_path (one per line). dirname NULL = the running
 * kernel's /lib/modules/$(uname -r). Returns the number inserted, or -errno. */
int ci_modules_load(const char *list_path, const char *dirname, struct cm_err *e);

/* The same for n module names given by the caller (step 7's GPU modules). */
int ci_modules_load_names(const char *const *names, size_t n, const char *dirname, struct cm_err *e);
#define CI_MODULE_SLOW_MS 100 /* a module load this slow is logged with its time */

#endif
