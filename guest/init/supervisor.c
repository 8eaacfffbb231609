/* The service supervisor. */
#include "guest/init/supervisor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest/init/log.h"
#include "guest/init/status.h"
#include "guest/init/svclog.h"

#define MAX_BUTTONS 8
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

bool ci_should_restart(enum ci_restart policy, int status)
{
	switch (policy) {
	case CI_RESTART_ALWAYS:
		return true;
	case CI_RESTART_ON_FAILURE:
		return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	case CI_RESTART_NO:
		return false;
	}
	return false;
}

unsigned ci_backoff_next(unsigned prev_ms, unsigned initial_ms, long long ran_ms)
{
	if (initial_ms == 0)
		initial_ms = 1;
	if (initial_ms > CI_BACKOFF_MAX_MS)
		initial_ms = CI_BACKOFF_MAX_MS;
	if (prev_ms == 0 || ran_ms >= CI_BACKOFF_RESET_MS)
		return initial_ms;
	if (prev_ms >= CI_BACKOFF_MAX_MS / 2)
		return CI_BACKOFF_MAX_MS;
	return prev_ms * 2;
}

struct svc_state {
	pid_t pid;
	bool started;       /* started at least once (dependents may start) */
	bool finished;      /* exited and will not be restarted */
	long long start_ms; /* last start */
	long long next_ms;  /* pending restart time, 0 = none */
	unsigned backoff;
	bool has_output;    /* out and log set up (at the first start attempt) */
	int out[2];         /* stdout/stderr pipe (kept across restarts), -1 when none */
	struct ci_svclog log;
};

static pid_t spawn(const struct ci_service *sv, int out)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	/* stdout/stderr: the supervisor's pipe to the service log (svclog.h), never the
	 * console directly; /dev/null when the pipe could not be made */
	int nul = open("/dev/null", O_RDWR);
	int fd = out >= 0 ? out : nul;
	if (nul >= 0)
		dup2(nul, 0);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	char *envp[CI_MAX_ENV + 2];
	int n = 0;
	bool has_path = false;
	for (int i = 0; sv->env[i]; i++) {
		if (strncmp(sv->env[i], "PATH=", 5) == 0)
			has_path = true;
		envp[n++] = sv->env[i];
	}
	if (!has_path)
		envp[n++] = (char *)DEFAULT_PATH;
	envp[n] = NULL;
	if (chdir("/") < 0)
		_exit(126);
	execve(sv->argv[0], sv->argv, envp);
	dprintf(2, "cocoon-init: service %s: exec %s failed (%s)\n", sv->name, sv->argv[0], strerror(errno));
	_exit(127);
}

/* Input devices that can report KEY_POWER (the ACPI power button driver). */
static int open_power_buttons(int *fds, int max)
{
	int n = 0;
	DIR *d = opendir("/dev/input");
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL && n < max) {
		if (strncmp(de->d_name, "event", 5) != 0)
			continue;
		char path[300];
		snprintf(path, sizeof path, "/dev/input/%s", de->d_name);
		int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		unsigned long keys[KEY_MAX / (8 * sizeof(unsigned long)) + 1];
		memset(keys, 0, sizeof keys);
		if (ioctl(fd, EVIOCGBIT(EV_KEY, sizeof keys), keys) >= 0 &&
		    (keys[KEY_POWER / (8 * sizeof(unsigned long))] >> (KEY_POWER % (8 * sizeof(unsigned long)))) & 1) {
			fds[n++] = fd;
			ci_log("power button: %s", path);
		} else {
			close(fd);
		}
	}
	closedir(d);
	return n;
}

static bool power_pressed(int fd)
{
	struct input_event ev[16];
	bool pressed = false;
	ssize_t r;
	while ((r = read(fd, ev, sizeof ev)) > 0)
		for (size_t i = 0; i < (size_t)r / sizeof ev[0]; i++)
			if (ev[i].type == EV_KEY && ev[i].code == KEY_POWER && ev[i].value == 1)
				pressed = true;
	return pressed;
}

static int find_pid(const struct ci_spec *s, const struct svc_state *st, pid_t pid)
{
	for (int i = 0; i < s->n_services; i++)
		if (st[i].pid == pid)
			return i;
	return -1;
}

/* The service's output pipe and log, made at its first start. */
static void open_output(const struct ci_service *sv, struct svc_state *st, int console)
{
	struct cm_err e = {0};
	if (ci_svclog_open(&st->log, CI_SVCLOG_DIR, sv->name, CI_SVCLOG_CAP, console, &e) < 0)
		ci_log("service %s: %s (output dropped until it can be opened)", sv->name, e.msg);
	if (pipe2(st->out, O_CLOEXEC) < 0 || fcntl(st->out[0], F_SETFL, O_NONBLOCK) < 0) {
		ci_log("service %s: output pipe (%s); output goes to /dev/null", sv->name, strerror(errno));
		if (st->out[0] >= 0)
			close(st->out[0]);
		st->out[0] = st->out[1] = -1;
	}
}

/* Move what the service wrote into its log (non-blocking). */
static void drain(struct svc_state *st)
{
	static char buf[65536];
	ssize_t r;
	if (st->out[0] < 0)
		return;
	while ((r = read(st->out[0], buf, sizeof buf)) > 0)
		ci_svclog_write(&st->log, buf, (size_t)r);
}

static void drain_all(const struct ci_spec *s, struct svc_state *st)
{
	for (int i = 0; i < s->n_services; i++)
		drain(&st[i]);
}

static void start_ready(struct ci_spec *s, struct svc_state *st, int console)
{
	long long now = cm_mono_ms();
	for (int k = 0; k < s->n_services; k++) {
		int i = s->order[k];
		const struct ci_service *sv = &s->services[i];
		if (st[i].pid > 0 || st[i].finished)
			continue;
		if (st[i].started && (st[i].next_ms == 0 || now < st[i].next_ms))
			continue;
		bool deps = true;
		for (int a = 0; a < sv->n_after; a++)
			if (!st[sv->after[a]].started)
				deps = false;
		if (!deps)
			continue;
		if (!st[i].has_output) {
			open_output(sv, &st[i], console);
			st[i].has_output = true;
		}
		pid_t pid = spawn(sv, st[i].out[1]);
		if (pid < 0) {
			ci_log("service %s: fork failed (%s); retrying", sv->name, strerror(errno));
			st[i].backoff = ci_backoff_next(st[i].backoff, sv->backoff_ms, 0);
			st[i].next_ms = now + st[i].backoff;
			st[i].started = true;
			continue;
		}
		st[i].pid = pid;
		st[i].start_ms = now;
		st[i].next_ms = 0;
		ci_log("service %s %s (pid %d)", sv->name, st[i].started ? "restarted" : "started", (int)pid);
		ci_status_service(i, CI_SVC_RUNNING, (int)pid, st[i].started, NULL);
		st[i].started = true;
	}
}

/* Every service started once (the boot's end for the status channel and make bench). */
static bool all_started(const struct ci_spec *s, const struct svc_state *st)
{
	for (int i = 0; i < s->n_services; i++)
		if (!st[i].started)
			return false;
	return true;
}

static void describe(int status, char *buf, size_t n)
{
	if (WIFEXITED(status))
		snprintf(buf, n, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, n, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, n, "stopped (status 0x%x)", status);
}

static void reap(struct ci_spec *s, struct svc_state *st, bool stopping)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		int i = find_pid(s, st, pid);
		if (i < 0)
			continue; /* an orphan re-parented to PID 1 */
		const struct ci_service *sv = &s->services[i];
		char how[64];
		describe(status, how, sizeof how);
		long long now = cm_mono_ms();
		st[i].pid = 0;
		if (stopping) {
			ci_log("service %s stopped (%s)", sv->name, how);
			st[i].finished = true;
			ci_status_service(i, CI_SVC_STOPPED, 0, false, how);
		} else if (ci_should_restart(sv->restart, status)) {
			st[i].backoff = ci_backoff_next(st[i].backoff, sv->backoff_ms, now - st[i].start_ms);
			st[i].next_ms = now + st[i].backoff;
			ci_log("service %s %s; restart in %u ms", sv->name, how, st[i].backoff);
			ci_status_service(i, CI_SVC_BACKOFF, 0, false, how);
		} else {
			st[i].finished = true;
			ci_log("service %s %s; not restarted (restart policy)", sv->name, how);
			ci_status_service(i, CI_SVC_EXITED, 0, false, how);
		}
	}
}

static void stop_all(struct ci_spec *s, struct svc_state *st, int sfd)
{
	for (int k = s->n_services - 1; k >= 0; k--) {
		int i = s->order[k];
		if (st[i].pid > 0)
			if (kill(-st[i].pid, SIGTERM) < 0)
				kill(st[i].pid, SIGTERM);
	}
	long long deadline = cm_mono_ms() + CI_STOP_GRACE_MS;
	for (;;) {
		drain_all(s, st);
		reap(s, st, true);
		bool any = false;
		for (int i = 0; i < s->n_services; i++)
			if (st[i].pid > 0)
				any = true;
		if (!any)
			break;
		long long left = deadline - cm_mono_ms();
		if (left <= 0) {
			for (int i = 0; i < s->n_services; i++)
				if (st[i].pid > 0) {
					ci_log("service %s: did not stop in time, killing", s->services[i].name);
					kill(-st[i].pid, SIGKILL);
					kill(st[i].pid, SIGKILL);
				}
			deadline = cm_mono_ms() + 2000;
			continue;
		}
		struct pollfd p = {.fd = sfd, .events = POLLIN};
		if (poll(&p, 1, left > 200 ? 200 : (int)left) > 0) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof si) == sizeof si)
				;
		}
	}
	/* Anything else still running (orphans of services) gets the same treatment. */
	kill(-1, SIGTERM);
	struct timespec ts = {0, 300 * 1000000L};
	nanosleep(&ts, NULL);
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	drain_all(s, st);
	for (int i = 0; i < s->n_services; i++)
		ci_svclog_close(&st[i].log);
}

void ci_supervise(struct ci_spec *s, ci_shutdown_hook hook, void *ctx, bool debug)
{
	static struct ci_spec empty;
	if (!s)
		s = &empty;
	struct svc_state st[CI_MAX_SERVICES];
	memset(st, 0, sizeof st);
	for (int i = 0; i < CI_MAX_SERVICES; i++) {
		st[i].out[0] = st[i].out[1] = -1;
		st[i].log.fd = st[i].log.console = -1;
	}
	/* service output reaches the host-visible console only with cocoon.debug */
	int console = debug ? open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC) : -1;
	ci_log("service output: %s/<service>.log (%u bytes + one rotated file each)%s", CI_SVCLOG_DIR,
	       CI_SVCLOG_CAP, console >= 0 ? ", copied to the console (cocoon.debug)" : "");
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGPWR);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		ci_fatal("supervisor", "signalfd (%s)", strerror(errno));
	int buttons[MAX_BUTTONS];
	int nb = open_power_buttons(buttons, MAX_BUTTONS);
	if (nb == 0)
		ci_log("power button: no input device reports KEY_POWER (SIGTERM/SIGINT still shut down)");
	ci_log("supervisor: %d service(s)", s->n_services);
	ci_status_services(s);

	const char *why = NULL;
	bool running = false;
	while (!why) {
		start_ready(s, st, console);
		if (!running && all_started(s, st)) {
			running = true;
			ci_status_running();
		}
		long long now = cm_mono_ms(), next = -1;
		for (int i = 0; i < s->n_services; i++)
			if (st[i].pid == 0 && !st[i].finished && st[i].next_ms > 0 &&
			    (next < 0 || st[i].next_ms < next))
				next = st[i].next_ms;
		int timeout = next < 0 ? -1 : (int)(next > now ? (next - now > 60000 ? 60000 : next - now) : 0);
		struct pollfd p[1 + MAX_BUTTONS + CI_MAX_SERVICES];
		p[0] = (struct pollfd){.fd = sfd, .events = POLLIN};
		for (int i = 0; i < nb; i++)
			p[1 + i] = (struct pollfd){.fd = buttons[i], .events = POLLIN};
		for (int i = 0; i < s->n_services; i++) /* fd -1 (no pipe yet) is ignored by poll */
			p[1 + nb + i] = (struct pollfd){.fd = st[i].out[0], .events = POLLIN};
		if (poll(p, (nfds_t)(1 + nb + s->n_services), timeout) < 0 && errno != EINTR)
			ci_fatal("supervisor", "poll (%s)", strerror(errno));
		for (int i = 0; i < s->n_services; i++)
			if (p[1 + nb + i].revents & POLLIN)
				drain(&st[i]);
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof si) == sizeof si) {
				if (si.ssi_signo == SIGTERM)
					why = "SIGTERM";
				else if (si.ssi_signo == SIGINT)
					why = "ctrl-alt-del";
				else if (si.ssi_signo == SIGPWR)
					why = "SIGPWR";
			}
			reap(s, st, false);
		}
		for (int i = 0; i < nb; i++)
			if ((p[1 + i].revents & POLLIN) && power_pressed(buttons[i]))
				why = "power button";
	}
	ci_log("shutdown: %s", why);
	ci_status_stopping();
	stop_all(s, st, sfd);
	if (hook)
		hook(ctx);
	sync();
	ci_log("shutdown complete");
	ci_poweroff();
}
