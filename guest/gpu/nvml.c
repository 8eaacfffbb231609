/* NVML through dlopen (see nvml.h). */
#include "guest/gpu/nvml.h"

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Layouts of specs/gpu.md §1.2 (sizes and offsets as in nvml.h). */
_Static_assert(sizeof(nvmlConfComputeSystemState_t) == 12, "nvmlConfComputeSystemState_t");
_Static_assert(sizeof(nvmlSystemConfComputeSettings_v1_t) == 20, "nvmlSystemConfComputeSettings_v1_t");
_Static_assert(nvmlSystemConfComputeSettings_v1 == 0x01000014u, "nvmlSystemConfComputeSettings_v1");
_Static_assert(sizeof(nvmlConfComputeSystemCaps_t) == 8, "nvmlConfComputeSystemCaps_t");
_Static_assert(sizeof(nvmlConfComputeGpuCertificate_t) == 9224, "nvmlConfComputeGpuCertificate_t");
_Static_assert(offsetof(nvmlConfComputeGpuCertificate_t, certChain) == 8, "certChain");
_Static_assert(offsetof(nvmlConfComputeGpuCertificate_t, attestationCertChain) == 4104, "attestationCertChain");
_Static_assert(sizeof(nvmlConfComputeGpuAttestationReport_t) == 12332, "nvmlConfComputeGpuAttestationReport_t");
_Static_assert(offsetof(nvmlConfComputeGpuAttestationReport_t, nonce) == 12, "nonce");
_Static_assert(offsetof(nvmlConfComputeGpuAttestationReport_t, attestationReport) == 44, "attestationReport");
_Static_assert(offsetof(nvmlConfComputeGpuAttestationReport_t, cecAttestationReport) == 8236,
	       "cecAttestationReport");
_Static_assert(NVML_CC_GPU_CEC_NONCE_SIZE == CM_GPU_NONCE_LEN, "nonce length");

/* One pointer per function, typed by its prototype in nvml.h. */
#define NVML_FUNCS(X)                                                                                  \
	X(nvmlInit_v2, "nvmlInit")                                                                     \
	X(nvmlShutdown, NULL)                                                                          \
	X(nvmlErrorString, NULL)                                                                       \
	X(nvmlSystemGetDriverVersion, NULL)                                                            \
	X(nvmlSystemGetConfComputeCapabilities, NULL)                                                  \
	X(nvmlSystemGetConfComputeState, NULL)                                                         \
	X(nvmlSystemGetConfComputeSettings, NULL)                                                      \
	X(nvmlSystemGetConfComputeGpusReadyState, NULL)                                                \
	X(nvmlSystemSetConfComputeGpusReadyState, NULL)                                                \
	X(nvmlDeviceGetCount_v2, "nvmlDeviceGetCount")                                                 \
	X(nvmlDeviceGetHandleByIndex_v2, "nvmlDeviceGetHandleByIndex")                                 \
	X(nvmlDeviceGetArchitecture, NULL)                                                             \
	X(nvmlDeviceGetVbiosVersion, NULL)                                                             \
	X(nvmlDeviceGetConfComputeGpuCertificate, NULL)                                                \
	X(nvmlDeviceGetConfComputeGpuAttestationReport, NULL)

struct cg_nvml {
	void *dl;
	bool inited;
#define FIELD(name, fallback) __typeof__(name) *name;
	NVML_FUNCS(FIELD)
#undef FIELD
};

static const char *errstr(const struct cg_nvml *n, nvmlReturn_t r)
{
	const char *s = n->nvmlErrorString ? n->nvmlErrorString(r) : NULL;
	return s ? s : "unknown error";
}

/* A failed NVML call: "<function> failed (<NVML's message>, <code>)" with the check name. */
static int nvml_fail(const struct cg_nvml *n, struct cm_err *e, const char *check, const char *fn, nvmlReturn_t r)
{
	return cm_fail_check(e, r == NVML_ERROR_NOT_SUPPORTED ? -ENOTSUP : -EIO, check, "%s failed (%s, %d)", fn,
			     errstr(n, r), r);
}

#define CALL(n, e, check, fn, ...)                                                                     \
	do {                                                                                           \
		nvmlReturn_t r_ = (n)->fn(__VA_ARGS__);                                                \
		if (r_ != NVML_SUCCESS)                                                                \
			return nvml_fail((n), (e), (check), #fn, r_);                                  \
	} while (0)

static void *sym(void *dl, const char *name, const char *fallback)
{
	void *p = dlsym(dl, name);
	return p || !fallback ? p : dlsym(dl, fallback);
}

int cg_nvml_open(const char *lib, struct cg_nvml **out, struct cm_err *e)
{
	*out = NULL;
	struct cg_nvml *n = calloc(1, sizeof(*n));
	if (!n)
		return cm_fail(e, -ENOMEM, "out of memory");
	n->dl = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (!n->dl) {
		const char *why = dlerror();
		free(n);
		return cm_fail_check(e, -ENOENT, "gpu_nvml", "cannot load %s (%s)", lib, why ? why : "?");
	}
#define LOOKUP(name, fallback)                                                                         \
	if (!(n->name = (__typeof__(name) *)sym(n->dl, #name, fallback))) {                             \
		cg_nvml_close(n);                                                                      \
		return cm_fail_check(e, -ENOENT, "gpu_nvml", "%s has no %s", lib, #name);              \
	}
	NVML_FUNCS(LOOKUP)
#undef LOOKUP
	nvmlReturn_t r = n->nvmlInit_v2();
	if (r != NVML_SUCCESS) {
		nvml_fail(n, e, "gpu_nvml", "nvmlInit_v2", r);
		if (r == NVML_ERROR_DRIVER_NOT_LOADED)
			cm_err_prefix(e, "no NVIDIA driver (no GPU?)");
		cg_nvml_close(n);
		return e ? e->code : -EIO;
	}
	n->inited = true;
	*out = n;
	return 0;
}

void cg_nvml_close(struct cg_nvml *n)
{
	if (!n)
		return;
	if (n->inited)
		n->nvmlShutdown();
	dlclose(n->dl);
	free(n);
}

static int device(struct cg_nvml *n, unsigned idx, nvmlDevice_t *d, struct cm_err *e)
{
	CALL(n, e, "gpu_nvml", nvmlDeviceGetHandleByIndex_v2, idx, d);
	return 0;
}

int cg_nvml_system(struct cg_nvml *n, struct cm_gpu_system *s, struct cm_err *e)
{
	memset(s, 0, sizeof(*s));
	nvmlConfComputeSystemState_t st = {0};
	nvmlSystemConfComputeSettings_v1_t set = {.version = nvmlSystemConfComputeSettings_v1};
	CALL(n, e, "gpu_cc_mode", nvmlSystemGetConfComputeState, &st);
	CALL(n, e, "gpu_cc_mode", nvmlSystemGetConfComputeSettings, &set);
	/* Both calls report the same three settings; a disagreement is a broken driver. */
	if (st.ccFeature != set.ccFeature || st.devToolsMode != set.devToolsMode || st.environment != set.environment)
		return cm_fail_check(e, -EIO, "gpu_cc_mode",
				     "NVML's CC state (cc %u, devtools %u, env %u) and settings (cc %u, devtools %u, "
				     "env %u) disagree",
				     st.ccFeature, st.devToolsMode, st.environment, set.ccFeature, set.devToolsMode,
				     set.environment);
	s->cc_on = st.ccFeature == NVML_CC_SYSTEM_FEATURE_ENABLED;
	s->devtools_on = st.devToolsMode != NVML_CC_SYSTEM_DEVTOOLS_MODE_OFF;
	s->production_env = st.environment == NVML_CC_SYSTEM_ENVIRONMENT_PROD;
	switch (set.multiGpuMode) {
	case NVML_CC_SYSTEM_MULTIGPU_NONE: s->multi = CM_GPU_MULTI_NONE; break;
	case NVML_CC_SYSTEM_MULTIGPU_PROTECTED_PCIE: s->multi = CM_GPU_MULTI_PPCIE; break;
	case NVML_CC_SYSTEM_MULTIGPU_NVLE: s->multi = CM_GPU_MULTI_NVLE; break;
	default:
		return cm_fail_check(e, -EIO, "gpu_multi_gpu_mode", "unknown multi-GPU mode %u", set.multiGpuMode);
	}
	char drv[NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE] = "";
	CALL(n, e, "gpu_nvml", nvmlSystemGetDriverVersion, drv, sizeof(drv));
	drv[sizeof(drv) - 1] = '\0';
	if (strlen(drv) >= sizeof(s->driver_version))
		return cm_fail_check(e, -EIO, "gpu_nvml", "driver version \"%.40s\" too long", drv);
	memcpy(s->driver_version, drv, strlen(drv) + 1);
	unsigned count = 0;
	CALL(n, e, "gpu_count", nvmlDeviceGetCount_v2, &count);
	if (count > CM_GPU_MAX)
		return cm_fail_check(e, -E2BIG, "gpu_count", "%u GPUs (at most %d supported)", count, CM_GPU_MAX);
	s->count = count;
	for (unsigned i = 0; i < count; i++) {
		nvmlDevice_t d;
		int rc = device(n, i, &d, e);
		if (rc)
			return rc;
		CALL(n, e, "gpu_arch", nvmlDeviceGetArchitecture, d, &s->arch[i]);
	}
	return 0;
}

int cg_nvml_check_caps(struct cg_nvml *n, struct cm_err *e)
{
	nvmlConfComputeSystemCaps_t caps = {0};
	CALL(n, e, "gpu_cc_caps", nvmlSystemGetConfComputeCapabilities, &caps);
	if (caps.cpuCaps != NVML_CC_SYSTEM_CPU_CAPS_INTEL_TDX || caps.gpusCaps != NVML_CC_SYSTEM_GPUS_CC_CAPABLE)
		return cm_fail_check(e, -EACCES, "gpu_cc_caps",
				     "NVML reports CPU CC capability %u (want %d, Intel TDX) and GPU capability %u "
				     "(want %d, CC capable)",
				     caps.cpuCaps, NVML_CC_SYSTEM_CPU_CAPS_INTEL_TDX, caps.gpusCaps,
				     NVML_CC_SYSTEM_GPUS_CC_CAPABLE);
	return 0;
}

int cg_nvml_ready_get(struct cg_nvml *n, bool *ready, struct cm_err *e)
{
	unsigned v = 0;
	CALL(n, e, "gpu_ready_state", nvmlSystemGetConfComputeGpusReadyState, &v);
	if (v > NVML_CC_ACCEPTING_CLIENT_REQUESTS_TRUE)
		return cm_fail_check(e, -EIO, "gpu_ready_state", "unknown ready state %u", v);
	*ready = v == NVML_CC_ACCEPTING_CLIENT_REQUESTS_TRUE;
	return 0;
}

int cg_nvml_ready_set(struct cg_nvml *n, bool ready, struct cm_err *e)
{
	nvmlReturn_t r = n->nvmlSystemSetConfComputeGpusReadyState(ready ? NVML_CC_ACCEPTING_CLIENT_REQUESTS_TRUE
									   : NVML_CC_ACCEPTING_CLIENT_REQUESTS_FALSE);
	if (r == NVML_SUCCESS)
		return 0;
	nvml_fail(n, e, "gpu_ready_state", "nvmlSystemSetConfComputeGpusReadyState", r);
	return cm_err_prefix(e, "set ready state %d%s", ready,
			     r == NVML_ERROR_INVALID_ARGUMENT ? " (terminal state: the system needs a reboot)" : "");
}

int cg_nvml_vbios(struct cg_nvml *n, unsigned idx, char out[NVML_DEVICE_VBIOS_VERSION_BUFFER_SIZE],
		  struct cm_err *e)
{
	nvmlDevice_t d;
	int rc = device(n, idx, &d, e);
	if (rc)
		return rc;
	out[0] = '\0';
	CALL(n, e, "gpu_nvml", nvmlDeviceGetVbiosVersion, d, out, NVML_DEVICE_VBIOS_VERSION_BUFFER_SIZE);
	out[NVML_DEVICE_VBIOS_VERSION_BUFFER_SIZE - 1] = '\0';
	return 0;
}

int cg_nvml_evidence(struct cg_nvml *n, unsigned idx, const uint8_t nonce[CM_GPU_NONCE_LEN],
		     struct cg_evidence *ev, struct cm_err *e)
{
	memset(&ev->evidence, 0, sizeof(ev->evidence));
	nvmlDevice_t d;
	int rc = device(n, idx, &d, e);
	if (rc)
		return rc;
	/* Both NVML structs are large (12 KB, 9 KB): on the heap, not PID 1's stack. */
	nvmlConfComputeGpuAttestationReport_t *rep = calloc(1, sizeof(*rep));
	nvmlConfComputeGpuCertificate_t *cert = calloc(1, sizeof(*cert));
	if (!rep || !cert) {
		rc = cm_fail(e, -ENOMEM, "out of memory");
		goto out;
	}
	memcpy(rep->nonce, nonce, CM_GPU_NONCE_LEN);
	nvmlReturn_t r = n->nvmlDeviceGetConfComputeGpuAttestationReport(d, rep);
	if (r != NVML_SUCCESS) {
		rc = nvml_fail(n, e, "gpu_evidence", "nvmlDeviceGetConfComputeGpuAttestationReport", r);
		goto out;
	}
	if ((r = n->nvmlDeviceGetConfComputeGpuCertificate(d, cert)) != NVML_SUCCESS) {
		rc = nvml_fail(n, e, "gpu_evidence", "nvmlDeviceGetConfComputeGpuCertificate", r);
		goto out;
	}
	if (rep->attestationReportSize == 0 || rep->attestationReportSize > sizeof(rep->attestationReport) ||
	    cert->attestationCertChainSize == 0 || cert->attestationCertChainSize > sizeof(cert->attestationCertChain)) {
		rc = cm_fail_check(e, -EIO, "gpu_evidence",
				   "GPU %u: report size %u (1..%zu) or certificate chain size %u (1..%zu) out of range",
				   idx, rep->attestationReportSize, sizeof(rep->attestationReport),
				   cert->attestationCertChainSize, sizeof(cert->attestationCertChain));
		goto out;
	}
	memcpy(ev->report, rep->attestationReport, rep->attestationReportSize);
	memcpy(ev->chain, cert->attestationCertChain, cert->attestationCertChainSize);
	ev->evidence = (struct cm_gpu_evidence){.report = ev->report,
						.report_len = rep->attestationReportSize,
						.chain_pem = ev->chain,
						.chain_len = cert->attestationCertChainSize};
out:
	free(rep);
	free(cert);
	return rc;
}
