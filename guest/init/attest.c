/* Boot step 6 (attest): the attestation backend and the RTMR3 extends of the boot;
 * cocoon.debug: the debug shell a FATAL may start is measured first (docs/boot.md). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "guest/attest/attest.h"
#include "guest/init/boot.h"
#include "guest/init/log.h"
#include "guest/init/status.h"
#include "guest/init/sys.h"
#include "measure/core/measurements.h"
#include "measure/eventlog/rtmr3.h"

/* The sim backend's CA may be seeded by the host from the spec's unmeasured runtime/sim/
 * (made with `cocoon-sim init --dir SPEC/runtime/sim`), so that a host-side verifier can
 * check this guest's sim quotes against a root it knows. Only for cocoon.attest=sim,
 * which the measured cmdline selects (and which no production policy accepts). */
#define SIM_SEED CI_SPEC_DIR "/runtime/sim"
#define SIM_DIR "/run/cocoon/sim"

void ci_boot_attest(struct ci_boot *b)
{
	struct cm_err e = {0};
	if (ci_mkdir_p("/run/cocoon", &e) < 0)
		ci_fatal("attest", "%s", e.msg);
	if (!strcmp(b->cmd.attest, "sim") && access(SIM_SEED "/root.pem", F_OK) == 0) {
		if (ci_copy_tree(SIM_SEED, SIM_DIR, 64, 1u << 20, &e) < 0)
			ci_fatal("attest", "sim CA from %s: %s", SIM_SEED, e.msg);
		ci_log("sim CA seeded from %s", SIM_SEED);
	}
	if (ca_open(b->cmd.attest, CI_EVENT_LOG, &b->attest, &e) < 0)
		ci_fatal("attest", "%s", e.msg);
	ci_log("attestation backend %s, event log %s", b->cmd.attest, CI_EVENT_LOG);
}

/* Log "rtmr3 <hex>" (the register now). */
static int log_rtmr3(struct ca_backend *backend, struct cm_err *e)
{
	uint8_t r[48];
	char hex[97];
	int rc = ca_read(backend, 3, r, e);
	if (rc < 0)
		return rc;
	cm_hex_encode(r, 48, hex, sizeof hex);
	ci_log("rtmr3 %s", hex);
	ci_status_rtmr3(hex);
	return 0;
}

/* The TDINFO registers of a TDREPORT (specs/attestation.md §1.8): at 512, ATTRIBUTES (8),
 * XFAM (8), MRTD, MRCONFIGID, MROWNER, MROWNERCONFIG, RTMR0..3 (48 each). */
#define TDINFO_REGS (512 + 16)

void ci_boot_status_image_hash(struct ci_boot *b)
{
	struct cm_err e = {0};
	uint8_t zero[CA_REPORT_DATA_LEN] = {0}, report[CA_TDREPORT_LEN], h[CM_IMAGE_HASH_LEN];
	struct cm_td_regs r;
	char hex[2 * CM_IMAGE_HASH_LEN + 1];
	if (ca_tdreport(b->attest, zero, report, &e) < 0) {
		ci_log("status: no image hash (TDREPORT: %s)", e.msg);
		ci_status_image_hash(NULL, e.msg);
		return;
	}
	const uint8_t *p = report + TDINFO_REGS;
	memcpy(r.mrtd, p, 48);
	memcpy(r.mrconfigid, p + 48, 48);
	memcpy(r.mrowner, p + 96, 48);
	memcpy(r.mrownerconfig, p + 144, 48);
	memcpy(r.rtmr, p + 192, sizeof r.rtmr);
	if (cm_image_hash(&r, h) < 0) {
		ci_status_image_hash(NULL, "hashing failed");
		return;
	}
	cm_hex_encode(h, sizeof h, hex, sizeof hex);
	ci_log("image hash %s", hex);
	ci_status_image_hash(hex, NULL);
}

void ci_boot_log_rtmr3(struct ci_boot *b, const char *when)
{
	struct cm_err e = {0};
	if (log_rtmr3(b->attest, &e) < 0)
		ci_fatal("attest", "read RTMR3 %s: %s", when, e.msg);
}

void ci_boot_extend(struct ci_boot *b, const char *step, const char *msg)
{
	struct cm_err e = {0};
	if (ca_extend_event(b->attest, 3, msg, &e) < 0)
		ci_fatal(step, "%s", e.msg);
	ci_log("rtmr3 extend \"%s\"", msg);
}

int ci_boot_measure_debug_shell(void *boot, struct cm_err *e)
{
	struct ci_boot *b = boot;
	return ci_debug_shell_measure(&b->attest, b->cmd.attest, CI_EVENT_LOG, e);
}

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
	if (log_rtmr3(*backend, e) < 0)
		return cm_err_prefix(e, "read RTMR3");
	return 0;
}
