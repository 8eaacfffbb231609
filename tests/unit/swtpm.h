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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/testutil.h"

struct swtpm {
	pid_t pid;
	char dir[256];
	char tcti[300];
};

static bool swtpm_accepts(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static void swtpm_start(struct swtpm *t)
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
		char log[300];
		snprintf(log, sizeof log, "%s/swtpm.log", t->dir);
		if (!freopen(log, "w", stderr) || !freopen("/dev/null", "w", stdout))
			_exit(126);
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

static void swtpm_stop(struct swtpm *t)
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
