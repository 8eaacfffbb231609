/* A fake libnvidia-ml.so.1 for the unit tests (see fake_nvml.h). Defines the NVML functions
 * guest/gpu/nvml.h declares, so the compiler checks them against the same prototypes. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest/gpu/nvml.h"
#include "tests/unit/fake_nvml.h"

/* Exported for the tests (dlsym). */
void fake_nvml_configure(const struct fake_nvml_conf *c);
const char *fake_nvml_trace(void);
unsigned fake_nvml_ready(void);
const unsigned char *fake_nvml_nonce(unsigned i);

static struct fake_nvml_conf conf;
static unsigned ready;
static char trace[FAKE_NVML_TRACE_MAX];
static unsigned char nonces[FAKE_NVML_MAX_GPUS][NVML_CC_GPU_CEC_NONCE_SIZE];
/* Devices are handles 1..count cast to pointers (never dereferenced). */
#define HANDLE(i) ((nvmlDevice_t)(uintptr_t)((i) + 1))
#define INDEX(d) ((unsigned)((uintptr_t)(d)-1))

/* Append "name" (v < 0) or "name(v)" / "name=v" (sep '(' or '=') to the trace. */
static void note(const char *name, char sep, int v)
{
	size_t n = strlen(trace);
	if (v < 0)
		snprintf(trace + n, sizeof(trace) - n, "%s%s", n ? "," : "", name);
	else
		snprintf(trace + n, sizeof(trace) - n, "%s%s%c%d%s", n ? "," : "", name, sep, v, sep == '(' ? ")" : "");
}

void fake_nvml_configure(const struct fake_nvml_conf *c)
{
	conf = *c;
	ready = c->ready;
	trace[0] = '\0';
	memset(nonces, 0, sizeof(nonces));
}

const char *fake_nvml_trace(void)
{
	return trace;
}

unsigned fake_nvml_ready(void)
{
	return ready;
}

const unsigned char *fake_nvml_nonce(unsigned i)
{
	return i < FAKE_NVML_MAX_GPUS ? nonces[i] : NULL;
}

static int valid(nvmlDevice_t d)
{
	return d && INDEX(d) < conf.count;
}

nvmlReturn_t nvmlInit_v2(void)
{
	note("init", 0, -1);
	return conf.init_rc;
}

nvmlReturn_t nvmlShutdown(void)
{
	note("shutdown", 0, -1);
	return NVML_SUCCESS;
}

const char *nvmlErrorString(nvmlReturn_t result)
{
	return result == NVML_ERROR_DRIVER_NOT_LOADED ? "Driver Not Loaded" : "Fake NVML error";
}

nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length)
{
	note("driver", 0, -1);
	snprintf(version, length, "%s", conf.driver);
	return NVML_SUCCESS;
}

nvmlReturn_t nvmlSystemGetConfComputeCapabilities(nvmlConfComputeSystemCaps_t *caps)
{
	note("caps", 0, -1);
	caps->cpuCaps = conf.cpu_caps;
	caps->gpusCaps = conf.gpus_caps;
	return NVML_SUCCESS;
}

nvmlReturn_t nvmlSystemGetConfComputeState(nvmlConfComputeSystemState_t *state)
{
	note("state", 0, -1);
	state->environment = conf.environment;
	state->ccFeature = conf.cc_feature;
	state->devToolsMode = conf.devtools;
	return NVML_SUCCESS;
}

nvmlReturn_t nvmlSystemGetConfComputeSettings(nvmlSystemConfComputeSettings_v1_t *s)
{
	note("settings", 0, -1);
	if (s->version != nvmlSystemConfComputeSettings_v1)
		return 25; /* NVML_ERROR_ARGUMENT_VERSION_MISMATCH */
	s->environment = conf.environment;
	s->ccFeature = conf.cc_feature;
	s->devToolsMode = conf.devtools;
	s->multiGpuMode = conf.multi_gpu;
	return NVML_SUCCESS;
}

nvmlReturn_t nvmlSystemGetConfComputeGpusReadyState(unsigned int *isAcceptingWork)
{
	note("get_ready", '=', (int)ready);
	*isAcceptingWork = ready;
	return NVML_SUCCESS;
}

nvmlReturn_t nvmlSystemSetConfComputeGpusReadyState(unsigned int isAcceptingWork)
{
	note("set_ready", '(', (int)isAcceptingWork);
	if (isAcceptingWork > 1)
		return NVML_ERROR_INVALID_ARGUMENT;
	if (!(isAcceptingWork && conf.ready_sticks_not))
		ready = isAcceptingWork;
	return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *deviceCount)
{
	note("count", 0, -1);
	*deviceCount = conf.count;
	return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device)
{
	if (index >= conf.count)
		return NVML_ERROR_INVALID_ARGUMENT;
	*device = HANDLE(index);
	return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetArchitecture(nvmlDevice_t device, unsigned int *arch)
{
	if (!valid(device))
		return NVML_ERROR_INVALID_ARGUMENT;
	note("arch", '(', (int)INDEX(device));
	*arch = conf.gpu[INDEX(device)].arch;
	return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetVbiosVersion(nvmlDevice_t device, char *version, unsigned int length)
{
	if (!valid(device))
		return NVML_ERROR_INVALID_ARGUMENT;
	note("vbios", '(', (int)INDEX(device));
	snprintf(version, length, "%s", conf.gpu[INDEX(device)].vbios);
	return NVML_SUCCESS;
}

/* Read a fixture file into buf (at most cap bytes); hex text is decoded. Returns the length,
 * or 0 on any error. */
static size_t load(const char *path, unsigned char *buf, size_t cap, int hex)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = 0;
	int c, hi = -1;
	while ((c = fgetc(f)) != EOF) {
		if (!hex) {
			if (n == cap)
				break;
			buf[n++] = (unsigned char)c;
			continue;
		}
		if (isspace(c))
			continue;
		if (!isxdigit(c) || (hi >= 0 && n == cap)) {
			n = 0;
			break;
		}
		int v = isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
		if (hi < 0) {
			hi = v;
		} else {
			buf[n++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}
	fclose(f);
	return hi >= 0 ? 0 : n;
}

nvmlReturn_t nvmlDeviceGetConfComputeGpuAttestationReport(nvmlDevice_t device,
							  nvmlConfComputeGpuAttestationReport_t *r)
{
	if (!valid(device))
		return NVML_ERROR_INVALID_ARGUMENT;
	unsigned i = INDEX(device);
	note("report", '(', (int)i);
	memcpy(nonces[i], r->nonce, sizeof(r->nonce));
	if (conf.gpu[i].report_sleep_s)
		sleep(conf.gpu[i].report_sleep_s);
	if (conf.gpu[i].report_rc)
		return conf.gpu[i].report_rc;
	size_t n = load(conf.gpu[i].report_path, r->attestationReport, sizeof(r->attestationReport), 1);
	if (!n)
		return NVML_ERROR_UNKNOWN;
	r->attestationReportSize = (unsigned)n;
	return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetConfComputeGpuCertificate(nvmlDevice_t device, nvmlConfComputeGpuCertificate_t *c)
{
	if (!valid(device))
		return NVML_ERROR_INVALID_ARGUMENT;
	unsigned i = INDEX(device);
	note("cert", '(', (int)i);
	size_t n = load(conf.gpu[i].chain_path, c->attestationCertChain, sizeof(c->attestationCertChain), 0);
	if (!n)
		return NVML_ERROR_UNKNOWN;
	c->attestationCertChainSize = (unsigned)n;
	return NVML_SUCCESS;
}
