/* The bounded in-guest service log (see svclog.h). */
#include "guest/init/svclog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest/init/log.h"
#include "guest/init/sys.h"

static int open_log(const char *path)
{
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
}

int ci_svclog_open(struct ci_svclog *l, const char *dir, const char *name, size_t cap, int console,
		   struct cm_err *e)
{
	memset(l, 0, sizeof(*l));
	l->fd = -1;
	l->console = console;
	l->cap = cap ? cap : 1;
	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return cm_fail(e, -EINVAL, "service log: bad service name '%s'", name);
	if ((size_t)snprintf(l->path, sizeof(l->path), "%s/%s.log", dir, name) >= sizeof(l->path) - 2)
		return cm_fail(e, -ENAMETOOLONG, "service log: path too long");
	int rc = ci_mkdir_p(dir, e);
	if (rc < 0)
		return rc;
	if (chmod(dir, 0700) < 0)
		return cm_fail(e, -errno, "service log: chmod %s (%s)", dir, strerror(errno));
	if ((l->fd = open_log(l->path)) < 0)
		return cm_fail(e, -errno, "service log: open %s (%s)", l->path, strerror(errno));
	return 0;
}

void ci_svclog_write(struct ci_svclog *l, const char *buf, size_t n)
{
	if (l->console >= 0)
		(void)cm_write_all(l->console, buf, n);
	if (n > l->cap) {
		buf += n - l->cap;
		n = l->cap;
	}
	if (l->fd < 0 || l->size + n > l->cap) {
		char old[PATH_MAX + 2];
		snprintf(old, sizeof(old), "%s.1", l->path);
		if (l->fd >= 0) {
			close(l->fd);
			rename(l->path, old);
		}
		l->fd = open_log(l->path);
		l->size = 0;
		if (l->fd < 0)
			return;
	}
	(void)cm_write_all(l->fd, buf, n);
	l->size += n;
}

void ci_svclog_close(struct ci_svclog *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}
