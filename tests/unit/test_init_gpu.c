/* Boot step 7 (guest/init/gpu.c) over the NVML layer (guest/gpu/nvml.c) with a fake NVML
 * (tests/unit/fake_nvml.c, a shared object loaded in place of libnvidia-ml.so.1) that returns
 * NVIDIA's recorded evidence (fixtures gpu/, read in place).
 *
 * The verifier child (guest/init/gpuchild.c) is the real cocoon-measure of this build
 * ($(BUILD)/bin, next to the tests' directory), run without chroot (conf.root NULL): every
 * verdict below comes from libmeasure's verifier. The tests of a broken verifier (non-zero
 * exit, garbage, too much output, a hang) point conf.verifier at small shell scripts.
 *
 * Nonces: the recorded reports carry fixed request nonces, so the tests of the success path
 * give the flow a nonce source that returns the fixture's nonce (the test-only seam
 * ci_gpu_conf.nonce); production passes ci_gpu_nonce_random (getrandom), and the test
 * evidence_with_fresh_nonce_fails runs the production source against the same evidence. */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "guest/gpu/nvml.h"
#include "guest/init/gpu.h"
#include "guest/init/status.h"
#include "measure/core/digest.h"
#include "measure/eventlog/rtmr3.h"
#include "tests/unit/fake_nvml.h"
#include "tests/unit/testutil.h"

/* G1 of fixtures/README.md §4.1 (nvtrust_sample_550) and G3 (invalid_signature): same nonce. */
#define G1_NONCE "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb"

static struct fake_nvml F;
static char measure_bin[4200], tmp[4096], work_dir[4200], summary[4200];

static int setup(void **state)
{
	(void)state;
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	snprintf(measure_bin, sizeof(measure_bin), "%s/../bin/cocoon-measure", self);
	if (access(measure_bin, X_OK)) {
		fprintf(stderr, "%s: not built\n", measure_bin);
		return -1;
	}
	char *t = test_tmpdir();
	snprintf(tmp, sizeof(tmp), "%s", t);
	free(t);
	snprintf(work_dir, sizeof(work_dir), "%s/gpu", tmp);
	snprintf(summary, sizeof(summary), "%s/run/gpu.json", tmp);
	return fake_nvml_load(&F);
}

static int teardown(void **state)
{
	(void)state;
	dlclose(F.dl);
	return 0;
}

static void set_gpu(struct fake_nvml_gpu *g, const char *dir, const char *report, const char *chain,
		    const char *vbios)
{
	g->arch = NVML_DEVICE_ARCH_HOPPER;
	char rel[256];
	snprintf(rel, sizeof(rel), "gpu/%s/%s", dir, report);
	snprintf(g->report_path, sizeof(g->report_path), "%s", fixture_path(rel));
	snprintf(rel, sizeof(rel), "gpu/%s/%s", dir, chain);
	snprintf(g->chain_path, sizeof(g->chain_path), "%s", fixture_path(rel));
	snprintf(g->vbios, sizeof(g->vbios), "%s", vbios);
}

static void set_g1(struct fake_nvml_gpu *g)
{
	set_gpu(g, "nvtrust_sample_550", "hopperAttestationReport.txt", "hopperCertChain.txt", "96.00.9F.00.01");
}

/* A production-like system: one Hopper GPU in CC mode with G1's evidence, not ready. */
static struct fake_nvml_conf good(void)
{
	struct fake_nvml_conf c = {
		.environment = NVML_CC_SYSTEM_ENVIRONMENT_PROD,
		.cc_feature = NVML_CC_SYSTEM_FEATURE_ENABLED,
		.devtools = NVML_CC_SYSTEM_DEVTOOLS_MODE_OFF,
		.multi_gpu = NVML_CC_SYSTEM_MULTIGPU_NONE,
		.cpu_caps = NVML_CC_SYSTEM_CPU_CAPS_INTEL_TDX,
		.gpus_caps = NVML_CC_SYSTEM_GPUS_CC_CAPABLE,
		.driver = "550.90.07",
		.count = 1,
	};
	set_g1(&c.gpu[0]);
	return c;
}

static int fixture_nonce(void *ctx, uint8_t out[CM_GPU_NONCE_LEN], struct cm_err *e)
{
	(void)ctx;
	(void)e;
	return cm_hex_decode_exact(G1_NONCE, 64, out, CM_GPU_NONCE_LEN);
}

struct extends {
	int n;
	char event[64];
	unsigned ready_at_extend;
	int fail;
};

static int record_extend(void *ctx, const char *event, struct cm_err *e)
{
	struct extends *x = ctx;
	x->n++;
	snprintf(x->event, sizeof(x->event), "%s", event);
	x->ready_at_extend = F.ready();
	return x->fail ? cm_fail(e, -EIO, "extend failed") : 0;
}

/* The verifier the next run uses (NULL: cocoon-measure), its root (NULL: none), its timeout
 * and output bound. */
static const char *verifier, *verifier_root;
static unsigned verify_timeout_s = 60;
static size_t verify_out_max = CI_GPU_VERIFY_OUT_MAX;

/* A fake verifier: a shell script in the test's directory. */
static const char *script(const char *name, const char *body)
{
	static char path[4300];
	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
	return path;
}

/* Run the flow on conf with policy (NULL: defaults) and nonce source. */
static int run(const struct fake_nvml_conf *conf, const char *policy_json, bool fresh_nonce, struct extends *x,
	       struct cm_err *e)
{
	unlink(summary);
	F.configure(conf);
	struct cm_gpu_policy *p = NULL;
	struct cm_err pe = {0};
	if (policy_json) {
		struct cm_jv root;
		assert_int_equal(cm_json_read(policy_json, strlen(policy_json), 4096, "gpu_policy", &root, &pe), 0);
		assert_int_equal(cm_gpu_policy_parse(&root, &p, &pe), 0);
		cm_json_release(&root);
	} else {
		assert_int_equal(cm_gpu_policy_default(&p, &pe), 0);
	}
	struct ci_gpu_conf c = {.nvml_lib = F.path,
				.policy = p,
				.now = (int64_t)time(NULL),
				.nonce = fresh_nonce ? ci_gpu_nonce_random : fixture_nonce,
				.extend = record_extend,
				.extend_ctx = x,
				.timeout_s = 60, /* the watchdog runs and is stopped in every test */
				.policy_json = policy_json,
				.verifier = verifier ? verifier : measure_bin,
				.root = verifier_root,
				.work_dir = work_dir,
				.verify_timeout_s = verify_timeout_s,
				.verify_out_max = verify_out_max,
				.summary = summary};
	struct cg_nvml *n = (struct cg_nvml *)&c; /* must be reset by the call */
	unsigned count = 99;
	int rc = ci_gpu_verify(&c, &n, &count, e);
	if (rc == 0) {
		assert_non_null(n);
		assert_int_equal(count, conf->count);
		cg_nvml_close(n);
	} else {
		assert_null(n);
		assert_int_equal(count, 0);
	}
	cm_gpu_policy_free(p);
	verifier = NULL;
	verifier_root = NULL;
	verify_timeout_s = 60;
	verify_out_max = CI_GPU_VERIFY_OUT_MAX;
	return rc;
}

/* Position of item in the trace (-1 if absent). */
static long at(const char *item)
{
	const char *t = F.trace(), *p = strstr(t, item);
	return p ? (long)(p - t) : -1;
}

/* A failure: named check, never ready, no RTMR3 event, the GPUs left not ready. */
static void assert_refused(int rc, const struct cm_err *e, const char *check, const struct extends *x)
{
	assert_true(rc < 0);
	assert_non_null(e->check);
	assert_string_equal(e->check, check);
	assert_int_equal(at("set_ready(1)"), -1);
	assert_int_equal(x->n, 0);
	assert_int_equal(F.ready(), 0);
	assert_int_equal(access(summary, F_OK), -1); /* no summary of a refused GPU */
}

/* Run the flow on conf with policy (NULL: defaults) and the fixture's nonce: it must refuse
 * with check (assert_refused). Returns the error, for the tests of its message. */
static struct cm_err refused(const struct fake_nvml_conf *conf, const char *policy_json, const char *check)
{
	struct extends x = {0};
	struct cm_err e = {0};
	assert_refused(run(conf, policy_json, false, &x, &e), &e, check, &x);
	return e;
}

/* Run the flow on conf with the default policy and the fixture's nonce: it must succeed. */
static void verified(const struct fake_nvml_conf *conf, struct extends *x)
{
	struct cm_err e = {0};
	if (run(conf, NULL, false, x, &e))
		fail_msg("%s: %s", e.check ? e.check : "?", e.msg);
}

static void success_sets_ready_after_verification_then_extends(void **s)
{
	(void)s;
	struct fake_nvml_conf c = good();
	struct extends x = {0};
	verified(&c, &x);
	/* not ready first, evidence, then ready, read back, and only then the event */
	long off = at("set_ready(0)"), rep = at("report(0)"), cert = at("cert(0)"), on = at("set_ready(1)");
	assert_true(off >= 0 && off < rep && rep < cert && cert < on);
	assert_true(at("get_ready=1") > on);
	assert_int_equal(x.n, 1);
	assert_string_equal(x.event, CM_EVENT_GPU_VERIFIED);
	assert_int_equal(x.ready_at_extend, 1);
	uint8_t want[CM_GPU_NONCE_LEN];
	fixture_nonce(NULL, want, NULL);
	assert_memory_equal(F.nonce(0), want, CM_GPU_NONCE_LEN);
	/* the verifier got the evidence the fake NVML returned, as NVIDIA's bundle */
	char path[4300];
	snprintf(path, sizeof(path), "%s/evidence.json", work_dir);
	assert_int_equal(access(path, R_OK), 0);
}

/* Two GPUs with G1's evidence, verified (the flow must succeed). */
static void two_good_gpus_verified(struct extends *x)
{
	struct fake_nvml_conf c = good();
	c.count = 2;
	set_g1(&c.gpu[1]);
	verified(&c, x);
}

/* SHA-256(report || chain) of G1, as the summary's evidence digest must be. */
static void g1_digest(uint8_t out[32])
{
	size_t rn, cn;
	uint8_t *txt = fixture_read("gpu/nvtrust_sample_550/hopperAttestationReport.txt", &rn);
	while (rn && (txt[rn - 1] == '\n' || txt[rn - 1] == '\r' || txt[rn - 1] == ' '))
		txt[--rn] = '\0';
	uint8_t *rep = hex_to_bytes((const char *)txt, &rn);
	uint8_t *chain = fixture_read("gpu/nvtrust_sample_550/hopperCertChain.txt", &cn);
	assert_non_null(rep);
	uint8_t *both = malloc(rn + cn);
	memcpy(both, rep, rn);
	memcpy(both + rn, chain, cn);
	assert_int_equal(cm_sha256(both, rn + cn, out), 0);
	free(both);
	free(rep);
	free(chain);
	free(txt);
}

/* o has a member key whose value is the string want. */
static void assert_json_string(json_object *o, const char *key, const char *want)
{
	json_object *v;
	assert_true(json_object_object_get_ex(o, key, &v));
	assert_string_equal(json_object_get_string(v), want);
}

/* The summary the status channel answers with (CI_STATUS_GPU_FILE): per GPU index,
 * architecture, driver and VBIOS versions, verdict, evidence digest. */
static void success_writes_the_summary_the_status_channel_answers_with(void **s)
{
	(void)s;
	struct extends x = {0};
	two_good_gpus_verified(&x);
	struct ci_status_paths paths = {.event_log = "/nonexistent", .gpu = summary, .collateral = {NULL}};
	char *line = ci_status_answer("status", 6, &paths);
	assert_non_null(line);
	json_object *o = json_tokener_parse(line), *g, *gpus, *v;
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "gpu", &g) && g);
	assert_true(json_object_object_get_ex(g, "verified", &v) && json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(g, "count", &v) && json_object_get_int(v) == 2);
	assert_true(json_object_object_get_ex(g, "gpus", &gpus) && json_object_array_length(gpus) == 2);
	uint8_t want[32];
	char hex[65];
	g1_digest(want);
	cm_hex_encode(want, 32, hex, sizeof(hex));
	for (size_t i = 0; i < 2; i++) {
		json_object *one = json_object_array_get_idx(gpus, i);
		assert_true(json_object_object_get_ex(one, "index", &v) && json_object_get_int(v) == (int)i);
		assert_true(json_object_object_get_ex(one, "architecture", &v) &&
			    json_object_get_int(v) == NVML_DEVICE_ARCH_HOPPER);
		assert_json_string(one, "driver_version", "550.90.07");
		assert_json_string(one, "vbios_version", "96.00.9F.00.01");
		assert_json_string(one, "verdict", "ok");
		assert_json_string(one, "evidence_sha256", hex);
		/* the verifier's claims too */
		assert_json_string(one, "fwid", "f5c384aebb579217a2c66b17ed0f28e6a9b8d639041acd7b4721cec004f7275494"
						"ba94bb5cdfdb3055ee051762b1f75d");
		assert_json_string(one, "hwmodel", "GH100 A01 GSP BROM");
	}
	json_object_put(o);
	free(line);
}

/* A verifier that refuses: not ready, no event, and the halt names its check and message. */
static void verifier_refusal_names_its_check(void **s)
{
	(void)s;
	struct fake_nvml_conf c = good();
	verifier = script("refuses", "echo '{\"verdict\": \"invalid\", \"failed_check\": \"gpu_chain\", "
				     "\"message\": \"GPU 0: chain expired\"}'; exit 3");
	struct cm_err e = refused(&c, NULL, "gpu_chain");
	assert_non_null(strstr(e.msg, "GPU 0: chain expired"));
	assert_non_null(strstr(e.msg, "exit status 3"));
	/* the GPUs were set not ready again after the evidence */
	assert_non_null(strstr(F.trace() + at("cert(0)"), "set_ready(0)"));
}

static void verifier_exit_nonzero_halts(void **s)
{
	(void)s;
	struct fake_nvml_conf c = good();
	verifier = script("dies", "echo 'cannot load libxml2.so.2' >&2; exit 127");
	struct cm_err e = refused(&c, NULL, "gpu_verifier");
	assert_non_null(strstr(e.msg, "status 127"));
	assert_non_null(strstr(e.msg, "cannot load libxml2.so.2"));
	/* "ok" with a non-zero exit is a broken verifier, not a pass */
	verifier = script("ok_but_fails", "echo '{\"verdict\": \"ok\", \"gpus\": [{\"verdict\": \"ok\", "
					  "\"driver_version\": \"1\", \"vbios_version\": \"2\"}]}'; exit 1");
	refused(&c, NULL, "gpu_verifier");
	/* a missing verifier */
	verifier = "/nonexistent/cocoon-measure";
	e = refused(&c, NULL, "gpu_verifier");
	assert_non_null(strstr(e.msg, "/nonexistent/cocoon-measure"));
}

static void verifier_garbage_or_too_much_output_halts(void **s)
{
	(void)s;
	struct fake_nvml_conf c = good();
	verifier = script("garbage", "echo 'verdict: ok'");
	struct cm_err e = refused(&c, NULL, "gpu_verifier");
	assert_non_null(strstr(e.msg, "not valid JSON"));
	/* valid JSON, but an answer for another number of GPUs */
	verifier = script("count", "echo '{\"verdict\": \"ok\", \"gpus\": [{\"verdict\": \"ok\", "
				   "\"driver_version\": \"1\", \"vbios_version\": \"2\"}, {\"verdict\": \"ok\", "
				   "\"driver_version\": \"1\", \"vbios_version\": \"2\"}]}'");
	e = refused(&c, NULL, "gpu_verifier");
	assert_non_null(strstr(e.msg, "2 GPU(s), 1 collected"));
	/* more than the bound: killed */
	verify_out_max = 4096;
	verifier = script("flood", "exec yes '{}'");
	e = refused(&c, NULL, "gpu_verifier");
	assert_non_null(strstr(e.msg, "more than 4096 bytes"));
}

/* Production runs the verifier chrooted into the verified root with PID 1's work directory
 * bound read-only at /run, in the child's own mount namespace. A root made of a static
 * busybox: the fake verifier names what it saw as its "failed check". */
static void verifier_runs_chrooted_with_its_inputs_read_only(void **s)
{
	(void)s;
	const char *bb = "/usr/bin/busybox";
	if (access(bb, X_OK) || geteuid() != 0)
		skip(); /* a static busybox and root (mount namespaces) are needed */
	char root[4300], cmd[32000];
	snprintf(root, sizeof(root), "%s/root", tmp);
	snprintf(cmd, sizeof(cmd), "rm -rf %s && mkdir -p %s/bin %s/run && cp %s %s/bin/busybox && ln -s busybox %s/bin/sh && "
		 "touch %s/root-marker", root, root, root, bb, root, root, root);
	assert_int_equal(system(cmd), 0);
	char vpath[4400];
	snprintf(vpath, sizeof(vpath), "%s/verifier", root);
	FILE *f = fopen(vpath, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\n"
	      "c=gpu_chroot_ok\n"
	      "for x in /run/system.json /run/evidence.json /root-marker; do [ -f $x ] || c=gpu_chroot_missing; done\n"
	      "/bin/busybox touch /run/written && c=gpu_chroot_writable\n" /* (no /dev/null in the root) */
	      "[ -z \"$HOME$PATH_INFO\" ] || c=gpu_chroot_env\n"
	      "echo \"{\\\"verdict\\\": \\\"invalid\\\", \\\"failed_check\\\": \\\"$c\\\", \\\"message\\\": \\\"$*\\\"}\"\n"
	      "exit 3\n",
	      f);
	fclose(f);
	assert_int_equal(chmod(vpath, 0755), 0);
	struct fake_nvml_conf c = good();
	struct extends x = {0};
	struct cm_err e = {0};
	verifier_root = root;
	verifier = "/verifier"; /* a path inside the root */
	int rc = run(&c, "{\"count_max\": 4}", false, &x, &e);
	if (e.check && !strcmp(e.check, "gpu_verifier") && strstr(e.msg, "unshare"))
		skip(); /* no mount namespaces here */
	assert_refused(rc, &e, "gpu_chroot_ok", &x);
	/* its arguments name the files as it sees them */
	assert_non_null(strstr(e.msg, "gpu --system /run/system.json --bundle /run/evidence.json --time "));
	assert_non_null(strstr(e.msg, "--policy /run/policy.json --json"));
	/* PID 1's own mounts are untouched: the bind lived in the child's namespace */
	snprintf(cmd, sizeof(cmd), "grep -q ' %s/run ' /proc/self/mountinfo", root);
	assert_int_not_equal(system(cmd), 0);
}

static void verifier_hang_halts_at_its_timeout(void **s)
{
	(void)s;
	struct fake_nvml_conf c = good();
	verify_timeout_s = 1;
	verifier = script("hangs", "sleep 30 & exec sleep 30");
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct cm_err e = refused(&c, NULL, "gpu_verifier_timeout");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 10); /* killed, with what it started (its group) */
	assert_non_null(strstr(e.msg, "no verdict within 1 s"));
}

static void ready_before_boot_is_cleared_before_any_evidence(void **s)
{
	(void)s;
	struct fake_nvml_conf c = good();
	c.ready = 1; /* e.g. an earlier stage set it */
	c.cc_feature = NVML_CC_SYSTEM_FEATURE_DISABLED;
	refused(&c, NULL, "gpu_cc_mode");
	assert_true(at("get_ready=1") < at("set_ready(0)"));
	assert_true(at("get_ready=0") > at("set_ready(0)"));
}

static void cc_off_refused(void **s)
{
	(void)s;
	struct fake_nvml_conf c = good();
	c.cc_feature = NVML_CC_SYSTEM_FEATURE_DISABLED;
	refused(&c, NULL, "gpu_cc_mode");
	assert_int_equal(at("report(0)"), -1); /* refused before any evidence */
}

static void devtools_on_refused(void **s)
{
	(void)s;
	struct fake_nvml_conf c = good();
	c.devtools = NVML_CC_SYSTEM_DEVTOOLS_MODE_ON;
	refused(&c, NULL, "gpu_devtools");
	assert_int_equal(at("report(0)"), -1);
}

static void caps_without_tdx_refused(void **s)
{
	(void)s;
	struct fake_nvml_conf c = good();
	c.cpu_caps = 1; /* AMD SEV */
	refused(&c, NULL, "gpu_cc_caps");
}

static void wrong_count_refused(void **s)
{
	(void)s;
	struct fake_nvml_conf c = good();
	/* the spec's policy asks for two GPUs, the system has one */
	refused(&c, "{\"count_min\": 2, \"count_max\": 2}", "gpu_count");
	assert_int_equal(at("report(0)"), -1);
	/* no GPU at all */
	c.count = 0;
	struct cm_err e = refused(&c, NULL, "gpu_count");
	assert_non_null(strstr(e.msg, "no GPU"));
}

static void evidence_with_fresh_nonce_fails(void **s)
{
	(void)s;
	/* The production nonce source against recorded evidence: the request nonce in the
	 * report is the fixture's, not the fresh one NVML was given. */
	struct fake_nvml_conf c = good();
	struct extends x = {0};
	struct cm_err e = {0};
	assert_refused(run(&c, NULL, true, &x, &e), &e, "gpu_nonce", &x);
	uint8_t fixed[CM_GPU_NONCE_LEN];
	fixture_nonce(NULL, fixed, NULL);
	assert_memory_not_equal(F.nonce(0), fixed, CM_GPU_NONCE_LEN);
}

static void evidence_call_failure_refused(void **s)
{
	(void)s;
	struct fake_nvml_conf c = good();
	c.gpu[0].report_rc = NVML_ERROR_UNKNOWN;
	struct cm_err e = refused(&c, NULL, "gpu_evidence");
	assert_non_null(strstr(e.msg, "nvmlDeviceGetConfComputeGpuAttestationReport"));
}

static void vbios_disagreeing_with_report_refused(void **s)
{
	(void)s;
	struct fake_nvml_conf c = good();
	snprintf(c.gpu[0].vbios, sizeof(c.gpu[0].vbios), "96.00.9F.00.02");
	refused(&c, NULL, "gpu_vbios_version");
	c = good();
	snprintf(c.driver, sizeof(c.driver), "550.90.08");
	refused(&c, NULL, "gpu_driver_version");
}

static void multi_gpu_one_bad_refused(void **s)
{
	(void)s;
	struct fake_nvml_conf c = good();
	c.count = 2;
	set_gpu(&c.gpu[1], "invalid_signature", "hopperAttestationReportInvalidSignature.txt",
		"hopperCertChainExpired.txt", "96.00.A5.00.01");
	struct cm_err e = refused(&c, NULL, "gpu_signature");
	assert_non_null(strstr(e.msg, "GPU 1"));
	assert_true(at("report(0)") < at("report(1)"));
}

static void multi_gpu_all_good_verified(void **s)
{
	(void)s;
	struct extends x = {0};
	two_good_gpus_verified(&x);
	assert_true(at("cert(1)") < at("set_ready(1)"));
	assert_int_equal(x.n, 1);
}

static void ready_not_read_back_refused(void **s)
{
	(void)s;
	struct fake_nvml_conf c = good();
	c.ready_sticks_not = 1;
	struct extends x = {0};
	struct cm_err e = {0};
	int rc = run(&c, NULL, false, &x, &e);
	assert_true(rc < 0);
	assert_string_equal(e.check, "gpu_ready_state");
	assert_int_equal(x.n, 0);
	assert_true(at("set_ready(0)") < at("set_ready(1)"));
	/* set not ready again after the failure */
	assert_true(strstr(F.trace() + at("set_ready(1)"), "set_ready(0)") != NULL);
}

static void extend_failure_sets_not_ready(void **s)
{
	(void)s;
	struct fake_nvml_conf c = good();
	struct extends x = {.fail = 1};
	struct cm_err e = {0};
	int rc = run(&c, NULL, false, &x, &e);
	assert_true(rc < 0);
	assert_string_equal(e.check, "gpu_rtmr3");
	assert_int_equal(x.n, 1);
	assert_int_equal(F.ready(), 0);
}

static void no_library_or_driver_refused(void **s)
{
	(void)s;
	struct cg_nvml *n;
	unsigned count;
	struct cm_err e = {0};
	struct ci_gpu_conf c = {.nvml_lib = "/nonexistent/libnvidia-ml.so.1", .nonce = fixture_nonce};
	assert_true(ci_gpu_verify(&c, &n, &count, &e) < 0);
	assert_string_equal(e.check, "gpu_nvml");
	struct fake_nvml_conf f = good();
	f.init_rc = NVML_ERROR_DRIVER_NOT_LOADED;
	e = refused(&f, NULL, "gpu_nvml");
	assert_non_null(strstr(e.msg, "no GPU"));
	assert_int_equal(at("report(0)"), -1);
}

static void cmdline_never_decides(void **s)
{
	(void)s;
	struct ci_spec spec = {0};
	struct ci_cmdline cmd = {0};
	cmd.gpu = CI_GPU_REQUIRED;
	assert_false(ci_gpu_required(&spec, &cmd));
	spec.gpu_required = true;
	cmd.gpu = CI_GPU_OFF;
	assert_true(ci_gpu_required(&spec, &cmd));
	cmd.gpu = CI_GPU_UNSET;
	assert_true(ci_gpu_required(&spec, &cmd));
}

static void hung_nvml_halts_at_the_timeout(void **s)
{
	(void)s;
	struct fake_nvml_conf conf = good();
	conf.gpu[0].report_sleep_s = 20; /* the GPU never answers in time */
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pipefd[1], 2); /* ci_log and ci_fatal write to stderr outside PID 1 */
		close(pipefd[0]);
		F.configure(&conf);
		struct cm_gpu_policy *p;
		struct extends x = {0};
		struct cm_err e = {0};
		if (cm_gpu_policy_default(&p, &e))
			_exit(3);
		struct ci_gpu_conf c = {.nvml_lib = F.path, .policy = p, .now = (int64_t)time(NULL),
					.nonce = fixture_nonce, .extend = record_extend, .extend_ctx = &x,
					.timeout_s = 1};
		struct cg_nvml *n;
		unsigned count;
		ci_gpu_verify(&c, &n, &count, &e);
		_exit(2); /* not reached: the watchdog exits first */
	}
	close(pipefd[1]);
	char out[4096] = "";
	size_t got = 0;
	ssize_t r;
	while (got < sizeof(out) - 1 && (r = read(pipefd[0], out + got, sizeof(out) - 1 - got)) > 0)
		got += (size_t)r;
	close(pipefd[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
	assert_non_null(strstr(out, "FATAL gpu: gpu_timeout: the GPU verification did not finish within 1 s"));
}

static void random_nonces_differ(void **s)
{
	(void)s;
	uint8_t a[CM_GPU_NONCE_LEN], b[CM_GPU_NONCE_LEN];
	assert_int_equal(ci_gpu_nonce_random(NULL, a, NULL), 0);
	assert_int_equal(ci_gpu_nonce_random(NULL, b, NULL), 0);
	assert_memory_not_equal(a, b, CM_GPU_NONCE_LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cmdline_never_decides),
		cmocka_unit_test(random_nonces_differ),
		cmocka_unit_test(hung_nvml_halts_at_the_timeout),
		cmocka_unit_test(no_library_or_driver_refused),
		cmocka_unit_test(caps_without_tdx_refused),
		cmocka_unit_test(cc_off_refused),
		cmocka_unit_test(devtools_on_refused),
		cmocka_unit_test(wrong_count_refused),
		cmocka_unit_test(ready_before_boot_is_cleared_before_any_evidence),
		cmocka_unit_test(evidence_call_failure_refused),
		cmocka_unit_test(evidence_with_fresh_nonce_fails),
		cmocka_unit_test(vbios_disagreeing_with_report_refused),
		cmocka_unit_test(multi_gpu_one_bad_refused),
		cmocka_unit_test(multi_gpu_all_good_verified),
		cmocka_unit_test(ready_not_read_back_refused),
		cmocka_unit_test(extend_failure_sets_not_ready),
		cmocka_unit_test(success_sets_ready_after_verification_then_extends),
		cmocka_unit_test(success_writes_the_summary_the_status_channel_answers_with),
		cmocka_unit_test(verifier_refusal_names_its_check),
		cmocka_unit_test(verifier_exit_nonzero_halts),
		cmocka_unit_test(verifier_garbage_or_too_much_output_halts),
		cmocka_unit_test(verifier_hang_halts_at_its_timeout),
		cmocka_unit_test(verifier_runs_chrooted_with_its_inputs_read_only),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
