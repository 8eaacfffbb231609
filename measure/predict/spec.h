/* The spec (config) directory's tree hash, measured into RTMR3 as
 * "cocoon:spec.tree=<hex>" (specs/measurement.md §7).
 *
 * The hash is the git tree id in the sha256 object format of the directory, exactly what
 * `git init --object-format=sha256 && git add -A && git write-tree` prints, with
 * Cocoon's exclusions (cocoon-prepare-spec; the rules in specignore.h): the top-level
 * runtime/ (unmeasured runtime data), spec.tree and spec.meta, every .gitignore and what
 * its patterns ignore (the subset of git's syntax evaluated exactly; anything else is
 * refused). Only regular files (mode 100644, or 100755 when the owner may execute)
 * and directories are accepted; empty directories vanish as in git. Anything git would
 * treat differently is refused instead of guessed: symlinks, special files, nested
 * .git, .gitattributes, un-evaluable .gitignore patterns, files over CM_SPEC_FILE_MAX
 * bytes. */
#ifndef COCOON_MEASURE_SPEC_H
#define COCOON_MEASURE_SPEC_H

#include <stdint.h>

#include "measure/core/util.h"

#define CM_SPEC_FILE_MAX (10u << 20)  /* Cocoon's limit per file */
#define CM_SPEC_MAX_DEPTH 32
#define CM_SPEC_MAX_ENTRIES 100000
#define CM_SPEC_TREE_LEN 32

int cm_spec_tree_hash(const char *dir, uint8_t out[CM_SPEC_TREE_LEN], struct cm_err *e);

#endif
