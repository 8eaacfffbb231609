/* cocoon.debug: the debug shell a FATAL may start is measured first (docs/boot.md). */
#include <stdio.h>
#include <string.h>

#include "guest/attest/attest.h"
#include "guest/init/boot.h"
#include "guest/init/log.h"
#include "guest/init/sys.h"
#include "measure/eventlog/rtmr3.h"

int ci_debug_shell_measure(struct ca_backend **backend, const char *name, const char *event_log,
			   struct cm_err *e)
{
	if (!*backend) {
		char dir[256];
		snprintf(dir, sizeof dir, "%s", event_log);
		char *slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			if (ci_mkdir_p(dir, e) < 0)
				return e->code;
		}
		if (ca_open(name, event_log, backend, e) < 0)
			return cm_err_prefix(e, "attestation backend %s", name);
	}
	if (ca_extend_event(*backend, 3, CM_EVENT_DEBUG_SHELL, e) < 0)
		return cm_err_prefix(e, "RTMR3 extend %s", CM_EVENT_DEBUG_SHELL);
	ci_log("rtmr3 extend \"%s\"", CM_EVENT_DEBUG_SHELL);
	uint8_t r[48];
	char hex[97];
	if (ca_read(*backend, 3, r, e) < 0)
		return cm_err_prefix(e, "read RTMR3");
	cm_hex_encode(r, 48, hex, sizeof hex);
	ci_log("rtmr3 %s", hex);
	return 0;
}
