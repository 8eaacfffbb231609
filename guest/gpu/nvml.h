/* NVML (NVIDIA Management Library) through dlopen("libnvidia-ml.so.1"): no build-time
 * dependency on NVIDIA's headers or library (specs/gpu.md §1).
 *
 * The NVML types and prototypes below are copied from nvml.h (NVML API 12.4+, R550; layouts
 * checked by the _Static_asserts in nvml.c against the sizes and offsets of specs/gpu.md §1.2).
 * Nothing links against them: nvml.c looks each one up with dlsym and calls it through a
 * pointer of the prototype's type, and the test double tests/unit/fake_nvml.c defines them,
 * so the compiler checks both sides against the same declarations.
 *
 * Which library is loaded is the caller's argument (cg_nvml_open): cocoon-init and cocoon-ratls
 * pass the constant CG_NVML_LIB; only the unit tests pass the path of their fake. No
 * environment variable or file steers it, so the host cannot substitute another library. */
#ifndef COCOON_GUEST_GPU_NVML_H
#define COCOON_GUEST_GPU_NVML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "measure/core/util.h"
#include "measure/gpu/gpu.h"

#define CG_NVML_LIB "libnvidia-ml.so.1"

/* ---- NVML's declarations (nvml.h) ---------------------------------------------------------- */

typedef int nvmlReturn_t; /* an int enum in nvml.h; 0 = NVML_SUCCESS */
typedef struct nvmlDevice_st *nvmlDevice_t;

#define NVML_SUCCESS 0
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_DRIVER_NOT_LOADED 9
#define NVML_ERROR_UNKNOWN 999

#define NVML_CC_SYSTEM_ENVIRONMENT_UNAVAILABLE 0
#define NVML_CC_SYSTEM_ENVIRONMENT_SIM 1
#define NVML_CC_SYSTEM_ENVIRONMENT_PROD 2
#define NVML_CC_SYSTEM_FEATURE_DISABLED 0
#define NVML_CC_SYSTEM_FEATURE_ENABLED 1
#define NVML_CC_SYSTEM_DEVTOOLS_MODE_OFF 0
#define NVML_CC_SYSTEM_DEVTOOLS_MODE_ON 1
#define NVML_CC_SYSTEM_MULTIGPU_NONE 0
#define NVML_CC_SYSTEM_MULTIGPU_PROTECTED_PCIE 1
#define NVML_CC_SYSTEM_MULTIGPU_NVLE 2
#define NVML_CC_SYSTEM_CPU_CAPS_INTEL_TDX 2
#define NVML_CC_SYSTEM_GPUS_CC_CAPABLE 1
#define NVML_CC_ACCEPTING_CLIENT_REQUESTS_FALSE 0
#define NVML_CC_ACCEPTING_CLIENT_REQUESTS_TRUE 1

#define NVML_GPU_CERT_CHAIN_SIZE 0x1000
#define NVML_GPU_ATTESTATION_CERT_CHAIN_SIZE 0x1400
#define NVML_CC_GPU_CEC_NONCE_SIZE 0x20
#define NVML_CC_GPU_ATTESTATION_REPORT_SIZE 0x2000
#define NVML_CC_GPU_CEC_ATTESTATION_REPORT_SIZE 0x1000
#define NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE 80
#define NVML_DEVICE_VBIOS_VERSION_BUFFER_SIZE 32
#define NVML_DEVICE_ARCH_HOPPER 9

typedef struct {
	unsigned int environment;
	unsigned int ccFeature;
	unsigned int devToolsMode;
} nvmlConfComputeSystemState_t;

typedef struct {
	unsigned int version; /* the caller sets nvmlSystemConfComputeSettings_v1 */
	unsigned int environment;
	unsigned int ccFeature;
	unsigned int devToolsMode;
	unsigned int multiGpuMode;
} nvmlSystemConfComputeSettings_v1_t;
/* NVML_STRUCT_VERSION(SystemConfComputeSettings, 1) = sizeof | (1 << 24) */
#define nvmlSystemConfComputeSettings_v1 ((unsigned int)(sizeof(nvmlSystemConfComputeSettings_v1_t) | (1u << 24)))

typedef struct {
	unsigned int cpuCaps;
	unsigned int gpusCaps;
} nvmlConfComputeSystemCaps_t;

typedef struct {
	unsigned int certChainSize;
	unsigned int attestationCertChainSize;
	unsigned char certChain[NVML_GPU_CERT_CHAIN_SIZE];
	unsigned char attestationCertChain[NVML_GPU_ATTESTATION_CERT_CHAIN_SIZE];
} nvmlConfComputeGpuCertificate_t;

typedef struct {
	unsigned int isCecAttestationReportPresent;
	unsigned int attestationReportSize;
	unsigned int cecAttestationReportSize;
	unsigned char nonce[NVML_CC_GPU_CEC_NONCE_SIZE];
	unsigned char attestationReport[NVML_CC_GPU_ATTESTATION_REPORT_SIZE];
	unsigned char cecAttestationReport[NVML_CC_GPU_CEC_ATTESTATION_REPORT_SIZE];
} nvmlConfComputeGpuAttestationReport_t;

nvmlReturn_t nvmlInit_v2(void);
nvmlReturn_t nvmlShutdown(void);
const char *nvmlErrorString(nvmlReturn_t result);
nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length);
nvmlReturn_t nvmlSystemGetConfComputeCapabilities(nvmlConfComputeSystemCaps_t *capabilities);
nvmlReturn_t nvmlSystemGetConfComputeState(nvmlConfComputeSystemState_t *state);
nvmlReturn_t nvmlSystemGetConfComputeSettings(nvmlSystemConfComputeSettings_v1_t *settings);
nvmlReturn_t nvmlSystemGetConfComputeGpusReadyState(unsigned int *isAcceptingWork);
nvmlReturn_t nvmlSystemSetConfComputeGpusReadyState(unsigned int isAcceptingWork);
nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *deviceCount);
nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device);
nvmlReturn_t nvmlDeviceGetArchitecture(nvmlDevice_t device, unsigned int *arch);
nvmlReturn_t nvmlDeviceGetVbiosVersion(nvmlDevice_t device, char *version, unsigned int length);
nvmlReturn_t nvmlDeviceGetConfComputeGpuCertificate(nvmlDevice_t device, nvmlConfComputeGpuCertificate_t *gpuCert);
nvmlReturn_t nvmlDeviceGetConfComputeGpuAttestationReport(nvmlDevice_t device,
							  nvmlConfComputeGpuAttestationReport_t *gpuAtstReport);

/* ---- the loaded library ---------------------------------------------------------------------- */

struct cg_nvml;

/* dlopen lib (CG_NVML_LIB in production; see the header comment), resolve every function
 * above (versioned names first, then the plain ones: nvmlInit, nvmlDeviceGetCount,
 * nvmlDeviceGetHandleByIndex), nvmlInit_v2. Any missing symbol or a failing init fails
 * (check "gpu_nvml"). */
int cg_nvml_open(const char *lib, struct cg_nvml **out, struct cm_err *e);
/* nvmlShutdown and dlclose; NULL is fine. */
void cg_nvml_close(struct cg_nvml *n);

/* System state: CC state and settings (environment, CC feature, dev tools, multi-GPU mode),
 * driver version, device count and each device's architecture. More than CM_GPU_MAX devices
 * fails (check "gpu_count"). */
int cg_nvml_system(struct cg_nvml *n, struct cm_gpu_system *s, struct cm_err *e);
/* The CC capabilities must say Intel TDX and CC-capable GPUs (check "gpu_cc_caps"). */
int cg_nvml_check_caps(struct cg_nvml *n, struct cm_err *e);

/* The system-wide ready state ("accepting client requests"). Set fails with check
 * "gpu_ready_state"; NVML's INVALID_ARGUMENT means "terminal state, reboot". */
int cg_nvml_ready_get(struct cg_nvml *n, bool *ready, struct cm_err *e);
int cg_nvml_ready_set(struct cg_nvml *n, bool ready, struct cm_err *e);

/* One GPU's VBIOS version as NVML reports it. */
int cg_nvml_vbios(struct cg_nvml *n, unsigned idx, char out[NVML_DEVICE_VBIOS_VERSION_BUFFER_SIZE],
		  struct cm_err *e);

/* One GPU's evidence for a 32-byte nonce: the attestation report (SPDM request + response,
 * at most 8192 bytes) and the attestation certificate chain (PEM, at most 5120 bytes). Sizes
 * out of range fail (check "gpu_evidence"). ev->evidence points into ev. */
struct cg_evidence {
	uint8_t report[NVML_CC_GPU_ATTESTATION_REPORT_SIZE];
	uint8_t chain[NVML_GPU_ATTESTATION_CERT_CHAIN_SIZE];
	struct cm_gpu_evidence evidence;
};
int cg_nvml_evidence(struct cg_nvml *n, unsigned idx, const uint8_t nonce[CM_GPU_NONCE_LEN],
		     struct cg_evidence *ev, struct cm_err *e);

#endif
