/* Boot step 7: GPU verification (NVIDIA confidential computing; specs/gpu.md §6.2,
 * docs/boot.md). The measured spec alone decides whether a GPU is required. */
#ifndef COCOON_INIT_GPU_H
#define COCOON_INIT_GPU_H

#include <stdbool.h>
#include <stdint.h>

#include "guest/cmdline/cmdline.h"
#include "guest/init/appspec.h"
#include "measure/core/util.h"
#include "measure/gpu/gpu.h"

/* The GPU modules step 7 loads (libkmod, from the initrd's module tree) for a spec that
 * requires a GPU, and only then. */
#define CI_GPU_MODULES {"nvidia", "nvidia_uvm"}
/* Step 7 as a whole may take this long (NVML calls can hang on a broken GPU or driver;
 * NVIDIA's verifier gives each call 5 s): then FATAL gpu: gpu_timeout. */
#define CI_GPU_TIMEOUT_S 300
/* The offline RIM bundle in the verified root (docs/boot.md step 7). */
#define CI_GPU_RIM_DIR "/usr/share/cocoon/gpu/rims"

/* The verifier (docs/gpu.md "Verifier child"): cocoon-init collects the evidence, and
 * libmeasure's GPU verifier (RIM XML signatures through libxml2, and with it ICU) runs as
 * `cocoon-measure gpu --system --bundle ... --json` from the verified root, in a child chrooted
 * there, so PID 1 and the initrd carry none of it. */
#define CI_GPU_VERIFIER "/usr/bin/cocoon-measure" /* in the verified root (image-recipes/rootfs.list) */
#define CI_GPU_WORK_DIR "/run/cocoon/gpu"         /* its inputs, written by PID 1 */
#define CI_GPU_CHILD_DIR "/run"                   /* where the child sees them (read-only bind) */
#define CI_GPU_VERIFY_TIMEOUT_S 120               /* then killed: FATAL gpu: gpu_verifier_timeout */
#define CI_GPU_VERIFY_OUT_MAX (256u * 1024)       /* its JSON verdict; more: FATAL gpu: gpu_verifier */

/* Whether step 7 verifies GPUs: the spec's "gpu" only. cocoon.gpu= on the command line is
 * parsed (strictly) but never decides; when it disagrees with the spec a line says it was
 * ignored. */
bool ci_gpu_required(const struct ci_spec *s, const struct ci_cmdline *c);

struct cg_nvml;

/* What the verification flow needs; production values come from ci_boot_gpu. */
struct ci_gpu_conf {
	const char *nvml_lib;                  /* CG_NVML_LIB (tests: their fake NVML) */
	/* The measured spec's policy (or the defaults): PID 1 checks the system state against it
	 * before collecting any evidence (cm_gpu_check_system, no libxml2); policy_json is the
	 * same object as text, handed to the verifier (NULL: the verifier's defaults, which are
	 * the same as cm_gpu_policy_default). */
	const struct cm_gpu_policy *policy;
	const char *policy_json;
	const char *rim_dir;                   /* --rim as the verifier sees it; NULL: none */
	int64_t now;                           /* verification time (never before the build time) */
	/* Fresh nonce per GPU: ci_gpu_nonce_random (getrandom) in production. NVIDIA's recorded
	 * reports carry fixed nonces, so the success tests pass a source that returns the
	 * fixture's nonce instead; nothing else differs. */
	int (*nonce)(void *ctx, uint8_t out[CM_GPU_NONCE_LEN], struct cm_err *e);
	void *nonce_ctx;
	/* RTMR3 <- event (CM_EVENT_GPU_VERIFIED), called once, after the ready state read back
	 * as ready. A failure fails the flow (and the GPUs are set not ready again). */
	int (*extend)(void *ctx, const char *event, struct cm_err *e);
	void *extend_ctx;
	/* Watchdog: when the flow has not returned after this many seconds (monotonic), a
	 * thread halts the boot: ci_fatal("gpu", "gpu_timeout: ..."). 0: none. */
	unsigned timeout_s;
	/* The verifier child: verifier (a path inside root) runs chrooted to root with work_dir
	 * bound read-only at CI_GPU_CHILD_DIR in its own mount namespace; root NULL (tests): no
	 * chroot, the child reads work_dir itself. Killed after verify_timeout_s; more than
	 * verify_out_max bytes of output fail. */
	const char *verifier;
	const char *root;
	const char *work_dir;
	unsigned verify_timeout_s;
	size_t verify_out_max;
	/* The summary for the status channel (CI_STATUS_GPU_FILE), written after success; NULL: none. */
	const char *summary;
};

/* 32 bytes from getrandom(2). */
int ci_gpu_nonce_random(void *ctx, uint8_t out[CM_GPU_NONCE_LEN], struct cm_err *e);

/* The flow: open NVML; set not ready (read back); CC capabilities; system state against the
 * policy (cm_gpu_check_system); per GPU a fresh nonce, the evidence and NVML's VBIOS version;
 * the verifier child over all of it (system state, evidence bundle, policy, RIMs): every GPU
 * verified, and the driver/VBIOS versions NVML reports equal to the signed ones; only then
 * set ready and read it back; then extend; then the summary. On any failure after NVML
 * opened the GPUs are set not ready (best effort) and NVML closed; e names the failed check
 * (the verifier's own failed_check when it names one, else "gpu_verifier" or
 * "gpu_verifier_timeout"). On success *nvml stays open (cocoon-init holds it for the life of
 * PID 1, as nvidia-persistenced would) and n_verified gets the GPU count. */
int ci_gpu_verify(const struct ci_gpu_conf *c, struct cg_nvml **nvml, unsigned *n_verified, struct cm_err *e);

/* ---- the verifier child (gpuchild.c) ------------------------------------------------------ */

/* What the verifier said about each GPU (its --json output, read with the strict reader). */
struct ci_gpu_claims {
	char driver_version[32], vbios_version[32];
	char hwmodel[64], ueid[64], fwid[97]; /* fwid: hex, "none" when the report has none */
	bool rim_driver_ok, rim_vbios_ok;     /* the RIM measurements compared and matched */
};
struct ci_gpu_verdict {
	unsigned count;
	struct ci_gpu_claims gpu[CM_GPU_MAX];
};

/* Run c->verifier with argv (argv[0] included, NULL-terminated) as described in ci_gpu_conf,
 * and read its verdict: exit status 0, "verdict": "ok", one "ok" entry per GPU (count). A
 * verifier that refuses names its check (its "failed_check", returned as e->check) and
 * message; no output, garbage, too much output, a crash or a hang fail as "gpu_verifier" /
 * "gpu_verifier_timeout". */
int ci_gpu_run_verifier(const struct ci_gpu_conf *c, char *const argv[], unsigned count, struct ci_gpu_verdict *v,
			struct cm_err *e);

#endif
