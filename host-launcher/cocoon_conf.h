/* Cocoon's own worker.conf / proxy.conf keys (TelegramMessenger/cocoon
 * scripts/cocoon-launch, scripts/dist-worker/worker.conf.example) in cocoon-launch's
 * config (docs/operator-guide.md "Cocoon's worker.conf"). Each key either maps to one of
 * ours, or is passed to the guest as Cocoon passes it (a KEY=value line of
 * SPEC/runtime/runtime.vars, or a file in SPEC/runtime/: the unmeasured runtime part of
 * the spec share), or is refused with the reason. A file with any Cocoon key gets
 * Cocoon's defaults for what it leaves out. */
#ifndef COCOON_LAUNCH_COCOON_CONF_H
#define COCOON_LAUNCH_COCOON_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "host-launcher/config.h"
#include "measure/core/util.h"

/* Cocoon's defaults (scripts/cocoon-launch). */
#define CL_COCOON_ROOT_CONTRACT "EQBcXvP9DUA4k5tqUapcilt4kZnBzF0Ts7OW0Yp5FI0aN7g0"
#define CL_COCOON_MEMORY (100ull << 30)
#define CL_COCOON_VCPUS 32

/* Apply a Cocoon key: 1 handled, 0 not a Cocoon key, < 0 refused or bad (message in e,
 * naming where and the key). */
int cl_cocoon_apply(struct cl_config *c, const char *key, const char *v, const char *where, struct cm_err *e);

/* Record how key was handled (shown by `check` for a Cocoon file; --set replaces). */
void cl_cocoon_note(struct cl_config *c, const char *key, const char *handling, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* After parsing: Cocoon's required keys and defaults, when the file had a Cocoon key. */
int cl_cocoon_finish(struct cl_config *c, struct cm_err *e);

/* `run`: write SPEC/runtime/runtime.vars (mode 0600, Cocoon's upsert: other keys already
 * there are kept) and SPEC/runtime/global.config.json (ton_config), and check that
 * ton_config_base equals SPEC/global.config.json (it is measured). Atomic renames. */
int cl_cocoon_write_runtime(const struct cl_config *c, struct cm_err *e);

#endif
