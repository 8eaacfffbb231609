/* The fake NVML (tests/unit/fake_nvml.c, built as $(TESTBIN)/fake_nvml.so): a shared object
 * that defines NVML's functions (guest/gpu/nvml.h) and is loaded by cg_nvml_open in place of
 * libnvidia-ml.so.1. A test dlopens the same file first (the loader then hands cg_nvml_open the
 * same object), configures it with fake_nvml_configure and reads what NVML was asked with
 * fake_nvml_trace. Evidence comes from real fixture files (hex report, PEM chain). */
#ifndef COCOON_TESTS_FAKE_NVML_H
#define COCOON_TESTS_FAKE_NVML_H

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define FAKE_NVML_MAX_GPUS 8
#define FAKE_NVML_TRACE_MAX 4096

struct fake_nvml_gpu {
	unsigned arch;              /* 9 = Hopper */
	char report_path[512];      /* hex text of the attestation report (NVIDIA's sample format) */
	char chain_path[512];       /* PEM chain */
	char vbios[32];             /* nvmlDeviceGetVbiosVersion */
	int report_rc;              /* non-zero: the report call fails with this code */
	unsigned report_sleep_s;    /* the report call sleeps this long first (a hung GPU) */
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

/* The fake as a test sees it: path (for cg_nvml_open) and entry points. */
struct fake_nvml {
	char path[4096];
	void *dl;
	fake_nvml_configure_fn *configure;
	fake_nvml_trace_fn *trace;
	fake_nvml_ready_fn *ready;
	fake_nvml_nonce_fn *nonce;
};

/* Load fake_nvml.so from the test binary's directory (the build puts it there); 0 or -1. */
static inline int fake_nvml_load(struct fake_nvml *f)
{
	char self[4000];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	snprintf(f->path, sizeof(f->path), "%s/fake_nvml.so", self);
	/* loaded here first: cg_nvml_open's dlopen of the same file gets this object */
	if (!(f->dl = dlopen(f->path, RTLD_NOW | RTLD_LOCAL))) {
		fprintf(stderr, "cannot load %s: %s\n", f->path, dlerror());
		return -1;
	}
	f->configure = (fake_nvml_configure_fn *)dlsym(f->dl, "fake_nvml_configure");
	f->trace = (fake_nvml_trace_fn *)dlsym(f->dl, "fake_nvml_trace");
	f->ready = (fake_nvml_ready_fn *)dlsym(f->dl, "fake_nvml_ready");
	f->nonce = (fake_nvml_nonce_fn *)dlsym(f->dl, "fake_nvml_nonce");
	return f->configure && f->trace && f->ready && f->nonce ? 0 : -1;
}

#endif
