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
#include "guest/init/status.h"
#include "guest/init/sys.h"
#include "measure/core/json.h"
#include "measure/eventlog/rtmr3.h"

#include <openssl/evp.h>

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

/* One GPU's evidence for a fresh nonce, as an entry of NVIDIA's evidence bundle (the format
 * `cocoon-measure gpu --bundle` reads: measure/gpu/bundle.h) with the VBIOS version NVML
 * reports (the verifier holds it against the signed one); digest = SHA-256(report || chain),
 * the evidence digest of the summary. */
static int collect_one(const struct ci_gpu_conf *c, struct cg_nvml *n, const struct cm_gpu_system *s, unsigned i,
		       struct cg_evidence *ev, json_object *bundle, uint8_t digest[32], struct cm_err *e)
{
	uint8_t nonce[CM_GPU_NONCE_LEN];
	char vbios[NVML_DEVICE_VBIOS_VERSION_BUFFER_SIZE];
	int rc = c->nonce(c->nonce_ctx, nonce, e);
	if (!rc)
		rc = cg_nvml_evidence(n, i, nonce, ev, e);
	if (!rc)
		rc = cg_nvml_vbios(n, i, vbios, e);
	if (rc)
		return cm_err_prefix(e, "GPU %u", i);
	const struct cm_gpu_evidence *g = &ev->evidence;
	size_t b64max = 4 * ((NVML_CC_GPU_ATTESTATION_REPORT_SIZE + 2) / 3) + 1;
	unsigned char *b64 = malloc(b64max);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!b64 || !md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL) || !EVP_DigestUpdate(md, g->report, g->report_len) ||
	    !EVP_DigestUpdate(md, g->chain_pem, g->chain_len) || !EVP_DigestFinal_ex(md, digest, NULL)) {
		free(b64);
		EVP_MD_CTX_free(md);
		return cm_fail(e, -ENOMEM, "GPU %u: evidence digest failed", i);
	}
	EVP_MD_CTX_free(md);
	json_object *o = json_object_new_object();
	cm_json_add_str(o, "arch", s->arch[i] == NVML_DEVICE_ARCH_HOPPER ? "HOPPER" : "OTHER");
	cm_json_add_hex(o, "nonce", nonce, CM_GPU_NONCE_LEN);
	EVP_EncodeBlock(b64, g->report, (int)g->report_len);
	cm_json_add_str(o, "evidence", (const char *)b64);
	EVP_EncodeBlock(b64, g->chain_pem, (int)g->chain_len);
	cm_json_add_str(o, "certificate", (const char *)b64);
	cm_json_add_str(o, "driver_version", s->driver_version);
	cm_json_add_str(o, "vbios_version", vbios);
	json_object_array_add(bundle, o);
	free(b64);
	return 0;
}

/* dir/name <- text (replaced whole). */
static int write_text(const char *dir, const char *name, const char *text, struct cm_err *e)
{
	char path[4096];
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return cm_fail(e, -ENAMETOOLONG, "%s/%s: path too long", dir, name);
	return cm_write_file_atomic(path, text, strlen(text), 0644, e);
}

static int write_json(const char *dir, const char *name, json_object *o, struct cm_err *e)
{
	const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	return t ? write_text(dir, name, t, e) : cm_fail(e, -ENOMEM, "out of memory");
}

/* The inputs of the verifier in c->work_dir, then the verifier itself. */
static int run_verifier(const struct ci_gpu_conf *c, const struct cm_gpu_system *s, json_object *bundle,
			struct ci_gpu_verdict *v, struct cm_err *e)
{
	json_object *sys = cm_gpu_system_to_json(s);
	int rc = ci_mkdir_p(c->work_dir, e);
	if (!rc)
		rc = write_json(c->work_dir, "system.json", sys, e);
	if (!rc)
		rc = write_json(c->work_dir, "evidence.json", bundle, e);
	if (!rc && c->policy_json)
		rc = write_text(c->work_dir, "policy.json", c->policy_json, e);
	json_object_put(sys);
	if (rc)
		return cm_err_check(e, rc, "gpu_verifier");
	const char *d = c->root ? CI_GPU_CHILD_DIR : c->work_dir;
	char sysp[4200], evp[4200], polp[4200], t[32];
	snprintf(sysp, sizeof(sysp), "%s/system.json", d);
	snprintf(evp, sizeof(evp), "%s/evidence.json", d);
	snprintf(polp, sizeof(polp), "%s/policy.json", d);
	snprintf(t, sizeof(t), "%lld", (long long)c->now);
	char *argv[16] = {(char *)c->verifier, "gpu", "--system", sysp, "--bundle", evp, "--time", t};
	int k = 8;
	if (c->policy_json) {
		argv[k++] = "--policy";
		argv[k++] = polp;
	}
	if (c->rim_dir) {
		argv[k++] = "--rim";
		argv[k++] = (char *)c->rim_dir;
	}
	argv[k++] = "--json";
	argv[k] = NULL;
	return ci_gpu_run_verifier(c, argv, s->count, v, e);
}

/* The status channel's view (CI_STATUS_GPU_FILE; docs/gpu.md "Summary"). */
static void write_summary(const struct ci_gpu_conf *c, const struct cm_gpu_system *s, const struct ci_gpu_verdict *v,
			  uint8_t (*digest)[32])
{
	if (!c->summary)
		return;
	json_object *o = json_object_new_object(), *gpus = json_object_new_array();
	cm_json_add_bool(o, "verified", 1);
	cm_json_add_bool(o, "ready", 1);
	cm_json_add_int(o, "count", s->count);
	cm_json_add_str(o, "driver_version", s->driver_version);
	cm_json_add_int(o, "verification_time", c->now);
	for (unsigned i = 0; i < s->count; i++) {
		json_object *g = json_object_new_object();
		cm_json_add_int(g, "index", i);
		cm_json_add_int(g, "architecture", s->arch[i]);
		cm_json_add_str(g, "driver_version", v->gpu[i].driver_version);
		cm_json_add_str(g, "vbios_version", v->gpu[i].vbios_version);
		cm_json_add_str(g, "verdict", "ok");
		cm_json_add_str(g, "hwmodel", v->gpu[i].hwmodel);
		cm_json_add_str(g, "fwid", v->gpu[i].fwid);
		cm_json_add_bool(g, "rim_driver_matched", v->gpu[i].rim_driver_ok);
		cm_json_add_bool(g, "rim_vbios_matched", v->gpu[i].rim_vbios_ok);
		cm_json_add_hex(g, "evidence_sha256", digest[i], 32);
		json_object_array_add(gpus, g);
	}
	json_object_object_add(o, "gpus", gpus);
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", c->summary);
	char *slash = strrchr(dir, '/');
	struct cm_err e = {0};
	if (slash)
		*slash = '\0';
	if (!slash || ci_mkdir_p(dir, &e) < 0 || write_json(dir, slash + 1, o, &e) < 0)
		ci_log("gpu: summary %s not written (%s)", c->summary, e.msg);
	json_object_put(o);
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
	/* Evidence of every GPU, each for its own fresh nonce; then the verifier over all of it. */
	struct cg_evidence *ev = malloc(sizeof(*ev));
	uint8_t digest[CM_GPU_MAX][32];
	struct ci_gpu_verdict v;
	json_object *bundle = json_object_new_array();
	if (!ev || !bundle) {
		free(ev);
		json_object_put(bundle);
		return cm_fail(e, -ENOMEM, "out of memory");
	}
	for (unsigned i = 0; i < s.count && !rc; i++)
		rc = collect_one(c, n, &s, i, ev, bundle, digest[i], e);
	free(ev);
	if (!rc)
		rc = run_verifier(c, &s, bundle, &v, e);
	json_object_put(bundle);
	if (rc)
		return rc;
	for (unsigned i = 0; i < s.count; i++)
		ci_log("gpu %u: verified: %s, driver %s, VBIOS %s, ueid %s, FWID %s, RIM driver %s, VBIOS %s", i,
		       v.gpu[i].hwmodel, v.gpu[i].driver_version, v.gpu[i].vbios_version, v.gpu[i].ueid, v.gpu[i].fwid,
		       v.gpu[i].rim_driver_ok ? "matched" : "not compared",
		       v.gpu[i].rim_vbios_ok ? "matched" : "not compared");
	/* Every GPU verified: only now ready, and it must read back as ready. */
	if ((rc = set_and_check(n, true, e)))
		return rc;
	if ((rc = c->extend(c->extend_ctx, CM_EVENT_GPU_VERIFIED, e)))
		return cm_err_check(e, rc, e && e->check ? e->check : "gpu_rtmr3");
	write_summary(c, &s, &v, digest);
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
	/* The RIM bundle of the verified root (mounted at /sysroot during step 7), as the
	 * verifier sees it from its chroot. */
	bool rims = access(CI_SYSROOT CI_GPU_RIM_DIR, F_OK) == 0;
	int64_t now = (int64_t)time(NULL);
	if (now < COCOON_BUILD_TIME)
		now = COCOON_BUILD_TIME; /* the host sets the clock: never verify before the build */
	struct ci_gpu_conf c = {.nvml_lib = CG_NVML_LIB,
				.policy = policy,
				.policy_json = b->spec.gpu_policy_json,
				.rim_dir = rims ? CI_GPU_RIM_DIR : NULL,
				.now = now,
				.nonce = ci_gpu_nonce_random,
				.extend = boot_extend,
				.extend_ctx = b,
				.timeout_s = CI_GPU_TIMEOUT_S,
				.verifier = CI_GPU_VERIFIER,
				.root = CI_SYSROOT,
				.work_dir = CI_GPU_WORK_DIR,
				.verify_timeout_s = CI_GPU_VERIFY_TIMEOUT_S,
				.verify_out_max = CI_GPU_VERIFY_OUT_MAX,
				.summary = CI_STATUS_GPU_FILE};
	unsigned count;
	int rc = ci_gpu_verify(&c, &b->gpu_nvml, &count, &e);
	cm_gpu_policy_free(def);
	if (rc < 0)
		ci_fatal("gpu", "%s: %s", e.check ? e.check : "gpu", e.msg);
	ci_log("gpu: %u GPU(s) verified and ready", count);
	ci_boot_log_rtmr3(b, "after gpu_verified");
}
