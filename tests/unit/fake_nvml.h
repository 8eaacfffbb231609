/* The fake NVML (tests/unit/fake_nvml.c, built as $(TESTBIN)/fake_nvml.so): a shared object
 * that defines NVML's functions (guest/gpu/nvml.h) and is loaded by cg_nvml_open in place of
 * libnvidia-ml.so.1. A test dlopens the same file first (the loader then hands cg_nvml_open the
 * same object), configures it with fake_nvml_configure and reads what NVML was asked with
 * fake_nvml_trace. Evidence comes from real fixture files (hex report, PEM chain). */
#ifndef COCOON_TESTS_FAKE_NVML_H
#define COCOON_TESTS_FAKE_NVML_H

#define FAKE_NVML_MAX_GPUS 8
#define FAKE_NVML_TRACE_MAX 4096

struct fake_nvml_gpu {
	unsigned arch;              /* 9 = Hopper */
	char report_path[512];      /* hex text of the attestation report (NVIDIA's sample format) */
	char chain_path[512];       /* PEM chain */
	char vbios[32];             /* nvmlDeviceGetVbiosVersion */
	int report_rc;              /* non-zero: the report call fails with this code */
};

struct fake_nvml_conf {
	int init_rc;                /* nvmlInit_v2's result (9 = driver not loaded) */
	unsigned environment, cc_feature, devtools, multi_gpu; /* CC state and settings */
	unsigned cpu_caps, gpus_caps;
	char driver[80];
	unsigned count;
	struct fake_nvml_gpu gpu[FAKE_NVML_MAX_GPUS];
	unsigned ready;             /* the ready state at start */
	int ready_sticks_not;       /* set(1) is accepted but the state stays 0 */
};

/* Types of the two test entry points (for dlsym). */
typedef void fake_nvml_configure_fn(const struct fake_nvml_conf *c);
/* Every NVML call since the last configure, comma-separated: "init", "state", "settings",
 * "caps", "driver", "count", "arch(i)", "vbios(i)", "get_ready=V", "set_ready(V)",
 * "report(i)", "cert(i)", "shutdown". */
typedef const char *fake_nvml_trace_fn(void);
/* The current ready state. */
typedef unsigned fake_nvml_ready_fn(void);
/* The nonce of the last report request for GPU i. */
typedef const unsigned char *fake_nvml_nonce_fn(unsigned i);

#endif
