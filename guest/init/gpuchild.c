/* Boot step 7: the GPU verifier child (gpu.h, docs/gpu.md "Verifier child").
 *
 * PID 1 forks, the child enters its own mount namespace, binds PID 1's work directory
 * read-only at CI_GPU_CHILD_DIR of the verified root, chroots there and execs the verifier
 * with an empty environment. PID 1 reads its stdout (bounded) and the first line of its
 * stderr until both close, under one deadline, then reaps it; on the deadline or too much
 * output it kills the child's process group. Between fork and exec the child makes only
 * system calls (PID 1 has threads: the status channel, the watchdog). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest/init/gpu.h"
#include "measure/core/json.h"

#define ERR_KEEP 256 /* the first bytes of the child's stderr, for the message */

/* In the child: a failed step before exec, said on stderr (PID 1 shows it), then exit 127. */
static void child_die(const char *what)
{
	const char *why = strerror(errno); /* glibc's table: no allocation */
	struct part {
		const void *b;
		size_t n;
	} parts[] = {{"cocoon-init gpu child: ", 23}, {what, strlen(what)}, {": ", 2}, {why, strlen(why)}, {"\n", 1}};
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (write(2, parts[i].b, parts[i].n) < 0)
			break;
	_exit(127);
}

/* The child between fork and exec. bind_at: root + CI_GPU_CHILD_DIR (NULL without root). */
static void child(const struct ci_gpu_conf *c, char *const argv[], const char *bind_at, int devnull, int out, int err)
{
	static char *const envp[] = {"LC_ALL=C", NULL};
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0); /* its own group: a timeout kills whatever it started too */
	if (dup2(devnull, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(127);
	if (close_range(3, ~0u, 0) < 0)
		child_die("close_range");
	if (c->root) {
		if (unshare(CLONE_NEWNS) < 0)
			child_die("unshare(CLONE_NEWNS)");
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			child_die("make / private");
		if (mount(c->work_dir, bind_at, NULL, MS_BIND, NULL) < 0)
			child_die("bind the work directory");
		if (mount(NULL, bind_at, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
			child_die("remount it read-only");
		if (chroot(c->root) < 0 || chdir("/") < 0)
			child_die("chroot");
	}
	execve(c->verifier, argv, envp);
	child_die(c->verifier);
}

static void kill_child(pid_t pid)
{
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
}

/* Read the child's stdout (at most max bytes) and stderr (the first ERR_KEEP bytes) until
 * both close or the deadline. 0, -E2BIG (too much output) or -ETIMEDOUT. */
static int drain(int out, int err, long long deadline, char *buf, size_t max, size_t *len, char *errbuf)
{
	struct pollfd p[2] = {{.fd = out, .events = POLLIN}, {.fd = err, .events = POLLIN}};
	size_t elen = 0;
	*len = 0;
	errbuf[0] = '\0';
	while (p[0].fd >= 0 || p[1].fd >= 0) {
		long long left = deadline - cm_mono_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		int n = poll(p, 2, (int)(left > 1000 ? 1000 : left));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			char tmp[4096];
			ssize_t r = read(p[i].fd, tmp, sizeof(tmp));
			if (r < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (r <= 0) {
				p[i].fd = -1;
				continue;
			}
			if (i == 0) {
				if (*len + (size_t)r > max)
					return -E2BIG;
				memcpy(buf + *len, tmp, (size_t)r);
				*len += (size_t)r;
			} else if (elen < ERR_KEEP - 1) {
				size_t k = (size_t)r < ERR_KEEP - 1 - elen ? (size_t)r : ERR_KEEP - 1 - elen;
				memcpy(errbuf + elen, tmp, k);
				elen += k;
				errbuf[elen] = '\0';
			}
		}
	}
	return 0;
}

/* Wait for the child until the deadline (its pipes are closed: it is exiting). */
static int reap(pid_t pid, long long deadline, int *status)
{
	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);
		if (w == pid)
			return 0;
		if (w < 0 && errno != EINTR)
			return -errno;
		if (cm_mono_ms() >= deadline)
			return -ETIMEDOUT;
		struct timespec ms10 = {0, 10 * 1000 * 1000};
		nanosleep(&ms10, NULL);
	}
}

/* The first line of the child's stderr, printable, for a message. */
static const char *first_line(char *s)
{
	s[strcspn(s, "\n")] = '\0';
	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	return s[0] ? s : "nothing on stderr";
}

/* The verifier's failed check as e->check (a static string): [a-z0-9_], 1..63 bytes. */
static const char *check_name(const char *s)
{
	static char name[64];
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof(name) || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
		return "gpu_verifier";
	memcpy(name, s, n + 1);
	return name;
}

static int str_member(const struct cm_jv *g, const char *key, char *out, size_t n, struct cm_err *e)
{
	struct cm_jv m;
	int rc = cm_jv_need(g, key, &m, e);
	return rc ? rc : cm_jv_strcpy(&m, out, n, e);
}

/* One GPU's claims in the verifier's answer (cm_gpu_result_to_json). */
static int gpu_claims(const struct cm_jv *g, struct ci_gpu_claims *c, struct cm_err *e)
{
	struct cm_jv m;
	int rc = str_member(g, "driver_version", c->driver_version, sizeof(c->driver_version), e);
	if (!rc)
		rc = str_member(g, "vbios_version", c->vbios_version, sizeof(c->vbios_version), e);
	if (!rc)
		rc = str_member(g, "hwmodel", c->hwmodel, sizeof(c->hwmodel), e);
	if (!rc)
		rc = str_member(g, "ueid", c->ueid, sizeof(c->ueid), e);
	if (!rc && !(rc = cm_jv_need(g, "fwid", &m, e))) {
		uint8_t fwid[48];
		snprintf(c->fwid, sizeof(c->fwid), "none");
		if (m.o && !(rc = cm_jv_hex(&m, fwid, sizeof(fwid), e)))
			cm_hex_encode(fwid, sizeof(fwid), c->fwid, sizeof(c->fwid));
	}
	if (!rc && !(rc = cm_jv_need(g, "driver_rim_measurements_ok", &m, e)))
		rc = cm_jv_bool(&m, &c->rim_driver_ok, e);
	if (!rc && !(rc = cm_jv_need(g, "vbios_rim_measurements_ok", &m, e)))
		rc = cm_jv_bool(&m, &c->rim_vbios_ok, e);
	return rc;
}

/* The verdict of a verifier that exited with status st (the JSON of `cocoon-measure gpu
 * --bundle --system --json`; only what PID 1 needs is read, strictly). */
static int verdict(const char *out, size_t len, int st, unsigned count, struct ci_gpu_verdict *v, struct cm_err *e)
{
	struct cm_jv root, m, gpus;
	const char *s;
	size_t n;
	int rc = cm_json_read(out, len, CI_GPU_VERIFY_OUT_MAX, "gpu verifier output", &root, e);
	if (rc)
		return cm_err_check(e, rc, "gpu_verifier");
	if ((rc = cm_jv_need(&root, "verdict", &m, e)) || (rc = cm_jv_str(&m, 1, 16, &s, e)))
		goto out;
	if (strcmp(s, "ok") || st != 0) {
		/* a refusal: its check and message (a verifier that says "ok" and exits non-zero is broken) */
		const char *check = "gpu_verifier", *msg = "no message";
		if (cm_jv_get(&root, "failed_check", &m) && m.o && !cm_jv_str(&m, 1, 63, &check, e))
			check = check_name(check);
		else
			check = "gpu_verifier";
		if (cm_jv_get(&root, "message", &m))
			cm_jv_str(&m, 0, CM_ERR_MAX, &msg, e);
		rc = cm_fail_check(e, -EACCES, check, "verifier: %s, exit status %d: %s", s, st, msg);
		goto out;
	}
	if ((rc = cm_jv_need(&root, "gpus", &gpus, e)) || (rc = cm_jv_array(&gpus, 1, CM_GPU_MAX, &n, e)))
		goto out;
	if (n != count) {
		rc = cm_fail(e, -EBADMSG, "verifier answered for %zu GPU(s), %u collected", n, count);
		goto out;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		struct cm_jv g = cm_jv_elem(&gpus, i);
		if ((rc = cm_jv_need(&g, "verdict", &m, e)) || (rc = cm_jv_str(&m, 1, 16, &s, e)))
			break;
		if (strcmp(s, "ok")) {
			rc = cm_jv_fail(&m, e, -EBADMSG, "GPU %zu not ok under an ok verdict", i);
			break;
		}
		rc = gpu_claims(&g, &v->gpu[i], e);
	}
	v->count = (unsigned)n;
out:
	cm_json_release(&root);
	if (rc && !e->check)
		cm_err_check(e, rc, "gpu_verifier");
	return rc;
}

int ci_gpu_run_verifier(const struct ci_gpu_conf *c, char *const argv[], unsigned count, struct ci_gpu_verdict *v,
			struct cm_err *e)
{
	memset(v, 0, sizeof(*v));
	char bind_at[4096];
	if (c->root && snprintf(bind_at, sizeof(bind_at), "%s%s", c->root, CI_GPU_CHILD_DIR) >= (int)sizeof(bind_at))
		return cm_fail_check(e, -ENAMETOOLONG, "gpu_verifier", "root path too long");
	char *out = malloc(c->verify_out_max + 1), err[ERR_KEEP] = "";
	int po[2] = {-1, -1}, pe[2] = {-1, -1}, devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (!out || devnull < 0 || pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		int rc = cm_fail_check(e, errno ? -errno : -ENOMEM, "gpu_verifier", "cannot start the verifier (%s)",
				       strerror(errno ? errno : ENOMEM));
		free(out);
		for (int i = 0; i < 2; i++) {
			if (po[i] >= 0)
				close(po[i]);
			if (pe[i] >= 0)
				close(pe[i]);
		}
		if (devnull >= 0)
			close(devnull);
		return rc;
	}
	long long deadline = cm_mono_ms() + 1000LL * c->verify_timeout_s;
	pid_t pid = fork();
	if (pid == 0)
		child(c, argv, c->root ? bind_at : NULL, devnull, po[1], pe[1]);
	int fork_errno = errno;
	close(po[1]);
	close(pe[1]);
	close(devnull);
	int rc = 0, st = 0;
	size_t len = 0;
	if (pid < 0) {
		rc = cm_fail_check(e, -fork_errno, "gpu_verifier", "fork: %s", strerror(fork_errno));
		goto out;
	}
	int d = drain(po[0], pe[0], deadline, out, c->verify_out_max, &len, err);
	if (!d)
		d = reap(pid, deadline, &st);
	if (d) {
		kill_child(pid);
		waitpid(pid, &st, 0);
		if (d == -ETIMEDOUT)
			rc = cm_fail_check(e, d, "gpu_verifier_timeout", "%s gave no verdict within %u s (killed)",
					   c->verifier, c->verify_timeout_s);
		else if (d == -E2BIG)
			rc = cm_fail_check(e, d, "gpu_verifier", "%s wrote more than %zu bytes (killed)", c->verifier,
					   c->verify_out_max);
		else
			rc = cm_fail_check(e, d, "gpu_verifier", "reading %s: %s", c->verifier, strerror(-d));
		goto out;
	}
	if (WIFSIGNALED(st)) {
		rc = cm_fail_check(e, -EIO, "gpu_verifier", "%s killed by signal %d", c->verifier, WTERMSIG(st));
		goto out;
	}
	int code = WEXITSTATUS(st);
	if (len == 0) {
		rc = cm_fail_check(e, -EIO, "gpu_verifier", "%s exited with status %d and no verdict (%s)", c->verifier,
				   code, first_line(err));
		goto out;
	}
	rc = verdict(out, len, code, count, v, e);
	if (rc && code != 0 && err[0] && !strcmp(e->check, "gpu_verifier"))
		cm_err_prefix(e, "%s exited with status %d (%s)", c->verifier, code, first_line(err));
out:
	close(po[0]);
	close(pe[0]);
	free(out);
	return rc;
}
