/* cocoon-launch: configuration, image manifest, cmdline variants, QEMU argv goldens,
 * shell quoting and systemd units.
 *
 * Goldens live in tests/unit/golden/launch/: NAME.conf is parsed, the argv is built
 * with the fixed cmdline below and rendered as --print does; the output must equal
 * NAME.argv byte for byte. COCOON_UPDATE_GOLDEN=1 rewrites the .argv files (review the
 * diff before committing). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host-launcher/argv.h"
#include "host-launcher/config.h"
#include "host-launcher/image.h"
#include "host-launcher/unit.h"
#include "measure/core/digest.h"
#include "tests/unit/testutil.h"

#define GOLDEN_DIR "tests/unit/golden/launch"
/* A Cocoon-style measured cmdline (reprodebian/mkosi.postoutput shape). */
#define BASE_CMDLINE                                                                               \
	"cocoon.roothash=9f2c3e4d5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d loglevel=4 " \
	"console=hvc0 swiotlb=1048576"

static char *read_all(const char *path, size_t *len)
{
	uint8_t *buf;
	struct cm_err e;
	if (cm_read_file(path, 1 << 20, &buf, len, &e) < 0)
		return NULL;
	return (char *)buf;
}

static void load_conf(const char *path, struct cl_config *c)
{
	size_t len;
	char *text = read_all(path, &len);
	assert_non_null(text);
	struct cm_err e = { 0 };
	cl_config_init(c);
	int r = cl_config_parse(c, text, len, path, &e);
	if (r < 0)
		fail_msg("%s", e.msg);
	r = cl_config_finish(c, &e);
	if (r < 0)
		fail_msg("%s", e.msg);
	free(text);
}

/* The argv as --print renders it (a new string). */
static char *print_argv(const struct cl_argv *a)
{
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	assert_non_null(f);
	assert_int_equal(cl_argv_print(a, f), 0);
	fclose(f);
	return out;
}

static char *render(const struct cl_config *c)
{
	char cmdline[CL_CMDLINE_MAX];
	struct cm_err e = { 0 };
	assert_int_equal(cl_cmdline_build(c, NULL, BASE_CMDLINE, cmdline, sizeof(cmdline), &e), 0);
	const char *accel = !strcmp(c->accel, "auto") ? (c->tdx ? "kvm" : "tcg") : c->accel;
	struct cl_boot b = { .accel = accel, .cmdline = cmdline, .console = c->console };
	struct cl_argv a;
	if (cl_build_argv(c, &b, &a, &e) < 0)
		fail_msg("%s", e.msg);
	char *out = print_argv(&a);
	cl_argv_free(&a);
	return out;
}

/* The argv that the configuration file conf gives for boot b (fails the test on an error). */
static void build_from(const char *conf, const struct cl_boot *b, struct cl_argv *a)
{
	struct cl_config c;
	struct cm_err e = { 0 };
	load_conf(conf, &c);
	if (cl_build_argv(&c, b, a, &e) < 0)
		fail_msg("%s", e.msg);
}

static void check_golden(const char *name)
{
	char conf[256], gold[256];
	snprintf(conf, sizeof(conf), "%s/%s.conf", GOLDEN_DIR, name);
	snprintf(gold, sizeof(gold), "%s/%s.argv", GOLDEN_DIR, name);
	struct cl_config c;
	load_conf(conf, &c);
	char *got = render(&c);
	if (getenv("COCOON_UPDATE_GOLDEN"))
		test_write_text(gold, got);
	size_t len;
	char *want = read_all(gold, &len);
	if (!want)
		fail_msg("golden %s missing (COCOON_UPDATE_GOLDEN=1 creates it)", gold);
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "--- %s\n+++ got\n%s", gold, got);
		fail_msg("argv differs from %s", gold);
	}
	free(got);
	free(want);
}

static void golden_argv_tdx(void **s) { (void)s; check_golden("tdx"); }
static void golden_argv_tdx_gpu(void **s) { (void)s; check_golden("tdx_gpu"); }
static void golden_argv_tdx_models(void **s) { (void)s; check_golden("tdx_models"); }
static void golden_argv_no_tdx(void **s) { (void)s; check_golden("notdx"); }
static void golden_argv_instance3(void **s) { (void)s; check_golden("instance3"); }

/* The TDX argv carries exactly the canonical/tdx object and machine options. */
static void tdx_argv_has_tdx_guest_object_and_machine(void **s)
{
	(void)s;
	struct cl_boot b = { .accel = "kvm", .cmdline = "x", .console = "stdio" };
	struct cl_argv a;
	build_from(GOLDEN_DIR "/tdx.conf", &b, &a);
	int obj = 0, mach = 0;
	for (size_t i = 0; i + 1 < a.n; i++) {
		if (!strcmp(a.v[i], "-object") &&
		    !strcmp(a.v[i + 1], "{\"qom-type\":\"tdx-guest\",\"id\":\"tdx\",\"quote-generation-socket\":"
					"{\"type\":\"vsock\",\"cid\":\"2\",\"port\":\"4050\"}}"))
			obj++;
		if (!strcmp(a.v[i], "-machine") && strstr(a.v[i + 1], "confidential-guest-support=tdx") &&
		    strstr(a.v[i + 1], "kernel-irqchip=split") && strstr(a.v[i + 1], "hpet=off"))
			mach++;
	}
	assert_int_equal(obj, 1);
	assert_int_equal(mach, 1);
	cl_argv_free(&a);
}

static void tdx_with_tcg_is_refused(void **s)
{
	(void)s;
	struct cl_config c;
	load_conf(GOLDEN_DIR "/tdx.conf", &c);
	struct cl_boot b = { .accel = "tcg", .cmdline = "x", .console = "stdio" };
	struct cl_argv a;
	struct cm_err e = { 0 };
	assert_true(cl_build_argv(&c, &b, &a, &e) < 0);
	assert_non_null(strstr(e.msg, "TDX needs KVM"));
}

/* The probe directory lands in -chardev file,path=DIR/...: a comma there would add
 * chardev options, so the same check as for config paths refuses it (issue 13, 10). */
static void probe_dir_with_comma_or_control_is_refused(void **s)
{
	(void)s;
	struct cl_config c;
	load_conf(GOLDEN_DIR "/notdx.conf", &c);
	static const char *const bad[] = { "/tmp/acpi,mux=on", "/tmp/acpi\nx", "/tmp/a\x7f", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cl_boot b = { .accel = "tcg", .cmdline = "x", .console = "file", .probe_kernel = "/k",
				     .probe_initrd = "/i", .probe_dir = bad[i] };
		struct cl_argv a;
		struct cm_err e = { 0 };
		assert_int_equal(cl_build_argv(&c, &b, &a, &e), -EINVAL);
		assert_non_null(strstr(e.msg, "probe output directory"));
	}
	struct cl_boot ok = { .accel = "tcg", .cmdline = "x", .console = "file", .probe_kernel = "/k,1",
			      .probe_initrd = "/i", .probe_dir = "/tmp/acpi" };
	struct cl_argv a;
	struct cm_err e = { 0 };
	assert_int_equal(cl_build_argv(&c, &ok, &a, &e), 0); /* -kernel takes a plain file name */
	cl_argv_free(&a);
}

static void no_tdx_argv_has_no_tdx_object(void **s)
{
	(void)s;
	struct cl_config c;
	load_conf(GOLDEN_DIR "/notdx.conf", &c);
	char *out = render(&c);
	assert_null(strstr(out, "tdx-guest"));
	assert_null(strstr(out, "confidential-guest-support"));
	assert_non_null(strstr(out, "-cpu max"));
	free(out);
}

/* ---- configuration errors name key and line ---------------------------------------- */

static int parse_text(const char *text, struct cl_config *c, struct cm_err *e)
{
	cl_config_init(c);
	memset(e, 0, sizeof(*e));
	return cl_config_parse(c, text, strlen(text), "t.conf", e);
}

/* parse_text refuses text; its message is msg exactly. */
static void expect_parse_msg(const char *text, const char *msg)
{
	struct cl_config c;
	struct cm_err e;
	assert_true(parse_text(text, &c, &e) < 0);
	assert_string_equal(e.msg, msg);
}

/* parse_text refuses text; its message contains needle. */
static void expect_parse_has(const char *text, const char *needle)
{
	struct cl_config c;
	struct cm_err e;
	assert_true(parse_text(text, &c, &e) < 0);
	if (!strstr(e.msg, needle))
		fail_msg("'%s' lacks '%s'", e.msg, needle);
}

static void config_unknown_key_names_key_and_line(void **s)
{
	(void)s;
	expect_parse_msg("[node]\ntype = worker\n\nmemroy = 4G\n", "t.conf:4: unknown key 'memroy'");
}

static void config_duplicate_key_names_both_lines(void **s)
{
	(void)s;
	expect_parse_msg("[node]\nvcpus = 4\n# comment\nvcpus = 8\n", "t.conf:4: duplicate key vcpus (first set on line 2)");
}

static void config_bad_value_names_key_and_line(void **s)
{
	(void)s;
	static const char *const bad[][2] = {
		{"[node]\nmemory = lots\n", "t.conf:2: key memory: bad value 'lots'"},
		{"[node]\ngpu = 0000:17:00\n", "t.conf:2: key gpu: bad PCI address '0000:17:00'"},
		{"[node]\nports = 80\n", "t.conf:2: key ports: bad forward '80'"},
		{"[node]\ninstance = 100\n", "t.conf:2: key instance"},
		{"[node]\nvsock_cid = 2\n", "key vsock_cid"},
		{"[node]\nimage_dir = /a,b\n", "key image_dir"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_parse_has(bad[i][0], bad[i][1]);
}

static void config_rejects_other_sections_and_keys_outside(void **s)
{
	(void)s;
	expect_parse_msg("vcpus = 4\n[node]\n", "t.conf:1: key vcpus outside the [node] section");
	expect_parse_msg("[node]\n[gpu]\n", "t.conf:2: unknown section [gpu] (only [node])");
	expect_parse_msg("# nothing\n", "t.conf: no [node] section");
}

static void config_model_name_limited_by_serial_length(void **s)
{
	(void)s;
	struct cl_config c;
	struct cm_err e;
	/* model-<8 chars>-verity = 21 bytes > 20 */
	expect_parse_has("[node]\nmodel.abcdefgh = /a, /b\n", "exceeds 20 bytes");
	assert_int_equal(parse_text("[node]\nmodel.abcdefg = /a, /b\n", &c, &e), 0);
	assert_int_equal(c.n_models, 1);
	assert_string_equal(c.models[0].hash, "/b");
	expect_parse_has("[node]\nmodel.a.b = /a\n", "bad model name");
}

/* text parses, but cl_config_finish refuses it; its error is left in e. */
static void expect_finish_fails(const char *text, struct cm_err *e)
{
	struct cl_config c;
	assert_int_equal(parse_text(text, &c, e), 0);
	assert_true(cl_config_finish(&c, e) < 0);
}

static void config_required_keys_are_reported(void **s)
{
	(void)s;
	struct cm_err e;
	expect_finish_fails("[node]\nimage_dir = /i\nspec_dir = /s\nvcpus = 2\n", &e);
	assert_string_equal(e.msg, "config: required key memory is missing");
}

static void config_set_overrides_file_value(void **s)
{
	(void)s;
	struct cl_config c;
	struct cm_err e;
	assert_int_equal(parse_text("[node]\nimage_dir = /i\nspec_dir = /s\nvcpus = 2\nmemory = 2G\n"
				    "ports = 8000:80\nvsock_cid = 10\n", &c, &e), 0);
	assert_int_equal(cl_config_set(&c, "instance=2", &e), 0);
	assert_int_equal(cl_config_set(&c, "memory = 4G", &e), 0);
	assert_int_equal(cl_config_finish(&c, &e), 0);
	assert_int_equal(c.memory, 4ull << 30);
	assert_int_equal(cl_config_host_port(&c, 0), 8020);
	assert_int_equal(cl_config_cid(&c), 30);
	assert_string_equal(c.run_dir, "/run/cocoon/worker-2");
	assert_true(cl_config_set(&c, "nosuch=1", &e) < 0);
	assert_string_equal(e.msg, "--set: unknown key 'nosuch'");
	assert_true(cl_config_set(&c, "vcpus", &e) < 0);
	assert_non_null(strstr(e.msg, "expected key=value"));
}

static void config_instance_offset_overflowing_port_is_an_error(void **s)
{
	(void)s;
	struct cm_err e;
	expect_finish_fails("[node]\nimage_dir = /i\nspec_dir = /s\nvcpus = 2\nmemory = 2G\n"
			    "ports = 65530:80\ninstance = 1\n", &e);
	assert_non_null(strstr(e.msg, "exceeds 65535"));
}

static void config_sizes_take_binary_suffixes(void **s)
{
	(void)s;
	struct cl_config c;
	struct cm_err e;
	assert_int_equal(parse_text("[node]\nmemory = 512MiB\npersistent_size = 2T\n", &c, &e), 0);
	assert_int_equal(c.memory, 512ull << 20);
	assert_int_equal(c.persistent_size, 2ull << 40);
	assert_true(parse_text("[node]\nmemory = 1X\n", &c, &e) < 0);
	assert_true(parse_text("[node]\nmemory = -1G\n", &c, &e) < 0);
	assert_true(parse_text("[node]\nmemory = 1000K\n", &c, &e) < 0); /* not a multiple of 1M */
	assert_true(parse_text("[node]\npersistent_size = 99999999999999999T\n", &c, &e) < 0);
}

/* ---- example configs are accepted as they are --------------------------------------- */

static void example_configs_parse(void **s)
{
	(void)s;
	struct cl_config c;
	load_conf("host-launcher/examples/worker.conf", &c);
	assert_int_equal(c.type, CL_NODE_WORKER);
	assert_int_equal(c.n_gpus, 1);
	char *out = render(&c);
	assert_non_null(strstr(out, "vfio-pci,host=0000:17:00.0"));
	free(out);
	load_conf("host-launcher/examples/proxy.conf", &c);
	assert_int_equal(c.type, CL_NODE_PROXY);
	out = render(&c);
	assert_non_null(strstr(out, "tdx-guest"));
	free(out);
}

/* ---- shell quoting ------------------------------------------------------------------ */

static void shell_quote_leaves_safe_words_and_quotes_others(void **s)
{
	(void)s;
	char out[128];
	cl_shell_quote("file=/a/b.img,if=none", out, sizeof(out));
	assert_string_equal(out, "file=/a/b.img,if=none");
	cl_shell_quote("a b", out, sizeof(out));
	assert_string_equal(out, "'a b'");
	cl_shell_quote("it's", out, sizeof(out));
	assert_string_equal(out, "'it'\\''s'");
	cl_shell_quote("", out, sizeof(out));
	assert_string_equal(out, "''");
	cl_shell_quote("{\"a\":1}", out, sizeof(out));
	assert_string_equal(out, "'{\"a\":1}'");
	assert_int_equal(cl_shell_quote("abcdef", out, 4), -ENOSPC);
}

/* The rendered --print text, run through a shell, yields the original argv. */
static void print_output_round_trips_through_sh(void **s)
{
	(void)s;
	const char *weird = "a 'quoted' $HOME `x` \"y\" \\z";
	struct cl_boot b = { .accel = "kvm", .cmdline = weird, .console = "stdio" };
	struct cl_argv a;
	build_from(GOLDEN_DIR "/tdx_models.conf", &b, &a);
	char *dir = test_tmpdir();
	char script[512], outp[512];
	snprintf(script, sizeof(script), "%s/p.sh", dir);
	snprintf(outp, sizeof(outp), "%s/out", dir);
	FILE *f = fopen(script, "w");
	assert_non_null(f);
	fputs("printf '%s\\0' ", f);  /* replaces argv[0] */
	struct cl_argv tail = a;
	tail.v = a.v + 1;
	tail.n = a.n - 1;
	cl_argv_print(&tail, f);
	fclose(f);
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "sh %s > %s", script, outp);
	assert_int_equal(system(cmd), 0);
	size_t len;
	char *got = read_all(outp, &len);
	assert_non_null(got);
	size_t off = 0;
	for (size_t i = 1; i < a.n; i++) {
		assert_true(off < len);
		assert_string_equal(got + off, a.v[i]);
		off += strlen(a.v[i]) + 1;
	}
	assert_int_equal(off, len);
	free(got);
	free(dir);
	cl_argv_free(&a);
}

static void print_without_cmdline_file_renders_cat(void **s)
{
	(void)s;
	struct cl_boot b = { .accel = "kvm", .cmdline_file = "/srv/cocoon/images/prod/cmdline", .console = "stdio" };
	struct cl_argv a;
	build_from(GOLDEN_DIR "/tdx.conf", &b, &a);
	char *out = print_argv(&a);
	assert_non_null(strstr(out, "  -append \"$(cat /srv/cocoon/images/prod/cmdline)\" \\\n"));
	free(out);
	cl_argv_free(&a);
}

/* ---- image: manifest and cmdline ---------------------------------------------------- */

static void write_file(const char *dir, const char *name, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	test_write_text(p, text);
}

static void sha_hex(const char *text, char out[65])
{
	uint8_t d[32];
	cm_sha256(text, strlen(text), d);
	cm_hex_encode(d, 32, out, 65);
}

static void manifest_verifies_artifacts_and_names_mismatch(void **s)
{
	(void)s;
	char *dir = test_tmpdir();
	write_file(dir, "OVMF.fd", "firmware");
	write_file(dir, "cmdline", BASE_CMDLINE "\n");
	char h1[65], h2[65];
	sha_hex("firmware", h1);
	sha_hex("other", h2);
	char man[512];
	snprintf(man, sizeof(man),
		 "{\"artifacts\": {\"OVMF.fd\": {\"sha256\": \"%s\"}, \"cmdline\": {\"sha256\": \"%s\"}},"
		 " \"root_hash\": \"ab\"}", h1, h2);
	write_file(dir, "manifest.json", man);
	struct cl_manifest m;
	struct cm_err e = { 0 };
	assert_int_equal(cl_manifest_load(&m, dir, &e), 0);
	assert_int_equal(cl_artifact_verify(&m, dir, CL_ART_OVMF, &e), 0);
	assert_int_equal(cl_artifact_verify(&m, dir, CL_ART_CMDLINE, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "does not match manifest.json"));
	assert_int_equal(cl_artifact_verify(&m, dir, CL_ART_KERNEL, &e), -ENOENT);
	assert_string_equal(e.msg, "manifest.json has no sha256 for vmlinuz");
	free(dir);
}

static void manifest_rejects_malformed_json(void **s)
{
	(void)s;
	struct cl_manifest m;
	struct cm_err e = { 0 };
	const char *bad[] = {
		"{\"artifacts\": ",
		"[]",
		"{\"artifacts\": {\"OVMF.fd\": {\"sha256\": \"abc\"}}}",
		"{\"artifacts\": {\"OVMF.fd\": {}}}",
		"{\"artifacts\": {}, \"cmdline_variants\": {\"turbo\": \" x\"}}",
	};
	const char *msg[] = {
		"manifest.json: not valid JSON at byte 14 (unexpected end of data)",
		"manifest.json: must be an object",
		"manifest.json: artifacts.OVMF.fd.sha256: must be 64 hex digits",
		"manifest.json: artifacts.OVMF.fd.sha256: missing",
		"manifest.json: cmdline_variants.turbo: unknown cmdline variant",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_true(cl_manifest_parse(&m, bad[i], strlen(bad[i]), &e) < 0);
		assert_string_equal(e.msg, msg[i]);
	}
}

static void cmdline_variants_append_in_fixed_order(void **s)
{
	(void)s;
	struct cl_config c;
	cl_config_init(&c);
	c.sim = c.debug = c.gpu_required = true;
	char out[512];
	struct cm_err e;
	assert_int_equal(cl_cmdline_build(&c, NULL, "console=hvc0", out, sizeof(out), &e), 0);
	assert_string_equal(out, "console=hvc0 cocoon.debug cocoon.gpu=required cocoon.attest=sim");
	c.sim = c.debug = c.gpu_required = false;
	assert_int_equal(cl_cmdline_build(&c, NULL, "console=hvc0", out, sizeof(out), &e), 0);
	assert_string_equal(out, "console=hvc0");
}

static void cmdline_variant_disagreeing_with_manifest_is_refused(void **s)
{
	(void)s;
	struct cl_config c;
	cl_config_init(&c);
	c.debug = true;
	struct cl_manifest m;
	struct cm_err e;
	const char *j = "{\"artifacts\": {}, \"cmdline_variants\": {\"debug\": \" cocoon_debug\"}}";
	assert_int_equal(cl_manifest_parse(&m, j, strlen(j), &e), 0);
	char out[512];
	assert_true(cl_cmdline_build(&c, &m, "console=hvc0", out, sizeof(out), &e) < 0);
	assert_non_null(strstr(e.msg, "cmdline variant debug appends ' cocoon_debug'"));
}

static void cmdline_file_is_used_verbatim_and_control_bytes_rejected(void **s)
{
	(void)s;
	char *dir = test_tmpdir();
	char out[CL_CMDLINE_MAX];
	struct cm_err e;
	write_file(dir, "cmdline", BASE_CMDLINE "\n");
	assert_int_equal(cl_cmdline_read(dir, out, sizeof(out), &e), 0);
	assert_string_equal(out, BASE_CMDLINE);
	write_file(dir, "cmdline", "a\tb\n");
	assert_true(cl_cmdline_read(dir, out, sizeof(out), &e) < 0);
	if (!strstr(e.msg, "byte 0x09 at offset 1"))
		fail_msg("%s", e.msg);
	write_file(dir, "cmdline", "a\n\n");
	assert_true(cl_cmdline_read(dir, out, sizeof(out), &e) < 0);
	free(dir);
}

/* ---- systemd units ------------------------------------------------------------------ */

static void unit_template_matches_golden(void **s)
{
	(void)s;
	struct cl_config c;
	load_conf(GOLDEN_DIR "/instance3.conf", &c);
	char *t, *d;
	struct cm_err e;
	assert_int_equal(cl_unit_render(&c, "/etc/cocoon/proxy.conf", "/usr/local/bin/cocoon-launch", &t, &d, &e), 0);
	size_t len;
	char *want = read_all(GOLDEN_DIR "/cocoon-proxy@.service", &len);
	if (getenv("COCOON_UPDATE_GOLDEN")) {
		test_write_text(GOLDEN_DIR "/cocoon-proxy@.service", t);
		free(want);
		want = read_all(GOLDEN_DIR "/cocoon-proxy@.service", &len);
	}
	assert_non_null(want);
	assert_string_equal(t, want);
	assert_string_equal(d, "# Generated by cocoon-launch unit for proxy instance 3.\n[Service]\n"
			       "Environment=COCOON_CONFIG=/etc/cocoon/proxy.conf\n");
	free(want);
	free(t);
	free(d);
	assert_true(cl_unit_render(&c, "relative.conf", "/bin/x", &t, &d, &e) < 0);
	assert_true(cl_unit_render(&c, "/etc/a b.conf", "/bin/x", &t, &d, &e) < 0);
}

static void unit_write_creates_template_and_dropin(void **s)
{
	(void)s;
	struct cl_config c;
	load_conf(GOLDEN_DIR "/instance3.conf", &c);
	char *dir = test_tmpdir();
	struct cm_err e;
	assert_int_equal(cl_unit_write(&c, "/etc/cocoon/proxy.conf", "/usr/bin/cocoon-launch", dir, &e), 0);
	char p[512];
	struct stat st;
	snprintf(p, sizeof(p), "%s/cocoon-proxy@.service", dir);
	assert_int_equal(stat(p, &st), 0);
	snprintf(p, sizeof(p), "%s/cocoon-proxy@3.service.d/10-cocoon-launch.conf", dir);
	assert_int_equal(stat(p, &st), 0);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(golden_argv_tdx),
		cmocka_unit_test(golden_argv_tdx_gpu),
		cmocka_unit_test(golden_argv_tdx_models),
		cmocka_unit_test(golden_argv_no_tdx),
		cmocka_unit_test(golden_argv_instance3),
		cmocka_unit_test(tdx_argv_has_tdx_guest_object_and_machine),
		cmocka_unit_test(tdx_with_tcg_is_refused),
		cmocka_unit_test(probe_dir_with_comma_or_control_is_refused),
		cmocka_unit_test(no_tdx_argv_has_no_tdx_object),
		cmocka_unit_test(config_unknown_key_names_key_and_line),
		cmocka_unit_test(config_duplicate_key_names_both_lines),
		cmocka_unit_test(config_bad_value_names_key_and_line),
		cmocka_unit_test(config_rejects_other_sections_and_keys_outside),
		cmocka_unit_test(config_model_name_limited_by_serial_length),
		cmocka_unit_test(config_required_keys_are_reported),
		cmocka_unit_test(config_set_overrides_file_value),
		cmocka_unit_test(config_instance_offset_overflowing_port_is_an_error),
		cmocka_unit_test(config_sizes_take_binary_suffixes),
		cmocka_unit_test(example_configs_parse),
		cmocka_unit_test(shell_quote_leaves_safe_words_and_quotes_others),
		cmocka_unit_test(print_output_round_trips_through_sh),
		cmocka_unit_test(print_without_cmdline_file_renders_cat),
		cmocka_unit_test(manifest_verifies_artifacts_and_names_mismatch),
		cmocka_unit_test(manifest_rejects_malformed_json),
		cmocka_unit_test(cmdline_variants_append_in_fixed_order),
		cmocka_unit_test(cmdline_variant_disagreeing_with_manifest_is_refused),
		cmocka_unit_test(cmdline_file_is_used_verbatim_and_control_bytes_rejected),
		cmocka_unit_test(unit_template_matches_golden),
		cmocka_unit_test(unit_write_creates_template_and_dropin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
