/* A real TPM for the unit tests: swtpm in a private temporary directory, reached through
 * the swtpm TCTI ("swtpm:path=<dir>/sock", control socket <dir>/sock.ctrl). Header-only
 * (static functions) for the tests that include it. */
#ifndef COCOON_TEST_SWTPM_H
#define COCOON_TEST_SWTPM_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/testutil.h"

struct swtpm {
	int log_level; /* set before swtpm_start: > 0 logs the TPM traffic to <dir>/traffic.log */
	pid_t pid;
	char dir[256];
	char tcti[300];
};

static inline bool swtpm_accepts(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	size_t len = strlen(path);
	if (len >= sizeof a.sun_path)
		return false;
	memcpy(a.sun_path, path, len + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static inline void swtpm_start(struct swtpm *t)
{
	char *d = test_tmpdir();
	char sock[300], ctrl[310], state[300];
	snprintf(t->dir, sizeof t->dir, "%s", d);
	free(d);
	snprintf(sock, sizeof sock, "type=unixio,path=%s/sock", t->dir);
	snprintf(ctrl, sizeof ctrl, "type=unixio,path=%s/sock.ctrl", t->dir);
	snprintf(state, sizeof state, "dir=%s", t->dir);
	snprintf(t->tcti, sizeof t->tcti, "swtpm:path=%s/sock", t->dir);
	t->pid = fork();
	assert_true(t->pid >= 0);
	if (t->pid == 0) {
		/* a test that fails an assertion never reaches swtpm_stop: die with the test */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		char log[300];
		snprintf(log, sizeof log, "%s/swtpm.err", t->dir);
		if (!freopen(log, "w", stderr) || !freopen("/dev/null", "w", stdout))
			_exit(126);
		if (t->log_level > 0) {
			char traffic[320];
			snprintf(traffic, sizeof traffic, "file=%s/traffic.log,level=%d", t->dir, t->log_level);
			execlp("swtpm", "swtpm", "socket", "--tpm2", "--tpmstate", state, "--server", sock, "--ctrl", ctrl,
			       "--flags", "not-need-init,startup-clear", "--log", traffic, (char *)NULL);
		}
		execlp("swtpm", "swtpm", "socket", "--tpm2", "--tpmstate", state, "--server", sock, "--ctrl", ctrl, "--flags",
		       "not-need-init,startup-clear", (char *)NULL);
		_exit(127);
	}
	/* ready when both sockets accept a connection (at most 10 s; a bound socket that is
	 * not listening yet refuses) */
	char p1[300], p2[310];
	snprintf(p1, sizeof p1, "%s/sock", t->dir);
	snprintf(p2, sizeof p2, "%s/sock.ctrl", t->dir);
	for (int i = 0; i < 1000; i++) {
		struct stat st;
		if (stat(p1, &st) == 0 && stat(p2, &st) == 0 && swtpm_accepts(p1) && swtpm_accepts(p2))
			return;
		int status;
		if (waitpid(t->pid, &status, WNOHANG) == t->pid)
			fail_msg("swtpm exited (status %d): is swtpm installed (make deps)?", status);
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	fail_msg("swtpm did not create its sockets in %s", t->dir);
}

/* The bytes of every command and response swtpm logged (log_level >= 20: hex dump lines
 * after "SWTPM_IO_Read" / "SWTPM_IO_Write"), concatenated; *n their count. */
static inline uint8_t *swtpm_traffic(const struct swtpm *t, size_t *n)
{
	char path[320], line[256];
	snprintf(path, sizeof path, "%s/traffic.log", t->dir);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t cap = 1 << 16;
	uint8_t *out = malloc(cap);
	*n = 0;
	bool io = false;
	while (fgets(line, sizeof line, f)) {
		if (strstr(line, "SWTPM_IO_")) {
			io = true;
			continue;
		}
		if (line[0] != ' ') {
			io = false;
			continue;
		}
		if (!io || strstr(line, "Ctrl"))
			continue;
		unsigned b;
		int used;
		for (const char *p = line; sscanf(p, " %2x%n", &b, &used) == 1; p += used) {
			if (*n == cap)
				out = realloc(out, cap *= 2);
			out[(*n)++] = (uint8_t)b;
		}
	}
	fclose(f);
	return out;
}

static inline void swtpm_stop(struct swtpm *t)
{
	if (t->pid > 0) {
		kill(t->pid, SIGTERM);
		waitpid(t->pid, NULL, 0);
		t->pid = 0;
	}
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", t->dir);
}

#endif
