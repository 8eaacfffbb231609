/* Service output (stdout/stderr) of the supervisor's services: an in-guest, bounded log
 * per service, /run/cocoon/log/<service>.log, never the host-visible console unless
 * cocoon.debug (an engine that logs prompts must not leak them to the host; docs/boot.md
 * "Service output", docs/threat-model.md).
 *
 * Bounded: a write that would take the file above `cap` bytes first rotates it to
 * <service>.log.1 (replacing the older one), so a service holds at most 2 * cap bytes
 * and the oldest output is dropped first; one write above cap keeps its newest cap bytes. */
#ifndef COCOON_INIT_SVCLOG_H
#define COCOON_INIT_SVCLOG_H

#include <limits.h>
#include <stddef.h>

#include "measure/core/util.h"

#define CI_SVCLOG_DIR "/run/cocoon/log"
#define CI_SVCLOG_CAP (1u << 20) /* bytes per file; two files per service */

struct ci_svclog {
	int fd;      /* the current <name>.log, -1 when it could not be (re)opened */
	int console; /* copy of everything (cocoon.debug), -1 for none; not owned */
	size_t size, cap;
	char path[PATH_MAX];
};

/* Create dir (0700) if needed and <dir>/<name>.log (0600, truncated). name: a service
 * name (no '/', not "." or ".."). console: a descriptor to copy output to, or -1. */
int ci_svclog_open(struct ci_svclog *l, const char *dir, const char *name, size_t cap, int console,
		   struct cm_err *e);
/* Append n bytes (to the console too when set), rotating as above. Errors are dropped:
 * service output never stops the supervisor. */
void ci_svclog_write(struct ci_svclog *l, const char *buf, size_t n);
void ci_svclog_close(struct ci_svclog *l);

#endif
