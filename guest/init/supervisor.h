/* Step 11: the service supervisor (PID 1 after switch_root): starts the spec's
 * services in dependency order, reaps every child, restarts with backoff, and shuts
 * down in order on SIGTERM, SIGINT (ctrl-alt-del) or the ACPI power button. */
#ifndef COCOON_INIT_SUPERVISOR_H
#define COCOON_INIT_SUPERVISOR_H

#include <stdbool.h>

#include "guest/init/appspec.h"

#define CI_BACKOFF_RESET_MS 10000 /* a run this long resets the backoff */
#define CI_STOP_GRACE_MS 10000    /* SIGTERM -> SIGKILL grace at shutdown */

/* Restart decision for a service that exited with wait status `status`. */
bool ci_should_restart(enum ci_restart policy, int status);

/* Next restart delay: initial after a run of >= CI_BACKOFF_RESET_MS, else twice the
 * previous delay (first failure: initial), capped at CI_BACKOFF_MAX_MS. */
unsigned ci_backoff_next(unsigned prev_ms, unsigned initial_ms, long long ran_ms);

/* Cleanup run at shutdown after all services stopped (unmount volumes, close dm
 * devices); registered by the boot code, called with its ctx. */
typedef void (*ci_shutdown_hook)(void *ctx);

/* Run forever; on a shutdown request stop services (reverse start order), call hook(ctx),
 * sync, print "shutdown complete" and power off. Services' stdout/stderr go to their
 * bounded log (svclog.h), and also to the console only when debug (cocoon.debug). */
__attribute__((noreturn)) void ci_supervise(struct ci_spec *spec, ci_shutdown_hook hook, void *ctx, bool debug);

#endif
