/* Which entries of a spec directory are measured: Cocoon's cocoon-prepare-spec rules
 * (`git add -A` honouring .gitignore, then runtime/, top-level spec.tree / spec.meta and
 * every .gitignore dropped from the index), evaluated without git. The spec tree hash
 * (spec.h) and cocoon-init's copy of the spec share (guest/init/sys.c) both walk the tree
 * with these rules, so the copy holds exactly what the hash measures (plus runtime/).
 *
 * .gitignore: only the part of git's syntax this code evaluates exactly as git does is
 * accepted; anything else is refused with the line named (docs/auditor-guide.md):
 *   - blank lines, lines of spaces, `#` comments; trailing spaces are dropped;
 *   - a name without `/` (matches that name at any depth below the .gitignore's
 *     directory), optionally with `*` and `?` wildcards (a `*` matches any bytes, a
 *     leading dot too; `?` one byte);
 *   - a path with a `/` at the start or in the middle, no wildcards (anchored: exactly
 *     that path below the .gitignore's directory);
 *   - either followed by `/`: directories only.
 * Refused: `!` negation, `\` escapes, `[...]` classes, wildcards in anchored paths, `.`
 * or `..` or empty components, control characters (a CR of a CRLF file too), lines
 * over CM_SPEC_IGNORE_LINE_MAX bytes, files over CM_SPEC_IGNORE_MAX bytes.
 * .gitattributes anywhere in a walked directory is refused (a `* text` rule would change
 * the hash silently); so is a nested .git. */
#ifndef COCOON_MEASURE_SPECIGNORE_H
#define COCOON_MEASURE_SPECIGNORE_H

#include <stdbool.h>
#include <stddef.h>

#include "measure/core/util.h"

#define CM_SPEC_IGNORE_MAX (64u << 10)
#define CM_SPEC_IGNORE_LINE_MAX 1024
#define CM_SPEC_IGNORE_PATTERNS 1024 /* per .gitignore */

/* Patterns of one .gitignore. */
struct cm_spec_patterns;

/* Parse a .gitignore's content; where names it in errors. *out is NULL when the file
 * holds no pattern. */
int cm_spec_ignore_parse(const char *text, size_t len, const char *where, struct cm_spec_patterns **out,
			 struct cm_err *e);
void cm_spec_patterns_free(struct cm_spec_patterns *p);

/* Whether p ignores entry name (is_dir: a directory) of the directory below (a path
 * relative to the .gitignore's directory, "" for that directory itself). */
bool cm_spec_patterns_match(const struct cm_spec_patterns *p, const char *below, const char *name, bool is_dir);

/* One directory of the walk: its path below the spec top and its .gitignore, chained to
 * the parent directory's. */
struct cm_spec_dir;

/* Enter the directory open at dirfd (not consumed): name is its entry name in parent
 * (parent NULL: the spec top, name ignored), path the path used in errors. Reads its
 * .gitignore (O_NOFOLLOW, must be a regular file). Free with cm_spec_dir_free (children
 * first). */
int cm_spec_dir_enter(const struct cm_spec_dir *parent, int dirfd, const char *name, const char *path,
		      struct cm_spec_dir **out, struct cm_err *e);
void cm_spec_dir_free(struct cm_spec_dir *d);

enum cm_spec_verdict {
	CM_SPEC_MEASURED = 0, /* part of the tree */
	CM_SPEC_RUNTIME,      /* the top-level runtime/: unmeasured, copied as is */
	CM_SPEC_EXCLUDED,     /* ignored, a .gitignore, or top-level spec.tree / spec.meta */
};

/* The verdict for entry name (is_dir: a directory, not a symlink to one) of directory d,
 * or a negative error for .git and .gitattributes (path names it). */
int cm_spec_dir_check(const struct cm_spec_dir *d, const char *name, bool is_dir, const char *path,
		      struct cm_err *e);

#endif
