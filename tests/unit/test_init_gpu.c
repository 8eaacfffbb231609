/* Boot step 7 (guest/init/gpu.c) over the NVML layer (guest/gpu/nvml.c) with a fake NVML
 * (tests/unit/fake_nvml.c, a shared object loaded in place of libnvidia-ml.so.1) that returns
 * NVIDIA's recorded evidence (fixtures gpu/, read in place).
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "guest/gpu/nvml.h"
#include "guest/init/gpu.h"
#include "measure/eventlog/rtmr3.h"
#include "tests/unit/fake_nvml.h"
#include "tests/unit/testutil.h"

/* G1 of fixtures/README.md §4.1 (nvtrust_sample_550) and G3 (invalid_signature): same nonce. */
#define G1_NONCE "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb"

static struct fake_nvml F;

static int setup(void **state)
{
	(void)state;
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

/* Run the flow on conf with policy (NULL: defaults) and nonce source. */
static int run(const struct fake_nvml_conf *conf, const char *policy_json, bool fresh_nonce, struct extends *x,
	       struct cm_err *e)
{
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
				.timeout_s = 60}; /* the watchdog runs and is stopped in every test */
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
}

static void success_sets_ready_after_verification_then_extends(void **s)
{
	(void)s;
	struct fake_nvml_conf c = good();
	struct extends x = {0};
	struct cm_err e = {0};
	int rc = run(&c, NULL, false, &x, &e);
	if (rc)
		fail_msg("%s: %s", e.check ? e.check : "?", e.msg);
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
}

static void ready_before_boot_is_cleared_before_any_evidence(void **s)
{
	(void)s;
	struct fake_nvml_conf c = good();
	c.ready = 1; /* e.g. an earlier stage set it */
	c.cc_feature = NVML_CC_SYSTEM_FEATURE_DISABLED;
	struct extends x = {0};
	struct cm_err e = {0};
	int rc = run(&c, NULL, false, &x, &e);
	assert_refused(rc, &e, "gpu_cc_mode", &x);
	assert_true(at("get_ready=1") < at("set_ready(0)"));
	assert_true(at("get_ready=0") > at("set_ready(0)"));
}

static void cc_off_refused(void **s)
{
	(void)s;
	struct fake_nvml_conf c = good();
	c.cc_feature = NVML_CC_SYSTEM_FEATURE_DISABLED;
	struct extends x = {0};
	struct cm_err e = {0};
	assert_refused(run(&c, NULL, false, &x, &e), &e, "gpu_cc_mode", &x);
	assert_int_equal(at("report(0)"), -1); /* refused before any evidence */
}

static void devtools_on_refused(void **s)
{
	(void)s;
	struct fake_nvml_conf c = good();
	c.devtools = NVML_CC_SYSTEM_DEVTOOLS_MODE_ON;
	struct extends x = {0};
	struct cm_err e = {0};
	assert_refused(run(&c, NULL, false, &x, &e), &e, "gpu_devtools", &x);
	assert_int_equal(at("report(0)"), -1);
}

static void caps_without_tdx_refused(void **s)
{
	(void)s;
	struct fake_nvml_conf c = good();
	c.cpu_caps = 1; /* AMD SEV */
	struct extends x = {0};
	struct cm_err e = {0};
	assert_refused(run(&c, NULL, false, &x, &e), &e, "gpu_cc_caps", &x);
}

static void wrong_count_refused(void **s)
{
	(void)s;
	struct fake_nvml_conf c = good();
	struct extends x = {0};
	struct cm_err e = {0};
	/* the spec's policy asks for two GPUs, the system has one */
	assert_refused(run(&c, "{\"count_min\": 2, \"count_max\": 2}", false, &x, &e), &e, "gpu_count", &x);
	assert_int_equal(at("report(0)"), -1);
	/* no GPU at all */
	c.count = 0;
	memset(&e, 0, sizeof(e));
	assert_refused(run(&c, NULL, false, &x, &e), &e, "gpu_count", &x);
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
	struct extends x = {0};
	struct cm_err e = {0};
	assert_refused(run(&c, NULL, false, &x, &e), &e, "gpu_evidence", &x);
	assert_non_null(strstr(e.msg, "nvmlDeviceGetConfComputeGpuAttestationReport"));
}

static void vbios_disagreeing_with_report_refused(void **s)
{
	(void)s;
	struct fake_nvml_conf c = good();
	snprintf(c.gpu[0].vbios, sizeof(c.gpu[0].vbios), "96.00.9F.00.02");
	struct extends x = {0};
	struct cm_err e = {0};
	assert_refused(run(&c, NULL, false, &x, &e), &e, "gpu_vbios_version", &x);
	c = good();
	snprintf(c.driver, sizeof(c.driver), "550.90.08");
	memset(&e, 0, sizeof(e));
	assert_refused(run(&c, NULL, false, &x, &e), &e, "gpu_driver_version", &x);
}

static void multi_gpu_one_bad_refused(void **s)
{
	(void)s;
	struct fake_nvml_conf c = good();
	c.count = 2;
	set_gpu(&c.gpu[1], "invalid_signature", "hopperAttestationReportInvalidSignature.txt",
		"hopperCertChainExpired.txt", "96.00.A5.00.01");
	struct extends x = {0};
	struct cm_err e = {0};
	assert_refused(run(&c, NULL, false, &x, &e), &e, "gpu_signature", &x);
	assert_non_null(strstr(e.msg, "GPU 1"));
	assert_true(at("report(0)") < at("report(1)"));
}

static void multi_gpu_all_good_verified(void **s)
{
	(void)s;
	struct fake_nvml_conf c = good();
	c.count = 2;
	set_g1(&c.gpu[1]);
	struct extends x = {0};
	struct cm_err e = {0};
	int rc = run(&c, NULL, false, &x, &e);
	if (rc)
		fail_msg("%s: %s", e.check ? e.check : "?", e.msg);
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
	struct extends x = {0};
	memset(&e, 0, sizeof(e));
	assert_refused(run(&f, NULL, false, &x, &e), &e, "gpu_nvml", &x);
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
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
