#include "measure/predict/specignore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct pattern {
	char *s;
	bool dir_only; /* trailing '/' */
	bool anchored; /* a '/' at the start or in the middle: a path below the .gitignore's directory */
};

struct cm_spec_patterns {
	struct pattern *v;
	size_t n;
};

struct cm_spec_dir {
	const struct cm_spec_dir *parent;
	char *rel; /* "" at the top, else "a/b" */
	struct cm_spec_patterns *pats;
};

void cm_spec_patterns_free(struct cm_spec_patterns *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].s);
	free(p->v);
	free(p);
}

/* The checks of one pattern line (spaces already trimmed); NULL when git would evaluate
 * it exactly as pattern_match does, else why it is refused. */
static const char *refuse_reason(const char *s, size_t n, bool anchored)
{
	if (s[0] == '!')
		return "negation (!) is not evaluated";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r')
			return "a carriage return (CRLF line ends) is not accepted";
		if (c < 0x20 || c == 0x7f)
			return "control characters are not accepted";
		if (c == '\\')
			return "backslash escapes are not evaluated";
		if (c == '[')
			return "character classes ([...]) are not evaluated";
		if (anchored && (c == '*' || c == '?'))
			return "wildcards in a path with '/' are not evaluated";
	}
	if (!anchored)
		return NULL;
	/* components of an anchored path: none empty, "." or ".." */
	for (const char *p = s, *end = s + n; p <= end;) {
		const char *q = memchr(p, '/', (size_t)(end - p));
		if (!q)
			q = end;
		size_t l = (size_t)(q - p);
		if (l == 0 || (l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
			return "empty, '.' or '..' path components are not evaluated";
		p = q + 1;
	}
	return NULL;
}

static int add_line(struct cm_spec_patterns *p, const char *line, size_t n, const char *where, int lineno,
		    struct cm_err *e)
{
	while (n > 0 && line[n - 1] == ' ')
		n--; /* git drops unescaped trailing spaces (escapes are refused below) */
	if (n == 0 || line[0] == '#')
		return 0;
	if (n > CM_SPEC_IGNORE_LINE_MAX)
		return cm_fail(e, -EINVAL, "spec: %s line %d: longer than %d bytes", where, lineno,
			       CM_SPEC_IGNORE_LINE_MAX);
	struct pattern pt = {0};
	const char *s = line;
	if (s[n - 1] == '/') {
		pt.dir_only = true;
		n--;
	}
	pt.anchored = n > 0 && memchr(s, '/', n) != NULL;
	if (n > 0 && s[0] == '/') {
		s++;
		n--;
	}
	const char *why = n == 0 ? "an empty pattern is not evaluated" : refuse_reason(s, n, pt.anchored);
	if (why)
		return cm_fail(e, -EINVAL, "spec: %s line %d: \"%.*s\": %s", where, lineno, (int)(n < 80 ? n : 80), s,
			       why);
	if (p->n >= CM_SPEC_IGNORE_PATTERNS)
		return cm_fail(e, -E2BIG, "spec: %s: more than %d patterns", where, CM_SPEC_IGNORE_PATTERNS);
	pt.s = strndup(s, n);
	if (!pt.s)
		return cm_fail(e, -ENOMEM, "out of memory");
	if (p->n % 16 == 0) {
		struct pattern *nv = realloc(p->v, (p->n + 16) * sizeof(*nv));
		if (!nv) {
			free(pt.s);
			return cm_fail(e, -ENOMEM, "out of memory");
		}
		p->v = nv;
	}
	p->v[p->n++] = pt;
	return 0;
}

int cm_spec_ignore_parse(const char *text, size_t len, const char *where, struct cm_spec_patterns **out,
			 struct cm_err *e)
{
	*out = NULL;
	if (len > CM_SPEC_IGNORE_MAX)
		return cm_fail(e, -EFBIG, "spec: %s is larger than %u bytes", where, CM_SPEC_IGNORE_MAX);
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) { /* git skips a UTF-8 BOM */
		text += 3;
		len -= 3;
	}
	struct cm_spec_patterns *p = calloc(1, sizeof(*p));
	if (!p)
		return cm_fail(e, -ENOMEM, "out of memory");
	int r = 0, lineno = 0;
	for (size_t i = 0; i < len && !r;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) : len - i;
		if (memchr(text + i, '\0', n))
			r = cm_fail(e, -EINVAL, "spec: %s line %d: contains a NUL byte", where, lineno + 1);
		else
			r = add_line(p, text + i, n, where, ++lineno, e);
		i += n + 1;
	}
	if (r || p->n == 0) {
		cm_spec_patterns_free(p);
		return r;
	}
	*out = p;
	return 0;
}

/* git's wildmatch without WM_PATHNAME on a name without '/': '*' any bytes, '?' one. */
static bool glob_match(const char *p, const char *s)
{
	const char *star = NULL, *resume = NULL;
	while (*s) {
		if (*p == '*') {
			star = ++p;
			resume = s;
		} else if (*p && (*p == '?' || *p == *s)) {
			p++;
			s++;
		} else if (star) {
			p = star;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

static int read_gitignore(int dirfd, const char *path, struct cm_spec_patterns **out, struct cm_err *e)
{
	*out = NULL;
	int fd = openat(dirfd, ".gitignore", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return cm_fail(e, -errno, "spec: cannot open %s/.gitignore (%s)", path,
			       errno == ELOOP ? "a symlink" : strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return cm_fail(e, -EINVAL, "spec: %s/.gitignore is not a regular file", path);
	}
	char *buf = malloc(CM_SPEC_IGNORE_MAX + 1);
	if (!buf) {
		close(fd);
		return cm_fail(e, -ENOMEM, "out of memory");
	}
	size_t n = 0;
	ssize_t r;
	while (n <= CM_SPEC_IGNORE_MAX && ((r = read(fd, buf + n, CM_SPEC_IGNORE_MAX + 1 - n)) > 0 ||
					     (r < 0 && errno == EINTR)))
		n += r > 0 ? (size_t)r : 0;
	int err = r < 0 ? errno : 0;
	close(fd);
	char where[4200];
	snprintf(where, sizeof(where), "%s/.gitignore", path);
	int rc = err ? cm_fail(e, -err, "spec: cannot read %s (%s)", where, strerror(err))
		     : cm_spec_ignore_parse(buf, n, where, out, e);
	free(buf);
	return rc;
}

int cm_spec_dir_enter(const struct cm_spec_dir *parent, int dirfd, const char *name, const char *path,
		      struct cm_spec_dir **out, struct cm_err *e)
{
	*out = NULL;
	struct cm_spec_dir *d = calloc(1, sizeof(*d));
	if (!d)
		return cm_fail(e, -ENOMEM, "out of memory");
	d->parent = parent;
	size_t pl = parent ? strlen(parent->rel) : 0;
	size_t nl = parent ? strlen(name) : 0;
	d->rel = malloc(pl + nl + 2);
	if (!d->rel) {
		free(d);
		return cm_fail(e, -ENOMEM, "out of memory");
	}
	if (!parent)
		d->rel[0] = '\0';
	else if (pl)
		snprintf(d->rel, pl + nl + 2, "%s/%s", parent->rel, name);
	else
		memcpy(d->rel, name, nl + 1);
	int r = read_gitignore(dirfd, path, &d->pats, e);
	if (r) {
		cm_spec_dir_free(d);
		return r;
	}
	*out = d;
	return 0;
}

void cm_spec_dir_free(struct cm_spec_dir *d)
{
	if (!d)
		return;
	cm_spec_patterns_free(d->pats);
	free(d->rel);
	free(d);
}

bool cm_spec_patterns_match(const struct cm_spec_patterns *p, const char *below, const char *name, bool is_dir)
{
	size_t bl = strlen(below);
	for (size_t i = 0; p && i < p->n; i++) {
		const struct pattern *pt = &p->v[i];
		if (pt->dir_only && !is_dir)
			continue;
		if (!pt->anchored) {
			if (glob_match(pt->s, name))
				return true;
			continue;
		}
		size_t sl = strlen(pt->s);
		if (bl == 0 ? !strcmp(pt->s, name)
			    : sl > bl && !memcmp(pt->s, below, bl) && pt->s[bl] == '/' && !strcmp(pt->s + bl + 1, name))
			return true;
	}
	return false;
}

static bool ignored(const struct cm_spec_dir *d, const char *name, bool is_dir)
{
	for (const struct cm_spec_dir *l = d; l; l = l->parent) {
		/* the entry's directory below l: d->rel without l->rel's prefix */
		const char *below = d->rel + strlen(l->rel);
		if (*below == '/')
			below++;
		if (l->pats && cm_spec_patterns_match(l->pats, below, name, is_dir))
			return true;
	}
	return false;
}

int cm_spec_dir_check(const struct cm_spec_dir *d, const char *name, bool is_dir, const char *path,
		      struct cm_err *e)
{
	if (!strcmp(name, ".git") || !strcmp(name, ".gitattributes"))
		return cm_fail(e, -EINVAL, "spec: %s is not allowed in a spec directory%s", path,
			       name[4] ? " (its rules would change what git hashes)" : "");
	if (!strcmp(name, ".gitignore"))
		return CM_SPEC_EXCLUDED;
	if (!d->parent) {
		if (!strcmp(name, "runtime"))
			return CM_SPEC_RUNTIME;
		if (!strcmp(name, "spec.tree") || !strcmp(name, "spec.meta"))
			return CM_SPEC_EXCLUDED;
	}
	return ignored(d, name, is_dir) ? CM_SPEC_EXCLUDED : CM_SPEC_MEASURED;
}
