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

/* Whether step 7 verifies GPUs: the spec's "gpu" only. cocoon.gpu= on the command line is
 * parsed (strictly) but never decides; when it disagrees with the spec a line says it was
 * ignored. */
bool ci_gpu_required(const struct ci_spec *s, const struct ci_cmdline *c);

struct cg_nvml;

/* What the verification flow needs; production values come from ci_boot_gpu. */
struct ci_gpu_conf {
	const char *nvml_lib;                  /* CG_NVML_LIB (tests: their fake NVML) */
	const struct cm_gpu_policy *policy;    /* the measured spec's, or the defaults */
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
};

/* 32 bytes from getrandom(2). */
int ci_gpu_nonce_random(void *ctx, uint8_t out[CM_GPU_NONCE_LEN], struct cm_err *e);

/* The flow: open NVML; set not ready (read back); CC capabilities; system state against the
 * policy (cm_gpu_check_system); per GPU a fresh nonce, evidence, cm_gpu_verify and the
 * driver/VBIOS versions NVML reports against the signed report; only then set ready and
 * read it back; then extend. On any failure after NVML opened the GPUs are set not ready
 * (best effort) and NVML closed; e names the failed check. On success *nvml stays open
 * (cocoon-init holds it for the life of PID 1, as nvidia-persistenced would) and n_verified
 * gets the GPU count. */
int ci_gpu_verify(const struct ci_gpu_conf *c, struct cg_nvml **nvml, unsigned *n_verified, struct cm_err *e);

#endif
