/* Boot step 7: GPU verification (see gpu.h; docs/boot.md step 7). */
#include "build_info.h"
#include "guest/init/gpu.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "guest/attest/attest.h"
#include "guest/gpu/nvml.h"
#include "guest/init/boot.h"
#include "guest/init/log.h"
#include "guest/init/modules.h"
#include "measure/eventlog/rtmr3.h"

bool ci_gpu_required(const struct ci_spec *s, const struct ci_cmdline *c)
{
	if (c->gpu != CI_GPU_UNSET && (c->gpu == CI_GPU_REQUIRED) != s->gpu_required)
		ci_log("gpu: cocoon.gpu=%s on the command line ignored: the measured spec says \"%s\"",
		       c->gpu == CI_GPU_REQUIRED ? "required" : "off", s->gpu_required ? "required" : "off");
	return s->gpu_required;
}

int ci_gpu_nonce_random(void *ctx, uint8_t out[CM_GPU_NONCE_LEN], struct cm_err *e)
{
	(void)ctx;
	size_t got = 0;
	while (got < CM_GPU_NONCE_LEN) {
		ssize_t n = getrandom(out + got, CM_GPU_NONCE_LEN - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return cm_fail_check(e, -EIO, "gpu_nonce", "getrandom failed (%s)", strerror(errno));
		got += (size_t)n;
	}
	return 0;
}

/* The versions NVML reports must be the ones the GPU signed (as NVIDIA's Python verifier
 * checks): a driver stack lying to NVML or a report from another GPU shows here. */
static int versions_match(const struct cm_gpu_result *r, const char *driver, const char *vbios, unsigned i,
			  struct cm_err *e)
{
	if (strcmp(r->driver_version, driver))
		return cm_fail_check(e, -EACCES, "gpu_driver_version", "GPU %u: report says driver %s, NVML %s", i,
				     r->driver_version, driver);
	if (strcasecmp(r->vbios_version, vbios))
		return cm_fail_check(e, -EACCES, "gpu_vbios_version", "GPU %u: report says VBIOS %s, NVML %s", i,
				     r->vbios_version, vbios);
	return 0;
}

/* One GPU: fresh nonce, evidence, full verification, versions. */
static int verify_one(const struct ci_gpu_conf *c, struct cg_nvml *n, const struct cm_gpu_system *s, unsigned i,
		      struct cg_evidence *ev, struct cm_err *e)
{
	uint8_t nonce[CM_GPU_NONCE_LEN];
	char vbios[NVML_DEVICE_VBIOS_VERSION_BUFFER_SIZE], fwid[97] = "none";
	struct cm_gpu_result r;
	int rc = c->nonce(c->nonce_ctx, nonce, e);
	if (!rc)
		rc = cg_nvml_evidence(n, i, nonce, ev, e);
	if (!rc)
		rc = cm_gpu_verify(&ev->evidence, nonce, c->policy, c->now, &r, e);
	if (!rc)
		rc = cg_nvml_vbios(n, i, vbios, e);
	if (!rc)
		rc = versions_match(&r, s->driver_version, vbios, i, e);
	if (rc)
		return cm_err_prefix(e, "GPU %u", i);
	if (r.has_fwid)
		cm_hex_encode(r.fwid, sizeof(r.fwid), fwid, sizeof(fwid));
	ci_log("gpu %u: verified: %s, driver %s, VBIOS %s, project %s/%s/%s, ueid %s, FWID %s, RIM driver %s, "
	       "VBIOS %s",
	       i, r.hwmodel, r.driver_version, r.vbios_version, r.project, r.project_sku, r.chip_sku, r.ueid, fwid,
	       r.rim_driver_ok ? "matched" : "not compared", r.rim_vbios_ok ? "matched" : "not compared");
	return 0;
}

static int set_and_check(struct cg_nvml *n, bool ready, struct cm_err *e)
{
	bool now;
	int rc = cg_nvml_ready_set(n, ready, e);
	if (!rc)
		rc = cg_nvml_ready_get(n, &now, e);
	if (!rc && now != ready)
		rc = cm_fail_check(e, -EIO, "gpu_ready_state", "ready state reads %d after setting %d", now, ready);
	return rc;
}

static int flow(const struct ci_gpu_conf *c, struct cg_nvml *n, unsigned *count, struct cm_err *e)
{
	bool was;
	struct cm_gpu_system s;
	int rc = cg_nvml_ready_get(n, &was, e);
	if (rc)
		return rc;
	if (was)
		ci_log("gpu: GPUs were ready before verification; setting them not ready");
	if ((rc = set_and_check(n, false, e)) || (rc = cg_nvml_check_caps(n, e)) || (rc = cg_nvml_system(n, &s, e)))
		return rc;
	ci_log("gpu: %u GPU(s), CC %s, dev tools %s, %s environment, multi-GPU mode %d, driver %s", s.count,
	       s.cc_on ? "on" : "off", s.devtools_on ? "on" : "off", s.production_env ? "production" : "non-production",
	       (int)s.multi, s.driver_version);
	if (s.count == 0)
		return cm_fail_check(e, -ENODEV, "gpu_count", "no GPU (the measured spec requires one)");
	if ((rc = cm_gpu_check_system(&s, c->policy, e)))
		return rc;
	struct cg_evidence *ev = malloc(sizeof(*ev));
	if (!ev)
		return cm_fail(e, -ENOMEM, "out of memory");
	for (unsigned i = 0; i < s.count && !rc; i++)
		rc = verify_one(c, n, &s, i, ev, e);
	free(ev);
	if (rc)
		return rc;
	/* Every GPU verified: only now ready, and it must read back as ready. */
	if ((rc = set_and_check(n, true, e)))
		return rc;
	if ((rc = c->extend(c->extend_ctx, CM_EVENT_GPU_VERIFIED, e)))
		return cm_err_check(e, rc, e && e->check ? e->check : "gpu_rtmr3");
	*count = s.count;
	return 0;
}

/* The watchdog of the flow: a thread that halts the boot unless the flow finished in time
 * (a hung NVML call would otherwise hold PID 1 forever, the GPUs never ready). */
struct watchdog {
	pthread_mutex_t m;
	pthread_cond_t cv;
	bool done;
	unsigned secs;
	pthread_t th;
};

static void *watch(void *arg)
{
	struct watchdog *w = arg;
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += w->secs;
	pthread_mutex_lock(&w->m);
	int r = 0;
	while (!w->done && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&w->cv, &w->m, &until);
	bool fire = !w->done;
	pthread_mutex_unlock(&w->m);
	if (fire)
		ci_fatal("gpu", "gpu_timeout: the GPU verification did not finish within %u s (NVML hung?)", w->secs);
	return NULL;
}

static int watchdog_start(struct watchdog *w, unsigned secs, struct cm_err *e)
{
	pthread_condattr_t a;
	*w = (struct watchdog){.secs = secs};
	pthread_mutex_init(&w->m, NULL);
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC); /* the host sets the wall clock */
	pthread_cond_init(&w->cv, &a);
	pthread_condattr_destroy(&a);
	int r = pthread_create(&w->th, NULL, watch, w);
	return r ? cm_fail(e, -r, "gpu: watchdog thread: %s", strerror(r)) : 0;
}

static void watchdog_stop(struct watchdog *w)
{
	pthread_mutex_lock(&w->m);
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->m);
	pthread_join(w->th, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->m);
}

static int open_and_verify(const struct ci_gpu_conf *c, struct cg_nvml **nvml, unsigned *n_verified,
			   struct cm_err *e)
{
	struct cg_nvml *n;
	int rc = cg_nvml_open(c->nvml_lib, &n, e);
	if (rc)
		return rc;
	rc = flow(c, n, n_verified, e);
	if (rc) {
		struct cm_err ignore = {0};
		if (cg_nvml_ready_set(n, false, &ignore))
			ci_log("gpu: could not set the GPUs not ready after the failure (%s)", ignore.msg);
		cg_nvml_close(n);
		return rc;
	}
	*nvml = n;
	return 0;
}

int ci_gpu_verify(const struct ci_gpu_conf *c, struct cg_nvml **nvml, unsigned *n_verified, struct cm_err *e)
{
	*nvml = NULL;
	*n_verified = 0;
	struct watchdog w;
	if (c->timeout_s && watchdog_start(&w, c->timeout_s, e))
		return e ? e->code : -EAGAIN;
	int rc = open_and_verify(c, nvml, n_verified, e);
	if (c->timeout_s)
		watchdog_stop(&w);
	return rc;
}

/* ---- cocoon-init ------------------------------------------------------------------------- */

/* /dev/nvidiactl (minor 255) and /dev/nvidia0..7 on the driver's character major (nvidia.ko
 * registers it; devtmpfs gets no nodes from it, and there is no udev to run nvidia-modprobe). */
static int make_nodes(struct cm_err *e)
{
	FILE *f = fopen("/proc/devices", "re");
	if (!f)
		return cm_fail_check(e, -errno, "gpu_nvml", "/proc/devices: %s", strerror(errno));
	char line[128], name[64];
	unsigned major = 0, m;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%u %63s", &m, name) == 2 && (!strcmp(name, "nvidia-frontend") || !strcmp(name, "nvidia")))
			major = m;
	fclose(f);
	if (!major)
		return cm_fail_check(e, -ENODEV, "gpu_nvml", "no nvidia character device registered (no GPU?)");
	for (int i = -1; i < CM_GPU_MAX; i++) {
		char path[32];
		if (i < 0)
			snprintf(path, sizeof(path), "/dev/nvidiactl");
		else
			snprintf(path, sizeof(path), "/dev/nvidia%d", i);
		if (mknod(path, S_IFCHR | 0600, makedev(major, i < 0 ? 255 : (unsigned)i)) && errno != EEXIST)
			return cm_fail_check(e, -errno, "gpu_nvml", "mknod %s: %s", path, strerror(errno));
	}
	return 0;
}

static int boot_extend(void *ctx, const char *event, struct cm_err *e)
{
	struct ci_boot *b = ctx;
	int rc = ca_extend_event(b->attest, 3, event, e);
	if (!rc)
		ci_log("rtmr3 extend \"%s\"", event);
	return rc;
}

void ci_boot_gpu(struct ci_boot *b)
{
	struct cm_err e = {0};
	if (!ci_gpu_required(&b->spec, &b->cmd)) {
		ci_log("gpu: not required by the spec (GPU modules not loaded)");
		return;
	}
	static const char *const mods[] = CI_GPU_MODULES;
	int n = ci_modules_load_names(mods, sizeof(mods) / sizeof(mods[0]), NULL, &e);
	if (n < 0)
		ci_fatal("gpu", "gpu_modules: %s", e.msg);
	ci_log("gpu: %d GPU module(s) loaded", n);
	if (make_nodes(&e) < 0)
		ci_fatal("gpu", "%s: %s", e.check, e.msg);
	struct cm_gpu_policy *def = NULL, *policy = b->spec.gpu_policy;
	if (!policy) {
		if (cm_gpu_policy_default(&def, &e) < 0)
			ci_fatal("gpu", "gpu_policy: %s", e.msg);
		policy = def;
	}
	/* The RIM bundle of the verified root (mounted at /sysroot during step 7). */
	if (access(CI_SYSROOT CI_GPU_RIM_DIR, F_OK) == 0 &&
	    cm_gpu_policy_set_rim_dir(policy, CI_SYSROOT CI_GPU_RIM_DIR, &e) < 0)
		ci_fatal("gpu", "gpu_rim: %s", e.msg);
	int64_t now = (int64_t)time(NULL);
	if (now < COCOON_BUILD_TIME)
		now = COCOON_BUILD_TIME; /* the host sets the clock: never verify before the build */
	struct ci_gpu_conf c = {.nvml_lib = CG_NVML_LIB,
				.policy = policy,
				.now = now,
				.nonce = ci_gpu_nonce_random,
				.extend = boot_extend,
				.extend_ctx = b,
				.timeout_s = CI_GPU_TIMEOUT_S};
	unsigned count;
	int rc = ci_gpu_verify(&c, &b->gpu_nvml, &count, &e);
	cm_gpu_policy_free(def);
	if (rc < 0)
		ci_fatal("gpu", "%s: %s", e.check ? e.check : "gpu", e.msg);
	ci_log("gpu: %u GPU(s) verified and ready", count);
	ci_boot_log_rtmr3(b, "after gpu_verified");
}
