/* cocoon-mkinitrd list files (format in docs/initrd.md): file/elf/dir/slink/tree lines. */
#include "initrd/listfile.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "initrd/elfdeps.h"

static int split_words(char *line, char **w, int max)
{
	int n = 0;
	char *save = NULL;
	for (char *tok = strtok_r(line, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == max)
			return -1;
		w[n++] = tok;
	}
	return n;
}

static int parse_mode(const char *s, const char *where, struct cm_err *e)
{
	char *end;
	errno = 0;
	long m = strtol(s, &end, 8);
	if (errno || *end || m < 0 || m > 07777)
		return cm_fail(e, -EINVAL, "%s: bad octal mode '%s'", where, s);
	return (int)m;
}

int mi_add_listfile(struct mi_tree *t, const char *listpath, const char *const *libdirs,
		    struct cm_err *e)
{
	uint8_t *buf;
	size_t len;
	int rc = cm_read_file(listpath, 4u << 20, &buf, &len, e);
	if (rc < 0)
		return rc;
	if (memchr(buf, '\0', len)) {
		free(buf);
		return cm_fail(e, -EINVAL, "%s: contains a NUL byte", listpath);
	}
	unsigned lineno = 0;
	char *next = (char *)buf;
	while (next && *next) {
		char *line = next;
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		next = nl ? nl + 1 : NULL;
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *w[5];
		int n = split_words(line, w, 5);
		char where[PATH_MAX + 32];
		snprintf(where, sizeof(where), "%s:%u", listpath, lineno);
		if (n == 0)
			continue;
		if (n < 0) {
			rc = cm_fail(e, -EINVAL, "%s: too many words", where);
		} else if (strcmp(w[0], "file") == 0 && (n == 3 || n == 4)) {
			int mode = n == 4 ? parse_mode(w[3], where, e) : -1;
			rc = n == 4 && mode < 0 ? mode : mi_add_file(t, w[1], w[2], mode, e);
		} else if (strcmp(w[0], "elf") == 0 && n == 3) {
			rc = mi_add_elf(t, w[1], w[2], libdirs, e);
		} else if (strcmp(w[0], "dir") == 0 && (n == 2 || n == 3)) {
			int mode = n == 3 ? parse_mode(w[2], where, e) : -1;
			rc = n == 3 && mode < 0 ? mode : mi_add_dir(t, w[1], mode, e);
		} else if (strcmp(w[0], "slink") == 0 && n == 3) {
			rc = mi_add_symlink(t, w[1], w[2], e);
		} else if (strcmp(w[0], "tree") == 0 && n == 3) {
			rc = mi_add_hosttree(t, w[1], w[2], e);
		} else {
			rc = cm_fail(e, -EINVAL,
				     "%s: expected 'file DEST HOST [MODE]', 'elf DEST HOST', 'dir DEST [MODE]', "
				     "'slink DEST TARGET' or 'tree DEST HOSTDIR'",
				     where);
		}
		if (rc < 0) {
			if (!strstr(e ? e->msg : "", where))
				cm_err_prefix(e, "%s", where);
			break;
		}
	}
	free(buf);
	return rc < 0 ? rc : 0;
}
