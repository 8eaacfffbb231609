/* Running QEMU: exec in the foreground, or supervise with restart and backoff. */
#ifndef COCOON_LAUNCH_RUN_H
#define COCOON_LAUNCH_RUN_H

#include <stdbool.h>

#include <json-c/json.h>

#include "host-launcher/argv.h"
#include "measure/core/util.h"

/* cocoon-launch exit codes (docs/operator-guide.md). */
enum {
	CL_EXIT_OK = 0,
	CL_EXIT_FAIL = 1,       /* a required check failed; refused to start */
	CL_EXIT_USAGE = 2,      /* bad command line */
	CL_EXIT_CONFIG = 3,     /* bad configuration file or override */
	CL_EXIT_GAVE_UP = 4,    /* --supervise: QEMU kept failing, --max-restarts reached */
	CL_EXIT_EXEC = 5,       /* QEMU could not be started */
};

struct cl_supervise_opts {
	const char *qmp_path;   /* for the orderly system_powerdown; NULL = signals only */
	int max_restarts;       /* -1 = unlimited */
	unsigned restart_delay; /* first backoff delay in seconds (doubles up to 60) */
	unsigned stop_timeout;  /* seconds between system_powerdown and SIGTERM */
	/* A periodic job next to QEMU (the collateral refresh): run once before the first
	 * start, then every refresh_period seconds (after a failure, within 10 minutes), each
	 * time in a child process so that supervision never waits on it. NULL = none. */
	int (*refresh)(void *ctx);
	void *refresh_ctx;
	unsigned refresh_period;
	/* The guest's status channel (status.h): polled every CL_STATUS_POLL_S while the
	 * guest boots; a boot whose step has not changed (or that has not answered) for
	 * stuck_timeout seconds is "stuck": QEMU is stopped and restarted with the backoff.
	 * NULL or 0 = no status polling. */
	const char *status_path;
	unsigned stuck_timeout;
};

#define CL_STATUS_POLL_S 5

/* The supervisor's view of one boot from its status answers. */
struct cl_boot_watch {
	double started, last_progress; /* seconds (monotonic) */
	char step[32];                 /* last step seen, "" before the first answer */
	bool running;                  /* the guest reported phase "running" */
};

/* Feed one poll result at time now (st NULL: no answer). Returns 1 when the boot is
 * stuck (no progress for stuck_timeout s while not running), else 0; prints what changed. */
int cl_boot_watch_update(struct cl_boot_watch *w, json_object *st, double now, unsigned stuck_timeout, FILE *log);

/* Supervise: start QEMU, restart it with exponential backoff when it exits, forward
 * SIGTERM/SIGINT/SIGHUP as an orderly shutdown (QMP system_powerdown, then SIGTERM after
 * stop_timeout, SIGKILL 10 s later). Returns a CL_EXIT_* code. */
int cl_supervise(const struct cl_argv *a, const struct cl_supervise_opts *o);

/* QMP: connect to the socket, negotiate, send one command ("system_powerdown", "quit").
 * With wait_exit, wait up to timeout_s for QEMU to close the connection (it exited). */
int cl_qmp_command(const char *sock_path, const char *command, bool wait_exit, unsigned timeout_s,
		   struct cm_err *e);

#endif
