/* The guest's status channel from the host (guest/init/status.h has the protocol): one
 * request line "status NONCE", one JSON line back with that NONCE. */
#ifndef COCOON_LAUNCH_STATUS_H
#define COCOON_LAUNCH_STATUS_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include <json-c/json.h>

#include "measure/core/util.h"

#define CL_STATUS_ANSWER_MAX (1u << 20) /* the guest's answer is far smaller */

/* Where the channel is: a unix socket (QEMU's end of the virtio-serial port) when path is
 * set, else AF_VSOCK cid:port. */
struct cl_status_addr {
	const char *path;
	uint32_t cid, port;
};

/* Ask for the status; *out is the guest's JSON object (caller puts it). Lines that are
 * not the answer to this request (a stale answer on the serial stream) are skipped.
 * Errors: cannot connect, timeout, answer too large, not JSON, an {"error"} answer. */
int cl_status_query(const struct cl_status_addr *a, unsigned timeout_ms, json_object **out, struct cm_err *e);

/* Find the answer with this nonce in the lines of buf (len bytes, complete lines only):
 * 1 found (*out set), 0 not yet, < 0 an error answer or a bad line that names our nonce.
 * Exposed for the unit tests and the fuzzer. */
int cl_status_scan(const char *buf, size_t len, const char *nonce, json_object **out, struct cm_err *e);

/* The human rendering of an answer (cocoon-launch status without --json); the ages of the
 * collateral bundles are computed at now (cl_status_print: the host's clock). */
void cl_status_print(json_object *st, FILE *f);
void cl_status_print_at(json_object *st, int64_t now, FILE *f);

#endif
