/* cocoon-init logging: every line goes to /dev/console and /dev/kmsg with the
 * "cocoon-init: " prefix. A failure is one line "cocoon-init: FATAL <step>: <reason>"
 * followed by poweroff (or a debug shell when cocoon.debug asked for one). */
#ifndef COCOON_INIT_LOG_H
#define COCOON_INIT_LOG_H

#include <stdbool.h>

#include "measure/core/util.h"

/* (Re)open /dev/console and /dev/kmsg (after devtmpfs is mounted). Safe to call twice. */
void ci_log_open(void);
/* Without console (unit tests, tools) lines go to stderr. */
void ci_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Also hand every line (without the "cocoon-init: " prefix) to tap (the status channel's
 * log tail, status.h); NULL removes it. Set once, before other threads log. */
void ci_log_set_tap(void (*tap)(const char *msg));

/* What ci_fatal does after printing its line. */
struct ci_fatal_policy {
	bool debug_shell; /* cocoon.debug: exec a shell if the initrd/root has one */
	bool is_pid1;     /* poweroff; otherwise exit(1) (tests, non-PID-1 runs) */
	/* Called before the debug shell starts: RTMR3 <- "cocoon:debug_shell". No hook,
	 * or a failing one, means no shell (the FATAL path powers off as without debug). */
	int (*measure_shell)(void *ctx, struct cm_err *e);
	void *ctx; /* measure_shell's first argument (cocoon-init: its struct ci_boot) */
};
void ci_fatal_set_policy(const struct ci_fatal_policy *p);
/* Whether ci_fatal may start the debug shell now: cocoon.debug set and measure_shell
 * succeeded (it is called here). Returns 0, or < 0 with the reason in e. */
int ci_fatal_shell_allowed(struct cm_err *e);
/* Format the FATAL line into buf (for tests); returns buf. */
const char *ci_fatal_format(char *buf, unsigned long size, const char *step, const char *reason);
__attribute__((noreturn)) void ci_fatal(const char *step, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* sync and power the machine off (PID 1); never returns. */
__attribute__((noreturn)) void ci_poweroff(void);

#endif
