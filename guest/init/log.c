/* cocoon-init logging and the one FATAL path. */
#include "guest/init/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

static int console_fd = -1;
static int kmsg_fd = -1;
static struct ci_fatal_policy policy;
static void (*log_tap)(const char *msg);

void ci_log_set_tap(void (*tap)(const char *msg)) { log_tap = tap; }

void ci_log_open(void)
{
	if (console_fd < 0)
		console_fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (kmsg_fd < 0)
		kmsg_fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
}

static void emit(const char *msg)
{
	if (log_tap)
		log_tap(msg);
	char line[1200];
	int n = snprintf(line, sizeof line, "cocoon-init: %s\n", msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line)
		n = (int)sizeof line - 1;
	/* best effort: a line that cannot be written is dropped */
	if (console_fd >= 0)
		(void)cm_write_all(console_fd, line, (size_t)n);
	else
		(void)cm_write_all(STDERR_FILENO, line, (size_t)n);
	if (kmsg_fd >= 0) {
		/* Level 7 (debug): kept in the kernel log without printing the line a second
		 * time on a console with the default loglevel. */
		char k[1210];
		int m = snprintf(k, sizeof k, "<7>%s", line);
		if (m > 0)
			(void)cm_write_all(kmsg_fd, k, (size_t)m < sizeof k ? (size_t)m : sizeof k - 1);
	}
}

void ci_log(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	emit(msg);
}

void ci_fatal_set_policy(const struct ci_fatal_policy *p) { policy = *p; }

int ci_fatal_shell_allowed(struct cm_err *e)
{
	if (!policy.debug_shell)
		return cm_fail(e, -EPERM, "cocoon.debug is not set");
	if (!policy.measure_shell)
		return cm_fail(e, -EPERM, "nothing can measure the debug shell");
	return policy.measure_shell(policy.ctx, e);
}

const char *ci_fatal_format(char *buf, unsigned long size, const char *step, const char *reason)
{
	/* One line: newlines or control characters in the reason are replaced. */
	snprintf(buf, size, "FATAL %s: %s", step, reason);
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return buf;
}

void ci_poweroff(void)
{
	sync();
	reboot(RB_POWER_OFF);
	/* reboot() only returns on failure; PID 1 must not exit (kernel panic). */
	for (;;)
		pause();
}

void ci_fatal(const char *step, const char *fmt, ...)
{
	char reason[800], line[1000];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	emit(ci_fatal_format(line, sizeof line, step, reason));
	if (policy.debug_shell) {
		static const char *const shells[] = {"/bin/sh", "/usr/bin/sh", "/bin/busybox"};
		for (size_t i = 0; i < sizeof shells / sizeof shells[0]; i++) {
			if (access(shells[i], X_OK) != 0)
				continue;
			/* A shell without a trace in RTMR3 could replay the normal events and
			 * quote as a clean boot: extend first, or no shell. */
			struct cm_err e = {0};
			if (ci_fatal_shell_allowed(&e) < 0) {
				char l[CM_ERR_MAX + 64];
				snprintf(l, sizeof l, "cocoon.debug: no debug shell (%s)", e.msg);
				emit(l);
				break;
			}
			emit("cocoon.debug: starting a debug shell");
			pid_t pid = fork();
			if (pid == 0) {
				setsid();
				int fd = open("/dev/console", O_RDWR);
				if (fd >= 0) {
					ioctl(fd, TIOCSCTTY, 1);
					dup2(fd, 0);
					dup2(fd, 1);
					dup2(fd, 2);
				}
				execl(shells[i], "sh", (char *)NULL);
				_exit(127);
			}
			if (pid > 0) {
				int st;
				while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
					;
			}
			break;
		}
	}
	if (policy.is_pid1)
		ci_poweroff();
	exit(1);
}
