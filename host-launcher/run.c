/* QEMU supervision and QMP. */
#include "host-launcher/run.h"
#include "host-launcher/status.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BACKOFF_MAX 60
#define HEALTHY_RUN 60 /* a run this long resets the backoff */
#define KILL_GRACE 10

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Read until a line containing needle arrives (QMP answers are one JSON object a line). */
static int qmp_expect(int fd, const char *needle, int timeout_ms, char *buf, size_t bufsz)
{
	size_t n = 0;
	double deadline = now_s() + timeout_ms / 1000.0;
	for (;;) {
		int left = (int)((deadline - now_s()) * 1000);
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int k = poll(&p, 1, left);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k == 0 ? -ETIMEDOUT : -errno;
		if (n + 1 >= bufsz)
			n = 0; /* drop old events */
		ssize_t r = read(fd, buf + n, bufsz - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -ECONNRESET;
		n += (size_t)r;
		buf[n] = 0;
		if (strstr(buf, needle))
			return 0;
		if (strstr(buf, "\"error\""))
			return -EPROTO;
	}
}

int cl_qmp_command(const char *sock_path, const char *command, bool wait_exit, unsigned timeout_s,
		   struct cm_err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(sock_path) >= sizeof(sa.sun_path))
		return cm_fail(e, -ENAMETOOLONG, "QMP socket path %s too long", sock_path);
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cm_fail(e, -errno, "QMP socket (%s)", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int err = errno;
		close(fd);
		return cm_fail(e, -err, "cannot connect to QMP at %s (%s; is the guest running?)", sock_path,
			       strerror(err));
	}
	char buf[8192];
	int r = qmp_expect(fd, "\"QMP\"", 5000, buf, sizeof(buf));
	if (r < 0)
		goto fail;
	static const char caps[] = "{\"execute\":\"qmp_capabilities\"}\n";
	if (write(fd, caps, sizeof(caps) - 1) != (ssize_t)(sizeof(caps) - 1)) {
		r = -EIO;
		goto fail;
	}
	r = qmp_expect(fd, "\"return\"", 5000, buf, sizeof(buf));
	if (r < 0)
		goto fail;
	char cmd[128];
	int len = snprintf(cmd, sizeof(cmd), "{\"execute\":\"%s\"}\n", command);
	if (len < 0 || (size_t)len >= sizeof(cmd) || write(fd, cmd, (size_t)len) != len) {
		r = -EIO;
		goto fail;
	}
	r = qmp_expect(fd, "\"return\"", 5000, buf, sizeof(buf));
	if (r < 0 && !(r == -ECONNRESET && !strcmp(command, "quit")))
		goto fail;
	if (wait_exit) {
		/* QEMU closes the socket when it exits. */
		r = qmp_expect(fd, "\x01never\x01", (int)timeout_s * 1000, buf, sizeof(buf));
		if (r == -ECONNRESET) {
			r = 0;
		} else {
			close(fd);
			return cm_fail(e, -ETIMEDOUT, "QEMU still running %u s after %s", timeout_s, command);
		}
	}
	close(fd);
	return 0;
fail:
	close(fd);
	return cm_fail(e, r, "QMP %s at %s failed (%s)", command, sock_path, strerror(-r));
}

static pid_t spawn(const struct cl_argv *a)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	/* child: own process group, so a terminal's Ctrl-C reaches only the supervisor,
	 * which turns it into an orderly shutdown */
	setpgid(0, 0);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	execvp(a->v[0], a->v);
	fprintf(stderr, "cocoon-launch: cannot execute %s (%s)\n", a->v[0], strerror(errno));
	_exit(127);
}

static void describe(int st, char *out, size_t outsz)
{
	if (WIFEXITED(st))
		snprintf(out, outsz, "exit status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(out, outsz, "signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(out, outsz, "status 0x%x", st);
}

/* The periodic job (o->refresh): reap a finished run, start one when due. */
static pid_t refresh_pid;
static double refresh_next;
#define REFRESH_RETRY 600

static void refresh_tick(const struct cl_supervise_opts *o)
{
	if (!o->refresh)
		return;
	int st;
	if (refresh_pid > 0 && waitpid(refresh_pid, &st, WNOHANG) == refresh_pid) {
		refresh_pid = 0;
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			char how[64];
			describe(st, how, sizeof(how));
			fprintf(stderr, "cocoon-launch: collateral refresh failed (%s); retrying within %d s\n", how,
				REFRESH_RETRY);
			if (refresh_next > now_s() + REFRESH_RETRY)
				refresh_next = now_s() + REFRESH_RETRY;
		}
	}
	if (refresh_pid || stop_signal || now_s() < refresh_next || !o->refresh_period)
		return;
	refresh_next = now_s() + o->refresh_period;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		_exit(o->refresh(o->refresh_ctx) & 0xff);
	}
	if (pid < 0)
		fprintf(stderr, "cocoon-launch: fork for the collateral refresh failed (%s)\n", strerror(errno));
	else
		refresh_pid = pid;
}

int cl_boot_watch_update(struct cl_boot_watch *w, json_object *st, double now, unsigned stuck_timeout, FILE *log)
{
	if (w->running)
		return 0;
	json_object *v;
	const char *phase = st && json_object_object_get_ex(st, "phase", &v) ? json_object_get_string(v) : NULL;
	const char *step = st && json_object_object_get_ex(st, "step", &v) && v ? json_object_get_string(v) : NULL;
	if (phase && !strcmp(phase, "running")) {
		w->running = true;
		fprintf(log, "cocoon-launch: guest running (services started, %.0f s after start)\n", now - w->started);
		return 0;
	}
	if (step && strcmp(step, w->step) != 0) {
		snprintf(w->step, sizeof(w->step), "%s", step);
		w->last_progress = now;
		fprintf(log, "cocoon-launch: guest booting: step %s\n", w->step);
	}
	if (stuck_timeout && now - w->last_progress >= stuck_timeout) {
		fprintf(log, "cocoon-launch: guest stuck: %s for %.0f s (phase %s); restarting\n",
			w->step[0] ? w->step : "no status answer", now - w->last_progress, phase ? phase : "unknown");
		return 1;
	}
	return 0;
}

/* Poll the status channel when due; 1 = the boot is stuck. */
static int watch_boot(const struct cl_supervise_opts *o, struct cl_boot_watch *w, double *next_poll)
{
	if (!o->status_path || !o->stuck_timeout || w->running || now_s() < *next_poll)
		return 0;
	*next_poll = now_s() + CL_STATUS_POLL_S;
	struct cl_status_addr a = { .path = o->status_path };
	json_object *st = NULL;
	struct cm_err e = { 0 };
	cl_status_query(&a, 3000, &st, &e);
	int stuck = cl_boot_watch_update(w, st, now_s(), o->stuck_timeout, stderr);
	json_object_put(st);
	return stuck;
}

/* Wait for pid; on a stop request run the shutdown ladder. A stuck boot (watch_boot)
 * is stopped the same way without a stop request; *stuck tells the caller. */
static int wait_child(pid_t pid, const struct cl_supervise_opts *o, int *status, bool *stuck)
{
	int phase = 0; /* 0 running, 1 powerdown sent, 2 SIGTERM sent, 3 SIGKILL sent */
	double deadline = 0, next_poll = now_s() + CL_STATUS_POLL_S;
	struct cl_boot_watch bw = { .started = now_s(), .last_progress = now_s() };
	*stuck = false;
	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);
		if (w == pid)
			return 0;
		if (w < 0 && errno != EINTR)
			return -errno;
		if (stop_signal && phase == 0) {
			fprintf(stderr, "cocoon-launch: %s received, shutting the guest down\n",
				strsignal(stop_signal));
			struct cm_err e = { 0 };
			if (o->qmp_path && cl_qmp_command(o->qmp_path, "system_powerdown", false, 0, &e) == 0) {
				phase = 1;
				deadline = now_s() + o->stop_timeout;
			} else {
				if (o->qmp_path)
					fprintf(stderr, "cocoon-launch: %s; sending SIGTERM\n", e.msg);
				kill(pid, SIGTERM);
				phase = 2;
				deadline = now_s() + KILL_GRACE;
			}
		} else if (phase == 0 && watch_boot(o, &bw, &next_poll)) {
			/* a stuck guest does not answer the power button: SIGTERM, then SIGKILL */
			*stuck = true;
			kill(pid, SIGTERM);
			phase = 2;
			deadline = now_s() + KILL_GRACE;
		} else if (phase && now_s() > deadline) {
			if (phase == 1) {
				fprintf(stderr, "cocoon-launch: guest did not power off in %u s, sending SIGTERM\n",
					o->stop_timeout);
				kill(pid, SIGTERM);
				phase = 2;
				deadline = now_s() + KILL_GRACE;
			} else if (phase == 2) {
				fprintf(stderr, "cocoon-launch: QEMU ignored SIGTERM, sending SIGKILL\n");
				kill(pid, SIGKILL);
				phase = 3;
				deadline = now_s() + 3600;
			}
		}
		refresh_tick(o);
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

static int supervise(const struct cl_argv *a, const struct cl_supervise_opts *o);

int cl_supervise(const struct cl_argv *a, const struct cl_supervise_opts *o)
{
	if (o->refresh) {
		/* the first refresh before the first boot, in the foreground: the guest starts
		 * with whatever it installed (or the last good bundle) */
		if (o->refresh(o->refresh_ctx))
			fprintf(stderr, "cocoon-launch: collateral refresh failed; starting with the last good bundle\n");
		refresh_next = now_s() + o->refresh_period;
	}
	int rc = supervise(a, o);
	if (refresh_pid > 0) {
		kill(refresh_pid, SIGTERM);
		waitpid(refresh_pid, NULL, 0);
		refresh_pid = 0;
	}
	return rc;
}

static int supervise(const struct cl_argv *a, const struct cl_supervise_opts *o)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	unsigned delay = o->restart_delay ? o->restart_delay : 1;
	int restarts = 0;
	for (;;) {
		double started = now_s();
		pid_t pid = spawn(a);
		if (pid < 0) {
			fprintf(stderr, "cocoon-launch: fork failed (%s)\n", strerror(errno));
			return CL_EXIT_EXEC;
		}
		fprintf(stderr, "cocoon-launch: started %s (pid %d)\n", a->v[0], (int)pid);
		int st = 0;
		bool stuck = false;
		if (wait_child(pid, o, &st, &stuck) < 0) {
			fprintf(stderr, "cocoon-launch: waitpid failed (%s)\n", strerror(errno));
			return CL_EXIT_EXEC;
		}
		char how[64];
		describe(st, how, sizeof(how));
		if (stuck)
			snprintf(how, sizeof(how), "stopped: boot stuck");
		if (stop_signal) {
			fprintf(stderr, "cocoon-launch: QEMU exited (%s) after shutdown request\n", how);
			return CL_EXIT_OK;
		}
		if (WIFEXITED(st) && WEXITSTATUS(st) == 127 && now_s() - started < 1) {
			fprintf(stderr, "cocoon-launch: QEMU could not be executed\n");
			return CL_EXIT_EXEC;
		}
		if (!stuck && now_s() - started >= HEALTHY_RUN) /* a stuck boot is no healthy run */
			delay = o->restart_delay ? o->restart_delay : 1;
		if (o->max_restarts >= 0 && restarts >= o->max_restarts) {
			fprintf(stderr, "cocoon-launch: QEMU exited (%s); giving up after %d restart(s)\n", how,
				restarts);
			return CL_EXIT_GAVE_UP;
		}
		restarts++;
		fprintf(stderr, "cocoon-launch: QEMU exited (%s); restart %d in %u s\n", how, restarts, delay);
		double until = now_s() + delay;
		while (!stop_signal && now_s() < until) {
			refresh_tick(o);
			struct timespec ts = { 0, 100 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
		if (stop_signal) {
			fprintf(stderr, "cocoon-launch: %s received while waiting to restart; exiting\n",
				strsignal(stop_signal));
			return CL_EXIT_OK;
		}
		delay = delay * 2 > BACKOFF_MAX ? BACKOFF_MAX : delay * 2;
	}
}
