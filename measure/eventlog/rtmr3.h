/* RTMR3 runtime events and their event log (format: guest/attest/attest.h and
 * docs/formats.md): one printable-ASCII message per line, each extended as
 * SHA-384(message); replay R = 0^48, R = SHA-384(R || SHA-384(m)). */
#ifndef COCOON_MEASURE_RTMR3_H
#define COCOON_MEASURE_RTMR3_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "measure/core/util.h"

#define CM_RTMR3_EVENT_MAX 1024

/* The Cocoon events cocoon-init extends, in order. */
#define CM_EVENT_SPEC_TREE_PREFIX "cocoon:spec.tree="
#define CM_EVENT_DEBUG "cocoon:cocoon_debug"
#define CM_EVENT_TDX_INITED "cocoon:tdx_inited"
/* Extended by cocoon-init (boot step 7) when the measured spec requires a GPU, after every
 * GPU verified and the GPUs were set ready: fixed, nothing host-specific (docs/boot.md). */
#define CM_EVENT_GPU_VERIFIED "cocoon:gpu_verified"
/* Extended by cocoon-init (cocoon.debug only) before a FATAL starts the debug shell: any
 * quote taken afterwards shows that a root shell ran (docs/boot.md "Debug shell"). */
#define CM_EVENT_DEBUG_SHELL "cocoon:debug_shell"

/* Validate a message (non-empty, printable ASCII, bounded) and hash it. */
int cm_rtmr3_event_digest(const char *msg, size_t len, uint8_t out[48], struct cm_err *e);

/* Replay a log into out (48 bytes, starting from zero). When events is a JSON array,
 * one object per line is appended: index, offset, event, digest, rtmr3 (after). A
 * malformed log fails naming the byte offset. */
int cm_rtmr3_replay(const uint8_t *log, size_t len, uint8_t out[48], json_object *events,
		    struct cm_err *e);

#endif
