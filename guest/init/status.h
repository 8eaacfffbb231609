/* The status channel (docs/boot.md "Status channel", docs/operator-guide.md): a read-only
 * service in cocoon-init (a thread of PID 1, so it answers from the first boot step to the
 * last, across switch_root) that tells the host operator where the boot is and how the
 * services are doing.
 *
 * Transports: the virtio-serial port named "org.cocoon.status" (always, when the host
 * attaches one; cocoon-launch does, as a unix socket in its run_dir) and AF_VSOCK on the
 * port the measured spec names ("status": {"vsock_port": N}), from the spec step on.
 *
 * Protocol: the host sends one line, "status" or "status NONCE" (NONCE 1..32 of
 * [A-Za-z0-9_-]), at most CI_STATUS_REQ_MAX bytes with its newline; the guest answers one
 * line of JSON (the NONCE echoed, so a host can skip a stale answer on the serial stream).
 * Anything else gets {"error": ...}. Host input is untrusted: bounded line, a deadline per
 * connection and per answer, no command changes state. The answer never carries request
 * data: it holds cocoon-init's own log lines, never the services' output. */
#ifndef COCOON_INIT_STATUS_H
#define COCOON_INIT_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/init/appspec.h"
#include "measure/core/util.h"

#define CI_STATUS_PORT_NAME "org.cocoon.status"
#define CI_STATUS_REQ_MAX 128      /* request line, newline included */
#define CI_STATUS_NONCE_MAX 32
#define CI_STATUS_LOG_LINES 64     /* cocoon-init log lines kept for the answer */
#define CI_STATUS_MAX_STEPS 32
#define CI_STATUS_IO_MS 3000       /* deadline to read a request (vsock) */
#define CI_STATUS_WRITE_MS 10000   /* deadline to write an answer (a starved emulated host is slow) */
#define CI_STATUS_FILE_MAX (64 * 1024) /* gpu.json, the event log: larger files are cut */
#define CI_STATUS_GPU_FILE "/run/cocoon/gpu.json"
#define CI_STATUS_EVENT_LOG "/run/cocoon/rtmr3.log"

enum ci_svc_state { CI_SVC_WAITING = 0, CI_SVC_RUNNING, CI_SVC_BACKOFF, CI_SVC_EXITED, CI_SVC_STOPPED };

/* Files the answer reads (fixed in the guest; tests point them elsewhere). collateral:
 * the candidates for the collateral state file of `cocoon-launch collateral` (docs/formats.md
 * "Collateral state"), the first that exists counts (reported with its age, now - mtime). */
struct ci_status_paths {
	const char *event_log;
	const char *gpu;
	const char *collateral[3]; /* NULL-terminated */
};
extern const struct ci_status_paths ci_status_default_paths;

/* Record boot step `name` reached (logs "step <name> at <ms> ms"). The first call also
 * installs the log tap that keeps cocoon-init's last log lines. */
void ci_status_step(const char *name);
void ci_status_step_at(const char *name, long long t_ms);
/* All services started once: phase "running", logs "services started at <ms> ms (<ms> ms
 * after /init started)". Shutdown: phase "stopping". */
void ci_status_running(void);
void ci_status_stopping(void);
/* Measurements: the RTMR3 value now; the image hash (hex) or why there is none. */
void ci_status_rtmr3(const char *hex);
void ci_status_image_hash(const char *hex, const char *error);

/* The supervisor's services: names (in spec order), then each change. last_exit: a
 * description of the last exit ("exited with status 1"), NULL to keep the previous. */
void ci_status_services(const struct ci_spec *s);
void ci_status_service(int i, enum ci_svc_state st, int pid, bool restarted, const char *last_exit);

/* Start the status thread (serial port; vsock later through ci_status_vsock). */
int ci_status_start(struct cm_err *e);
/* Also listen on AF_VSOCK port (0: nothing). */
void ci_status_vsock(uint32_t port);

/* One request line (without its newline). Fills nonce ("" when none). */
int ci_status_parse_request(const char *line, size_t len, char nonce[CI_STATUS_NONCE_MAX + 1], struct cm_err *e);
/* The answer to a request line: one line of JSON with its newline, malloc'd. */
char *ci_status_answer(const char *line, size_t len, const struct ci_status_paths *paths);

#endif
